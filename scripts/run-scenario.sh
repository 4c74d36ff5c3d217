#!/usr/bin/env bash
# `make run`: boot the guest and run the main scenario (scripts/guest-scenario.sh)
# with the module at its default knobs; print the story and where the log is.
# `make run-phases`: the three phases of test 50 in one boot (without the
# module, default knobs, tuned knobs: scripts/fs-phases.sh), with their table.
# Usage: run-scenario.sh [--kernel FLAVOUR] [--fs xfs|ext4|btrfs] [--phases]
set -uo pipefail
. "$(dirname "$0")/common.sh"
kernel=default fs=xfs phases=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--fs) fs=$2; shift 2 ;;
	--phases) phases=1; shift ;;
	*) nfw_die "run-scenario.sh: unknown option '$1'" ;;
	esac
done
# The scratch disk: 600 MB as always for XFS and ext4; btrfs gets 1 GB, as
# mkfs.btrfs makes anything smaller a "small volume" with mixed data and
# metadata block groups, which is not what machines run (the load keeps
# 16 x 64 x 256 KiB = 256 MiB of files).
case "$fs" in
xfs) size=600 label=XFS ;;
ext4) size=600 label=ext4 ;;
btrfs) size=1024 label=btrfs ;;
*) nfw_die "FS=$fs: not a scenario filesystem (xfs, ext4, btrfs)" ;;
esac
mkdir -p "$NFW_BUILD/logs"
name=run
[ "$fs" = xfs ] || name=run-$fs
[ -z "$phases" ] || name=run-phases-$fs
log=$NFW_BUILD/logs/$name-$(date +%Y%m%d-%H%M%S).log
if [ -z "$phases" ]; then
	echo "make run: booting a 512 MiB guest with $label (QEMU TCG); this takes 2-3 minutes"
	timeout=900
	cmd=(sh /nfw/scripts/guest-scenario.sh)
else
	echo "make run-phases: booting a 512 MiB guest with $label, three phases (QEMU TCG); this takes 8-15 minutes"
	timeout=1500
	cmd=(sh -c "NFW_TEST_NAME=fs-phases-$fs; . /nfw/tests/guest/lib.sh; . /nfw/scripts/fs-phases.sh")
fi
"$NFW_TOP/qemu/run" --kernel "$kernel" --mem 512 "--$fs" "$size" --timeout "$timeout" --log "$log" -- "${cmd[@]}"
rc=$?
echo
echo "full serial log: $log"
exit $rc
