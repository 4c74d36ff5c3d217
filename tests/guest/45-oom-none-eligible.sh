#!/bin/sh
# Nothing eligible: with every task protected (oom_score_adj -1000), the OOM
# call the module triggers for a stuck GFP_NOFS|__GFP_NOFAIL allocation in
# the normal zone finds no victim, and the kernel panics "System is
# deadlocked on memory", exactly as for the same allocation with __GFP_FS.
#
# The panic must come from the module's trigger, not from some other task's
# own __GFP_FS allocation (also "deadlocked on memory"): the kernel console
# must show, in this order, a stuck worker's OOM report with the mask it was
# shown (GFP_KERNEL|__GFP_NOFAIL: its own mask, GFP_NOFS|__GFP_NOFAIL, plus
# __GFP_FS; without the module such a worker never reaches the OOM killer),
# the kernel's "no killable processes", the panic, and the panic's stack
# dump naming a worker as the panicking task. OOM reports and the panic are
# made under oom_lock, so no other task's report can come in between.
#
# Whether a worker gets to the OOM killer first is not the module's to
# decide: while the squeeze forms, any other task's own __GFP_FS allocation
# meets the same exhausted memory, and the kernel, finding nobody to kill,
# panics for it (seen once, in a matrix run with three guests on two host
# CPUs: kthreadd forking a kernel thread, 2.9 s into the run, before any
# worker had been stuck for stall_warn_ms). Such a run proves nothing either
# way: the harness runs it again (nfw-premise, tests/run-tests).
# nfw-qemu: --mem 512
# nfw-timeout: 240
# nfw-expect: splat System is deadlocked on memory
# nfw-premise: invoked oom-killer -> nfw_stall/[0-9]+ invoked oom-killer
# nfw-expect-log: nfw_stall/[0-9]+ invoked oom-killer: gfp_mask=0x[0-9a-f]+\(GFP_KERNEL\|__GFP_NOFAIL\), order=0
# nfw-expect-log: Out of memory and no killable processes
# nfw-expect-log: Kernel panic - not syncing: System is deadlocked on memory
# nfw-expect-log: CPU: [0-9]+ UID: [0-9]+ PID: [0-9]+ Comm: nfw_stall/[0-9]+
. "$(dirname "$0")/lib.sh"

OOM_AFTER=300
[ "$(cat /proc/sys/vm/panic_on_oom)" = 0 ] || nfw_fail "vm.panic_on_oom is set: the panic would not show the victim search"
nfw_insmod "$NFW_MODULE" stall_warn_ms=200 oom_after_ms=$OOM_AFTER oom_interval_ms=1000
nfw_insmod "$NFW_TEST_MODULES/nfw_stallgen.ko"
# Protect every task (this shell and init included; its children inherit it).
for p in /proc/[0-9]*; do echo -1000 >"$p/oom_score_adj" 2>/dev/null; done
nfw_start_hog --leave-mb 160 --oom-score-adj -1000 --name nfw-big
# Every user task must be protected (kernel threads are never OOM victims).
for p in /proc/[0-9]*; do
	[ -n "$(cat "$p/cmdline" 2>/dev/null)" ] || continue
	adj=$(cat "$p/oom_score_adj" 2>/dev/null) || continue
	[ "$adj" = -1000 ] || nfw_fail "task ${p#/proc/} ($(cat "$p/comm")) has oom_score_adj $adj"
done
nfw_log "every user task has oom_score_adj -1000; MemAvailable $(nfw_mem_available_kb) kB"
nfw_log "knobs: oom_after_ms=$(nfw_knob oom_after_ms) oom_interval_ms=$(nfw_knob oom_interval_ms)"
nfw_log "stats before the stall: $(tr '\n' ' ' <"$NFW_SYS/stats")"
nfw_log "stalling two GFP_NOFS|__GFP_NOFAIL workers in the normal zone: the kernel must panic"
# This shell only waits in the write from here on: it allocates nothing.
echo "workers=2 mode=page window_ms=60000" >/sys/kernel/nfw_stallgen/run
nfw_fail "the run ended ($(tail -1 /sys/kernel/nfw_stallgen/records)) and the kernel is still running: $(tr '\n' ' ' <"$NFW_SYS/stats")"
