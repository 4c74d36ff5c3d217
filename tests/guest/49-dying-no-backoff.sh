#!/bin/sh
# A dying task is not put to sleep by back-off. A userspace writer stuck in
# a GFP_NOFS|__GFP_DMA|__GFP_NOFAIL allocation (nfw_stallgen's alloc file,
# ZONE_DMA exhausted by a generator run), with backoff=fixed 200 ms sleeps
# from the first round: alive, it sleeps in back-off (its `sleeps` count in
# the stalls file grows: the premise); once SIGKILLed (a fatal signal
# pending, as an OOM victim has) its sleeps stop (+1 allowed for the sleep
# in progress, which the kill ends) while it is still stuck and tracked,
# its reclaim rounds (retries) still going, and the generator's workers,
# not dying, still back off. When memory comes back it exits and its slot
# closes.
# nfw-qemu: --mem 512
# nfw-timeout: 240
. "$(dirname "$0")/lib.sh"

G=/sys/kernel/nfw_stallgen
D=$NFW_SYS
SLEEP_MS=200
# How long each phase is watched.
WATCH_S=3

# col PID N: field N of the task's line in the stalls file (6 ms, 7
# retries, 8 sleeps); empty if it is not listed.
col() { awk -v p="$1" -v n="$2" '$1 == p { print $n }' $D/stalls; }
gone() { ! kill -0 "$1" 2>/dev/null; }
workers_sleeps() { awk '$2 ~ /^nfw_stall\// { s += $8 } END { print s + 0 }' $D/stalls; }

nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
nfw_insmod "$NFW_MODULE" stall_warn_ms=500 warn_interval_ms=600000 max_warnings=50 oom_after_ms=0 \
	backoff=fixed backoff_min_ms=$SLEEP_MS backoff_max_ms=$SLEEP_MS backoff_after_ms=0
# The run's reserve is what gives the zone memory back at the end.
echo "workers=2 mode=page zone=dma reserve_kb=1024 window_ms=$(nfw_slow 120000)" >$G/run &
gen=$!
# The workers exist once the reserve is taken: only then may others
# exhaust the zone.
wait_for '[ "$(ps -o comm | grep -c "^nfw_stall/")" -ge 2 ]' "$(nfw_slow 20)" 0.1 ||
	nfw_fail "the generator run did not start: $(tail -1 $G/records)"
sh -c "echo zone=dma >$G/alloc" &
a=$!
wait_for '[ -n "$(col '$a' 8)" ]' "$(nfw_slow 20)" 0.2 || nfw_fail "writer $a not tracked: $(cat $D/stalls)"
# Seen in the slow path on its stack, looked at until it is caught asleep
# (a running task's /proc/PID/stack is empty: seen on the debug kernel).
nfw_in_slowpath $a || nfw_fail "writer $a is not in the allocator slow path"

# Premise: alive and not dying, the writer sleeps in back-off.
s0=$(col $a 8); r0=$(col $a 7)
sleep $WATCH_S
s1=$(col $a 8); r1=$(col $a 7)
nfw_log "before the kill: writer $a sleeps $s0 -> $s1, retries $r0 -> $r1 in $WATCH_S s"
[ -n "$s1" ] || nfw_fail "writer $a no longer tracked"
[ "$s1" -ge $((s0 + 3)) ] || nfw_fail "premise: writer $a slept only $((s1 - s0)) times in $WATCH_S s of ${SLEEP_MS} ms back-off"

kill -9 $a
s2=$(col $a 8); r2=$(col $a 7); m2=$(col $a 6); w2=$(workers_sleeps)
sleep $WATCH_S
s3=$(col $a 8); r3=$(col $a 7); m3=$(col $a 6); w3=$(workers_sleeps)
nfw_log "after the kill: writer $a sleeps $s2 -> $s3, retries $r2 -> $r3, stuck $m2 -> $m3 ms in $WATCH_S s; the workers' sleeps $w2 -> $w3"
gone $a && nfw_fail "the killed writer exited during the watch: it was not stuck any more"
[ -n "$s3" ] || nfw_fail "the killed writer is no longer tracked while still stuck: $(cat $D/stalls)"
# Still in the same slow-path call throughout the watch: its stall's age
# grew by the whole watch (a return from the slow path closes the slot, a
# new call would start a new age). Its stack cannot show it: a dying task
# that no longer sleeps is always on a CPU, and a running task's
# /proc/PID/stack is empty (seen on the gcc flavour).
[ "$m3" -ge $((m2 + WATCH_S * 1000 - 200)) ] ||
	nfw_fail "the killed writer left the allocator slow path: its stall age went $m2 -> $m3 ms in $WATCH_S s"
nfw_log "writer $a: $(grep -E '^(State|ShdPnd|SigPnd)' /proc/$a/status | tr '\n\t' '  ')"
[ "$r3" -ge $((r2 + 3)) ] || nfw_fail "the killed writer did only $((r3 - r2)) reclaim rounds in $WATCH_S s: no chance to sleep"
[ "$s3" -le $((s2 + 1)) ] || nfw_fail "the killed writer still sleeps in back-off: sleeps $s2 -> $s3"
[ "$w3" -ge $((w2 + 3)) ] || nfw_fail "the workers stopped backing off too: sleeps $w2 -> $w3"
cat $D/stalls

nfw_gen_end $gen "end of the run"
wait_for "gone $a" "$(nfw_slow 30)" 0.2 || nfw_fail "the killed writer did not exit after memory came back"
wait $a 2>/dev/null
nfw_wait_settled
dmesg | grep 'allocations returned NULL' && nfw_fail "a __GFP_NOFAIL allocation returned NULL"
nfw_rmmod nofail_watchdog
nfw_rmmod nfw_stallgen
nfw_pass "sleeps before the kill $s0 -> $s1, after $s2 -> $s3 (retries $r2 -> $r3)"
