#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run.sh STAGE...: the harness driver behind 'make' and 'make check'.
# Stages, run in the order given, each as numbered steps:
#   static  checkpatch.pl --strict on every patch and new file, and the
#           stack's Coccinelle check on the paths converted to FOLL_PIN
#   kunit   tools/testing/kunit/kunit.py run with the stack's kunitconfig
#   guest   prepare the tree, build, sparse/W=1 on what the stack touches
#           (with 'static'), initramfs, boot the guest, read the verdict;
#           then the poison matrix: page_reporting_poison alone in three
#           more boots, with poisoned or zeroed free pages; then upstream's
#           hmm-tests alone in one more boot (guest/upstream/)
#   kunit-arm64  kunit.py run --arch=arm64 with the arm64 kunitconfig
#   arm64   cross-build for arm64, boot it at EL2 under qemu-system-aarch64
#           twice (KVM in VHE, then nVHE mode), run the KVM selftests of
#           guest-arm64/list in nested guests, read both verdicts
#   mutate  the mutation checks (make mutate): each of mutations/*.patch
#           (or $MUTATION) undoes a fix; its guest test must report it
# Every stage leaves result rows in $BUILD/results; the summary prints them
# and the closing "N passed, N failed" line, and fails on any failure.
set -eu
. "$(dirname "$0")/lib.sh"

BUILD=${BUILD:-$VS_TOP/build}
MODE=${MODE:-stack}
TREE=$BUILD/$MODE
results=$BUILD/results
rm -rf "$results"
mkdir -p "$results"

has()
{
	case " $STAGES " in *" $1 "*) return 0 ;; esac
	return 1
}

STAGES=" $* "
total=1							# prepare
has static && total=$((total + 2))			# checkpatch, coccinelle
has static && has guest && total=$((total + 2))		# sparse, kselftest, after the build
has kunit && total=$((total + 1))
has guest && total=$((total + 6))			# build, initramfs, boot, verdict, matrix, upstream
has kunit-arm64 && total=$((total + 1))
has arm64 && total=$((total + 3))			# build, VHE boot, nVHE boot
has mutate && total=$((total + 1))
n=0
next()
{
	n=$((n + 1))
	step "$n" "$total" "$1"
}

row()
{
	printf '%s\t%s\t%s\t%s\n' "$2" "$3" "$4" "$5" >> "$results/$1.tsv"
}

# The poison matrix: NAME, guest command line, balloon properties.
matrix()
{
	for c in "init_on_free init_on_free=1 free-page-reporting=on" \
		"page_poison page_poison=1 free-page-reporting=on" \
		"page_poison,no-PAGE_POISON page_poison=1 free-page-reporting=on,page-poison=off"; do
		set -- $c
		info "poison matrix: $2, balloon $3"
		if VS_RUN=$TREE/run-$1 VS_BALLOON=$3 GUEST_TIMEOUT=300 \
			GUEST_CMDLINE="${GUEST_CMDLINE:-} $2 virtstack.only=page_reporting_poison" \
			"$VS_HARNESS/boot.sh" "$TREE" test > /dev/null; then
			VS_RUN=$TREE/run-$1 VS_LABEL="poison matrix, $1: " \
				"$VS_HARNESS/verdict.sh" "$TREE" "$results/45-poison-$1.tsv" ||
				row "45-poison-$1" "poison matrix, $1: verdict" 0 1 0
		else
			row "45-poison-$1" "poison matrix, $1: boot" 0 1 0
		fi
	done
}

# Upstream's own selftests, each alone in a boot (guest/upstream/).
upstream()
{
	for t in hmm-tests; do
		info "upstream's $t, in a boot of its own"
		if VS_RUN=$TREE/run-$t GUEST_TIMEOUT=900 \
			GUEST_CMDLINE="${GUEST_CMDLINE:-} virtstack.only=$t" \
			"$VS_HARNESS/boot.sh" "$TREE" test > /dev/null; then
			VS_RUN=$TREE/run-$t VS_LABEL="upstream $t: " \
				"$VS_HARNESS/verdict.sh" "$TREE" "$results/46-upstream-$t.tsv" ||
				row "46-upstream-$t" "upstream $t: verdict" 0 1 0
		else
			row "46-upstream-$t" "upstream $t: boot" 0 1 0
		fi
	done
}

prepared=
prepare()
{
	[ "$prepared" = ok ] && return 0
	[ "$prepared" = failed ] && return 1
	next "preparing the $MODE tree (${KSRC:-Debian linux-source-6.12})"
	if "$VS_HARNESS/prepare.sh" "$MODE" "$TREE"; then
		prepared=ok
		return 0
	fi
	prepared=failed
	row 00-prepare "prepare: $MODE tree" 0 1 0
	return 1
}

prepare || true

if has static && [ "$prepared" = ok ]; then
	next "checkpatch.pl --strict on patches and new files"
	"$VS_HARNESS/static.sh" checkpatch "$results/10-checkpatch.tsv" ||
		row 10-checkpatch "checkpatch: could not run" 0 1 0
	next "coccinelle: no FOLL_GET page references left in the converted paths"
	"$VS_HARNESS/static.sh" coccinelle "$results/11-coccinelle.tsv" ||
		row 11-coccinelle "coccinelle: could not run" 0 1 0
	"$VS_HARNESS/static.sh" kconfig "$results/12-kconfig.tsv" ||
		row 12-kconfig "kconfig: could not run" 0 1 0
