#!/bin/sh
# Trace events: nofail_watchdog:stall_begin, stall_report, backoff_sleep,
# oom_trigger and stall_end exist in tracefs with their fields, are off
# after insmod, and, once enabled, tell the same story as the module's own
# reports. Two stalls are traced: (1) a ZONE_DMA stall adopted when the
# module is enabled while it loops (stall_begin adopted=1); (2) the real
# livelock (hog plus GFP_NOFS|__GFP_NOFAIL workers) with a short
# oom_after_ms, backed off, reported and ended by an OOM kill. trace_pipe
# is then read (trace_clock=mono, the module's own clock) and checked:
# - per task, every event lies in a stall_begin..stall_end pair, with
#   duration_ms, retries and sleeps never going back and sleeps counting
#   the stall's backoff_sleep events; every stall ends; nothing is lost;
# - every stall in `recent` has a traced stall with the same pid, comm,
#   kind, order, gfp (show_gfp_flags against the module's decoding, as
#   sets of flags), its stall_end has the same ms, retries and sleeps, its
#   stall_begin lies between start_ns and first_report_ns, its duration_ms
#   no more than the time from start_ns to the event;
# - the stall_report events are the dmesg report lines, field by field;
#   each dmesg "triggered OOM kill" line is an oom_trigger event (pid,
#   comm, ms, gfp);
# - the counts agree with `stats`: reports, oom_triggers, backoff_sleeps
#   and backoff_slept_ms (the sum of sleep_ms), adopted, stalls_ended.
# Then (3) with the events disabled again a reported stall records nothing.
# Also traced: the kernel's out_of_memory() calls (a kprobe event) and the
# module's uevent event (the uevent work about to send one): uevents are
# held while memory is exhausted. From a worker's first out_of_memory()
# call in a stall to the stall's end (recent's end_ns), and for
# VERDICT_HOLD_NS after each such call, no uevent may be sent (its
# allocation would make the kernel's OOM killer act); phase 2 is
# made again until an event was recorded in such a window (a stall or
# backoff event: recorded when it happened), and that event's uevent must
# follow the window.
# nfw-qemu: --mem 512 --smp 1
# nfw-timeout: 300
. "$(dirname "$0")/lib.sh"

T=/sys/kernel/tracing
EV=$T/events/nofail_watchdog
G=/sys/kernel/nfw_stallgen
OOM_AFTER=2000
EVENTS="stall_begin stall_report backoff_sleep oom_trigger stall_end"
FIELDS="pid comm gfp order kind duration_ms retries sleeps"

# qemu/init mounts tracefs; the test kernel has CONFIG_EVENT_TRACING.
[ -f $T/trace_pipe ] || mount -t tracefs tracefs $T || nfw_fail "no tracefs"
nfw_require_file $T/trace_pipe "tracefs"

nfw_dmesg_mark
# enabled=0: nothing is followed until phase 1 turns it on.
nfw_insmod "$NFW_MODULE" enabled=0 stall_warn_ms=1000 backoff_after_ms=500 \
	oom_after_ms=$OOM_AFTER oom_interval_ms=5000
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"

# The events and their fields; off after insmod, like every trace event.
for e in $EVENTS; do
	nfw_require_file $EV/$e/format "event $e"
	[ "$(cat $EV/$e/enable)" = 0 ] || nfw_fail "$e is enabled after insmod"
	for f in $FIELDS; do
		grep -qE "field:[a-z0-9 ]* $f(\[16\])?;" $EV/$e/format || nfw_fail "$e has no field $f"
	done
	grep -q '__print_flags(REC->gfp, "|"' $EV/$e/format || nfw_fail "$e does not decode gfp"
done
grep -q "field:unsigned int adopted;" $EV/stall_begin/format || nfw_fail "stall_begin has no adopted"
grep -q "field:unsigned int sleep_ms;" $EV/backoff_sleep/format || nfw_fail "backoff_sleep has no sleep_ms"
for f in "u64 seq" "unsigned int event" "int pid"; do
	grep -q "field:$f;" $EV/uevent/format || nfw_fail "uevent has no field $f"
done
[ "$(cat $EV/uevent/enable)" = 0 ] || nfw_fail "uevent is enabled after insmod"
echo mono >$T/trace_clock || nfw_fail "no mono trace clock"
echo 4096 >$T/buffer_size_kb
# The kernel's verdict that memory is exhausted, for the uevent hold.
echo 'p:nfw/nfw_oom_call out_of_memory' >>$T/kprobe_events ||
	nfw_fail "no kprobe event on out_of_memory: $(cat $T/error_log 2>/dev/null)"
