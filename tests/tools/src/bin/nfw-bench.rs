//! `nfw-bench`: the userspace side of `make bench`.
//!
//! - `nfw-bench fault --mb N [--reps R]` (guest): maps N MiB of fresh
//!   anonymous memory, touches every page once (one page fault and one page
//!   allocation each), unmaps it; R times. Prints
//!   `ns_per_page=<median> min=<fastest> reps=<R>`.
//! - `nfw-bench report [--json OUT] [--md OUT] RAW...` (host): reads the raw
//!   `NFWB`/`NFWS` lines of the guest runs and writes `results.json` and
//!   the markdown table (see `nfw_tools::bench`).

use nfw_tools::bench::{self, Raw};
use nfw_tools::sys::{page_size, AnonMap};
use std::process::exit;
use std::time::Instant;

const USAGE: &str = "usage: nfw-bench fault --mb N [--reps R]\n       nfw-bench report [--json OUT] [--md OUT] RAW...";

fn die(msg: &str) -> ! {
    eprintln!("nfw-bench: {msg}");
    eprintln!("{USAGE}");
    exit(2);
}

/// One pass: map, touch each page, unmap; nanoseconds per page.
fn fault_once(bytes: usize, page: usize) -> f64 {
    let t0 = Instant::now();
    let map = AnonMap::new(bytes).unwrap_or_else(|e| {
        eprintln!("nfw-bench: mmap: {e}");
        exit(1);
    });
    map.touch(page);
    drop(map);
    t0.elapsed().as_nanos() as f64 / (bytes / page) as f64
}

fn fault(args: &[String]) {
    let (mut mb, mut reps) = (0usize, 1usize);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().and_then(|v| v.parse::<usize>().ok());
        match (a.as_str(), v) {
            ("--mb", Some(v)) if v > 0 => mb = v,
            ("--reps", Some(v)) if v > 0 => reps = v,
            _ => die(&format!("bad argument '{a}'")),
        }
    }
    if mb == 0 {
        die("--mb N is required");
    }
    let page = page_size();
    let v: Vec<f64> = (0..reps).map(|_| fault_once(mb << 20, page)).collect();
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "ns_per_page={:.1} min={min:.1} reps={reps}",
        bench::median(&v).unwrap_or(0.0)
    );
}

fn report(args: &[String]) {
    let (mut json_out, mut md_out, mut files) = (None, None, Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json_out = Some(it.next().unwrap_or_else(|| die("--json OUT")).clone()),
            "--md" => md_out = Some(it.next().unwrap_or_else(|| die("--md OUT")).clone()),
            f => files.push(f.to_string()),
        }
    }
    let mut raw = Raw::default();
    for f in &files {
        match std::fs::read_to_string(f) {
            Ok(t) => raw.parse(&t),
            Err(e) => die(&format!("{f}: {e}")),
        }
    }
    let (json, md) = bench::report_texts(&raw);
    match json_out {
        Some(p) => std::fs::write(&p, json).unwrap_or_else(|e| die(&format!("{p}: {e}"))),
        None => print!("{json}"),
    }
    match md_out {
        Some(p) => std::fs::write(&p, &md).unwrap_or_else(|e| die(&format!("{p}: {e}"))),
        None => print!("{md}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("fault") => fault(&args[1..]),
        Some("report") => report(&args[1..]),
        _ => die("expected a command"),
    }
}
