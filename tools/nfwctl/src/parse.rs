//! Parsers of the module's sysfs files (`stats`, `stalls`, `events`,
//! `histogram`) and the knob rules shared with the module.

use nfw_logic::logic::knobs::{self, Knob, KnobKind, ParseError};
use serde::Serialize;
use std::fmt;

/// The `stats` file: `key value` lines, in the module's order.
pub fn stats(text: &str) -> Result<Vec<(String, u64)>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut it = l.split_whitespace();
            match (it.next(), it.next(), it.next()) {
                (Some(k), Some(v), None) => v
                    .parse::<u64>()
                    .map(|v| (k.to_string(), v))
                    .map_err(|_| format!("stats: bad value in line {l:?}")),
                _ => Err(format!("stats: bad line {l:?}")),
            }
        })
        .collect()
}

/// One line of the `stalls` file: an allocation stuck right now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stall {
    pub pid: i32,
    pub comm: String,
    pub kind: String,
    pub nofs: bool,
    pub order: u32,
    pub ms: u64,
    pub retries: u64,
    pub sleeps: u64,
    pub start_ns: u64,
    pub first_report_ns: u64,
    pub gfp: String,
}

fn num<T: std::str::FromStr>(what: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("bad {what} {v:?}"))
}

/// The `stalls` file: a header line, then one line per tracked allocation.
pub fn stalls(text: &str) -> Result<Vec<Stall>, String> {
    let mut lines = text.lines();
    match lines.next() {
        Some(h) if h.starts_with("pid comm kind") => {}
        other => return Err(format!("stalls: unexpected header {other:?}")),
    }
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() != 11 {
                return Err(format!("stalls: bad line {l:?}"));
            }
            Ok(Stall {
                pid: num("pid", f[0])?,
                comm: f[1].to_string(),
                kind: f[2].to_string(),
                nofs: f[3] == "1",
                order: num("order", f[4])?,
                ms: num("ms", f[5])?,
                retries: num("retries", f[6])?,
                sleeps: num("sleeps", f[7])?,
                start_ns: num("start_ns", f[8])?,
                first_report_ns: num("first_report_ns", f[9])?,
                gfp: f[10].to_string(),
            })
        })
        .collect()
}

/// One event of the `events` file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    pub seq: u64,
    pub time_ns: u64,
    pub event: String,
    pub pid: i32,
    pub comm: String,
    pub order: u32,
    pub ms: u64,
    pub gfp: String,
}

/// The `events` file: the newest sequence number and the events shown.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Events {
    pub seq: u64,
    pub events: Vec<Event>,
}

/// Parses the `events` file: `seq N`, a header, then the newest events.
pub fn events(text: &str) -> Result<Events, String> {
    let mut lines = text.lines();
    let seq = match lines.next().and_then(|l| l.strip_prefix("seq ")) {
        Some(n) => num("seq", n.trim())?,
        None => return Err("events: no 'seq N' line".into()),
    };
    match lines.next() {
        Some(h) if h.starts_with("seq time_ns event") => {}
        other => return Err(format!("events: unexpected header {other:?}")),
    }
    let events = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() != 8 {
                return Err(format!("events: bad line {l:?}"));
            }
            Ok(Event {
                seq: num("seq", f[0])?,
                time_ns: num("time_ns", f[1])?,
                event: f[2].to_string(),
                pid: num("pid", f[3])?,
                comm: f[4].to_string(),
                order: num("order", f[5])?,
                ms: num("ms", f[6])?,
                gfp: f[7].to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Events { seq, events })
}

/// What a new read of `events` brings after having seen up to `last`: the
/// new events, and how many new ones are no longer in the file (lost
/// because more happened between two reads than the file shows).
pub fn new_events(last: u64, now: &Events) -> (Vec<Event>, u64) {
    let fresh: Vec<Event> = now
        .events
        .iter()
        .filter(|e| e.seq > last)
        .cloned()
        .collect();
    let expected = now.seq.saturating_sub(last);
    let lost = expected.saturating_sub(fresh.len() as u64);
    (fresh, lost)
}

/// One line of the `histogram` file: `[low, high]` µs and its count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub low_us: u64,
    pub high_us: u64,
    pub count: u64,
}

