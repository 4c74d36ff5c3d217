#!/bin/sh
# Rate limit: a normal-zone stall that killing cannot end keeps getting
# kills, but at most one per oom_interval_ms. The big hog is protected
# (oom_score_adj -1000), so each kill takes one small victim (8 MiB) whose
# memory the workers (until=stop) eat at once: they are stuck again, and the
# next kill may come only oom_interval_ms after the previous one.
# (A lowmem stall never gets a kill: the kernel does not OOM-kill for it.)
# nfw-qemu: --mem 512
# nfw-timeout: 300
. "$(dirname "$0")/lib.sh"

# Under load the first stall may take 10 s to form and the next ones a few
# seconds each after a kill (the workers eat what it freed): a long window.
INTERVAL=$(nfw_slow 2000)
OOM_AFTER=500
WINDOW=$(nfw_slow 24000)
# This shell (and so the tools it starts without their own setting) and
# qemu/init's shell that runs it are never the victim.
echo -1000 >/proc/self/oom_score_adj
echo -1000 >/proc/$PPID/oom_score_adj
nfw_insmod "$NFW_MODULE" stall_warn_ms=500 oom_after_ms=$OOM_AFTER oom_interval_ms=$INTERVAL
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
# More victims than the window can take (at most WINDOW / INTERVAL + 1
# kills): once none is left, the kernel would panic with nothing eligible.
NVICTIMS=$((WINDOW / INTERVAL + 2))
victims=
i=1
while [ $i -le $NVICTIMS ]; do
	nfw_start_hog --mb 8 --oom-score-adj 0 --name nfw-victim$i
	victims="$victims $NFW_HOG_PID"
	i=$((i + 1))
done
nfw_start_hog --leave-mb 160 --oom-score-adj -1000 --name nfw-big
big=$NFW_HOG_PID
nfw_dmesg_mark
echo "workers=2 mode=page window_ms=$WINDOW" >/sys/kernel/nfw_stallgen/run || nfw_fail "run failed"
tail -1 /sys/kernel/nfw_stallgen/records
grep -q "stopped_by=window" /sys/kernel/nfw_stallgen/records ||
	nfw_fail "the run did not last its window: $(tail -1 /sys/kernel/nfw_stallgen/records)"
# The module reports each kill just after the kernel's own report (its
# watchdog thread prints it): let the last one come.
wait_for '[ "$(nfw_dmesg_new | grep -c "nofail_watchdog: triggered OOM kill for task nfw_stall/")" -ge "$(nfw_stat oom_kills)" ]' 5 0.2
NFW_DMESG_RAW=1 nfw_dmesg_new >/tmp/d
# The kernel's report of each call the module triggered: the stuck worker's
# own out_of_memory() call, with the mask it was shown (GFP_NOFS|__GFP_NOFAIL
# plus __GFP_FS); and the kernel's kill line right after it.
ms() { sed -n 's/^<[0-9]*>\[ *\([0-9]*\)\.\([0-9]\{3\}\).*/\1\2/p'; }
grep -E 'nfw_stall/[0-9]+ invoked oom-killer: gfp_mask=0x[0-9a-f]+\(GFP_KERNEL\|__GFP_NOFAIL\)' /tmp/d | ms >/tmp/calls
grep -E 'Out of memory: Killed process' /tmp/d >/tmp/killed
lines=$(grep -c 'nofail_watchdog: triggered OOM kill for task nfw_stall/' /tmp/d)
kills=$(nfw_stat oom_kills)
n=$(wc -l </tmp/calls)
nfw_log "oom_calls=$(nfw_stat oom_calls) oom_triggers=$(nfw_stat oom_triggers) oom_kills=$kills oom_deferred=$(nfw_stat oom_deferred)"
nfw_log "$n triggered kernel OOM reports, $lines 'triggered OOM kill' lines, $(wc -l </tmp/killed) kills in a ${WINDOW} ms run"
[ "$kills" -ge 2 ] || { grep -E 'oom|Killed|nofail_watchdog' /tmp/d; nfw_fail "expected repeated kills, oom_kills=$kills"; }
[ "$lines" -eq "$kills" ] || nfw_fail "$lines 'triggered OOM kill' lines, oom_kills=$kills"
[ "$n" -eq "$kills" ] || { grep -E 'invoked oom-killer' /tmp/d; nfw_fail "$n OOM reports from the workers, oom_kills=$kills"; }
[ "$kills" -le $((WINDOW / INTERVAL + 1)) ] || nfw_fail "$kills kills in $WINDOW ms: more than one per $INTERVAL ms"
# Victims: small ones only, never the protected hog or this shell.
grep -q "Killed process $big " /tmp/killed && nfw_fail "the protected hog was killed"
[ -d /proc/$big ] || nfw_fail "the protected hog died"
grep -vq "(nfw-victim[0-9]*)" /tmp/killed && { cat /tmp/killed; nfw_fail "a task other than the small victims was killed"; }
alive=0
for v in $victims; do [ -d /proc/$v ] && alive=$((alive + 1)); done
nfw_log "$alive of $NVICTIMS small victims left"
# Each triggered call starts oom_interval_ms after the previous kill or later:
# its report comes at least that long after the previous report.
prev=
while read -r t; do
	if [ -n "$prev" ]; then
		nfw_log "next triggered OOM report $((t - prev)) ms after the previous one"
		[ $((t - prev)) -ge $((INTERVAL - 50)) ] || nfw_fail "triggered kills $((t - prev)) ms apart, oom_interval_ms=$INTERVAL"
	fi
	prev=$t
done </tmp/calls
[ "$(nfw_stat oom_triggers)" -ge "$kills" ] || nfw_fail "oom_triggers=$(nfw_stat oom_triggers) < oom_kills=$kills"
nfw_rmmod nfw_stallgen
nfw_rmmod nofail_watchdog
for v in $victims; do nfw_stop_hog "$v"; done
nfw_pass "$kills kills in a ${WINDOW} ms stall, >= $INTERVAL ms apart"
