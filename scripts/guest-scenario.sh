#!/bin/sh
# The main scenario, run inside the guest by `make run` (scripts/run-scenario.sh):
# the filesystem scenario of scripts/fs-scenario.sh (XFS, or the scratch
# disk's ext4 or btrfs with `make run FS=...`) with the module at its default
# knobs.  Most RAM is mlocked by a protected service, no swap, and 16
# processes write, fsync, rename and unlink files in one XFS directory; XFS's
# GFP_NOFS allocations then loop in the page allocator with no OOM event.
# Prints what was stuck, what the module did, whether the load finished, and
# the integrity check.  NFW_RUN_LOAD_S (default 60) sets the load's length.
. /nfw/tests/guest/lib.sh
. /nfw/scripts/fs-scenario.sh

LOAD_S=${NFW_RUN_LOAD_S:-60}
say() { echo "$*"; }
echo -1000 >/proc/self/oom_score_adj
fs_data_set
say "== setup: $(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo) MiB guest, no swap; $FS_LABEL on $FS_DEV with a data set of $FS_NFILES files ($FS_DATA_KB KiB), fsynced"
say "   a protected service ('nfw-hog', oom_score_adj -1000) mlocks all but $FS_LEAVE_MB MiB of the available memory"
say "   load: $FS_PROCS nfw-fsload workers write ${FS_FILE_KB} KiB files (create, write, fsync, xattr, rename, unlink) in one directory for $LOAD_S s"
nfw_insmod "$NFW_MODULE"
say "== nofail_watchdog at its defaults: scope=$(nfw_knob scope) stall_warn_ms=$(nfw_knob stall_warn_ms)" \
	"backoff=$(nfw_knob backoff) after $(nfw_knob backoff_after_ms) ms, oom_after_ms=$(nfw_knob oom_after_ms)"
nfw_rmmod nofail_watchdog
say "== running ..."
fs_phase run "" "$LOAD_S"
fs_integrity run
r() { fs_get run "$1"; }

say ""
say "== what was stuck (longest stalls the module saw; ms = time in the allocator)"
awk 'NR > 1' /tmp/$FS_TYPE-run.recent | sort -k9 -rn | head -6 |
	awk '{ printf "   %s (pid %s): %s allocation, order %s, gfp=%s, stuck %d ms, %s retry rounds, %s back-off sleeps\n",
		$2, $1, $3, $4, $5, $9, $10, $11 }'
[ -s /tmp/$FS_TYPE-run.sites ] &&
	say "   call sites in the reported stacks: $(head -8 /tmp/$FS_TYPE-run.sites | awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $2 }')"
say "   the workload's slowest system call: $(r worst_op) took $(r worst_op_ms) ms"
say ""
say "== what the module did"
say "   stalls reported: $(r stalls_detected) (longest $(r longest_stall_ms) ms)"
first=$(grep -m1 'nofail_watchdog: INFO: task' /tmp/$FS_TYPE-run.dmesg | sed 's/^.*nofail_watchdog: //')
[ -n "$first" ] && say "   first report: $first"
say "   back-off: $(r backoff_sleeps) sleeps, $(r backoff_slept_ms) ms slept in total"
say "   OOM calls of the stuck allocations: $(r oom_calls); shown __GFP_FS (triggers): $(r oom_triggers), of which ended in a kill: $(r oom_kills), waited for an exiting victim: $(r oom_deferred)"
grep 'nofail_watchdog: triggered OOM kill' /tmp/$FS_TYPE-run.dmesg | head -3 | sed 's/^.*nofail_watchdog: /   /'
say "   OOM kills by the kernel: $(r kernel_oom_kills) (invoked by: $(r oom_invokers))"
grep 'Out of memory: Killed process' /tmp/$FS_TYPE-run.dmesg | head -3 | sed 's/^.*Out of memory: /   /; s/ total-vm.*//'
say ""
say "== outcome"
if [ "$(r load_finished)" = yes ] && [ "$(r load_rc)" = 0 ]; then
	say "   the workload finished: $(r load_wall_s) s for a ${LOAD_S} s load, $(r ops) operations, $(r workers_killed) of $(r workers) workers OOM-killed"
	ok=1
else
	say "   the workload did NOT finish in time (exit $(r load_rc))"
	ok=0
fi
say "   worst heartbeat gap: $(r heartbeat_gap_ms) ms; memory PSI 'full': $(r psi_full_ms) ms"
say ""
say "== integrity"
if [ "$(r repair_rc)" = 0 ] && [ "$(r sums_bad)" = 0 ]; then
	say "   $FS_CHECK: clean; checksums: $(r sums_ok)/$FS_NFILES files match"
else
	say "   $FS_CHECK exit $(r repair_rc); checksum mismatches: $(r sums_bad)"
	cat /tmp/$FS_TYPE-run.repair /tmp/$FS_TYPE-run.check
	ok=0
fi
[ $ok = 1 ]
