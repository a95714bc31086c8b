#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# arm64.sh build DIR: cross-build the tree DIR/src for arm64 into DIR/obj-arm64
#   (Image from allnoconfig + configs/arm64.config + configs/debug.config, or
#   the fragments VS_FRAGS names), the KVM selftests of guest-arm64/list
#   (static; from the tree VS_KST_SRC if set, so that make bench runs the
#   same programs on both kernels), the guest init and the benchmark, and
#   DIR/initramfs-arm64.cpio.gz.
# arm64.sh config DIR: only configure DIR/obj-arm64 (static.sh's sparse).
# arm64.sh boot DIR vhe|nvhe: boots it under qemu-system-aarch64 (TCG) at EL2,
#   so that KVM runs the selftests' guests nested; the kernel log goes to
#   DIR/run-arm64-MODE/console.log (VS_RUN= replaces that directory), the
#   init's report to results.log (read by verdict.sh). Killed after
#   GUEST_TIMEOUT seconds.
set -eu
. "$(dirname "$0")/lib.sh"

cmd=$1
dir=$(cd "$2" && pwd) || die "no directory $2"
src=$dir/src
obj=${VS_OBJ:-$dir/obj-arm64}
jobs=${JOBS:-$(nproc)}
cross=aarch64-linux-gnu-
list=$VS_HARNESS/guest-arm64/list
benchlist=$VS_HARNESS/guest-arm64/bench-list
kst_src=${VS_KST_SRC:-$src}

kmake()
{
	VS_ARCH=arm64 VS_OBJ=$obj vs_kmake "$dir" -j"$jobs" "$@"
}

configure()
{
	need ${cross}gcc gcc-aarch64-linux-gnu
	frags=
	for f in ${VS_FRAGS:-arm64 debug}; do
		frags="$frags $VS_HARNESS/configs/$f.config"
	done
	mkdir -p "$obj"
	fragsum=$(cat $frags | cksum)
	if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/config.sum" 2>/dev/null)" != "$fragsum" ] ||
	   [ "$dir/stack.stamp" -nt "$obj/.config" ]; then
		info "arm64: configuring: allnoconfig +$(echo " $frags" | sed "s| $VS_HARNESS/| |g")"
		rm -f "$obj/config.sum"
		(cd "$src" && ARCH=arm64 CROSS_COMPILE=$cross \
			./scripts/kconfig/merge_config.sh -n -O "$obj" $frags) > "$obj/config.log" 2>&1 ||
			{ tail -20 "$obj/config.log"; die "arm64: configuring failed; log: $obj/config.log"; }
		# A tree without the stack (baseline) lacks the stack's symbols.
		lax='^$'
		[ -f "$src/Kconfig.virtstack" ] || lax='CONFIG_KVM_VGIC_ITS_KUNIT_TEST'
		if grep '^Value requested' "$obj/config.log" | grep -vq "$lax"; then
			grep '^Value requested' "$obj/config.log" | grep -v "$lax" | sed 's/^/  /' >&2
			die "arm64: the options above did not take; full log: $obj/config.log"
		fi
		echo "$fragsum" > "$obj/config.sum"
	fi
}

