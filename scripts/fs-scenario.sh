# The filesystem scenario, one phase at a time (sourced by
# tests/guest/50-xfs-scenario.sh and scripts/guest-scenario.sh, after
# tests/guest/lib.sh; guest side).  The filesystem is the guest's scratch
# disk (qemu/run --xfs, --ext4 or --btrfs SIZE_MB: NFW_SCRATCH_FS), XFS by
# default; everything else is the same on each.
#
# The machine: a small guest, no swap, most of its RAM mlocked by a protected
# service (nfw-hog, oom_score_adj -999: the database the box exists for,
# the OOM killer's last choice;
# it takes MemAvailable minus NFW_XFS_LEAVE_MB, measured once per boot before
# the first phase, and never more than MemAvailable minus that at its own
# start; then the load starts).  The load: nfw-fsload, 16 processes writing
# 256 KiB files into one shared directory (create, write, fsync, xattr,
# rename, unlink), their workers at oom_score_adj 0.
#
# XFS clears __GFP_FS in its inodes' mapping mask, so every page-cache folio
# of a buffered write is a GFP_NOFS order-0 allocation that "cannot fail" and
# never reaches the OOM killer; the transactions allocate GFP_NOFS too.
# Without the module these writers sit in the page allocator for tens of
# seconds with no OOM event.  ext4 runs its metadata changes inside jbd2
# handles (a NOFS scope) and jbd2/ext4 allocate with __GFP_NOFAIL; btrfs
# allocates extent buffers with __GFP_NOFAIL and works in NOFS scopes inside
# transactions.  Whether they livelock the same way is what the scenario
# measures (docs/results/2026-12-01-fs-scenarios.md).
#
# The NFW_XFS_* settings keep their names (older than the other
# filesystems) and apply to every filesystem.
#
#   fs_data_set                 write and sync the checked data set (once)
#   fs_phase NAME KNOBS LOAD_S  one run: KNOBS = "none" (no module) or the
#                               module's insmod parameters ("" = defaults);
#                               results in /tmp/FS-NAME.res (key=value, FS =
#                               xfs, ext4 or btrfs), details in /tmp/FS-NAME.* ;
#                               returns 1 if the phase itself broke (not for
#                               a slow load)
#   fs_integrity NAME           umount, the filesystem's read-only check
#                               (xfs_repair -n, e2fsck -fn, btrfs check
#                               --readonly), mount, checksums; adds
#                               repair_rc (the check's exit status), sums_ok,
#                               sums_bad to the .res
#   fs_get NAME KEY             a value from a phase's results
#
# Everything that runs while memory is short avoids forks and allocations:
# the heartbeat keeps its worst gap in a shell variable and rewrites a
# preallocated file in place, the waits are `read -t` on a fifo.

FS_TYPE=${NFW_SCRATCH_FS:-xfs}
FS_MNT=/mnt/$FS_TYPE
FS_DEV=${NFW_SCRATCH_DEV:-}
# How the scenario's output names it, and its read-only check.
case $FS_TYPE in
xfs) FS_LABEL=XFS FS_CHECK="xfs_repair -n" ;;
ext4) FS_LABEL=ext4 FS_CHECK="e2fsck -fn" ;;
btrfs) FS_LABEL=btrfs FS_CHECK="btrfs check --readonly" ;;
*) nfw_fail "unknown scratch filesystem '$FS_TYPE' (xfs, ext4, btrfs)" ;;
esac
# Function names in the module's reported stacks that are the filesystem's
# call sites (the allocator entries of FS_SITES_COMMON for every one).
FS_SITES_COMMON='iomap|kmem_cache|__kmalloc|kmalloc|kvmalloc|alloc_pages|folio_alloc|filemap|__filemap'
case $FS_TYPE in
xfs) FS_SITES='xfs|xlog' ;;
ext4) FS_SITES='_*ext4|_*jbd2|_*mb_|_*getblk|bdev_getblk|grow_dev|folio_alloc_buffers|alloc_buffer_head|create_empty_buffers|_*block_write_begin' ;;
btrfs) FS_SITES='_*btrfs|_*alloc_extent|_*alloc_dummy_extent|_*set_extent|_*clear_extent|_*convert_extent|extent_|alloc_eb|find_or_create_page|attach_eb' ;;
esac