/// Parses the bcc-style `histogram` file.
pub fn histogram(text: &str) -> Result<Vec<Bucket>, String> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let bad = || format!("histogram: bad line {l:?}");
            let (range, rest) = l.split_once(':').ok_or_else(bad)?;
            let (low, high) = range.split_once("->").ok_or_else(bad)?;
            let count = rest.split('|').next().ok_or_else(bad)?;
            Ok(Bucket {
                low_us: low.trim().parse().map_err(|_| bad())?,
                high_us: high.trim().parse().map_err(|_| bad())?,
                count: count.trim().parse().map_err(|_| bad())?,
            })
        })
        .collect()
}

/// Why `nfwctl set` refuses a value, with the module's rules spelled out.
#[derive(Debug, PartialEq, Eq)]
pub enum SetError {
    UnknownKnob(String),
    BadValue {
        knob: &'static str,
        value: String,
        why: &'static str,
        expected: String,
    },
}

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::UnknownKnob(k) => {
                let names: Vec<&str> = knobs::ALL.iter().map(|k| k.name()).collect();
                write!(f, "unknown knob {k:?}; knobs: {}", names.join(", "))
            }
            SetError::BadValue {
                knob,
                value,
                why,
                expected,
            } => write!(
                f,
                "invalid value {value:?} for {knob}: {why}; expected {expected}"
            ),
        }
    }
}

/// What a knob accepts, in words.
pub fn expected(kind: &KnobKind) -> String {
    match *kind {
        KnobKind::Bool => "a boolean: 0, 1, n, y, N, Y, off or on".into(),
        KnobKind::Number { min, max } => format!("a decimal number in {min}..={max}"),
        KnobKind::Words(w) => format!("one of: {}", w.join(", ")),
    }
}

/// The type column of `nfwctl status`.
pub fn kind_name(kind: &KnobKind) -> String {
    match *kind {
        KnobKind::Bool => "bool".into(),
        KnobKind::Number { min, max } => format!("{min}..{max}"),
        KnobKind::Words(w) => w.join("|"),
    }
}

/// Validates `value` for the knob named `name` with the module's parser;
/// returns the knob and the stored value.
pub fn validate(name: &str, value: &str) -> Result<(Knob, u32), SetError> {
    let knob =
        knobs::parse_by_name(name.as_bytes()).ok_or_else(|| SetError::UnknownKnob(name.into()))?;
    let desc = knob.desc();
    knobs::parse(&desc.kind, value.as_bytes())
        .map(|v| (knob, v))
        .map_err(|e| SetError::BadValue {
            knob: desc.name,
            value: value.into(),
            why: match e {
                ParseError::Empty => "empty",
                ParseError::Invalid => "not a valid value",
                ParseError::OutOfRange => "out of range",
                ParseError::TooLong => "too long",
            },
            expected: expected(&desc.kind),
        })
}

