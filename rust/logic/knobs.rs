//! The watchdog's tunables: names, ranges, defaults, strict parsing and formatting.
//!
//! Every knob is stored by the module as a `u32`: numbers as themselves,
//! booleans as 0/1 and word-valued knobs as the index of the word in their
//! [`KnobKind::Words`] list.

use core::fmt;

/// Number of knobs (length of [`ALL`]).
pub const COUNT: usize = 12;

/// Longest input accepted by [`parse`], in bytes (including a trailing newline).
pub const MAX_INPUT: usize = 64;

/// One tunable of the watchdog.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(usize)]
pub enum Knob {
    /// `enabled`: master switch.
    Enabled,
    /// `stall_warn_ms`: report a stall after this long.
    StallWarnMs,
    /// `warn_interval_ms`: repeat the report of an ongoing stall this often.
    WarnIntervalMs,
    /// `max_warnings`: report budget.
    MaxWarnings,
    /// `scope`: which allocations are tracked.
    Scope,
    /// `panic_on_stall`: panic at the first stall report.
    PanicOnStall,
    /// `backoff_after_ms`: start backing off after this long.
    BackoffAfterMs,
    /// `backoff`: back-off strategy.
    Backoff,
    /// `backoff_min_ms`: first (or fixed) back-off sleep.
    BackoffMinMs,
    /// `backoff_max_ms`: longest back-off sleep.
    BackoffMaxMs,
    /// `oom_after_ms`: invoke the OOM killer after this long.
    OomAfterMs,
    /// `oom_interval_ms`: minimum time between two OOM killer invocations.
    OomIntervalMs,
}

/// All knobs, in declaration order (so `ALL[k as usize] == k`).
pub const ALL: [Knob; COUNT] = [
    Knob::Enabled,
    Knob::StallWarnMs,
    Knob::WarnIntervalMs,
    Knob::MaxWarnings,
    Knob::Scope,
    Knob::PanicOnStall,
    Knob::BackoffAfterMs,
    Knob::Backoff,
    Knob::BackoffMinMs,
    Knob::BackoffMaxMs,
    Knob::OomAfterMs,
    Knob::OomIntervalMs,
];

/// Words of the `scope` knob, indexed like [`super::gfp::Scope`].
pub const SCOPE_WORDS: &[&str] = &["nofail", "nofs", "all"];

/// Words of the `backoff` knob, indexed like [`super::stall::Backoff`].
pub const BACKOFF_WORDS: &[&str] = &["off", "fixed", "exp"];

/// The type and valid values of a knob.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KnobKind {
    /// A boolean stored as 0 or 1.
    Bool,
    /// A decimal number in `min..=max`.
    Number {
        /// Smallest accepted value.
        min: u32,
        /// Largest accepted value.
        max: u32,
    },
    /// One of a fixed list of words, stored as its index.
    Words(&'static [&'static str]),
}

/// Static description of a knob.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KnobDesc {
    /// Parameter and sysfs attribute name.
    pub name: &'static str,
    /// Type and valid values.
    pub kind: KnobKind,
    /// Default stored value.
    pub default: u32,
    /// One-line description (module parameter description), with unit and default.
    pub help: &'static str,
}

impl Knob {
    /// Returns the static description of this knob.
    pub const fn desc(self) -> &'static KnobDesc {
        match self {
            Knob::Enabled => &KnobDesc {
                name: "enabled",
                kind: KnobKind::Bool,
                default: 1,
                help: "Watch allocations that cannot fail (bool, default 1)",
            },
            Knob::StallWarnMs => &KnobDesc {
                name: "stall_warn_ms",
                kind: KnobKind::Number {
                    min: 1,
                    max: 3_600_000,
                },
                default: 10_000,
                help: "Report an allocation stalled for this long (ms, 1..3600000, default 10000)",
            },
            Knob::WarnIntervalMs => &KnobDesc {
                name: "warn_interval_ms",
                kind: KnobKind::Number {
                    min: 1,
                    max: 86_400_000,
                },
                default: 30_000,
                help: "Repeat the report of an ongoing stall this often (ms, 1..86400000, default 30000)",
            },
            Knob::MaxWarnings => &KnobDesc {
                name: "max_warnings",
                kind: KnobKind::Number {
                    min: 0,
                    max: 1_000_000,
                },
                default: 10,
                help: "Number of stall reports to print; writing resets the count (0..1000000, default 10)",
            },
            Knob::Scope => &KnobDesc {
                name: "scope",
                kind: KnobKind::Words(SCOPE_WORDS),
                default: 1,
                help: "Allocations to watch: nofail, nofs (nofail + implicit without __GFP_FS) or all (default nofs)",
            },
            Knob::PanicOnStall => &KnobDesc {
                name: "panic_on_stall",
                kind: KnobKind::Bool,
                default: 0,
                help: "Panic at the first stall report (bool, default 0)",
            },
            Knob::BackoffAfterMs => &KnobDesc {
                name: "backoff_after_ms",
                kind: KnobKind::Number {
                    min: 0,
                    max: 3_600_000,
                },
                default: 1_000,
                help: "Start backing off a stalled allocation after this long (ms, 0..3600000, default 1000)",
            },
            Knob::Backoff => &KnobDesc {
                name: "backoff",
                kind: KnobKind::Words(BACKOFF_WORDS),
                default: 2,
                help: "Back-off between retries: off, fixed (backoff_min_ms) or exp (doubling up to backoff_max_ms) (default exp)",
            },
            Knob::BackoffMinMs => &KnobDesc {
                name: "backoff_min_ms",
                kind: KnobKind::Number {
                    min: 1,
                    max: 10_000,
                },
                default: 1,
                help: "First (or fixed) back-off sleep (ms, 1..10000, default 1)",
            },
            Knob::BackoffMaxMs => &KnobDesc {
                name: "backoff_max_ms",
                kind: KnobKind::Number {
                    min: 1,
                    max: 10_000,
                },
                default: 100,
                help: "Longest back-off sleep (ms, 1..10000, default 100)",
            },
            Knob::OomAfterMs => &KnobDesc {
                name: "oom_after_ms",
                kind: KnobKind::Number {
                    min: 0,
                    max: 86_400_000,
                },
                default: 30_000,
                help: "Invoke the OOM killer for an allocation stalled this long, 0 = never (ms, 0..86400000, default 30000)",
            },
            Knob::OomIntervalMs => &KnobDesc {
                name: "oom_interval_ms",
                kind: KnobKind::Number {
                    min: 100,
                    max: 3_600_000,
                },
                default: 5_000,
                help: "Minimum time between two OOM killer invocations (ms, 100..3600000, default 5000)",
            },
        }
    }

    /// Returns the name of this knob (shorthand for `desc().name`).
    pub const fn name(self) -> &'static str {
        self.desc().name
    }
}

