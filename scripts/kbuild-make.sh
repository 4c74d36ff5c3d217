#!/usr/bin/env bash
# Build (or install) the module in the current directory against any
# Rust-enabled kernel build tree, choosing the toolchain the tree was built
# with from its .config: DKMS runs this (dkms.conf), and so can anyone with
# a kernel tree and no project scripts around.
#
# usage: scripts/kbuild-make.sh [--check] KDIR [TARGET...]   (default target: modules)
#   --check: only check that the tree's toolchain is here, print it, build nothing
#            (`make module KDIR=...` runs this instead of `make setup`: building
#            against one's own tree installs nothing)
#
# - clang-built trees (CONFIG_CC_IS_CLANG): LLVM=-<major> if clang-<major> is
#   installed (Debian), else LLVM=1;
# - GCC-built trees (CONFIG_CC_IS_GCC, as distribution kernels are):
#   CC=gcc-<major> if that is installed, else the default gcc; the module's
#   own bindgen step still needs libclang (the newest /usr/lib/llvm-N);
# - RUSTC: the first of $RUSTC, /usr/bin/rustc, rustc on PATH,
#   ~/.cargo/bin/rustc whose `--version` is the tree's
#   CONFIG_RUSTC_VERSION_TEXT (Rust metadata only links with the very
#   compiler that built the kernel's `core` and `kernel` crates);
# - BINDGEN: $BINDGEN, bindgen on PATH or ~/.cargo/bin/bindgen, with
#   LIBCLANG_PATH=/usr/lib/llvm-<major>/lib when that exists.
# Any of LLVM, RUSTC, BINDGEN, LIBCLANG_PATH set in the environment wins.
set -euo pipefail

die() { echo "kbuild-make: error: $*" >&2; exit 1; }
check=
[ "${1:-}" = --check ] && { check=1; shift; }
[ $# -ge 1 ] || die "usage: $0 [--check] KDIR [TARGET...]"
kdir=$1
shift
[ $# -gt 0 ] || set -- modules
cfg=$kdir/.config
[ -f "$cfg" ] || die "$kdir is not a configured kernel build tree (no .config)"
grep -q '^CONFIG_RUST=y' "$cfg" || die "$kdir: kernel built without CONFIG_RUST=y"
[ -f "$kdir/Module.symvers" ] || die "$kdir: no Module.symvers (kernel not built?)"
conf() { sed -n "s/^$1=//p" "$cfg" | sed 's/^"\(.*\)"$/\1/'; }

# What any kernel module build needs, with the Debian package that has it.
for t in make:make rsync:rsync; do
	[ "${t%%:*}" = rsync ] && [ -z "$check" ] && continue # only scripts/build-module.sh mirrors
	command -v "${t%%:*}" >/dev/null || die "${t%%:*} not found: install ${t##*:}"
done

vars=()
if grep -q '^CONFIG_CC_IS_CLANG=y' "$cfg"; then
	major=$(( $(conf CONFIG_CLANG_VERSION) / 10000 ))
	if [ -z "${LLVM:-}" ]; then
		if command -v "clang-$major" >/dev/null; then LLVM=-$major; else LLVM=1; fi
	fi
	vars+=("LLVM=$LLVM")
	# DKMS 3 appends CC=clang LD=ld.lld for clang-built trees; command-line
	# CC/LD would override the versioned tools LLVM=-N selects consistently.
	args=()
	for a in "$@"; do
		case "$a" in CC=*|LD=*) ;; *) args+=("$a") ;; esac
	done
	set -- "${args[@]}"
	if [ -z "${LIBCLANG_PATH:-}" ] && [ -d "/usr/lib/llvm-$major/lib" ]; then
		export LIBCLANG_PATH=/usr/lib/llvm-$major/lib
	fi
	if [ "$LLVM" = 1 ]; then cc=clang; else cc=clang$LLVM; fi
	command -v "$cc" >/dev/null || die "$cc not found: the tree was built with clang $major (install clang-$major lld-$major llvm-$major)"
fi

if grep -q '^CONFIG_CC_IS_GCC=y' "$cfg"; then
	major=$(( $(conf CONFIG_GCC_VERSION) / 10000 ))
	cc=${CC:-gcc}
	if [ -z "${CC:-}" ] && command -v "gcc-$major" >/dev/null; then
		cc=gcc-$major
		vars+=("CC=gcc-$major")
		args=()
		for a in "$@"; do
			case "$a" in CC=*) ;; *) args+=("$a") ;; esac
		done
		set -- "${args[@]}"
	fi
	if [ -z "${LIBCLANG_PATH:-}" ]; then
		d=$(ls -d /usr/lib/llvm-*/lib 2>/dev/null | sort -V | tail -n 1)
		[ -n "$d" ] && export LIBCLANG_PATH=$d
	fi
fi

# bindgen (the module's own bindings) needs libclang, whatever built the tree.
if [ -n "${LIBCLANG_PATH:-}" ]; then
	ls "$LIBCLANG_PATH"/libclang*.so* >/dev/null 2>&1 || die "no libclang in LIBCLANG_PATH=$LIBCLANG_PATH"
else
	ls /usr/lib/llvm-*/lib/libclang*.so* /usr/lib/*/libclang*.so* >/dev/null 2>&1 ||
		die "libclang not found: bindgen needs it (install libclang-dev, or set LIBCLANG_PATH=)"
fi

want=$(conf CONFIG_RUSTC_VERSION_TEXT)
rustc=
for c in ${RUSTC:-} /usr/bin/rustc "$(command -v rustc || true)" "$HOME/.cargo/bin/rustc"; do
	[ -n "$c" ] && [ -x "$c" ] || continue
	if [ "$("$c" --version 2>/dev/null)" = "$want" ]; then rustc=$c; break; fi
done
[ -n "$rustc" ] || die "no rustc matches the kernel's '$want' (set RUSTC=)"
vars+=("RUSTC=$rustc")

bindgen=${BINDGEN:-$(command -v bindgen || true)}
[ -n "$bindgen" ] || bindgen=$HOME/.cargo/bin/bindgen
[ -x "$bindgen" ] || die "bindgen not found (cargo install bindgen-cli, or set BINDGEN=)"
vars+=("BINDGEN=$bindgen")

if [ -n "$check" ]; then
	echo "kbuild-make: $kdir: CC=$cc ${vars[*]} LIBCLANG_PATH=${LIBCLANG_PATH:-default}: ok" >&2
	exit 0
fi
echo "kbuild-make: make -C $kdir M=$PWD ${vars[*]} $*" >&2
exec make -C "$kdir" M="$PWD" "${vars[@]}" "$@"
