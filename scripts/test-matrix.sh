#!/usr/bin/env bash
# Build every kernel flavour and run the test suite on each; print one table
# (test by flavour) and end with "N passed, N failed, N skipped" over all.
#
# usage: scripts/test-matrix.sh [--core] [FLAVOUR...]
#   FLAVOUR...  default: every flavour ($NFW_FLAVOURS in common.sh)
#   --core      only the tests listed in tests/core-tests
# TAP output of each flavour: build/logs/matrix/<flavour>.tap
set -uo pipefail
. "$(dirname "$0")/common.sh"
cd "$NFW_TOP"

core=
flavours=()
for a in "$@"; do
	case "$a" in
	--core) core=1 ;;
	-*) nfw_die "test-matrix: unknown option $a" ;;
	*) nfw_fragments "$a" >/dev/null || exit 2; flavours+=("$a") ;;
	esac
done
[ ${#flavours[@]} -gt 0 ] || read -r -a flavours <<<"$NFW_FLAVOURS"
filter=()
[ -n "$core" ] && mapfile -t filter < <(grep -Ev '^#|^$' tests/core-tests)

logs=$NFW_BUILD/logs/matrix
mkdir -p "$logs"
declare -A took=() built=()
bash scripts/build-tools.sh || nfw_die "building the guest tools failed"
for f in "${flavours[@]}"; do
	echo "=== flavour $f: building kernel and modules"
	start=$(date +%s)
	if ! bash scripts/build-module.sh --kernel "$f" --tests >"$logs/$f.build" 2>&1; then
		tail -n 30 "$logs/$f.build"
		echo "=== flavour $f: build failed (log: $logs/$f.build)"
		echo "not ok 1 build # see $logs/$f.build" >"$logs/$f.tap"
		took[$f]=$(( $(date +%s) - start ))
		continue
	fi
	built[$f]=$(( $(date +%s) - start ))
	echo "=== flavour $f: running tests"
	bash tests/run-tests --kernel "$f" "${filter[@]}" | tee "$logs/$f.tap"
	took[$f]=$(( $(date +%s) - start ))
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
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
