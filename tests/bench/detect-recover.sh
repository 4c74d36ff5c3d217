#!/bin/sh
# Benchmark: detection latency, recovery time, CPU burnt while stuck, and the
# same NOFAIL stall without the module (the kernel's hung-task detector with
# a 5 s timeout is on throughout: its row of the baseline comparison).
#
# Ground truth is the stall generator's record of every slow allocation
# (start and end, monotonic ns); the module's `recent` file gives when it
# started following each stall, first reported it and saw it end.
#
# 1. Detection: rounds of 6 workers in the real livelock (a hog mlocks all
#    but 160 MiB), oom_after_ms=0: latency = first report - ground-truth
#    start - stall_warn_ms, until 24 stalls are measured (at most 12 rounds).
# 2. CPU: a ZONE_DMA stall of 2 workers, utime+stime of the stuck workers
#    over 3 s, back-off off and exp (default) alternated for 10 rounds.
# 3. Recovery: oom_after_ms=2000, rounds of 2 workers until the stall
#    ends; recovery = end of the stall - ground-truth start - oom_after_ms,
#    for 10 rounds. Between them, rounds with the module unloaded (same
#    scenario, 20 s window): were the workers still stuck at its end, did
#    the hung-task detector report.
#
# Each phase rests on a premise, a livelock (or stall) that formed, and
# checks it round by round: the hog is sized from what is free when each
# round starts, a round whose livelock did not form (the ground truth has
# no allocation that lasted long enough) measures nothing and says so, and
# rounds go on, a bounded number more, until the asked count is reached.
# The asked counts are printed too (detect.samples_asked, cpu.rounds_asked,
# recover.rounds): the report marks a figure that fell short of its count
# instead of presenting it as if the sample were complete (issue 13).
# nfw-qemu: --mem 512
# nfw-timeout: 1200
. "$(dirname "$0")/lib.sh"

WARN=1000
OOM_AFTER=2000
DETECT_MIN=${NFW_BENCH_DETECT_STALLS:-24}
# 6 workers give up to 6 stalls a round: 4 rounds when all goes well.
DETECT_MAX_ROUNDS=${NFW_BENCH_DETECT_MAX_ROUNDS:-12}
CPU_ROUNDS=${NFW_BENCH_CPU_ROUNDS:-10}
REC_ROUNDS=${NFW_BENCH_REC_ROUNDS:-10}
# Rounds beyond CPU_ROUNDS / REC_ROUNDS that may replace rounds that
# measured nothing.
EXTRA_ROUNDS=4
BASE_EVERY=${NFW_BENCH_BASE_EVERY:-4}
BASE_WINDOW=20000
SG=/sys/kernel/nfw_stallgen

echo 5 >/proc/sys/kernel/hung_task_timeout_secs
# Keep the benchmark's shells out of the OOM killers' reach; spare victims
# (oom_score_adj 100, behind the hog) keep the kernel from panicking when a
# kill finds no hog left (a second kill right after the first: see
# recover.kills_per_round). Each holds 8 MiB: when the kernel's own OOM
# killer (a background __GFP_FS allocation) took the hog first and one
# worker ate its memory, the module's next kill (a spare) gives back enough
# for the run's until=stall to end it, instead of one kill per
# oom_interval_ms of memoryless spares until nothing is eligible and the
# kernel panics, as it would for a __GFP_FS allocation.
echo -1000 >/proc/self/oom_score_adj
echo -1000 >/proc/$PPID/oom_score_adj
SPARES=
spares() {
	for p in $SPARES; do [ -d /proc/$p ] || SPARES=$(echo "$SPARES" | sed "s/ $p\b//"); done
	while [ "$(echo $SPARES | wc -w)" -lt 4 ]; do
		nfw-hog --mb 8 --oom-score-adj 100 --name nfw-spare >/dev/null 2>&1 &
		SPARES="$SPARES $!"
	done
}
spares
nfws base.hung_task.settings "hung_task_timeout_secs=5 (default 120), hung_task_panic=0"
nfws base.nofail_watchdog.settings "stall_warn_ms=$WARN oom_after_ms=$OOM_AFTER, other knobs default"
nfw_insmod "$NFW_MODULE" stall_warn_ms=$WARN warn_interval_ms=60000 max_warnings=100000 oom_after_ms=0
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
nfwb detect.stall_warn_ms $WARN
# The asked counts first: a boot cut short then leaves every figure it did
# not finish marked short in the report, not just missing.
nfwb detect.samples_asked "$DETECT_MIN"
nfwb cpu.rounds_asked "$CPU_ROUNDS"
nfwb recover.rounds "$REC_ROUNDS"

