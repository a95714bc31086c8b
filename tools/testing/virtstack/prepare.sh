#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# prepare.sh MODE DIR: make DIR/src a 6.12.y tree for the harness.
#   MODE=stack    pristine source + the stack's new files + patches/series
#   MODE=baseline pristine source only (for "fails on unpatched 6.12")
# The source is $KSRC (any 6.12.y tree, never modified) or Debian's
# linux-source-6.12.  DIR/src is a git repository: one commit for the
# pristine tree (tag "pristine"), one for the new files, one per patch.
# Nothing is redone when neither the source nor the stack changed.
set -eu
. "$(dirname "$0")/lib.sh"

mode=$1
dir=$2
src=$dir/src
DEB_TARBALL=/usr/src/linux-source-6.12.tar.xz

need git git
need tar tar
need xz xz-utils
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
src=$dir/src

check_version()
{
	ver=$(kversion "$1")
	case "$ver" in
	6.12.*) ;;
	"") die "$2 is not a kernel tree (no VERSION/PATCHLEVEL in $1/Makefile); set KSRC= to a Linux 6.12.y source tree" ;;
	*) die "$2 is Linux $ver, not 6.12.y: virtstack carries patches for 6.12 LTS only; set KSRC= to a 6.12.y tree" ;;
	esac
	[ "$ver" = "$VS_VERIFIED" ] ||
		warn "source is $ver; the series was last verified on $VS_VERIFIED"
}

if [ -n "${KSRC:-}" ]; then
	[ -d "$KSRC" ] || die "KSRC=$KSRC is not a directory; set KSRC= to a Linux 6.12.y source tree"
	KSRC=$(cd "$KSRC" && pwd)
	check_version "$KSRC" "KSRC=$KSRC"
	id="dir $KSRC $(kversion "$KSRC")"
	if [ -d "$KSRC/.git" ] || [ -f "$KSRC/.git" ]; then
		id="$id $(git -C "$KSRC" rev-parse HEAD) $(git -C "$KSRC" diff HEAD | cksum)"
	else
		id="$id $(find "$KSRC" -path "$KSRC/.git" -prune -o -type f -printf '%P %s %T@\n' |
			LC_ALL=C sort | cksum)"
	fi
else
	if [ ! -f "$DEB_TARBALL" ]; then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
			info "installing Debian's linux-source-6.12"
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-source-6.12 >/dev/null ||
				die "apt-get install linux-source-6.12 failed; install it or set KSRC= to a 6.12.y tree"
		else
			die "$DEB_TARBALL is missing: 'apt-get install linux-source-6.12' as root, or set KSRC= to a 6.12.y tree"
		fi
	fi
	id="tar $DEB_TARBALL $(stat -c '%s %Y' "$DEB_TARBALL")"
fi

git_src()
{
	git -C "$src" -c user.name="virtstack developers" -c user.email=virtstack@localhost \
		-c advice.detachedHead=false "$@"
}

# 1. The pristine tree, extracted or copied once per source.
if [ ! -d "$src/.git" ] || [ "$(cat "$dir/source.id" 2>/dev/null)" != "$id" ]; then
	rm -rf "$src" "$dir/stack.stamp"
	mkdir -p "$src"
	if [ -n "${KSRC:-}" ]; then
		info "copying $KSRC to $src (KSRC itself is left untouched)"
		if git -C "$KSRC" rev-parse --git-dir >/dev/null 2>&1; then
			(cd "$KSRC" && git ls-files -z | tar --null -T - -cf -) | tar -C "$src" -xf -
		else
			tar -C "$KSRC" --exclude=.git -cf - . | tar -C "$src" -xf -
		fi
		if [ -f "$src/.config" ] || [ -d "$src/include/config" ]; then
			info "KSRC was built in place; cleaning the copy (make mrproper)"
			make -s -C "$src" mrproper
		fi
	else
		info "extracting $DEB_TARBALL"
		tar -C "$src" --strip-components=1 -xJf "$DEB_TARBALL"
	fi
	check_version "$src" "the source"
	info "recording the pristine tree in git (once per source)"
	git_src init -q
	git_src add -A -f
	git_src commit -q -m "Linux $(kversion "$src") (pristine)"
	git_src tag -f pristine >/dev/null
	echo "$id" > "$dir/source.id"
