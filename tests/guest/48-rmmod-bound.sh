#!/bin/sh
# rmmod is prompt while stuck tasks sleep in back-off, in every scope: with
# backoff=fixed and 10 s sleeps (the longest) from the first round (backoff_after_ms=0),
# for scope=nofail, nofs and all in turn (the module reloaded for each),
# four generator workers stuck in ZONE_DMA no-fail allocations (GFP_NOFS;
# for scope=all GFP_KERNEL ones, fs=1, plus a userspace writer stuck in a
# GFP_NOFS one: neither reaches the OOM killer, lowmem) are all asleep in
# the module's back-off (kernel stack in nfw_backoff_sleep) when rmmod
# starts, and the module's exit function (the kernel log's mark to its
# "unloaded" line) ends before the sleep that began last would have ended by
# itself: unloading wakes the sleepers and does not wait out their sleeps.
# That is the bound, in the guest's own time; no fixed number of
# milliseconds, which a starved guest exceeds (seen on 7.3 on a loaded
# host: rmmod 5.3 s; and under single-threaded TCG 10.5 s, 0.36 s of it the
# module's exit function, the rest the kernel freeing the module). After
# rmmod the stuck tasks are still stuck (the run still going, the tasks in
# the slow path, a second with no allocation completing within five): the
# bound is not met merely because the stall ended. The exit function's and
# the whole rmmod's times are logged.
# (Hooks are unregistered while the workers run the hooked code: single-
# threaded TCG, see qemu/run --help.)
# nfw-qemu: --mem 512 --tcg-threads single
# nfw-timeout: 300
. "$(dirname "$0")/lib.sh"

G=/sys/kernel/nfw_stallgen
SLEEP_MS=10000
WORKERS=4

# Milliseconds since boot (10 ms resolution; the guest's busybox date has
# no %N); the kernel log's timestamps give the kernel's side.
uptime_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# ts_us LINE: the printk timestamp of a kernel log line, in microseconds.
ts_us() { printf '%s\n' "$1" | sed -n 's/^\[ *\([0-9]*\)\.\([0-9]\{6\}\)\].*/\1\2/p' | sed 's/^0*//'; }
workers() { ps -o pid,comm | awk '$2 ~ /^nfw_stall\// { print $1 }'; }
allocations() { sed -n 's/.* allocations=\([0-9]*\).*/\1/p' $G/records; }
# all_asleep PID...: every one of these tasks sleeps in the module's back-off.
all_asleep() {
	for p in "$@"; do
		grep -q nfw_backoff_sleep /proc/$p/stack 2>/dev/null || return 1
	done
}
all_in_slowpath() {
	for p in "$@"; do
		nfw_in_slowpath $p || return 1
	done
}

nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
summary=""
for scope in nofail nofs all; do
	nfw_insmod "$NFW_MODULE" scope=$scope stall_warn_ms=500 warn_interval_ms=600000 max_warnings=50 \
		oom_after_ms=0 backoff=fixed backoff_min_ms=$SLEEP_MS backoff_max_ms=$SLEEP_MS backoff_after_ms=0
	[ "$(nfw_knob scope)" = $scope ] || nfw_fail "$scope: scope is $(nfw_knob scope)"
	fs=0
	[ $scope = all ] && fs=1
	echo "workers=$WORKERS mode=page zone=dma fs=$fs window_ms=$(nfw_slow 120000)" >$G/run &
	gen=$!
	wait_for '[ "$(workers | wc -l)" -eq '$WORKERS' ]' "$(nfw_slow 20)" 0.1 ||
		nfw_fail "$scope: the generator workers did not start: $(tail -1 $G/records)"
	tasks=$(workers | tr '\n' ' ')
	writer=""
	if [ $scope = all ]; then
		# A userspace task stuck in a GFP_NOFS no-fail allocation too.
		sh -c "echo zone=dma >$G/alloc" &
		writer=$!
		tasks="$tasks$writer"
	fi
	# shellcheck disable=SC2086
	wait_for "all_in_slowpath $tasks" "$(nfw_slow 20)" 0.1 || nfw_fail "$scope: the tasks are not stuck"
	# The premise: rmmod starts in the first half of the sleep that began
	# last. A slow guest can spend a whole sleep in the looks below (debug
	# under single-threaded TCG beside a matrix lane: 10.6 s from `prev` to
	# rmmod); then they are made again for the next sleep, at most 3 times.
	try=0
	while :; do
		try=$((try + 1))
		# Wait for a back-off sleep to end (the first one, normally): the
		# task that slept starts its next 10 s sleep in its next reclaim
		# round, after `prev`, the time of the last poll that had not seen
		# the count change.
		prev=$(uptime_ms)
		last=$(nfw_stat backoff_sleeps)
		wait_for 't=$(uptime_ms); c=$(nfw_stat backoff_sleeps); [ "$c" -gt "$last" ] || { last=$c; prev=$t; false; }' \
			"$(nfw_slow 30)" 0.05 || nfw_fail "$scope: no back-off sleep: $(cat $NFW_SYS/stats)"
		# shellcheck disable=SC2086
		wait_for "all_asleep $tasks" "$(nfw_slow 5)" 0.02 ||
			{ cat $NFW_SYS/stalls; nfw_fail "$scope: not every stuck task sleeps in back-off"; }
		cat $NFW_SYS/stalls
		n=$(awk 'NR > 1' $NFW_SYS/stalls | wc -l)
		[ "$n" -ge $(echo $tasks | wc -w) ] || nfw_fail "$scope: only $n stuck tasks tracked"
		if [ $scope = all ]; then
			awk '$2 ~ /^nfw_stall\// && $4 == 0' $NFW_SYS/stalls | grep -q . ||
				nfw_fail "all: the __GFP_FS workers are not tracked"
			awk -v p="$writer" '$1 == p && $4 == 1' $NFW_SYS/stalls | grep -q . ||
				nfw_fail "all: the GFP_NOFS writer is not tracked"
		fi
		spent=$(($(uptime_ms) - prev))
		[ $((spent * 2)) -lt $SLEEP_MS ] && break
		[ $try -lt 3 ] || nfw_fail "$scope: $spent ms from the latest sleep's start to rmmod in each of 3 tries: rmmod never started in the first half of a sleep"
		nfw_log "$scope: try $try: $spent ms of the latest $SLEEP_MS ms sleep gone before rmmod; again, for the next sleep"
	done
	a0=$(allocations)
	nfw_dmesg_mark
	t0=$(uptime_ms)
	rmmod nofail_watchdog || nfw_fail "$scope: rmmod failed"
	t1=$(uptime_ms)
	# Still stuck: the run goes on, the tasks are in the slow path and no
	# allocation completes for a second. (The woken workers may first take
	# a few pages that kswapd freed in the zone while they slept.)
	a1=$(allocations)
	# shellcheck disable=SC2086
	all_in_slowpath $tasks || nfw_fail "$scope: a stuck task left the slow path"
	# A few pages can come free in the zone for a moment (kswapd, per-CPU
	# lists drained; seen once with the host loaded: 42 allocations in the
	# first second), so up to five one-second looks: a stall that is over
	# completes allocations in every one of them.
	quiet=0 looks=""
	for _ in 1 2 3 4 5; do
		a2=$(allocations)
		sleep 1
		a3=$(allocations)
		looks="$looks $a2->$a3"
		[ "$a2" = "$a3" ] && { quiet=1; break; }
	done
	[ $quiet = 1 ] || nfw_fail "$scope: allocations completing after rmmod in every second of five ($looks): the stall is over"
	kill -0 $gen 2>/dev/null || nfw_fail "$scope: the generator run ended"
	grep -q 'stopped_by=running' $G/records || nfw_fail "$scope: the run is over: $(tail -1 $G/records)"
	[ -z "$writer" ] || kill -0 "$writer" 2>/dev/null || nfw_fail "$scope: the writer exited"
	nfw_module_loaded nofail_watchdog && nfw_fail "$scope: still loaded after rmmod"
	ms=$((t1 - t0))
	# The kernel's side: from the mark to the module's last message, which
	# ends its exit function; the rest of rmmod is the kernel's own
	# teardown (seen on 7.3 under single-threaded TCG: 2-10 s after a
	# 0.3 s exit function).
	k0=$(ts_us "$(dmesg | grep -m1 "$NFW_DMESG_MARK\$")")
	k1=$(ts_us "$(nfw_dmesg_new | grep -m1 'nofail_watchdog: unloaded')")
	[ -n "$k0" ] && [ -n "$k1" ] || nfw_fail "$scope: no mark or no 'unloaded' line in the kernel log"
	kms=$(( (k1 - k0) / 1000 ))
	# What the latest sleep had left when the module's exit ended.
	left=$((prev + SLEEP_MS - t0 - kms))
	nfw_log "$scope: the module's exit took $kms ms (from the mark to 'unloaded' in the kernel log), rmmod $ms ms in all, with $(echo $tasks | wc -w) tasks asleep in $SLEEP_MS ms back-off sleeps; the latest sleep had >= $left ms left then; allocations completed: $((a1 - a0)) during rmmod, $((a3 - a1)) after"
	[ "$left" -gt 0 ] || nfw_fail "$scope: the module's exit ended after the latest sleep would have ended anyway (prev=$prev t0=$t0, exit $kms ms)"
	summary="$summary $scope=${kms}ms"
	[ -n "$writer" ] && kill -9 "$writer"
	nfw_gen_end $gen "$scope"
	if [ -n "$writer" ]; then
		wait_for "! kill -0 $writer 2>/dev/null" "$(nfw_slow 30)" 0.2 || nfw_fail "$scope: the writer did not exit"
		wait "$writer" 2>/dev/null
	fi
done
dmesg | grep 'allocations returned NULL' && nfw_fail "a __GFP_NOFAIL allocation returned NULL"
nfw_rmmod nfw_stallgen
nfw_pass "the exit function under 10 s back-off sleeps:$summary"
