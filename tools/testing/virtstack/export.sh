#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# export.sh apply         apply the stack in place to $KSRC (files + series)
# export.sh series DIR    the stack as a numbered git format-patch series with
#                         a cover letter, new files included, for git am
# export.sh bisect        build the x86_64 tree after each commit in turn
set -eu
. "$(dirname "$0")/lib.sh"

BUILD=${BUILD:-$VS_TOP/build}
TREE=$BUILD/stack

case "$1" in
apply)
	[ -n "${KSRC:-}" ] || die "make apply needs KSRC=<your 6.12.y tree>"
	[ -f "$KSRC/Makefile" ] || die "KSRC=$KSRC is not a kernel tree"
	case "$(kversion "$KSRC")" in
	6.12.*) ;;
	*) die "KSRC=$KSRC is Linux $(kversion "$KSRC"), not 6.12.y" ;;
	esac
	[ "$(kversion "$KSRC")" = "$VS_VERIFIED" ] ||
		warn "KSRC is $(kversion "$KSRC"); the series was last verified on $VS_VERIFIED"
	[ -e "$KSRC/Kconfig.virtstack" ] && die "KSRC=$KSRC already has the stack (Kconfig.virtstack exists)"
	need patch patch
	for f in $(vs_overlay); do
		[ -e "$KSRC/$f" ] && die "KSRC already has $f; refusing to overwrite it"
	done
	applied=
	for p in $(vs_series); do
		if ! out=$(patch -d "$KSRC" -p1 -F0 -N --no-backup-if-mismatch -r - \
				< "$VS_TOP/patches/$p" 2>&1); then
			printf '%s\n' "$out" | sed 's/^/  /' >&2
			for r in $applied; do
				patch -d "$KSRC" -p1 -R -s --no-backup-if-mismatch < "$VS_TOP/patches/$r" ||
					warn "could not take back patches/$r: $KSRC is left with it applied"
			done
			die "patches/$p does not apply to $KSRC (the file and hunk are named above); the earlier patches were taken back, $KSRC is as it was"
		fi
		applied="$p $applied"
	done
	for f in $(vs_overlay); do
		mkdir -p "$KSRC/$(dirname "$f")"
		cp "$VS_TOP/$f" "$KSRC/$f"
	done
	cp "$VS_TOP/Kconfig" "$KSRC/Kconfig.virtstack"
	info "applied $(vs_series | wc -l) patches and $(vs_overlay | wc -l) new files to $KSRC"
	info "enable CONFIG_VIRTSTACK and its options (menuconfig: 'virtstack'), then build as usual"
	;;
series)
	out=${2:-}
	[ -n "$out" ] || die "make series needs OUT=<directory>"
	# A Signed-off-by certifies the Developer's Certificate of Origin: only
	# the person who submits the series can give it, so the stack's own
	# patches carry none and the export adds the submitter's.
	signoff=${SIGNOFF:-}
	name=${signoff% <*}
	mail=$(echo "$signoff" | sed -n 's/^[^<]*<\([^>]*@[^>]*\)>$/\1/p')
	[ -n "$signoff" ] && [ -n "$mail" ] && [ "$name" != "$signoff" ] ||
		die "make series needs SIGNOFF=\"Your Name <you@example.org>\": the Signed-off-by that certifies the Developer's Certificate of Origin (Documentation/process/submitting-patches.rst) is yours to give; the stack's patches carry none"
	"$VS_HARNESS/prepare.sh" stack "$TREE"
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	rm -f "$out"/*.patch
	git -C "$TREE/src" -c user.name="$name" -c user.email="$mail" \
		format-patch -q --signoff --cover-letter --zero-commit -o "$out" pristine..HEAD
	n=$(git -C "$TREE/src" rev-list --count pristine..HEAD)
	cover=$(ls "$out"/0000-cover-letter.patch)
	{
		echo "virtstack for Linux $(kversion "$TREE/src"): FOLL_PIN conversions, mmu_notifier"
		echo "event context, free page reporting, vhost and arm64 vgic-its work."
		echo
		echo "Apply to a clean 6.12.y tree with 'git am $out/*.patch'. The first"
		echo "patch adds the stack's new files; each later one is a patch of"
		echo "patches/series. Upstream status: Documentation/virtstack/patches.rst."
	} > "$out/blurb"
	sed -i -e "s/\*\*\* SUBJECT HERE \*\*\*/virtstack for Linux 6.12/" \
		-e "/\*\*\* BLURB HERE \*\*\*/{r $out/blurb
d}" "$cover"
	rm -f "$out/blurb"
	info "wrote $n patches and a cover letter to $out"
	;;
bisect)
	"$VS_HARNESS/prepare.sh" stack "$TREE"
	bis=$BUILD/bisect
	mkdir -p "$bis"
	ln -sfn "$TREE/src" "$bis/src"
	commits=$(git -C "$TREE/src" rev-list --reverse pristine..HEAD)
	tip=$(git -C "$TREE/src" rev-parse HEAD)
	n=0
	total=$(echo $commits | wc -w)
	for c in $commits; do
		n=$((n + 1))
		step "$n" "$total" "building after: $(git -C "$TREE/src" log -1 --format=%s "$c")"
		git -C "$TREE/src" checkout -q --detach "$c"
		rm -f "$bis/obj/config.sum"
		if ! VS_LAX_CONFIG=1 "$VS_HARNESS/build.sh" "$bis"; then
			git -C "$TREE/src" checkout -q --detach "$tip"
			die "the tree does not build after commit $n/$total: $(git -C "$TREE/src" log -1 --format=%s "$c")"
		fi
	done
	git -C "$TREE/src" checkout -q --detach "$tip"
	info "all $total commits build"
	;;
*)
	die "export.sh: unknown command '$1'"
	;;
esac
