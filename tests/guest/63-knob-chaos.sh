#!/bin/sh
# Knobs changed at random, valid and invalid values, by 4 processes at once
# for 20 s while 8 allocations are stuck (ZONE_DMA) and sleep in back-off:
# every write returns what the rules say, every knob holds a valid value
# afterwards, reports stay within the budget, nothing crashes, and the
# module still works: with known values written back it reports and backs
# off the stalls again. (oom_after_ms and max_warnings are left out: an OOM
# dump every 100 ms or a budget of a million reports on the serial console
# is what root asked for, not something to test here.)
# nfw-qemu: --mem 512
# nfw-timeout: 300
. "$(dirname "$0")/lib.sh"

nfw_require_cmd nfw-fuzz
SEED=${NFW_SEED:-$(date +%s)}
nfw_log "seed $SEED"
D=$NFW_SYS
G=/sys/kernel/nfw_stallgen
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
nfw_insmod "$NFW_MODULE" stall_warn_ms=500 warn_interval_ms=2000 max_warnings=20 \
	backoff_after_ms=0 backoff=fixed backoff_min_ms=20 oom_after_ms=0
nfw_dmesg_mark
echo "workers=8 mode=page zone=dma window_ms=$(nfw_slow 60000)" >$G/run &
gen=$!
wait_for '[ "$(nfw_stat stalls_active)" -ge 8 ] && [ "$(nfw_stat backoff_sleeps)" -gt 0 ]' "$(nfw_slow 20)" 0.2 ||
	nfw_fail "8 stalls in back-off not seen: $(cat $D/stats)"

out=$(nfw-fuzz chaos --secs "$(nfw_slow 20)" --procs 4 --seed "$SEED" --skip oom_after_ms --skip max_warnings) || {
	echo "$out"
	nfw_fail "a knob write did not behave as documented"
}
echo "$out"
kill -0 $gen 2>/dev/null || nfw_fail "the stall ended during the chaos: $(tail -1 $G/records)"
reports=$(nfw_dmesg_new | grep -c 'nofail_watchdog: INFO: task')
[ "$reports" -le 20 ] || nfw_fail "$reports reports with max_warnings=20"
[ "$(nfw_dmesg_new | grep -c 'further stall reports suppressed')" -le 1 ] || nfw_fail "more than one 'suppressed' line"

# Known values back: the stalls are reported and backed off again.
for kv in enabled=1 scope=nofs stall_warn_ms=500 warn_interval_ms=500 panic_on_stall=0 \
	backoff=fixed backoff_after_ms=0 backoff_min_ms=20 backoff_max_ms=100 oom_interval_ms=5000; do
	nfw_knob "${kv%%=*}" "${kv#*=}"
done
nfw_dmesg_mark
nfw_knob max_warnings 5
s0=$(nfw_stat backoff_sleeps)
nfw_dmesg_wait 'nofail_watchdog: INFO: task nfw_stall/' "$(nfw_slow 10)" || nfw_fail "no report after the chaos"
wait_for '[ "$(nfw_stat backoff_sleeps)" -gt '"$s0"' ]' "$(nfw_slow 10)" || nfw_fail "no back-off after the chaos"

nfw_gen_end $gen
nfw_wait_settled
nfw_rmmod nofail_watchdog
nfw_rmmod nfw_stallgen
nfw_pass "$(echo "$out" | grep -c 'all as expected') writers, knobs valid, module working afterwards"
