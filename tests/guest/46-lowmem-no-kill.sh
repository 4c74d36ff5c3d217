#!/bin/sh
# Lowmem stalls get no OOM kill: (A) GFP_NOFS|__GFP_DMA|__GFP_NOFAIL
# allocations stuck for several seconds (ZONE_DMA exhausted) with
# oom_after_ms=500 are reported and backed off, but the kernel never calls
# out_of_memory() for a lowmem allocation, so the module never sees an OOM
# call to arm: oom_calls, oom_triggers and oom_kills stay 0 and the kernel
# logs no OOM report, although killable tasks (two small hogs with
# oom_score_adj=1000) are there all along. (B, control) With the same knobs
# in the same boot, a normal-zone stall of the same kind does reach
# out_of_memory() and ends with a kill: A's silence is the lowmem rule, not
# a module that cannot kill.
# nfw-qemu: --mem 512
# nfw-timeout: 300
. "$(dirname "$0")/lib.sh"

G=/sys/kernel/nfw_stallgen
OOM_AFTER=500
WARN=500
# How long the lowmem stall lasts at least: many times oom_after_ms.
STALL_MS=5000
# This shell and qemu/init's are never the OOM killer's choice.
echo -1000 >/proc/self/oom_score_adj
echo -1000 >/proc/$PPID/oom_score_adj
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
nfw_insmod "$NFW_MODULE" stall_warn_ms=$WARN oom_after_ms=$OOM_AFTER oom_interval_ms=500 \
	warn_interval_ms=600000 max_warnings=50
nfw_start_hog --mb 8 --oom-score-adj 1000 --name nfw-small1
h1=$NFW_HOG_PID
nfw_start_hog --mb 8 --oom-score-adj 1000 --name nfw-small2
h2=$NFW_HOG_PID

# --- A: ZONE_DMA stall -------------------------------------------------------
nfw_dmesg_mark
# (The window outlasts STALL_MS by the setup time, NFW_SLOW times longer on
# a slower kernel.)
echo "workers=2 mode=page zone=dma window_ms=$(nfw_slow $((STALL_MS + 2000)))" >$G/run &
gen=$!
nfw_dmesg_wait "nofail_watchdog: INFO: task nfw_stall/[0-9]+:[0-9]+ stuck in page allocation" "$(nfw_slow 20)" ||
	nfw_fail "A: the lowmem stall was not reported: $(cat $NFW_SYS/stats)"
nfw_dmesg_new | grep -E "nofail_watchdog: INFO: task nfw_stall/" | head -2
nfw_dmesg_new | grep -qE "nofail_watchdog: INFO: task nfw_stall/.*kind=nofail .*gfp=GFP_NOFS[|]GFP_DMA[|]__GFP_NOFAIL" ||
	nfw_fail "A: the report does not name a GFP_NOFS|GFP_DMA|__GFP_NOFAIL allocation"
wait_for '[ "$(nfw_stat backoff_sleeps)" -gt 0 ]' "$(nfw_slow 10)" 0.2 ||
	nfw_fail "A: the stuck workers were not backed off: $(cat $NFW_SYS/stats)"
