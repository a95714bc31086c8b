#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh DIR: DIR/initramfs.cpio.gz from Debian's static busybox, the
# guest init, the modules in DIR/modules, the stack's guest test programs
# (tools/testing/selftests/virtstack/*.c, linked statically) and the user's
# EXTRA programs or scripts.
set -eu
. "$(dirname "$0")/lib.sh"

dir=$(cd "$1" && pwd) || die "no directory $1"
src=$dir/src
root=$dir/initramfs

need cpio cpio
need gzip gzip
need readelf binutils
bb=$(command -v busybox || true)
[ -n "$bb" ] || die "busybox not found: install it with 'apt-get install busybox-static'"
readelf -d "$bb" 2>/dev/null | grep -q NEEDED &&
	die "$bb is linked dynamically: install 'busybox-static' ('apt-get install busybox-static')"
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] ||
	die "static libc missing for the guest programs: 'apt-get install libc6-dev'"

rm -rf "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/mnt" \
	"$root/lib" "$root/virtstack/tests" "$root/virtstack/extra"
cp "$bb" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$VS_HARNESS/guest/init" "$root/init"
chmod +x "$root/init"
cp -a "$dir/modules/lib/modules" "$root/lib/"

# Guest test programs: built by their kselftest Makefile in the tree
# (tools/testing/selftests/virtstack, the same recipe as 'make -C
# tools/testing/selftests TARGETS=virtstack'), static, against the tree's
# exported uapi headers (build.sh installs them).
obj=${VS_OBJ:-$dir/obj}
env -u MAKEFLAGS -u MAKEOVERRIDES -u MFLAGS \
	make -C "$src/tools/testing/selftests/virtstack" OUTPUT="$root/virtstack/tests" \
	USERCFLAGS=-Werror USERLDFLAGS=-static KHDR_INCLUDES="-isystem $obj/usr/include" \
	> "$dir/kselftest.log" 2>&1 || {
	tail -n 30 "$dir/kselftest.log" >&2
	die "the guest tests (tools/testing/selftests/virtstack) do not build; log: $dir/kselftest.log"
}
# A stack tree: the tests then fail on what the stack must provide.
[ -f "$src/Kconfig.virtstack" ] && touch "$root/virtstack/stack"

