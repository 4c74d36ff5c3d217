# Helpers for the benchmark scripts (busybox sh), on top of the guest test
# helpers.  Source it:   . "$(dirname "$0")/lib.sh"
#
# A benchmark script prints its figures as raw lines that the host collects
# (scripts/bench.sh) and nfw-bench turns into build/bench/results.json:
#     NFWB <key> <number>     a sample (repeated keys collect samples in order)
#     NFWS <key> <text>       a text value
# It is not a pass/fail test: it measures and prints, and fails only when it
# cannot measure (a helper missing, a module that does not load).
# shellcheck shell=sh

. /nfw/tests/guest/lib.sh

NFW_BENCH=/sys/kernel/nfw_bench

nfwb() { echo "NFWB $1 $2"; }
nfws() { _k=$1; shift; echo "NFWS $_k $*"; }

# nfw_bench_cmd CMD...: run one nfw_bench command, print its result line.
nfw_bench_cmd() {
	echo "$*" >"$NFW_BENCH/run" || nfw_fail "nfw_bench: '$*' failed"
	cat "$NFW_BENCH/result"
}

# kv LINE KEY: the value of KEY=VALUE in LINE.
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# vmstat_sum REGEX: sum of the /proc/vmstat counters whose name matches.
vmstat_sum() { awk -v re="$1" '$1 ~ re { s += $2 } END { print s + 0 }' /proc/vmstat; }

# meminfo_kb NAME: a /proc/meminfo value in kB.
meminfo_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

# module_size NAME: the size column of /proc/modules.
module_size() { awk -v m="$1" '$1 == m { print $2 }' /proc/modules; }

# Percentiles are computed on the host; this only prints a progress line.
nfwb_log() { echo "# $*"; }
