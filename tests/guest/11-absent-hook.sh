#!/bin/sh
# A hook point the kernel lacks fails insmod, names the hook point, and
# leaves nothing registered. nfw_test_absent_hook.ko is the module built with
# NFW_TEST_ABSENT_HOOK=1 (Kbuild, rust/sys/compat.rs): it asks for the
# function nfw_absent_out_of_memory instead of out_of_memory(), the last of
# its hooks, so every registration before it (watchdog thread, slow-path
# kretprobe, both reclaim tracepoints, shrinker) must be undone. Then every
# hook is exercised (drop_caches calls every shrinker; a generator run drives
# slow-path entries and direct-reclaim rounds): a registration left behind
# would call into the freed module and oops, which the host catches. Last,
# the real module loads, runs and unloads.
# nfw-qemu: --mem 512
# nfw-timeout: 180
. "$(dirname "$0")/lib.sh"

AH=$NFW_TEST_MODULES/nfw_test_absent_hook.ko
G=/sys/kernel/nfw_stallgen
nfw_require_file "$AH" "absent-hook test build (scripts/build-module.sh --tests)"
nfw_module_loaded nofail_watchdog && nfw_fail "nofail_watchdog is loaded before the test"

nfw_dmesg_mark
if insmod "$AH" 2>/tmp/t11.err; then
	nfw_fail "insmod of a module whose hook point is absent succeeded"
fi
nfw_log "insmod failed as it must: $(cat /tmp/t11.err)"
nfw_dmesg_grep 'nofail_watchdog: hook point nfw_absent_out_of_memory not found on this kernel' ||
	nfw_fail "the kernel log does not name the absent hook point: $(nfw_dmesg_new | tail -5)"
nfw_log "kernel log: $(nfw_dmesg_new | grep 'hook point')"

# Nothing left: module, sysfs directory, probes, thread.
nfw_module_loaded nofail_watchdog && nfw_fail "/sys/module/nofail_watchdog exists after the failed insmod"
grep -q '^nofail_watchdog ' /proc/modules && nfw_fail "nofail_watchdog in /proc/modules after the failed insmod"
[ -e /sys/kernel/nofail_watchdog ] && nfw_fail "/sys/kernel/nofail_watchdog left behind"
kp=/sys/kernel/debug/kprobes/list
nfw_require_file "$kp" "kprobes list (debugfs)"
grep -E '__alloc_pages_slowpath|out_of_memory' "$kp" && nfw_fail "a kprobe is left registered"
for c in /proc/[0-9]*/comm; do
	[ "$(cat "$c" 2>/dev/null)" = nofail_watchdog ] && nfw_fail "the watchdog thread is left running (${c%/comm})"
done

# Exercise every hook point a leftover registration would be called from.
echo 3 >/proc/sys/vm/drop_caches
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
echo "workers=2 mode=page zone=dma nice=19 window_ms=$(nfw_slow 4000)" >$G/run &
gen=$!
wait_for '[ "$(ps -o comm | grep -c "^nfw_stall/")" -eq 2 ]' "$(nfw_slow 20)" 0.1 ||
	nfw_fail "the generator workers did not start: $(tail -1 $G/records)"
for p in $(ps -o pid,comm | awk '$2 ~ /^nfw_stall\// { print $1 }'); do
	nfw_in_slowpath "$p" || nfw_fail "generator worker $p never reached the slow path"
done
wait_for "! kill -0 $gen 2>/dev/null" "$(nfw_slow 30)" 0.2
nfw_gen_end "$gen" "generator run"
echo 3 >/proc/sys/vm/drop_caches
nfw_log "slow path, reclaim rounds and shrinkers ran with no module behind them"

# The real module loads, hooks what it should, and unloads.
nfw_dmesg_mark
nfw_insmod "$NFW_MODULE"
nfw_dmesg_grep 'nofail_watchdog: watching .* hooks: __alloc_pages_slowpath.*, out_of_memory' ||
	nfw_fail "the module did not report its hooks after the failed load"
nfw_dmesg_check_clean "after insmod of the real module"
nfw_rmmod nofail_watchdog
nfw_rmmod nfw_stallgen
nfw_pass "absent hook point named at insmod, nothing left registered, the real module loads after it"
