//! Tests of `logic::knobs`: descriptions, strict parsing, formatting.

use core::fmt::{self, Write};
use nfw_logic_tests::logic::knobs::{self, Knob, KnobKind, ParseError};

const NUM_0_100: KnobKind = KnobKind::Number { min: 0, max: 100 };
const NUM_FULL: KnobKind = KnobKind::Number {
    min: 0,
    max: u32::MAX,
};
const WORDS: KnobKind = KnobKind::Words(&["nofail", "nofs", "all"]);

fn fmt_value(kind: &KnobKind, value: u32) -> String {
    let mut out = String::new();
    knobs::format(kind, value, &mut out).expect("format");
    out
}

#[test]
fn table_order_and_count() {
    assert_eq!(knobs::COUNT, 12);
    assert_eq!(knobs::ALL.len(), knobs::COUNT);
    for (i, k) in knobs::ALL.iter().enumerate() {
        assert_eq!(*k as usize, i, "{k:?}");
    }
    let names: Vec<&str> = knobs::ALL.iter().map(|k| k.desc().name).collect();
    assert_eq!(
        names,
        [
            "enabled",
            "stall_warn_ms",
            "warn_interval_ms",
            "max_warnings",
            "scope",
            "panic_on_stall",
            "backoff_after_ms",
            "backoff",
            "backoff_min_ms",
            "backoff_max_ms",
            "oom_after_ms",
            "oom_interval_ms",
        ]
    );
    for k in knobs::ALL {
        assert_eq!(k.name(), k.desc().name);
    }
}

#[test]
fn kinds_and_defaults() {
    use KnobKind::*;
    let expect: [(Knob, KnobKind, u32); knobs::COUNT] = [
        (Knob::Enabled, Bool, 1),
        (
            Knob::StallWarnMs,
            Number {
                min: 1,
                max: 3_600_000,
            },
            10_000,
        ),
        (
            Knob::WarnIntervalMs,
            Number {
                min: 1,
                max: 86_400_000,
            },
            30_000,
        ),
        (
            Knob::MaxWarnings,
            Number {
                min: 0,
                max: 1_000_000,
            },
            10,
        ),
        (Knob::Scope, Words(&["nofail", "nofs", "all"]), 1),
        (Knob::PanicOnStall, Bool, 0),
        (
            Knob::BackoffAfterMs,
            Number {
                min: 0,
                max: 3_600_000,
            },
            1_000,
        ),
        (Knob::Backoff, Words(&["off", "fixed", "exp"]), 2),
        (
            Knob::BackoffMinMs,
            Number {
                min: 1,
                max: 10_000,
            },
            1,
        ),
        (
            Knob::BackoffMaxMs,
            Number {
                min: 1,
                max: 10_000,
            },
            100,
        ),
        (
            Knob::OomAfterMs,
            Number {
                min: 0,
                max: 86_400_000,
            },
            30_000,
        ),
        (
            Knob::OomIntervalMs,
            Number {
                min: 100,
                max: 3_600_000,
            },
            5_000,
        ),
    ];
    for (k, kind, default) in expect {
        let d = k.desc();
        assert_eq!(d.kind, kind, "{}", d.name);
        assert_eq!(d.default, default, "{}", d.name);
    }
    let defaults = knobs::defaults();
    for k in knobs::ALL {
        assert_eq!(defaults[k as usize], k.desc().default);
    }
}

