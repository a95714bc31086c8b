#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vng.sh TREE [COMMAND...]: builds TREE's kernel in the guest's
# configuration plus configs/vng.config (what virtme-ng's init needs) into
# TREE/obj-vng, boots it with virtme-ng, the way kernel engineers boot the
# tree they have just built, and runs COMMAND in it as root. Without COMMAND: the
# stack's kselftests, built on the host through the tree's selftests
# Makefile (TARGETS=virtstack, O=TREE/obj-vng) and run in the guest with
# run_tests. Tests whose lane the harness would start (knfsd, LIO, FUSE)
# skip there and say why.
#
# virtme-ng is Debian 13's package (architecture all; what it depends on
# is in Debian 12): 'apt-get download' through an apt configuration
# private to $BUILD/apt-trixie, unpacked into $BUILD/vng. Nothing is
# installed. qemu runs without KVM (--disable-kvm) and the guest sees
# the host's root over 9p (--force-9p).
set -eu
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: vng.sh TREE [COMMAND...]"
tree=$(cd "$1" 2>/dev/null && pwd) || die "no tree $1: run 'make build' first"
shift
[ -d "$tree/src" ] || die "no tree $tree/src: run 'make prepare' first"
obj=$tree/obj-vng
# Debian's python3, with the packages virtme-ng depends on (not a pyenv).
py=/usr/bin/python3
[ -x $py ] && $py -c 'import requests, argcomplete, pkg_resources' 2>/dev/null ||
	die "virtme-ng needs Debian's python3 with python3-requests, python3-argcomplete and python3-pkg-resources: apt-get install them (every make target's set-up does)"
need qemu-system-x86_64 qemu-system-x86

BUILD=${BUILD:-$VS_TOP/build}
apt=$BUILD/apt-trixie
vng=$BUILD/vng

# apt-get with a configuration of its own: Debian 13's index, this
# directory's cache, no status of the host's.
apt_trixie()
{
	apt-get -o Dir::Etc::SourceList="$apt/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" \
		-o Dir::State::Status="$apt/status" -o APT::Get::List-Cleanup=0 "$@"
}

if [ ! -x "$vng/usr/bin/vng" ]; then
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
	echo "deb http://deb.debian.org/debian trixie main" > "$apt/sources.list"
	: > "$apt/status"
	info "virtme-ng: fetching Debian 13's package (log: $apt/apt.log)"
	{ apt_trixie -q update && (cd "$apt" && rm -f virtme-ng_*.deb &&
		apt_trixie download virtme-ng); } > "$apt/apt.log" 2>&1 ||
		die "could not download virtme-ng from Debian 13 (see $apt/apt.log): check the network and deb.debian.org"
	rm -rf "$vng"
	dpkg-deb -x "$apt"/virtme-ng_*.deb "$vng" || die "could not unpack $apt/virtme-ng_*.deb"
fi
info "virtme-ng $(ls "$apt"/virtme-ng_*.deb | sed 's/.*virtme-ng_//; s/_all.deb//')"

VS_OBJ=$obj VS_MODULES=$tree/modules-vng VS_FRAGS="base debug kunit vng" \
	"$VS_HARNESS/build.sh" "$tree"

if [ $# -eq 0 ]; then
	info "building the stack's kselftests (make -C tools/testing/selftests TARGETS=virtstack O=$obj)"
	env -u MAKEFLAGS -u MAKEOVERRIDES -u MFLAGS \
		make -C "$tree/src/tools/testing/selftests" TARGETS=virtstack O="$obj" \
		> "$tree/vng-kselftest.log" 2>&1 ||
		{ tail -n 20 "$tree/vng-kselftest.log" >&2; die "the kselftests do not build: $tree/vng-kselftest.log"; }
	set -- make -C "$tree/src/tools/testing/selftests" TARGETS=virtstack O="$obj" run_tests
	kselftests=1
fi

info "vng --run $obj --disable-kvm --force-9p --exec '$*' (log: $tree/vng.log)"
# qemu opens its stdout again by path, truncating a file: the guest's
# output goes through a pipe to the log and the terminal.
fifo=$tree/vng.fifo
rm -f "$fifo"
mkfifo "$fifo"
tee "$tree/vng.log" < "$fifo" &
# vng runs virtme-run, found on PATH, with the same interpreter.
rc=0
PATH=$vng/usr/bin:$PATH PYTHONPATH=$vng/usr/lib/python3/dist-packages \
	timeout "${GUEST_TIMEOUT:-1200}" $py "$vng/usr/bin/vng" \
	--run "$obj" --disable-kvm --force-9p --cpus 2 --memory "${GUEST_MEM:-2048}M" \
	--user root --exec "$*" < /dev/null > "$fifo" 2>&1 || rc=$?
wait
rm -f "$fifo"
[ $rc != 124 ] || warn "vng: the guest did not finish within ${GUEST_TIMEOUT:-1200} s (GUEST_TIMEOUT)"
# run_tests exits 0 whatever the tests say: their TAP lines decide.
if [ -n "${kselftests:-}" ] && [ $rc = 0 ]; then
	if grep -q '^not ok' "$tree/vng.log"; then
		warn "vng: $(grep -c '^not ok' "$tree/vng.log") kselftest(s) failed: $(grep '^not ok' "$tree/vng.log" | sed 's/.*virtstack: //' | paste -sd' ')"
		rc=1
	elif ! grep -q '^ok ' "$tree/vng.log"; then
		warn "vng: no kselftest reported (see $tree/vng.log)"
		rc=1
	fi
fi
exit $rc