echo 1 >$T/events/nfw/enable
echo >$T/trace
echo 1 >$T/tracing_on

# The hold after the kernel's latest verdict (VERDICT_HOLD_NS in
# rust/logic/events.rs): no uevent is sent within it after an
# out_of_memory() call (checked here for the calls in stalls).
VERDICT_HOLD_NS=10000000000
# Reads recent (no header), the events file and a trace; prints
# W pid from to: a window in which memory was exhausted (a reported
#   stall's first out_of_memory() call to its end);
# DUE seq kind time pid: a stall or backoff event recorded in pid's window;
# SENT seq time: the module's uevent event (about to send one);
# BAD seq time pid from to: one sent in a window, or within
#   VERDICT_HOLD_NS after an out_of_memory() call in a stall of pid.
cat >/tmp/hold.awk <<'AWK'
# (The microseconds lose their leading zeros first: busybox awk reads
# "035001" as octal.)
function ns(ts,   t) { sub(/:$/, "", ts); split(ts, t, "."); sub(/^0+/, "", t[2]); return t[1] * 1000000000 + t[2] * 1000 }
FILENAME == ARGV[1] { nr++; rp[nr] = $1; rs[nr] = $6; re[nr] = $8; next }
FILENAME == ARGV[2] { if ($1 ~ /^[0-9]+$/ && NF >= 8) { et[$1] = $2; ek[$1] = $3 } next }
{
	for (i = 2; i <= NF; i++) if ($i ~ /^(nfw_oom_call|uevent):$/) break
	if (i > NF) next
	t = ns($(i - 1))
	if ($i == "nfw_oom_call:") {
		pid = $1; sub(/.*-/, "", pid)
		for (r = 1; r <= nr; r++) {
			if (rp[r] != pid || t < rs[r] || t > re[r]) continue
			if (!(r in ws) || t < ws[r]) ws[r] = t
			nv++; vt[nv] = t; vp[nv] = pid
		}
	} else {
		s = $(i + 1); sub(/^seq=/, "", s)
		nu++; us[nu] = s; ut[nu] = t
	}
}
END {
	for (r in ws) print "W", rp[r], ws[r], re[r]
	for (q in et) {
		if (ek[q] != "stall" && ek[q] != "backoff") continue
		for (r in ws) if (et[q] > ws[r] && et[q] < re[r]) { print "DUE", q, ek[q], et[q], rp[r]; break }
	}
	for (u = 1; u <= nu; u++) {
		print "SENT", us[u], ut[u]
		for (r in ws) if (ut[u] > ws[r] && ut[u] < re[r]) print "BAD", us[u], ut[u], rp[r], ws[r], re[r]
		for (v = 1; v <= nv; v++) if (vt[v] < ut[u] && ut[u] - vt[v] < hold) print "BAD", us[u], ut[u], vp[v], vt[v], vt[v] + hold
	}
}
AWK
hold() {
	awk 'NR > 1' $NFW_SYS/recent >/tmp/hold.recent
	awk -v hold=$VERDICT_HOLD_NS -f /tmp/hold.awk /tmp/hold.recent $NFW_SYS/events "$1" >/tmp/hold.out
}

workers() { ps -o pid,comm | awk '$2 ~ /^nfw_stall\// { print $1 }'; }

# 1. Adoption: a ZONE_DMA stall loops before the module follows anything.
# (The events are enabled while no CPU runs the module's trace calls:
# with enabled=0 the hooks return before them.)
# Seen looping: a second into its run, in the slow path on its stack, or,
# when no stack can be read, running (7.3 shows no stack for a task that never
# leaves the CPU, and with the module disabled this one never sleeps; the
# adoption checked below is the proof then). If the run is over first (a
# loaded host), run it again, up to three times.
a=0
while :; do
	a=$((a + 1))
	echo "workers=1 mode=page zone=dma nice=19 window_ms=$(nfw_slow 8000)" >$G/run &
	gen=$!
	wait_for '[ "$(workers | wc -l)" -eq 1 ]' "$(nfw_slow 20)" 0.1 || nfw_fail "the generator worker did not start"
	adopt_pid=$(workers)
	sleep 1
	[ -z "$(cat /proc/"$adopt_pid"/stack 2>/dev/null)" ] &&
		grep -q '^State:.*R' /proc/"$adopt_pid"/status 2>/dev/null && break
	nfw_in_slowpath "$adopt_pid" 2>/dev/null && break
	wait $gen
	[ $a -lt 3 ] || nfw_fail "worker $adopt_pid is not in the slow path (3 runs)"
	nfw_log "phase 1: worker $adopt_pid not seen in the slow path in run $a; again"
