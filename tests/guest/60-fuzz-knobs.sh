#!/bin/sh
# Bad input: nfw-fuzz writes 2000 random byte strings to each of the 12 knob
# files (24 000 writes, about 21 000 of them non-empty: empty, huge, non-UTF-8, signed, overflowing,
# whitespace and notation variants, random bytes, valid values), checking
# after every write that it returned what the rules say (EINVAL for every
# invalid one) and that all 12 knobs still hold the model's values; then
# 240 insmod attempts with random parameter values (a load succeeds exactly
# for a valid value). The kernel log gains no more than the two lines
# each refused insmod prints, and nothing for the sysfs writes.
# nfw-timeout: 300
. "$(dirname "$0")/lib.sh"

nfw_require_cmd nfw-fuzz
SEED=${NFW_SEED:-$(date +%s)}
nfw_log "seed $SEED (NFW_SEED=$SEED reproduces this run)"

nfw_insmod "$NFW_MODULE"
# Messages of the module (other kernel messages, e.g. clocksource notes
# under TCG, are not ours to count).
nfw_lines() { dmesg | grep -c 'nofail_watchdog'; }
lines0=$(nfw_lines)
out=$(nfw-fuzz sysfs --per-file "${NFW_FUZZ_PER_FILE:-2000}" --seed "$SEED") || {
	echo "$out"
	nfw_fail "sysfs fuzzing found a mismatch"
}
echo "$out"
lines1=$(nfw_lines)
[ "$lines1" -eq "$lines0" ] || {
	dmesg | grep nofail_watchdog | tail -n $((lines1 - lines0))
	nfw_fail "the sysfs writes logged $((lines1 - lines0)) kernel messages"
}
# Nothing was counted or reported by the writes themselves.
[ "$(nfw_stat reports)" = 0 ] || nfw_fail "reports after fuzzing: $(cat $NFW_SYS/stats)"
nfw_rmmod nofail_watchdog

PARAMS=${NFW_FUZZ_PARAMS:-240}
lines0=$(nfw_lines)
out=$(nfw-fuzz params --module "$NFW_MODULE" --count "$PARAMS" --seed "$SEED") || {
	echo "$out"
	nfw_fail "parameter fuzzing found a mismatch"
}
echo "$out"
lines1=$(nfw_lines)
# Per refused load: our "invalid value for parameter" line and the kernel's
# "... invalid for parameter"; per load: "watching ..." and "unloaded".
[ $((lines1 - lines0)) -le $((2 * PARAMS + 8)) ] ||
	nfw_fail "parameter fuzzing logged $((lines1 - lines0)) lines for $PARAMS loads"
nfw_module_loaded nofail_watchdog && nfw_fail "module left loaded"
nfw_pass "$(echo "$out" | sed -n 's/^nfw-fuzz params: \([0-9]*\) insmod.*/\1/p') insmod attempts and 12 files x ${NFW_FUZZ_PER_FILE:-2000} writes as documented"
