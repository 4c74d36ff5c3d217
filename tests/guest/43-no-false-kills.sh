#!/bin/sh
# No false kills: memory nearly full (hog at 90% of what is available) with
# normal file I/O, nobody stuck: no trigger, no kill for the whole window. A
# short stall that ends by itself before oom_after_ms: no kill either, though
# its allocations reach out_of_memory() (in the normal zone: a lowmem stall
# never does, and never gets a kill). A kill is false when the module caused
# it; one the kernel's own OOM killer makes for another task's __GFP_FS
# allocation is the kernel's rule, and the run is made again.
# nfw-qemu: --mem 512 --xfs 400
# nfw-timeout: 300
. "$(dirname "$0")/lib.sh"

OOM_AFTER=4000
nfw_insmod "$NFW_MODULE" stall_warn_ms=1000 oom_after_ms=$OOM_AFTER
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
avail=$(nfw_mem_available_kb)
nfw_start_hog --mb $((avail * 9 / 10 / 1024)) --name nfw-hog
nfw_dmesg_mark
end=$(( $(date +%s) + 20 ))
i=0
while [ "$(date +%s)" -lt $end ]; do
	i=$((i + 1))
	dd if=/dev/zero of=/mnt/xfs/f$((i % 4)) bs=1M count=40 conv=fsync 2>/dev/null || nfw_fail "dd failed"
	cat /mnt/xfs/f$((i % 4)) >/dev/null
done
# A short stall (2.5 s) well below oom_after_ms (4 s); this shell waits in
# the write. Its premise is allocations that reach out_of_memory(); on a
# loaded host a run may stall too briefly to get there (seen on 7.3: 879
# ms, no call; with four guests on two host cores: 608, 724 and 1180 ms
# in a 1.2 s window, no call), so up to three runs, each checked for a
# false kill; when none gets there, that is said, not failed.
c0=$(nfw_stat oom_calls)
calls=0
for a in 1 2 3; do
	echo "workers=2 mode=page window_ms=2500" >/sys/kernel/nfw_stallgen/run || nfw_fail "short run failed"
	# A kill the module caused: its trigger, or a stuck worker's own call
	# made to act (the stuck allocations have no __GFP_FS of their own).
	nfw_dmesg_grep "triggered OOM kill|nfw_stall/[0-9]+ invoked oom-killer" && { nfw_dmesg_new; nfw_fail "false OOM kill"; }
	# The kernel's own OOM killer may act for another task's __GFP_FS
	# allocation while the workers hold the memory (seen in tests 20 and
	# 64: kthreadd forking): its rules, not the module's, but the run's
	# premise (a hog that stays) is gone; made again with a new hog.
	if nfw_dmesg_grep "invoked oom-killer"; then
		nfw_dmesg_new | grep -E "invoked oom-killer|Killed process"
		[ $a -lt 3 ] || nfw_fail "the kernel's own OOM killer acted in each of 3 runs"
		nfw_log "short stall, run $a: the kernel's OOM killer acted for another allocation; again"
		nfw_stop_hog
		nfw_start_hog --mb $((avail * 9 / 10 / 1024)) --name nfw-hog
		nfw_dmesg_mark
		continue
	fi
	[ "$(nfw_stat oom_triggers)" -eq 0 ] || nfw_fail "oom_triggers=$(nfw_stat oom_triggers)"
	calls=$(($(nfw_stat oom_calls) - c0))
	nfw_log "short stall, run $a: longest stall $(nfw_stat longest_stall_ms) ms, $calls out_of_memory() calls (before: $c0)"
	[ "$calls" -gt 0 ] && break
done
short="a short stall reached out_of_memory() $calls times, below oom_after_ms: no kill"
[ "$calls" -gt 0 ] || {
	short="premise not established: no short stall reached out_of_memory() in 3 runs (nothing to hold back)"
	nfw_log "$short"
}
[ -d /proc/$NFW_HOG_PID ] || nfw_fail "the hog died"
nfw_log "$i files written under memory pressure; no trigger"
nfw_stop_hog
nfw_rmmod nfw_stallgen
nfw_rmmod nofail_watchdog
nfw_pass "no false kills; $short"