done
echo 1 >$EV/enable
nfw_knob enabled 1
wait $gen || nfw_fail "the ZONE_DMA run failed: $(tail -1 $G/records)"
nfw_wait_settled
nfw_log "phase 1: worker $adopt_pid adopted=$(nfw_stat adopted) reports=$(nfw_stat reports) sleeps=$(nfw_stat backoff_sleeps)"

# 2. The livelock, backed off, reported, and ended by the OOM killer (test
# 40's scenario). Real memory pressure varies, the more so on a loaded
# host: reclaim may keep finding a few pages (the tools disk's page cache)
# and the stall crawls to its end with no out_of_memory() call; the events
# of such a run are checked all the same, and the livelock is made again,
# up to ATTEMPTS times, until the module made an OOM trigger. Or a
# GFP_KERNEL allocation elsewhere (kthreadd forking) lets the kernel kill
# the hog itself before any worker was stuck stall_ms: the workers eat the
# memory freed and stall again, and the module's trigger finds no hog: a
# decoy (oom_score_adj 300: below the hog, far above the test's shell) is
# then the victim, whose memory ends the run.
ATTEMPTS=3
a=0
: >/tmp/hold.out
until [ "$(nfw_stat oom_triggers)" -gt 0 ] && grep -q "^DUE" /tmp/hold.out; do
	a=$((a + 1))
	[ $a -le $ATTEMPTS ] || {
		cat /tmp/hold.out
		nfw_fail "in $ATTEMPTS livelocks: OOM triggers $(nfw_stat oom_triggers), events recorded while memory was exhausted $(grep -c '^DUE' /tmp/hold.out)"
	}
	if [ -z "${decoy:-}" ] || ! kill -0 "$decoy" 2>/dev/null; then
		sleep 100000 &
		decoy=$!
		echo 300 >/proc/$decoy/oom_score_adj
	fi
	nfw_start_hog --leave-mb 160 --name nfw-hog
	echo "workers=2 mode=page until=stall stall_ms=$OOM_AFTER record_ms=20 window_ms=60000" >$G/run ||
		nfw_fail "generator run failed"
	grep -q "stopped_by=stall" $G/records || nfw_fail "the stall did not end by itself: $(tail -1 $G/records)"
	nfw_wait_settled
	nfw_stop_hog
	hold $T/trace
	nfw_log "phase 2, livelock $a: oom_triggers=$(nfw_stat oom_triggers) oom_kills=$(nfw_stat oom_kills) exhausted windows=$(grep -c '^W' /tmp/hold.out) events in them=$(grep -c '^DUE' /tmp/hold.out) uevent_holds=$(nfw_stat uevent_holds)"
done
kill "$decoy" 2>/dev/null
# The held uevents go out once memory is back (VERDICT_HOLD_NS after the
# last out_of_memory() call of a stall): let them.
unsent() {
	hold $T/trace
	grep "^DUE" /tmp/hold.out | while read -r _ seq _; do
		grep -q "^SENT $seq " /tmp/hold.out || echo "$seq"
	done
}
wait_for '[ -z "$(unsent)" ]' "$(nfw_slow 30)" 0.5 || nfw_log "held uevents still unsent: $(unsent | tr '\n' ' ')"

# Read everything: trace_pipe returns at its end once tracing is off.
echo 0 >$T/tracing_on
timeout 60 cat $T/trace_pipe >/tmp/trace
nfw_dmesg_new >/tmp/dmesg
cat $NFW_SYS/stats >/tmp/stats
awk 'NR > 1' $NFW_SYS/recent >/tmp/recent
st() { awk -v k="$1" '$1 == k { print $2 }' /tmp/stats; }
nfw_log "recent:"; cat /tmp/recent
nfw_log "$(grep -c . /tmp/trace) trace lines; the adoptions, reports, OOM triggers, ends after 1 s or more:"
grep -E "stall_report:|oom_trigger:|adopted=1|stall_end:.* duration_ms=[0-9]{4,} " /tmp/trace | head -40
if grep -q LOST /tmp/trace; then
	grep LOST /tmp/trace
	nfw_fail "events lost"
