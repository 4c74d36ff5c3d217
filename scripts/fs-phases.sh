# The filesystem scenario in three phases, one boot (guest side, sourced
# after tests/guest/lib.sh by tests/guest/50-xfs-scenario.sh and by
# `make run-phases FS=...`): scripts/fs-scenario.sh on the scratch disk's
# filesystem (qemu/run --xfs, --ext4 or --btrfs).  Most RAM mlocked by a
# protected service (oom_score_adj -999), no swap, 16 processes writing,
# fsyncing, renaming and unlinking 256 KiB files in one directory.
#
#   baseline  without the module (bounded: if the load has not ended
#             HARD_EXTRA s after its own deadline, the hog is killed)
#   default   the module at its default knobs
#   tuned     stall_warn_ms=2000 oom_after_ms=5000 oom_interval_ms=2000
# After every phase: umount, the filesystem's read-only check (xfs_repair
# -n, e2fsck -fn, btrfs check --readonly), remount, and the checksums of the
# data set written and synced before the first phase.  Prints every phase's
# results and a table, then the verdict.
#
# Fails on: any check finding or checksum mismatch (any phase), a module
# phase whose load did not finish in time, allocations still tracked after a
# module phase, a module phase whose reports name none of the filesystem's
# functions in their stacks, or a tuned-phase stall longer than
# oom_after_ms + 3 s without the module triggering the OOM killer.  The baseline's outcome is recorded,
# not judged.  NFW_XFS_LOAD_S (default 60) changes the phase length.
# shellcheck shell=sh
. /nfw/scripts/fs-scenario.sh

LOAD_S=${NFW_XFS_LOAD_S:-60}
TUNED="stall_warn_ms=2000 oom_after_ms=5000 oom_interval_ms=2000"
echo -1000 >/proc/self/oom_score_adj || nfw_fail "cannot protect the test shell"

fs_data_set
nfw_log "data set: $FS_NFILES files, $FS_DATA_KB KiB, synced"
for phase in baseline default tuned; do
	case $phase in
	baseline) knobs=none ;;
	default) knobs= ;;
	tuned) knobs=$TUNED ;;
	esac
	nfw_log "phase $phase: module ${knobs:-at default knobs}; load ${LOAD_S}s"
	fs_phase "$phase" "$knobs" "$LOAD_S"
	fs_integrity "$phase"
	sed "s/^/# $phase: /" "/tmp/$FS_TYPE-$phase.res"
	[ -f "/tmp/$FS_TYPE-$phase.sites" ] && head -12 "/tmp/$FS_TYPE-$phase.sites" | sed "s/^/# $phase: site /"
	grep -E 'nofail_watchdog: (INFO|triggered OOM kill)' "/tmp/$FS_TYPE-$phase.dmesg" | head -6 | sed "s/^/# $phase: /"
done

row() {
	printf '# %-8s | %5s | %9s | %8s | %7s | %6s | %7s | %s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
}
# "OOM kills" are the kernel OOM killer's kills, whoever invoked it (the
# module's triggers included); "killed workers" are nfw-fsload's own count.
row phase "load" "worst op" "longest" "module" "OOM" "killed" "fs"
row "" "s" "ms" "stall ms" "triggers" "kills" "workers" ""
for phase in baseline default tuned; do
	row $phase "$(fs_get $phase load_wall_s)" "$(fs_get $phase worst_op_ms)" \
		"$(fs_get $phase longest_stall_ms)" "$(fs_get $phase oom_triggers)" \
		"$(fs_get $phase kernel_oom_kills)" "$(fs_get $phase workers_killed)" \
		"repair=$(fs_get $phase repair_rc) sums=$(fs_get $phase sums_ok)/$FS_NFILES"
done
# --- verdict ----------------------------------------------------------------
for phase in baseline default tuned; do
	if [ "$(fs_get $phase repair_rc)" != 0 ] || [ "$(fs_get $phase sums_bad)" != 0 ]; then
		cat "/tmp/$FS_TYPE-$phase.repair" "/tmp/$FS_TYPE-$phase.check"
		nfw_fail "integrity after $phase: $FS_CHECK exit $(fs_get $phase repair_rc), $(fs_get $phase sums_bad) checksum mismatches"
	fi
done
for phase in default tuned; do
	[ "$(fs_get $phase load_finished)" = yes ] || nfw_fail "$phase: the load did not finish in time: no recovery"
	[ "$(fs_get $phase load_rc)" = 0 ] || { cat "/tmp/$FS_TYPE-$phase.load"; nfw_fail "$phase: nfw-fsload failed (exit $(fs_get $phase load_rc))"; }
	[ "$(fs_get $phase in_flight_after)" = 0 ] || nfw_fail "$phase: allocations still tracked after the load"
	[ "$(fs_get $phase stalls_active_after)" = 0 ] || nfw_fail "$phase: stalls still active after the load"
done
# A reported stall is the filesystem's: its stack names the filesystem's
# functions (FS_SITES), not only the allocator's.
for phase in default tuned; do
	[ "$(fs_get $phase reports)" -gt 0 ] || continue
	grep -qE "^ *[0-9]+ ($FS_SITES)" "/tmp/$FS_TYPE-$phase.sites" || {
		grep -A30 'nofail_watchdog: INFO: task' "/tmp/$FS_TYPE-$phase.dmesg" | head -40
		nfw_fail "$phase: $(fs_get $phase reports) reports, none naming a $FS_LABEL function in its stack"
	}
done
[ "$(fs_get default reports)" -gt 0 ] || [ "$(fs_get tuned reports)" -gt 0 ] ||
	nfw_log "no stall was reported in either module phase: the squeeze did not hold this time, and the call-site check had nothing to check"
longest=$(fs_get tuned longest_stall_ms)
if [ "$longest" -ge 8000 ] && [ "$(fs_get tuned oom_triggers)" -eq 0 ]; then
	nfw_fail "tuned: a stall lasted $longest ms and the module never triggered the OOM killer"
fi
nfw_pass "$FS_LABEL scenario: baseline worst op $(fs_get baseline worst_op_ms) ms; default $(fs_get default worst_op_ms) ms; tuned $(fs_get tuned worst_op_ms) ms; fs clean, data intact"
