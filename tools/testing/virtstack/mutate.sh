#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mutate.sh DIR RESULTS [NAME...]: the mutation checks (make mutate). Each
# mutations/NAME.patch undoes one fix in the prepared tree DIR/src; its
# header names the guest test that must catch it ("Test:"), what the guest
# kernel log or the test's own output must then show ("Expect:", an
# extended regex) and, for a race,
# how many times the usual work the test does ("Stress:", passed to the guest
# as virtstack.stress=N), more guest kernel parameters ("Cmdline:", e.g.
# oops=panic for a mutation that BUG()s in a kernel thread, where the test
# would otherwise wait out its timeout), and which patch of patches/ it
# undoes ("Undoes: NNNN", one or more). Where undoing NNNN gives back
# upstream's code, which no test can tell from it (an assertion, a
# speed-up), the mutation breaks instead what NNNN checks or argues:
# "Proves: NNNN". "Test: kunit:MODULE" boots with
# virtstack.only=kunit:MODULE: only that module's KUnit suites run.
# "Arch: arm64" marks a mutation of the arm64 lane: make mutate ARCH=arm64
# runs those (cross-build, one VHE boot of the whole arm64 guest: its
# KUnit suites and KVM selftests), make mutate the others. For each:
# apply, build incrementally, boot with virtstack.only=TEST, restore the
# tree, and pass only if the log shows the report. Without NAME, every
# mutation runs. The next ordinary build recompiles what a mutation touched.
set -eu
. "$(dirname "$0")/lib.sh"

dir=$(cd "$1" && pwd) || die "no directory $1"
out=$2
shift 2
src=$dir/src
march=${VS_ARCH:-x86_64}
[ "$march" = x86 ] && march=x86_64
# The mutations of this architecture (no Arch: line means x86_64).
of_arch()
{
	a=$(sed -n 's/^Arch: //p' "$VS_HARNESS/mutations/$1.patch")
	[ "${a:-x86_64}" = "$march" ]
}
if [ $# -eq 0 ]; then
	for m in $(cd "$VS_HARNESS/mutations" && ls *.patch | sed 's/\.patch$//'); do
		of_arch "$m" && set -- "$@" "$m"
	done
fi
caught=

# patch_numbers MUTATION: the series patches its Undoes: and Proves: lines
# name ("5001", "5001 5002", "5001, 5002"); not "upstream: ..." lines.
patch_numbers()
{
	sed -n 's/^\(Undoes\|Proves\): //p' "$1" | grep -v '^upstream' |
		tr ', ' '\n\n' | grep -E '^[0-9]{4}$' || :
}

row()
{
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$out"
}

for name; do
	mut=$VS_HARNESS/mutations/$name.patch
	[ -f "$mut" ] || die "no mutation $name: the mutations are $(cd "$VS_HARNESS/mutations" && ls | sed 's/\.patch$//' | paste -sd' ')"
	test=$(sed -n 's/^Test: //p' "$mut")
	expect=$(sed -n 's/^Expect: //p' "$mut")
	stress=$(sed -n 's/^Stress: //p' "$mut")
	cmdline=$(sed -n 's/^Cmdline: //p' "$mut")
	undoes=$(sed -n 's/^Undoes: //p' "$mut")
	proves=$(sed -n 's/^Proves: //p' "$mut")
	[ -n "$test" ] && [ -n "$expect" ] || die "$mut lacks its Test: or Expect: line"
	[ -n "$undoes$proves" ] ||
		die "$mut lacks its Undoes: line (the patch number it reverts) or Proves: line"
	of_arch "$name" || die "mutation $name is not for ARCH=$march: run make mutate ARCH=$(sed -n 's/^Arch: //p' "$mut" | grep . || echo x86_64) MUTATION=$name"
	label="mutation $name: $test reports it"
	if [ "$march" = arm64 ]; then
		info "mutation $name: applying, building, booting the whole arm64 guest (VHE)"
	else
		info "mutation $name: applying, building, booting with virtstack.only=$test"
	fi
	git -C "$src" apply "$mut" ||
		{ row "$label" 0 1 0; warn "$mut does not apply to $src: refresh it"; continue; }
	run=$dir/run-mutate-$name
	rm -rf "$run"
	built= ok=
	if [ "$march" = arm64 ]; then
		if "$VS_HARNESS/arm64.sh" build "$dir"; then
			built=1
			VS_RUN=$run GUEST_TIMEOUT=${GUEST_TIMEOUT:-900} \
				GUEST_CMDLINE="${GUEST_CMDLINE:-}${cmdline:+ $cmdline}" \
				"$VS_HARNESS/arm64.sh" boot "$dir" vhe > /dev/null &&
				[ "$(cat "$run/rc" 2>/dev/null)" = 0 ] && ok=1
		fi
	elif "$VS_HARNESS/build.sh" "$dir" && "$VS_HARNESS/mkinitramfs.sh" "$dir"; then
		built=1
		VS_RUN=$run GUEST_TIMEOUT=${GUEST_TIMEOUT:-900} \
			GUEST_CMDLINE="${GUEST_CMDLINE:-} virtstack.only=$test${stress:+ virtstack.stress=$stress}${cmdline:+ $cmdline}" \
			"$VS_HARNESS/boot.sh" "$dir" test > /dev/null && ok=1
	fi
	git -C "$src" apply -R "$mut" || die "could not restore $src after mutation $name: run 'make prepare'"
	if [ -z "$built" ]; then
		row "$label" 0 1 0
		warn "mutation $name: the mutated kernel did not build"
	elif cat "$run/console.log" "$run/results.log" 2>/dev/null | grep -Eq "$expect"; then
		# Caught, also when the mutated kernel crashed the way it names.
		row "$label" 1 0 0
		caught="$caught $(patch_numbers "$mut")"
		cat "$run/console.log" "$run/results.log" 2>/dev/null |
			grep -Em1 "$expect" | sed 's/^/  caught: /'
		[ -n "$ok" ] || echo "  (the guest did not finish: $run/console.log)"
	elif [ -z "$ok" ]; then
		row "$label" 0 1 0
		warn "mutation $name: the mutated guest did not boot or finish, and shows no /$expect/"
	else
		row "$label" 0 1 0
		echo "  mutation $name survived: neither $run/console.log nor results.log has /$expect/"
	fi
done

# Coverage: every patch of the series that changes kernel code (C files
# outside tools/ and the KUnit suites), whether a mutation undoes or proves
# it, and whether one that does was caught in this run.
echo "mutation coverage (patch: undone or proved by / caught in this run):"
for p in $(vs_series); do
	n=$(echo "$p" | grep -oE '^[0-9]{4}') || continue
	grep '^+++ b/' "$VS_TOP/patches/$p" | sed 's#^+++ b/##' | grep -E '\.(c|h)$' |
		grep -v '^tools/' | grep -vq kunit || continue
	by=$(for m in "$VS_HARNESS"/mutations/*.patch; do
		patch_numbers "$m" | grep -qx "$n" && basename "$m" .patch
	     done | paste -sd' ')
	if echo " $caught " | grep -q " $n "; then
		c=yes
	elif [ -n "$by" ]; then
		c="not run or survived"
	else
		c=-
	fi
	printf '  %s  %-60.60s %s / %s\n' "$n" "${by:-no mutation}" "$c" "${p#????-}" | cut -c1-150
done
