#!/usr/bin/env bash
# Host-side checks of the qemu/run harness itself (its exit-status contract).
#
# Usage: tests/host-harness.sh [--kernel NAME] [--list] [CHECK...]
#   --list     print the check names, one a line
#   CHECK...   run these checks (default: all) and print TAP
# Exit status: 0 if all checks passed, 1 otherwise.  tests/run-tests runs each
# check as one TAP test.  Each check's qemu/run log goes to
# build/logs/tests/<kernel>/<check>.log.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN=$TOP/qemu/run
KERNEL=default

CHECKS=(
	harness-usage-error
	harness-exit-status-7
	harness-exit-status-0
	harness-output
	harness-sysrq-crash-125
	harness-xfs-mount
	harness-add-file
	harness-timeout-124
)

# Each check_* prints diagnostics and returns 0 (pass) or 1 (fail).  $LOG is
# its qemu/run log, $OUT a file with qemu/run's stdout+stderr.
expect_status() { # WANT GOT
	[ "$2" = "$1" ] && return 0
	echo "expected exit status $1, got $2"
	return 1
}

qrun() { "$RUN" --kernel "$KERNEL" --log "$LOG" "$@" >"$OUT" 2>&1; }

check_harness-usage-error() {
	"$RUN" --no-such-option -- true >"$OUT" 2>&1
	expect_status 2 $?
}

check_harness-exit-status-7() {
	qrun -- sh -c 'exit 7'
	expect_status 7 $?
}

check_harness-exit-status-0() {
	qrun -- true
	expect_status 0 $?
}

check_harness-output() {
	"$RUN" --kernel "$KERNEL" --log "$LOG" -- sh -c 'echo to-stdout; echo to-stderr >&2; exit 3' \
		>"$OUT.stdout" 2>"$OUT.stderr"
	local rc=$?
	cat "$OUT.stdout" "$OUT.stderr" >"$OUT"
	expect_status 3 "$rc" || return 1
	grep -qx 'to-stdout' "$OUT.stdout" || { echo "guest stdout missing from host stdout"; return 1; }
	grep -qx 'to-stderr' "$OUT.stdout" || { echo "guest stderr missing from host stdout"; return 1; }
	! grep -q 'NFW-EXIT-STATUS' "$OUT.stdout" || { echo "exit marker leaked to stdout"; return 1; }
}

check_harness-sysrq-crash-125() {
	qrun -- sh -c 'echo c > /proc/sysrq-trigger; exit 0'
	expect_status 125 $? || return 1
	grep -q 'Kernel panic' "$OUT" || { echo "the splat was not printed"; return 1; }
}

check_harness-xfs-mount() {
	qrun --xfs 256 -- sh -c 'grep -q " /mnt/xfs xfs " /proc/mounts'
	expect_status 0 $?
}

check_harness-add-file() {
	local d f
	d=$(mktemp -d)
	f=$d/somefile
	echo "nfw-add-check" >"$f"
	qrun --add "$f" -- sh -c 'test -f /nfw/extra/somefile && grep -qx nfw-add-check /nfw/extra/somefile'
	local rc=$?
	rm -rf "$d"
	expect_status 0 "$rc"
}

check_harness-timeout-124() {
	local start end
	start=$(date +%s)
	qrun --timeout 5 -- sleep 100
	local rc=$?
	end=$(date +%s)
	expect_status 124 "$rc" || return 1
	[ $((end - start)) -le 30 ] || { echo "took $((end - start)) s, expected about 5 s"; return 1; }
	echo "timed out after $((end - start)) s"
}

run_check() { # NAME; sets LOG/OUT, runs it, prints output on failure
	local name=$1
	LOGDIR=$TOP/build/logs/tests/$KERNEL
	mkdir -p "$LOGDIR"
	LOG=$LOGDIR/$name.log
	OUT=$(mktemp)
	local msg rc
	msg=$("check_$name" 2>&1)
	rc=$?
	if [ $rc != 0 ]; then
		[ -n "$msg" ] && echo "$msg"
		echo "--- qemu/run output (tail) ---"
		tail -n 30 "$OUT"
		[ -f "$LOG" ] && echo "--- log: $LOG"
	fi
	rm -f "$OUT" "$OUT".*
	return $rc
}

names=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) KERNEL=${2:?--kernel needs a name}; shift 2 ;;
	--list) printf '%s\n' "${CHECKS[@]}"; exit 0 ;;
	-h|--help) sed -n '2,/^set -uo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	-*) echo "host-harness.sh: unknown option '$1'" >&2; exit 2 ;;
	*) names+=("$1"); shift ;;
	esac
done

if [ ${#names[@]} -eq 1 ]; then
	# One check, as called by tests/run-tests: plain output, status = result.
	declare -F "check_${names[0]}" >/dev/null || { echo "unknown check '${names[0]}'" >&2; exit 2; }
	run_check "${names[0]}"
	exit
fi

[ ${#names[@]} -gt 0 ] || names=("${CHECKS[@]}")
echo "TAP version 13"
echo "1..${#names[@]}"
i=0 failed=0
for n in "${names[@]}"; do
	i=$((i + 1))
	if ! declare -F "check_$n" >/dev/null; then
		echo "not ok $i $n # unknown check"; failed=$((failed + 1)); continue
	fi
	if out=$(run_check "$n"); then
		echo "ok $i $n"
	else
		echo "not ok $i $n"; failed=$((failed + 1))
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done
[ "$failed" = 0 ]
