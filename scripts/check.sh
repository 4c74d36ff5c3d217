#!/usr/bin/env bash
# `make check`: rustfmt and clippy over the module, the test modules and the
# host crates. Any finding (any compiler or clippy warning) fails.
set -uo pipefail
. "$(dirname "$0")/common.sh"
cd "$NFW_TOP"

fail=0
ksrc=$NFW_CACHE/src/linux-$(nfw_kernel_version)
rustfmt_cfg=()
[ -f "$ksrc/.rustfmt.toml" ] && rustfmt_cfg=(--config-path "$ksrc/.rustfmt.toml")

echo "check: rustfmt (module and test modules)"
mapfile -t roots < <(ls rust/nfw_main.rs tests/modules/*.rs 2>/dev/null)
if ! /usr/bin/rustfmt --check --edition 2021 "${rustfmt_cfg[@]}" "${roots[@]}"; then
	fail=1
fi

echo "check: clippy (module and test modules, CLIPPY=1)"
log=$(mktemp)
if ! bash scripts/build-module.sh "$@" --tests --clippy >"$log" 2>&1; then
	cat "$log"; fail=1
elif grep -qE '(^|: )(warning|error)' "$log"; then
	cat "$log"; fail=1
fi
rm -f "$log"

for crate in tests/host tests/tools tools/nfwctl; do
	[ -f "$crate/Cargo.toml" ] || continue
	echo "check: cargo fmt + clippy ($crate)"
	(cd "$crate" && cargo fmt --check) || fail=1
	(cd "$crate" && cargo clippy -q --all-targets -- -D warnings) || fail=1
done

if [ "$fail" = 0 ]; then echo "check: clean"; else echo "check: FAILED"; fi
exit "$fail"