#[test]
fn descriptions_are_sane() {
    let mut seen = std::collections::HashSet::new();
    for k in knobs::ALL {
        let d = k.desc();
        assert!(seen.insert(d.name), "duplicate {}", d.name);
        assert!(!d.name.is_empty());
        assert!(d.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        assert!(!d.help.is_empty());
        assert!(d.help.is_ascii(), "{}", d.name);
        assert!(!d.help.contains('\n'), "{}", d.name);
        assert!(!d.help.contains('"'), "{}", d.name);
        assert!(d.help.contains("default"), "{}", d.name);
        // The default is valid and survives a format/parse round trip.
        let text = fmt_value(&d.kind, d.default);
        assert_eq!(knobs::parse(&d.kind, text.as_bytes()), Ok(d.default));
        assert_eq!(
            knobs::parse(&d.kind, format!("{text}\n").as_bytes()),
            Ok(d.default)
        );
        // Help mentions the default (as a number or a word).
        assert!(d.help.contains(&format!("default {text}")), "{}", d.help);
        match d.kind {
            KnobKind::Number { min, max } => {
                assert!(min <= max);
                assert!((min..=max).contains(&d.default));
                assert!(d.help.contains("ms") || d.name == "max_warnings");
            }
            KnobKind::Bool => assert!(d.default <= 1),
            KnobKind::Words(w) => {
                assert!((d.default as usize) < w.len());
                for word in w {
                    assert!(d.help.contains(word), "{} lacks {word}", d.name);
                }
            }
        }
    }
}

#[test]
fn parse_by_name() {
    for k in knobs::ALL {
        assert_eq!(knobs::parse_by_name(k.name().as_bytes()), Some(k));
    }
    for bad in [
        &b""[..],
        b"Enabled",
        b"enabled\n",
        b" enabled",
        b"enable",
        b"enabledx",
        b"\xff\xfe",
        b"stall-warn-ms",
    ] {
        assert_eq!(knobs::parse_by_name(bad), None, "{bad:?}");
    }
}

#[test]
fn parse_numbers() {
    let ok: &[(&[u8], u32)] = &[
        (b"0", 0),
        (b"7", 7),
        (b"100", 100),
        (b"100\n", 100),
        (b"0100", 100),
        (
            b"000000000000000000000000000000000000000000000000000000000000042",
            42,
        ),
        (b"0\n", 0),
    ];
    for &(input, want) in ok {
        assert_eq!(knobs::parse(&NUM_0_100, input), Ok(want), "{input:?}");
    }
    let invalid: &[&[u8]] = &[
        b" 1",
        b"1 ",
        b"\t1",
        b"1\t",
        b"1\r",
        b"1\r\n",
        b"1\n\n",
        b"\n1",
        b"1\n2",
        b"+1",
        b"-1",
        b"-0",
        b"0x10",
        b"0X10",
        b"1_0",
        b"1e2",
        b"1.0",
        b"1,0",
        b"\0",
        b"1\0",
        b"\x001",
        b"\n\n",
        b" ",
        b"\xff",
        b"1\xff",
        b"\xc2\xa0\x31",
        "\u{661}".as_bytes(),  // ARABIC-INDIC DIGIT ONE
        "\u{ff11}".as_bytes(), // FULLWIDTH DIGIT ONE
        b"ten",
        b"y",
    ];
    for &input in invalid {
        assert_eq!(
            knobs::parse(&NUM_0_100, input),
            Err(ParseError::Invalid),
            "{input:?}"
        );
    }
    assert_eq!(knobs::parse(&NUM_0_100, b""), Err(ParseError::Empty));
    assert_eq!(knobs::parse(&NUM_0_100, b"\n"), Err(ParseError::Empty));
    assert_eq!(
        knobs::parse(&NUM_0_100, b"101"),
        Err(ParseError::OutOfRange)
    );
    assert_eq!(
        knobs::parse(&NUM_0_100, b"101\n"),
        Err(ParseError::OutOfRange)
    );
    assert_eq!(
        knobs::parse(&NUM_0_100, b"4294967296"),
        Err(ParseError::OutOfRange)
    );
}

#[test]
fn parse_number_bounds() {
    let kind = KnobKind::Number {
        min: 100,
        max: 3_600_000,
    };
    assert_eq!(knobs::parse(&kind, b"99"), Err(ParseError::OutOfRange));
    assert_eq!(knobs::parse(&kind, b"0"), Err(ParseError::OutOfRange));
    assert_eq!(knobs::parse(&kind, b"100"), Ok(100));
    assert_eq!(knobs::parse(&kind, b"3600000"), Ok(3_600_000));
    assert_eq!(knobs::parse(&kind, b"3600001"), Err(ParseError::OutOfRange));
    // Equal bounds accept exactly one value.
    let one = KnobKind::Number { min: 5, max: 5 };
    assert_eq!(knobs::parse(&one, b"5"), Ok(5));
    assert_eq!(knobs::parse(&one, b"4"), Err(ParseError::OutOfRange));
    assert_eq!(knobs::parse(&one, b"6"), Err(ParseError::OutOfRange));
    // Inverted bounds accept nothing (and do not panic).
    let none = KnobKind::Number { min: 6, max: 5 };
    for v in 0..20u32 {
        assert_eq!(
            knobs::parse(&none, v.to_string().as_bytes()),
            Err(ParseError::OutOfRange)
        );
    }
}

#[test]
fn parse_u32_overflow() {
    assert_eq!(knobs::parse(&NUM_FULL, b"4294967295"), Ok(u32::MAX));
    assert_eq!(knobs::parse(&NUM_FULL, b"04294967295\n"), Ok(u32::MAX));
    for input in [
        &b"4294967296"[..],
        b"4294967300",
        b"9999999999",
        b"42949672950",
        b"18446744073709551615",
        b"18446744073709551616",
        b"99999999999999999999999999999999999999999999999999999999999999",
    ] {
        assert_eq!(
            knobs::parse(&NUM_FULL, input),
            Err(ParseError::OutOfRange),
            "{input:?}"
        );
    }
    // Overflowing digits followed by garbage: garbage is reported.
    assert_eq!(
        knobs::parse(&NUM_FULL, b"99999999999999999999x"),
        Err(ParseError::Invalid)
    );
}

#[test]
fn parse_length_limit() {
    assert_eq!(knobs::MAX_INPUT, 64);
    let zeros = |n: usize| vec![b'0'; n];
    assert_eq!(knobs::parse(&NUM_0_100, &zeros(64)), Ok(0));
    let mut z63nl = zeros(63);
    z63nl.push(b'\n');
    assert_eq!(knobs::parse(&NUM_0_100, &z63nl), Ok(0));
    assert_eq!(
        knobs::parse(&NUM_0_100, &zeros(65)),
        Err(ParseError::TooLong)
    );
    let mut z64nl = zeros(64);
    z64nl.push(b'\n');
    assert_eq!(knobs::parse(&NUM_0_100, &z64nl), Err(ParseError::TooLong));
    // The length is checked first, whatever the content.
    assert_eq!(
        knobs::parse(&NUM_0_100, &[b' '; 65]),
        Err(ParseError::TooLong)
    );
    assert_eq!(
        knobs::parse(&NUM_0_100, &[0xff; 65]),
        Err(ParseError::TooLong)
    );
    let huge = vec![b'1'; 1 << 20];
    assert_eq!(knobs::parse(&NUM_FULL, &huge), Err(ParseError::TooLong));
    assert_eq!(
        knobs::parse(&KnobKind::Bool, &huge),
        Err(ParseError::TooLong)
    );
    assert_eq!(knobs::parse(&WORDS, &huge), Err(ParseError::TooLong));
}

#[test]
fn parse_bools() {
    let b = KnobKind::Bool;
    for (input, want) in [
        (&b"0"[..], 0),
        (b"1", 1),
        (b"n", 0),
        (b"y", 1),
        (b"N", 0),
        (b"Y", 1),
        (b"off", 0),
        (b"on", 1),
        (b"0\n", 0),
        (b"1\n", 1),
        (b"on\n", 1),
        (b"off\n", 0),
    ] {
        assert_eq!(knobs::parse(&b, input), Ok(want), "{input:?}");
    }
    for input in [
        &b"2"[..],
        b"01",
        b"00",
        b"10",
        b"yes",
        b"no",
        b"true",
        b"false",
        b"ON",
        b"On",
        b"OFF",
        b"Off",
        b"of",
        b"onn",
        b" 1",
        b"1 ",
        b"y\r\n",
        b"y\n\n",
        b"-1",
        b"+1",
        b"\xff",
        b"\0",
    ] {
        assert_eq!(
            knobs::parse(&b, input),
            Err(ParseError::Invalid),
            "{input:?}"
        );
    }
    assert_eq!(knobs::parse(&b, b""), Err(ParseError::Empty));
    assert_eq!(knobs::parse(&b, b"\n"), Err(ParseError::Empty));
}

#[test]
fn parse_words() {
    assert_eq!(knobs::parse(&WORDS, b"nofail"), Ok(0));
    assert_eq!(knobs::parse(&WORDS, b"nofs"), Ok(1));
    assert_eq!(knobs::parse(&WORDS, b"all"), Ok(2));
    assert_eq!(knobs::parse(&WORDS, b"all\n"), Ok(2));
    for input in [
        &b"NOFS"[..],
        b"Nofs",
        b"nof",
        b"nofsx",
        b"all ",
        b" all",
        b"all\r\n",
        b"all\n\n",
        b"1",
        b"2",
        b"nofs\0",
        b"\xffnofs",
    ] {
        assert_eq!(
            knobs::parse(&WORDS, input),
            Err(ParseError::Invalid),
            "{input:?}"
        );
    }
    assert_eq!(knobs::parse(&WORDS, b""), Err(ParseError::Empty));
    assert_eq!(knobs::parse(&WORDS, b"\n"), Err(ParseError::Empty));
    let empty = KnobKind::Words(&[]);
    assert_eq!(knobs::parse(&empty, b"x"), Err(ParseError::Invalid));
    assert_eq!(knobs::parse(&empty, b""), Err(ParseError::Empty));
    // Real knobs.
    let backoff = &Knob::Backoff.desc().kind;
    assert_eq!(knobs::parse(backoff, b"off\n"), Ok(0));
    assert_eq!(knobs::parse(backoff, b"fixed\n"), Ok(1));
    assert_eq!(knobs::parse(backoff, b"exp\n"), Ok(2));
    let scope = &Knob::Scope.desc().kind;
    assert_eq!(knobs::parse(scope, b"nofs\n"), Ok(1));
}

#[test]
fn format_values() {
    assert_eq!(fmt_value(&NUM_0_100, 0), "0");
    assert_eq!(fmt_value(&NUM_0_100, 42), "42");
    // Formatting does not validate the range.
    assert_eq!(fmt_value(&NUM_0_100, u32::MAX), "4294967295");
    assert_eq!(fmt_value(&KnobKind::Bool, 0), "0");
    assert_eq!(fmt_value(&KnobKind::Bool, 1), "1");
    assert_eq!(fmt_value(&KnobKind::Bool, 7), "1");
    assert_eq!(fmt_value(&KnobKind::Bool, u32::MAX), "1");
    assert_eq!(fmt_value(&WORDS, 0), "nofail");
    assert_eq!(fmt_value(&WORDS, 1), "nofs");
    assert_eq!(fmt_value(&WORDS, 2), "all");
    assert_eq!(fmt_value(&WORDS, 3), "?");
    assert_eq!(fmt_value(&WORDS, u32::MAX), "?");
    assert_eq!(fmt_value(&KnobKind::Words(&[]), 0), "?");
}

#[test]
fn format_parse_round_trip_every_knob() {
    for k in knobs::ALL {
        let kind = &k.desc().kind;
        let values: Vec<u32> = match *kind {
            KnobKind::Number { min, max } => {
                vec![min, min + 1, (min / 2) + (max / 2), max - 1, max]
            }
            KnobKind::Bool => vec![0, 1],
            KnobKind::Words(w) => (0..w.len() as u32).collect(),
        };
        for v in values {
            let text = fmt_value(kind, v);
            assert_eq!(
                knobs::parse(kind, text.as_bytes()),
                Ok(v),
                "{} {text}",
                k.name()
            );
            assert_eq!(
                knobs::parse(kind, format!("{text}\n").as_bytes()),
                Ok(v),
                "{}",
                k.name()
            );
        }
    }
}

struct Failing;

impl Write for Failing {
    fn write_str(&mut self, _: &str) -> fmt::Result {
        Err(fmt::Error)
    }
}

#[test]
fn format_propagates_writer_errors() {
    assert!(knobs::format(&NUM_0_100, 1, &mut Failing).is_err());
    assert!(knobs::format(&KnobKind::Bool, 1, &mut Failing).is_err());
    assert!(knobs::format(&WORDS, 1, &mut Failing).is_err());
    assert!(knobs::format(&WORDS, 9, &mut Failing).is_err());
}

#[test]
fn parse_never_panics_on_arbitrary_bytes() {
    // Exhaustive over all 1- and 2-byte inputs, for every knob kind.
    let kinds = [NUM_0_100, NUM_FULL, KnobKind::Bool, WORDS];
    for a in 0..=255u8 {
        for kind in &kinds {
            let _ = knobs::parse(kind, &[a]);
        }
        for b in 0..=255u8 {
            for kind in &kinds {
                let r = knobs::parse(kind, &[a, b]);
                if let Ok(v) = r {
                    // Anything accepted formats back to the same text (modulo "\n"
                    // and leading zeros / bool aliases).
                    let again = fmt_value(kind, v);
                    assert_eq!(knobs::parse(kind, again.as_bytes()), Ok(v));
                }
            }
        }
    }
}
