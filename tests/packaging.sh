#!/usr/bin/env bash
# Host-side packaging checks: the module installs like every out-of-tree
# module, builds under DKMS, and modinfo documents every parameter.
#
# Usage: tests/packaging.sh [--kernel NAME] [--list] [CHECK...]
#   --list     print the check names, one a line
#   CHECK...   run these checks (default: all)
# Exit status: 0 if all checks passed, 1 otherwise.  tests/run-tests runs
# each check as one TAP test.  Everything is written below a temporary
# directory; nothing is installed on the host.
#
#   packaging-modinfo   every knob of rust/logic/knobs.rs is a parameter with
#                       a description that states its default, and a type
#   packaging-install   make install INSTALL_MOD_PATH=$tmp: the module under
#                       lib/modules/<release>/updates/ (identical to the
#                       build), in modules.dep, found by modinfo -b and
#                       modprobe -n -d; nfwctl under $tmp/usr/bin and runnable
#   packaging-dkms      dkms add + dkms build (--dkmstree/--sourcetree in the
#                       temporary directory) of a copy of the sources against
#                       the cached test kernel tree (--kernelsourcedir): the
#                       module DKMS built has the tree's vermagic, the same
#                       parameters as the project build, and loads, works
#                       and unloads in a guest
#   packaging-symbols   every symbol the built module needs from the kernel is
#                       one the kernel exports to modules (its Module.symvers),
#                       and nothing in it names a kernel-internal lookup
#                       (kallsyms_lookup_name, kallsyms_on_each_symbol) or an
#                       ftrace IP-modifying hook: what holds on IBT and kCFI
#                       kernels, which QEMU cannot enforce
#   packaging-kdir      make module KDIR=<tree> installs nothing (no make
#                       setup, no apt-get), builds with the tree's own
#                       toolchain, and names a missing tool and fails
#   packaging-systemd   make install-units: the units where systemd looks
#                       (PREFIX=/usr/local and /usr), pointing at the installed
#                       nfwctl; systemd-analyze verify finds no error and
#                       prints no warning; each unit's ExecStart, run against
#                       a fake sysfs, does its job (a journal entry with
#                       NOFAIL_EVENT= on a stand-in journald socket; the
#                       textfile, written whole and accepted by promtool)
#   packaging-prometheus  the alerting rules pass promtool check rules and
#                       their unit tests (promtool test rules), every alert
#                       is tested firing, every nofail_watchdog_* metric they
#                       use is one nfwctl metrics prints, and nfwctl's output
#                       passes promtool check metrics
#   packaging-boot      make install-boot / install BOOT=1 and DKMS's
#                       POST_INSTALL (NFW_BOOT=1 only) install the
#                       modules-load.d and modprobe.d files, never over an
#                       existing one; kmod reads every option line of them
# These three need no kernel build and no guest.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KERNEL=default
CHECKS=(packaging-modinfo packaging-install packaging-dkms packaging-symbols packaging-kdir
	packaging-systemd packaging-prometheus packaging-boot)
CARGO=${CARGO:-$HOME/.cargo/bin/cargo}
UNITS=(nofail-watchdog-events.service nofail-watchdog-metrics.service nofail-watchdog-metrics.timer)
MODINFO=/usr/sbin/modinfo
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")

fail() { echo "FAIL: $*"; return 1; }

kdir() { bash "$TOP/scripts/build-kernel.sh" "$KERNEL" 2>/dev/null; }
release() { cat "$(kdir)/include/config/kernel.release"; }
knob_names() { sed -n 's/^ *name: "\([a-z_]*\)",$/\1/p' "$TOP/rust/logic/knobs.rs"; }

