#!/usr/bin/env bash
# Install what loads nofail_watchdog at boot: /etc/modules-load.d/ and
# /etc/modprobe.d/ nofail_watchdog.conf (from tools/boot/), below --root.
# Opt-in: `make install-boot` or `make install BOOT=1`, or DKMS's
# POST_INSTALL with NFW_BOOT=1 in the environment.  A file that exists is
# left alone: it holds the administrator's options.
#
# usage: install-boot.sh [--root DIR] [--dkms]
#   --root DIR  install below DIR (make's INSTALL_MOD_PATH)
#   --dkms      run as DKMS's POST_INSTALL: nothing unless NFW_BOOT=1
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
root= dkms=
while [ $# -gt 0 ]; do
	case "$1" in
	--root) root=${2:?--root needs a directory}; shift 2 ;;
	--dkms) dkms=1; shift ;;
	*) echo "install-boot.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
if [ -n "$dkms" ] && [ "${NFW_BOOT:-}" != 1 ]; then
	echo "install-boot: NFW_BOOT=1 not set: no boot-time files installed (NFW_BOOT=1 dkms install ... installs them)"
	exit 0
fi
for f in modules-load.d/nofail_watchdog.conf modprobe.d/nofail_watchdog.conf; do
	src=$top/tools/boot/$f dst=$root/etc/$f
	[ -f "$src" ] || { echo "install-boot.sh: $src missing" >&2; exit 1; }
	if [ -e "$dst" ]; then
		echo "install-boot: $dst exists, left alone"
	else
		install -D -m 644 "$src" "$dst"
		echo "install-boot: $dst"
	fi
done