fi

# 2. The stack, applied when it changed since the last run.
stamp=$( (echo "$mode"; cat "$0" "$VS_TOP/patches/series"
	  vs_series | while read -r p; do cat "$VS_TOP/patches/$p"; done
	  cat "$VS_TOP/Kconfig"
	  vs_overlay | while read -r f; do echo "$f"; cat "$VS_TOP/$f"; done) | cksum)
# Up to date only if nothing moved or edited the tree since (an interrupted
# check-bisect, a hand edit): then the recorded HEAD and a clean tree hold.
if [ "$(cat "$dir/stack.stamp" 2>/dev/null)" = "$stamp" ] &&
   [ "$(git_src rev-parse HEAD)" = "$(cat "$dir/stack.head" 2>/dev/null)" ] &&
   [ -z "$(git_src status --porcelain -uno)" ]; then
	info "tree up to date: $src"
	exit 0
fi
rm -f "$dir/stack.stamp"
git_src am --abort >/dev/null 2>&1 || true
# Remember what the stack's files were, so that those it leaves unchanged
# keep their times and an incremental build does not redo them.
: > "$dir/mtimes"
git_src diff --name-only pristine HEAD 2>/dev/null | while read -r f; do
	[ -f "$src/$f" ] &&
		echo "$(git_src hash-object "$f") $(stat -c %Y "$src/$f") $f" >> "$dir/mtimes"
done
git_src checkout -q -f --detach pristine
git_src clean -fdxq

if [ "$mode" = stack ]; then
	vs_overlay | while read -r f; do
		mkdir -p "$src/$(dirname "$f")"
		cp "$VS_TOP/$f" "$src/$f"
	done
	cp "$VS_TOP/Kconfig" "$src/Kconfig.virtstack"
	git_src add -A -f
	git_src commit -q -m "virtstack: add the stack's new files" \
		-m "New files of the virtstack series, at their kernel-tree paths; the
patches that follow wire them into Kconfig and Kbuild."
	n=0
	total=$(vs_series | wc -l)
	for p in $(vs_series); do
		n=$((n + 1))
		f=$VS_TOP/patches/$p
		[ -f "$f" ] || die "patches/series names $p, but patches/$p does not exist"
		if ! out=$(git_src am -q --keep-cr --whitespace=nowarn "$f" 2>&1); then
			git_src am --abort >/dev/null 2>&1 || true
			printf '%s\n' "$out" | grep -E '^error' | sed 's/^/  /' >&2
			die "patch $n/$total patches/$p does not apply to Linux $(kversion "$src") (${KSRC:-$DEB_TARBALL}); the file and hunk are named above. Refresh the patch against this tree (Documentation/virtstack/index.rst, 'Refreshing a patch')"
		fi
	done
	info "applied $total patches and $(vs_overlay | wc -l) new files to Linux $(kversion "$src")"
else
	# The guest tests only (they build against an unpatched tree and skip
	# what needs the stack), so that the baseline runs the same programs.
	mkdir -p "$src/tools/testing/selftests/virtstack"
	cp "$VS_TOP"/tools/testing/selftests/virtstack/* "$src/tools/testing/selftests/virtstack/"
	git_src add -A -f
	git_src commit -q -m "virtstack: the guest tests only (baseline)"
	info "baseline: Linux $(kversion "$src") without the stack (its guest tests only)"
fi
while read -r blob mtime f; do
	[ -f "$src/$f" ] && [ "$(git_src hash-object "$f")" = "$blob" ] &&
		touch -m -d "@$mtime" "$src/$f"
done < "$dir/mtimes"
git_src update-index -q --refresh >/dev/null || true
git_src rev-parse HEAD > "$dir/stack.head"
echo "$stamp" > "$dir/stack.stamp"