check_modinfo() { # KO
	local ko=$1 n=0 k line
	for k in $(knob_names); do
		n=$((n + 1))
		line=$("$MODINFO" -F parm "$ko" | grep "^$k:") || fail "modinfo lists no parameter $k" || return 1
		echo "$line" | grep -qE "^$k:.{10,}default [a-z0-9]+\)? \((uint|bool|charp)\)$" ||
			fail "parameter $k: description without default or type: $line" || return 1
	done
	[ "$n" -ge 12 ] || fail "only $n knobs found in rust/logic/knobs.rs" || return 1
	[ "$("$MODINFO" -F parm "$ko" | wc -l)" -eq "$n" ] || fail "modinfo lists other parameters" || return 1
	"$MODINFO" -F license "$ko" | grep -qx GPL || fail "license" || return 1
	"$MODINFO" -F vermagic "$ko" | grep -q "^$(release) " || fail "vermagic $("$MODINFO" -F vermagic "$ko")"
}

check_packaging-modinfo() {
	bash "$TOP/scripts/build-module.sh" --kernel "$KERNEL" || return 1
	"$MODINFO" "$TOP/build/$KERNEL/nofail_watchdog.ko"
	check_modinfo "$TOP/build/$KERNEL/nofail_watchdog.ko"
}

check_packaging-symbols() {
	local ko=$TOP/build/$KERNEL/nofail_watchdog.ko symvers undef n=0 missing=0 s
	bash "$TOP/scripts/build-module.sh" --kernel "$KERNEL" || return 1
	[ -f "$ko" ] || fail "$ko not built" || return 1
	symvers=$(kdir)/Module.symvers
	[ -s "$symvers" ] || fail "no $symvers" || return 1
	undef=$(nm -u "$ko" | awk '{ print $2 }' | sort -u)
	for s in $undef; do
		n=$((n + 1))
		# Module.symvers: CRC, symbol, module, export type, namespace.
		awk -v s="$s" '$2 == s { f = 1 } END { exit !f }' "$symvers" && continue
		echo "not exported by the kernel: $s"
		missing=$((missing + 1))
	done
	[ "$n" -gt 0 ] || fail "nm found no undefined symbol in $ko" || return 1
	[ "$missing" -eq 0 ] || fail "$missing of $n undefined symbols are not exported" || return 1
	for s in kallsyms_lookup_name kallsyms_on_each_symbol ftrace_set_filter_ip \
		register_ftrace_function FTRACE_OPS_FL_IPMODIFY oom_victims oom_lock; do
		# grep without -q: under pipefail, -q's early exit left strings
		# with SIGPIPE, and the failed pipe, negated, passed the check.
		! strings -a "$ko" | grep -w "$s" >/dev/null || fail "the module names $s" || return 1
	done
	echo "all $n undefined symbols of the module are exported by the kernel"
}

check_packaging-install() {
	local root rel ko
	root=$TMP/root
	rel=$(release)
	make -s -C "$TOP" install KERNEL="$KERNEL" INSTALL_MOD_PATH="$root" PREFIX=/usr || fail "make install" || return 1
	find "$root" -type f | sort
	ko=$root/lib/modules/$rel/updates/nofail_watchdog.ko
	[ -f "$ko" ] || fail "$ko not installed" || return 1
	cmp "$ko" "$TOP/build/$KERNEL/nofail_watchdog.ko" || fail "installed module differs from the build" || return 1
	grep -qx "updates/nofail_watchdog.ko:" "$root/lib/modules/$rel/modules.dep" || fail "not in modules.dep" || return 1
	"$MODINFO" -b "$root" -k "$rel" -n nofail_watchdog | grep -qx "$ko" || fail "modinfo -b does not find it" || return 1
	/usr/sbin/modprobe -n -v -d "$root" -S "$rel" nofail_watchdog | grep -q "insmod $ko" ||
		fail "modprobe -n does not resolve it" || return 1
	check_modinfo "$ko" || return 1
	"$root/usr/bin/nfwctl" --version | grep -q "^nfwctl " || fail "installed nfwctl does not run"
}

