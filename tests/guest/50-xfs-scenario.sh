#!/bin/sh
# The real XFS scenario: most RAM mlocked by nfw-hog (no swap), a
# metadata-heavy stress-ng mix on XFS (buffered writers with fsync, directory
# create/unlink, renames, xattrs, odd file names, dentries) for LOAD_S seconds.
# XFS's own GFP_NOFS allocations (transactions: xfs_buf_alloc_pages under
# xfs_inodegc_worker/xfs_ifree, iomap buffered-write folios through the
# mapping's NOFS mask, ...) then stall in the page allocator slow path.  With
# nofail_watchdog loaded (default knobs but stall_warn_ms=2000
# oom_after_ms=5000) the test checks that the machine comes back, that the
# workload finishes, and that the data set written before the squeeze and the
# filesystem are intact (xfs_repair -n, sha256sum -c).  It prints what got
# stuck and for how long, the OOM kills (the module's triggers and the
# kernel's own: a __GFP_FS allocation, e.g. an xattr buffer or a page fault,
# lets the kernel's OOM killer end the squeeze by killing the hog, which is the
# designed victim: biggest, oom_score_adj 0), and the worst heartbeat gap.
#
# Fails on: checksum mismatch, xfs_repair findings, umount failure, the load
# not finishing within LOAD_HARD_S, stress-ng failing (exit status other than
# 0 or 3 = "aborted early, out of system resources"), stalls still open after
# the load, a stall longer than oom_after_ms + 3 s with no OOM kill at all, or
# a heartbeat gap > 30 s.
#
# NFW_XFS_MODE=baseline (51-xfs-baseline.sh) runs the same without the module
# and only records the outcome (it fails only if the run itself broke).
# NFW_XFS_LOAD_S (default 60) and NFW_XFS_LEAVE_MB (default 2) override the
# load time and the hog's slack for experiments.
#
# The test's own shell (and the heartbeat) run at oom_score_adj -1000, so the
# OOM killer cannot end the test; the hog and stress-ng run at 0 (stress-ng's
# stressors then set their own adj).  Nothing in the heartbeat forks (builtin
# read with -t on a fifo): a fork would be a GFP_KERNEL allocation that lets
# the kernel's OOM killer act.
# nfw-qemu: --mem 512 --xfs 600
# nfw-timeout: 600
. "$(dirname "$0")/lib.sh"

MODE=${NFW_XFS_MODE:-module}
LOAD_S=${NFW_XFS_LOAD_S:-60}
LOAD_HARD_S=${NFW_XFS_HARD_S:-$((LOAD_S + 90))}
LEAVE_MB=${NFW_XFS_LEAVE_MB:-2}
STALL_WARN=2000
OOM_AFTER=5000
MAX_GAP_S=30
STRESSORS="--hdd 3 --hdd-bytes 64m --dir 2 --rename 2 --xattr 2 --sync-file 1 --filename 1 --dentry 1"
NFILES=50

nfw_require_cmd stress-ng nfw-hog xfs_repair sha256sum
[ -n "${NFW_XFS_DEV:-}" ] && grep -q " /mnt/xfs xfs " /proc/mounts ||
	nfw_fail "no XFS scratch filesystem on /mnt/xfs (qemu/run --xfs)"
echo -1000 >/proc/self/oom_score_adj || nfw_fail "cannot protect the test shell"

