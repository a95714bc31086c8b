#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# build.sh DIR: configure and build the x86_64 guest kernel and modules of the
# tree DIR/src into DIR/obj, and install the modules into DIR/modules.
# build.sh DIR config: only configure, into $VS_OBJ if set (static.sh's
# build-only configuration of the drivers the guest cannot run).
# The .config is allnoconfig plus the fragments in configs/, merged with the
# kernel's own scripts/kconfig/merge_config.sh; every requested value must
# survive, or the build stops and names the option.
set -eu
. "$(dirname "$0")/lib.sh"

dir=$(cd "$1" && pwd) || die "no directory $1"
src=$dir/src
obj=${VS_OBJ:-$dir/obj}
jobs=${JOBS:-$(nproc)}
# VS_FRAGS: fragment names in configs/ (make bench leaves out debug.config).
frags=
for f in ${VS_FRAGS:-base debug kunit}; do
	frags="$frags $VS_HARNESS/configs/$f.config"
done

need gcc gcc
need make make
need flex flex
need bison bison
need bc bc
need depmod kmod
[ -f /usr/include/libelf.h ] || die "libelf headers are missing: install them with 'apt-get install libelf-dev'"
[ -f /usr/include/openssl/ssl.h ] || die "OpenSSL headers are missing: install them with 'apt-get install libssl-dev'"

kmake()
{
	vs_kmake "$dir" -j"$jobs" "$@"
}

mkdir -p "$obj"
fragsum=$(cat $frags | cksum)
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/config.sum" 2>/dev/null)" != "$fragsum" ] ||
   [ "$dir/stack.stamp" -nt "$obj/.config" ]; then
	info "configuring: allnoconfig + $(echo $frags | sed "s|$VS_TOP/||g")"
	rm -f "$obj/config.sum"
	(cd "$src" && ARCH=x86_64 \
		./scripts/kconfig/merge_config.sh -n -O "$obj" $frags) > "$obj/config.log" 2>&1 ||
		{ tail -20 "$obj/config.log"; die "configuring failed; log: $obj/config.log"; }
	# A tree without the stack (baseline, or an early commit in
	# check-bisect) lacks the stack's own symbols: only those may be missing.
	lax='^$'
	if [ ! -f "$src/Kconfig.virtstack" ] || [ -n "${VS_LAX_CONFIG:-}" ]; then
		lax=$(sed -n 's/^\(menu\)\{0,1\}config \([A-Z0-9_]*\).*/CONFIG_\2 /p' "$VS_TOP/Kconfig" |
		      tr -d ' ' | paste -sd'|')
		lax="for ($lax) not in"
	fi
	if grep '^Value requested' "$obj/config.log" | grep -Evq "$lax"; then
		grep '^Value requested' "$obj/config.log" | grep -Ev "$lax" | sed 's/^/  /' >&2
		die "options above did not take (a missing dependency, or a patch of the series is missing); full log: $obj/config.log"
	fi
	echo "$fragsum" > "$obj/config.sum"
fi

[ "${2:-}" = config ] && exit 0

# A suite whose dependencies this configuration lacks is not built: say so.
[ -f "$src/Kconfig.virtstack" ] &&
for t in $(sed -n 's/^config \([A-Z0-9_]*_KUNIT_TEST\)$/\1/p' "$VS_TOP/Kconfig"); do
	grep -Eq "^CONFIG_$t=(y|m)$" "$obj/.config" ||
		warn "KUnit suite CONFIG_$t is not enabled in this configuration"
done

info "building bzImage and modules (-j$jobs, log: $obj/build.log)"
if ! kmake bzImage modules > "$obj/build.log" 2>&1; then
	grep -E 'error|Error' "$obj/build.log" | head -20 | sed 's/^/  /' >&2
	die "kernel build failed; full log: $obj/build.log"
fi
grep -E ' warning: ' "$obj/build.log" | sort -u | head -20 | sed 's/^/  /' || true

# VS_MODULES: where another configuration (VS_OBJ) installs its modules.
mods=${VS_MODULES:-$dir/modules}
rm -rf "$mods"
kmake -s modules_install INSTALL_MOD_PATH="$mods" INSTALL_MOD_STRIP=1 \
	> "$obj/modules_install.log" 2>&1 ||
	{ tail -20 "$obj/modules_install.log"; die "modules_install failed; log: $obj/modules_install.log"; }
# uapi headers for the user-space programs built against this tree
# (tools/virtio, in mkinitramfs.sh)
kmake -s headers_install > "$obj/headers_install.log" 2>&1 ||
	{ tail -20 "$obj/headers_install.log"; die "headers_install failed; log: $obj/headers_install.log"; }
info "kernel $(cat "$obj/include/config/kernel.release") built: $obj/arch/x86/boot/bzImage"
