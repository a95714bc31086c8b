#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# static.sh checkpatch OUT       checkpatch.pl --strict on every patch of the
#                                series and every new C file (kernel and guest)
# static.sh sparse OUT TREE      sparse (C=2) and W=1 on every compiled file the
#                                stack adds or patches, in TREE's build; what
#                                the guest does not build (drivers for
#                                hardware it lacks), in a build-only
#                                configuration (configs/consumers.config);
#                                arch/arm64/ in the arm64 guest's
#                                configuration (cross-built); a .c file
#                                another #includes, through that file
# static.sh coccinelle OUT       scripts/coccinelle/api/get_pages_put_page.cocci
#                                on the paths the stack converted to FOLL_PIN
# static.sh kselftest OUT TREE   the guest tests as a kselftest target: through
#                                the tree's selftests Makefile (TARGETS=
#                                virtstack), and against the unpatched tree's
#                                selftests and lib/ headers, where each must
#                                build (make BASELINE=1 runs them there)
# static.sh kconfig OUT          olddefconfig of small configurations (EXPERT,
#                                no VM_EVENT_COUNTERS, no MEMCG): options of the
#                                stack that cannot build there are not offered
# One result row per file in OUT.
set -eu
. "$(dirname "$0")/lib.sh"

what=$1
out=$2
: > "$out"

row()
{
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$out"
}

# The kernel tree's scripts: the prepared stack tree, or KSRC's.
ksrc=${3:-${BUILD:-$VS_TOP/build}/${MODE:-stack}}/src
[ -f "$ksrc/scripts/checkpatch.pl" ] || ksrc=${KSRC:-}
[ -n "$ksrc" ] && [ -f "$ksrc/scripts/checkpatch.pl" ] ||
	die "no kernel tree with scripts/checkpatch.pl yet: run 'make prepare' first"

case "$what" in
checkpatch)
	need perl perl
	# Run from the kernel tree: inside this git repository checkpatch
	# would take a patch's path for a file of the tree.
	files=$( (vs_series | sed "s|^|$VS_TOP/patches/|"; vs_overlay | grep -E '\.[ch]$' | sed "s|^|$VS_TOP/|"
		ls "$VS_HARNESS"/bench/*.c "$VS_HARNESS"/guest/bin/*.c \
			"$VS_HARNESS"/guest-arm64/*.c 2>/dev/null) )
	cd "$ksrc"
	for f in $files; do
		case "$f" in
		*.patch) key=${f##*/} args= ;;
		*) key=${f#"$VS_TOP"/} args=-f ;;
		esac
		# Exceptions for one patch or file, each with its reason:
		# patches/checkpatch-ignore
		args="$args $(sed -e 's/#.*//' "$VS_TOP/patches/checkpatch-ignore" 2>/dev/null |
			awk -v p="$key" '$1 == p { print "--ignore", $2 }')"
		# MISSING_SIGN_OFF: the stack's patches carry no Signed-off-by
		# (only a real person can give one); make series adds the
		# submitter's (SIGNOFF=).
		if log=$(perl "$ksrc/scripts/checkpatch.pl" --strict --quiet \
				--ignore FILE_PATH_CHANGES,MISSING_SIGN_OFF $args "$f" 2>&1); then
			row "checkpatch: ${f#"$VS_TOP"/}" 1 0 0
		else
			printf '%s\n' "$log" | head -n 30 | sed 's/^/  /'
			row "checkpatch: ${f#"$VS_TOP"/}" 0 1 0
		fi
	done
	;;
