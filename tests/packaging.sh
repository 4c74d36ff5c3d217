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
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KERNEL=default
CHECKS=(packaging-modinfo packaging-install packaging-dkms packaging-symbols packaging-kdir)
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
		! strings -a "$ko" | grep -qw "$s" || fail "the module names $s" || return 1
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

check_packaging-dkms() {
	command -v dkms >/dev/null || fail "dkms not installed (make setup)" || return 1
	local src=$TMP/src/nofail-watchdog-$VERSION tree=$TMP/dkms rel kd ko
	rel=$(release)
	kd=$(kdir)
	# What a source package ships: the tracked files (the module only needs
	# Kbuild, rust/, scripts/kbuild-make.sh and dkms.conf).
	mkdir -p "$src" "$tree"
	(cd "$TOP" && git ls-files -co --exclude-standard -- Kbuild Makefile dkms.conf rust scripts) |
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
