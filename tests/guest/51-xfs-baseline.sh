#!/bin/sh
# Baseline for 50-xfs-scenario: the same squeeze (nfw-hog --leave-mb 2, no
# swap, the same metadata-heavy stress-ng mix on XFS for 60 s) without
# nofail_watchdog, bounded in time on the guest side (if the load has not
# ended 90 s after its own timeout, the hog is killed to free memory, then
# the load).  Records the outcome: how long the load took, whether the
# kernel's OOM killer acted (and who invoked it with which gfp mask), the
# worst heartbeat gap, PSI memory "full" time, xfs_repair -n and the data set
# checksums.  Passes when it ran and recorded its outcome (an integrity
# problem is printed as a WARNING, not a failure); see 50-xfs-scenario.sh.
# nfw-qemu: --mem 512 --xfs 600
# nfw-timeout: 600
NFW_TEST_NAME=${NFW_TEST_NAME:-51-xfs-baseline} NFW_XFS_MODE=baseline \
	exec sh "$(dirname "$0")/50-xfs-scenario.sh"