sparse)
	need sparse sparse
	tree=$(cd "$3" && pwd)
	obj=$tree/obj
	cd "$VS_TOP"
	files=$( (vs_series | while read -r p; do
			sed -n 's|^+++ b/||p' "patches/$p"
		done; vs_overlay) | grep -E '^[^/]+/.*\.c$' | grep -v -e '^tools/' -e '^drivers/gpu/drm/amd/' | LC_ALL=C sort -u)
	known=$obj/sparse-upstream.list
	sed -e '/^#/d' -e '/^$/d' "$VS_HARNESS/sparse-upstream" > "$known"
	cobj=$tree/obj-consumers
	for f in $files; do
		o=${f%.c}.o
		# KVM's common code is built from the architecture's directory,
		# with the rest of KVM: keep only this file's reports.
		case $f in
		virt/kvm/*) target=arch/x86/kvm/ only=$f: ;;
		*) target=$o only= ;;
		esac
		# A KUnit suite of static helpers is #included by the file it
		# tests and compiled only there: check it through that file.
		inc=$(grep -l "^#include \"${f##*/}\"" "$tree/src/${f%/*}"/*.c 2>/dev/null |
			grep -v "/${f##*/}\$" | head -n 1 || true)
		if [ -n "$inc" ]; then
			target=${inc#"$tree/src/"}
			target=${target%.c}.o
			only=${f##*/}:
		fi
		VS_OBJ=$obj
		VS_ARCH=x86_64
		if [ "${f#arch/arm64/}" != "$f" ]; then
			if [ -z "${adone:-}" ]; then
				"$VS_HARNESS/arm64.sh" config "$tree" ||
					die "the arm64 configuration failed: configs/arm64.config"
				adone=1
			fi
			info "sparse: $f is arm64 code; cross-built in $tree/obj-arm64"
			VS_OBJ=$tree/obj-arm64
			VS_ARCH=arm64
			# The first build there also makes the vDSO: only this
			# file's reports count.
			only=${only:-$f:}
		elif [ ! -f "$obj/$o" ] && [ ! -f "$obj/$target" ]; then
			# Not in the guest: the build-only configuration (build.sh
			# redoes it only when a fragment or the tree changed).
			if [ -z "${cdone:-}" ]; then
				VS_OBJ=$cobj VS_FRAGS="base kunit consumers" "$VS_HARNESS/build.sh" "$tree" config ||
					die "the build-only configuration failed: configs/consumers.config"
				cdone=1
			fi
			info "sparse: $f is not in the guest; built in $cobj"
			VS_OBJ=$cobj
		fi
		export VS_OBJ VS_ARCH
		if ! log=$(vs_kmake "$tree" C=2 W=1 "$target" 2>&1); then
			printf '%s\n' "$log" | tail -n 20 | sed 's/^/  /'
			row "sparse/W=1: $f (make failed)" 0 1 0
			continue
		fi
		# What unpatched 6.12 already reports does not count (sparse-upstream).
		new=$(printf '%s\n' "$log" | grep -E "(warning|error):" | grep -F "$only" |
			sed -e "s|^$tree/src/||" -e 's|^arch/x86/kvm/\.\./\.\./\.\./||' \
			    -e 's|^\([^:]*\):[0-9]*:[0-9]*: |\1: |' |
			grep -vxF -f "$known" || true)
		if [ -n "$new" ]; then
			printf '%s\n' "$new" | head -n 20 | sed 's/^/  /'
			row "sparse/W=1: $f" 0 1 0
		else
			row "sparse/W=1: $f" 1 0 0
		fi
	done
	;;
coccinelle)
	need spatch coccinelle
	cocci=$ksrc/scripts/coccinelle/api/get_pages_put_page.cocci
	[ -f "$cocci" ] || die "$cocci missing: the stack tree is not prepared"
	# The direct I/O paths the series converted; nothing there may take
	# page references for I/O any more. What the script reports elsewhere
	# is listed in Documentation/virtstack/pinning.rst.
	cd "$ksrc"
	for t in fs/nfs net/9p drivers/vhost fs/ceph/file.c fs/fuse; do
		if [ ! -e "$t" ]; then
			row "coccinelle: $t" 0 1 0
			info "coccinelle: $t does not exist in $ksrc"
			continue
		fi
		if ! log=$(spatch -D report --very-quiet --no-includes --include-headers \
				--cocci-file "$cocci" "$t" 2>&1); then
			printf '%s\n' "$log" | tail -n 20 | sed 's/^/  /'
			row "coccinelle: $t (spatch failed)" 0 1 0
		elif printf '%s\n' "$log" | grep -q 'FOLL_GET'; then
			printf '%s\n' "$log" | grep 'FOLL_GET' | sed 's/^/  /'
			row "coccinelle: $t" 0 1 0
		else
			row "coccinelle: $t" 1 0 0
		fi
	done
	;;
kselftest)
	tree=${3:?static.sh kselftest needs TREE}
	obj=$tree/obj
	[ -d "$obj/usr/include" ] || die "no exported headers in $obj/usr/include: build the tree first"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# MAKEFLAGS of the harness's make (BUILD=, ...) must not reach them.
	if env -u MAKEFLAGS -u MAKEOVERRIDES -u MFLAGS make -C "$tree/src/tools/testing/selftests" TARGETS=virtstack O="$tmp/o" \
		USERCFLAGS=-Werror KHDR_INCLUDES="-isystem $obj/usr/include" \
		> "$tmp/log" 2>&1 && [ -x "$tmp/o/kselftest/virtstack/mmu_notifier_events" ]; then
		row "kselftest: make -C tools/testing/selftests TARGETS=virtstack" 1 0 0
	else
		tail -n 20 "$tmp/log" | sed 's/^/  /'
		row "kselftest: make -C tools/testing/selftests TARGETS=virtstack" 0 1 0
	fi
	# The unpatched tree: its selftests and lib/test_hmm_uapi.h, with the
	# stack's tests dropped in (what 'make BASELINE=1' builds). The stack
	# changes no header under include/uapi, so the exported ones serve.
	mkdir -p "$tmp/base/out"
	git -C "$tree/src" archive pristine tools/testing/selftests/lib.mk \
		tools/testing/selftests/kselftest.h tools/testing/selftests/kselftest_harness.h \
		lib/test_hmm_uapi.h | tar -C "$tmp/base" -xf -
	cp -r "$VS_TOP/tools/testing/selftests/virtstack" "$tmp/base/tools/testing/selftests/"
	if env -u MAKEFLAGS -u MAKEOVERRIDES -u MFLAGS make -C "$tmp/base/tools/testing/selftests/virtstack" OUTPUT="$tmp/base/out" \
		USERCFLAGS=-Werror KHDR_INCLUDES="-isystem $obj/usr/include" \
		> "$tmp/log" 2>&1; then
		row "kselftest: the tests build against unpatched 6.12" 1 0 0
	else
		tail -n 20 "$tmp/log" | sed 's/^/  /'
		row "kselftest: the tests build against unpatched 6.12" 0 1 0
	fi
	;;