# squeeze HOG-ARGS...: (re)start the hog, sized from what is free now
# (nfw-hog --leave-mb), so that MemAvailable is about LEAVE_MB when the
# round starts. A hog started once for several rounds leaves them each a
# different squeeze: memory freed since (a spare or the hog killed by the
# kernel's own OOM killer, shells and caches that shrank) gives the workers
# room to get through, and later rounds found no stall at all (issue 13).
# Up to 3 tries to land within SQUEEZE_SLACK_MB of the target; then it says
# so and returns 1 (the round still runs: whether its livelock formed is
# checked on the ground truth). Sets AVAIL_MB: MemAvailable, hog ready.
LEAVE_MB=160
SQUEEZE_SLACK_MB=32
squeeze() {
	_sq_try=0
	while :; do
		_sq_try=$((_sq_try + 1))
		[ -n "${NFW_HOG_PID:-}" ] && nfw_stop_hog
		NFW_HOG_PID=
		nfw_start_hog --leave-mb $LEAVE_MB "$@"
		AVAIL_MB=$(($(nfw_mem_available_kb) / 1024))
		_sq_off=$((AVAIL_MB - LEAVE_MB))
		[ "${_sq_off#-}" -le $SQUEEZE_SLACK_MB ] && return 0
		if [ $_sq_try -ge 3 ]; then
			nfwb_log "squeeze: MemAvailable ${AVAIL_MB} MiB with the hog ready, target $LEAVE_MB MiB, after $_sq_try tries"
			return 1
		fi
	done
}

# truth FILE: ground truth of a records dump, one line per allocation:
# pid start_ns ms end_ns.
truth() {
	awk '/^pid=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print v["pid"], v["start_ns"], v["ms"], v["end_ns"] }' "$1"
}
# truth_start TRUTHFILE PID MODULE_START_NS: start of the allocation call in
# progress when the module began following the stall.
truth_start() {
	awk -v p="$2" -v m="$3" '$1 == p && $2 <= m && m <= $4 { print $2 }' "$1" | head -1
}

# --- 1. detection -----------------------------------------------------------
# A round measures something only if its livelock formed: some allocation
# of the run lasted >= stall_warn_ms (the ground truth's max_ms). A round
# where none did is said and run again; rounds go on until DETECT_MIN
# stalls are measured, at most DETECT_MAX_ROUNDS, and stop early after 3
# rounds in a row that did not form (the premise cannot be established on
# this host now: said, and the report marks the figure short).
: >/tmp/lat
n=0 formed=0 unformed_run=0
while [ "$(wc -l </tmp/lat)" -lt "$DETECT_MIN" ] && [ $n -lt "$DETECT_MAX_ROUNDS" ] &&
	[ $unformed_run -lt 3 ]; do
	n=$((n + 1))
	spares
	squeeze --name nfw-hog || :
	nfwb detect.round_avail_mb "$AVAIL_MB"
	before=$(wc -l </tmp/lat)
	echo "workers=6 mode=page window_ms=6000 record_ms=40" >$SG/run || nfw_fail "generator run failed"
	nfw_wait_settled
	nfw_stallgen_records >/tmp/rec
	truth /tmp/rec >/tmp/truth
	sum=$(tail -1 /tmp/rec)
	gstart=$(kv "$sum" start_ns)
	# recent: pid comm kind order gfp start_ns first_report_ns end_ns ...
	awk -v g="$gstart" 'NR > 1 && $6 >= g && $2 ~ /^nfw_stall\// && $7 > 0 { print $1, $6, $7 }' \
		$NFW_SYS/recent | while read -r pid mstart rep; do
		t=$(truth_start /tmp/truth "$pid" "$mstart")
		[ -n "$t" ] || continue
		lat=$(( (rep - t) / 1000000 - WARN ))
		echo "$lat" >>/tmp/lat
		nfwb detect.latency_ms "$lat"
	done
	got=$(($(wc -l </tmp/lat) - before))
	# The generator's longest allocation of the run (all of them, not only
	# the recorded ones).
	longest=$(kv "$sum" max_ms)
	longest=${longest:-0}
	if [ "$longest" -ge $WARN ]; then
		formed=$((formed + 1)) unformed_run=0
		nfwb_log "detection round $n: livelock formed (MemAvailable ${AVAIL_MB} MiB at the start, longest allocation $longest ms): $got stalls measured, $(wc -l </tmp/lat) of $DETECT_MIN"
	else
		unformed_run=$((unformed_run + 1))
		nfwb_log "detection round $n: the livelock did not form (MemAvailable ${AVAIL_MB} MiB at the start, longest allocation $longest ms < stall_warn_ms=$WARN): nothing to measure, run again; $sum"
	fi
