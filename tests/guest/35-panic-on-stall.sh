#!/bin/sh
# panic_on_stall=1 (for test fleets): the first stall report panics the
# kernel with a message naming the stuck task. The harness sees the panic:
# this test passes only if the guest panics with that message.
# nfw-qemu: --mem 512
# nfw-expect: splat Kernel panic - not syncing: nofail_watchdog: task nfw_stall/[0-9]+:[0-9]+ stuck in page allocation
# nfw-timeout: 120
. "$(dirname "$0")/lib.sh"

nfw_insmod "$NFW_MODULE" stall_warn_ms=500 panic_on_stall=1 oom_after_ms=0
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
echo "workers=1 mode=page zone=dma window_ms=10000" >/sys/kernel/nfw_stallgen/run
# Not reached: the kernel panics during the run.
nfw_fail "no panic with panic_on_stall=1"