FS_NFILES=50
FS_PROCS=${NFW_XFS_PROCS:-16}
FS_FILE_KB=${NFW_XFS_FILE_KB:-256}
FS_KEEP=${NFW_XFS_KEEP:-64}
FS_XATTR=${NFW_XFS_XATTR:-64}
# 1 MiB; more on a slower debug kernel, whose KASAN quarantine and kmemleak
# metadata keep memory that MemAvailable does not show (NFW_SLOW MiB).
FS_LEAVE_MB=${NFW_XFS_LEAVE_MB:-$(nfw_slow 1)}
FS_HARD_EXTRA_S=${NFW_XFS_HARD_EXTRA_S:-120}
# For trying other squeezes: vm.dirty_ratio and vm.dirty_background_ratio
# during the phases (the kernel's defaults, 20 and 10, if unset).
FS_DIRTY_RATIO=${NFW_XFS_DIRTY_RATIO:-}
FS_DIRTY_BG_RATIO=${NFW_XFS_DIRTY_BG_RATIO:-}
# For trying other squeezes: 1 = the workers fork and lock their memory
# before the hog squeezes it, and start their loop together once it has
# (nfw-fsload --go-file), so that no worker faults a page in the squeeze.
FS_LOCK_FIRST=${NFW_XFS_LOCK_FIRST:-}
# How many more tuned phases scripts/fs-phases.sh may run when no module
# phase saw a stall: 2 where the squeeze often stalls (XFS, btrfs), none on
# ext4, where it seldom does (docs/results/2026-12-01-fs-scenarios.md).
case $FS_TYPE in
ext4) FS_RETRIES=${NFW_XFS_RETRIES:-0} ;;
*) FS_RETRIES=${NFW_XFS_RETRIES:-2} ;;
esac

# fs_now_cs: centiseconds since boot in NOW_CS, without forking.
fs_now_cs() {
	read -r _up _ </proc/uptime
	NOW_CS=${_up%.*}${_up#*.}
}

# fs_sleep SECONDS: sleep without forking (fd 4 is a fifo nobody writes).
fs_sleep() { read -t "$1" _x <&4; }

fs_data_set() {
	nfw_require_cmd nfw-fsload nfw-hog "${FS_CHECK%% *}" sha256sum
	[ -n "$FS_DEV" ] && grep -q " $FS_MNT $FS_TYPE " /proc/mounts ||
		nfw_fail "no $FS_LABEL scratch filesystem on $FS_MNT (qemu/run --$FS_TYPE)"
	mkdir -p $FS_MNT/data || nfw_fail "mkdir on $FS_MNT failed"
	_i=1
	while [ "$_i" -le $FS_NFILES ]; do
		_kb=$(( (_i * 5237) % 256 + 1 ))
		head -c $((_kb * 1024)) /dev/urandom >$FS_MNT/data/f$_i || nfw_fail "writing data file f$_i failed"
		_i=$((_i + 1))
	done
	(cd $FS_MNT/data && sha256sum f*) >/tmp/$FS_TYPE-sums || nfw_fail "sha256sum of the data set failed"
	sync
	rm -f /tmp/fs.fifo
	mkfifo /tmp/fs.fifo || nfw_fail "mkfifo failed"
	exec 4<>/tmp/fs.fifo
	FS_DATA_KB=$(du -sk $FS_MNT/data | cut -f1)
	# The hog's size, fixed once for every phase (MemAvailable differs after a
	# phase: caches, slab), so that the phases of one boot compare.
	echo 3 >/proc/sys/vm/drop_caches
	FS_HOG_MB=$(awk -v l="$FS_LEAVE_MB" '/^MemAvailable:/ { print int($2 / 1024) - l }' /proc/meminfo)
	[ "$FS_HOG_MB" -gt 64 ] || nfw_fail "only $FS_HOG_MB MiB for the hog"
}

# The kernel's out_of_memory() calls during a module phase, as a kprobe
# event (trace_clock mono, the module's own clock): ground truth for whether
# a stuck task reached the OOM killer late enough in its stall for the
# module to act (fs_oom_call_ages). Set up before the load (it writes
# tracefs), read after it.
FS_TRACE=/sys/kernel/tracing
_fs_oomtrace_start() {
	[ -f $FS_TRACE/kprobe_events ] || mount -t tracefs tracefs $FS_TRACE 2>/dev/null
	[ -f $FS_TRACE/kprobe_events ] || nfw_fail "no tracefs kprobe_events (CONFIG_KPROBE_EVENTS): cannot see out_of_memory() calls"
	echo 0 >$FS_TRACE/tracing_on
	[ -d $FS_TRACE/events/nfw_fs ] && echo 0 >$FS_TRACE/events/nfw_fs/enable && echo '-:nfw_fs/oom_call' >>$FS_TRACE/kprobe_events
	echo mono >$FS_TRACE/trace_clock || nfw_fail "no mono trace clock"
	echo 'p:nfw_fs/oom_call out_of_memory' >>$FS_TRACE/kprobe_events ||
		nfw_fail "no kprobe event on out_of_memory: $(cat $FS_TRACE/error_log 2>/dev/null)"
	echo >$FS_TRACE/trace
	echo 1 >$FS_TRACE/events/nfw_fs/enable
	echo 1 >$FS_TRACE/tracing_on
}

# _fs_oomtrace_stop FILE: the calls, "pid ns" per line, into FILE.
_fs_oomtrace_stop() {
	echo 0 >$FS_TRACE/tracing_on
	echo 0 >$FS_TRACE/events/nfw_fs/enable
	# (busybox awk reads "035001" as octal: the microseconds lose their
	# leading zeros first.)
	awk '{ for (i = 2; i <= NF; i++) if ($i == "oom_call:") break
		if (i > NF) next
		p = $1; sub(/.*-/, "", p); ts = $(i - 1); sub(/:$/, "", ts)
		split(ts, t, "."); sub(/^0+/, "", t[2])
		printf "%s %.0f\n", p, t[1] * 1000000000 + t[2] * 1000 }' $FS_TRACE/trace >"$1"
	echo '-:nfw_fs/oom_call' >>$FS_TRACE/kprobe_events
}

