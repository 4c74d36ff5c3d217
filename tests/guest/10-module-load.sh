#!/bin/sh
# nofail_watchdog loads and unloads cleanly, three times in a row.
# nfw-timeout: 120
. "$(dirname "$0")/lib.sh"

nfw_require_file "$NFW_MODULE" "module (build/<kernel>/nofail_watchdog.ko)"
nfw_module_loaded nofail_watchdog && nfw_fail "nofail_watchdog is loaded before the test"

for i in 1 2 3; do
	nfw_log "round $i: insmod"
	nfw_dmesg_mark
	nfw_insmod "$NFW_MODULE"
	nfw_module_loaded nofail_watchdog || nfw_fail "round $i: /sys/module/nofail_watchdog missing after insmod"
	grep -q '^nofail_watchdog ' /proc/modules || nfw_fail "round $i: not in /proc/modules"
	nfw_dmesg_check_clean "after insmod (round $i)"

	nfw_log "round $i: rmmod"
	nfw_dmesg_mark
	nfw_rmmod nofail_watchdog
	grep -q '^nofail_watchdog ' /proc/modules && nfw_fail "round $i: still in /proc/modules after rmmod"
	nfw_dmesg_check_clean "after rmmod (round $i)"
done
nfw_pass "3 load/unload rounds"
