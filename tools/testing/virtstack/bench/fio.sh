#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fio.sh: O_DIRECT throughput with fio (psync, queue depth 1) on every
# backend the guest offers: the scratch virtio-blk disk, a file on the
# virtio-9p share, files on the guest's own NFS export over sunrpc and
# through LOCALIO, and the FUSE lane's file. Every call pins and unpins the
# user buffer, so a change in the pinning paths shows here.
#
# Jobs: sequential and random 4 KiB reads and writes (IOPS) and sequential
# 256 KiB reads (MB/s), RUNTIME seconds each after a 1 s ramp.
# Prints "BENCH fio_<job>_<backend> <value> <unit> higher" for make bench;
# a backend that is missing or a job that fails is an error.
#
# Under make bench ICOUNT=1 (VIRTSTACK_ICOUNT=1) a guest nanosecond is one
# executed instruction, so each job also prints the thousands of guest
# instructions per I/O, 10^6 / IOPS, as "BENCH fio_<job>_<backend>_kinsn
# <value> kinsn/io lower": instructions of the whole guest, the fio process,
# the kernel and the in-guest server (knfsd, the FUSE server) together. On
# blk and 9p, where qemu serves the I/O outside the guest, an idle guest's
# clock jumps to its next timer instead, so there it is not a count of
# instructions alone (make bench says whether the boots agree).

# Under icount a guest second is 10^9 instructions, some 10^4 I/Os: 1 s.
runtime=3
[ "${VIRTSTACK_ICOUNT:-}" != 1 ] || runtime=1
runtime=${RUNTIME:-$runtime}
size=16M
failed=0

# job BACKEND FILE NAME RW BS FIELD UNIT
#   FIELD of fio's terse v3 output: 7 read KiB/s, 8 read IOPS, 49 write IOPS
job()
{
	case "$4" in
	*write) iops=49 ;;
	*) iops=8 ;;
	esac
	out=$(fio --name="$3" --filename="$2" --size=$size --direct=1 --rw="$4" \
		--bs="$5" --ioengine=psync --ramp_time=1 --runtime="$runtime" --time_based \
		--randrepeat=1 --norandommap --allow_file_create="$create" \
		--output-format=terse --terse-version=3 2>&1)
	v=$(echo "$out" | awk -F';' -v f="$6" -v u="$7" -v i="$iops" '
		$1 == 3 && $5 == 0 && $i > 0 {
			print (u == "MB/s" ? $f / 1024 : $f), 1e6 / $i; ok = 1
		}
		END { exit !ok }')
	if [ $? = 0 ]; then
		echo "BENCH fio_$3_$1 ${v% *} $7 higher"
		[ "${VIRTSTACK_ICOUNT:-}" != 1 ] ||
			echo "BENCH fio_$3_$1_kinsn ${v#* } kinsn/io lower"
	else
		echo "fio.sh: $3 on $1 ($2) failed:"
		echo "$out" | sed 's/^/# /'
		failed=1
	fi
}

backend()
{
	if [ -z "$2" ]; then
		echo "fio.sh: no $1 backend (VIRTSTACK_* unset: its lane did not come up)"
		failed=1
		return
	fi
	create=1
	case "$1" in
	blk | fuse) create=0 ;;
	esac
	job "$1" "$2" read4k read 4k 8 IOPS
	job "$1" "$2" write4k write 4k 49 IOPS
	job "$1" "$2" randread4k randread 4k 8 IOPS
	job "$1" "$2" randwrite4k randwrite 4k 49 IOPS
	job "$1" "$2" read256k read 256k 7 MB/s
}

backend blk "$VIRTSTACK_BLK"
backend 9p "${VIRTSTACK_9P:+$VIRTSTACK_9P/fio.dat}"
backend nfs "${VIRTSTACK_NFS:+$VIRTSTACK_NFS/fio.dat}"
backend nfs_localio "${VIRTSTACK_NFS_LOCALIO:+$VIRTSTACK_NFS_LOCALIO/fio.dat}"
backend fuse "${VIRTSTACK_FUSE:+$VIRTSTACK_FUSE/data}"
rm -f "$VIRTSTACK_9P/fio.dat" "$VIRTSTACK_NFS/fio.dat"
exit $failed