# fs_oom_call_ages RECENT CALLS: of the out_of_memory() calls in CALLS
# ("pid ns") made by a task during one of its stalls in RECENT (the
# module's `recent` file) that had no __GFP_FS (the kind the module makes
# the OOM killer act for), prints how many there were and the latest age
# of its stall (ms) at which one was made: "N MAX_MS". (`recent` shows
# the newest stalls that fit in a page: in a phase with more, the oldest
# are left out, and their calls with them.)
fs_oom_call_ages() {
	awk 'FNR == 1 { f++ } f == 1 && FNR > 1 {
			if ($3 == "other" || $5 ~ /GFP_(TRANSHUGE|HIGHUSER|USER|KERNEL)|__GFP_FS/) next
			n++; sp[n] = $1; ss[n] = $6; se[n] = $8; next }
		f == 2 { for (r = 1; r <= n; r++) if (sp[r] == $1 && $2 >= ss[r] && $2 <= se[r]) {
				c++; a = ($2 - ss[r]) / 1000000; if (a > m) m = a; break } }
		END { printf "%d %d\n", c, m }' "$1" "$2"
}

# _fs_heartbeat FILE: every 0.2 s, note the worst gap (centiseconds) in FILE.
_fs_heartbeat() {
	exec 3<>/tmp/fs.fifo
	echo "0          " >"$1"
	read -r _p _ </proc/uptime
	_p=${_p%.*}${_p#*.}
	_m=0
	while [ ! -e /tmp/$FS_TYPE-hb.stop ]; do
		read -r _u _ </proc/uptime
		_u=${_u%.*}${_u#*.}
		if [ $((_u - _p)) -gt $_m ]; then
			_m=$((_u - _p))
			echo "$_m" 1<>"$1"
		fi
		_p=$_u
		read -t 0.2 _x <&3
	done
}

fs_phase() {
	_name=$1 _knobs=$2 _load_s=$3
	_res=/tmp/$FS_TYPE-$_name.res
	_hard_s=$((_load_s + FS_HARD_EXTRA_S))
	rm -rf $FS_MNT/load /tmp/$FS_TYPE-hb.stop
	mkdir -p $FS_MNT/load
	[ -z "$FS_DIRTY_RATIO" ] || echo "$FS_DIRTY_RATIO" >/proc/sys/vm/dirty_ratio
	[ -z "$FS_DIRTY_BG_RATIO" ] || echo "$FS_DIRTY_BG_RATIO" >/proc/sys/vm/dirty_background_ratio
	sync
	echo 3 >/proc/sys/vm/drop_caches
	if [ "$_knobs" = none ]; then
		nfw_module_loaded nofail_watchdog && nfw_rmmod nofail_watchdog
	else
		# shellcheck disable=SC2086
		nfw_insmod "$NFW_MODULE" $_knobs
	fi
	[ "$_knobs" = none ] || _fs_oomtrace_start
	nfw_dmesg_mark
	_psi0=$(sed -n 's/^full .*total=\([0-9]*\)$/\1/p' /proc/pressure/memory 2>/dev/null)

	_fs_heartbeat /tmp/$FS_TYPE-$_name.gap &
	_hb=$!
	# The squeeze first, then the load: the workers fork and lock their
	# memory into a machine that has none left (started the other way round,
	# with the workers' memory in place before the hog, the same load ran
	# with sub-second stalls: reclaim kept up).
	echo 3 >/proc/sys/vm/drop_caches
	# NFW_XFS_LOCK_FIRST: the workers in place, waiting for the go file.
	if [ -n "$FS_LOCK_FIRST" ]; then
		rm -f /tmp/fs.go
		nfw-fsload --dir $FS_MNT/load --procs "$FS_PROCS" --seconds "$_load_s" \
			--file-kb "$FS_FILE_KB" --keep "$FS_KEEP" --xattr-bytes "$FS_XATTR" \
			--worker-oom-score-adj 0 --go-file /tmp/fs.go >/tmp/$FS_TYPE-$_name.load 2>&1 &
		_load=$!
		wait_for "grep -q '^nfw-fsload: ready' /tmp/$FS_TYPE-$_name.load" 60 0.2 ||
			nfw_fail "nfw-fsload did not get ready: $(cat /tmp/$FS_TYPE-$_name.load)"
	fi
	# Two small spare victims (2 MiB, oom_score_adj 1000), chosen first by
	# any OOM kill: when the kernel's own OOM killer (a worker's page fault
	# or fork, which has __GFP_FS) has killed every worker while
	# nfw-fsload, protected, is still forking the rest, its next fork would
	# find nothing eligible and the kernel would panic ("System is
	# deadlocked on memory": seen once on 7.3, where the squeeze OOM-kills
	# workers at their start).
	# Started before the hog, which is sized after them.
	nfw_start_hog --mb 2 --oom-score-adj 1000 --name nfw-spare
	_spare1=$NFW_HOG_PID
	nfw_start_hog --mb 2 --oom-score-adj 1000 --name nfw-spare
	_spare2=$NFW_HOG_PID
	# The boot's size, unless the kernel now keeps more for itself (slab
	# grown in an earlier phase; on the debug kernel, kmemleak and KASAN):
	# a hog larger than MemAvailable would leave nothing for the shell's
	# own forks, with every task protected ("System is deadlocked on
	# memory").
	# -999, not -1000: the last choice, not unkillable. With every worker
	# and spare killed by the kernel's own OOM killer (their page faults
	# and forks have __GFP_FS), the next such allocation of nfw-fsload,
	# protected, found nothing eligible and the kernel panicked ("System
	# is deadlocked on memory": 7.3, btrfs, 16 workers and both spares
	# killed within 2 s of the load's start). Now the hog dies instead,
	# as a real service would, and the phase says so (OOM kills).
	# MemAvailable is an estimate: a hog of nearly all of it can fault the
	# kernel into the OOM killer while it locks its memory (7.3, the
	# baseline: both spares killed, then the hog). Such a squeeze
	# overshot before the load began, so the hog starts again 16 MiB
	# smaller, for this and the later phases of the boot (at most 3
	# times; hog_restarts in the results), with fresh spares.
	_hog_restarts=0
	while :; do
		_hog_mb=$(awk -v l="$FS_LEAVE_MB" -v h="$FS_HOG_MB" \
			'/^MemAvailable:/ { a = int($2 / 1024) - l; print (a < h ? a : h) }' /proc/meminfo)
		nfw_try_start_hog --mb "$_hog_mb" --oom-score-adj -999 --name nfw-hog && break
		[ $_hog_restarts -lt 3 ] ||
			nfw_fail "$_name: nfw-hog (${_hog_mb} MiB) did not get ready in $((_hog_restarts + 1)) starts: $NFW_HOG_OUT"
		_hog_restarts=$((_hog_restarts + 1))
		nfw_log "$_name: nfw-hog (${_hog_mb} MiB) did not get ready ($NFW_HOG_OUT); again, 16 MiB smaller"
		FS_HOG_MB=$((_hog_mb - 16))
		nfw_stop_hog "$_spare1"
		nfw_stop_hog "$_spare2"
		nfw_start_hog --mb 2 --oom-score-adj 1000 --name nfw-spare
		_spare1=$NFW_HOG_PID
		nfw_start_hog --mb 2 --oom-score-adj 1000 --name nfw-spare
		_spare2=$NFW_HOG_PID
		# The phase's kernel log (its OOM kills) begins with the load.
		nfw_dmesg_mark
	done
	_hog=$NFW_HOG_PID
	_mem="$(grep -E '^(MemFree|MemAvailable):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
	fs_now_cs
	_t0=$NOW_CS
	if [ -n "$FS_LOCK_FIRST" ]; then
		: >/tmp/fs.go
	else
		nfw-fsload --dir $FS_MNT/load --procs "$FS_PROCS" --seconds "$_load_s" \
			--file-kb "$FS_FILE_KB" --keep "$FS_KEEP" --xattr-bytes "$FS_XATTR" \
			--worker-oom-score-adj 0 >/tmp/$FS_TYPE-$_name.load 2>&1 &
		_load=$!
	fi

	# Wait for the load, without forking, at most _hard_s.
	_done=yes
	while kill -0 "$_load" 2>/dev/null; do
		fs_now_cs
		if [ $((NOW_CS - _t0)) -ge $((_hard_s * 100)) ]; then
			_done=no
			break
		fi
		fs_sleep 1
	done
	fs_now_cs
	_t1=$NOW_CS
	if [ $_done = no ]; then
		# Always end: free the hog's memory, then the load.
		nfw_log "$_name: load still running after $_hard_s s: killing the hog, then the load"
		kill -9 "$_hog"
		_n=0
		while kill -0 "$_load" 2>/dev/null && [ $_n -lt 60 ]; do
			fs_sleep 1
			_n=$((_n + 1))
		done
		kill -9 "$_load" 2>/dev/null
	fi
	wait "$_load"
	_load_rc=$?
	nfw_stop_hog "$_hog"
	nfw_stop_hog "$_spare1"
	nfw_stop_hog "$_spare2"
	touch /tmp/$FS_TYPE-hb.stop
	wait "$_hb"
	_psi1=$(sed -n 's/^full .*total=\([0-9]*\)$/\1/p' /proc/pressure/memory 2>/dev/null)

	nfw_dmesg_new >/tmp/$FS_TYPE-$_name.dmesg
	_dm=/tmp/$FS_TYPE-$_name.dmesg
	_summary=$(grep '^nfw-fsload: done' /tmp/$FS_TYPE-$_name.load)
	{
		echo "name=$_name"
		echo "knobs=$_knobs"
		echo "load_s=$_load_s"
		echo "hog_mb=$_hog_mb"
		echo "hog_restarts=$_hog_restarts"
		echo "mem_after_hog=$_mem"
		echo "load_finished=$_done"
		echo "load_rc=$_load_rc"
		echo "load_wall_s=$(( (_t1 - _t0) / 100 ))"
		echo "workers=$FS_PROCS"
		echo "workers_killed=$(echo "$_summary" | sed -n 's/.*killed=\([0-9]*\).*/\1/p')"
		echo "ops=$(awk '/^nfw-fsload: worker/ { for (i = 1; i <= NF; i++) if ($i ~ /^ops=/) { sub(/ops=/, "", $i); s += $i } } END { print s + 0 }' /tmp/$FS_TYPE-$_name.load)"
		echo "worst_op_ms=$(awk '/^nfw-fsload: worker/ { for (i = 1; i <= NF; i++) if ($i ~ /^worst_ms=/) { sub(/worst_ms=/, "", $i); if ($i + 0 > m) m = $i + 0 } } END { print m + 0 }' /tmp/$FS_TYPE-$_name.load)"
		echo "worst_op=$(awk '/^nfw-fsload: worker/ { for (i = 1; i <= NF; i++) { if ($i ~ /^worst_ms=/) { v = $i; sub(/worst_ms=/, "", v) } if ($i ~ /^worst_op=/) { o = $i; sub(/worst_op=/, "", o) } } if (v + 0 >= m) { m = v + 0; op = o } } END { print op }' /tmp/$FS_TYPE-$_name.load)"
		echo "heartbeat_gap_ms=$(( $(tr -d ' ' </tmp/$FS_TYPE-$_name.gap) * 10 ))"
		[ -n "$_psi0" ] && [ -n "$_psi1" ] && echo "psi_full_ms=$(( (_psi1 - _psi0) / 1000 ))"
		echo "kernel_oom_kills=$(grep -c 'Out of memory: Killed process' "$_dm")"
		echo "spares_killed=$(grep -c 'Out of memory: Killed process [0-9]* (nfw-spare)' "$_dm")"
		echo "oom_invokers=$(sed -n 's/.*\] \(.*\) invoked oom-killer: gfp_mask=[^(]*(\([^)]*\)).*/\1[\2]/p' "$_dm" | sort | uniq -c | awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }')"
		echo "first_oom_kill_s=$(awk -v t0="$_t0" '/Out of memory: Killed process/ { sub(/^[^[]*\[ */, ""); printf "%.1f", $1 - t0 / 100; exit }' "$_dm")"
	} >"$_res"

	if [ "$_knobs" != none ]; then
		nfw_wait_settled
		{
			echo "stalls_detected=$(nfw_stat stalls_detected)"
			echo "longest_stall_ms=$(nfw_stat longest_stall_ms)"
			echo "oom_calls=$(nfw_stat oom_calls)"
			echo "oom_triggers=$(nfw_stat oom_triggers)"
			echo "oom_kills=$(nfw_stat oom_kills)"
			echo "oom_deferred=$(nfw_stat oom_deferred)"
			echo "backoff_sleeps=$(nfw_stat backoff_sleeps)"
			echo "backoff_slept_ms=$(nfw_stat backoff_slept_ms)"
			echo "reports=$(nfw_stat reports)"
			echo "in_flight_after=$(nfw_stat in_flight)"
			echo "stalls_active_after=$(nfw_stat stalls_active)"
		} >>"$_res"
		cp "$NFW_SYS/histogram" /tmp/$FS_TYPE-$_name.hist
		cp "$NFW_SYS/recent" /tmp/$FS_TYPE-$_name.recent
		_fs_oomtrace_stop /tmp/$FS_TYPE-$_name.oomcalls
		_ages=$(fs_oom_call_ages /tmp/$FS_TYPE-$_name.recent /tmp/$FS_TYPE-$_name.oomcalls)
		echo "stall_oom_calls=${_ages% *}" >>"$_res"
		echo "stall_oom_call_max_age_ms=${_ages#* }" >>"$_res"
		# Function names in the stacks of the module's reports: the
		# filesystem's call sites and the allocator entry they used.
		awk '/nofail_watchdog: INFO: task/ { r = 1; next }
			r && /<\/TASK>/ { r = 0 }
			r { for (i = 1; i <= NF; i++) if ($i ~ /^[a-z_][a-z0-9_.]*\+0x/) { f = $i; sub(/\+.*/, "", f); print f } }' "$_dm" |
			grep -E "^($FS_SITES|$FS_SITES_COMMON)" |
			sort | uniq -c | sort -rn >/tmp/$FS_TYPE-$_name.sites
		echo "sites=$(awk '{ printf "%s%s(%s)", (NR > 1 ? " " : ""), $2, $1 }' /tmp/$FS_TYPE-$_name.sites | cut -c1-400)" >>"$_res"
		nfw_rmmod nofail_watchdog
	fi
	return 0
}

fs_integrity() {
	_res=/tmp/$FS_TYPE-$1.res
	umount $FS_MNT || { grep $FS_MNT /proc/mounts; nfw_fail "umount $FS_MNT failed"; }
	# shellcheck disable=SC2086
	$FS_CHECK "$FS_DEV" >/tmp/$FS_TYPE-$1.repair 2>&1
	_repair_rc=$?
	mount -t "$FS_TYPE" "$FS_DEV" $FS_MNT || nfw_fail "remount of $FS_DEV failed"
	# Self-check of the checker, not used by the suite: NFW_XFS_SELFTEST_CORRUPT=1
	# overwrites one byte of one file before the check (the test must fail).
	[ -n "${NFW_XFS_SELFTEST_CORRUPT:-}" ] &&
		printf '\377' | dd of=$FS_MNT/data/f7 bs=1 seek=100 conv=notrunc 2>/dev/null
	(cd $FS_MNT/data && sha256sum -c /tmp/$FS_TYPE-sums) >/tmp/$FS_TYPE-$1.check 2>&1
	_ok=$(grep -c ": OK$" /tmp/$FS_TYPE-$1.check)
	{
		echo "repair_rc=$_repair_rc"
		echo "sums_ok=$_ok"
		echo "sums_bad=$((FS_NFILES - _ok))"
	} >>"$_res"
}

# fs_get NAME KEY: a value from a phase's results.
fs_get() { sed -n "s/^$2=//p" "/tmp/$FS_TYPE-$1.res" | head -1; }
