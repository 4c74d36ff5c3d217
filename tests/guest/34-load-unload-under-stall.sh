#!/bin/sh
# insmod/rmmod 50 times while allocations are stalled and tracked, and
# sleeping in back-off at the moment of rmmod: no splat, no hang, every
# stalled task finishes. (Single-threaded TCG: multi-threaded TCG oopses on
# stale INT3s when kernel text is patched while other vCPUs run it, with or
# without this module; see qemu/run --help.)
# nfw-qemu: --mem 512 --tcg-threads single
# nfw-timeout: 600
. "$(dirname "$0")/lib.sh"

nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
CYCLES=${NFW_CYCLES:-50}
seen=0
i=0
while [ $i -lt "$CYCLES" ]; do
	i=$((i + 1))
	nfw_insmod "$NFW_MODULE" stall_warn_ms=100 warn_interval_ms=100 max_warnings=5 \
		backoff_after_ms=0 backoff=fixed backoff_min_ms=20 oom_after_ms=0
	echo "workers=4 mode=page zone=dma window_ms=9000" >/sys/kernel/nfw_stallgen/run &
	gen=$!
	# rmmod once stalls are tracked and the stuck tasks sleep in back-off.
	if wait_for '[ "$(nfw_stat stalls_active)" -gt 0 ] && [ "$(nfw_stat backoff_sleeps)" -gt 0 ]' 8 0.05; then
		seen=$((seen + 1))
	fi
	rmmod nofail_watchdog || nfw_fail "cycle $i: rmmod failed"
	nfw_module_loaded nofail_watchdog && nfw_fail "cycle $i: still loaded"
	# End the run early: every stuck task gets its memory and exits.
	nfw_gen_end $gen "cycle $i"
done
nfw_log "$CYCLES cycles; stalls were tracked and sleeping in back-off at rmmod time in $seen of them"
[ "$seen" -ge $((CYCLES * 8 / 10)) ] || nfw_fail "stalls tracked at rmmod in only $seen/$CYCLES cycles"
nfw_rmmod nfw_stallgen
nfw_pass "$CYCLES insmod/rmmod cycles under stall"