done
nfw_stop_hog
NFW_HOG_PID=
count=$(wc -l </tmp/lat)
nfwb detect.rounds $n
nfwb detect.rounds_formed $formed
if [ "$count" -lt "$DETECT_MIN" ]; then
	why="at most $DETECT_MAX_ROUNDS rounds"
	[ $unformed_run -ge 3 ] && why="the livelock did not form in the last 3 rounds"
	nfwb_log "detection: only $count stalls measured of the $DETECT_MIN asked for, in $n rounds ($formed formed; $why): the report marks the figure short"
fi

# --- 2. CPU burnt while stuck -------------------------------------------------
nfw_knob backoff_after_ms 500
SECS=3
nfwb cpu.seconds $SECS
nfwb cpu.workers 2
nfwb cpu.user_hz 100
# cpu_ticks PID...: total utime+stime of these tasks in clock ticks; empty
# if one of them is gone.
cpu_ticks() {
	t=0
	for p in "$@"; do
		s=$(cut -d')' -f2 /proc/$p/stat 2>/dev/null) || return 0
		[ -n "$s" ] || return 0
		set -- $s
		t=$((t + ${12} + ${13}))
	done
	echo $t
}
# cpu_measure BACKOFF: ticks burnt in $SECS s by the 2 stuck workers;
# nothing if the premise (both workers stuck) did not hold throughout. Run
# in $(...): its stdout is the figure, so it logs to stderr, and it must not
# nfw_fail (that would end only this subshell, the generator still running).
cpu_measure() {
	nfw_knob backoff "$1"
	# A long window, ended by SIGKILL to the writer once measured (under a
	# busy host the stall can take seconds to form).
	echo "workers=2 mode=page zone=dma window_ms=30000" >$SG/run &
	gen=$!
	if ! wait_for '[ "$(nfw_stat stalls_active)" -ge 2 ]' 20 0.1; then
		nfwb_log "backoff=$1: the stall of 2 workers did not form within 20 s" >&2
		kill -9 $gen 2>/dev/null
		wait $gen
		nfw_wait_settled
		return 0
	fi
	sleep 0.5
	# The same two tasks at both ends of the interval.
	pids=$(grep -l '^nfw_stall/' /proc/[0-9]*/comm 2>/dev/null | cut -d/ -f3 | tr '\n' ' ')
	# shellcheck disable=SC2086
	a=$(cpu_ticks $pids)
	sleep $SECS
	# shellcheck disable=SC2086
	b=$(cpu_ticks $pids)
	kill -9 $gen 2>/dev/null
	wait $gen
	nfw_wait_settled
	if [ -n "$a" ] && [ -n "$b" ] && [ "$(echo $pids | wc -w)" -eq 2 ]; then
		echo $((b - a))
	fi
}
# A dropped round is replaced, at most EXTRA_ROUNDS times.
r=0 measured=0
while [ $measured -lt "$CPU_ROUNDS" ] && [ $r -lt $((CPU_ROUNDS + EXTRA_ROUNDS)) ]; do
	r=$((r + 1))
	if [ $((r % 2)) = 1 ]; then
		off=$(cpu_measure off); on=$(cpu_measure exp)
	else
		on=$(cpu_measure exp); off=$(cpu_measure off)
	fi
	# A round counts only if both sides measured their two workers throughout.
	if [ -n "$off" ] && [ -n "$on" ]; then
		nfwb cpu.off_ticks "$off"
		nfwb cpu.on_ticks "$on"
		measured=$((measured + 1))
	else
		nfwb_log "CPU round $r dropped: a side's stall did not form, or a worker was not there for the whole interval"
	fi
done
nfwb cpu.rounds_run $r
[ $measured -ge "$CPU_ROUNDS" ] ||
	nfwb_log "CPU: only $measured rounds measured of the $CPU_ROUNDS asked for, in $r rounds: the report marks the figure short"