/// The default of a knob, formatted as the module shows it.
pub fn default_text(knob: Knob) -> String {
    let mut s = String::new();
    let d = knob.desc();
    let _ = knobs::format(&d.kind, d.default, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATS: &str = "stalls_detected 3\nstalls_active 0\nevents 9\n";
    const STALLS: &str = "pid comm kind nofs order ms retries sleeps start_ns first_report_ns gfp\n\
        126 nfw_stall/0 nofail 1 0 1456 800 12 2042000000 3498174115 GFP_NOFS|GFP_DMA|__GFP_NOFAIL\n";
    const EVENTS: &str = "seq 9\nseq time_ns event pid comm order ms gfp\n\
        8 6029922568 end 127 nfw_stall/1 0 3981 GFP_NOFS|__GFP_NOFAIL\n\
        9 6037584871 oom 128 nfw_stall/2 0 3985 GFP_NOFS|__GFP_NOFAIL\n";
    const HIST: &str = "     usecs               : count     distribution\n\
        \x20        0 -> 1          : 4        |****                                    |\n\
        \x20        2 -> 3          : 40       |****************************************|\n";

    #[test]
    fn parses_stats() {
        let s = stats(STATS).unwrap();
        assert_eq!(s[0], ("stalls_detected".into(), 3));
        assert_eq!(s.len(), 3);
        assert!(stats("a b c\n").is_err());
        assert!(stats("a -1\n").is_err());
    }

    #[test]
    fn parses_stalls() {
        let s = stalls(STALLS).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].pid, 126);
        assert!(s[0].nofs);
        assert_eq!(s[0].gfp, "GFP_NOFS|GFP_DMA|__GFP_NOFAIL");
        assert!(stalls("").is_err());
        assert!(stalls("pid comm kind\n1 2\n").is_err());
        assert_eq!(stalls("pid comm kind nofs\n").unwrap(), vec![]);
    }

    #[test]
    fn parses_events_and_finds_new_ones() {
        let e = events(EVENTS).unwrap();
        assert_eq!(e.seq, 9);
        assert_eq!(e.events.len(), 2);
        assert_eq!(e.events[1].event, "oom");
        assert_eq!(new_events(8, &e), (vec![e.events[1].clone()], 0));
        assert_eq!(new_events(9, &e), (vec![], 0));
        // Seen up to 5: 6 and 7 are no longer shown.
        let (fresh, lost) = new_events(5, &e);
        assert_eq!((fresh.len(), lost), (2, 2));
        let empty = events("seq 0\nseq time_ns event pid comm order ms gfp\n").unwrap();
        assert_eq!(empty, Events::default());
        assert!(events("seq x\n").is_err());
        assert!(events("nonsense\n").is_err());
        assert!(events("seq 1\nseq time_ns event pid comm order ms gfp\n1 2 3\n").is_err());
    }

    #[test]
    fn parses_histogram() {
        let h = histogram(HIST).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(
            h[1],
            Bucket {
                low_us: 2,
                high_us: 3,
                count: 40
            }
        );
        assert_eq!(histogram("     usecs : count\n").unwrap(), vec![]);
        assert!(histogram("h\n1 -> x : 3 |\n").is_err());
    }

    #[test]
    fn validates_like_the_module() {
        assert_eq!(validate("stall_warn_ms", "5000").unwrap().1, 5000);
        assert_eq!(validate("stall_warn_ms", "5000\n").unwrap().1, 5000);
        assert_eq!(validate("scope", "all").unwrap().1, 2);
        assert_eq!(validate("enabled", "off").unwrap().1, 0);
        for (k, v) in [
            ("stall_warn_ms", "0"),
            ("stall_warn_ms", "3600001"),
            ("stall_warn_ms", "-1"),
            ("stall_warn_ms", " 5"),
            ("stall_warn_ms", "0x10"),
            ("stall_warn_ms", ""),
            ("scope", "ALL"),
            ("enabled", "2"),
            ("oom_interval_ms", "99"),
        ] {
            assert!(validate(k, v).is_err(), "{k}={v:?} accepted");
        }
        let e = validate("stall_warn_ms", "0").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid value \"0\" for stall_warn_ms: out of range; expected a decimal number in 1..=3600000"
        );
        let e = validate("backoff", "linear").unwrap_err().to_string();
        assert!(e.contains("one of: off, fixed, exp"), "{e}");
        let e = validate("stall_warn", "1").unwrap_err().to_string();
        assert!(
            e.starts_with("unknown knob \"stall_warn\"; knobs: enabled, "),
            "{e}"
        );
        let long = "1".repeat(65);
        assert!(validate("stall_warn_ms", &long)
            .unwrap_err()
            .to_string()
            .contains("too long"));
    }

    #[test]
    fn defaults_as_the_module_shows_them() {
        assert_eq!(default_text(Knob::Scope), "nofs");
        assert_eq!(default_text(Knob::StallWarnMs), "10000");
        assert_eq!(default_text(Knob::Enabled), "1");
    }
}
