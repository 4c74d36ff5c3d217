#!/bin/sh
# Knobs: every bad write (non-number, out of range, unknown word, empty, huge,
# signs, spaces) is rejected with EINVAL and changes nothing; good writes
# take effect without reload; a bad insmod parameter makes insmod fail; every
# knob is settable at insmod time; file modes keep writes root-only.
# nfw-timeout: 180
. "$(dirname "$0")/lib.sh"

D=/sys/kernel/nofail_watchdog

# A bad insmod parameter fails the load and leaves nothing behind.
for bad in stall_warn_ms=abc stall_warn_ms=0 scope=some backoff=linear enabled=2 oom_interval_ms=5; do
	insmod "$NFW_MODULE" "$bad" 2>/dev/null && nfw_fail "insmod with $bad succeeded"
	nfw_module_loaded nofail_watchdog && nfw_fail "module loaded after insmod with $bad"
done

nfw_insmod "$NFW_MODULE" stall_warn_ms=1234 warn_interval_ms=4321 max_warnings=7 scope=all \
	panic_on_stall=0 backoff_after_ms=11 backoff=fixed backoff_min_ms=3 backoff_max_ms=33 \
	oom_after_ms=0 oom_interval_ms=777 enabled=1
for kv in stall_warn_ms=1234 warn_interval_ms=4321 max_warnings=7 scope=all panic_on_stall=0 \
	backoff_after_ms=11 backoff=fixed backoff_min_ms=3 backoff_max_ms=33 oom_after_ms=0 \
	oom_interval_ms=777 enabled=1; do
	[ "$(cat $D/${kv%%=*})" = "${kv#*=}" ] || nfw_fail "insmod $kv not applied: $(cat $D/${kv%%=*})"
done

# modinfo lists every parameter with a description.
for k in enabled stall_warn_ms warn_interval_ms max_warnings scope panic_on_stall \
	backoff_after_ms backoff backoff_min_ms backoff_max_ms oom_after_ms oom_interval_ms; do
	modinfo "$NFW_MODULE" 2>/dev/null | grep -q "^parm: *$k:" || nfw_fail "modinfo lacks parameter $k"
done

# write_raw FILE STRING: write exactly STRING (no newline added); an empty
# STRING is written as a lone newline (a zero-byte write never reaches sysfs).
write_raw() {
	if [ -z "$2" ]; then
		echo >"$1" 2>/dev/null
	else
		printf '%s' "$2" >"$1" 2>/dev/null
	fi
}

huge=$(head -c 5000 /dev/zero | tr '\0' 7)
tried=0
for f in stall_warn_ms warn_interval_ms max_warnings backoff_after_ms backoff_min_ms \
	backoff_max_ms oom_after_ms oom_interval_ms enabled panic_on_stall scope backoff; do
	before=$(cat $D/$f)
	for bad in "" " " "abc" "-1" "+5" "1.5" "0x10" "1 " " 1" "1\t" "12abc" "99999999999" \
		"4294967296" "$huge" "1
2" "nofail2" "ALL" "yes please"; do
		tried=$((tried + 1))
		if write_raw "$D/$f" "$bad"; then
			nfw_fail "$f accepted bad value '$(printf '%s' "$bad" | head -c 40)'"
		fi
		[ "$(cat $D/$f)" = "$before" ] || nfw_fail "$f changed to $(cat $D/$f) after a bad write"
	done
done
# Range and word errors specific to each knob.
for kv in stall_warn_ms=0 stall_warn_ms=3600001 warn_interval_ms=0 max_warnings=1000001 \
	backoff_min_ms=0 backoff_max_ms=10001 oom_interval_ms=99 enabled=2 panic_on_stall=5 \
	scope=nofs2 scope=NOFS backoff=linear; do
	before=$(cat $D/${kv%%=*})
	echo "${kv#*=}" >"$D/${kv%%=*}" 2>/dev/null && nfw_fail "${kv%%=*} accepted ${kv#*=}"
	[ "$(cat $D/${kv%%=*})" = "$before" ] || nfw_fail "${kv%%=*} changed after a bad write"
	tried=$((tried + 1))
done
# The error is EINVAL.
err=$(sh -c "echo abc > $D/stall_warn_ms" 2>&1)
echo "$err" | grep -q "Invalid argument" || nfw_fail "bad write error is not EINVAL: $err"

# Good writes take effect at once, with or without a newline.
for kv in stall_warn_ms=1 stall_warn_ms=3600000 warn_interval_ms=86400000 max_warnings=0 \
	scope=nofail scope=nofs scope=all backoff=off backoff=exp enabled=0 enabled=1 \
	oom_after_ms=0 oom_after_ms=86400000 oom_interval_ms=100 backoff_min_ms=10000; do
	echo "${kv#*=}" >"$D/${kv%%=*}" || nfw_fail "good write $kv rejected"
	[ "$(cat $D/${kv%%=*})" = "${kv#*=}" ] || nfw_fail "$kv not applied"
done
write_raw $D/stall_warn_ms 2500 || nfw_fail "write without newline rejected"
[ "$(cat $D/stall_warn_ms)" = 2500 ] || nfw_fail "write without newline not applied"
for b in y Y on 1; do write_raw $D/enabled "$b" || nfw_fail "enabled=$b rejected"; [ "$(cat $D/enabled)" = 1 ] || nfw_fail "enabled=$b"; done
for b in n N off 0; do write_raw $D/enabled "$b" || nfw_fail "enabled=$b rejected"; [ "$(cat $D/enabled)" = 0 ] || nfw_fail "enabled=$b"; done

# Modes: knobs 0644 (root writes), stats/histogram 0444, stalls/recent 0400.
perm() { stat -c %a "$D/$1"; }
for f in enabled stall_warn_ms scope oom_after_ms; do [ "$(perm $f)" = 644 ] || nfw_fail "$f mode $(perm $f)"; done
for f in stats histogram; do [ "$(perm $f)" = 444 ] || nfw_fail "$f mode $(perm $f)"; done
for f in stalls recent; do [ "$(perm $f)" = 400 ] || nfw_fail "$f mode $(perm $f)"; done
echo 1 >$D/stats 2>/dev/null && nfw_fail "stats is writable"

nfw_rmmod nofail_watchdog
nfw_dmesg_mark
nfw_pass "$tried bad writes rejected, good writes applied"
