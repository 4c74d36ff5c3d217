#!/bin/sh
# Back-off: during a stall with oom_after_ms=0, the CPU time the stuck
# workers burn drops by at least 10x with back-off on versus off, measured
# side by side in one boot (ZONE_DMA stall, /proc/<pid>/stat utime+stime).
# nfw-qemu: --mem 512
# nfw-timeout: 300
. "$(dirname "$0")/lib.sh"

# On a slower kernel a retry round itself costs NFW_SLOW times more CPU, and
# what back-off saves is the ratio of its sleep to a round's cost: the
# longest sleep scales with NFW_SLOW (100 ms on the default kernel).
nfw_insmod "$NFW_MODULE" stall_warn_ms=1000 oom_after_ms=0 backoff_after_ms=500 \
	backoff_min_ms=1 backoff_max_ms=$(nfw_slow 100)
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"

# cpu_ticks: total utime+stime of the generator's workers, in clock ticks.
cpu_ticks() {
	t=0
	for p in $(awk '$2 ~ /^nfw_stall\// { print $1 }' $NFW_SYS/stalls); do
		s=$(cut -d')' -f2 /proc/$p/stat 2>/dev/null) || continue
		set -- $s
		t=$((t + ${12} + ${13}))
	done
	echo $t
}

# measure BACKOFF: "TICKS ROUNDS": CPU ticks burnt and direct-reclaim rounds
# made (the module's retries counter) in 4 s by 2 stuck workers.
measure() {
	nfw_knob backoff "$1"
	# (The stall must outlast the measurement: on a slower kernel it takes
	# NFW_SLOW times longer to set up.)
	echo "workers=2 mode=page zone=dma window_ms=$(nfw_slow 7000)" >/sys/kernel/nfw_stallgen/run &
	gen=$!
	wait_for '[ "$(nfw_stat stalls_active)" -ge 2 ]' "$(nfw_slow 20)" 0.2 || nfw_fail "backoff=$1: stall not detected"
	sleep 1
	a=$(cpu_ticks) ra=$(nfw_stat retries)
	sleep 4
	b=$(cpu_ticks) rb=$(nfw_stat retries)
	wait $gen || nfw_fail "backoff=$1: generator failed"
	echo "$((b - a)) $((rb - ra))"
}

set -- $(measure off)
off1=$1 rounds=$2
[ "$rounds" -gt 0 ] || nfw_fail "no direct-reclaim rounds counted without back-off"
# The premise: the longest sleep dwarfs what a round costs. A round's CPU,
# measured here without back-off (ticks are 10 ms, USER_HZ), was 35 ms on
# the debug kernel beside another guest suite (under 1 ms on the default
# kernel): more than NFW_SLOW accounts for, and 400 ms sleeps cut CPU only
# 8x in such a run. The longest sleep is made at least 40 rounds' worth
# (with 20, a debug run measured 12x).
round_ms=$(( (off1 * 10 + rounds - 1) / rounds ))
max=$(nfw_slow 100)
[ $((40 * round_ms)) -le "$max" ] || max=$((40 * round_ms))
nfw_knob backoff_max_ms "$max"
nfw_log "a round costs $round_ms ms of CPU ($off1 ticks, $rounds rounds); backoff_max_ms=$max"
on1=$(measure exp | cut -d' ' -f1)
off2=$(measure off | cut -d' ' -f1)
on2=$(measure exp | cut -d' ' -f1)
off=$((off1 + off2))
on=$((on1 + on2))
nfw_log "CPU ticks burnt by 2 stuck workers in 2 x 4 s: backoff=off $off ($off1+$off2), backoff=exp $on ($on1+$on2)"
[ "$off" -gt 100 ] || nfw_fail "stuck workers burnt only $off ticks without back-off: no busy loop to slow down?"
[ $((on * 10)) -le "$off" ] || nfw_fail "back-off cut CPU only from $off to $on ticks (< 10x)"
[ "$(nfw_stat backoff_sleeps)" -gt 0 ] || nfw_fail "no back-off sleeps counted"
nfw_log "sleeps=$(nfw_stat backoff_sleeps) slept_ms=$(nfw_stat backoff_slept_ms)"
nfw_rmmod nfw_stallgen
nfw_rmmod nofail_watchdog
on_div=$on; [ "$on_div" -gt 0 ] || on_div=1
nfw_pass "CPU reduction $((off / on_div))x ($off -> $on ticks; round $round_ms ms, backoff_max_ms=$max)"