check_packaging-kdir() {
	local kd out
	kd=$(kdir)
	# What make would run: no setup (which apt-installs QEMU and more).
	out=$(make -n -C "$TOP" module KDIR="$kd" 2>&1) || fail "make -n module KDIR=" || return 1
	! grep -q 'setup.sh' <<<"$out" || fail "make module KDIR= runs make setup: $out" || return 1
	make -C "$TOP" -s module KDIR="$kd" NFW_BUILD="$TMP/build" >"$TMP/kdir.log" 2>&1 ||
		{ cat "$TMP/kdir.log"; fail "make module KDIR=$kd"; return 1; }
	! grep -q '^setup:' "$TMP/kdir.log" || fail "setup ran" || return 1
	[ -f "$TMP/build/custom/nofail_watchdog.ko" ] || fail "no build/custom/nofail_watchdog.ko" || return 1
	check_modinfo "$TMP/build/custom/nofail_watchdog.ko" || return 1
	# A missing tool is named, and nothing is built.
	if BINDGEN=/nonexistent/bindgen make -C "$TOP" -s module KDIR="$kd" NFW_BUILD="$TMP/build2" >"$TMP/kdir2.log" 2>&1; then
		fail "make module KDIR= succeeded without bindgen" || return 1
	fi
	grep -q 'bindgen not found' "$TMP/kdir2.log" || { cat "$TMP/kdir2.log"; fail "no message naming bindgen"; return 1; }
	[ ! -e "$TMP/build2/custom/nofail_watchdog.ko" ] || fail "a module was built anyway" || return 1
}

# nfwctl, built as make tools builds it (host cargo, no kernel).
nfwctl() {
	"$CARGO" build --quiet --release --manifest-path "$TOP/tools/nfwctl/Cargo.toml" >&2 || return 1
	echo "$TOP/tools/nfwctl/target/release/nfwctl"
}

