#!/bin/sh
# Stalled userspace tasks (writers of nfw_stallgen's alloc file, stuck in
# GFP_NOFS|__GFP_NOFAIL allocations in their own context) that are
# (A) SIGKILLed from userspace while tracked (ZONE_DMA: the rest of the
# system keeps working; a generator run's reserve gives the zone memory
# back), then exit when memory comes back, their slots closed while other
# processes reuse task structs;
# (B) themselves the OOM killer's victim, in the normal zone (a hog leaves
# 160 MiB, which the writer eats): the kill in the call the module triggers
# picks the stuck task (oom_score_adj 1000), which either gets a page from
# the OOM reserves and exits at once or stays stuck until memory comes back
# (see B), and the kills stay one per oom_interval_ms; (C) two tasks pinned
# to different CPUs that stall together in the normal zone: both reported,
# one OOM kill per interval.
# nfw-qemu: --mem 512
# nfw-timeout: 400
. "$(dirname "$0")/lib.sh"

G=/sys/kernel/nfw_stallgen
D=$NFW_SYS
# This shell, its children and qemu/init's shell that runs it are never the
# OOM killer's choice. (When the victim is stuck for good, the OOM reaper
# gives up on it after a few seconds and the next trigger picks the next
# task, as the kernel's own OOM killer does for __GFP_FS allocations.)
echo -1000 >/proc/self/oom_score_adj
echo -1000 >/proc/$PPID/oom_score_adj
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
nfw_insmod "$NFW_MODULE" stall_warn_ms=500 warn_interval_ms=600000 max_warnings=50 \
	backoff_after_ms=0 backoff=fixed backoff_min_ms=50 oom_after_ms=0

start_gen() { # the reserve, freed when the run is killed
	echo "workers=2 mode=page zone=dma reserve_kb=1024 window_ms=$(nfw_slow 120000)" >$G/run &
	gen=$!
	# The workers exist once the reserve is taken: only then may others
	# exhaust the zone.
	wait_for '[ "$(ps -o comm | grep -c "^nfw_stall/")" -ge 2 ]' "$(nfw_slow 20)" 0.1 ||
		nfw_fail "the generator run did not start: $(tail -1 $G/records)"
}
tracked() { awk -v p="$1" '$1 == p { f = 1 } END { exit !f }' $D/stalls; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# --- A: SIGKILL while tracked, exit, slot reuse -------------------------------
start_gen
sh -c "echo zone=dma >$G/alloc" &
a=$!
wait_for "tracked $a" "$(nfw_slow 20)" 0.2 || nfw_fail "A: writer $a not tracked: $(cat $D/stalls)"
kill -9 $a
sleep 1
gone $a && nfw_fail "A: the writer died inside a no-fail allocation"
tracked $a || nfw_fail "A: the killed writer is no longer tracked while still stuck"
nfw_gen_end $gen A
wait_for "gone $a" "$(nfw_slow 30)" 0.2 || nfw_fail "A: the killed writer did not exit after memory came back"
wait $a 2>/dev/null
# New tasks while the dead task's stall lingers: task structs get reused.
i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i + 1)); done
nfw_wait_settled
nfw_log "A: writer SIGKILLed while stuck and tracked, exited once memory came back, slot closed"

