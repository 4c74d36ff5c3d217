#!/bin/sh
# Baseline, without nofail-watchdog: the GFP_NOFS|__GFP_NOFAIL livelock
# reproduces and nothing in the kernel notices.  Most RAM is mlocked by
# nfw-hog, two nfw_stallgen workers eat the rest with
# alloc_pages(GFP_NOFS | __GFP_NOFAIL, 0) and then loop in the page allocator
# until the 20 s window ends: no OOM kill (out_of_memory() skips !__GFP_FS),
# no hung-task report (the loop is runnable), no soft lockup (it calls
# cond_resched()), with both detectors at 5 s.  Prints the measured numbers.
#
# Exhausting memory takes 2-4 s of the window under TCG (sometimes ~7 s,
# when reclaim still finds a little to free), and a page freed anywhere lets
# a stuck worker make one allocation and get stuck again, so the check is:
# each worker was stuck, with no more than such single-page breaks, for
# >= 10 s (twice the hung-task timeout, as long as the soft-lockup threshold)
# up to the end of the window. A run in which the livelock did not form or
# last (reclaim kept finding pages, or the kernel's OOM killer acted for
# another task's __GFP_FS allocation and killed the hog) is made again, up
# to three runs; anything the kernel noticed about the stuck allocations
# fails at once.
# nfw-qemu: --mem 512
# nfw-timeout: 240

WINDOW_MS=35000
MIN_STUCK_MS=10000
WORKERS=2
LEAVE_MB=96
SG=/sys/kernel/nfw_stallgen

if [ -f /nfw/tests/guest/lib.sh ]; then
	. /nfw/tests/guest/lib.sh
fi
command -v nfw_log >/dev/null 2>&1 || nfw_log() { echo "# $*"; }
command -v nfw_fail >/dev/null 2>&1 || nfw_fail() {
	echo "FAIL: 20-baseline-livelock: $*" >&2
	exit 1
}
command -v nfw_pass >/dev/null 2>&1 || nfw_pass() {
	echo "PASS: 20-baseline-livelock${1:+: $*}"
	exit 0
}
STALLGEN_KO=${NFW_TEST_MODULES:-/nfw/modules}/nfw_stallgen.ko

hog_pid=
cleanup() {
	[ -n "$hog_pid" ] && kill "$hog_pid" 2>/dev/null
	[ -d "$SG" ] && rmmod nfw_stallgen 2>/dev/null
}
trap cleanup EXIT

# KEY=VALUE word of a line.
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# All records of the last run (paging with records_offset), then the summary.
read_records() {
	_off=0
	: >/tmp/t20.records
	while :; do
		echo "$_off" >"$SG/records_offset" || nfw_fail "cannot write records_offset"
		_page=$(cat "$SG/records") || nfw_fail "cannot read records"
		printf '%s\n' "$_page" | grep '^pid=' >>/tmp/t20.records
		_sum=$(printf '%s\n' "$_page" | grep '^summary ')
		_first=$(kv "$_sum" first) _shown=$(kv "$_sum" shown) _total=$(kv "$_sum" records)
		[ "$_shown" -gt 0 ] && [ $((_first + _shown)) -lt "$_total" ] || break
		_off=$((_first + _shown))
	done
	echo "$_sum" >>/tmp/t20.records
}

[ -d /sys/module/nofail_watchdog ] && { rmmod nofail_watchdog || nfw_fail "cannot unload nofail_watchdog"; }
[ -f "$STALLGEN_KO" ] || nfw_fail "$STALLGEN_KO is missing (scripts/build-module.sh --tests)"
command -v nfw-hog >/dev/null 2>&1 || nfw_fail "nfw-hog is not on PATH (scripts/build-tools.sh)"

# Both kernel detectors as sensitive as they go in practice.
[ -w /proc/sys/kernel/hung_task_timeout_secs ] || nfw_fail "no hung-task detector (CONFIG_DETECT_HUNG_TASK)"
echo 5 >/proc/sys/kernel/hung_task_timeout_secs
[ -w /proc/sys/kernel/watchdog_thresh ] && echo 5 >/proc/sys/kernel/watchdog_thresh
nfw_log "hung_task_timeout_secs=$(cat /proc/sys/kernel/hung_task_timeout_secs)" \
	"watchdog_thresh=$(cat /proc/sys/kernel/watchdog_thresh 2>/dev/null || echo n/a)" \
	"soft lockup detector=$(cat /proc/sys/kernel/soft_watchdog 2>/dev/null || echo n/a)"