/// Returns the default stored value of every knob, indexed by `Knob as usize`.
pub fn defaults() -> [u32; COUNT] {
    ALL.map(|k| k.desc().default)
}

/// Looks a knob up by its exact (case-sensitive) name.
pub fn parse_by_name(name: &[u8]) -> Option<Knob> {
    ALL.iter().copied().find(|k| k.name().as_bytes() == name)
}

/// Why an input was rejected by [`parse`] (all map to `-EINVAL`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParseError {
    /// Nothing but an optional trailing newline.
    Empty,
    /// Not a valid value for the knob.
    Invalid,
    /// A well-formed number outside the knob's range (or above `u32::MAX`).
    OutOfRange,
    /// Longer than [`MAX_INPUT`] bytes.
    TooLong,
}

/// Parses ASCII decimal digits into a `u32`, [`ParseError::OutOfRange`] on overflow.
fn parse_decimal(digits: &[u8]) -> Result<u32, ParseError> {
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::Invalid);
    }
    let mut value: u32 = 0;
    for &d in digits {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(d.wrapping_sub(b'0'))))
            .ok_or(ParseError::OutOfRange)?;
    }
    Ok(value)
}

/// Strictly parses a value written to a knob of type `kind` into its stored `u32`.
///
/// Exactly one optional trailing `\n` is stripped; anything else that is not
/// part of the value (spaces, tabs, `\r`, NUL, a second newline, signs, hex
/// prefixes, underscores, non-UTF-8 bytes) makes the input invalid. Inputs
/// longer than [`MAX_INPUT`] bytes are rejected with
/// [`ParseError::TooLong`] before anything else.
///
/// - Numbers: ASCII decimal digits only (leading zeros allowed), in `min..=max`.
/// - Bools: exactly one of `0 1 n y N Y off on`.
/// - Words: an exact, case-sensitive match; the value is the word's index.
pub fn parse(kind: &KnobKind, input: &[u8]) -> Result<u32, ParseError> {
    if input.len() > MAX_INPUT {
        return Err(ParseError::TooLong);
    }
    let value = input.strip_suffix(b"\n").unwrap_or(input);
    if value.is_empty() {
        return Err(ParseError::Empty);
    }
    match *kind {
        KnobKind::Number { min, max } => {
            let n = parse_decimal(value)?;
            if n < min || n > max {
                Err(ParseError::OutOfRange)
            } else {
                Ok(n)
            }
        }
        KnobKind::Bool => match value {
            b"0" | b"n" | b"N" | b"off" => Ok(0),
            b"1" | b"y" | b"Y" | b"on" => Ok(1),
            _ => Err(ParseError::Invalid),
        },
        KnobKind::Words(words) => words
            .iter()
            .position(|w| w.as_bytes() == value)
            .and_then(|i| u32::try_from(i).ok())
            .ok_or(ParseError::Invalid),
    }
}

/// Writes the stored `value` of a knob of type `kind`, without a trailing newline.
///
/// Numbers print in decimal, bools as `0`/`1` (any non-zero value is `1`),
/// words as the word, or `?` for an index outside the word list.
pub fn format(kind: &KnobKind, value: u32, w: &mut impl fmt::Write) -> fmt::Result {
    match *kind {
        KnobKind::Number { .. } => write!(w, "{}", value),
        KnobKind::Bool => w.write_str(if value != 0 { "1" } else { "0" }),
        KnobKind::Words(words) => w.write_str(
            usize::try_from(value)
                .ok()
                .and_then(|i| words.get(i))
                .copied()
                .unwrap_or("?"),
        ),
    }
}
