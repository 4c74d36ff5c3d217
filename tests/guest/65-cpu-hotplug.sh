#!/bin/sh
# CPU hotplug while a stalled task runs on the CPU: a writer of nfw_stallgen's
# alloc file, pinned to CPU 1, is stuck, tracked and sleeping in back-off;
# CPU 1 goes offline (the task moves to CPU 0) and comes back twice. No
# splat, the stall stays tracked and is reported again, and the task exits
# once memory comes back. Skipped if the kernel cannot offline CPU 1.
# nfw-qemu: --mem 512 --smp 2
# nfw-timeout: 300
. "$(dirname "$0")/lib.sh"

C=/sys/devices/system/cpu/cpu1/online
[ -w $C ] || nfw_skip "CPU 1 cannot be taken offline (no CONFIG_HOTPLUG_CPU or one CPU)"
nfw_require_cmd taskset
G=/sys/kernel/nfw_stallgen
echo -1000 >/proc/self/oom_score_adj
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
nfw_insmod "$NFW_MODULE" stall_warn_ms=500 warn_interval_ms=1000 max_warnings=100 \
	backoff_after_ms=0 backoff=fixed backoff_min_ms=50 oom_after_ms=0
echo "workers=2 mode=page zone=dma reserve_kb=1024 window_ms=$(nfw_slow 120000)" >$G/run &
gen=$!
wait_for '[ "$(ps -o comm | grep -c "^nfw_stall/")" -ge 2 ]' "$(nfw_slow 20)" 0.1 || nfw_fail "generator did not start"
taskset -c 1 sh -c "echo zone=dma >$G/alloc" &
p=$!
tracked() { awk -v p="$p" '$1 == p { f = 1 } END { exit !f }' $NFW_SYS/stalls; }
wait_for 'tracked && [ "$(nfw_stat backoff_sleeps)" -gt 0 ]' "$(nfw_slow 20)" 0.2 ||
	nfw_fail "writer $p not tracked in back-off: $(cat $NFW_SYS/stalls)"
nfw_log "writer $p stuck on CPU $(awk '{ print $39 }' /proc/$p/stat)"
n=0
while [ $n -lt 2 ]; do
	n=$((n + 1))
	echo 0 >$C || nfw_fail "cannot offline CPU 1"
	[ "$(cat $C)" = 0 ] || nfw_fail "CPU 1 still online"
	s0=$(nfw_stat backoff_sleeps)
	nfw_dmesg_mark
	wait_for "nfw_dmesg_grep ':$p stuck'" "$(nfw_slow 10)" 0.2 || nfw_fail "no report while CPU 1 is offline"
	wait_for '[ "$(nfw_stat backoff_sleeps)" -gt '"$s0"' ]' "$(nfw_slow 10)" 0.2 || nfw_fail "no back-off while CPU 1 is offline"
	tracked || nfw_fail "the stall is no longer tracked"
	nfw_log "CPU 1 offline: writer on CPU $(awk '{ print $39 }' /proc/$p/stat), still tracked and backed off"
	echo 1 >$C || nfw_fail "cannot online CPU 1"
	[ "$(cat $C)" = 1 ] || nfw_fail "CPU 1 still offline"
	sleep 1
done
kill -9 $p
nfw_gen_end $gen
wait_for '! kill -0 $p 2>/dev/null' "$(nfw_slow 60)" 0.2 || nfw_fail "the stuck writer did not exit"
wait $p 2>/dev/null
nfw_wait_settled
nfw_rmmod nofail_watchdog
nfw_rmmod nfw_stallgen
nfw_pass "CPU 1 offlined and onlined twice under a tracked stall"
