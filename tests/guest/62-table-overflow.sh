#!/bin/sh
# More stuck tasks than the module can track: 1100 generator workers stuck
# in ZONE_DMA no-fail allocations, against the 1024-slot table. (The
# generator's maximum, 2048, works too, but the 1024 untracked workers,
# which nothing backs off, spin in reclaim and starve this shell for
# minutes even at nice 19.) The table fills, the rest is counted in
# `overflow` and reported once in the kernel log, reports stay within
# max_warnings, the stalls and recent files are whole lines within a page
# (sysfs's limit: PAGE_SIZE - 1 bytes), stalls shows the longest stuck
# first, the module's memory does not grow, nothing crashes, and once the
# stall ends every task finishes and every slot is freed.
# nfw-qemu: --mem 512
# nfw-timeout: 600
. "$(dirname "$0")/lib.sh"

WORKERS=1100
CAPACITY=1024
G=/sys/kernel/nfw_stallgen
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
nfw_insmod "$NFW_MODULE" stall_warn_ms=1000 warn_interval_ms=3600000 max_warnings=3 \
	backoff_after_ms=0 backoff=fixed backoff_min_ms=1000 oom_after_ms=0
size0=$(cat /sys/module/nofail_watchdog/coresize)
nfw_dmesg_mark
# nice 19: the workers the module does not back off spin in reclaim.
# (The generator's window is at most 600 s.)
window=$(nfw_slow 300000)
[ "$window" -le 600000 ] || window=600000
echo "workers=$WORKERS mode=page zone=dma nice=19 window_ms=$window record_ms=600000" >$G/run &
gen=$!
wait_for '[ "$(nfw_stat overflow)" -gt 0 ] && [ "$(nfw_stat slots_in_use)" -ge $CAPACITY ]' "$(nfw_slow 120)" 0.5 ||
	nfw_fail "table did not fill: $(cat $NFW_SYS/stats)"
# Let the watchdog report (1 s) and look a few times while it is full.
i=0
while [ $i -lt 5 ]; do
	i=$((i + 1))
	sleep 1
	used=$(nfw_stat slots_in_use) infl=$(nfw_stat in_flight)
	[ "$used" -le $CAPACITY ] && [ "$infl" -le $CAPACITY ] || nfw_fail "more than $CAPACITY tracked: $(cat $NFW_SYS/stats)"
	lines=$(wc -l <$NFW_SYS/stalls)
	[ "$lines" -gt 1 ] || nfw_fail "the stalls file is empty while $infl are tracked: $(cat $NFW_SYS/stats)"
	nfw_whole_lines $NFW_SYS/stalls 11 || nfw_fail "the stalls file is not whole lines within a page"
	awk 'NR > 1 { if ($9 < last) exit 1; last = $9 }' $NFW_SYS/stalls ||
		nfw_fail "the stalls file is not longest stuck first: $(cut -d' ' -f1,6,9 $NFW_SYS/stalls | head -5)"
done
nfw_dmesg_wait "tracking table full" "$(nfw_slow 10)" || nfw_fail "the overflow was not reported in the kernel log"
nfw_log "$(grep -E '^(tracked|in_flight|slots_in_use|overflow|stalls_detected|reports|reports_suppressed|probe_missed) ' $NFW_SYS/stats | tr '\n' ' ')"
nfw_log "stalls file: $lines lines shown of $infl tracked (one page)"
[ "$(nfw_dmesg_new | grep -c 'tracking table full')" = 1 ] || nfw_fail "the overflow was reported more than once"
[ "$(nfw_stat reports)" -le 3 ] || nfw_fail "more reports than max_warnings: $(nfw_stat reports)"
[ "$(nfw_dmesg_new | grep -c 'nofail_watchdog: INFO: task')" -le 3 ] || nfw_fail "more than 3 stall reports logged"
[ "$(cat /sys/module/nofail_watchdog/coresize)" = "$size0" ] || nfw_fail "module size changed"

nfw_gen_end $gen "" 120
nfw_wait_settled
nfw_whole_lines $NFW_SYS/recent 11 || nfw_fail "the recent file is not whole lines within a page"
nfw_rmmod nofail_watchdog
nfw_rmmod nfw_stallgen
nfw_pass "$WORKERS stuck tasks, $CAPACITY tracked, overflow counted and reported once"