fi

if has kunit && prepare; then
	next "kunit.py run --arch=x86_64 (log: $BUILD/kunit.log)"
	"$VS_HARNESS/kunit.sh" "$TREE/src" "$results/20-kunit.tsv" ||
		[ -s "$results/20-kunit.tsv" ] || row 20-kunit "kunit.py: run" 0 1 0
fi

if has guest && prepare; then
	next "building the $MODE kernel and modules"
	if "$VS_HARNESS/build.sh" "$TREE"; then
		row 30-build "build: $MODE kernel and modules" 1 0 0
		if has static; then
			next "sparse and W=1 on the files the stack adds or patches"
			"$VS_HARNESS/static.sh" sparse "$results/31-sparse.tsv" "$TREE" ||
				row 31-sparse "sparse: could not run" 0 1 0
			next "the guest tests as a kselftest target, on the stack and on unpatched 6.12"
			"$VS_HARNESS/static.sh" kselftest "$results/32-kselftest.tsv" "$TREE" ||
				row 32-kselftest "kselftest: could not run" 0 1 0
		fi
		next "building the initramfs"
		if "$VS_HARNESS/mkinitramfs.sh" "$TREE"; then
			next "booting the guest under qemu (TCG), loading modules, running tests"
			"$VS_HARNESS/boot.sh" "$TREE" test ||
				row 39-boot "boot: qemu could not start" 0 1 0
			next "reading the guest's verdict"
			"$VS_HARNESS/verdict.sh" "$TREE" "$results/40-guest.tsv" ||
				row 41-verdict "verdict: could not read the guest's results" 0 1 0
			info "full guest log: $TREE/run/console.log"
			next "free page reporting with poisoned or zeroed free pages (3 boots)"
			matrix
			next "upstream's own selftests, each in a boot of its own (hmm-tests)"
			upstream
		else
			row 35-initramfs "initramfs" 0 1 0
		fi
	else
		row 30-build "build: $MODE kernel and modules" 0 1 0
	fi
fi

if has kunit-arm64 && prepare; then
	next "kunit.py run --arch=arm64 (log: $BUILD/kunit-arm64.log)"
	"$VS_HARNESS/kunit.sh" "$TREE/src" "$results/50-kunit-arm64.tsv" arm64 ||
		[ -s "$results/50-kunit-arm64.tsv" ] || row 50-kunit-arm64 "kunit.py arm64: run" 0 1 0
fi

# arm64_boot MODE: one boot of the arm64 guest and its verdict; KVM must
# have come up in that mode, or every KVM selftest would only skip.
arm64_boot()
{
	next "arm64: booting at EL2 under qemu-system-aarch64 (TCG), KVM in $1 mode"
	"$VS_HARNESS/arm64.sh" boot "$TREE" "$1" ||
		{ row "61-arm64-$1" "arm64 $1: boot: qemu could not start" 0 1 0; return 0; }
	VS_RUN=$TREE/run-arm64-$1 VS_LABEL="arm64 $1: " VS_NO_MODULES=1 \
		"$VS_HARNESS/verdict.sh" "$TREE" "$results/61-arm64-$1.tsv" ||
		row "61-arm64-$1" "arm64 $1: verdict: could not read the guest's results" 0 1 0
	# The built-in suite runs at boot, at EL2 (a tree without the stack
	# has none).
	if [ "$MODE" = stack ]; then
		grep -q '^@@VS begin kunit vgic_its$' "$TREE/run-arm64-$1/results.log" 2>/dev/null ||
			row "61-arm64-$1" "arm64 $1: kunit: vgic_its did not run at boot" 0 1 0
	fi
	case "$1" in
	vhe) pat='kvm \[1\]: VHE mode initialized successfully' ;;
	nvhe) pat='kvm \[1\]: Hyp nVHE mode initialized successfully' ;;
	esac
	if grep -q "$pat" "$TREE/run-arm64-$1/console.log" 2>/dev/null; then
		row "61-arm64-$1" "arm64 $1: check: KVM initialised in $1 mode" 1 0 0
	else
		echo "  arm64 $1: the kernel log lacks '$pat': KVM did not come up in $1 mode"
		row "61-arm64-$1" "arm64 $1: check: KVM initialised in $1 mode" 0 1 0
	fi
	info "full arm64 $1 guest log: $TREE/run-arm64-$1/console.log"
}

if has arm64 && prepare; then
	next "arm64: cross-building the $MODE kernel, KVM selftests and initramfs"
	if "$VS_HARNESS/arm64.sh" build "$TREE"; then
		row 60-arm64-build "arm64: build: $MODE kernel, KVM selftests, initramfs" 1 0 0
		arm64_boot vhe
		arm64_boot nvhe
	else
		row 60-arm64-build "arm64: build: $MODE kernel, KVM selftests, initramfs" 0 1 0
	fi
fi

if has mutate && prepare; then
	next "mutation checks: each undoes a fix, and its test must report it"
	"$VS_HARNESS/mutate.sh" "$TREE" "$results/70-mutate.tsv" ${MUTATION:-} ||
		row 70-mutate "mutations: could not run" 0 1 0
fi

set -- "$results"/*.tsv
[ -f "$1" ] || { echo "nothing ran"; echo "0 passed, 1 failed"; exit 1; }
exec "$VS_HARNESS/summary.sh" "$@"