# A stand-in for /sys/kernel/nofail_watchdog: every knob at its default
# (tools/boot/modprobe.d), every stat the module prints (rust/sysfs.rs and
# rust/events.rs, each 1), one event, an empty histogram and stalls file.
fake_sysfs() { # DIR
	local d=$1 k v
	mkdir -p "$d"
	while read -r k v; do echo "$v" >"$d/$k"; done < <(sed -n 's/^#options nofail_watchdog \(.*\)=\(.*\)/\1 \2/p' \
		"$TOP/tools/boot/modprobe.d/nofail_watchdog.conf")
	awk '/^[a-z()]* *fn show_stats\(/ { f = 1 } f && /^}/ { f = 0 }
		f && match($0, /writeln!\(w, "[a-z_]+ \{/) { s = substr($0, RSTART + 13, RLENGTH - 15); print s, 1 }' \
		"$TOP/rust/sysfs.rs" "$TOP/rust/events.rs" >"$d/stats"
	grep -q '^oom_triggers 1$' "$d/stats" && grep -q '^uevents_sent 1$' "$d/stats" ||
		fail "no stats found in rust/sysfs.rs, rust/events.rs" || return 1
	echo '     usecs               : count     distribution' >"$d/histogram"
	echo 'pid comm kind nofs order ms retries sleeps start_ns first_report_ns gfp' >"$d/stalls"
	printf 'seq 1\nseq time_ns event pid comm order ms gfp\n1 10 stall 5 kworker/0:1 0 10000 GFP_NOFS|__GFP_NOFAIL\n' >"$d/events"
}

# promtool check metrics: the text parses and passes the linter.
check_metrics() { # FILE
	local out
	out=$(promtool check metrics <"$1" 2>&1) || { echo "$out"; fail "promtool check metrics"; return 1; }
}

check_packaging-systemd() {
	command -v systemd-analyze >/dev/null || fail "systemd-analyze not found" || return 1
	local bin root u unitdir out cmd argv sock
	bin=$(nfwctl) || fail "building nfwctl" || return 1
	# Where make install puts them: a directory of systemd's unit path.
	for p in /usr /usr/local; do
		root=$TMP/root$p
		make -s -C "$TOP" install-units INSTALL_MOD_PATH="$root" PREFIX="$p" >/dev/null || fail "make install-units PREFIX=$p" || return 1
		grep -qx "$p/lib/systemd/system" <<<"$(systemd-analyze unit-paths)" ||
			fail "$p/lib/systemd/system is not in systemd's unit path" || return 1
		for u in "${UNITS[@]}"; do
			[ -f "$root$p/lib/systemd/system/$u" ] || fail "PREFIX=$p: no $p/lib/systemd/system/$u" || return 1
			! grep -n '@[A-Z]*@' "$root$p/lib/systemd/system/$u" || fail "$u: placeholder left" || return 1
		done
		for u in nofail-watchdog-events.service nofail-watchdog-metrics.service; do
			grep -q "^ExecStart=$p/bin/nfwctl " "$root$p/lib/systemd/system/$u" ||
				fail "PREFIX=$p: $u does not run $p/bin/nfwctl" || return 1
		done
		[ -f "$root$p/share/doc/nofail-watchdog/admin-guide.md" ] || fail "no admin guide installed" || return 1
		[ -f "$root$p/share/nofail-watchdog/prometheus/nofail-watchdog.rules.yml" ] || fail "no rules installed" || return 1
	done
	# Installed for real below a prefix, with nfwctl, so that verify also
	# checks ExecStart= and Documentation= against existing files.
	make -s -C "$TOP" install-units PREFIX="$TMP/prefix" >/dev/null || fail "make install-units PREFIX=$TMP/prefix" || return 1
	install -D -m 755 "$bin" "$TMP/prefix/bin/nfwctl"
	unitdir=$TMP/prefix/lib/systemd/system
	out=$(cd "$TMP" && systemd-analyze verify "${UNITS[@]/#/$unitdir/}" 2>&1)
	rc=$?
	echo "systemd-analyze verify: exit $rc${out:+, said:}"
	[ -z "$out" ] || echo "$out"
	[ "$rc" -eq 0 ] && [ -z "$out" ] || fail "systemd-analyze verify" || return 1
	# Each ExecStart= does its job, as systemd would run it.
	fake_sysfs "$TMP/sys" || return 1
	cmd=$(sed -n 's/^ExecStart=//p' "$unitdir/nofail-watchdog-metrics.service")
	cmd=${cmd//'${NFW_TEXTFILE}'/$TMP/textfile/nofail_watchdog.prom}
	read -ra argv <<<"$cmd"
	mkdir -p "$TMP/textfile"
	NFW_SYSFS=$TMP/sys "${argv[@]}" || fail "metrics service: $cmd" || return 1
	[ "$(ls -A "$TMP/textfile")" = nofail_watchdog.prom ] || fail "textfile directory: $(ls -A "$TMP/textfile")" || return 1
	grep -qx 'nofail_watchdog_up 1' "$TMP/textfile/nofail_watchdog.prom" || fail "metrics: not up" || return 1
	if command -v promtool >/dev/null; then
		check_metrics "$TMP/textfile/nofail_watchdog.prom" || return 1
	fi
	NFW_SYSFS=$TMP/nonexistent "${argv[@]}" || fail "metrics service without the module" || return 1
	grep -qx 'nofail_watchdog_up 0' "$TMP/textfile/nofail_watchdog.prom" || fail "metrics: module absent, not up 0" || return 1
	# The events service, its journal being a datagram socket we read.
	sock=$TMP/journal.socket
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
open(sys.argv[1] + ".ready", "w").close(); s.settimeout(20)
sys.stdout.buffer.write(s.recv(65536))' "$sock" >"$TMP/entry" &
	local py=$!
	for _ in $(seq 100); do [ -e "$sock.ready" ] && break; sleep 0.1; done
	cmd=$(sed -n 's/^ExecStart=//p' "$unitdir/nofail-watchdog-events.service")
	read -ra argv <<<"$cmd"
	NFW_SYSFS=$TMP/sys NFW_JOURNAL_SOCKET=$sock "${argv[@]}" --from-start --count 1 >"$TMP/stdout" ||
		{ kill "$py"; fail "events service: $cmd"; return 1; }
	wait "$py" || fail "no journal entry received" || return 1
	cat "$TMP/entry"
	[ ! -s "$TMP/stdout" ] || fail "events service printed instead of logging: $(cat "$TMP/stdout")" || return 1
	for f in NOFAIL_EVENT=stall NOFAIL_PID=5 NOFAIL_COMM=kworker/0:1 'NOFAIL_GFP=GFP_NOFS|__GFP_NOFAIL' PRIORITY=4; do
		grep -qxF "$f" "$TMP/entry" || fail "journal entry without $f" || return 1
	done
}

check_packaging-prometheus() {
	command -v promtool >/dev/null || fail "promtool not installed (make setup: package prometheus)" || return 1
	local dir=$TOP/tools/prometheus bin name untested
	promtool check rules "$dir/nofail-watchdog.rules.yml" || fail "promtool check rules" || return 1
	promtool test rules "$dir/nofail-watchdog.rules.test.yml" || fail "promtool test rules" || return 1
	# Every alert has a test in which it fires.
	untested=$(awk 'FNR == NR { if ($1 == "-" && $2 == "alert:") want[$3] = 1; next }
		$1 == "alertname:" { cur = $2 }
		$1 == "exp_alerts:" && $2 != "[]" { fired[cur] = 1 }
		END { for (a in want) if (!(a in fired)) print a }' "$dir/nofail-watchdog.rules.yml" "$dir/nofail-watchdog.rules.test.yml")
	[ -z "$untested" ] || fail "alerts never tested firing: $untested" || return 1
	# The rules use only metrics nfwctl prints.
	bin=$(nfwctl) || fail "building nfwctl" || return 1
	fake_sysfs "$TMP/sys" || return 1
	"$bin" --sysfs "$TMP/sys" metrics >"$TMP/metrics" || fail "nfwctl metrics" || return 1
	check_metrics "$TMP/metrics" || return 1
	for name in $(grep -v '^ *#' "$dir/nofail-watchdog.rules.yml" | grep -o 'nofail_watchdog_[a-z_]*' | sort -u); do
		grep -q "^$name[{ ]" "$TMP/metrics" || fail "the rules use $name, which nfwctl metrics does not print" || return 1
		echo "rules use $name: printed by nfwctl metrics"
	done
}

check_packaging-boot() {
	local root=$TMP/root f
	make -s -C "$TOP" install-boot INSTALL_MOD_PATH="$root" || fail "make install-boot" || return 1
	for f in modules-load.d/nofail_watchdog.conf modprobe.d/nofail_watchdog.conf; do
		cmp "$root/etc/$f" "$TOP/tools/boot/$f" || fail "$f not installed" || return 1
	done
	[ "$(grep -v '^#' "$root/etc/modules-load.d/nofail_watchdog.conf")" = nofail_watchdog ] ||
		fail "modules-load.d entry does not name the module" || return 1
	# The administrator's options survive a second install.
	echo 'options nofail_watchdog oom_after_ms=60000' >"$root/etc/modprobe.d/nofail_watchdog.conf"
	grep -q 'modprobe.d/nofail_watchdog.conf exists, left alone' <<<"$(make -s -C "$TOP" install-boot INSTALL_MOD_PATH="$root")" ||
		fail "no word about the existing file" || return 1
	grep -qx 'options nofail_watchdog oom_after_ms=60000' "$root/etc/modprobe.d/nofail_watchdog.conf" ||
		fail "install-boot overwrote the administrator's options" || return 1
	# Opt-in: make install runs it only with BOOT=1.
	local plain boot
	plain=$(make -n -C "$TOP" install KERNEL="$KERNEL") || fail "make -n install" || return 1
	boot=$(make -n -C "$TOP" install KERNEL="$KERNEL" BOOT=1) || fail "make -n install BOOT=1" || return 1
	if grep -q install-boot.sh <<<"$plain"; then fail "make install runs install-boot"; return 1; fi
	grep -q install-boot.sh <<<"$boot" || fail "make install BOOT=1 skips install-boot" || return 1
	# DKMS: POST_INSTALL, run as dkms runs it (from the source tree), does
	# nothing without NFW_BOOT=1.
	local post
	post=$(sed -n 's/^POST_INSTALL="\(.*\)"$/\1/p' "$TOP/dkms.conf")
	[ -n "$post" ] && [ -x "$TOP/${post%% *}" ] || fail "dkms.conf: no executable POST_INSTALL ($post)" || return 1
	(cd "$TOP" && NFW_BOOT= $post --root "$TMP/dkms0") || fail "POST_INSTALL failed" || return 1
	[ ! -e "$TMP/dkms0" ] || fail "POST_INSTALL installed without NFW_BOOT=1" || return 1
	(cd "$TOP" && NFW_BOOT=1 $post --root "$TMP/dkms1") || fail "POST_INSTALL failed" || return 1
	cmp "$TMP/dkms1/etc/modules-load.d/nofail_watchdog.conf" "$TOP/tools/boot/modules-load.d/nofail_watchdog.conf" ||
		fail "NFW_BOOT=1 POST_INSTALL did not install the modules-load.d entry" || return 1
	# kmod reads every option line once uncommented.
	mkdir -p "$TMP/conf"
	sed 's/^#options /options /' "$TOP/tools/boot/modprobe.d/nofail_watchdog.conf" >"$TMP/conf/nofail_watchdog.conf"
	/usr/sbin/modprobe -C "$TMP/conf" -c >"$TMP/showconfig" || fail "modprobe -c" || return 1
	for k in $(knob_names); do
		grep -q "^options nofail_watchdog $k=" "$TMP/showconfig" || fail "kmod does not see option $k" || return 1
	done
}

check_packaging-dkms() {
	command -v dkms >/dev/null || fail "dkms not installed (make setup)" || return 1
	local src=$TMP/src/nofail-watchdog-$VERSION tree=$TMP/dkms rel kd ko
	rel=$(release)
	kd=$(kdir)
	# What a source package ships: the tracked files (the module only needs
	# Kbuild, rust/, scripts/kbuild-make.sh and dkms.conf).
	mkdir -p "$src" "$tree"
	(cd "$TOP" && git ls-files -co --exclude-standard -- Kbuild Makefile dkms.conf rust scripts tools/boot) |
		rsync -a --files-from=- "$TOP/" "$src/" || fail "copying the sources" || return 1
	local d=(--dkmstree "$tree" --sourcetree "$TMP/src")
	dkms add -m nofail-watchdog -v "$VERSION" "${d[@]}" || fail "dkms add" || return 1
	dkms build -m nofail-watchdog -v "$VERSION" -k "$rel" --kernelsourcedir "$kd" "${d[@]}" ||
		{ cat "$tree/nofail-watchdog/$VERSION/build/make.log" 2>/dev/null; fail "dkms build"; return 1; }
	dkms status -m nofail-watchdog "${d[@]}" | tee "$TMP/status"
	grep -q "nofail-watchdog/$VERSION, $rel, x86_64: built" "$TMP/status" || fail "dkms status" || return 1
	ko=$tree/nofail-watchdog/$VERSION/$rel/x86_64/module/nofail_watchdog.ko
	[ -f "$ko" ] || fail "dkms did not produce $ko" || return 1
	check_modinfo "$ko" || return 1
	diff <("$MODINFO" -F parm "$ko") <("$MODINFO" -F parm "$TOP/build/$KERNEL/nofail_watchdog.ko") ||
		fail "DKMS and project builds differ in parameters" || return 1
	mkdir -p "$TOP/build/logs/tests/$KERNEL"
	"$TOP/qemu/run" --kernel "$KERNEL" --log "$TOP/build/logs/tests/$KERNEL/packaging-dkms.log" \
		--add "$ko" -- sh -c 'insmod /nfw/extra/nofail_watchdog.ko stall_warn_ms=5000 &&
			grep -q "^tracked " /sys/kernel/nofail_watchdog/stats &&
			[ "$(cat /sys/kernel/nofail_watchdog/stall_warn_ms)" = 5000 ] &&
			rmmod nofail_watchdog' || fail "the DKMS-built module does not load and work in a guest"
}

LIST=0
SEL=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) KERNEL=$2; shift 2 ;;
	--list) LIST=1; shift ;;
	*) SEL+=("$1"); shift ;;
	esac
done
if [ "$LIST" = 1 ]; then printf '%s\n' "${CHECKS[@]}"; exit 0; fi
[ ${#SEL[@]} -gt 0 ] || SEL=("${CHECKS[@]}")

rc=0
for c in "${SEL[@]}"; do
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/nfw-pkg.XXXXXX")
	if "check_$c"; then echo "ok $c"; else echo "not ok $c"; rc=1; fi
	rm -rf "$TMP"
done
exit $rc
