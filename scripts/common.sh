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
# LLVM=-19, or gcc-12 for the gcc flavour). Sets NFW_KMAKE_VARS.
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
# The C compiler of a flavour: clang (default, debug) or gcc.
nfw_compiler() {
	case "$1" in
	gcc) echo gcc ;;
	*) echo clang ;;
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
nfw_kmake_vars default
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

# Kernel flavours: default (clang-19), debug (clang-19, lockdep, KASAN,
# kmemleak), gcc (gcc-12, as distribution kernels are built: GCC emits the
# slow path as __alloc_pages_slowpath.constprop.0).  Each is tinyconfig +
# fragments.
nfw_fragments() {
	case "$1" in
	default | gcc) echo "$NFW_TOP/scripts/kernel.config" ;;
	debug) echo "$NFW_TOP/scripts/kernel.config $NFW_TOP/scripts/kernel-debug.config" ;;
	*) nfw_die "unknown kernel flavour '$1' (known: default, debug, gcc)" ;;
	esac
}

nfw_kernel_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown
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
		nfw_kernel_version
		for f in $frags; do cat "$f"; done
		echo "recipe $NFW_KERNEL_RECIPE"
		/usr/bin/rustc --version 2>/dev/null
		clang-19 --version 2>/dev/null | head -1
		# The default and debug keys predate other compilers: unchanged.
		[ "$(nfw_compiler "$flavour")" = clang ] || gcc-12 --version 2>/dev/null | head -1
		bindgen --version 2>/dev/null
	} | sha256sum | cut -c1-12)
	echo "$NFW_CACHE/kernel/$flavour-$(nfw_kernel_version | tr -c 'A-Za-z0-9.\n' '_')-$key"
}