# --- B: the stalled task is the OOM victim ------------------------------------
# From here on, memory runs out in the normal zone: a hog (protected) locks
# all but 160 MiB, which the writers eat in well under a second. While
# memory is exhausted, any allocation of this shell (a fork, a pipe, a page
# fault) makes the kernel's own OOM killer kill for it at once (no
# oom_interval_ms for that), and it would kill the same task the module's
# trigger is to kill. So the shell arms the trigger, forks the writers (they
# wait at a gate, a FIFO) and a timer while memory is plentiful, opens the
# gate and only waits (a builtin) until the victim is dead: nothing but the
# module's triggers can make the kernel kill until then. (A generator run
# would need this shell to look for its workers while they exhaust
# memory.) Small spare tasks (oom_score_adj 0) are the victims of the kills
# after the first: with nothing eligible left the kernel would panic
# ("System is deadlocked on memory").
#
# Once killed, the victim may allocate below the min watermark (ALLOC_OOM:
# down to min/2, mm/page_alloc.c), but a stuck no-fail task drains the zone
# further: each of its OOM calls returns true (out_of_memory() does for any
# call without __GFP_FS) and __alloc_pages_may_oom() then gives a
# __GFP_NOFAIL allocation a page with ALLOC_NO_WATERMARKS. Whether a page is
# there for the victim at that moment depends on what kswapd took and what
# the per-CPU lists gave back. So the victim exits at once with its page
# (freeing all it held) or stays stuck until memory comes back (the next
# kill, of a spare, oom_interval_ms later): both are the kernel working as
# designed, and the same must hold either way: the kill in the triggered
# call picked the stuck task, no no-fail allocation returned NULL, the kills
# stay one per oom_interval_ms, the victim exits once memory is back and
# its slot closes.
spares=
add_spares() { # N: start N spare tasks of 4 MiB
	_i=0
	while [ $_i -lt "$1" ]; do
		nfw_start_hog --mb 4 --oom-score-adj 0 --name nfw-spare
		spares="$spares $NFW_HOG_PID"
		_i=$((_i + 1))
	done
}
spares_left() { _n=0; for _s in $spares; do [ -d /proc/$_s ] && _n=$((_n + 1)); done; echo $_n; }
# The OOM reports of the calls the module triggered: a stuck task's own
# call, shown its mask (GFP_NOFS|__GFP_NOFAIL) plus __GFP_FS.
TRIGGERED='invoked oom-killer: gfp_mask=0x[0-9a-f]+\(GFP_KERNEL\|__GFP_NOFAIL\)'
# check_spacing WHAT INTERVAL_MS: writes the kernel timestamps (ms) of the
# triggered reports since the mark to /tmp/calls and checks that they are
# at least INTERVAL_MS apart (each triggered call starts that long after the
# previous kill, or later); prints the smallest gap.
check_spacing() {
	NFW_DMESG_RAW=1 nfw_dmesg_new | grep -E "$TRIGGERED" |
		sed -n 's/^<[0-9]*>\[ *\([0-9]*\)\.\([0-9]\{3\}\).*/\1\2/p' >/tmp/calls
	_prev= _min=
	while read -r _t; do
		if [ -n "$_prev" ]; then
			_d=$((_t - _prev))
			[ "$_d" -ge $(($2 - 50)) ] || nfw_fail "$1: triggered OOM reports $_d ms apart, oom_interval_ms=$2"
			{ [ -z "$_min" ] || [ "$_d" -lt "$_min" ]; } && _min=$_d
		fi
		_prev=$_t
	done </tmp/calls
	echo "${_min:-none}"
}
# check_kills WHAT K0: the kills since the mark (oom_kills - K0) are the
# triggered OOM reports, and each was reported by the module.
check_kills() {
	_k=$(($(nfw_stat oom_kills) - $2))
	[ "$_k" -eq "$(wc -l </tmp/calls)" ] ||
		{ nfw_dmesg_new | grep -E 'invoked oom-killer|Killed process'; nfw_fail "$1: $(wc -l </tmp/calls) triggered OOM reports, oom_kills grew by $_k"; }
	wait_for '[ "$(nfw_dmesg_new | grep -c "nofail_watchdog: triggered OOM kill for task ")" -eq '"$_k"' ]' 5 0.2 ||
		nfw_fail "$1: $(nfw_dmesg_new | grep -c 'nofail_watchdog: triggered OOM kill for task ') 'triggered OOM kill' lines, oom_kills grew by $_k"
}
# unstick SECS PID...: a timer, forked while memory is still plentiful:
# should the test still be waiting after SECS, it SIGKILLs the PIDs and the
# hog, which gives memory back, so that the checks fail (nothing was killed
# by a trigger) instead of the test hanging.
unstick() {
	_secs=$1
	shift
	(sleep "$_secs"; kill -9 "$@" "$big") 2>/dev/null &
	timer=$!
}
# killed_in_trigger WHAT PID FILE: the kill of PID in the kernel log FILE
# came from a call the module triggered, not from the kernel's own OOM
# killer for another allocation: the OOM report just before it is a
# triggered one.
# is_killed_in_trigger PID FILE: the same as a status; the OOM report
# before the kill is in $_before.
is_killed_in_trigger() {
	_before=$(awk -v k="Killed process $1 " '/invoked oom-killer/ { last = $0 } index($0, k) { print last; exit }' "$2")
	echo "$_before" | grep -qE "$TRIGGERED"
}
killed_in_trigger() {
	is_killed_in_trigger "$2" "$3" ||
		{ grep -E 'invoked oom-killer|Killed process' "$3"; nfw_fail "$1: $2 was not killed in a triggered call: $_before"; }
}
add_spares 4
nfw_start_hog --leave-mb 160 --oom-score-adj -1000 --name nfw-big
big=$NFW_HOG_PID
# The gate: each writer reads one line from it (a builtin read of a pipe
# takes one byte at a time) before it allocates.
rm -f /tmp/nfw-gate
mkfifo /tmp/nfw-gate
exec 3<>/tmp/nfw-gate
# Kernel threads allocate too while memory is gone (seen: kthreadd,
# GFP_KERNEL, while forking): the kernel's own OOM killer then kills for
# that allocation, and its victim is the writer (oom_score_adj 1000) before
# the module's trigger came. That run did not establish B's premise (a
# stall the module had to end); it is made again, up to three runs.
b=0
while :; do
	b=$((b + 1))
	nfw_knob oom_interval_ms 1000
	nfw_knob oom_after_ms 1000
	nfw_dmesg_mark
	k0=$(nfw_stat oom_kills)
	sh -c "read -r _ <&3; echo 1000 >/proc/self/oom_score_adj; echo zone=normal >$G/alloc" &
	v=$!
	unstick "$(nfw_slow 60)" $v
	echo go >&3
	wait $v
	kill -9 $timer
	nfw_knob oom_after_ms 0
	nfw_dmesg_new >/tmp/b
	grep -q "Killed process $v " /tmp/b ||
		nfw_fail "B: the stuck writer $v was not the OOM victim: $(grep -E 'invoked oom-killer|Killed process' /tmp/b)"
	is_killed_in_trigger $v /tmp/b && break
	echo "$_before" | grep -q "invoked oom-killer" && [ $b -lt 3 ] || killed_in_trigger B $v /tmp/b
	nfw_log "B, run $b: the kernel killed $v for another allocation first ($_before); again"
	nfw_wait_settled
	add_spares $((4 - $(spares_left)))
