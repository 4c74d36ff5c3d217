#!/usr/bin/env bash
# Install everything the project needs, idempotently.  Debian bookworm, root.
set -euo pipefail

PKGS=(
  build-essential gcc-12 flex bison bc cpio kmod libelf-dev libssl-dev zstd xz-utils
  clang-19 lld-19 llvm-19 libclang-19-dev
  rustc-web rust-web-src rust-web-clippy rustfmt-web
  qemu-system-x86 xfsprogs e2fsprogs btrfs-progs busybox-static stress-ng earlyoom fio
  linux-source-6.12 python3 jq rsync dkms
  prometheus  # promtool: tests/packaging.sh checks the alerting rules
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bindgen-cli: the kernel's Rust build needs it on PATH.
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v bindgen >/dev/null 2>&1; then
  command -v cargo >/dev/null 2>&1 || { echo "setup: cargo not found (needed to install bindgen-cli)" >&2; exit 1; }
  echo "setup: installing bindgen-cli" >&2
  cargo install --locked --quiet bindgen-cli --version 0.73.2 2>/dev/null || cargo install --locked --quiet bindgen-cli
fi
echo "setup: ok" >&2
