#!/bin/sh
# nfwctl in the guest, against the real module: `status` (text and JSON)
# lists the allocations stuck right now, `metrics` is Prometheus text that
# agrees with `stats`, `set` refuses bad values with the module's rules and
# without writing, applies good ones, and `watch --exit-on-kill` exits 3
# when the module triggers an OOM kill (the oom uevent goes out too).
# Stalls are confined to ZONE_DMA so the rest of the guest keeps working,
# except the one that must get a kill: the kernel never OOM-kills for a
# lowmem allocation, so that one is in the normal zone.
# nfw-qemu: --mem 512
# nfw-timeout: 420
. "$(dirname "$0")/lib.sh"

nfw_require_cmd nfwctl
D=$NFW_SYS
# This shell, nfwctl and the listener, and qemu/init's shell that runs this
# one, are never the OOM victim; a spare task is, should the kernel's own
# OOM killer act after the victim (or it would panic with nothing
# eligible).
echo -1000 >/proc/$$/oom_score_adj
echo -1000 >/proc/$PPID/oom_score_adj
(echo 0 >/proc/self/oom_score_adj && exec sleep 100000) &
spare=$!

nfwctl status >/dev/null 2>/tmp/err && nfw_fail "status without the module succeeded"
grep -q "is the nofail_watchdog module loaded" /tmp/err || nfw_fail "status without module: $(cat /tmp/err)"
nfwctl metrics | grep -qx "nofail_watchdog_up 0" || nfw_fail "metrics without the module"

nfw_insmod "$NFW_MODULE" stall_warn_ms=1000 oom_after_ms=0 warn_interval_ms=60000
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"

# --- status and metrics while two allocations are stuck ---------------------
# The workers stay stuck until the checks below end the run (nfw_gen_end): a
# fixed window ran out before the JSON status on the debug kernel under load.
echo "workers=2 mode=page zone=dma window_ms=60000" >/sys/kernel/nfw_stallgen/run &
gen=$!
wait_for '[ "$(nfw_stat stalls_detected)" -ge 2 ]' 20 0.2 || nfw_fail "no stalls: $(cat $D/stats)"
nfwctl status >/tmp/status || nfw_fail "nfwctl status failed"
cat /tmp/status
# A stall may end and another begin meanwhile (reclaim can free a DMA page):
# check the table's shape, not exact pids.
rows=$(sed -n 's/^IN-FLIGHT ALLOCATIONS (\([0-9]*\))$/\1/p' /tmp/status)
[ "${rows:-0}" -ge 1 ] || nfw_fail "status lists no allocation"
[ "$(grep -cE "^[0-9]+ +nfw_stall/[0-9]+ +nofail +0 +[0-9]+ +[0-9]+ +[0-9]+ +(yes|no) +GFP_NOFS\|GFP_DMA\|__GFP_NOFAIL$" /tmp/status)" -eq "$rows" ] ||
	nfw_fail "status rows do not match the count $rows"
grep -qE "^[0-9]+ +nfw_stall/[0-9]+ +nofail .* yes +GFP_" /tmp/status || nfw_fail "no reported stall in status"
grep -qE "^stall_warn_ms +1000 +10000 +1\.\.3600000 \*$" /tmp/status || nfw_fail "knob row wrong"
grep -qE "^stalls_detected +[1-9][0-9]*$" /tmp/status || nfw_fail "counter row wrong"
nfwctl --json status >/tmp/status.json || nfw_fail "nfwctl --json status failed"
grep -q '"pid":' /tmp/status.json || nfw_fail "JSON status without stalls: $(cat /tmp/status.json)"
grep -q '"stall_warn_ms"' /tmp/status.json || nfw_fail "JSON status has no knobs"
# The workers are in the allocator all the window long.
nfwctl metrics | awk '$1 == "nofail_watchdog_oldest_stall_seconds" && $2 > 0 { ok = 1 } END { exit !ok }' ||
	nfw_fail "metrics: oldest stall"
nfw_gen_end $gen "status run"
nfw_wait_settled

# At rest, metrics must agree with stats exactly.
nfwctl metrics -o /tmp/nfw.prom || nfw_fail "nfwctl metrics -o failed"
grep -v '^#' /tmp/nfw.prom | head -40
grep -qx "nofail_watchdog_up 1" /tmp/nfw.prom || nfw_fail "metrics: up"
# (Stats in milliseconds are exported in seconds, as *_seconds.)
while read -r k v; do
	base=$k
	case "$k" in *_ms) base=${k%_ms}_seconds ;; esac
	case "$k" in
	stalls_active | in_flight | slots_in_use | longest_stall_ms) m=nofail_watchdog_$base ;;
	*) m=nofail_watchdog_${base}_total ;;
	esac
	awk -v m="$m" -v k="$k" -v v="$v" '$1 == m {
		x = $2; if (k ~ /_ms$/) x *= 1000
		if (x - v < 0.5 && v - x < 0.5) ok = 1
	} END { exit !ok }' /tmp/nfw.prom || nfw_fail "metrics disagree with stats: $k $v"
