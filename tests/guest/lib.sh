# Helpers for the guest tests (busybox sh).  Source it:
#     . "$(dirname "$0")/lib.sh"
#
# Tests are numbered by group of ten (docs/testing.md lists each test; its
# own header comment says what it proves):
#   00  the guest and the harness: boot, a WARN and a leak fail a run
#   10  module load: load/unload, a missing hook point fails insmod cleanly
#   20  baseline: the livelock reproduced without the module
#   30  detection and reporting, and the interface: reports, stalls/stats,
#       knobs, no false reports, load/unload under stall, panic_on_stall,
#       events and uevents, nfwctl
#   40  OOM trigger and back-off: recovery, victim policy, back-off CPU, no
#       false kills, rate limit, nothing eligible, lowmem, adoption at
#       load, rmmod during back-off, dying tasks
#   50  scenarios: the filesystem scenario (XFS, ext4, btrfs), slow
#       allocations that make progress
#   60  stress: knob fuzzing and chaos, load/unload cycles, table overflow,
#       killed and OOM-victim stuck tasks, CPU hotplug
#
# A guest test is a POSIX sh script run by tests/run-tests through qemu/run,
# one boot per test, as root with cwd /nfw.  Exit 0 = pass, 4 = skip
# (kselftest), anything else = fail.  Header comments (first lines) read by
# tests/run-tests:
#     # nfw-qemu: --mem 256 --xfs 300     extra qemu/run options
#     # nfw-expect: splat [ERE]            pass only if qemu/run exits 125 (kernel
#                                          splat), and, if ERE is given, the
#                                          serial log matches ERE
#     # nfw-expect-log: ERE                (any number) the kernel console
#                                          has lines matching them, in order
#     # nfw-timeout: 120                   qemu/run --timeout (default 180)
# Kernel splats (WARN, BUG, Oops, lockdep, ...) are caught by the host, so a
# test need not look for them itself; the hung-task detector's
# "INFO: task ... blocked" reports and "nofail_watchdog: INFO:" lines are not
# splats, so tests can wait for them with nfw_dmesg_wait.
# shellcheck shell=sh

# The guest's sh is Debian's busybox-static, a "standalone" shell: its own
# applets win over $PATH.  To run a real tool that has an applet's name, call
# it by its full path; modinfo (kmod's, which reads a .ko file without
# /lib/modules) is wrapped here.
if [ -x /usr/sbin/modinfo ]; then
	modinfo() { /usr/sbin/modinfo "$@"; }
fi

# NFW_SLOW: how many times slower than the default test kernel this one is
# (tests/run-tests sets 4 for the debug kernel: lockdep, KASAN and kmemleak
# under TCG). Tests multiply waits and latency bounds that depend on the
# kernel's speed by it, never the thresholds they assert on behaviour
# (e.g. "no report before stall_warn_ms").
NFW_SLOW=${NFW_SLOW:-1}
# nfw_slow N: N scaled by NFW_SLOW.
nfw_slow() { echo $(( $1 * NFW_SLOW )); }

NFW_DIR=/nfw
NFW_MODULE=$NFW_DIR/nofail_watchdog.ko
NFW_TEST_MODULES=$NFW_DIR/modules
NFW_TEST_NAME=${NFW_TEST_NAME:-$(basename "$0" .sh)}

# Messages.  stdout and stderr both reach the host, in order.
nfw_log() { echo "# $*"; }
nfw_fail() { echo "FAIL: $NFW_TEST_NAME: $*" >&2; exit 1; }
nfw_skip() { echo "SKIP: $*"; exit 4; }
nfw_pass() { echo "PASS: $NFW_TEST_NAME${1:+: $*}"; exit 0; }

# Run a command; fail the test if it fails.
nfw_run() {
	"$@" || nfw_fail "command failed (status $?): $*"
}

# nfw_require_file PATH [WHAT]: fail (not skip) if PATH is missing.
nfw_require_file() {
	[ -e "$1" ] || nfw_fail "${2:-required file} $1 is missing"
}

# nfw_require_cmd CMD...: skip if a tool is missing from the guest.
nfw_require_cmd() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || nfw_skip "'$_c' is not available in the guest"
	done
}

