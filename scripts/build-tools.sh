#!/usr/bin/env bash
# Build the guest-side userspace tools (tests/tools, a cargo crate) and nfwctl
# (tools/nfwctl, the module's userspace companion) in release mode and install
# their binaries into build/bin/, which qemu/run puts on the guest's PATH as
# /nfw/bin (with the shared libraries they need).  Idempotent: cargo rebuilds
# only what changed and a binary is copied only when it differs.
#
# usage: build-tools.sh [--test]     (--test: also run the crate's unit tests)
set -euo pipefail
. "$(dirname "$0")/common.sh"

run_tests=
case "${1:-}" in
--test) run_tests=1 ;;
'') ;;
*) nfw_die "build-tools.sh: unknown option $1" ;;
esac

tools=$NFW_TOP/tests/tools
command -v cargo >/dev/null || nfw_die "cargo not found (install rustup's toolchain in \$HOME/.cargo)"
cargo build --quiet --release --manifest-path "$tools/Cargo.toml" --bins
[ -n "$run_tests" ] && cargo test --quiet --manifest-path "$tools/Cargo.toml"
nfwctl=$NFW_TOP/tools/nfwctl
cargo build --quiet --release --manifest-path "$nfwctl/Cargo.toml"
[ -n "$run_tests" ] && cargo test --quiet --manifest-path "$nfwctl/Cargo.toml"

mkdir -p "$NFW_BUILD/bin"
for src in "$tools"/src/bin/*.rs; do
	name=$(basename "$src" .rs)
	bin=$tools/target/release/$name
	[ -x "$bin" ] || nfw_die "cargo did not produce $bin"
	cmp -s "$bin" "$NFW_BUILD/bin/$name" || install -m 755 "$bin" "$NFW_BUILD/bin/$name"
done
[ -x "$nfwctl/target/release/nfwctl" ] || nfw_die "cargo did not produce $nfwctl/target/release/nfwctl"
cmp -s "$nfwctl/target/release/nfwctl" "$NFW_BUILD/bin/nfwctl" ||
	install -m 755 "$nfwctl/target/release/nfwctl" "$NFW_BUILD/bin/nfwctl"
