#!/bin/sh
# Benchmark: the tools users run today against the same two scenarios.
#
# (a) The NOFAIL stall (a hog mlocks all but 160 MiB, 2 GFP_NOFS|__GFP_NOFAIL
#     workers eat the rest), without nofail_watchdog, with earlyoom running
#     at its default settings: did it kill, whom, when, and did the stall
#     end. (The module's and the hung-task detector's rows come from
#     detect-recover.sh, which runs the same scenario.)
# (b) The false-positive case: a hog mlocks memory until ~95% of RAM is used
#     (MemAvailable ~5% of MemTotal); it is not stuck and nothing stalls.
#     Each of earlyoom, and nofail_watchdog (stall_warn_ms=1000,
#     oom_after_ms=2000) together with the hung-task detector (5 s), watches
#     for 20 s: did anything get killed or reported.
# This shell and its helpers are protected (oom_score_adj=-1000); the hogs
# are not (oom_score_adj=0), and two idle `sleep` processes
# (oom_score_adj=100) are there so that the kernel's OOM killer, which
# earlyoom's own allocations can invoke, always has a victim.
#
# The workers allocate as fast as the allocator lets them: when earlyoom
# kills the hog, they would eat the freed memory within milliseconds and
# leave the guest without memory again, so the run is ended as soon as the
# hog is seen dead. earlyoom "detected/resolved" the stall if it killed the
# hog (that frees the memory the stuck allocations wait for); times are
# from the start of the first allocation that took >= 1 s, if any did
# before the kill (else the notes say when the kill came).
# One run (a binary outcome).
# nfw-qemu: --mem 512
# nfw-timeout: 600
. "$(dirname "$0")/lib.sh"

FP_WINDOW=20
SG=/sys/kernel/nfw_stallgen
echo -1000 >/proc/self/oom_score_adj
echo -1000 >/proc/$PPID/oom_score_adj
# Spare victims for the kernel's OOM killer (it panics when no task is
# eligible): small, and behind the hogs (oom_score_adj 100).
SPARES=
for i in $(seq 1 16); do
	sh -c 'echo 100 >/proc/self/oom_score_adj; exec sleep 100000' &
	SPARES="$SPARES $!"
done
echo 5 >/proc/sys/kernel/hung_task_timeout_secs
nfw_require_cmd earlyoom
nfws base.earlyoom.settings "$(earlyoom -v 2>&1 | head -1), default settings (-m 10 -s 10, no swap in the guest)"
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"

EO_PID=
start_earlyoom() {
	earlyoom >/tmp/eo.log 2>&1 &
	EO_PID=$!
	wait_for "grep -q 'mem avail' /tmp/eo.log" 20 0.2 || nfw_fail "earlyoom did not start: $(cat /tmp/eo.log)"
}
stop_earlyoom() {
	kill "$EO_PID" 2>/dev/null
	wait "$EO_PID" 2>/dev/null
	EO_PID=
}
# Victims named in earlyoom's log ("sending SIGTERM to process 123 uid 0 \"name\": ...").
eo_victims() {
	grep -E 'sending SIG(TERM|KILL) to process' /tmp/eo.log |
		sed -n 's/.*process \([0-9]*\) uid [0-9]* "\([^"]*\)".*/\2(\1)/p' | sort -u | tr '\n' ' '
}
# Monotonic ms (like the generator's clock): /proc/uptime, no suspend here.
now_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# --- (a) NOFAIL stall, earlyoom ------------------------------------------------
start_earlyoom
nfw_start_hog --leave-mb 160 --name nfw-hog --oom-score-adj 0
hog=$NFW_HOG_PID
rm -f /tmp/hog.dead
nfw_dmesg_mark
echo "workers=2 mode=page until=stall stall_ms=1000 record_ms=20 window_ms=30000" >$SG/run &
writer=$!
# When the hog dies, note the time and end the run (SIGKILL to the writer
# stops the generator, which frees what its workers hold): otherwise the
# workers would go on to eat the memory the kill freed.
# (No forks after the kill but one sleep: memory may be gone again.)
# The hog sleeps (S) until a signal wakes it to die; it stays in /proc as a
# zombie until this shell reaps it, so watch its state, not its directory.
( while grep -q '^State:.*S (sleeping)' /proc/$hog/status 2>/dev/null; do sleep 0.05; done
  read -r up _ </proc/uptime; echo "$up" >/tmp/hog.dead
  kill -9 $writer 2>/dev/null ) &
