//! The module reaches the kernel through one layer: every `unsafe` of
//! `rust/` is in `rust/sys.rs` or `rust/sys/`, and the crate root denies
//! `unsafe_code` for everything else (issue 14). This fails on an `unsafe`
//! (block, fn, impl or trait) anywhere else in `rust/`.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rust")
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).expect("read rust/") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Whether `rel` (relative to `rust/`) is in the raw layer.
fn in_sys(rel: &Path) -> bool {
    rel == Path::new("sys.rs") || rel.starts_with("sys")
}

/// The code of a line: without its `//` comment (string literals in the
/// module never hold `//` before an `unsafe`).
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

fn has_unsafe_token(code: &str) -> bool {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == "unsafe")
}

/// The code lines outside the raw layer for which `hit` holds, as
/// `rust/FILE:LINE: text`.
fn outside_sys(hit: impl Fn(&str) -> bool) -> Vec<String> {
    let root = rust_dir();
    let mut files = Vec::new();
    rs_files(&root, &mut files);
    assert!(files.len() > 5, "no sources found under {}", root.display());
    let mut found = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap();
        if in_sys(rel) {
            continue;
        }
        let text = fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            if hit(code(line)) {
                found.push(format!("rust/{}:{}: {}", rel.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn unsafe_only_in_sys() {
    let found = outside_sys(has_unsafe_token);
    assert!(
        found.is_empty(),
        "unsafe outside rust/sys (move it behind a safe type there):\n{}",
        found.join("\n")
    );
}

#[test]
fn crate_root_denies_unsafe_code() {
    let root = fs::read_to_string(rust_dir().join("nfw_main.rs")).unwrap();
    assert!(root.contains("#![deny(unsafe_code)]"));
    // The one exception is the raw layer.
    let allows: Vec<_> = root
        .lines()
        .zip(root.lines().skip(1))
        .filter(|(a, _)| a.contains("allow(unsafe_code)"))
        .map(|(_, b)| b.trim().to_string())
        .collect();
    assert_eq!(allows, vec!["mod sys;".to_string()]);
}

#[test]
fn raw_bindings_only_in_sys() {
    let found = outside_sys(|c| c.contains("bindings"));
    assert!(
        found.is_empty(),
        "raw bindings outside rust/sys:\n{}",
        found.join("\n")
    );
}

#[test]
fn detects_unsafe_tokens() {
    assert!(has_unsafe_token("    let x = unsafe { f() };"));
    assert!(has_unsafe_token("unsafe impl Sync for X {}"));
    assert!(!has_unsafe_token(code("    // SAFETY: not unsafe here")));
    assert!(!has_unsafe_token("let unsafe_count = 1;"));
}
