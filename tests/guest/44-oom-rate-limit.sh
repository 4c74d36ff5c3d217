#!/bin/sh
# Rate limit: a stall that killing cannot end (ZONE_DMA) keeps triggering, but
# at most once per oom_interval_ms.
# nfw-qemu: --mem 512
# nfw-timeout: 300
. "$(dirname "$0")/lib.sh"

INTERVAL=2000
nfw_insmod "$NFW_MODULE" stall_warn_ms=500 oom_after_ms=500 oom_interval_ms=$INTERVAL
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
for i in 1 2 3 4 5 6; do nfw_start_hog --mb 8 --name nfw-victim$i; done
nfw_dmesg_mark
echo "workers=2 mode=page zone=dma window_ms=7500" >/sys/kernel/nfw_stallgen/run || nfw_fail "run failed"
NFW_DMESG_RAW=1 nfw_dmesg_new | grep "nofail_watchdog: triggering OOM kill" |
	sed -n 's/^<[0-9]*>\[ *\([0-9]*\)\.\([0-9]\{3\}\).*/\1\2/p' >/tmp/t
n=$(wc -l </tmp/t)
nfw_log "$n triggers in a 7.5 s stall with oom_interval_ms=$INTERVAL"
[ "$n" -ge 2 ] || nfw_fail "expected repeated triggers, got $n"
[ "$n" -le 4 ] || nfw_fail "$n triggers: more than one per $INTERVAL ms"
prev=
while read -r t; do
	[ -n "$prev" ] && [ $((t - prev)) -lt $((INTERVAL - 50)) ] && nfw_fail "triggers $((t - prev)) ms apart"
	prev=$t
done </tmp/t
[ "$(nfw_stat oom_triggers)" -eq "$n" ] || nfw_fail "oom_triggers=$(nfw_stat oom_triggers), log shows $n"
nfw_rmmod nfw_stallgen
nfw_rmmod nofail_watchdog
nfw_pass "$n triggers, >= $INTERVAL ms apart"
