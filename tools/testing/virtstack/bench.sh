#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: the benchmarks of bench/ on the baseline kernel (A) and the stack
# kernel (B), both without the debug options, booted alternately A B A B
# (ROUNDS pairs, default 2). Prints each metric's median per kernel and the
# B/A ratio, and writes them as JSON to $BUILD/bench/results.json.
# Benchmarks never pass or fail; a boot that reports nothing is an error.
#
# ICOUNT=1 boots with -icount shift=0,sleep=off (single-threaded TCG): guest
# time then counts executed instructions, a reproducible proxy for cost that
# is blind to what an instruction costs on hardware (SMAP, fences).
# Each boot's figures must then agree within 2% across the rounds: the
# spread column ((max - min) / median, per kernel) says whether they do.
# BENCH=NAME runs only bench/NAME (BENCH=NAME,NAME,... those); KERNELS=stack
# skips the baseline kernel,
# for benchmarks that compare within one boot (page_reporting: on vs off).
# VS_ARCH=arm64 (make bench ARCH=arm64): the arm64 kernels instead, with
# lock statistics (configs/lockstat.config), booted at EL2, running
# guest-arm64/bench-list; the KVM selftests come from the stack tree for both.
set -eu
. "$(dirname "$0")/lib.sh"

BUILD=${BUILD:-$VS_TOP/build}
rounds=${ROUNDS:-2}
out=$BUILD/bench
mkdir -p "$out"
rm -f "$out"/*.log

if [ "${ICOUNT:-}" = 1 ]; then
	[ "${VS_ARCH:-x86_64}" = x86_64 ] || die "ICOUNT=1 is for the x86_64 benchmarks"
	export VS_QEMU_ARGS="${VS_QEMU_ARGS:-} -accel tcg,thread=single -icount shift=0,sleep=off"
	GUEST_CMDLINE="${GUEST_CMDLINE:-} virtstack.icount=1"
	export GUEST_CMDLINE
fi

kernels=${KERNELS:-baseline stack}
for m in $kernels; do
	case $m in baseline|stack) ;; *) die "KERNELS=$KERNELS: say baseline, stack or both" ;; esac
done
nk=$(echo $kernels | wc -w)
arch=${VS_ARCH:-x86_64}
if [ -n "${BENCH:-}" ]; then
	[ "$arch" != arm64 ] || [ "$(echo "$BENCH" | tr ',' ' ' | wc -w)" = 1 ] ||
		die "BENCH=$BENCH: the arm64 guest runs one benchmark or all; name one"
	for b in $(echo "$BENCH" | tr ',' ' '); do
		if [ "$arch" = arm64 ]; then
			grep -q "^$b " "$VS_HARNESS/guest-arm64/bench-list" ||
				die "BENCH=$BENCH: no arm64 benchmark $b; there are: $(sed -n \
					's/^\([a-z_0-9]*\) .*/\1/p' "$VS_HARNESS/guest-arm64/bench-list" |
					tr '\n' ' ')"
		else
			ls "$VS_HARNESS/bench/$b".* > /dev/null 2>&1 ||
				die "BENCH=$BENCH: no benchmark $b; there are: $(ls "$VS_HARNESS/bench" |
					sed 's/\..*//' | tr '\n' ' ')"
		fi
	done
	GUEST_CMDLINE="${GUEST_CMDLINE:-} virtstack.only=$(echo "$BENCH" | tr ' ' ',')"
	export GUEST_CMDLINE
fi

# The arm64 benchmarks run the stack tree's KVM selftests on both kernels.
[ "$arch" != arm64 ] || "$VS_HARNESS/prepare.sh" stack "$BUILD/stack"

n=0
total=$((nk * 2 + nk * rounds))
for m in $kernels; do
	n=$((n + 1))
	step "$n" "$total" "preparing the $m tree"
	"$VS_HARNESS/prepare.sh" "$m" "$BUILD/$m"
	d=$BUILD/bench-$m
	mkdir -p "$d"
	ln -sfn "$BUILD/$m/src" "$d/src"
	cp "$BUILD/$m/stack.stamp" "$d/stack.stamp"
	n=$((n + 1))
	if [ "$arch" = arm64 ]; then
		step "$n" "$total" "building the arm64 $m kernel (lock statistics, no KASAN)"
		VS_FRAGS="arm64 lockstat" VS_KST_SRC=$BUILD/stack/src \
			"$VS_HARNESS/arm64.sh" build "$d"
		continue
	fi
	step "$n" "$total" "building the $m kernel (no debug options)"
	VS_FRAGS="base kunit" "$VS_HARNESS/build.sh" "$d"
	BENCH=1 "$VS_HARNESS/mkinitramfs.sh" "$d"
