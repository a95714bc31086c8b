#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# boot.sh DIR test|bench|shell: boots DIR's kernel and initramfs under qemu (TCG)
# with the guest's real devices: a scratch virtio-blk disk, a virtio-9p share
# of DIR/share and a virtio-balloon with free page reporting. While qemu
# runs, its resident set size (kB) is written to DIR/share/.host-rss every
# 0.2 s, for the guest's free page reporting tests.
# VS_RUN= replaces DIR/run; VS_BALLOON= the balloon's properties;
# VS_QEMU_ARGS= more qemu options.
#   test   kernel log to DIR/run/console.log, the init's report to
#          DIR/run/results.log; killed after GUEST_TIMEOUT seconds.
#   bench  the same, running the benchmarks only (make bench).
#   shell  an interactive shell on this terminal (make vm).
set -eu
. "$(dirname "$0")/lib.sh"

dir=$(cd "$1" && pwd) || die "no directory $1"
mode=$2
run=${VS_RUN:-$dir/run}
timeout=${GUEST_TIMEOUT:-1200}
kernel=$dir/obj/arch/x86/boot/bzImage

need qemu-system-x86_64 qemu-system-x86
[ -f "$kernel" ] || die "no kernel at $kernel: build it first ('make build')"
mkdir -p "$run" "$dir/share"
rm -f "$run/console.log" "$run/results.log" "$run/rc"
[ -f "$dir/disk.img" ] || truncate -s 64M "$dir/disk.img"

set -- -machine pc -cpu max -smp 2 -nic none -vga none -m "${GUEST_MEM:-2048}" -no-reboot \
	-kernel "$kernel" -initrd "$dir/initramfs.cpio.gz" \
	-drive "file=$dir/disk.img,if=none,format=raw,id=vd0" \
	-device virtio-blk-pci,drive=vd0 \
	-fsdev "local,id=fs0,path=$dir/share,security_model=none" \
	-device virtio-9p-pci,fsdev=fs0,mount_tag=vshare \
	-fsdev "local,id=fs1,path=$dir/share,security_model=none" \
	-device virtio-9p-pci,fsdev=fs1,mount_tag=vshare2 \
	-device "virtio-balloon-pci,${VS_BALLOON:-free-page-reporting=on}" \
	-pidfile "$run/qemu.pid"
# VS_QEMU_ARGS: more qemu options (make bench ICOUNT=1: -icount).
set -- "$@" ${VS_QEMU_ARGS:-}
# numa=fake=2: two nodes, for move_pages() in mmu_notifier_events.
# An oops, a soft lockup or a task hung for 120 s panics the guest, and
# panic=-1 with -no-reboot ends qemu at once: the run stops with the log
# instead of sitting silent until GUEST_TIMEOUT.
cmdline="console=ttyS0 panic=-1 oops=panic softlockup_panic=1 hung_task_panic=1 numa=fake=2 ${GUEST_CMDLINE:-}"

if [ "$mode" = shell ]; then
	info "qemu-system-x86_64 $*"
	exec qemu-system-x86_64 "$@" -nographic -append "$cmdline virtstack.mode=shell"
fi

# host_rss: the host's side of the free page reporting tests.
host_rss()
{
	i=0
	while [ ! -s "$run/qemu.pid" ]; do
		i=$((i + 1))
		[ $i -le 600 ] || return 0
		sleep 0.1
	done
	pid=$(cat "$run/qemu.pid")
	while [ -r "/proc/$pid/status" ]; do
		# Fixed width: the guest must never find the file shorter than
		# its cached size says. On 6.12 a short 9p read makes netfs
		# retry the read recursively until the stack overflows (seen
		# as KASAN stack-out-of-bounds under netfs_retry_reads): patch
		# 1013 (with the backport 1012) fixes it, 9p_stale_size tests it, and the baseline
		# kernel still needs the fixed width.
		awk '$1 == "VmRSS:" { printf "%012d\n", $2 }' "/proc/$pid/status" \
			> "$dir/share/.host-rss.new" 2>/dev/null &&
			mv -f "$dir/share/.host-rss.new" "$dir/share/.host-rss"
		sleep 0.2
	done
}

rm -f "$run/qemu.pid" "$dir/share/.host-rss"
host_rss &
sampler=$!
info "guest log: $run/console.log (killed after ${timeout}s)"
{
	rc=0
	timeout -k 10 "$timeout" qemu-system-x86_64 "$@" -display none -monitor none \
		-serial "file:$run/console.log" -serial stdio \
		-append "$cmdline virtstack.mode=$mode" < /dev/null 2>&1 || rc=$?
	echo "$rc" > "$run/rc"
} | tr -d '\r' | tee "$run/results.log" | sed -n 's/^@@VS progress /  guest: /p'
kill "$sampler" 2> /dev/null || true
wait "$sampler" 2> /dev/null || true
rc=$(cat "$run/rc")
case "$rc" in
0) ;;
124|137) warn "the guest did not finish within ${timeout}s and was killed (GUEST_TIMEOUT= to change)" ;;
*) warn "qemu exited with status $rc" ;;
esac
exit 0
