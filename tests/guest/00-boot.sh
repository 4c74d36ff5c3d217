#!/bin/sh
# The guest is sane: /proc and /sys mounted, the flavour's kernel booted
# (the release its tree built) with the harness's command line, and both
# CPUs online.
# nfw-qemu: --smp 2
# nfw-timeout: 120
. "$(dirname "$0")/lib.sh"

grep -q '^proc /proc proc ' /proc/mounts || nfw_fail "/proc is not mounted"
grep -q '^sysfs /sys sysfs ' /proc/mounts || nfw_fail "/sys is not mounted"
[ -r /proc/self/status ] || nfw_fail "/proc/self/status unreadable"
[ -d /sys/kernel ] || nfw_fail "/sys/kernel missing"
grep -q ' /dev devtmpfs ' /proc/mounts || nfw_fail "/dev is not devtmpfs"
grep -q ' /sys/kernel/debug debugfs ' /proc/mounts || nfw_fail "debugfs is not mounted"

rel=$(uname -r)
[ -n "${NFW_KERNEL_RELEASE:-}" ] || nfw_fail "NFW_KERNEL_RELEASE not set by qemu/run"
[ "$rel" = "$NFW_KERNEL_RELEASE" ] ||
	nfw_fail "uname -r is '$rel', expected '$NFW_KERNEL_RELEASE' (flavour $NFW_KERNEL)"
nfw_log "kernel $rel (flavour $NFW_KERNEL)"

cmdline=$(cat /proc/cmdline)
nfw_log "cmdline: $cmdline"
case " $cmdline " in
*" panic_on_warn=1 "*) ;;
*) nfw_fail "kernel command line lacks panic_on_warn=1" ;;
esac
[ "$(cat /proc/sys/kernel/panic_on_warn)" = 1 ] || nfw_fail "kernel.panic_on_warn is not 1"

n=$(nfw_cpus_online)
online=$(cat /sys/devices/system/cpu/online)
nfw_log "$n CPUs online ($online)"
[ "$n" -ge 2 ] || nfw_fail "expected at least 2 CPUs online with --smp 2, got $n ($online)"

[ "$(id -u)" = 0 ] || nfw_fail "not root"
[ "$(pwd)" = /nfw ] || nfw_fail "cwd is $(pwd), expected /nfw"
touch /tmp/nfw-probe || nfw_fail "/tmp is not writable"
nfw_pass
