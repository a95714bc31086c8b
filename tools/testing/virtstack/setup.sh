#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# setup.sh: install the host packages of tools/testing/virtstack/packages
# that are missing, before any target starts. As root: one quiet
# 'apt-get update' and 'apt-get install', logged to $BUILD/apt.log. As
# another user: stop at once with the one command that installs them all.
# VS_SETUP=0 skips the check (a host that provides the tools otherwise).
set -eu
. "$(dirname "$0")/lib.sh"

[ "${VS_SETUP:-1}" = 0 ] && exit 0
command -v dpkg-query >/dev/null 2>&1 ||
	die "dpkg-query not found: virtstack installs its host packages on Debian 12; elsewhere install the packages of $VS_HARNESS/packages yourself and run with VS_SETUP=0"

missing=
for p in $(sed -e 's/#.*//' "$VS_HARNESS/packages"); do
	# KSRC= names the kernel tree: Debian's source package is not needed.
	[ "$p" = linux-source-6.12 ] && [ -n "${KSRC:-}" ] && continue
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	die "host packages missing; install them with:
    sudo apt-get update && sudo apt-get install$missing
(or run with VS_SETUP=0 if this host provides the tools otherwise)"
fi

BUILD=${BUILD:-$VS_TOP/build}
mkdir -p "$BUILD"
log=$BUILD/apt.log
info "installing host packages:$missing (log: $log)"
export DEBIAN_FRONTEND=noninteractive
{ apt-get update -qq && apt-get install -y -qq $missing; } > "$log" 2>&1 || {
	tail -n 30 "$log" >&2
	die "apt-get could not install:$missing (see $log): check the apt sources and the network"
}
