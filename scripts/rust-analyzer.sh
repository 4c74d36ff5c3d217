#!/usr/bin/env bash
# `make rust-analyzer`: write rust-project.json for the module and the test
# modules. The kernel's own target cannot be used with M=: its generator only
# takes crate roots named in a Makefile/Kbuild of their own directory, while
# ours are listed in the top-level Kbuild. So: the kernel's generator for the
# kernel crates, plus our crate roots, each depending on core and kernel.
set -euo pipefail
. "$(dirname "$0")/common.sh"
kernel=${1:-default}
kdir=$(bash "$NFW_TOP/scripts/build-kernel.sh" "$kernel")
ksrc=$(readlink -f "$kdir/source")
sysroot=$(/usr/bin/rustc --print sysroot)
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
python3 "$ksrc/scripts/generate_rust_analyzer.py" --cfgs='core=--cfg no_fp_fmt_parse' 2021 \
	"$ksrc" "$kdir" "$sysroot" "$(nfw_rust_lib_src)" "$empty" >"$empty/base.json"
python3 - "$empty/base.json" "$NFW_TOP" >"$NFW_TOP/rust-project.json" <<'PY'
import json, sys, pathlib
data = json.load(open(sys.argv[1]))
top = pathlib.Path(sys.argv[2])
crates = data["crates"]
index = {c["display_name"]: i for i, c in enumerate(crates)}
for root in ["rust/nfw_main.rs", "tests/modules/nfw_stallgen_main.rs", "tests/modules/nfw_test_warn_main.rs"]:
    path = top / root
    if not path.exists():
        continue
    crates.append({
        "display_name": path.stem,
        "root_module": str(path),
        "is_workspace_member": True,
        "deps": [{"crate": index[d], "name": d} for d in ("core", "kernel") if d in index],
        "cfg": ["MODULE"],
        "edition": "2021",
        "env": {"RUST_MODFILE": "This is only for rust-analyzer"},
    })
json.dump(data, sys.stdout, sort_keys=True, indent=4)
PY
echo "wrote $NFW_TOP/rust-project.json"