# Upstream's own selftests that run in a boot of their own (run.sh), built
# from the tree under test: guest/upstream/NAME starts bin/NAME.
mkdir -p "$root/virtstack/upstream/bin"
cp "$VS_HARNESS"/guest/upstream/* "$root/virtstack/upstream/" 2>/dev/null || true
chmod +x "$root"/virtstack/upstream/* 2>/dev/null || true
if [ -f "$src/tools/testing/selftests/mm/hmm-tests.c" ]; then
	gcc -static -O2 -D_GNU_SOURCE -I"$src" -I"$src/tools/testing/selftests" \
		-I"$src/tools/include/uapi" \
		-o "$root/virtstack/upstream/bin/hmm-tests" \
		"$src/tools/testing/selftests/mm/hmm-tests.c" -lpthread ||
		die "upstream's hmm-tests does not build from $src"
fi

# Guest lanes: scripts that start the real components some tests need, and
# the helper programs they start.
mkdir -p "$root/virtstack/lanes" "$root/virtstack/bin"
cp "$VS_HARNESS"/guest/lanes/* "$root/virtstack/lanes/"
chmod +x "$root"/virtstack/lanes/*
cp "$VS_HARNESS/guest/tap.sh" "$VS_HARNESS/guest/baseline-last" "$root/virtstack/"
for c in "$VS_HARNESS"/guest/bin/*.c; do
	gcc -static -O2 -Wall -Werror -D_GNU_SOURCE -I"$VS_TOP/tools/testing/selftests/virtstack" \
		-o "$root/virtstack/bin/$(basename "$c" .c)" "$c" ||
		die "guest helper $c does not build"
done

# tools/virtio's virtio_test and vhost_net_test (guest test "vhost"),
# built in the tree against its own uapi headers (build.sh installs them).
# A tree without the stack's tools/virtio patches does not build them: its
# vhost tests skip.
# C_INCLUDE_PATH: after tools/virtio's stub headers, before the host's.
if C_INCLUDE_PATH="$obj/usr/include" LDFLAGS=-static \
	make -C "$src/tools/virtio" virtio_test vhost_net_test > "$dir/tools-virtio.log" 2>&1; then
	cp "$src/tools/virtio/virtio_test" "$src/tools/virtio/vhost_net_test" "$root/virtstack/bin/"
elif [ -f "$src/Kconfig.virtstack" ]; then
	grep -E 'error' "$dir/tools-virtio.log" | head -10 | sed 's/^/  /' >&2
	die "tools/virtio does not build against this tree; log: $dir/tools-virtio.log"
else
	warn "tools/virtio does not build on this tree (no stack): the vhost guest tests will skip"
fi

# dynamic SRC DEST: copies the dynamically linked program SRC to DEST in the
# initramfs and notes the shared libraries it loads (looked up in $libs
# first, then on the host) for copying below.
: > "$dir/libs.list"
dynamic()
{
	cp "$1" "$root/$2"
	LD_LIBRARY_PATH=$libs ldd "$1" > "$dir/ldd.out" || die "ldd $1 failed"
	! grep -q 'not found' "$dir/ldd.out" ||
		die "libraries of $1 not found: $(grep 'not found' "$dir/ldd.out" | tr -s ' \t' ' ')"
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' \
		"$dir/ldd.out" >> "$dir/libs.list"
}

# The NFS lane's tools: Debian's rpc.nfsd, rpc.mountd, exportfs, mount.nfs
# and tc (netem on lo), and the bindfs lane's bindfs (libfuse 2), unpacked
# from the packages (nothing is installed on the host).
debs=$("$VS_HARNESS/debs.sh" "${VS_DEBS:-$dir/../debs}" nfs-kernel-server nfs-common libwrap0 \
	iproute2 libbpf1 libelf1 libmnl0 libxtables12 libcap2 libbsd0 libmd0 \
	bindfs libfuse2)
mkdir -p "$root/sbin" "$root/usr/sbin" "$root/usr/bin" "$root/etc" "$root/lib64" \
	"$root/lib/x86_64-linux-gnu"
libs=$debs/lib/x86_64-linux-gnu:$debs/usr/lib/x86_64-linux-gnu
for b in usr/sbin/rpc.nfsd usr/sbin/rpc.mountd usr/sbin/exportfs sbin/mount.nfs sbin/tc \
	usr/bin/bindfs; do
	[ -x "$debs/$b" ] || die "$debs/$b missing from the unpacked packages"
	dynamic "$debs/$b" "$b"
done
[ -f /etc/netconfig ] || die "/etc/netconfig missing: install it with 'apt-get install libtirpc-common'"
cp /etc/netconfig "$root/etc/"

# Benchmarks, for make bench: C programs, and scripts that drive the host's
# fio (its libraries come along; it is big, so only bench guests carry it).
if [ -n "${BENCH:-}" ]; then
	mkdir -p "$root/virtstack/bench"
	for c in "$VS_HARNESS"/bench/*.c; do
		[ -f "$c" ] || continue
		gcc -static -O2 -Wall -Werror -D_GNU_SOURCE -I"$src" \
			-o "$root/virtstack/bench/$(basename "$c" .c)" "$c" ||
			die "benchmark $c does not build"
	done
	for b in "$VS_HARNESS"/bench/*.sh; do
		[ -f "$b" ] || continue
		cp "$b" "$root/virtstack/bench/"
		chmod +x "$root/virtstack/bench/${b##*/}"
	done
	need fio fio
	dynamic "$(command -v fio)" usr/bin/fio
fi

for lib in $(sort -u "$dir/libs.list"); do
	case "$lib" in
	*/ld-linux*) cp -L "$lib" "$root/lib64/" ;;
	*) cp -L "$lib" "$root/lib/x86_64-linux-gnu/" ;;
	esac
done
rm -f "$dir/ldd.out" "$dir/libs.list"

# The user's own programs: EXTRA is a space-separated list of files.
for x in ${EXTRA:-}; do
	[ -f "$x" ] || die "EXTRA=$x: no such file"
	cp "$x" "$root/virtstack/extra/"
	chmod +x "$root/virtstack/extra/${x##*/}"
	case "$(head -c 4 "$x")" in
	"$(printf '\177ELF')")
		readelf -d "$x" 2>/dev/null | grep -q NEEDED &&
			die "EXTRA=$x is linked dynamically; the guest has no libc: build it with -static" ;;
	esac
done

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 > "$dir/initramfs.cpio.gz"
info "initramfs: $dir/initramfs.cpio.gz ($(du -h "$dir/initramfs.cpio.gz" | cut -f1))"
