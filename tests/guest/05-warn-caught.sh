#!/bin/sh
# A WARN in a module must fail the run: the harness boots with panic_on_warn=1
# and qemu/run turns the splat into exit status 125, which this test expects.
# If the test module is missing the run exits 1 and the test fails.
# nfw-expect: splat nfw_test_warn
# nfw-timeout: 120
. "$(dirname "$0")/lib.sh"

mod=$NFW_TEST_MODULES/nfw_test_warn.ko
nfw_require_file "$mod" "test module (build/<kernel>/tests/modules/nfw_test_warn.ko)"
nfw_log "loading $mod, which WARNs on load"
insmod "$mod"
nfw_log "insmod returned $? and the kernel is still running"
exit 0
