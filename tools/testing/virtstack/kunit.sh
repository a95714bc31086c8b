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
rm -f "$BUILD/kunit.json"
python3 "$src/tools/testing/kunit/kunit.py" run --arch=x86_64 \
	--kunitconfig="$VS_HARNESS/virtstack.kunitconfig" \
	--build_dir="$BUILD/kunit" --jobs="${JOBS:-$(nproc)}" --timeout=900 \
	--json="$BUILD/kunit.json" \
	--make_options="CC=$cc" --make_options="HOSTCC=$cc" > "$log" 2>&1 || rc=$?

# One row per suite from kunit.py's own JSON: leaf cases (the parameters
# of a parameterized case each count) by status.
if [ -s "$BUILD/kunit.json" ]; then
	python3 -c '
import json, sys

def leaves(group):
    for case in group["test_cases"]:
        yield case
    for sub in group["sub_groups"]:
        yield from leaves(sub)

top = json.load(open(sys.argv[1]))
suites = top["sub_groups"] + ([top] if top["test_cases"] else [])
with open(sys.argv[2], "a") as out:
    for suite in suites:
        n = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        for case in leaves(suite):
            st = case["status"] if case["status"] in n else "FAIL"
            n[st] += 1
            if st != "PASS":
                print("  %s: kunit.py: %s.%s" % (st, suite["name"], case["name"]))
        out.write("kunit.py: %s\t%d\t%d\t%d\n" % (suite["name"], n["PASS"], n["FAIL"], n["SKIP"]))
' "$BUILD/kunit.json" "$out"
fi
grep -E '^\[[0-9:]*\] Testing complete' "$log" | sed 's/^\[[0-9:]*\] /  kunit.py: /' || true
if [ "$rc" != 0 ]; then
	tail -n 30 "$log" | sed 's/^/  | /'
	warn "kunit.py exited with status $rc; log: $log"
	printf 'kunit.py: exit status %s (a build error, crash or failed case)\t0\t1\t0\n' "$rc" >> "$out"
fi
[ -s "$out" ] || printf 'kunit.py: no suite ran\t0\t1\t0\n' >> "$out"
exit 0
