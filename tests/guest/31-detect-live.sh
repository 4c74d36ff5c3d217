#!/bin/sh
# While allocations are stuck (in ZONE_DMA, so the rest of the guest keeps
# working and this test can look around), `stalls`, `stats` and the reports
# agree; the max_warnings budget prints one "suppressed" line and then stays
# quiet; writing max_warnings starts a fresh budget.
# nfw-qemu: --mem 512
# nfw-timeout: 300
. "$(dirname "$0")/lib.sh"

D=/sys/kernel/nofail_watchdog
nfw_insmod "$NFW_MODULE" stall_warn_ms=1000 warn_interval_ms=1000 max_warnings=3 \
	oom_after_ms=0 backoff=off
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"

nfw_dmesg_mark
echo "workers=4 mode=page zone=dma window_ms=$(nfw_slow 8000)" >/sys/kernel/nfw_stallgen/run &
gen=$!
wait_for '[ "$(nfw_stat stalls_active)" -ge 4 ]' "$(nfw_slow 20)" 0.2 ||
	{ cat $D/stalls; nfw_fail "4 stalls not detected: $(cat $D/stats)"; }
sleep 2
cat $D/stalls >/tmp/stalls
nfw_log "in flight:"; cat /tmp/stalls
pids=$(awk '$2 ~ /^nfw_stall\// && $6 >= 1000 { print $1 }' /tmp/stalls)
[ "$(echo "$pids" | wc -w)" -eq 4 ] || nfw_fail "stalls lists $(echo "$pids" | wc -w) stuck workers, expected 4"
for p in $pids; do
	[ -d /proc/$p ] || nfw_fail "pid $p in stalls does not exist"
	grep -q "nfw_stall" /proc/$p/comm || nfw_fail "pid $p is $(cat /proc/$p/comm)"
	awk -v p="$p" '$1 == p && $3 == "nofail" && $4 == 1 && $5 == 0 && $11 ~ /GFP_DMA/ && $11 ~ /__GFP_NOFAIL/ { ok = 1 } END { exit !ok }' /tmp/stalls ||
		nfw_fail "stalls line for $p wrong: $(grep "^$p " /tmp/stalls)"
done
[ "$(nfw_stat stalls_detected)" -eq 4 ] || nfw_fail "stalls_detected=$(nfw_stat stalls_detected)"
[ "$(nfw_stat stalls_active)" -eq 4 ] || nfw_fail "stalls_active=$(nfw_stat stalls_active)"
# Budget: 3 reports, then exactly one "suppressed" line, then silence.
reports=$(nfw_dmesg_new | grep -c "nofail_watchdog: INFO: task nfw_stall/")
[ "$reports" -eq 3 ] || nfw_fail "$reports reports printed with max_warnings=3"
[ "$(nfw_dmesg_new | grep -c 'further stall reports suppressed')" -eq 1 ] || nfw_fail "no single 'suppressed' line"
[ "$(nfw_stat reports)" -eq 3 ] || nfw_fail "stats reports=$(nfw_stat reports)"
[ "$(nfw_stat reports_suppressed)" -ge 1 ] || nfw_fail "stats reports_suppressed=0"
# Each report is followed by the task's stack.
nfw_dmesg_new | grep -A30 "nofail_watchdog: INFO: task nfw_stall/" | grep -qE "__alloc_pages|alloc_pages|try_to_free_pages|Call Trace|nfw_stall" ||
	nfw_fail "reports carry no stack"
wait $gen || nfw_fail "generator run failed"
wait_for '[ "$(nfw_stat in_flight)" -eq 0 ]' "$(nfw_slow 10)" || nfw_fail "in_flight stays $(nfw_stat in_flight)"
nfw_wait_settled
[ "$(nfw_stat stalls_ended)" -eq 4 ] || nfw_fail "stalls_ended=$(nfw_stat stalls_ended)"
[ "$(nfw_stat longest_stall_ms)" -ge 6000 ] || nfw_fail "longest_stall_ms=$(nfw_stat longest_stall_ms)"
[ "$(awk 'NR > 1' $D/recent | wc -l)" -eq 4 ] || nfw_fail "recent has $(awk 'NR > 1' $D/recent | wc -l) entries"
grep -q "^ *[0-9]* -> [0-9]* *: *[1-9]" $D/histogram || nfw_fail "histogram is empty"
nfw_log "histogram:"; cat $D/histogram

# A new budget after writing max_warnings.
echo 2 >$D/max_warnings
nfw_dmesg_mark
echo "workers=3 mode=page zone=dma window_ms=$(nfw_slow 3000)" >/sys/kernel/nfw_stallgen/run ||
	nfw_fail "second run failed"
reports=$(nfw_dmesg_new | grep -c "nofail_watchdog: INFO: task nfw_stall/")
[ "$reports" -eq 2 ] || nfw_fail "$reports reports after resetting the budget to 2"

# Disabled: nothing new is tracked.
echo 0 >$D/enabled
t0=$(nfw_stat tracked)
echo "workers=2 mode=page zone=dma window_ms=2000" >/sys/kernel/nfw_stallgen/run || nfw_fail "third run failed"
[ "$(nfw_stat tracked)" -eq "$t0" ] || nfw_fail "tracking while enabled=0"

nfw_rmmod nfw_stallgen
nfw_rmmod nofail_watchdog
nfw_pass "stalls/stats/reports agree, budget honoured"