# wait_for 'SHELL CONDITION' TIMEOUT_SECONDS [INTERVAL]: poll until the
# condition (eval'ed) succeeds; return 1 on timeout.
wait_for() {
	_cond=$1 _timeout=${2:-10} _int=${3:-0.1}
	_end=$(( $(date +%s) + _timeout ))
	while :; do
		eval "$_cond" && return 0
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep "$_int"
	done
}

# --- dmesg -------------------------------------------------------------------
# nfw_dmesg_mark: put a unique marker into the kernel log; nfw_dmesg_new then
# prints only the messages logged after it (raw, with <level> prefixes
# stripped unless NFW_DMESG_RAW=1).
_nfw_mark_n=0
nfw_dmesg_mark() {
	_nfw_mark_n=$((_nfw_mark_n + 1))
	NFW_DMESG_MARK="nfw-mark-$$-$_nfw_mark_n"
	echo "$NFW_DMESG_MARK" >/dev/kmsg
}

nfw_dmesg_new() {
	_out=$(dmesg -r)
	if [ -n "${NFW_DMESG_MARK:-}" ]; then
		if printf '%s\n' "$_out" | grep -q "$NFW_DMESG_MARK\$"; then
			_out=$(printf '%s\n' "$_out" | sed -n "/$NFW_DMESG_MARK\$/,\$p" | sed 1d)
		else
			# The ring wrapped past the mark: all it has is newer.
			echo "nfw_dmesg_new: mark $NFW_DMESG_MARK overwritten (log ring wrapped): the oldest lines since it are lost" >&2
		fi
	fi
	if [ "${NFW_DMESG_RAW:-0}" = 1 ]; then
		printf '%s\n' "$_out"
	else
		printf '%s\n' "$_out" | sed 's/^<[0-9]*>//'
	fi
}

# nfw_dmesg_grep ERE: true if a message since the mark matches ERE.
nfw_dmesg_grep() {
	nfw_dmesg_new | grep -qE "$1"
}

# nfw_dmesg_wait ERE TIMEOUT: wait until a message since the mark matches.
nfw_dmesg_wait() {
	_nfw_wait_re=$1
	wait_for 'nfw_dmesg_grep "$_nfw_wait_re"' "${2:-10}" 0.5
}

# nfw_dmesg_errors: print kernel messages since the mark logged at KERN_ERR or
# more severe (levels 0-3), and those naming a module loading problem.  (The
# "loading out-of-tree module taints kernel" warning is not an error.)
nfw_dmesg_errors() {
	NFW_DMESG_RAW=1 nfw_dmesg_new |
		grep -E '^<[0-3]>|Unknown symbol|disagrees about version|module verification failed' |
		grep -vE "$NFW_DMESG_MARK"
}

# nfw_dmesg_check_clean [WHAT]: fail if nfw_dmesg_errors finds anything.
nfw_dmesg_check_clean() {
	_errs=$(nfw_dmesg_errors)
	[ -z "$_errs" ] || {
		printf '%s\n' "$_errs" >&2
		nfw_fail "kernel log errors${1:+ $1}"
	}
}

# --- modules -----------------------------------------------------------------
# nfw_whole_lines FILE FIELDS: one read of FILE (a sysfs table) is shorter
# than a page (4095 bytes, sysfs's limit), ends with a newline and every
# line has FIELDS fields.
nfw_whole_lines() {
	cat "$1" >/tmp/.nfw_wl || return 1
	_wl_bytes=$(wc -c </tmp/.nfw_wl)
	[ "$_wl_bytes" -le 4095 ] || { echo "$1: $_wl_bytes bytes" >&2; return 1; }
	# $(...) strips one trailing newline: empty only if that is the last byte.
	[ "$_wl_bytes" = 0 ] || [ -z "$(tail -c 1 /tmp/.nfw_wl)" ] ||
		{ echo "$1: last line cut" >&2; return 1; }
	awk -v n="$2" -v f="$1" 'NF != n { print f ": line " NR " has " NF " fields" >"/dev/stderr"; bad = 1 }
		END { exit bad }' /tmp/.nfw_wl
}

nfw_module_loaded() { [ -d "/sys/module/$1" ]; }

