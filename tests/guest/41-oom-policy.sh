#!/bin/sh
# The victim follows the kernel's policy: of two hogs, the one with
# oom_score_adj=-1000 survives even though it is bigger. (With every task
# protected the kernel panics: 45-oom-none-eligible.)
# nfw-qemu: --mem 512
# nfw-timeout: 300
. "$(dirname "$0")/lib.sh"

OOM_AFTER=1500
# The test's own shell must not be the victim of a second kill while the
# workers finish (they eat the freed memory first).
echo -1000 >/proc/$$/oom_score_adj # (inherited: hogs set their own)
# With this shell and the big hog protected, the kernel's own OOM killer
# (a page fault in the short time between the kill and the workers' stop)
# must still find someone, or it panics "System is deadlocked on memory":
# a tiny spare task it may take after nfw-small.
(echo 0 >/proc/self/oom_score_adj && exec sleep 600) &
spare=$!
nfw_insmod "$NFW_MODULE" stall_warn_ms=1000 oom_after_ms=$OOM_AFTER oom_interval_ms=4000 \
	backoff_after_ms=0
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
nfw_start_hog --mb 200 --oom-score-adj -1000 --name nfw-big
big=$NFW_HOG_PID
nfw_start_hog --leave-mb 160 --oom-score-adj 0 --name nfw-small
small=$NFW_HOG_PID
nfw_dmesg_mark
echo "workers=2 mode=page until=stall stall_ms=$OOM_AFTER window_ms=60000" >/sys/kernel/nfw_stallgen/run ||
	nfw_fail "run 1 failed"
nfw_dmesg_new >/tmp/d1
grep -q "Killed process $small (nfw-small)" /tmp/d1 || { cat /tmp/d1; nfw_fail "nfw-small was not the victim"; }
grep -q "Killed process $big " /tmp/d1 && nfw_fail "the protected hog was killed"
[ -d /proc/$big ] || nfw_fail "the protected hog died"
grep -q "stopped_by=stall" /sys/kernel/nfw_stallgen/records || nfw_fail "run 1 did not recover"
first=$(grep -m1 -o "Killed process [0-9]*" /tmp/d1)
[ "$first" = "Killed process $small" ] || { cat /tmp/d1; nfw_fail "first victim: '$first', expected nfw-small ($small)"; }
# The choice was the kernel's, in the call the module triggered: the first
# OOM report is a stuck worker's, shown __GFP_FS (its own mask is GFP_NOFS).
oom1=$(grep -m1 "invoked oom-killer" /tmp/d1)
echo "$oom1" | grep -qE 'nfw_stall/[0-9]+ invoked oom-killer: gfp_mask=0x[0-9a-f]+\(GFP_KERNEL\|__GFP_NOFAIL\)' ||
	{ cat /tmp/d1; nfw_fail "the first OOM report is not a triggered worker's: $oom1"; }
nfw_dmesg_wait "nofail_watchdog: triggered OOM kill for task nfw_stall/" 5 || { cat /tmp/d1; nfw_fail "no trigger line"; }
[ "$(nfw_stat oom_kills)" -ge 1 ] || nfw_fail "oom_kills=$(nfw_stat oom_kills)"
[ -d /proc/$spare ] || nfw_log "the spare task was killed after nfw-small (kernel OOM in the race)"

kill "$spare" 2>/dev/null
nfw_rmmod nfw_stallgen
nfw_rmmod nofail_watchdog
nfw_pass "victim choice follows oom_score_adj"
