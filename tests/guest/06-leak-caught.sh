#!/bin/sh
# On the debug kernel, a memory leak in a module must fail the run: the
# kmemleak scans qemu/init runs after the command find the objects leaked by
# nfw_test_leak (its backtrace names the module) and qemu/run exits 125.
# Skipped on a kernel without kmemleak.
# nfw-expect: splat kmemleak: .*new suspected memory leak
# nfw-timeout: 120
. "$(dirname "$0")/lib.sh"

[ -e /sys/kernel/debug/kmemleak ] || nfw_skip "no kmemleak in this kernel (the debug kernel has it)"
mod=$NFW_TEST_MODULES/nfw_test_leak.ko
nfw_require_file "$mod" "test module"
# Left loaded, so that the report's backtrace names the module.
insmod "$mod" || nfw_fail "insmod $mod failed"
nfw_log "leaked 32 objects; the scans after this command must report them"
exit 0
