#!/bin/sh
# Benchmark: the module's memory footprint, idle and while it tracks N
# stalls at once (N = 1, 64, 1024: the table's 1024 slots; and 1100, more
# than fit). nfw_bench starts N kthreads that loop in a ZONE_DMA
# GFP_NOFS|__GFP_NOFAIL stall (the rest of the system keeps working).
# Per N: the module's own size (/proc/modules: code, data and its static
# slot table), slots in use, allocations that found the table full
# (overflow), and the machine's Slab / KernelStack / used-memory deltas
# (those include the N kthreads themselves: the module allocates nothing
# at run time).
# Back-off (fixed 1 s from the first round) keeps 1024 stuck tasks from
# drowning 2 vCPUs; one report only (max_warnings=1).
# nfw-qemu: --mem 512
# nfw-timeout: 600
. "$(dirname "$0")/lib.sh"

nfw_insmod "$NFW_MODULE" stall_warn_ms=1000 max_warnings=1 oom_after_ms=0 \
	backoff=fixed backoff_after_ms=0 backoff_min_ms=1000
nfw_insmod "$NFW_TEST_MODULES/nfw_bench.ko"
nfwb foot.idle.module_size "$(module_size nofail_watchdog)"
for s in .text .data .bss .rodata; do
	[ -r /sys/module/nofail_watchdog/sections/$s ] &&
		nfwb_log "section $s at $(cat /sys/module/nofail_watchdog/sections/$s)"
done

used_kb() { awk '/^MemTotal:/ { t = $2 } /^MemFree:/ { f = $2 } END { print t - f }' /proc/meminfo; }

for n in 1 64 1024 1100; do
	sync
	echo 3 >/proc/sys/vm/drop_caches
	slab0=$(meminfo_kb Slab) ks0=$(meminfo_kb KernelStack) u0=$(used_kb)
	t0=$(date +%s)
	nfw_bench_cmd stall $n >/dev/null
	want=$n
	[ $want -gt 1024 ] && want=1024
	wait_for '[ "$(nfw_stat in_flight)" -ge '$want' ]' 120 0.5 ||
		nfwb_log "N=$n: only $(nfw_stat in_flight) tracked after 120 s"
	sleep 2
	nfwb "foot.n$n.in_flight" "$(nfw_stat in_flight)"
	nfwb "foot.n$n.slots_in_use" "$(nfw_stat slots_in_use)"
	nfwb "foot.n$n.overflow" "$(nfw_stat overflow)"
	nfwb "foot.n$n.module_size" "$(module_size nofail_watchdog)"
	nfwb "foot.n$n.slab_kb_delta" $(( $(meminfo_kb Slab) - slab0 ))
	nfwb "foot.n$n.kstack_kb_delta" $(( $(meminfo_kb KernelStack) - ks0 ))
	nfwb "foot.n$n.used_kb_delta" $(( $(used_kb) - u0 ))
	nfw_bench_cmd unstall >/dev/null
	nfw_wait_settled
	nfwb_log "N=$n done in $(( $(date +%s) - t0 )) s"
done
nfw_rmmod nfw_bench
nfw_rmmod nofail_watchdog
echo "# footprint: done"
