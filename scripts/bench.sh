#!/usr/bin/env bash
# `make bench`: run the benchmarks (tests/bench/*.sh, one guest boot each, in
# a fixed order), collect their raw figures, and write build/bench/results.json
# and build/bench/results.md (the table, also printed).  Not a test: it
# reports numbers and which targets they meet; it fails only when a boot
# could not run (the JSON is still written, with nulls where figures are
# missing).
#
# usage: scripts/bench.sh [--kernel NAME] [NAME...]   (NAME: a subset of
#        tests/bench/*.sh, e.g. "overhead"; default: all)
# Environment: NFW_BENCH_ROUNDS (fast-path rounds) and the other
# NFW_BENCH_* knobs of the scripts are passed to the guest; their defaults
# are at the top of the tests/bench/*.sh script that reads each.
set -uo pipefail
. "$(dirname "$0")/common.sh"

kernel=default
names=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	*) names+=("$1"); shift ;;
	esac
done
[ ${#names[@]} -gt 0 ] || names=(overhead detect-recover baselines footprint)

out=$NFW_BUILD/bench
raw=$out/raw
mkdir -p "$raw" "$out/logs"
ko=$NFW_BUILD/$kernel/nofail_watchdog.ko
[ -f "$ko" ] || nfw_die "$ko not built (make module)"
[ -x "$NFW_BUILD/bin/nfw-bench" ] || nfw_die "build/bin/nfw-bench not built (make tools)"
kdir=$(bash "$NFW_TOP/scripts/build-kernel.sh" "$kernel") || nfw_die "no kernel"

load() { cut -d' ' -f1 /proc/loadavg; }
# Bytes of the .ko sections whose names start with PREFIX.
sect() { size -A "$ko" | awk -v p="$1" 'index($1, p) == 1 { s += $2 } END { print s + 0 }'; }

{
	echo "NFWS date $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "NFWS machine.cpu $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "NFWB machine.cpus $(nproc)"
	echo "NFWS machine.kernel $(uname -r)"
	echo "NFWS machine.guest_kernel $(make -s -C "$kdir" kernelversion 2>/dev/null || echo unknown) ($kernel, $(basename "$kdir"))"
	echo "NFWS machine.qemu $(qemu-system-x86_64 --version | head -1 | sed 's/^QEMU emulator version //')"
	echo "NFWS machine.accel TCG (no KVM)"
	echo "NFWB machine.guest_mem_mb 512"
	echo "NFWB machine.guest_cpus 2"
	echo "NFWB machine.load_start $(load)"
	echo "NFWB foot.ko_text $(sect .text)"
	echo "NFWB foot.ko_data $(sect .data)"
	echo "NFWB foot.ko_rodata $(sect .rodata)"
	echo "NFWB foot.ko_bss $(sect .bss)"
	echo "NFWB foot.table_slots $(sed -n 's/^pub(crate) const CAPACITY: usize = \([0-9]*\);/\1/p' "$NFW_TOP/rust/track.rs")"
} >"$raw/host.txt"

header() { sed -n "s/^#[[:space:]]*nfw-$2:[[:space:]]*//p" "$1" | head -1; }
envs=$(env | grep -E '^NFW_BENCH_[A-Z_]+=[0-9]+$' | tr '\n' ' ')

failed=0
for n in "${names[@]}"; do
	script=$NFW_TOP/tests/bench/$n.sh
	[ -f "$script" ] || nfw_die "no benchmark '$n' (tests/bench/$n.sh)"
	start=$(date +%s)
	echo "NFWB machine.load_before_${n//-/_} $(load)" >>"$raw/host.txt"
	echo "bench: $n ..." >&2
	# shellcheck disable=SC2046,SC2086  # word-split the header's options
	"$NFW_TOP/qemu/run" --kernel "$kernel" --log "$out/logs/$n.log" \
		--timeout "$(header "$script" timeout || echo 900)" $(header "$script" qemu) \
		-- sh -c "$envs sh /nfw/tests/bench/$n.sh" >"$raw/$n.txt" 2>&1
	rc=$?
	echo "bench: $n: exit status $rc after $(( $(date +%s) - start )) s (log: build/bench/logs/$n.log)" >&2
	if [ $rc != 0 ]; then
		failed=1
		tail -n 20 "$raw/$n.txt" | sed 's/^/    /' >&2
	fi
done
echo "NFWB machine.load_end $(load)" >>"$raw/host.txt"

"$NFW_BUILD/bin/nfw-bench" report --json "$out/results.json" --md "$out/results.md" "$raw"/*.txt ||
	nfw_die "nfw-bench report failed"
cat "$out/results.md"
echo
echo "bench: wrote build/bench/results.json and build/bench/results.md" >&2
exit $failed