nfw_knob backoff exp
nfw_knob backoff_after_ms 1000

# --- 3. recovery, and the baseline without the module -----------------------
nfw_knob oom_after_ms $OOM_AFTER
nfwb recover.oom_after_ms $OOM_AFTER
nfwb recover.baseline.window_ms $BASE_WINDOW

# recover_round: one round; returns 1 if it measured nothing (prints
# recover.round_samples either way: the report counts the rounds that
# measured something against recover.rounds).
# A kill holds the module's next trigger back for oom_interval_ms: a round
# whose stall began sooner after the previous round's kill measured that
# deferral, not recovery (seen on 7.3, where a round takes less than
# oom_interval_ms: 8 of 10 rounds triggered 1.8 s late, each exactly 5 s
# after the previous kill). So a round starts its stall only once
# oom_interval_ms has passed since the previous round ended.
uptime_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
LAST_ROUND_END_MS=0
recover_round() {
	spares
	squeeze --name nfw-hog --oom-score-adj 0 || :
	_wait=$((LAST_ROUND_END_MS + $(cat "$NFW_SYS/oom_interval_ms") - $(uptime_ms)))
	[ "$_wait" -gt 0 ] && sleep "$(awk -v w="$_wait" 'BEGIN { printf "%.2f", w / 1000 }')"
	nfw_dmesg_mark
	echo "workers=2 mode=page until=stall stall_ms=$OOM_AFTER record_ms=20 window_ms=60000" >$SG/run ||
		nfw_fail "generator run failed"
	nfw_stallgen_records >/tmp/rec
	truth /tmp/rec >/tmp/truth
	sum=$(tail -1 /tmp/rec)
	gstart=$(kv "$sum" start_ns)
	nfw_wait_settled
	LAST_ROUND_END_MS=$(uptime_ms)
	nfw_stop_hog
	nfw_dmesg_new >/tmp/dmesg
	# OOM kills in this round, and their victims: one (the hog) is expected.
	kills=$(grep -c 'Out of memory: Killed process' /tmp/dmesg)
	nfwb recover.kills_per_round "$kills"
	# The module's kills: its triggered OOM calls that ended in a kill.
	nfwb recover.module_triggers_per_round "$(grep -c 'nofail_watchdog: triggered OOM kill' /tmp/dmesg)"
	v=$(sed -n 's/.*Out of memory: Killed process [0-9]* (\([^)]*\)).*/\1/p' /tmp/dmesg | tr '\n' ' ')
	case "$v" in "nfw-hog " | "") ;; *) nfwb_log "recovery round: OOM victims: $v"; nfws recover.extra_victims "$v" ;; esac
	grep -q "stopped_by=stall" /tmp/rec || nfwb_log "recovery round: $sum"
	if ! grep -q 'nofail_watchdog: triggered OOM kill' /tmp/dmesg; then
		longest=$(kv "$sum" max_ms)
		if [ "$kills" -eq 0 ] && [ "${longest:-0}" -lt $OOM_AFTER ]; then
			# The premise failed: no allocation stuck for oom_after_ms,
			# nothing for the module to end.
			nfwb_log "recovery round: the livelock did not form (MemAvailable ${AVAIL_MB} MiB at the start, longest allocation ${longest:-?} ms, no OOM kill): nothing to measure"
			nfwb recover.unformed 1
		elif [ "$kills" -eq 0 ]; then
			nfwb_log "recovery round: an allocation stuck for $longest ms, yet no OOM kill"
		else
			# The kernel's own OOM killer ended the stall: nothing of
			# the module's to measure.
			nfwb_log "recovery round: the kernel's own OOM killer ended the stall first"
			nfwb recover.kernel_first 1
		fi
		nfwb recover.round_samples 0
		return 1
	fi
	# A file, not a pipe: the loop runs in this shell and counts.
	awk -v g="$gstart" 'NR > 1 && $6 >= g && $2 ~ /^nfw_stall\// { print $1, $6, $7, $8 }' \
		$NFW_SYS/recent >/tmp/rec_rows
	got=0
	while read -r pid mstart rep mend; do
		t=$(truth_start /tmp/truth "$pid" "$mstart")
		[ -n "$t" ] || continue
		got=$((got + 1))
		nfwb recover.over_ms $(( (mend - t) / 1000000 - OOM_AFTER ))
		nfwb base.nofail_watchdog.stall_resolve_ms $(( (mend - t) / 1000000 ))
		[ "$rep" -gt 0 ] && nfwb base.nofail_watchdog.stall_detect_ms $(( (rep - t) / 1000000 ))
	done </tmp/rec_rows
	nfwb recover.round_samples $got
	[ $got -gt 0 ]
}

