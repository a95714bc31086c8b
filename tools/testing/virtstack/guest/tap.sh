# SPDX-License-Identifier: GPL-2.0
#
# tap.sh: sourced by the guest's lanes. The plan and one TAP line per setup
# step; the first step that fails ends the lane, and the steps after it are
# reported as not run.
#
# Usage: tap_plan TOTAL; check DESCRIPTION COMMAND...

tap_plan()
{
	n=0
	total=$1
	echo "TAP version 13"
	echo "1..$total"
}

check()
{
	d=$1
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n $d"
	else
		echo "not ok $n $d"
		echo "$out" | sed 's/^/# /'
		for i in $(seq $((n + 1)) "$total"); do
			echo "not ok $i # not run: lane setup failed"
		done
		exit 1
	fi
}