# Mid-stall: the stall is long past oom_after_ms, nothing armed.
sleep 2
mid=$(awk '$2 ~ /^nfw_stall\// && $6 > m { m = $6 } END { print m + 0 }' $NFW_SYS/stalls)
nfw_log "A: mid-stall: oldest worker stuck $mid ms, oom_calls=$(nfw_stat oom_calls) retries=$(nfw_stat retries)"
[ "$mid" -ge $((4 * OOM_AFTER)) ] || nfw_fail "A: stall only $mid ms old mid-way: $(cat $NFW_SYS/stalls)"
wait $gen || nfw_fail "A: the generator run failed"
nfw_stallgen_records >/tmp/recA
tail -1 /tmp/recA
# The premise: the workers really were stuck for STALL_MS and more, each in
# one allocation (ground truth).
grep -q 'stopped_by=window' /tmp/recA || nfw_fail "A: the run did not end at its window: $(tail -1 /tmp/recA)"
max=$(sed -n 's/.* max_ms=\([0-9]*\).*/\1/p' /tmp/recA)
[ "${max:-0}" -ge "$STALL_MS" ] || nfw_fail "A: the longest stuck allocation took only ${max:-?} ms (< $STALL_MS)"
nfw_dmesg_new >/tmp/dA
sleeps=$(nfw_stat backoff_sleeps)
retries=$(nfw_stat retries)
calls=$(nfw_stat oom_calls)
trig=$(nfw_stat oom_triggers)
kills=$(nfw_stat oom_kills)
nfw_log "A: stuck up to $max ms with oom_after_ms=$OOM_AFTER: retries=$retries backoff_sleeps=$sleeps oom_calls=$calls oom_triggers=$trig oom_kills=$kills"
[ "$retries" -ge 10 ] || nfw_fail "A: only $retries retry rounds: did the allocator loop at all?"
[ "$sleeps" -gt 0 ] || nfw_fail "A: no back-off sleep"
[ "$calls" -eq 0 ] || nfw_fail "A: out_of_memory() was called $calls times for a lowmem stall"
[ "$trig" -eq 0 ] || nfw_fail "A: $trig OOM triggers for a lowmem stall"
[ "$kills" -eq 0 ] || nfw_fail "A: $kills OOM kills for a lowmem stall"
if grep -E "Killed process|invoked oom-killer|triggered OOM kill|Out of memory" /tmp/dA; then
	nfw_fail "A: an OOM kill during a lowmem stall"
fi
[ -d /proc/$h1 ] && [ -d /proc/$h2 ] || nfw_fail "A: a hog died"
nfw_wait_settled

# --- B (control): the same stall in ZONE_NORMAL is killed -------------------
# Most of RAM locked by a big hog; the workers eat the rest.
nfw_start_hog --leave-mb 160 --name nfw-big
big=$NFW_HOG_PID
# The premise: the stall needs a kill. One that ended by itself before the
# module triggered (reclaim found pages: debug beside a matrix lane, its
# longest allocation 598 ms; 7.3 beside one, 6 early out_of_memory() calls
# from allocations not yet oom_after_ms old) did not establish it: B runs
# again, at most B_RUNS times. A trigger with no kill fails at once, and so
# does a stall that never ends (the module did not trigger for it).
B_RUNS=3
b_run=0
while :; do
	b_run=$((b_run + 1))
	trig0=$(nfw_stat oom_triggers)
	nfw_dmesg_mark
	echo "workers=2 mode=page until=stall stall_ms=$OOM_AFTER window_ms=$(nfw_slow 60000)" >$G/run ||
		nfw_fail "B: the generator run failed"
	nfw_stallgen_records | tail -1 >/tmp/recB
	cat /tmp/recB
	nfw_dmesg_new >/tmp/dB
	grep -q "stopped_by=stall" /tmp/recB || { cat /tmp/dB; nfw_fail "B: the normal-zone stall did not end by itself"; }
	victim=$(grep -m1 -o "Killed process [0-9]* ([^)]*)" /tmp/dB)
	[ -n "$victim" ] && break
	if [ "$(nfw_stat oom_triggers)" -gt "$trig0" ] || [ $b_run -ge $B_RUNS ]; then
		cat /tmp/dB
		nfw_fail "B: no kill for a normal-zone stall (run $b_run of $B_RUNS, oom_calls=$(nfw_stat oom_calls) oom_triggers=$(nfw_stat oom_triggers))"
	fi
	nfw_log "B: run $b_run: the stall ended by itself before the module triggered (oom_calls=$(nfw_stat oom_calls); premise not established); again"
	nfw_wait_settled
done
[ "$(nfw_stat oom_calls)" -gt 0 ] || nfw_fail "B: no out_of_memory() call seen"
[ "$(nfw_stat oom_kills)" -ge 1 ] || nfw_fail "B: oom_kills=$(nfw_stat oom_kills)"
nfw_log "B: normal-zone stall: $victim; oom_calls=$(nfw_stat oom_calls) oom_triggers=$(nfw_stat oom_triggers) oom_kills=$(nfw_stat oom_kills)"
nfw_wait_settled
for p in $h1 $h2 $big; do nfw_stop_hog "$p"; done
nfw_rmmod nfw_stallgen
nfw_rmmod nofail_watchdog
nfw_pass "lowmem stall of $max ms: reported, $sleeps back-off sleeps, no OOM call, no kill (normal-zone control: killed)"
