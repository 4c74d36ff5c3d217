#!/usr/bin/env bash
# Build every kernel flavour and run the test suite on each; print one table
# (test by flavour) and end with "N passed, N failed, N skipped" over all.
#
# usage: scripts/test-matrix.sh [--core] [-j N] [FLAVOUR...]
#   FLAVOUR...  default: every flavour ($NFW_FLAVOURS in common.sh)
#   --core      only the tests listed in tests/core-tests
#   -j N        run up to N flavours at once (default 1). Each flavour has its
#               own build directory, logs and guests, so lanes share nothing
#               but the host's CPUs. The debug flavour, whose suite takes
#               several times the others' (NFW_SLOW), starts first; the
#               others follow in the order given. With N > 1 a flavour's
#               output goes to build/logs/matrix/<flavour>.out and only its
#               summary line is printed when it ends.
# TAP output of each flavour: build/logs/matrix/<flavour>.tap
set -uo pipefail
. "$(dirname "$0")/common.sh"
cd "$NFW_TOP"

core=
jobs=1
flavours=()
while [ $# -gt 0 ]; do
	a=$1
	shift
	case "$a" in
	--core) core=1 ;;
	-j) [ $# -gt 0 ] || nfw_die "test-matrix: -j needs a number"
		jobs=$1; shift ;;
	-j*) jobs=${a#-j} ;;
	-*) nfw_die "test-matrix: unknown option $a" ;;
	*) nfw_fragments "$a" >/dev/null || exit 2; flavours+=("$a") ;;
	esac
done
case "$jobs" in ''|*[!0-9]*|0) nfw_die "test-matrix: -j takes a positive number, got '$jobs'" ;; esac
[ ${#flavours[@]} -gt 0 ] || read -r -a flavours <<<"$NFW_FLAVOURS"
filter=()
[ -n "$core" ] && mapfile -t filter < <(grep -Ev '^#|^$' tests/core-tests)

logs=$NFW_BUILD/logs/matrix
mkdir -p "$logs"
declare -A took=() built=()
bash scripts/build-tools.sh || nfw_die "building the guest tools failed"

# One flavour: build, then the suite. Its times go to <flavour>.time
# ("total build" in seconds, build "-" if it failed), since with -j it
# runs in a subshell.
run_flavour() {
	local f=$1 start b
	rm -f "$logs/$f.tap" "$logs/$f.time"
	echo "=== flavour $f: building kernel and modules"
	start=$(date +%s)
	if ! bash scripts/build-module.sh --kernel "$f" --tests >"$logs/$f.build" 2>&1; then
		tail -n 30 "$logs/$f.build"
		echo "=== flavour $f: build failed (log: $logs/$f.build)"
		echo "not ok 1 build # see $logs/$f.build" >"$logs/$f.tap"
		echo "$(( $(date +%s) - start )) -" >"$logs/$f.time"
		return
	fi
	b=$(( $(date +%s) - start ))
	echo "=== flavour $f: running tests"
	bash tests/run-tests --kernel "$f" "${filter[@]}" | tee "$logs/$f.tap"
	echo "$(( $(date +%s) - start )) $b" >"$logs/$f.time"
}

matrix_start=$(date +%s)
if [ "$jobs" = 1 ]; then
	for f in "${flavours[@]}"; do
		run_flavour "$f"
	done
else
	queue=()
	for f in "${flavours[@]}"; do [ "$f" = debug ] && queue+=("$f"); done
	for f in "${flavours[@]}"; do [ "$f" = debug ] || queue+=("$f"); done
	running=0
	for f in "${queue[@]}"; do
		if [ "$running" -ge "$jobs" ]; then
			wait -n
			running=$((running - 1))
		fi
		echo "=== flavour $f: started (output: $logs/$f.out)"
		( run_flavour "$f" >"$logs/$f.out" 2>&1
		  echo "=== flavour $f: $(tail -n 1 "$logs/$f.tap" 2>/dev/null)" ) &
		running=$((running + 1))
	done
	wait
fi
for f in "${flavours[@]}"; do
	read -r t b <"$logs/$f.time" 2>/dev/null || { t=0 b=-; }
	took[$f]=$t
	[ "$b" = - ] || built[$f]=$b
done

# The table: one row per test, one column per flavour.
python3 - "$logs" "${flavours[@]}" <<'PY'
import re, sys
logs, flavours = sys.argv[1], sys.argv[2:]
res, order = {}, []
for f in flavours:
    try:
        lines = open(f"{logs}/{f}.tap").read().splitlines()
    except OSError:
        lines = []
    for l in lines:
        m = re.match(r'^(not ok|ok) \d+ (\S+)(.*)$', l)
        if not m:
            continue
        name = m.group(2)
        if name not in order:
            order.append(name)
        r = 'ok' if m.group(1) == 'ok' else 'FAIL'
        if r == 'ok' and '# SKIP' in m.group(3):
            r = 'skip'
        res[(name, f)] = r
w = max([len(n) for n in order] + [4])
cw = max([len(f) for f in flavours] + [5])
print()
print('test'.ljust(w), *[f.rjust(cw) for f in flavours])
for n in order:
    print(n.ljust(w), *[res.get((n, f), '-').rjust(cw) for f in flavours])
PY
passed=0 failed=0 skipped=0
for f in "${flavours[@]}"; do
	p=$(grep -cE '^ok [0-9]+ ' "$logs/$f.tap" 2>/dev/null)
	s=$(grep -cE '^ok [0-9]+ .*# SKIP' "$logs/$f.tap" 2>/dev/null)
	n=$(grep -cE '^not ok [0-9]+ ' "$logs/$f.tap" 2>/dev/null)
	printf '%-8s %4s passed %3s failed %3s skipped  build+test %4d s (kernel and modules %s s)\n' \
		"$f" "$((p - s))" "$n" "$s" "${took[$f]:-0}" "${built[$f]:--}"
	passed=$((passed + p - s)) failed=$((failed + n)) skipped=$((skipped + s))
done
echo "matrix: $(( $(date +%s) - matrix_start )) s with -j $jobs"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