build()
{
	configure
	[ -f /usr/aarch64-linux-gnu/lib/libc.a ] ||
		die "static arm64 libc missing for the guest programs: 'apt-get install libc6-dev-arm64-cross'"
	need cpio cpio
	need gzip gzip

	info "arm64: building Image (-j$jobs, log: $obj/build.log)"
	if ! kmake Image > "$obj/build.log" 2>&1; then
		grep -E 'error|Error' "$obj/build.log" | head -20 | sed 's/^/  /' >&2
		die "arm64: kernel build failed; full log: $obj/build.log"
	fi
	grep -E ' warning: ' "$obj/build.log" | sort -u | head -20 | sed 's/^/  /' || true
	kmake -s headers_install INSTALL_HDR_PATH="$obj/usr" > "$obj/headers.log" 2>&1 ||
		{ tail -20 "$obj/headers.log"; die "arm64: headers_install failed; log: $obj/headers.log"; }

	# The KVM selftests the guest runs, linked statically (no libc in the
	# initramfs). Their Makefile writes only below OUTPUT.
	kst=$obj/kselftest/kvm
	# Every /tests/NAME a list runs that is a KVM selftest of the tree (a
	# tree without the stack lacks vgic_its_movi: its run then fails).
	progs=
	for p in $(sed -e 's/#.*//' "$list" "$benchlist" | tr ' ' '\n' |
		   sed -n 's|^/tests/||p' | sort -u); do
		if [ -f "$kst_src/tools/testing/selftests/kvm/aarch64/$p.c" ]; then
			progs="$progs $p"
		elif [ ! -f "$VS_HARNESS/guest-arm64/$p.c" ]; then
			warn "arm64: /tests/$p is not a KVM selftest of $kst_src: its run will fail"
		fi
	done
	targets=
	for p in $progs; do
		targets="$targets $kst/aarch64/$p"
	done
	info "arm64: building the KVM selftests:" $progs
	mkdir -p "$kst"
	if ! make -C "$kst_src/tools/testing/selftests/kvm" -j"$jobs" ARCH=arm64 \
		CROSS_COMPILE=$cross OUTPUT="$kst" KHDR_INCLUDES="-isystem $obj/usr/include" \
		TARGET_ARCH=-static $targets > "$obj/kselftest.log" 2>&1; then
		grep -E 'error|Error' "$obj/kselftest.log" | head -20 | sed 's/^/  /' >&2
		die "arm64: the KVM selftests do not build; log: $obj/kselftest.log"
	fi

	root=$dir/initramfs-arm64
	rm -rf "$root"
	mkdir -p "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/tests"
	${cross}gcc -static -O2 -Wall -Werror -o "$root/init" "$VS_HARNESS/guest-arm64/init.c" ||
		die "arm64: the guest init does not build"
	${cross}gcc -static -O2 -Wall -Werror -o "$root/tests/lpi_bench" \
		"$VS_HARNESS/guest-arm64/lpi_bench.c" || die "arm64: lpi_bench does not build"
	for p in $progs; do
		cp "$kst/aarch64/$p" "$root/tests/"
	done
	cp "$list" "$root/tests/list"
	cp "$benchlist" "$root/tests/bench-list"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
		gzip -1 > "$dir/initramfs-arm64.cpio.gz"
	info "arm64: $obj/arch/arm64/boot/Image and $dir/initramfs-arm64.cpio.gz"
}

boot()
{
	mode=$1
	run=${VS_RUN:-$dir/run-arm64-$mode}
	timeout=${GUEST_TIMEOUT:-1200}
	kernel=$obj/arch/arm64/boot/Image
	need qemu-system-aarch64 qemu-system-arm
	[ -f "$kernel" ] || die "no arm64 kernel at $kernel: run 'arm64.sh build' first (make ARCH=arm64)"
	case "$mode" in
	vhe) extra= ;;
	nvhe) extra=kvm-arm.mode=nvhe ;;
	*) die "arm64.sh boot: mode is vhe or nvhe, not '$mode'" ;;
	esac
	mkdir -p "$run"
	rm -f "$run/console.log" "$run/results.log" "$run/rc"
	info "arm64 ($mode): guest log $run/console.log (killed after ${timeout}s)"
	# -cpu max without SVE/SME: 6.12's KVM vector-state handling had fixes
	# since, and the tests do not need it; pauth-impdef: fast pointer auth.
	{
		rc=0
		timeout -k 10 "$timeout" qemu-system-aarch64 \
			-M virt,virtualization=on,gic-version=3 \
			-cpu max,pauth-impdef=on,sve=off,sme=off -smp 2 -m 2048 \
			-nic none -display none -monitor none -no-reboot \
			-kernel "$kernel" -initrd "$dir/initramfs-arm64.cpio.gz" \
			-serial "file:$run/console.log" \
			-device virtio-serial-device -chardev stdio,id=res \
			-device virtconsole,chardev=res \
			-append "console=ttyAMA0 panic=-1 oops=panic softlockup_panic=1 hung_task_panic=1 rdinit=/init $extra ${GUEST_CMDLINE:-}" \
			< /dev/null 2>&1 || rc=$?
		echo "$rc" > "$run/rc"
	} | tr -d '\r' | tee "$run/results.log" | sed -n 's/^@@VS progress /  guest: /p'
	rc=$(cat "$run/rc")
	case "$rc" in
	0) ;;
	124|137) warn "arm64 ($mode): the guest did not finish within ${timeout}s and was killed (GUEST_TIMEOUT= to change)" ;;
	*) warn "arm64 ($mode): qemu exited with status $rc" ;;
	esac
}

case "$cmd" in
build) build ;;
config) configure ;;
boot) boot "$3" ;;
*) die "arm64.sh: unknown command '$cmd' (build, config, boot)" ;;
esac
