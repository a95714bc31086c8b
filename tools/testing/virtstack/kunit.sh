#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh SRC OUT: runs the kernel's own tools/testing/kunit/kunit.py on
# the prepared tree SRC with the stack's kunitconfig (x86_64 under qemu, so
# that GUP-fast and THP exist) and writes one result row per suite to OUT.
set -eu
. "$(dirname "$0")/lib.sh"

src=$1
out=$2
BUILD=${BUILD:-$VS_TOP/build}
log=$BUILD/kunit.log
: > "$out"

need python3 python3
need qemu-system-x86_64 qemu-system-x86
cc=gcc
command -v ccache >/dev/null 2>&1 && cc="ccache gcc" && export CCACHE_BASEDIR="$BUILD"

rc=0
python3 "$src/tools/testing/kunit/kunit.py" run --arch=x86_64 \
	--kunitconfig="$VS_HARNESS/virtstack.kunitconfig" \
	--build_dir="$BUILD/kunit" --jobs="${JOBS:-$(nproc)}" --timeout=900 \
	--make_options="CC=$cc" --make_options="HOSTCC=$cc" > "$log" 2>&1 || rc=$?

# kunit.py prints "===== suite (N subtests) =====", a "[PASSED] case" line
# per case and "===== [PASSED] suite =====" to close the suite.
sed 's/^\[[0-9:]*\] //' "$log" | awk -v out="$out" '
/^=+ [^[].* \([0-9]+ subtests?\) =+$/ { suite = $2; p = f = s = 0; next }
/^=+ \[[A-Z]+\] .* =+$/ {
	if (suite != "") printf "kunit.py: %s\t%d\t%d\t%d\n", suite, p, f, s >> out
	suite = ""; next
}
suite != "" && /^\[PASSED\] / { p++ }
suite != "" && /^\[SKIPPED\] / { s++; print "  skipped: " $0 }
suite != "" && /^\[(FAILED|CRASHED)\] / { f++; print "  FAILED: " suite ": " $0 }
'
grep -E '^\[[0-9:]*\] Testing complete' "$log" | sed 's/^\[[0-9:]*\] /  kunit.py: /' || true
if [ "$rc" != 0 ] && ! [ -s "$out" ]; then
	tail -n 30 "$log" | sed 's/^/  | /'
	die "kunit.py failed before running any suite (status $rc); log: $log"
fi
[ "$rc" = 0 ] || warn "kunit.py exited with status $rc; log: $log"
[ -s "$out" ] || { echo "kunit.py: no suite ran	0	1	0" >> "$out"; }
exit 0