# nfw_insmod PATH [PARAMS...]: load a module; fail the test if that fails.
nfw_insmod() {
	nfw_require_file "$1" "module"
	insmod "$@" || nfw_fail "insmod $* failed"
}

# nfw_rmmod NAME: unload a module and check it is gone.
nfw_rmmod() {
	rmmod "$1" || nfw_fail "rmmod $1 failed"
	wait_for "! nfw_module_loaded $1" "$(nfw_slow 10)" || nfw_fail "$1 still in /sys/module after rmmod"
}

# --- misc --------------------------------------------------------------------
nfw_cpus_online() {
	grep -c '^processor' /proc/cpuinfo
}

# nfw_mkfs_xfs DEV [ARGS...]: mkfs.xfs that also accepts filesystems < 300 MB.
nfw_mkfs_xfs() {
	_dev=$1; shift
	TEST_DIR=/mnt TEST_DEV=$_dev QA_CHECK_FS=1 mkfs.xfs -f -q "$@" "$_dev"
}

# nfw_mem_available_kb: MemAvailable from /proc/meminfo.
nfw_mem_available_kb() {
	awk '/^MemAvailable:/ { print $2 }' /proc/meminfo
}

# --- nofail_watchdog and the stall generator --------------------------------
# Under TCG, work items often run longer than the 10 ms CPU-intensive
# threshold, which wakes spare kworkers; a kworker forked while memory is
# exhausted is a GFP_KERNEL allocation that lets the OOM killer end a
# livelock the test wants to keep. (The stall generator also pre-creates
# idle kworkers before each run.)
echo 0 >/sys/module/workqueue/parameters/cpu_intensive_thresh_us 2>/dev/null
NFW_SYS=/sys/kernel/nofail_watchdog

# nfw_stat NAME: one counter from the stats file.
nfw_stat() {
	awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "-1" }' "$NFW_SYS/stats"
}

# nfw_knob NAME [VALUE]: read, or write and check, a knob.
nfw_knob() {
	if [ $# -ge 2 ]; then
		echo "$2" >"$NFW_SYS/$1" || nfw_fail "cannot set $1=$2"
	else
		cat "$NFW_SYS/$1"
	fi
}

# nfw_wait_settled: wait until every stall has been closed (a stall stays
# open for a second after its task's last slow allocation, in case the task
# comes back: see rust/track.rs).
nfw_wait_settled() {
	wait_for '[ "$(nfw_stat slots_in_use)" -eq 0 ]' "$(nfw_slow 15)" 0.2 ||
		nfw_fail "stalls still open: $(cat "$NFW_SYS/stats")"
}

# nfw_start_hog HOG-ARGS...: start nfw-hog in the background, wait until its
# memory is locked; sets NFW_HOG_PID.
nfw_start_hog() {
	nfw_try_start_hog "$@" || nfw_fail "nfw-hog did not get ready: $NFW_HOG_OUT"
}

# nfw_try_start_hog HOG-ARGS...: as nfw_start_hog, but returns 1 when the hog
# exits before it is ready (an OOM kill while it locks its memory, an error),
# with its output in NFW_HOG_OUT; sets NFW_HOG_PID either way.
nfw_try_start_hog() {
	nfw_require_cmd nfw-hog
	_hog_out=$(mktemp /tmp/nfw-hog.XXXXXX)
	nfw-hog "$@" >"$_hog_out" 2>&1 &
	NFW_HOG_PID=$!
	# Gone: reaped, or a zombie (state Z; kill -0 still finds a zombie).
	wait_for "grep -q 'nfw-hog: ready' $_hog_out || ! nfw_alive $NFW_HOG_PID" "$(nfw_slow 60)" 0.2
	NFW_HOG_OUT=$(cat "$_hog_out")
	rm -f "$_hog_out"
	case $NFW_HOG_OUT in
	*"nfw-hog: ready"*) nfw_log "$NFW_HOG_OUT" ;;
	*)
		nfw_alive "$NFW_HOG_PID" || NFW_HOG_OUT="${NFW_HOG_OUT:+$NFW_HOG_OUT; }exited before it was ready"
		nfw_stop_hog "$NFW_HOG_PID"
		return 1
		;;
	esac
}

