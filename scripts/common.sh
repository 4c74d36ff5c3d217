# Shared settings for the project's scripts.  Source it; it only sets variables.
# shellcheck shell=bash

NFW_TOP=${NFW_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
NFW_CACHE=${NFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nofail-watchdog}
NFW_BUILD=${NFW_BUILD:-$NFW_TOP/build}
export PATH="$HOME/.cargo/bin:$PATH"

# The Debian toolchain the kernel's Rust support is built with (never rustup's).
nfw_rust_lib_src() {
	local d
	for d in /usr/src/rustc-*/library; do
		[ -d "$d/core" ] && { echo "$d"; return 0; }
	done
	return 1
}

# The make variables of a kernel build (and of module builds against it):
# the Rust toolchain, plus the C compiler of the flavour (clang-19 through
# LLVM=-19, or gcc-12). Sets NFW_KMAKE_VARS.
nfw_kmake_vars() {
	NFW_KMAKE_VARS=(
		RUSTC=/usr/bin/rustc
		RUSTDOC=/usr/bin/rustdoc
		RUSTFMT=/usr/bin/rustfmt
		CLIPPY_DRIVER=/usr/bin/clippy-driver
		BINDGEN="$HOME/.cargo/bin/bindgen"
		RUST_LIB_SRC="$(nfw_rust_lib_src || echo /nonexistent)"
	)
	case "$(nfw_compiler "$1")" in
	gcc) NFW_KMAKE_VARS+=(CC=gcc-12 HOSTCC=gcc-12) ;;
	*) NFW_KMAKE_VARS+=(LLVM=-19) ;;
	esac
}
# The make variables of an existing kernel tree, from its .config.
nfw_kmake_vars_for_tree() {
	if grep -q '^CONFIG_CC_IS_GCC=y' "$1/.config" 2>/dev/null; then
		nfw_kmake_vars gcc
	else
		nfw_kmake_vars default
	fi
}
# bindgen (the kernel's and the module's) always needs libclang.
export LIBCLANG_PATH=/usr/lib/llvm-19/lib

nfw_die() { echo "nofail-watchdog: error: $*" >&2; exit 1; }

# Fail with a clear message naming what is missing.
nfw_check_prereqs() {
	local t
	for t in /usr/bin/rustc:rustc-web /usr/bin/clang-19:clang-19 /usr/bin/ld.lld-19:lld-19 \
		/usr/bin/qemu-system-x86_64:qemu-system-x86 /bin/busybox:busybox-static \
		/usr/bin/flex:flex /usr/bin/bison:bison /usr/bin/bc:bc /usr/bin/cpio:cpio; do
		[ -x "${t%%:*}" ] || nfw_die "${t%%:*} not found: install ${t##*:} (run 'make setup')"
	done
	nfw_rust_lib_src >/dev/null || nfw_die "rust-src not found: install rust-web-src (run 'make setup')"
	[ -f /usr/src/linux-source-6.12.tar.xz ] || nfw_die "kernel source not found: install linux-source-6.12 (run 'make setup')"
	command -v bindgen >/dev/null || nfw_die "bindgen not found: 'cargo install --locked bindgen-cli' (run 'make setup')"
}

# Kernel flavours, each tinyconfig + fragments, cached apart:
#   default  6.12, clang-19: the project's own kernel
#   debug    6.12, clang-19, lockdep, KASAN, kmemleak
#   gcc      6.12, gcc-12, as distribution kernels are built (GCC emits the
#            slow path as __alloc_pages_slowpath.constprop.0)
#   7.3      7.3, gcc-12: the series Debian ships with CONFIG_RUST=y
NFW_FLAVOURS="default gcc 7.3 debug"
nfw_fragments() {
	case "$1" in
	default | gcc) echo "$NFW_TOP/scripts/kernel.config" ;;
	debug) echo "$NFW_TOP/scripts/kernel.config $NFW_TOP/scripts/kernel-debug.config" ;;
	7.3) echo "$NFW_TOP/scripts/kernel.config $NFW_TOP/scripts/kernel-7.3.config" ;;
	*) nfw_die "unknown kernel flavour '$1' (known: $NFW_FLAVOURS)" ;;
	esac
}
# The C compiler of a flavour.
nfw_compiler() {
	case "$1" in
	gcc | 7.3) echo gcc ;;
	*) echo clang ;;
	esac
}
# The kernel series (Debian's linux-source-SERIES package) of a flavour.
nfw_series() {
	case "$1" in
	7.3) echo 7.3 ;;
	*) echo 6.12 ;;
	esac
}
# The Debian suite a series not installed on the host is fetched from.
nfw_series_suite() {
	case "$1" in
	7.3) echo trixie-backports ;;
	7.2) echo sid ;;
	*) return 1 ;;
	esac
}
# Path of the source tarball of a flavour's series (fetching it if needed).
nfw_source_tar() {
	bash "$NFW_TOP/scripts/fetch-source.sh" "$(nfw_series "$1")"
}

# The Debian package version of a flavour's kernel source.
nfw_kernel_version() {
	local series
	series=$(nfw_series "${1:-default}")
	if [ "$series" = 6.12 ]; then
		dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown
	else
		nfw_source_tar "$1" >/dev/null || exit 1
		cat "$NFW_CACHE/debs/linux-source-$series/version"
	fi
}

# Bump when a change of scripts/build-kernel.sh changes what it produces
# (not for changes that only touch logging, locking and the like).
NFW_KERNEL_RECIPE=1

# Build directory of a flavour: keyed by the kernel package version, the
# config fragments, the build recipe version and the toolchain versions.
nfw_kdir() {
	local flavour=$1 key f frags
	frags=$(nfw_fragments "$flavour") || exit 1
	key=$({
		nfw_kernel_version "$flavour"
		for f in $frags; do cat "$f"; done
		echo "recipe $NFW_KERNEL_RECIPE"
		/usr/bin/rustc --version 2>/dev/null
		clang-19 --version 2>/dev/null | head -1
		# The default and debug keys predate other compilers: unchanged.
		[ "$(nfw_compiler "$flavour")" = clang ] || gcc-12 --version 2>/dev/null | head -1
		bindgen --version 2>/dev/null
	} | sha256sum | cut -c1-12)
	echo "$NFW_CACHE/kernel/$flavour-$(nfw_kernel_version "$flavour" | tr -c 'A-Za-z0-9.\n' '_')-$key"
}

# The default flavour's make variables unless a script asks for another.
nfw_kmake_vars default
