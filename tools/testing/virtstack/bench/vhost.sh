#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vhost.sh: the cost of vhost's ring accesses, within one boot. tools/virtio's
# virtio_test (vhost_test.ko; --batch=1, 16, 64 and random) and
# vhost_net_test (vhost-net over a tap device) run with vhost.batch_uaccess=0
# (6.12: one user access section per ring field), =1 (patch 4007) and with
# vhost.meta_accel=1 (experimental patch 4009: the rings through kernel mappings),
# alternated A B C A B C for PASSES rounds. Prints each mode's median rate
# and the medians of the per-round ratios batched/uaccess and
# kmap/uaccess, as "BENCH vhost_<test>_<mode> <rate> <unit> higher" for
# make bench, and each mode's medians of context switches and of
# rescheduling IPIs per buffer (per packet of the whole RX+TX run for
# vhost_net_test): what kicks and completions cost in wake-ups, which
# under ICOUNT=1 are part of the instructions a mode is charged. A kernel
# without the parameters (no stack) runs the uaccess mode only.

passes=${PASSES:-5}
bufs=${BUFS:-100000}
pkts=${PKTS:-3000}
param=/sys/module/vhost/parameters/batch_uaccess
kmap=/sys/module/vhost/parameters/meta_accel
bin=/virtstack/bin
failed=0

# The baseline kernel has neither vhost_test.ko nor a tools/virtio that
# builds: nothing to compare there (the comparison is within one boot).
if [ ! -x $bin/virtio_test ]; then
	echo "vhost.sh: no tools/virtio programs on this kernel (no stack): skipped"
	exit 0
fi
[ -e /dev/vhost-test ] || modprobe vhost_test ||
	{ echo "vhost.sh: vhost_test.ko does not load"; exit 1; }
modes="uaccess batched"
[ -w $param ] || modes=uaccess
[ -w $param ] && [ -w $kmap ] && modes="uaccess batched kmap"

# The guest's context switches and rescheduling IPIs so far.
wakeups()
{
	echo "$(sed -n 's/^ctxt //p' /proc/stat)" \
		"$(awk '$1 == "RES:" { for (i = 2; $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }' \
			/proc/interrupts)"
}

# rate NAME MODE CMD...: one run; its rate on stdout, or nothing if it
# failed; its context switches and IPIs per unit of work in /tmp/vb.sw
rate()
{
	name=$1
	mode=$2
	shift 2
	n=$bufs
	case $name in net_*) n=$((2 * pkts)) ;; esac
	case $mode in
	uaccess) echo N > $param; echo N > $kmap ;;
	batched) echo Y > $param; echo N > $kmap ;;
	kmap) echo Y > $param; echo Y > $kmap ;;
	esac 2>/dev/null
	w=$(wakeups)
	out=$("$@" 2>&1)
	echo "$(wakeups) $w $n" | awk '{ print ($1 - $3) / $5, ($2 - $4) / $5 }' > /tmp/vb.sw
	case $name in
	net_rx) echo "$out" | sed -n 's/^RX \([0-9]*\) packets\/s.*/\1/p' ;;
	net_tx) echo "$out" | sed -n 's/.*TX \([0-9]*\) packets\/s$/\1/p' ;;
	*) echo "$out" | sed -n 's/.*: \([0-9]*\) buffers\/s$/\1/p' ;;
	esac
}

median()
{
	sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# bench NAME UNIT CMD...
bench()
{
	name=$1
	unit=$2
	shift 2
	rm -f /tmp/vb.*
	i=0
	while [ $i -lt "$passes" ]; do
		for m in $modes; do
			r=$(rate "$name" "$m" "$@")
			[ -n "$r" ] || { echo "vhost.sh: $name ($m) failed: $*"; failed=1; return; }
			echo "$r" >> /tmp/vb.$m
			cut -d' ' -f1 /tmp/vb.sw >> /tmp/vb.sw.$m
			cut -d' ' -f2 /tmp/vb.sw >> /tmp/vb.ipi.$m
		done
		for m in $modes; do
			[ $m = uaccess ] ||
				echo "$(tail -n1 /tmp/vb.$m) $(tail -n1 /tmp/vb.uaccess)" |
					awk '{ print $1 / $2 }' >> /tmp/vb.ratio.$m
		done
		i=$((i + 1))
	done
	for m in $modes; do
		echo "BENCH vhost_${name}_$m $(median < /tmp/vb.$m) $unit higher"
		echo "BENCH vhost_${name}_${m}_switches $(median < /tmp/vb.sw.$m) per_${unit%/s} lower"
		echo "BENCH vhost_${name}_${m}_resched_ipis $(median < /tmp/vb.ipi.$m) per_${unit%/s} lower"
	done
	for m in $modes; do
		[ -f /tmp/vb.ratio.$m ] &&
			echo "BENCH vhost_${name}_${m}_over_uaccess $(median < /tmp/vb.ratio.$m) ratio higher"
	done
}

for b in 1 16 64 random; do
	bench "virtio_batch_$b" buffers/s $bin/virtio_test --batch=$b --buf-num="$bufs"
done
# Each direction of one vhost_net_test run is timed apart; both come from
# separate runs here so that each keeps its own A B alternation.
bench net_rx packets/s $bin/vhost_net_test --buf-num="$pkts" --timeout=300
bench net_tx packets/s $bin/vhost_net_test --buf-num="$pkts" --timeout=300
[ -n "$(cat $param 2>/dev/null)" ] && echo Y > $param
[ -n "$(cat $kmap 2>/dev/null)" ] && echo N > $kmap
exit $failed