# nfw_alive PID: PID exists and is not a zombie (killed, not yet reaped).
nfw_alive() {
	_st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' /proc/"$1"/status 2>/dev/null)
	[ -n "$_st" ] && [ "$_st" != Z ]
}

# nfw_in_slowpath PID: task PID is in the page allocator slow path (under
# its plain name or a compiler clone's). A task running on a CPU shows no
# stack: look until it is caught off the CPU (for about 5 s at most).
nfw_in_slowpath() {
	_i=0
	while [ $_i -lt $(nfw_slow 250) ]; do
		grep -q __alloc_pages_slowpath /proc/$1/stack 2>/dev/null && return 0
		_i=$((_i + 1))
		sleep 0.02
	done
	echo "task $1 not seen in the slow path; its stack:" >&2
	cat /proc/$1/stack >&2
	return 1
}

# nfw_wait_watching PID: `nfwctl watch` (PID) has read the events file and
# waits in poll(2) on it (x86_64 syscall 7, one fd; its runtime's start-up
# poll has three): from then on it misses no event. A fixed sleep is not
# enough: on the debug kernel beside other guests, starting nfwctl took
# longer than the second the tests used to give it.
nfw_wait_watching() {
	_i=0
	until grep -q '^7 0x[0-9a-f]* 0x1 ' /proc/$1/syscall 2>/dev/null; do
		kill -0 "$1" 2>/dev/null || { echo "nfwctl watch ($1) exited before it polled" >&2; return 1; }
		_i=$((_i + 1))
		[ $_i -lt $(nfw_slow 300) ] || { echo "nfwctl watch ($1) not in poll(2) after $(nfw_slow 30) s" >&2; return 1; }
		sleep 0.1
	done
}

# nfw_stop_hog [PID]: kill a hog (default: the last one started).
nfw_stop_hog() {
	_p=${1:-$NFW_HOG_PID}
	kill -9 "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	return 0
}

# nfw_gen_end PID [WHAT] [SECS]: end the nfw_stallgen run whose `run` write is
# the background job PID: SIGKILL makes its controller stop and free its
# reserve, so every stuck worker gets memory and exits.  Fails (the message
# prefixed with WHAT) unless the write returns within SECS (default 60, scaled
# by NFW_SLOW), the run's summary says it stopped on the signal or at the end
# of its window, and no worker kthread is left.
nfw_gen_end() {
	_what=${2:+$2: }
	kill -9 "$1" 2>/dev/null
	wait_for "! kill -0 $1 2>/dev/null" "$(nfw_slow "${3:-60}")" 0.2 ||
		nfw_fail "${_what}the generator run did not end"
	wait "$1" 2>/dev/null
	grep -qE 'summary .*stopped_by=(signal|window)' /sys/kernel/nfw_stallgen/records ||
		nfw_fail "${_what}the generator run did not end cleanly: $(tail -1 /sys/kernel/nfw_stallgen/records)"
	wait_for '[ "$(ps -o comm | grep -c "^nfw_stall/")" = 0 ]' 5 0.2 ||
		nfw_fail "${_what}$(ps -o comm | grep -c '^nfw_stall/') generator workers did not finish"
}

# nfw_stallgen_records: all records of the last generator run (every page of
# the records file), then its summary line.
nfw_stallgen_records() {
	_g=/sys/kernel/nfw_stallgen
	_off=0
	while :; do
		echo "$_off" >"$_g/records_offset" || break
		_page=$(cat "$_g/records")
		printf '%s\n' "$_page" | grep '^pid='
		_sum=$(printf '%s\n' "$_page" | grep '^summary')
		_first=$(echo "$_sum" | sed -n 's/.* first=\([0-9]*\).*/\1/p')
		_shown=$(echo "$_sum" | sed -n 's/.* shown=\([0-9]*\).*/\1/p')
		_total=$(echo "$_sum" | sed -n 's/.* records=\([0-9]*\).*/\1/p')
		_off=$((_first + _shown))
		{ [ "${_shown:-0}" -eq 0 ] || [ "$_off" -ge "${_total:-0}" ]; } && break
	done
	echo "$_sum"
	echo 0 >"$_g/records_offset"
}
