//! Golden check of `nfw-bench report` (issue 14: the report rebuilt from
//! typed structs must say what it said before).
//!
//! Each `fixtures/bench/<case>/` holds `raw/*.txt`, raw `NFWB`/`NFWS` lines
//! as `scripts/bench.sh` collects them from the guest benchmarks (`full`: all
//! four boots; `short`: detect-recover only, cut short), and the
//! `results.json` and `results.md` that `nfw-bench report` wrote for them.
//! The JSON must carry the same keys, nesting, value types (an integer stays
//! an integer) and values; its layout and key order are free. The table
//! must be the same byte for byte.
//!
//! After an intended change of the report, regenerate a case and review the
//! diff:
//!     d=tests/fixtures/bench/full; target/release/nfw-bench report \
//!         --json $d/results.json --md $d/results.md $d/raw/*.txt

use nfw_tools::bench::{report_texts, Raw};
use serde_json::Value;
use std::fs;
use std::path::Path;

/// The raw files of a case, in the order the shell's `raw/*.txt` gives.
fn raw_of(case: &Path) -> Raw {
    let mut files: Vec<_> = fs::read_dir(case.join("raw"))
        .expect("raw/")
        .map(|e| e.expect("raw/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut raw = Raw::default();
    for f in &files {
        raw.parse(&fs::read_to_string(f).expect("raw file"));
    }
    raw
}

/// The first difference between `got` and `want`, as a path and both values.
fn first_diff(path: &str, got: &Value, want: &Value) -> Option<String> {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for k in w.keys().chain(g.keys()) {
                let p = format!("{path}/{k}");
                match (g.get(k), w.get(k)) {
                    (Some(a), Some(b)) => {
                        if let Some(d) = first_diff(&p, a, b) {
                            return Some(d);
                        }
                    }
                    (a, b) => return Some(format!("{p}: got {a:?}, want {b:?}")),
                }
            }
            None
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => g
            .iter()
            .zip(w)
            .enumerate()
            .find_map(|(i, (a, b))| first_diff(&format!("{path}/{i}"), a, b)),
        // Number equality also compares the kind: 6 and 6.0 differ.
        _ => (got != want).then(|| format!("{path}: got {got}, want {want}")),
    }
}

fn check(case: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bench")
        .join(case);
    let (json, md) = report_texts(&raw_of(&dir));
    let got: Value = serde_json::from_str(&json).expect("the report is JSON");
    let want: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    if let Some(d) = first_diff("", &got, &want) {
        panic!("{case}: results.json differs at {d}");
    }
    let want_md = fs::read_to_string(dir.join("results.md")).unwrap();
    assert!(
        md == want_md,
        "{case}: results.md differs:\n--- got\n{md}\n--- want\n{want_md}"
    );
}

#[test]
fn full_run_report_unchanged() {
    check("full");
}

#[test]
fn short_run_report_unchanged() {
    check("short");
}
