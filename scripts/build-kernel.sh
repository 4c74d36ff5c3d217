#!/usr/bin/env bash
# Build (or reuse) the test kernel of one flavour; print nothing on stdout but
# the build directory when done.  Usage: scripts/build-kernel.sh [FLAVOUR] (see nfw_fragments in common.sh)
set -euo pipefail
. "$(dirname "$0")/common.sh"

flavour=${1:-default}
nfw_fragments "$flavour" >/dev/null || exit 1
nfw_check_prereqs
kdir=$(nfw_kdir "$flavour") || exit 1
nfw_kmake_vars "$flavour"
if [ -f "$kdir/.nfw-built" ] && [ -f "$kdir/arch/x86/boot/bzImage" ]; then
	echo "$kdir"
	exit 0
fi

# One build at a time per machine (parallel test runs all call this script).
mkdir -p "$NFW_CACHE"
exec 9>"$NFW_CACHE/.build.lock"
flock 9
if [ -f "$kdir/.nfw-built" ] && [ -f "$kdir/arch/x86/boot/bzImage" ]; then
	echo "$kdir"
	exit 0
fi

# Unpack Debian's kernel source once per package version.
series=$(nfw_series "$flavour")
tarball=$(nfw_source_tar "$flavour") || exit 1
ver=$(nfw_kernel_version "$flavour")
src=$NFW_CACHE/src/linux-$ver
if [ ! -f "$src/.nfw-unpacked" ]; then
	echo "kernel: unpacking linux-source-$series $ver" >&2
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" -xf "$tarball"
	mv "$src.tmp/linux-source-$series" "$src"
	rmdir "$src.tmp"
	touch "$src/.nfw-unpacked"
fi

mkdir -p "$kdir"
echo "kernel: building flavour '$flavour' in $kdir" >&2
start=$(date +%s)
km() { make -s -C "$src" O="$kdir" "${NFW_KMAKE_VARS[@]}" "$@"; }
if [ ! -f "$kdir/.nfw-configured" ]; then
	km tinyconfig >&2
	# shellcheck disable=SC2046
	KCONFIG_CONFIG="$kdir/.config" "$src/scripts/kconfig/merge_config.sh" -m -O "$kdir" \
		"$kdir/.config" $(nfw_fragments "$flavour") >/dev/null
	km olddefconfig >&2
	km rustavailable >&2 || nfw_die "the kernel says Rust is not available (see above)"
	# Every fragment line must have survived Kconfig's dependency resolution
	# (a later fragment's line for the same option overrides an earlier one's,
	# as in merge_config.sh).
	bad=0
	declare -A want=()
	for f in $(nfw_fragments "$flavour"); do
		while IFS= read -r line; do
			case "$line" in
			CONFIG_*=*) want[${line%%=*}]=$line ;;
			"# CONFIG_"*" is not set") opt=${line#\# }; want[${opt%% *}]=$line ;;
			esac
		done <"$f"
	done
	for opt in "${!want[@]}"; do
		line=${want[$opt]}
		case "$line" in
		CONFIG_*) grep -qxF "$line" "$kdir/.config" || { echo "kernel: config lost: $line" >&2; bad=1; } ;;
		*) ! grep -q "^$opt=" "$kdir/.config" || { echo "kernel: config set but should not be: $opt" >&2; bad=1; } ;;
		esac
	done
	[ "$bad" = 0 ] || nfw_die "config fragment not applied (missing dependencies?)"
	touch "$kdir/.nfw-configured"
fi
km -j"$(nproc)" bzImage modules >&2
km -j"$(nproc)" modules_prepare >&2
touch "$kdir/.nfw-built"
echo "kernel: built in $(( $(date +%s) - start )) s" >&2
echo "$kdir"
