#!/usr/bin/env bash
# `make run`: boot the guest and run the main scenario (scripts/guest-scenario.sh)
# with the module at its default knobs; print the story and where the log is.
set -uo pipefail
. "$(dirname "$0")/common.sh"
kernel=default
[ "${1:-}" = --kernel ] && kernel=$2
mkdir -p "$NFW_BUILD/logs"
log=$NFW_BUILD/logs/run-$(date +%Y%m%d-%H%M%S).log
echo "make run: booting a 512 MiB guest with XFS (QEMU TCG); this takes 2-3 minutes"
"$NFW_TOP/qemu/run" --kernel "$kernel" --mem 512 --xfs 600 --timeout 900 --log "$log" -- sh /nfw/scripts/guest-scenario.sh
rc=$?
echo
echo "full serial log: $log"
exit $rc