done

r=0
while [ "$r" -lt "$rounds" ]; do
	r=$((r + 1))
	for m in $kernels; do
		n=$((n + 1))
		step "$n" "$total" "round $r: benchmarks on the $m kernel"
		if [ "$arch" = arm64 ]; then
			GUEST_CMDLINE="${GUEST_CMDLINE:-} virtstack.mode=bench" \
				"$VS_HARNESS/arm64.sh" boot "$BUILD/bench-$m" vhe
			run=$BUILD/bench-$m/run-arm64-vhe
		else
			"$VS_HARNESS/boot.sh" "$BUILD/bench-$m" bench
			run=$BUILD/bench-$m/run
		fi
		grep -q '^@@VS done' "$run/results.log" ||
			die "the $m guest did not finish its benchmarks; log: $run/console.log"
		! grep -q '^@@VS end bench .* [1-9][0-9]*$' "$run/results.log" ||
			die "a benchmark failed on the $m kernel: $(grep '^@@VS end bench .* [1-9]' \
				"$run/results.log" | cut -d' ' -f4 | tr '\n' ' ')(its output: $run/results.log)"
		grep '^BENCH ' "$run/results.log" > "$out/$m-$r.log" ||
			die "the $m guest reported no benchmark figures (only stack-only benchmarks? add KERNELS=stack)"
	done
done

# metric, kernel, value, unit, direction -> medians and ratio.
for f in "$out"/*-*.log; do
	k=${f##*/}
	k=${k%-*.log}
	awk -v k="$k" '{ print $2, k, $3, $4, $5 }' "$f"
done | LC_ALL=C sort -k1,1 -k2,2 -k3,3g | awk -v json="$out/results.json" -v icount="${ICOUNT:-0}" '
function median(arr, n) { return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2 }
# (max - min) / median over one kernel'"'"'s runs (sorted), in percent
function spread(arr, n, md) { return (n > 1 && md + 0) ? sprintf("%.1f", 100 * (arr[n] - arr[1]) / md) : "-" }
{
	key = $1 SUBSEP $2; v[key, ++cnt[key]] = $3; unit[$1] = $4; dir[$1] = $5
	if (!($1 in seen)) { seen[$1] = 1; order[++nm] = $1 }
}
END {
	printf "\n%-56s %15s %14s %10s  %s\n", "metric", "A: baseline", "B: stack", "B/A", "(runs A/B, better, spread % A/B)"
	printf "{\n  \"metrics\": [" > json
	for (i = 1; i <= nm; i++) {
		m = order[i]
		na = cnt[m SUBSEP "baseline"]; nb = cnt[m SUBSEP "stack"]
		split("", a); split("", b)
		for (j = 1; j <= na; j++) a[j] = v[m SUBSEP "baseline", j]
		for (j = 1; j <= nb; j++) b[j] = v[m SUBSEP "stack", j]
		ma = na ? sprintf("%.3f", median(a, na)) : "null"
		mb = nb ? sprintf("%.3f", median(b, nb)) : "null"
		ratio = (na && nb && ma + 0) ? sprintf("%.4f", mb / ma) : "null"
		sa = spread(a, na, ma); sb = spread(b, nb, mb)
		if ((sa != "-" && sa + 0 > 2) || (sb != "-" && sb + 0 > 2)) wide = wide " " m
		printf "%-56s %10s %-4s %9s %-4s %10s  (%d/%d, %s, %s/%s)\n", m, ma, unit[m], mb, unit[m], ratio, na, nb, dir[m], sa, sb
		printf "%s\n    {\"metric\": \"%s\", \"unit\": \"%s\", \"better\": \"%s\", \"baseline_median\": %s, \"stack_median\": %s, \"ratio\": %s, \"runs\": [%d, %d], \"spread_pct\": [\"%s\", \"%s\"]}", (i > 1 ? "," : ""), m, unit[m], dir[m], ma, mb, ratio, na, nb, sa, sb >> json
	}
	printf "\n  ]\n}\n" >> json
	if (icount == 1)
		printf "\nicount: %s\n", wide == "" ? "every metric agrees within 2% across its boots" : \
			"these metrics spread more than 2% across their boots (not instruction-bound):" wide
}'
info "figures: $out/results.json (raw: $out/*.log)"