done <$D/stats
grep -qx 'nofail_watchdog_knob{knob="stall_warn_ms"} 1000' /tmp/nfw.prom || nfw_fail "metrics: knob"
grep -qx 'nofail_watchdog_knob_info{knob="scope",value="nofs"} 1' /tmp/nfw.prom || nfw_fail "metrics: word knob"
grep -q '^nofail_watchdog_slowpath_duration_seconds_bucket{le="+Inf"} [1-9]' /tmp/nfw.prom ||
	nfw_fail "metrics: histogram"
# Every sample line: name, optional labels, a number.
grep -v '^#' /tmp/nfw.prom | grep -vE '^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$' && nfw_fail "malformed metrics line"

# --- set ---------------------------------------------------------------------
for bad in "stall_warn_ms 0" "stall_warn_ms 12x" "stall_warn_ms -5" "scope ALL" "backoff linear" \
	"enabled 2" "no_such_knob 1"; do
	# shellcheck disable=SC2086
	nfwctl set $bad >/tmp/out 2>/tmp/err && nfw_fail "nfwctl set $bad succeeded"
	nfw_log "set $bad: $(cat /tmp/err)"
	grep -qE "invalid value|unknown knob" /tmp/err || nfw_fail "unclear error for $bad: $(cat /tmp/err)"
done
nfwctl set stall_warn_ms 0 2>&1 | grep -q "out of range; expected a decimal number in 1..=3600000" ||
	nfw_fail "range not explained"
nfwctl set scope ALL 2>&1 | grep -q "expected one of: nofail, nofs, all" || nfw_fail "words not listed"
[ "$(cat $D/stall_warn_ms)" = 1000 ] || nfw_fail "a rejected set changed stall_warn_ms"
[ "$(cat $D/scope)" = nofs ] || nfw_fail "a rejected set changed scope"
[ "$(nfwctl set oom_after_ms 2000)" = "oom_after_ms: 0 -> 2000" ] || nfw_fail "set oom_after_ms"
[ "$(cat $D/oom_after_ms)" = 2000 ] || nfw_fail "oom_after_ms not written"
[ "$(nfwctl get oom_after_ms)" = 2000 ] || nfw_fail "get oom_after_ms"
nfwctl set oom_interval_ms 60000 >/dev/null || nfw_fail "set oom_interval_ms"

# --- watch --exit-on-kill ------------------------------------------------------
uevent sh -c 'env | grep -E "^(NOFAIL_EVENT|PID|COMM)=" | sort | tr "\n" " " >>/tmp/ue; echo >>/tmp/ue' &
listener=$!
# victim_and_watcher: the task the module's trigger must kill ($hog), and
# `nfwctl watch --exit-on-kill` following the events ($watcher).
victim_and_watcher() {
	nfw_start_hog --mb 64 --oom-score-adj 1000 --name nfw-victim
	hog=$NFW_HOG_PID
	nfwctl watch --exit-on-kill --timeout 60 >/tmp/watch 2>&1 &
	watcher=$!
	nfw_wait_watching $watcher || { cat /tmp/watch; nfw_fail "watch did not start"; }
}
victim_and_watcher
nfw_dmesg_mark
# Stall and back-off events from a ZONE_DMA stall, which gets no kill.
echo "workers=2 mode=page zone=dma window_ms=3000" >/sys/kernel/nfw_stallgen/run ||
	nfw_fail "generator run failed"
grep -q " stall " /tmp/watch || { cat /tmp/watch; nfw_fail "no stall line before the kill"; }
kill -0 $watcher 2>/dev/null || { cat /tmp/watch; nfw_fail "watch exited without a kill"; }
# The kill: a normal-zone stall, memory exhausted (a protected hog leaves
# 160 MiB for the workers). While memory is exhausted, a fork or a write of
# the listener or the watcher would make the kernel's own OOM killer kill
# the victim before the module does: no event before the kill (no stall
# report, no back-off), and this shell waits in the run's write.
# Everything the ZONE_DMA stall announced is delivered and handled first:
# its end events come when the stalls close, and a uevent handled later
# forks the listener's handler inside the exhaustion, where the kernel's own
# OOM killer acts for that fork (seen once with the host loaded: the victim
# and the spare killed, then "no killable processes" and a panic).
nfw_wait_settled
delivered() { head -1 $D/events; wc -l </tmp/ue; }
wait_for '_d=$(delivered); sleep 1; [ "$_d" = "$(delivered)" ]' 30 0 ||
	nfw_fail "events still being delivered after 30 s"
