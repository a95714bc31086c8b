#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh SRC OUT [arm64]: runs the kernel's own tools/testing/kunit/kunit.py
# on the prepared tree SRC with the .kunitconfig of each directory that
# holds a suite (mm, net/9p, drivers/vhost, fs/nfs, fs/ceph: what
# 'kunit.py run --arch=x86_64 --kunitconfig=mm' uses in an applied tree;
# not on UML, which has no THP, memory hotplug or ZONE_DEVICE) merged with the
# stack-wide virtstack.kunitconfig, x86_64 under qemu (so that GUP-fast and
# THP exist), and writes one result row per suite to OUT. With arm64:
# arch/arm64/kvm/vgic/.kunitconfig and virtstack-arm64.kunitconfig,
# cross-built, under qemu-system-aarch64 (the built-in vgic-its suite).
set -eu
. "$(dirname "$0")/lib.sh"

src=$1
out=$2
arch=${3:-x86_64}
BUILD=${BUILD:-$VS_TOP/build}
: > "$out"

need python3 python3
cc=gcc
hostcc=gcc
case "$arch" in
x86_64)
	name=kunit label=kunit.py config=virtstack.kunitconfig
	dirs="mm net/9p drivers/vhost fs/nfs fs/ceph"
	need qemu-system-x86_64 qemu-system-x86 ;;
arm64)
	name=kunit-arm64 label="kunit.py arm64" config=virtstack-arm64.kunitconfig
	dirs=arch/arm64/kvm/vgic
	need qemu-system-aarch64 qemu-system-arm
	need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
	cc=aarch64-linux-gnu-gcc
	set -- --cross_compile=aarch64-linux-gnu- ;;
*) die "kunit.sh: no kunitconfig for arch '$arch' (x86_64, arm64)" ;;
esac
[ "$arch" = arm64 ] || set --
for d in $dirs; do
	[ -f "$src/$d/.kunitconfig" ] || die "$src/$d/.kunitconfig missing: prepare the stack tree again (make prepare)"
	set -- "$@" --kunitconfig="$src/$d"
done
command -v ccache >/dev/null 2>&1 && cc="ccache $cc" hostcc="ccache gcc" &&
	export CCACHE_BASEDIR="$BUILD"
log=$BUILD/$name.log
json=$BUILD/$name.json

rc=0
rm -f "$json"
python3 "$src/tools/testing/kunit/kunit.py" run --arch="$arch" "$@" \
	--kunitconfig="$VS_HARNESS/$config" \
	--build_dir="$BUILD/$name" --jobs="${JOBS:-$(nproc)}" --timeout=900 \
	--json="$json" \
	--make_options="CC=$cc" --make_options="HOSTCC=$hostcc" > "$log" 2>&1 || rc=$?

# One row per suite from kunit.py's own JSON: leaf cases (the parameters
# of a parameterized case each count) by status.
if [ -s "$json" ]; then
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
                print("  %s: %s: %s.%s" % (st, sys.argv[3], suite["name"], case["name"]))
        out.write("%s: %s\t%d\t%d\t%d\n" % (sys.argv[3], suite["name"], n["PASS"], n["FAIL"], n["SKIP"]))
' "$json" "$out" "$label"
fi
grep -E '^\[[0-9:]*\] Testing complete' "$log" | sed "s/^\[[0-9:]*\] /  $label: /" || true
if [ "$rc" != 0 ]; then
	tail -n 30 "$log" | sed 's/^/  | /'
	warn "$label exited with status $rc; log: $log"
	printf '%s: exit status %s (a build error, crash or failed case)\t0\t1\t0\n' "$label" "$rc" >> "$out"
fi
[ -s "$out" ] || printf '%s: no suite ran\t0\t1\t0\n' "$label" >> "$out"
exit 0
