#!/bin/sh
# Events for userspace: a poller of /sys/kernel/nofail_watchdog/events
# (nfwctl watch, poll(2) for POLLPRI) wakes within 100 ms (times NFW_SLOW)
# of each stall's first report, the report time being the module's own timestamp of it
# (first_report_ns in `recent`, the event's time_ns); every stuck task
# gets a backoff, a stall and an end event, in that order; a netlink
# listener (busybox uevent) sees the KOBJ_CHANGE uevents on
# /module/nofail_watchdog with NOFAIL_EVENT, PID, COMM, GFP, ORDER and MS;
# the uevent rate limit drops what exceeds it and says so (NOFAIL_DROPPED).
# nfw-qemu: --mem 512
# nfw-timeout: 240
. "$(dirname "$0")/lib.sh"

nfw_require_cmd nfwctl
D=$NFW_SYS
WORKERS=8
# The wake-up is the guest's scheduling, slower on a slower kernel (the debug
# kernel beside another guest: 104 ms once). Without the wake-up for a report
# the poller would wait for the next event's; after the last report, that is
# the first end event, seconds later.
MAX_WAKE_US=$(nfw_slow 100000)

# The listener: one line of the interesting variables per uevent.
uevent sh -c 'env | grep -E "^(ACTION|DEVPATH|SUBSYSTEM|NOFAIL_[A-Z]*|PID|COMM|GFP|ORDER|MS)=" |
	sort | tr "\n" " " >>/tmp/ue; echo >>/tmp/ue' &
listener=$!

nfw_insmod "$NFW_MODULE" stall_warn_ms=1500 backoff_after_ms=500 oom_after_ms=0 \
	warn_interval_ms=60000
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
[ "$(stat -c %a $D/events)" = 400 ] || nfw_fail "events mode $(stat -c %a $D/events)"
head -1 $D/events | grep -qx 'seq 0' || nfw_fail "events of a fresh module: $(cat $D/events)"

# The poller, started (and armed by its first read) before the stalls.
nfwctl --json watch --count $((3 * WORKERS)) --timeout 60 >/tmp/watch 2>/tmp/watch.err &
watcher=$!
nfw_wait_watching $watcher || nfw_fail "$(cat /tmp/watch.err)"

nfw_dmesg_mark
echo "workers=$WORKERS mode=page zone=dma window_ms=5000" >/sys/kernel/nfw_stallgen/run ||
	nfw_fail "generator run failed"
wait $watcher
rc=$?
cat /tmp/watch
[ $rc = 0 ] || nfw_fail "nfwctl watch exited $rc: $(cat /tmp/watch.err)"
nfw_wait_settled
nfw_log "events file:"; cat $D/events
nfw_log "recent:"; cat $D/recent

# Wake latency of every stall event, against the report time.
n=0 worst=0
for pid in $(awk 'NR > 1 && $2 ~ /^nfw_stall\// { print $1 }' $D/recent); do
	n=$((n + 1))
	first_report=$(awk -v p="$pid" 'NR > 1 && $1 == p { print $7 }' $D/recent)
	line=$(grep "\"event\":\"stall\",\"pid\":$pid," /tmp/watch) ||
		nfw_fail "no stall event for $pid"
	t=$(echo "$line" | sed -n 's/.*"time_ns":\([0-9]*\).*/\1/p')
	d=$(echo "$line" | sed -n 's/.*"delay_us":\([0-9]*\).*/\1/p')
	[ "$t" = "$first_report" ] || nfw_fail "stall event of $pid at $t, report at $first_report"
	nfw_dmesg_grep "INFO: task nfw_stall/[0-9]*:$pid stuck" || nfw_fail "no report of $pid in dmesg"
	nfw_log "pid $pid: poller woke $d us after the report"
	[ "$d" -le "$MAX_WAKE_US" ] || nfw_fail "poller woke $d us after the report of $pid (> $MAX_WAKE_US)"
	[ "$d" -gt "$worst" ] && worst=$d
	# Per task: backoff, stall, end, in this order, each once.
	kinds=$(grep "\"pid\":$pid," /tmp/watch | sed -n 's/.*"event":"\([a-z]*\)".*/\1/p' | tr '\n' ' ')
	[ "$kinds" = "backoff stall end " ] || nfw_fail "events of $pid: $kinds"
	# The end event carries the stall's length, as `recent` has it.
	ms=$(awk -v p="$pid" 'NR > 1 && $1 == p { print $9 }' $D/recent)
	grep "\"event\":\"end\",\"pid\":$pid," /tmp/watch | grep -q "\"ms\":$ms," ||
		nfw_fail "end event of $pid does not say ms=$ms"
done
[ "$n" -eq "$WORKERS" ] || nfw_fail "$n stalls in recent, expected $WORKERS"
nfw_log "worst wake-up: $worst us after the report ($n stalls)"

# The uevents. Give the listener (a shell per uevent) time to catch up.
events=$(nfw_stat events)
sent=$(nfw_stat uevents_sent)
dropped=$(nfw_stat uevents_dropped)
wait_for '[ "$(grep -c NOFAIL_EVENT= /tmp/ue)" -ge "$sent" ]' 20 0.2 ||
	nfw_fail "listener saw $(grep -c NOFAIL_EVENT= /tmp/ue) uevents, module sent $sent"
kill $listener
nfw_log "events=$events uevents_sent=$sent uevents_dropped=$dropped failed=$(nfw_stat uevents_failed)"
grep NOFAIL_EVENT= /tmp/ue | head -3
[ "$events" -eq $((3 * WORKERS)) ] || nfw_fail "events=$events"
[ "$((sent + dropped))" -eq "$events" ] || nfw_fail "sent $sent + dropped $dropped != $events events"
[ "$(nfw_stat uevents_failed)" -eq 0 ] || nfw_fail "uevents failed"
[ "$(grep -c NOFAIL_EVENT= /tmp/ue)" -eq "$sent" ] || nfw_fail "listener saw more uevents than sent"
# 16 events within ~1 s exceed the burst of 10: some are dropped, and the
# next one sent says how many.
[ "$dropped" -gt 0 ] || nfw_fail "no uevent dropped by the rate limit"
grep -q "NOFAIL_DROPPED=[1-9]" /tmp/ue || nfw_fail "no uevent carries NOFAIL_DROPPED"
grep NOFAIL_EVENT= /tmp/ue | while read -r l; do
	for v in "ACTION=change" "DEVPATH=/module/nofail_watchdog" "SUBSYSTEM=module" \
		"NOFAIL_EVENT=[a-z]*" "NOFAIL_SEQ=[0-9]*" "PID=[0-9]*" "COMM=nfw_stall/[0-9]*" \
		"GFP=GFP_NOFS|GFP_DMA|__GFP_NOFAIL" "ORDER=0" "MS=[0-9]*"; do
		echo " $l " | grep -q " $v " || nfw_fail "uevent without $v: $l"
	done
done || exit 1
for k in stall backoff end; do
	grep -q "NOFAIL_EVENT=$k " /tmp/ue || nfw_fail "no $k uevent"
done
nfw_rmmod nfw_stallgen
nfw_rmmod nofail_watchdog
nfw_pass "poller woke <= $worst us after each of $n reports; $sent uevents, $dropped rate-limited"