warn=$(cat $D/stall_warn_ms)
backoff=$(cat $D/backoff)
nfwctl set stall_warn_ms 600000 >/dev/null || nfw_fail "set stall_warn_ms"
nfwctl set backoff off >/dev/null || nfw_fail "set backoff"
# The premise: the victim dies in the module's triggered call. Any other
# GFP_KERNEL allocation while memory is exhausted (kthreadd forking a
# kworker, seen with the host loaded) can make the kernel's own OOM killer
# kill it first; then the squeeze is made again with a new victim and
# watcher, up to three times. Decoys (oom_score_adj 500) take what is
# killed after the victim, so that the guest never runs out of tasks to
# kill ("System is deadlocked on memory").
attempt=0 decoys=""
while :; do
	attempt=$((attempt + 1))
	for _ in 1 2; do
		sleep 100000 &
		echo 500 >/proc/$!/oom_score_adj
		decoys="$decoys $!"
	done
	nfw_dmesg_mark
	kills0=$(nfw_stat oom_kills)
	nfw_start_hog --leave-mb 160 --oom-score-adj -1000 --name nfw-big
	big=$NFW_HOG_PID
	echo "workers=2 mode=page until=stall stall_ms=2000 window_ms=60000" >/sys/kernel/nfw_stallgen/run ||
		nfw_fail "generator run failed"
	wait $watcher
	rc=$?
	nfw_stop_hog "$big"
	wait_for "nfw_dmesg_grep 'Killed process $hog \(nfw-victim\)'" "$(nfw_slow 10)" || nfw_fail "the victim was not killed"
	# ... in the worker's call the module triggered (shown
	# GFP_KERNEL|__GFP_NOFAIL, its own mask being GFP_NOFS|__GFP_NOFAIL),
	# not by the kernel's own OOM killer for another allocation.
	before=$(nfw_dmesg_new | awk -v k="Killed process $hog " '/invoked oom-killer/ { last = $0 } index($0, k) { print last; exit }')
	echo "$before" | grep -qE 'nfw_stall/[0-9]+ invoked oom-killer: gfp_mask=0x[0-9a-f]+\(GFP_KERNEL\|__GFP_NOFAIL\)' && break
	[ $attempt -lt 3 ] || nfw_fail "the victim was not killed in a triggered call in 3 squeezes: $before"
	nfw_log "squeeze $attempt: the victim was killed for another allocation ($before); again"
	# shellcheck disable=SC2086
	kill $decoys 2>/dev/null
	decoys=""
	# A stall never reported lingers until the watchdog's next look, which
	# stall_warn_ms schedules (600 s now): put the knob back while the
	# stalls close, as after the loop.
	nfwctl set stall_warn_ms "$warn" >/dev/null || nfw_fail "set stall_warn_ms back"
	nfw_wait_settled
	nfwctl set stall_warn_ms 600000 >/dev/null || nfw_fail "set stall_warn_ms"
	victim_and_watcher
done
cat /tmp/watch
# (A stall never reported lingers until the watchdog's next look, which
# stall_warn_ms schedules: a knob write also wakes it.)
nfwctl set stall_warn_ms "$warn" >/dev/null || nfw_fail "set stall_warn_ms back"
nfwctl set backoff "$backoff" >/dev/null || nfw_fail "set backoff back"
[ $rc = 3 ] || nfw_fail "watch --exit-on-kill exited $rc"
tail -1 /tmp/watch | grep -qE "^\[ *[0-9]+\.[0-9]{6}\] oom +pid=[0-9]+ comm=nfw_stall/[0-9] order=0 ms=[0-9]+ gfp=GFP_NOFS\|__GFP_NOFAIL seq=[0-9]+ delay_ms=" ||
	nfw_fail "last line is not the oom event"
nfw_dmesg_wait "nofail_watchdog: triggered OOM kill for task nfw_stall/" 10 || nfw_fail "no 'triggered OOM kill' line"
[ "$(( $(nfw_stat oom_kills) - kills0 ))" -eq 1 ] || nfw_fail "oom_kills=$(nfw_stat oom_kills), $kills0 before the squeeze"
# (Held until 10 s after the kernel's last out_of_memory() call:
# VERDICT_HOLD_NS in rust/logic/events.rs.)
wait_for 'grep -q "NOFAIL_EVENT=oom " /tmp/ue' "$(($(nfw_slow 10) + 10))" 0.2 || nfw_fail "no oom uevent: $(cat /tmp/ue)"
kill $listener
# shellcheck disable=SC2086
kill $spare $decoys 2>/dev/null
nfw_wait_settled
nfw_rmmod nfw_stallgen
nfw_rmmod nofail_watchdog
nfw_pass "status, metrics, set and watch --exit-on-kill work against the module"