# NOW_CS: centiseconds since boot, without forking (no command substitution).
now_cs() {
	read -r _up _ </proc/uptime
	NOW_CS=${_up%.*}${_up#*.}
}

hb_pid= load_pid=
cleanup() {
	touch /tmp/hb.stop 2>/dev/null
	[ -n "${NFW_HOG_PID:-}" ] && kill -9 "$NFW_HOG_PID" 2>/dev/null
	[ -n "$load_pid" ] && kill -9 "$load_pid" 2>/dev/null
}
trap cleanup EXIT

# --- the data set, written and synced before the pressure --------------------
mkdir -p /mnt/xfs/data /mnt/xfs/load || nfw_fail "mkdir on /mnt/xfs failed"
i=1
while [ "$i" -le $NFILES ]; do
	kb=$(( (i * 5237) % 256 + 1 ))
	head -c $((kb * 1024)) /dev/urandom >/mnt/xfs/data/f$i || nfw_fail "writing data file f$i failed"
	i=$((i + 1))
done
(cd /mnt/xfs/data && sha256sum f*) >/tmp/sums || nfw_fail "sha256sum of the data set failed"
sync
nfw_log "data set: $(wc -l </tmp/sums) files, $(du -sk /mnt/xfs/data | cut -f1) KiB, synced"
echo 3 >/proc/sys/vm/drop_caches

if [ "$MODE" = module ]; then
	nfw_insmod "$NFW_MODULE" stall_warn_ms=$STALL_WARN oom_after_ms=$OOM_AFTER
	nfw_log "nofail_watchdog loaded: stall_warn_ms=$STALL_WARN oom_after_ms=$OOM_AFTER, other knobs default"
else
	nfw_module_loaded nofail_watchdog && nfw_rmmod nofail_watchdog
	nfw_log "baseline: nofail_watchdog not loaded"
fi
nfw_dmesg_mark
psi_full0=$(sed -n 's/^full .*total=\([0-9]*\)$/\1/p' /proc/pressure/memory 2>/dev/null)

# --- heartbeat: uptime every 0.2 s to tmpfs, no forks -------------------------
rm -f /tmp/hb /tmp/hb.stop /tmp/hb.fifo
mkfifo /tmp/hb.fifo || nfw_fail "mkfifo failed"
(
	exec 3<>/tmp/hb.fifo
	while [ ! -e /tmp/hb.stop ]; do
		read -r up _ </proc/uptime
		echo "$up" >>/tmp/hb
		read -t 0.2 _x <&3
	done
) &
hb_pid=$!
exec 4<>/tmp/hb.fifo # for this shell's own fork-free sleeps

# --- the squeeze ----------------------------------------------------------------
nfw_start_hog --leave-mb "$LEAVE_MB" --oom-score-adj 0 --name nfw-hog
hog=$NFW_HOG_PID
nfw_log "after the hog: $(grep -E '^(MemFree|MemAvailable):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
now_cs
t0=$NOW_CS
(
	echo 0 >/proc/self/oom_score_adj
	exec stress-ng $STRESSORS --temp-path /mnt/xfs/load --timeout "${LOAD_S}s" --metrics-brief
) >/tmp/sng 2>&1 &
load_pid=$!
nfw_log "load: stress-ng $STRESSORS --timeout ${LOAD_S}s (pid $load_pid)"

# Wait for the load without forking, at most LOAD_HARD_S.
load_done=yes
while kill -0 "$load_pid" 2>/dev/null; do
	now_cs
	if [ $((NOW_CS - t0)) -ge $((LOAD_HARD_S * 100)) ]; then
		load_done=no
		break
	fi
	read -t 1 _x <&4
done
now_cs
t1=$NOW_CS
if kill -0 "$hog" 2>/dev/null; then hog_fate=alive; else hog_fate=dead; fi
if [ $load_done = no ]; then
	# Make sure the guest side always ends: free the hog's memory, then the load.
	nfw_log "load still running after $LOAD_HARD_S s: killing the hog, then the load"
	kill -9 "$hog" 2>/dev/null
	kill -9 "$load_pid" 2>/dev/null
	pkill -9 stress-ng 2>/dev/null
	n=0
	while kill -0 "$load_pid" 2>/dev/null && [ $n -lt 60 ]; do
		read -t 1 _x <&4
		n=$((n + 1))
	done
	kill -0 "$load_pid" 2>/dev/null && nfw_fail "the load did not end even 60 s after killing the hog"
fi
wait "$load_pid"
load_rc=$?
load_pid=
load_s=$(( (t1 - t0) / 100 ))
nfw_stop_hog "$hog"
touch /tmp/hb.stop
wait "$hb_pid"
hb_pid=
exec 4<&-

grep -vE '^stress-ng: (metrc|info)' /tmp/sng | sed 's/^/# stress-ng: /' | head -40
psi_full1=$(sed -n 's/^full .*total=\([0-9]*\)$/\1/p' /proc/pressure/memory 2>/dev/null)

# --- what happened ----------------------------------------------------------------
nfw_dmesg_new >/tmp/dm
gap=$(awk 'NR > 1 { g = $1 - p; if (g > m) m = g } { p = $1 } END { printf "%.2f", m }' /tmp/hb)
beats=$(wc -l </tmp/hb)
kills=$(sed -n 's/.*Out of memory: Killed process \([0-9]*\) (\([^)]*\)).*/\2:\1/p' /tmp/dm | tr '\n' ' ')
nkills=$(grep -c 'Out of memory: Killed process' /tmp/dm)
oom_invokers=$(sed -n 's/.*\] \(.*\) invoked oom-killer: gfp_mask=[^(]*(\([^)]*\)).*/\1[\2]/p' /tmp/dm | sort | uniq -c | tr -s ' ' | tr '\n' ';')
psi_ms=
[ -n "$psi_full0" ] && [ -n "$psi_full1" ] && psi_ms=$(( (psi_full1 - psi_full0) / 1000 ))

stalls=n/a longest=n/a triggers=n/a sites=
if [ "$MODE" = module ]; then
	nfw_wait_settled
	stalls=$(nfw_stat stalls_detected)
	longest=$(nfw_stat longest_stall_ms)
	triggers=$(nfw_stat oom_triggers)
	nfw_log "stats: $(tr '\n' ' ' <"$NFW_SYS/stats")"
	nfw_log "slow-path allocation latency histogram (in scope):"
	sed 's/^/#   /' "$NFW_SYS/histogram"
	nfw_log "recent stalls (pid comm kind order gfp start_ns first_report_ns end_ns ms retries sleeps):"
	awk 'NR > 1' "$NFW_SYS/recent" | sed 's/^/#   /'
	grep -E 'nofail_watchdog: (INFO|triggering)' /tmp/dm | sed 's/^/# /' | head -20
	# Function names in the stacks of the module's reports: the XFS / iomap
	# call sites and the allocator entry they used.
	awk '/nofail_watchdog: INFO: task/ { r = 1; next }
		r && /<\/TASK>/ { r = 0 }
		r { for (i = 1; i <= NF; i++) if ($i ~ /^[a-z_][a-z0-9_.]*\+0x/) { f = $i; sub(/\+.*/, "", f); print f } }' /tmp/dm |
		grep -E '^(xfs|xlog|iomap|kmem_cache|__kmalloc|kmalloc|kvmalloc|alloc_pages|folio_alloc|filemap|__filemap)' |
		sort | uniq -c | sort -rn >/tmp/sites
	sites=$(awk '{ printf "%s%s(%s)", (NR > 1 ? " " : ""), $2, $1 }' /tmp/sites)
	grep -h 'Workqueue:' /tmp/dm | sed 's/.*Workqueue: /# stuck workqueue: /' | sort -u
	in_flight=$(nfw_stat in_flight)
	[ "$in_flight" -eq 0 ] || nfw_fail "allocations still in flight after the load: $in_flight"
	[ "$(nfw_stat stalls_active)" -eq 0 ] || nfw_fail "stalls still active after the load"
fi

# --- integrity ----------------------------------------------------------------
umount /mnt/xfs || { grep /mnt/xfs /proc/mounts; nfw_fail "umount /mnt/xfs failed"; }
xfs_repair -n "$NFW_XFS_DEV" >/tmp/repair 2>&1
repair_rc=$?
mount -t xfs "$NFW_XFS_DEV" /mnt/xfs || nfw_fail "remount of $NFW_XFS_DEV failed"
# Self-check of the checker, not used by the suite: NFW_XFS_SELFTEST_CORRUPT=1
# overwrites one byte of one file before the check (the test must fail).
[ -n "${NFW_XFS_SELFTEST_CORRUPT:-}" ] &&
	printf '\377' | dd of=/mnt/xfs/data/f7 bs=1 seek=100 conv=notrunc 2>/dev/null
(cd /mnt/xfs/data && sha256sum -c /tmp/sums) >/tmp/check 2>&1
check_rc=$?
ok=$(grep -c ": OK$" /tmp/check)
bad=$((NFILES - ok))

# --- report ---------------------------------------------------------------------
nfw_log "RESULT mode=$MODE mem=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)MB leave_mb=$LEAVE_MB load_s=$LOAD_S"
nfw_log "RESULT load: stress-ng exit $load_rc after $load_s s (finished in time: $load_done)"
nfw_log "RESULT stalls detected: $stalls, longest stall: $longest ms, module OOM triggers: $triggers"
nfw_log "RESULT kernel OOM kills: $nkills (${kills:-none}); hog: $hog_fate at the end of the load"
nfw_log "RESULT OOM invoked by: ${oom_invokers:-nobody}"
nfw_log "RESULT worst heartbeat gap: $gap s ($beats beats); PSI memory full: ${psi_ms:-n/a} ms"
[ "$MODE" = module ] && nfw_log "RESULT XFS call sites in stuck stacks: ${sites:-none}"
nfw_log "RESULT xfs_repair -n exit $repair_rc; checksums: $ok/$NFILES OK"

if [ "$repair_rc" -ne 0 ] || [ "$check_rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
	cat /tmp/repair /tmp/check
	[ "$MODE" = module ] && nfw_fail "integrity: xfs_repair exit $repair_rc, $bad checksum mismatches"
	nfw_log "WARNING: integrity problem in the baseline run"
fi
if [ "$MODE" = module ]; then
	[ "$load_done" = yes ] || nfw_fail "the load did not finish within $LOAD_HARD_S s: no recovery"
	case $load_rc in
	0 | 3) ;;
	*) cat /tmp/sng; nfw_fail "stress-ng failed (exit $load_rc)" ;;
	esac
	awk -v g="$gap" -v m=$MAX_GAP_S 'BEGIN { exit !(g > m) }' && nfw_fail "heartbeat gap $gap s > $MAX_GAP_S s"
	if [ "$longest" -ge $((OOM_AFTER + 3000)) ] && [ "$triggers" -eq 0 ] && [ "$nkills" -eq 0 ]; then
		nfw_fail "a stall lasted $longest ms with no OOM kill at all"
	fi
	nfw_rmmod nofail_watchdog
	nfw_pass "stalls=$stalls longest=${longest}ms triggers=$triggers kills=$nkills gap=${gap}s, fs clean, data intact"
fi
nfw_pass "baseline recorded: load ${load_s}s (in time: $load_done, exit $load_rc), kills=$nkills, gap=${gap}s"