watcher=$!
wait $writer
kill "$watcher" 2>/dev/null
nfw_stallgen_records >/tmp/rec
stop_earlyoom
nfw_stop_hog "$hog"
sum=$(tail -1 /tmp/rec)
nfwb_log "earlyoom, stall scenario: $sum"
nfwb_log "earlyoom log: $(grep -E 'sending|low|mem avail' /tmp/eo.log | tail -5 | tr '\n' '|')"
victims=$(eo_victims)
gstart_ms=$(( $(kv "$sum" start_ns) / 1000000 ))
# First allocation of the run that took >= 1 s (the module's stall_warn_ms
# here): the stall. Empty if earlyoom acted before any allocation did.
first_stall=$(awk '/^pid=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["ms"] >= 1000) print v["start_ns"] }' /tmp/rec | sort -n | head -1)
resolved=0
case "$victims" in *nfw-hog\(*) resolved=1 ;; esac
nfwb base.earlyoom.stall_window_ms 30000
nfwb base.earlyoom.stall_detected $resolved
kk=$(nfw_dmesg_new | sed -n 's/.*Out of memory: Killed process [0-9]* (\([^)]*\)).*/\1/p' | tr '\n' ' ')
nfws base.earlyoom.stall_killed "${victims:-nothing}${kk:+; kernel OOM killer: $kk}"
nfwb base.earlyoom.stall_max_alloc_ms "$(kv "$sum" max_ms)"
if [ -f /tmp/hog.dead ]; then
	dead=$(awk '{ printf "%d", $1 * 1000 }' /tmp/hog.dead)
	# Allocations that took >= 1 s and ended after the kill: the stall came back.
	again=$(awk -v d="$dead" '/^pid=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["ms"] >= 1000 && v["end_ns"] / 1000000 > d) n++ } END { print n + 0 }' /tmp/rec)
	nfwb base.earlyoom.stalls_after_kill "$again"
	nfwb base.earlyoom.kill_after_generator_start_ms $((dead - gstart_ms))
	if [ -n "$first_stall" ]; then
		nfwb base.earlyoom.stall_detect_ms $((dead - first_stall / 1000000))
		[ $resolved = 1 ] && nfwb base.earlyoom.stall_resolve_ms $((dead - first_stall / 1000000))
	fi
fi
nfwb base.earlyoom.stall_resolved $resolved
nfws base.earlyoom.notes "acts on MemAvailable < 10%, not on the stall; one run: hog killed ${dead:+$((dead - gstart_ms)) ms after the workers started}${first_stall:+, first allocation >= 1 s started $((first_stall / 1000000 - gstart_ms)) ms after the workers started}; longest allocation $(kv "$sum" max_ms) ms; allocations that took >= 1 s and ended after the kill: ${again:-n/a} (the run is ended at the kill); the kernel's OOM killer, invoked by allocations of the tools and shells, killed: ${kk:-nothing}"

# --- (b) ~95% memory used, nothing stuck ----------------------------------------
# The spare victims go: in (b) every kill is a tool's decision.
for p in $SPARES; do kill "$p" 2>/dev/null; done
fp_hog() { # starts the hog(s) (FP_HOGS), sets $used (% of MemTotal in use)
	sync
	echo 3 >/proc/sys/vm/drop_caches
	total_mb=$(( $(meminfo_kb MemTotal) / 1024 ))
	FP_HOGS=
	for i in 1 2 3; do
		nfw_start_hog --leave-mb $((total_mb * 5 / 100)) --name nfw-bighog --oom-score-adj 0
		FP_HOGS="$FP_HOGS $NFW_HOG_PID"
		used=$(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { printf "%d", (t - a) * 100 / t }' /proc/meminfo)
		# Locking lets reclaim free some cache: top up until ~95% is used.
		[ "$used" -ge 94 ] && break
	done
}
fp_alive() { _n=0; for _p in $FP_HOGS; do [ -d /proc/$_p ] && _n=$((_n + 1)); done; echo $_n; }
fp_stop() { for _p in $FP_HOGS; do nfw_stop_hog "$_p"; done; }
fp_watch() { # TOOL: watch for FP_WINDOW s, then count
	nfw_dmesg_mark
	sleep $FP_WINDOW
	nfw_dmesg_new >/tmp/fpdmesg
}

# nofail_watchdog + hung-task detector.
nfw_insmod "$NFW_MODULE" stall_warn_ms=1000 oom_after_ms=2000
fp_hog
fp_watch
alive=$(fp_alive)
kills=$(grep -c "Killed process" /tmp/fpdmesg)
nfwb base.nofail_watchdog.fp_kills "$kills"
nfwb base.nofail_watchdog.fp_reports "$(grep -c 'nofail_watchdog: INFO:' /tmp/fpdmesg)"
nfwb base.nofail_watchdog.fp_window_ms $((FP_WINDOW * 1000))
nfwb base.nofail_watchdog.fp_mem_used_pct "$used"
nfwb base.hung_task.fp_kills 0
nfwb base.hung_task.fp_reports "$(grep -c 'blocked for more than' /tmp/fpdmesg)"
nfwb base.hung_task.fp_window_ms $((FP_WINDOW * 1000))
nfwb base.hung_task.fp_mem_used_pct "$used"
[ "$kills" -gt 0 ] && nfws base.nofail_watchdog.fp_killed "$(grep 'Killed process' /tmp/fpdmesg | head -3 | tr '\n' ' ')"
nfwb_log "module + hung task, ${used}% used: hogs alive=$alive, kills=$kills"
fp_stop
nfw_rmmod nofail_watchdog

# earlyoom.
start_earlyoom
fp_hog
fp_watch
stop_earlyoom
victims=$(eo_victims)
alive=$(fp_alive)
nfwb base.earlyoom.fp_kills "$(grep -cE 'sending SIG(TERM|KILL) to process' /tmp/eo.log)"
nfws base.earlyoom.fp_killed "$victims"
nfwb base.earlyoom.fp_window_ms $((FP_WINDOW * 1000))
nfwb base.earlyoom.fp_mem_used_pct "$used"
nfwb_log "earlyoom, ${used}% used: hogs alive=$alive, victims: ${victims:-none}"
fp_stop
nfw_rmmod nfw_stallgen
echo "# baselines: done"
