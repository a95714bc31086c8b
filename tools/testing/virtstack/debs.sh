#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# debs.sh CACHE PACKAGE...: downloads Debian packages with 'apt-get download'
# (nothing is installed on the host, no service is started) and unpacks them
# into CACHE/root, once. Prints CACHE/root.
set -eu
. "$(dirname "$0")/lib.sh"

cache=$1
shift
need apt-get apt
need dpkg-deb dpkg
mkdir -p "$cache/root"
cache=$(cd "$cache" && pwd)
for p in "$@"; do
	[ -f "$cache/$p.unpacked" ] && continue
	(cd "$cache" && rm -f "${p}"_*.deb &&
		apt-get download "$p" > "$cache/$p.log" 2>&1) ||
		die "could not download the Debian package $p (see $cache/$p.log): the guest's NFS and bindfs lanes need it; check the apt sources and network, or run 'apt-get update'"
	dpkg-deb -x "$cache/${p}"_*.deb "$cache/root" ||
		die "could not unpack $cache/${p}_*.deb"
	touch "$cache/$p.unpacked"
done
echo "$cache/root"
