#!/bin/sh
# The main scenario, run inside the guest by `make run` (scripts/run-scenario.sh):
# userspace mlocks most of RAM, then kernel threads allocate in a NOFS scope
# with __GFP_NOFAIL (kvmalloc under memalloc_nofs_save(), the mailing-list
# case) until memory runs out. Without the module the machine livelocks with
# no OOM event; with it, at its default knobs, the stall is reported, backed
# off, and after oom_after_ms the kernel's OOM killer kills the hog.
. /nfw/tests/guest/lib.sh

say() { echo "$*"; }
nfw_insmod "$NFW_MODULE"
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
nfw_start_hog --leave-mb 160 --name memory-hog >/dev/null
say "== setup: 'memory-hog' (pid $NFW_HOG_PID) mlocked $(grep -o 'locked_mb=[0-9]*' /tmp/nfw-hog.* | head -1 | cut -d= -f2) MiB; no swap"
say "== module loaded with its defaults: stall_warn_ms=$(nfw_knob stall_warn_ms) backoff=$(nfw_knob backoff) (after $(nfw_knob backoff_after_ms) ms) oom_after_ms=$(nfw_knob oom_after_ms)"
say "== 2 kernel threads allocate 64 KiB with kvmalloc(GFP_KERNEL|__GFP_NOFAIL) inside memalloc_nofs_save() until memory runs out ..."
nfw_dmesg_mark
t0=$(cut -d' ' -f1 /proc/uptime)
echo "workers=2 mode=scoped until=stall stall_ms=5000 window_ms=180000" >/sys/kernel/nfw_stallgen/run ||
	nfw_fail "stall generator failed"
t1=$(cut -d' ' -f1 /proc/uptime)
nfw_wait_settled
nfw_dmesg_new >/tmp/dmesg
summary=$(tail -1 /sys/kernel/nfw_stallgen/records)

say ""
say "== what was stuck"
awk 'NR > 1 && $2 ~ /^nfw_stall\// {
	printf "   task %s (pid %s): %s allocation, order %s, gfp=%s, stuck %d ms, %s retry rounds, %s back-off sleeps\n",
		$2, $1, $3, $4, $5, $9, $10, $11 }' $NFW_SYS/recent
say ""
say "== what the module did"
say "   reports: $(grep -c 'nofail_watchdog: INFO: task' /tmp/dmesg) (first: $(grep -m1 'nofail_watchdog: INFO: task' /tmp/dmesg | sed 's/^.*nofail_watchdog: //'))"
say "   back-off: $(nfw_stat backoff_sleeps) sleeps, $(nfw_stat backoff_slept_ms) ms slept in total"
trig=$(grep -m1 'nofail_watchdog: triggering OOM kill' /tmp/dmesg | sed 's/^.*nofail_watchdog: //')
kill=$(grep -m1 'Out of memory: Killed process' /tmp/dmesg | sed 's/^.*Out of memory: //; s/ total-vm.*//')
say "   OOM: ${trig:-no trigger}"
say "   kernel: ${kill:-nobody killed}"
say ""
say "== outcome"
case "$summary" in
*stopped_by=stall*) say "   the stuck allocations returned and the workload finished after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s" ;;
*) say "   the workload did NOT finish by itself: $summary"; exit 1 ;;
esac
[ -d /proc/$NFW_HOG_PID ] && say "   (memory-hog is still alive)"
say "   stats: stalls_detected=$(nfw_stat stalls_detected) longest_stall_ms=$(nfw_stat longest_stall_ms) oom_triggers=$(nfw_stat oom_triggers)"
nfw_rmmod nfw_stallgen
nfw_rmmod nofail_watchdog
