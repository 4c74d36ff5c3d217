//! The trace events print kinds with `__print_symbolic` tables written in C
//! (`rust/nfw_trace.h`, values from `rust/helpers.h`); the module stores the
//! Rust enums' values. These tests hold the C tables to the Rust names, so a
//! new or renumbered kind cannot make `trace_pipe` print the wrong word.

use nfw_logic_tests::logic::events::EventKind;
use nfw_logic_tests::logic::gfp::Kind;
use std::fs;
use std::path::Path;

fn rust_file(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../rust")
        .join(name);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The `{ value, "name" }` pairs of the `__print_symbolic` whose first
/// argument is `field`, in order; values as written (a number or a macro).
fn symbolic(header: &str, field: &str) -> Vec<(String, String)> {
    let start = header
        .find(&format!("__print_symbolic({field},"))
        .unwrap_or_else(|| panic!("no __print_symbolic({field}, ...) in nfw_trace.h"));
    let rest = &header[start..];
    let body = &rest[..rest.find("})").expect("unterminated __print_symbolic") + 1];
    body.split('{')
        .skip(1)
        .map(|pair| {
            let pair = pair.split('}').next().unwrap();
            let (v, n) = pair.split_once(',').expect("{ value, \"name\" }");
            let n = n.trim().trim_matches('"');
            (v.trim().to_string(), n.to_string())
        })
        .collect()
}

/// The value of `#define name value` in `text`.
fn define(text: &str, name: &str) -> u32 {
    text.lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("#define") && w.next() == Some(name))
                .then(|| w.next().expect("a value").parse().expect("a number"))
        })
        .unwrap_or_else(|| panic!("no #define {name}"))
}

#[test]
fn uevent_event_names_are_event_kinds() {
    let pairs = symbolic(&rust_file("nfw_trace.h"), "__entry->event");
    let want: Vec<(String, String)> = EventKind::ALL
        .iter()
        .map(|k| ((*k as u32).to_string(), k.as_str().to_string()))
        .collect();
    assert_eq!(pairs, want, "uevent's __print_symbolic against EventKind");
}

#[test]
fn stall_kind_names_are_gfp_kinds() {
    let helpers = rust_file("helpers.h");
    let pairs = symbolic(&rust_file("nfw_trace.h"), "__entry->kind");
    assert_eq!(pairs.len(), 3, "one name per gfp::Kind: {pairs:?}");
    for (macro_name, name) in pairs {
        let v = define(&helpers, &macro_name);
        // rust/sys/trace.rs maps each Kind to its macro by name; the name
        // the table prints must be that Kind's, and the value must decode
        // back to it.
        let k = Kind::from_u32(v);
        assert_eq!(k.as_str(), name, "{macro_name} = {v}");
        assert!(
            macro_name.ends_with(&k.as_str().to_uppercase()),
            "{macro_name} prints {name}"
        );
    }
}