# A work item that ran > cpu_intensive_thresh_us (10 ms; easily reached under
# TCG when a vCPU is descheduled) is taken out of concurrency management,
# which wakes another kworker; when that was the pool's last idle one it
# forks a new kworker: a GFP_KERNEL allocation, and the OOM killer kills the
# hog.  0 disables that mechanism (kernel/workqueue.c, wq_worker_tick()).
wq_thresh=/sys/module/workqueue/parameters/cpu_intensive_thresh_us
[ -w "$wq_thresh" ] && echo 0 >"$wq_thresh"
# Less for reclaim to find: memory runs out sooner and more predictably.
sync
echo 3 >/proc/sys/vm/drop_caches

# One run: the hog, the workers for the window, the kernel log and the
# records. Whatever the kernel noticed about the stuck allocations fails
# the test; a livelock that did not form or did not last (reclaim kept
# finding pages: seen on the debug kernel under host load, a worker stuck
# 6.1 s at the end of the window; or an OOM kill for another allocation)
# returns 1 with the reason in `why`, and the run is made again with a new
# hog sized from what is free then, up to ATTEMPTS runs.
ATTEMPTS=3
attempt() {
	mark="nfw-t20-mark-$$-$a"
	echo "$mark" >/dev/kmsg

	nfw-hog --leave-mb "$LEAVE_MB" --name nfw-hog >/tmp/t20.hog 2>&1 &
	hog_pid=$!
	i=0
	until grep -q '^nfw-hog: ready' /tmp/t20.hog; do
		kill -0 "$hog_pid" 2>/dev/null || nfw_fail "nfw-hog died: $(cat /tmp/t20.hog)"
		i=$((i + 1))
		[ "$i" -le 300 ] || nfw_fail "nfw-hog not ready after 30 s"
		sleep 0.1
	done
	nfw_log "$(cat /tmp/t20.hog)"
	nfw_log "before: $(grep -E '^(MemFree|MemAvailable):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"

	[ -d "$SG" ] || insmod "$STALLGEN_KO" || nfw_fail "insmod nfw_stallgen failed"
	t0=$(date +%s)
	# This shell waits inside the write: nothing forks during the window.
	echo "workers=$WORKERS mode=page window_ms=$WINDOW_MS" >"$SG/run" ||
		nfw_fail "stall generator run failed"
	t1=$(date +%s)
	nfw_log "run took $((t1 - t0)) s (window $((WINDOW_MS / 1000)) s)"

	read_records
	summary=$(tail -n 1 /tmp/t20.records)
	nfw_log "stallgen $summary"
	[ "$(kv "$summary" stopped_by)" = window ] || nfw_fail "the run did not last its window: $summary"
	[ "$(kv "$summary" dropped)" = 0 ] || nfw_log "note: some records were dropped"

	# Nothing in the kernel noticed.
	dmesg | sed -n "/$mark\$/,\$p" >/tmp/t20.dmesg
	[ -s /tmp/t20.dmesg ] || nfw_fail "cannot find the test's mark in the kernel log"
	# The OOM killer never acts for the stuck allocations (no __GFP_FS):
	# that fails. It may act for another task's __GFP_FS allocation (seen:
	# kthreadd forking a kernel thread, GFP_KERNEL order 1, 3.7 s into the
	# window), and its kill (the hog) ends the livelock: that run did not
	# establish the premise, and is made again.
	if grep -qE 'Out of memory|oom-kill|Killed process|invoked oom-killer' /tmp/t20.dmesg; then
		grep -E 'Out of memory|oom-kill|Killed process|invoked oom-killer' /tmp/t20.dmesg
		grep -qE 'nfw_stall/[0-9]+ invoked oom-killer' /tmp/t20.dmesg &&
			nfw_fail "the OOM killer acted for a stuck allocation"
		why="the kernel's OOM killer acted for another allocation: $(grep -m1 -oE '[^ ]+ invoked oom-killer: gfp_mask=[^ ]+' /tmp/t20.dmesg)"
		return 1
	fi
	if grep -qE 'blocked for more than' /tmp/t20.dmesg; then
		grep -E 'blocked for more than' /tmp/t20.dmesg
		nfw_fail "the hung-task detector reported a task"
	fi
	if grep -qE 'soft lockup|hard LOCKUP' /tmp/t20.dmesg; then
		grep -E 'soft lockup|hard LOCKUP' /tmp/t20.dmesg
		nfw_fail "the lockup detector reported a CPU"
	fi
	grep -qE 'rcu.*(stall|self-detected)' /tmp/t20.dmesg && nfw_log "note: RCU stall reported"

	# Ground truth, per worker: its stalls (allocations that took >= 500 ms),
	# how many and their total time, and its final stuck span: the last stalls
	# that follow each other with gaps < 100 ms (when a page is freed somewhere,
	# a stuck worker gets it and is stuck again at once). On the debug kernel
	# (NFW_SLOW=4) memory trickles back all the time (KASAN's quarantine, kmemleak)
	# and a stuck worker gets a page every 0.1-0.9 s: there a stall is >= 125 ms
	# and a break < 400 ms, still a worker that makes a few allocations a second.
	slow=${NFW_SLOW:-1}
	awk -v stall_ms=$((500 / slow)) -v gap_ns=$((100000000 * slow)) '/^pid=/ && / comm=nfw_stall\// {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["ms"] + 0 < stall_ms) next
		p = v["pid"]; n[p]++; sum[p] += v["ms"]
		# Records of one worker come in the order its allocations ended.
		if (!(p in last) || v["start_ns"] - last[p] > gap_ns) span[p] = v["start_ns"]
		last[p] = v["end_ns"]
	} END { for (p in n) printf "%s %d %d %.0f %.0f\n", p, n[p], sum[p], span[p], last[p] }' \
		/tmp/t20.records | sort -n >/tmp/t20.stuck
	nfw_log "records: $(grep -c '^pid=' /tmp/t20.records)"
	nstuck=$(wc -l </tmp/t20.stuck)
	[ "$nstuck" -eq "$WORKERS" ] || {
		why="stalls of $nstuck of the $WORKERS workers"
		return 1
	}
	start_ns=$(kv "$summary" start_ns)
	stop_ns=$(kv "$summary" stop_ns)
	nfw_log "window: $(( (stop_ns - start_ns) / 1000000 )) ms from starting the workers to STOP"
	: >/tmp/t20.spans
	while read -r pid n sum span last; do
		span_ms=$(( (last - span) / 1000000 ))
		echo "$span_ms" >>/tmp/t20.spans
		nfw_log "worker pid $pid: in alloc_pages(GFP_NOFS|__GFP_NOFAIL, 0) stalls for $sum ms" \
			"($n stalls); stuck (but for single-page breaks) from $(( (span - start_ns) / 1000000 )) ms after" \
			"the start until $(( (last - stop_ns) / 1000000 )) ms after STOP: $span_ms ms"
		# (On a slower kernel the last stall may end one break, < gap_ns,
		# before STOP; with NFW_SLOW=1 it must end after STOP.)
		[ "$last" -ge $((stop_ns - (slow - 1) * 100000000)) ] || {
			why="worker $pid was no longer stuck when the window ended"
			return 1
		}
		[ "$span_ms" -ge "$MIN_STUCK_MS" ] || {
			why="worker $pid: stuck for $span_ms ms at the end of the window (expected >= $MIN_STUCK_MS)"
			return 1
		}
	done </tmp/t20.stuck
	return 0
}
a=1
until attempt; do
	grep -c '^pid=' /tmp/t20.records | sed 's/^/# records: /'
	kill "$hog_pid" 2>/dev/null
	wait "$hog_pid" 2>/dev/null
	hog_pid=
	[ $a -lt $ATTEMPTS ] || { cat /tmp/t20.records; nfw_fail "no lasting livelock in $ATTEMPTS runs; the last: $why"; }
	nfw_log "run $a: the livelock did not form or last ($why); again"
	a=$((a + 1))
	sync
	echo 3 >/proc/sys/vm/drop_caches
done
kill -0 "$hog_pid" 2>/dev/null || nfw_fail "nfw-hog is gone"
nfw_log "kernel log: no OOM kill, no hung-task report, no soft lockup"
[ -r /proc/pressure/memory ] && nfw_log "PSI memory: $(tr '\n' ' ' </proc/pressure/memory)"

kill "$hog_pid"
wait "$hog_pid" 2>/dev/null
hog_pid=
rmmod nfw_stallgen || nfw_fail "rmmod nfw_stallgen failed"
nfw_pass "livelock reproduced (workers stuck $(paste -s -d, /tmp/t20.spans | sed 's/,/ ms, /g') ms), unnoticed by the kernel"