# Without the module: the same scenario for a fixed window. "Recovered"
# means no worker was stuck when the window ended (as in
# 20-baseline-livelock: a page freed anywhere lets a stuck worker make one
# quick allocation and get stuck again, so a quick allocation alone does not
# count): no allocation in progress at STOP had lasted >= 1 s by then.
# That means something only if the livelock formed: a round in which no
# allocation ever lasted 1 s "recovered" by luck. It is not counted, and
# returns 1 (the caller runs it again once).
base_round() {
	nfw_rmmod nofail_watchdog
	spares
	squeeze --name nfw-hog --oom-score-adj 0 || :
	nfw_dmesg_mark
	echo "workers=2 mode=page record_ms=20 window_ms=$BASE_WINDOW" >$SG/run ||
		nfw_fail "generator run failed"
	nfw_stallgen_records >/tmp/rec
	nfw_dmesg_new >/tmp/dmesg
	nfw_stop_hog
	nfw_insmod "$NFW_MODULE" stall_warn_ms=$WARN warn_interval_ms=60000 max_warnings=100000 oom_after_ms=$OOM_AFTER
	sum=$(tail -1 /tmp/rec)
	nfwb_log "baseline round: $sum"
	longest=$(kv "$sum" max_ms)
	if [ "${longest:-0}" -lt 1000 ]; then
		nfwb_log "baseline round: the livelock did not form (MemAvailable ${AVAIL_MB} MiB at the start, longest allocation ${longest:-?} ms): not counted"
		nfwb recover.baseline.unformed 1
		return 1
	fi
	stop=$(kv "$sum" stop_ns)
	stuck=$(awk -v s="$stop" '/^pid=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["end_ns"] >= s && s - v["start_ns"] >= 1000000000) n++ } END { print n + 0 }' /tmp/rec)
	rec=0
	[ "$stuck" -eq 0 ] && rec=1
	nfwb recover.baseline.recovered $rec
	nfwb recover.baseline.stuck_ms "$(kv "$sum" max_ms)"
	hung=$(grep -c "blocked for more than" /tmp/dmesg)
	kills=$(grep -c "Killed process" /tmp/dmesg)
	nfwb base.hung_task.stall_reports "$hung"
	HUNG_TOTAL=$((HUNG_TOTAL + hung))
	BASE_REC=$((BASE_REC + rec))
	nfwb recover.baseline.kernel_oom_kills "$kills"
}

# A round that measured nothing is replaced, at most EXTRA_ROUNDS times.
HUNG_TOTAL=0 BASE_REC=0
r=0 measured=0
while [ $measured -lt "$REC_ROUNDS" ] && [ $r -lt $((REC_ROUNDS + EXTRA_ROUNDS)) ]; do
	r=$((r + 1))
	recover_round && measured=$((measured + 1))
	if [ $((r % BASE_EVERY)) = 0 ]; then
		base_round || base_round ||
			nfwb_log "baseline round: the livelock did not form in 2 tries: none this time"
	fi
	nfwb_log "recovery round $r done: $measured of $REC_ROUNDS measured"
done
nfwb recover.rounds_run $r
[ $measured -ge "$REC_ROUNDS" ] ||
	nfwb_log "recovery: only $measured rounds measured of the $REC_ROUNDS asked for, in $r rounds: the report marks the figure short"
# The hung-task detector only reports (hung_task_panic=0): it never ends a
# stall; what ended one, if anything, was the kernel's own OOM killer.
nfwb base.hung_task.stall_detected $([ "$HUNG_TOTAL" -gt 0 ] && echo 1 || echo 0)
nfwb base.hung_task.stall_resolved 0
nfws base.hung_task.stall_killed "- (reports only; workers no longer stuck at the end of the window in $BASE_REC of the baseline rounds)"
nfwb base.nofail_watchdog.stall_detected 1
nfwb base.nofail_watchdog.stall_resolved 1
nfws base.nofail_watchdog.stall_killed "kernel OOM killer (invoked by the module): nfw-hog"
nfw_rmmod nfw_stallgen
nfw_rmmod nofail_watchdog
echo "# detect-recover: done"
