#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mutate.sh DIR RESULTS [NAME...]: the mutation checks (make mutate). Each
# mutations/NAME.patch undoes one fix in the prepared tree DIR/src; its
# header names the guest test that must catch it ("Test:"), what the guest
# kernel log or the test's own output must then show ("Expect:", an
# extended regex) and, for a race,
# how many times the usual work the test does ("Stress:", passed to the guest
# as virtstack.stress=N). For each:
# apply, build incrementally, boot with virtstack.only=TEST, restore the
# tree, and pass only if the log shows the report. Without NAME, every
# mutation runs. The next ordinary build recompiles what a mutation touched.
set -eu
. "$(dirname "$0")/lib.sh"

dir=$(cd "$1" && pwd) || die "no directory $1"
out=$2
shift 2
src=$dir/src
[ $# -gt 0 ] || set -- $(cd "$VS_HARNESS/mutations" && ls *.patch | sed 's/\.patch$//')

row()
{
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$out"
}

for name; do
	mut=$VS_HARNESS/mutations/$name.patch
	[ -f "$mut" ] || die "no mutation $name: the mutations are $(cd "$VS_HARNESS/mutations" && ls | sed 's/\.patch$//' | paste -sd' ')"
	test=$(sed -n 's/^Test: //p' "$mut")
	expect=$(sed -n 's/^Expect: //p' "$mut")
	stress=$(sed -n 's/^Stress: //p' "$mut")
	[ -n "$test" ] && [ -n "$expect" ] || die "$mut lacks its Test: or Expect: line"
	label="mutation $name: $test reports it"
	info "mutation $name: applying, building, booting with virtstack.only=$test"
	git -C "$src" apply "$mut" ||
		{ row "$label" 0 1 0; warn "$mut does not apply to $src: refresh it"; continue; }
	run=$dir/run-mutate-$name
	ok=
	if "$VS_HARNESS/build.sh" "$dir" && "$VS_HARNESS/mkinitramfs.sh" "$dir"; then
		VS_RUN=$run GUEST_TIMEOUT=${GUEST_TIMEOUT:-900} \
			GUEST_CMDLINE="${GUEST_CMDLINE:-} virtstack.only=$test${stress:+ virtstack.stress=$stress}" \
			"$VS_HARNESS/boot.sh" "$dir" test > /dev/null && ok=1
	fi
	git -C "$src" apply -R "$mut" || die "could not restore $src after mutation $name: run 'make prepare'"
	if [ -z "$ok" ]; then
		row "$label" 0 1 0
		warn "mutation $name: the mutated kernel did not build or boot"
	elif cat "$run/console.log" "$run/results.log" 2>/dev/null | grep -Eq "$expect"; then
		row "$label" 1 0 0
		cat "$run/console.log" "$run/results.log" 2>/dev/null |
			grep -Em1 "$expect" | sed 's/^/  caught: /'
	else
		row "$label" 0 1 0
		echo "  mutation $name survived: neither $run/console.log nor results.log has /$expect/"
	fi
done
