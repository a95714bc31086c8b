# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the virtstack harness scripts (POSIX sh).

VS_TOP=${VS_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
VS_HARNESS=$VS_TOP/tools/testing/virtstack
# The kernel release the series was last verified on.
VS_VERIFIED=6.12.118

die()
{
	printf 'virtstack: error: %s\n' "$*" >&2
	exit 1
}

warn()
{
	printf 'virtstack: warning: %s\n' "$*" >&2
}

info()
{
	printf 'virtstack: %s\n' "$*"
}

# step K N TEXT: a progress line for a long step
step()
{
	printf '[step %s/%s] %s\n' "$1" "$2" "$3"
}

# need TOOL PACKAGE: fail with the package to install when TOOL is missing
need()
{
	command -v "$1" >/dev/null 2>&1 ||
		die "'$1' not found on the host: install it with 'apt-get install $2' (make installs the packages of tools/testing/virtstack/packages when run as root)"
}

# kversion DIR: prints VERSION.PATCHLEVEL.SUBLEVEL of the kernel tree in DIR
kversion()
{
	[ -f "$1/Makefile" ] || return 0
	awk -F' *= *' '
		$1 == "VERSION" { v = $2 }
		$1 == "PATCHLEVEL" { p = $2 }
		$1 == "SUBLEVEL" { s = $2; exit }
		END { if (v != "") printf "%s.%s.%s\n", v, p, s }' "$1/Makefile" 2>/dev/null
}

# The stack's series, in order, without comments and blank lines.
vs_series()
{
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$VS_TOP/patches/series"
}

# The stack's new files, relative to the repository (and to the kernel tree).
# The top-level Kconfig is listed separately: it lands as Kconfig.virtstack.
vs_overlay()
{
	(cd "$VS_TOP" && for d in arch block crypto Documentation drivers fs include \
			init kernel lib mm net samples scripts security sound tools virt; do
		[ -d "$d" ] && find "$d" -type f ! -path 'tools/testing/virtstack/*'
	done) | LC_ALL=C sort
}

# vs_kmake TREE ARGS...: make in TREE/src with output in TREE/obj (or
# $VS_OBJ), through ccache when the host has it. VS_ARCH=arm64 cross-builds
# with Debian's aarch64-linux-gnu- toolchain (the default is x86_64).
vs_kmake()
{
	_t=$1
	shift
	_arch=${VS_ARCH:-x86_64}
	_cross=
	[ "$_arch" = arm64 ] && _cross=aarch64-linux-gnu-
	_cc=${_cross}gcc
	_hostcc=gcc
	if command -v ccache >/dev/null 2>&1; then
		_cc="ccache $_cc"
		_hostcc="ccache gcc"
		# Paths below the build directory hash alike in every clone.
		CCACHE_BASEDIR=$(cd "$_t/.." && pwd)
		export CCACHE_BASEDIR
	fi
	KBUILD_BUILD_TIMESTAMP="Mon Jan  1 00:00:00 UTC 2024" \
	KBUILD_BUILD_USER=virtstack KBUILD_BUILD_HOST=virtstack \
		make -C "$_t/src" O="${VS_OBJ:-$_t/obj}" ARCH="$_arch" CROSS_COMPILE="$_cross" \
			CC="$_cc" HOSTCC="$_hostcc" "$@"
}
