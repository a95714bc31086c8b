#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# verdict.sh DIR OUT: reads the guest run in DIR/run and writes one result row
# per KUnit suite, guest test program and harness check to OUT
# (name<TAB>passed<TAB>failed<TAB>skipped). Problems are printed as found.
# VS_RUN= replaces DIR/run; VS_LABEL= prefixes every row (the poison matrix).
# VS_NO_MODULES=1: the guest has no modules (arm64), do not look for them.
set -eu
. "$(dirname "$0")/lib.sh"

dir=$(cd "$1" && pwd) || die "no directory $1"
out=$2
run=${VS_RUN:-$dir/run}
label=${VS_LABEL:-}
res=$run/results.log
con=$run/console.log
: > "$out"

row()
{
	printf '%s%s\t%s\t%s\t%s\n' "$label" "$1" "$2" "$3" "$4" >> "$out"
}

[ -f "$res" ] || die "no guest results in $run: run the guest first"

# KUnit suites (KTAP from debugfs) and test programs (TAP from kselftest).
# A marker glued to output without a final newline is split off first.
sed 's/\(.\)@@VS /\1\n@@VS /' "$res" | awk -v out="$out" -v label="$label" '
function emit(name, p, f, s) { printf "%s%s\t%d\t%d\t%d\n", label, name, p, f, s >> out }
$1 == "@@VS" && $2 == "module" {
	if ($4 == "ok") mok++; else { mfail++; printf "  module %s failed to load (modprobe: %s)\n", $3, $5 }
	next
}
$1 == "@@VS" && $2 == "unload" {
	if ($4 == "ok") uok++; else { ufail++; printf "  module %s could not be unloaded\n", $3 }
	next
}
$1 == "@@VS" && $2 == "begin" {
	if (kind != "") { printf "  %s %s: no end marker\n", kind, name; emit(kind ": " name, p, f + 1, s) }
	kind = $3; name = $4; p = f = s = 0; n = 0; next
}
$1 == "@@VS" && $2 == "end" {
	rc = $5
	if (kind == "kunit" && n == 0) { f++; printf "  kunit suite %s reported no cases\n", name }
	if (kind != "kunit") {
		if (n == 0) { if (rc == 0) p++; else if (rc == 4) s++; else f++ }
		else if (rc != 0 && rc != 4 && f == 0) {
			f++; printf "  %s %s exited %s although every case passed\n", kind, name, rc
		}
		if (rc != 0 && rc != 4) printf "  %s %s exited with status %s\n", kind, name, rc
	}
	emit(kind ": " name, p, f, s); kind = ""; next
}
kind != "" && /^ *# / && !/^ *# (Subtest|module|Totals|Starting|PASSED|FAILED)/ {
	if (nd < 12) diag[++nd] = $0
	next
}
kind != "" {
	line = $0
	if (kind == "kunit") { if (line !~ /^    (not )?ok [0-9]+( |$)/) next; sub(/^    /, "", line) }
	else if (line !~ /^(not )?ok [0-9]+( |$)/) next
	n++
	if (line ~ /# SKIP/) { s++; printf "  skipped: %s %s: %s\n", kind, name, line }
	else if (line ~ /^not ok/) {
		f++; printf "  FAILED: %s %s: %s\n", kind, name, line
		for (i = 1; i <= nd; i++) printf "      %s\n", diag[i]
	} else p++
	nd = 0
}
END {
	if (kind != "") { printf "  %s %s: output cut off\n", kind, name; emit(kind ": " name, p, f + 1, s) }
	if (mok + mfail > 0) emit("modules: load (modprobe)", mok, mfail, 0)
	if (uok + ufail > 0) emit("modules: unload (rmmod)", uok, ufail, 0)
}
'

# Every module the build made must have been loaded, and every KUnit test
# module must have reported a suite; not in a run of one test (@@VS only).
[ -n "${VS_NO_MODULES:-}" ] || grep -q '^@@VS only ' "$res" ||
for o in $(cat "$dir/obj/modules.order" 2>/dev/null); do
	m=$(echo "$o" | sed -e 's|.*/||' -e 's|\.k\{0,1\}o$||')
	mu=$(echo "$m" | tr - _)
	grep -q "^@@VS module $m " "$res" ||
		{ echo "  module $m was built but not loaded"; row "modules: $m not loaded" 0 1 0; }
	# A KUnit module is one that carries suites (not every *_test is one:
	# vhost_test is the host side of tools/virtio's virtio_test).
	ko=$dir/obj/${o%.o}.ko
	[ -f "$ko" ] && ! grep -q kunit_test_suites "$ko" && continue
	case "$m" in
	*_kunit|*_test|*_kunit_test)
		grep -q "^    # module: $mu\$" "$res" ||
			{ echo "  KUnit module $m reported no suite"; row "kunit: $m reported no suite" 0 1 0; } ;;
	esac
done

# Did the guest finish?
if grep -q '^@@VS done' "$res"; then
	row "check: guest finished" 1 0 0
else
	rc=$(cat "$run/rc" 2>/dev/null || echo '?')
	case "$rc" in
	124|137) why="hung: killed after ${GUEST_TIMEOUT:-1200}s" ;;
	*) why="stopped early (qemu status $rc: a panic, or init died)" ;;
	esac
	printf '  the guest %s; last lines of %s:\n' "$why" "$con"
	tail -n 25 "$con" 2>/dev/null | sed 's/^/    | /'
	row "check: guest finished" 0 1 0
fi

# Any splat in the kernel log fails the run.
pat='BUG:|WARNING:|Oops|Kernel panic|kernel BUG at|general protection fault|UBSAN:|Bad page state|cut here|Call Trace:|INFO: task .* blocked|detected stall|corruption|printk messages dropped'
if ! grep -q 'Linux version' "$con" 2>/dev/null; then
	echo "  no kernel log in $con"
	row "check: guest log clean (no log)" 0 1 0
elif grep -Eq "$pat" "$con"; then
	printf '  the guest kernel log has %s report line(s) (%s):\n' \
		"$(grep -Ec "$pat" "$con")" "$con"
	grep -En "$pat" "$con" | head -n 12 | sed 's/^/    | /'
	first=$(grep -En "$pat" "$con" | head -n 1 | cut -d: -f1)
	printf '  first report in context:\n'
	sed -n "$((first > 3 ? first - 3 : 1)),$((first + 25))p" "$con" | sed 's/^/    | /'
	row "check: guest log clean" 0 1 0
else
	row "check: guest log clean" 1 0 0
fi

# Every pin taken must have been released.
pins=$(sed -n 's/^@@VS pins //p' "$res")
set -- $pins
if [ $# = 2 ]; then
	if [ "$1" = "$2" ]; then
		row "check: pin balance (acquired $1 = released $2)" 1 0 0
	else
		printf '  pin balance: nr_foll_pin_acquired %s != nr_foll_pin_released %s (%s pins leaked)\n' \
			"$1" "$2" "$(($1 - $2))"
		row "check: pin balance (acquired $1, released $2)" 0 1 0
	fi
else
	row "check: pin balance (not reported)" 0 1 0
fi
