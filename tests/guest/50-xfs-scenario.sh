#!/bin/sh
# The real XFS scenario (scripts/xfs-scenario.sh): most RAM mlocked by a
# protected service (oom_score_adj -1000), no swap, 16 processes writing,
# fsyncing, renaming and unlinking 256 KiB files in one XFS directory.  XFS's
# GFP_NOFS allocations (page-cache folios through the inode mapping's NOFS
# mask, transaction allocations) then loop in the page allocator, where the
# kernel's OOM killer never acts for them.
#
# One boot, three phases of LOAD_S seconds each, the same load each time:
#   baseline  without the module (bounded: if the load has not ended
#             HARD_EXTRA s after its own deadline, the hog is killed)
#   default   the module at its default knobs
#   tuned     stall_warn_ms=2000 oom_after_ms=5000 oom_interval_ms=2000
# After every phase: umount, xfs_repair -n, remount, and the checksums of
# the data set written and synced before the first phase.
#
# Fails on: any xfs_repair finding or checksum mismatch (any phase), a module
# phase whose load did not finish in time, allocations still tracked after a
# module phase, or a tuned-phase stall longer than oom_after_ms + 3 s without
# the module triggering the OOM killer.  The baseline's outcome is recorded,
# not judged.  NFW_XFS_LOAD_S (default 60) changes the phase length.
# nfw-qemu: --mem 512 --xfs 600
# nfw-timeout: 1200
. "$(dirname "$0")/lib.sh"
. /nfw/scripts/xfs-scenario.sh

LOAD_S=${NFW_XFS_LOAD_S:-60}
TUNED="stall_warn_ms=2000 oom_after_ms=5000 oom_interval_ms=2000"
echo -1000 >/proc/self/oom_score_adj || nfw_fail "cannot protect the test shell"

xfs_data_set
nfw_log "data set: $XFS_NFILES files, $XFS_DATA_KB KiB, synced"
for phase in baseline default tuned; do
	case $phase in
	baseline) knobs=none ;;
	default) knobs= ;;
	tuned) knobs=$TUNED ;;
	esac
	nfw_log "phase $phase: module ${knobs:-at default knobs}; load ${LOAD_S}s"
	xfs_phase "$phase" "$knobs" "$LOAD_S"
	xfs_integrity "$phase"
	sed "s/^/# $phase: /" "/tmp/xfs-$phase.res"
	[ -f "/tmp/xfs-$phase.sites" ] && head -12 "/tmp/xfs-$phase.sites" | sed "s/^/# $phase: site /"
	grep -E 'nofail_watchdog: (INFO|triggered OOM kill)' "/tmp/xfs-$phase.dmesg" | head -6 | sed "s/^/# $phase: /"
done

# --- verdict ----------------------------------------------------------------
for phase in baseline default tuned; do
	if [ "$(xfs_get $phase repair_rc)" != 0 ] || [ "$(xfs_get $phase sums_bad)" != 0 ]; then
		cat "/tmp/xfs-$phase.repair" "/tmp/xfs-$phase.check"
		nfw_fail "integrity after $phase: xfs_repair exit $(xfs_get $phase repair_rc), $(xfs_get $phase sums_bad) checksum mismatches"
	fi
done
for phase in default tuned; do
	[ "$(xfs_get $phase load_finished)" = yes ] || nfw_fail "$phase: the load did not finish in time: no recovery"
	[ "$(xfs_get $phase load_rc)" = 0 ] || { cat "/tmp/xfs-$phase.load"; nfw_fail "$phase: nfw-fsload failed (exit $(xfs_get $phase load_rc))"; }
	[ "$(xfs_get $phase in_flight_after)" = 0 ] || nfw_fail "$phase: allocations still tracked after the load"
	[ "$(xfs_get $phase stalls_active_after)" = 0 ] || nfw_fail "$phase: stalls still active after the load"
done
longest=$(xfs_get tuned longest_stall_ms)
if [ "$longest" -ge 8000 ] && [ "$(xfs_get tuned oom_triggers)" -eq 0 ]; then
	nfw_fail "tuned: a stall lasted $longest ms and the module never triggered the OOM killer"
fi
row() {
	printf '# %-8s | %5s | %9s | %8s | %7s | %6s | %7s | %s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
}
# "OOM kills" are the kernel OOM killer's kills, whoever invoked it (the
# module's triggers included); "killed workers" are nfw-fsload's own count.
row phase "load" "worst op" "longest" "module" "OOM" "killed" "fs"
row "" "s" "ms" "stall ms" "triggers" "kills" "workers" ""
for phase in baseline default tuned; do
	row $phase "$(xfs_get $phase load_wall_s)" "$(xfs_get $phase worst_op_ms)" \
		"$(xfs_get $phase longest_stall_ms)" "$(xfs_get $phase oom_triggers)" \
		"$(xfs_get $phase kernel_oom_kills)" "$(xfs_get $phase workers_killed)" \
		"repair=$(xfs_get $phase repair_rc) sums=$(xfs_get $phase sums_ok)/$XFS_NFILES"
done
nfw_pass "XFS scenario: baseline worst op $(xfs_get baseline worst_op_ms) ms; default $(xfs_get default worst_op_ms) ms; tuned $(xfs_get tuned worst_op_ms) ms; fs clean, data intact"
