#!/usr/bin/env bash
# Build the module (and the test-only modules) out of tree for one kernel.
# Sources are mirrored into a per-kernel build directory, so builds for the
# default and debug flavours (whose struct layouts differ) never mix.
#
# usage: build-module.sh [--kernel NAME | --kdir DIR] [--clippy] [--tests] [--target T]
set -euo pipefail
. "$(dirname "$0")/common.sh"

kernel=default kdir= custom= clippy= tests= target=modules
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift ;;
	--kdir) kdir=$2; shift ;;
	--clippy) clippy=1 ;;
	--tests) tests=1 ;;
	--target) target=$2; shift ;;
	*) nfw_die "build-module.sh: unknown option $1" ;;
	esac
	shift
done

if [ -n "$kdir" ]; then
	[ -f "$kdir/Module.symvers" ] || [ -f "$kdir/.config" ] || nfw_die "KDIR=$kdir is not a configured kernel build tree"
	grep -q '^CONFIG_RUST=y' "$kdir/.config" || nfw_die "KDIR=$kdir: kernel built without CONFIG_RUST"
	out=$NFW_BUILD/custom
	custom=1
else
	kdir=$(bash "$NFW_TOP/scripts/build-kernel.sh" "$kernel")
	out=$NFW_BUILD/$kernel
fi
[ -n "$clippy" ] && out=$out-clippy

mkdir -p "$out/tests"
# --delete drops sources removed or renamed in the repo; build outputs are
# excluded from the transfer and so kept.
sync_src() {
	rsync -a --delete --exclude='*.o' --exclude='.*.cmd' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='*_generated.rs' --exclude='.*.d' --exclude='modules.order' \
		--exclude='Module.symvers' --exclude='*.rmeta' "$@"
}
rsync -a "$NFW_TOP/Kbuild" "$out/"
sync_src "$NFW_TOP/rust" "$out/"
nfw_kmake_vars_for_tree "$kdir"
vars=("${NFW_KMAKE_VARS[@]}")
[ -n "$clippy" ] && vars+=(CLIPPY=1)
# make -C KDIR M=DIR ARGS...: a flavour with the project's toolchain; another
# tree (KDIR=) with the toolchain it was built with, as DKMS does.
kmake() {
	local dir=$1
	shift
	if [ -n "$custom" ]; then
		(cd "$dir" && bash "$NFW_TOP/scripts/kbuild-make.sh" "$kdir" -s "$@" ${clippy:+CLIPPY=1})
	else
		make -s -C "$kdir" M="$dir" "${vars[@]}" "$@"
	fi
}
[ -n "$clippy" ] && find "$out" -name '*.o' -path '*/rust/*' -delete
kmake "$out" "$target"

if [ -n "$tests" ] && [ -d "$NFW_TOP/tests/modules" ]; then
	sync_src "$NFW_TOP/tests/modules" "$out/tests/"
	[ -n "$clippy" ] && find "$out/tests/modules" -name '*.o' -delete
	kmake "$out/tests/modules" "$target"
	# The module built to name a hook point no kernel has (Kbuild,
	# NFW_TEST_ABSENT_HOOK), installed beside the test modules.
	if [ -z "$clippy" ] && [ "$target" = modules ]; then
		ah=$out-absent-hook
		mkdir -p "$ah"
		rsync -a "$NFW_TOP/Kbuild" "$ah/"
		sync_src "$NFW_TOP/rust" "$ah/"
		kmake "$ah" NFW_TEST_ABSENT_HOOK=1 modules
		cp "$ah/nofail_watchdog.ko" "$out/tests/modules/nfw_test_absent_hook.ko"
	fi
fi
