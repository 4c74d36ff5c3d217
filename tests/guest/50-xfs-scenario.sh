#!/bin/sh
# The real XFS scenario (scripts/fs-scenario.sh, three phases as in
# scripts/fs-phases.sh): most RAM mlocked by a
# protected service (oom_score_adj -999), no swap, 16 processes writing,
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
# module phase, or a tuned-phase stall whose task called out_of_memory()
# after oom_after_ms without the module triggering the OOM killer.  The baseline's outcome is recorded,
# not judged.  NFW_XFS_LOAD_S (default 60) changes the phase length.
# nfw-qemu: --mem 512 --xfs 600
# nfw-timeout: 1200
. "$(dirname "$0")/lib.sh"
. /nfw/scripts/fs-phases.sh