fi

# One line per event: ts_ns event pid comm gfp order kind duration_ms retries sleeps extra
# (extra: stall_begin's adopted, backoff_sleep's sleep_ms, else -).
awk -v fields="$FIELDS" '
{
	for (i = 1; i <= NF; i++)
		if ($i ~ /^(stall_begin|stall_report|backoff_sleep|oom_trigger|stall_end):$/)
			break
	if (i > NF)
		next
	ev = substr($i, 1, length($i) - 1)
	ts = $(i - 1)
	sub(/:$/, "", ts)
	split(ts, t, ".")
	# busybox awk reads "035001" as octal: drop the leading zeros.
	sub(/^0+/, "", t[2])
	delete v
	for (j = i + 1; j <= NF; j++) {
		k = $j; sub(/=.*/, "", k)
		val = $j; sub(/^[^=]*=/, "", val)
		v[k] = val
	}
	n = split(fields, f, " ")
	for (j = 1; j <= n; j++)
		if (!(f[j] in v) || v[f[j]] == "") { print "BAD no " f[j] ": " $0; bad = 1 }
	x = "-"
	if (ev == "stall_begin") x = v["adopted"]
	if (ev == "backoff_sleep") x = v["sleep_ms"]
	if (x == "") { print "BAD no extra field: " $0; bad = 1 }
	if (v["kind"] !~ /^(nofail|implicit|other)$/) { print "BAD kind: " $0; bad = 1 }
	printf "%.0f %s %s %s %s %s %s %s %s %s %s\n", t[1] * 1000000000 + t[2] * 1000, ev,
		v["pid"], v["comm"], v["gfp"], v["order"], v["kind"], v["duration_ms"], v["retries"], v["sleeps"], x
}
END { exit bad }' /tmp/trace >/tmp/ev || { grep BAD /tmp/ev; nfw_fail "malformed events"; }
for e in $EVENTS; do
	nfw_log "$e: $(awk -v e="$e" '$2 == e' /tmp/ev | wc -l) events"
	awk -v e="$e" '$2 == e' /tmp/ev | grep -q . || nfw_fail "no $e event"
done

# Per task: stalls as begin..end pairs. One line per stall:
# pid comm gfp order kind begin_ts begin_ms adopted end_ts end_ms retries sleeps
#     backoffs backoff_ms reports ooms
# The task's own events (begin, backoff_sleep, oom_trigger, end) lie in its
# stall, in order. stall_report comes from the watchdog thread, which
# prints the reports of a scan after the scan (its fields are the scan's):
# it may follow the end of a stall that ended meanwhile, and counts for the
# task's latest stall.
awk '
function err(m) { print "ERR " m; bad = 1 }
{
	ts = $1; ev = $2; pid = $3; ms = $8; r = $9; s = $10; x = $11
	if (ev == "stall_report") {
		if (!(pid in cur)) err("pid " pid ": stall_report before any stall: " $0)
		else nr[cur[pid]]++
		next
	}
	if (ev == "stall_begin") {
		if (pid in open) err("pid " pid ": stall_begin within a stall: " $0)
		n++; open[pid] = n; cur[pid] = n
		line[n] = pid " " $4 " " $5 " " $6 " " $7 " " ts " " ms " " x
		nb[n] = 0; sb[n] = 0; nr[n] = 0; no[n] = 0
		lms[pid] = ms; lr[pid] = r; ls[pid] = s
		next
	}
	if (!(pid in open)) { err("pid " pid ": " ev " outside a stall: " $0); next }
	i = open[pid]
	if (ms < lms[pid] || r < lr[pid] || s < ls[pid])
		err("pid " pid ": duration_ms, retries or sleeps went back: " $0)
	lms[pid] = ms; lr[pid] = r; ls[pid] = s
	if (ev == "backoff_sleep") {
		if (s != nb[i]) err("pid " pid ": backoff_sleep says sleeps=" s " after " nb[i] " backoff_sleep events")
		nb[i]++; sb[i] += x
	} else if (ev == "oom_trigger") {
		no[i]++
	} else if (ev == "stall_end") {
		if (s != nb[i]) err("pid " pid ": stall_end says sleeps=" s " after " nb[i] " backoff_sleep events")
		line[i] = line[i] " " ts " " ms " " r " " s
		delete open[pid]
	}
}
END {
	for (p in open) err("pid " p ": stall_begin without stall_end")
	for (i = 1; i <= n; i++)
		print line[i], nb[i], sb[i], nr[i], no[i]
	exit bad
}' /tmp/ev >/tmp/tstalls || { grep ERR /tmp/tstalls; nfw_fail "events out of their stalls"; }
nfw_log "$(wc -l </tmp/tstalls) traced stalls, $(awk '$15 > 0' /tmp/tstalls | wc -l) reported"