kconfig)
	# Configurations a distribution or a small system may use, where an
	# option of the stack must not be offered: each row is a fragment and
	# the option that must end up unset after olddefconfig.
	obj=$(mktemp -d)
	trap 'rm -rf "$obj"' EXIT
	printf '%s\n' CONFIG_EXPERT=y '# CONFIG_VM_EVENT_COUNTERS is not set' \
		'# CONFIG_MEMCG is not set' CONFIG_KUNIT=y CONFIG_VIRTSTACK=y \
		CONFIG_VIRTSTACK_KUNIT_TESTS=y CONFIG_PCI=y CONFIG_VIRTIO_MENU=y \
		CONFIG_VIRTIO_PCI=y CONFIG_VIRTIO_BALLOON=y CONFIG_PAGE_REPORTING=y \
		CONFIG_PAGE_REPORTING_KUNIT_TEST=y > "$obj/frag"
	if (cd "$ksrc" && make -s O="$obj/o" ARCH=x86_64 allnoconfig &&
	    scripts/kconfig/merge_config.sh -m -O "$obj/o" "$obj/o/.config" "$obj/frag" &&
	    make -s O="$obj/o" ARCH=x86_64 olddefconfig) > "$obj/log" 2>&1; then
		if grep -q '^CONFIG_PAGE_REPORTING_KUNIT_TEST=' "$obj/o/.config"; then
			echo "  PAGE_REPORTING_KUNIT_TEST is offered without VM_EVENT_COUNTERS and MEMCG:"
			echo "  the suite then fails to build (vm_event_name() is not declared)"
			row "kconfig: page_reporting KUnit needs the event counters" 0 1 0
		else
			row "kconfig: page_reporting KUnit needs the event counters" 1 0 0
		fi
	else
		tail -n 20 "$obj/log" | sed 's/^/  /'
		row "kconfig: EXPERT, no VM_EVENT_COUNTERS, no MEMCG (olddefconfig failed)" 0 1 0
	fi
	;;
*)
	die "static.sh: unknown check '$what'"
	;;
esac