done
gap=$(check_spacing B 1000)
check_kills B "$k0"
kills=$(($(nfw_stat oom_kills) - k0))
[ -d /proc/$big ] || nfw_fail "B: the protected hog died"
nfw_dmesg_grep 'allocations returned NULL' && nfw_fail "B: $(nfw_dmesg_new | grep 'returned NULL')"
nfw_wait_settled
awk -v p="$v" 'NR > 1 && $1 == p { f = 1 } END { exit !f }' $D/recent || { cat $D/recent; nfw_fail "B: no stall of the writer $v in recent"; }
if [ "$kills" -eq 1 ]; then
	how="got a page from the OOM reserves and exited at once"
else
	how="stayed stuck until memory came back (no reserves left for it: $((kills - 1)) more kills)"
fi
nfw_log "B: the OOM victim was the stuck task itself; it $how; $kills kills (smallest gap $gap ms), $(grep -c 'Killed process' /tmp/b) in all; $(spares_left) spares left"

# --- C: two stalls on different CPUs at the same moment -----------------------
# Both writers (oom_score_adj -1000, from this shell) stall together; their
# OOM calls, past oom_after_ms at about the same time, get one kill per
# oom_interval_ms (which runs from B's last kill too). The first takes a
# sentinel (oom_score_adj 1000) this shell waits for; the writers stay
# stuck (what the sentinel freed is soon eaten) and due for HOLD seconds
# (less than the interval), which this shell waits out with a builtin read
# that times out on the gate FIFO; then they are SIGKILLed, and exit with
# their next page (from the reserves in their next OOM call, or after
# another kill). Once the sentinel is dead, the kernel's own OOM killer may
# also kill spares, for this shell's page faults (its code, read back after
# reclaim): more spares.
if [ "$(nfw_cpus_online)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
	add_spares $((8 - $(spares_left)))
	INTERVAL=$(nfw_slow 3000)
	nfw_knob oom_interval_ms "$INTERVAL"
	nfw_knob stall_warn_ms 1000
	nfw_knob max_warnings 50
	nfw_knob oom_after_ms 2000
	HOLD=$(nfw_slow 2)
	sh -c 'echo 1000 >/proc/self/oom_score_adj; exec sleep 100000' &
	sentinel=$!
	nfw_dmesg_mark
	o0=$(nfw_stat oom_kills)
	g0=$(nfw_stat oom_triggers)
	c0=$(nfw_stat oom_calls)
	taskset -c 0 sh -c "read -r _ <&3; echo zone=normal >$G/alloc" &
	p0=$!
	taskset -c 1 sh -c "read -r _ <&3; echo zone=normal >$G/alloc" &
	p1=$!
	unstick "$(nfw_slow 60)" $sentinel $p0 $p1
	printf 'go\ngo\n' >&3
	wait $sentinel
	read -r -t "$HOLD" _ <&3
	# The CPU they last ran on (field 39 of stat; pinned: the one they ran
	# on), read while they are stuck.
	read -r st0 </proc/$p0/stat
	read -r st1 </proc/$p1/stat
	kill -9 $p0 $p1
	wait $p0 $p1
	kill -9 $timer
	nfw_knob oom_after_ms 0
	# shellcheck disable=SC2086
	set -- $st0
	shift 38
	cpu0=$1
	# shellcheck disable=SC2086
	set -- $st1
	shift 38
	cpu1=$1
	nfw_log "C: writer $p0 on CPU $cpu0, writer $p1 on CPU $cpu1"
	[ "$cpu0" != "$cpu1" ] || nfw_fail "C: both writers on one CPU"
	nfw_dmesg_grep ":$p0 stuck" && nfw_dmesg_grep ":$p1 stuck" ||
		nfw_fail "C: both stalls not reported: $(nfw_dmesg_new | grep INFO)"
	nfw_dmesg_new >/tmp/c
	grep -q "Killed process $sentinel " /tmp/c || nfw_fail "C: the sentinel was not killed"
	killed_in_trigger C $sentinel /tmp/c
	gap=$(check_spacing C "$INTERVAL")
	check_kills C "$o0"
	kills=$(($(nfw_stat oom_kills) - o0))
	[ "$kills" -ge 1 ] || nfw_fail "C: no OOM kill"
	# The kill that ended the hold was the first: the writers were stuck,
	# and due, for the whole hold after it.
	[ "$(nfw_dmesg_new | grep -m1 'Killed process' | sed 's/.*Killed process \([0-9]*\) .*/\1/')" = "$sentinel" ] ||
		nfw_fail "C: the first kill was not the sentinel's: $(nfw_dmesg_new | grep 'Killed process')"
	nfw_wait_settled
	# The writers' stalls went on for the hold after the kill: the module's
	# events (one clock) have the kill ("oom") and the stalls' ends.
	held=$(awk -v a="$p0" -v b="$p1" '($4 == a || $4 == b) && $3 == "oom" && !k { k = $2 } ($4 == a || $4 == b) && $3 == "end" && $2 > e { e = $2 }
		END { if (k && e) print int((e - k) / 1000000) }' $D/events)
	[ -n "$held" ] || { cat $D/events; nfw_fail "C: no oom or end events"; }
	nfw_log "C: the writers stayed stuck $held ms after the first kill (hold ${HOLD} s)"
	[ "$held" -ge $((HOLD * 1000 - 200)) ] || nfw_fail "C: the writers got out $held ms after the first kill, before the hold ended"
	nfw_log "C: oom_calls +$(($(nfw_stat oom_calls) - c0)), oom_triggers +$(($(nfw_stat oom_triggers) - g0)), oom_kills +$kills (smallest gap $gap ms, oom_interval_ms=$INTERVAL); $(nfw_dmesg_new | grep -c 'Killed process') kills in all; $(spares_left) spares left"
	nfw_log "C: two stalls on CPUs $cpu0 and $cpu1 reported together, one OOM kill per interval"
else
	nfw_log "C: skipped (one CPU or no taskset)"
fi
exec 3>&-
for s in $spares; do nfw_stop_hog "$s"; done
nfw_stop_hog "$big"
dmesg | grep 'allocations returned NULL' && nfw_fail "a __GFP_NOFAIL allocation returned NULL"
nfw_rmmod nofail_watchdog
nfw_rmmod nfw_stallgen
nfw_pass "killed, self-victim and simultaneous stalls handled"