# gfp as a sorted set of flag names (the module's decoding and the
# kernel's show_gfp_flags need not list them in the same order).
NORM='function norm(g,   a, n, i, j, t, o) {
	n = split(g, a, "|")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	o = a[1]; for (i = 2; i <= n; i++) o = o "|" a[i]
	return o
}'

# Every stall in recent is a traced stall that agrees with it.
while read -r pid comm kind order gfp start first end ms retries sleeps; do
	m=$(awk "$NORM"'
		$1 == p && $2 == c && norm($3) == norm(g) && $4 == o && $5 == k &&
		$10 == ms && $11 == r && $12 == s && $13 == s &&
		$6 >= start - 1000 && $6 <= first && $9 >= end - 1000 {
			# duration_ms was measured before the event was written:
			# at most the time from start_ns to the event (on a
			# loaded host a vCPU can stall for milliseconds between).
			if ($7 <= int(($6 - start) / 1000000) + 1) print
		}' p="$pid" c="$comm" g="$gfp" o="$order" k="$kind" ms="$ms" r="$retries" s="$sleeps" \
		start="$start" first="$first" end="$end" /tmp/tstalls)
	[ -n "$m" ] || {
		grep "^$pid " /tmp/tstalls
		nfw_fail "no traced stall agrees with recent's: $pid $comm $kind $order $gfp $start $first $end $ms $retries $sleeps"
	}
	nfw_log "stall of $pid: traced as $m"
done </tmp/recent
[ -s /tmp/recent ] || nfw_fail "recent is empty"

# Phase 1's stall was adopted; phase 2's were not, and one was OOM-triggered.
awk -v p="$adopt_pid" '$1 == p && $8 == 1 && $3 ~ /GFP_DMA/ && $15 > 0' /tmp/tstalls | grep -q . ||
	nfw_fail "no reported stall of $adopt_pid with stall_begin adopted=1"
awk '$2 ~ /^nfw_stall\// && $8 == 0 && $15 > 0 && $16 > 0' /tmp/tstalls | grep -q . ||
	nfw_fail "no reported, OOM-triggered stall traced from its slow-path entry (adopted=0)"

# stall_report events are the printed reports.
sed -n 's/.*INFO: task \(.*\):\([0-9]*\) stuck in page allocation for more than \([0-9]*\) ms (kind=\([a-z]*\) order=\([0-9]*\) gfp=\([^ ]*\) retries=\([0-9]*\)).*/\1 \2 \3 \4 \5 \6 \7/p' /tmp/dmesg |
	awk "$NORM"'{ print $1, $2, $3, $4, $5, norm($6), $7 }' | sort >/tmp/rep-dmesg
awk "$NORM"'$2 == "stall_report" { print $4, $3, $8, $7, $6, norm($5), $9 }' /tmp/ev | sort >/tmp/rep-trace
diff /tmp/rep-dmesg /tmp/rep-trace >/tmp/rep-diff ||
	{ cat /tmp/rep-diff; nfw_fail "stall_report events differ from the dmesg reports (< dmesg, > trace)"; }
[ "$(wc -l </tmp/rep-trace)" -eq "$(st reports)" ] ||
	nfw_fail "$(wc -l </tmp/rep-trace) stall_report events, stats reports $(st reports)"

# Each kill report is an oom_trigger event.
sed -n 's/.*triggered OOM kill for task \(.*\):\([0-9]*\) stuck \([0-9]*\) ms in \([^ ]*\) allocation.*/\1 \2 \3 \4/p' /tmp/dmesg >/tmp/kills
[ -s /tmp/kills ] || nfw_fail "no OOM kill reported"
while read -r comm pid ms gfp; do
	awk "$NORM"'$2 == "oom_trigger" && $4 == c && $3 == p && $8 == ms && norm($5) == norm(g)' \
		c="$comm" p="$pid" ms="$ms" g="$gfp" /tmp/ev | grep -q . ||
		nfw_fail "no oom_trigger event for the kill report: $comm:$pid $ms ms $gfp"
done </tmp/kills

# The uevent hold, on the whole trace.
hold /tmp/trace
nfw_log "uevent hold: $(grep -c '^W' /tmp/hold.out) windows, $(grep -c '^DUE' /tmp/hold.out) events due in them, $(grep -c '^SENT' /tmp/hold.out) uevents sent, uevent_holds $(st uevent_holds)"
grep -E "^(W|DUE)" /tmp/hold.out
if grep -q "^BAD" /tmp/hold.out; then
	grep "^BAD" /tmp/hold.out
	nfw_fail "uevents sent while memory was exhausted (seq time pid window)"
fi
grep -q "^DUE" /tmp/hold.out || nfw_fail "no event was recorded while memory was exhausted"
[ "$(st uevent_holds)" -gt 0 ] || nfw_fail "events due while memory was exhausted, and stats uevent_holds 0"
# Held, not lost: each such event's uevent was sent once memory was back.
[ "$(st uevents_dropped)" -eq 0 ] || nfw_fail "uevents dropped: $(st uevents_dropped)"
grep "^DUE" /tmp/hold.out | while read -r _ seq kind t pid; do
	sent=$(awk -v q="$seq" '$1 == "SENT" && $2 == q { print $3 }' /tmp/hold.out)
	[ -n "$sent" ] || nfw_fail "the uevent of event $seq ($kind of $pid, due while memory was exhausted) was never sent"
	nfw_log "event $seq ($kind of $pid): recorded at $t, its uevent sent at $sent, $(( (sent - t) / 1000000 )) ms later"
done || exit 1

# Counts against stats.
count() { awk -v e="$1" '$2 == e' /tmp/ev | wc -l; }
[ "$(count oom_trigger)" -eq "$(st oom_triggers)" ] ||
	nfw_fail "$(count oom_trigger) oom_trigger events, stats oom_triggers $(st oom_triggers)"
[ "$(count backoff_sleep)" -eq "$(st backoff_sleeps)" ] ||
	nfw_fail "$(count backoff_sleep) backoff_sleep events, stats backoff_sleeps $(st backoff_sleeps)"
slept=$(awk '$2 == "backoff_sleep" { s += $11 } END { print s + 0 }' /tmp/ev)
[ "$slept" -eq "$(st backoff_slept_ms)" ] ||
	nfw_fail "backoff_sleep events sum to $slept ms, stats backoff_slept_ms $(st backoff_slept_ms)"
[ "$(awk '$2 == "stall_begin" && $11 == 1' /tmp/ev | wc -l)" -eq "$(st adopted)" ] ||
	nfw_fail "adopted stall_begin events differ from stats adopted $(st adopted)"
[ "$(awk '$15 > 0' /tmp/tstalls | wc -l)" -eq "$(st stalls_ended)" ] ||
	nfw_fail "$(awk '$15 > 0' /tmp/tstalls | wc -l) reported traced stalls, stats stalls_ended $(st stalls_ended)"

# 3. Off again: a reported stall records nothing.
echo 0 >$EV/enable
echo >$T/trace
echo 1 >$T/tracing_on
reports=$(nfw_stat reports)
echo "workers=1 mode=page zone=dma window_ms=$(nfw_slow 3000)" >$G/run || nfw_fail "the last run failed"
nfw_wait_settled
[ "$(nfw_stat reports)" -gt "$reports" ] || nfw_fail "the last stall was not reported"
if grep -qE "(stall_begin|stall_report|backoff_sleep|oom_trigger|stall_end):" $T/trace; then
	grep -E "(stall_begin|stall_report|backoff_sleep|oom_trigger|stall_end):" $T/trace | head
	nfw_fail "events recorded while disabled"
fi

nfw_rmmod nfw_stallgen
nfw_rmmod nofail_watchdog
nfw_pass "$(wc -l </tmp/ev) events in $(wc -l </tmp/tstalls) stalls agree with $(wc -l </tmp/recent) stalls in recent, $(st reports) reports, $(st oom_triggers) OOM triggers, $(st backoff_sleeps) back-off sleeps"
