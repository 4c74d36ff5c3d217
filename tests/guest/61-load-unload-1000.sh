#!/bin/sh
# insmod/rmmod cycles while 64 tasks stay stalled in no-fail page
# allocations and some of them sleep in back-off inside the module at every
# rmmod: no splat, no hang, and when the stall ends every stuck task
# finishes. CYCLES below: the long count with NFW_LONG=1 (make test-long),
# a short one in make test, since a cycle takes seconds under TCG (kprobe,
# tracepoint and shrinker (un)registration and their grace periods, with
# the workers spinning in reclaim).
# The generator churns (churn_ms): every 200 ms one stuck task gets a page
# and is stuck again in a new slow-path call, which the module instance
# loaded at that time tracks and backs off. The workers run at nice 19:
# those no instance backs off burn the CPUs in reclaim. A generator run
# lasts at most 5 min (its reserve lasts 1500 churns); the next one starts
# when it ends. (Single-threaded TCG, as 34-load-unload-under-stall: see
# qemu/run --help.)
# nfw-qemu: --mem 512 --tcg-threads single
# nfw-timeout: 600
# nfw-long-timeout: 7200
. "$(dirname "$0")/lib.sh"

if [ "${NFW_LONG:-0}" = 1 ]; then CYCLES=${NFW_CYCLES:-1000}; else CYCLES=${NFW_CYCLES:-12}; fi
WORKERS=64
G=/sys/kernel/nfw_stallgen
PARAMS="stall_warn_ms=3600000 backoff_after_ms=0 backoff=fixed backoff_min_ms=20 oom_after_ms=0"
runs=0
start_run() {
	echo "workers=$WORKERS mode=page zone=dma reserve_kb=8192 churn_ms=200 nice=19 window_ms=300000 record_ms=60000" >$G/run &
	gen=$!
	runs=$((runs + 1))
}
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
# A watchdog loaded before the workers start tracks them all: proof that
# all 64 are stuck.
# shellcheck disable=SC2086
nfw_insmod "$NFW_MODULE" $PARAMS
start_run
wait_for '[ "$(nfw_stat in_flight)" -ge $WORKERS ]' "$(nfw_slow 30)" 0.2 ||
	nfw_fail "the generator's workers did not stall: $(cat $NFW_SYS/stats)"
nfw_rmmod nofail_watchdog

start=$(date +%s)
seen=0 most=0
i=0
while [ $i -lt "$CYCLES" ]; do
	i=$((i + 1))
	if ! kill -0 $gen 2>/dev/null; then
		wait $gen
		grep -qE "summary workers=$WORKERS .*stopped_by=window" $G/records ||
			nfw_fail "cycle $i: run $runs did not end by its window: $(tail -1 $G/records)"
		start_run
	fi
	# shellcheck disable=SC2086
	insmod "$NFW_MODULE" $PARAMS || nfw_fail "cycle $i: insmod failed"
	# rmmod once this instance tracks a stuck task that slept in back-off
	# (they sleep 20 ms per retry round: most of the time).
	if wait_for '[ "$(nfw_stat backoff_sleeps)" -gt 0 ]' "$(nfw_slow 5)" 0.05; then
		seen=$((seen + 1))
	fi
	n=$(nfw_stat in_flight)
	[ "$n" -gt "$most" ] && most=$n
	rmmod nofail_watchdog || nfw_fail "cycle $i: rmmod failed"
	nfw_module_loaded nofail_watchdog && nfw_fail "cycle $i: still loaded after rmmod"
	[ $((i % 50)) = 0 ] && nfw_log "$i cycles, $(($(date +%s) - start)) s"
done
secs=$(($(date +%s) - start))
nfw_log "$CYCLES cycles in $secs s ($runs generator runs); back-off sleepers at rmmod in $seen; most tasks one instance tracked: $most"

# End the stall: every stuck task gets memory, sees STOP and exits.
nfw_gen_end $gen
[ "$seen" -ge $((CYCLES * 9 / 10)) ] || nfw_fail "back-off sleepers at rmmod in only $seen/$CYCLES cycles"
nfw_rmmod nfw_stallgen
nfw_pass "$CYCLES insmod/rmmod cycles with $WORKERS stuck tasks ($secs s)"
