//! `nfw-fuzz`: the knob model (an oracle written independently of the
//! module's parser in `rust/logic/knobs.rs`, from the documented rules) and
//! the generator of hostile inputs.
//!
//! Documented rules (docs/admin-guide.md, "Tunables"): at most 64 bytes
//! including one optional trailing newline; numbers are ASCII decimal
//! digits in the knob's range; booleans are exactly one of
//! `0 1 n y N Y off on`; words match exactly. Everything else is `EINVAL`
//! and changes nothing.

use std::fmt;

/// Longest accepted write, in bytes, including the trailing newline.
pub const MAX_INPUT: usize = 64;

/// The largest write sysfs passes to a `store` callback (`PAGE_SIZE`):
/// longer writes are cut to this length (or refused with `E2BIG`).
pub const SYSFS_MAX_WRITE: usize = 4096;

/// A knob's type and valid values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `0 1 n y N Y off on`, shown as `0`/`1`.
    Bool,
    /// Decimal in `min..=max`.
    Number(u32, u32),
    /// One of these words, stored as its index, shown as the word.
    Words(&'static [&'static str]),
}

/// One knob: file / parameter name and type.
#[derive(Clone, Copy, Debug)]
pub struct Knob {
    /// File and parameter name.
    pub name: &'static str,
    /// Valid values.
    pub kind: Kind,
}

/// Every writable file of `/sys/kernel/nofail_watchdog`, as documented.
pub const KNOBS: [Knob; 12] = [
    Knob {
        name: "enabled",
        kind: Kind::Bool,
    },
    Knob {
        name: "stall_warn_ms",
        kind: Kind::Number(1, 3_600_000),
    },
    Knob {
        name: "warn_interval_ms",
        kind: Kind::Number(1, 86_400_000),
    },
    Knob {
        name: "max_warnings",
        kind: Kind::Number(0, 1_000_000),
    },
    Knob {
        name: "scope",
        kind: Kind::Words(&["nofail", "nofs", "all"]),
    },
    Knob {
        name: "panic_on_stall",
        kind: Kind::Bool,
    },
    Knob {
        name: "backoff_after_ms",
        kind: Kind::Number(0, 3_600_000),
    },
    Knob {
        name: "backoff",
        kind: Kind::Words(&["off", "fixed", "exp"]),
    },
    Knob {
        name: "backoff_min_ms",
        kind: Kind::Number(1, 10_000),
    },
    Knob {
        name: "backoff_max_ms",
        kind: Kind::Number(1, 10_000),
    },
    Knob {
        name: "oom_after_ms",
        kind: Kind::Number(0, 86_400_000),
    },
    Knob {
        name: "oom_interval_ms",
        kind: Kind::Number(100, 3_600_000),
    },
];

/// Looks a knob up by name.
pub fn knob(name: &str) -> Option<&'static Knob> {
    KNOBS.iter().find(|k| k.name == name)
}

/// The value a write of `input` stores, or `None` if it must be rejected.
pub fn expected(kind: Kind, input: &[u8]) -> Option<u32> {
    if input.len() > MAX_INPUT {
        return None;
    }
    let v = input.strip_suffix(b"\n").unwrap_or(input);
    match kind {
        Kind::Bool => match v {
            b"0" | b"n" | b"N" | b"off" => Some(0),
            b"1" | b"y" | b"Y" | b"on" => Some(1),
            _ => None,
        },
        Kind::Number(min, max) => {
            if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
                return None;
            }
            // At most 64 digits: u128 overflows only past 39 digits, so
            // strip leading zeros first and treat anything longer as huge.
            let digits = {
                let start = v.iter().position(|&c| c != b'0').unwrap_or(v.len());
                &v[start..]
            };
            if digits.len() > 20 {
                return None;
            }
            let n: u128 = std::str::from_utf8(digits).ok()?.parse().unwrap_or(0);
            (u128::from(min)..=u128::from(max))
                .contains(&n)
                .then_some(n as u32)
        }
        Kind::Words(words) => words
            .iter()
            .position(|w| w.as_bytes() == v)
            .map(|i| i as u32),
    }
}

/// What a knob file shows for stored `value` (without the newline).
pub fn shown(kind: Kind, value: u32) -> String {
    match kind {
        Kind::Bool => if value != 0 { "1" } else { "0" }.to_string(),
        Kind::Number(..) => value.to_string(),
        Kind::Words(w) => w.get(value as usize).copied().unwrap_or("?").to_string(),
    }
}

/// Parses what a knob file shows back into its stored value.
pub fn parse_shown(kind: Kind, text: &str) -> Option<u32> {
    expected(kind, text.as_bytes())
}

/// A small, seedable PRNG (xorshift64*): reproducible runs from a seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability 1/`n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Whitespace and control bytes that must never be accepted around a value.
const JUNK: &[&[u8]] = &[
    b" ",
    b"\t",
    b"\r",
    b"\n",
    b"\x0b",
    b"\x0c",
    b"\0",
    b"\n\n",
    b"\r\n",
    b"\xa0",
    b"\xc2\xa0",
    b"\xe3\x80\x80",
];

/// Families of generated inputs, for the statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// A zero-byte write.
    Empty,
    /// A valid value (maybe with a newline).
    Valid,
    /// A range boundary, just inside or just outside.
    Boundary,
    /// A value with whitespace or control bytes around or inside it.
    Whitespace,
    /// Signs.
    Signed,
    /// Numbers past `u32`/`u64`, or long runs of leading zeros.
    Overflow,
    /// Hex, octal-looking, floats, exponents, separators.
    Notation,
    /// Words in the wrong case, prefixes, suffixes, other knobs' words.
    WordVariant,
    /// Random bytes, 1 to 100 of them.
    RandomBytes,
    /// Bytes that are not UTF-8, or look-alike Unicode digits.
    NonUtf8,
    /// Longer than the limit: 65 bytes up to 2 pages.
    Huge,
}

/// Every family, in order.
pub const FAMILIES: [Family; 11] = [
    Family::Empty,
    Family::Valid,
    Family::Boundary,
    Family::Whitespace,
    Family::Signed,
    Family::Overflow,
    Family::Notation,
    Family::WordVariant,
    Family::RandomBytes,
    Family::NonUtf8,
    Family::Huge,
];

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A valid textual value of `kind`.
fn valid_text(rng: &mut Rng, kind: Kind) -> Vec<u8> {
    match kind {
        Kind::Bool => rng
            .pick(&["0", "1", "n", "y", "N", "Y", "off", "on"])
            .as_bytes()
            .to_vec(),
        Kind::Number(min, max) => {
            let span = u64::from(max - min) + 1;
            let n = u64::from(min) + rng.below(span);
            n.to_string().into_bytes()
        }
        Kind::Words(w) => rng.pick(w).as_bytes().to_vec(),
    }
}

/// A random input for a knob of `kind`, and its family.
pub fn generate(rng: &mut Rng, kind: Kind) -> (Vec<u8>, Family) {
    let family = *rng.pick(&FAMILIES);
    let nl = |rng: &mut Rng, mut v: Vec<u8>| {
        if rng.one_in(2) {
            v.push(b'\n');
        }
        v
    };
    let input = match family {
        Family::Empty => Vec::new(),
        Family::Valid => {
            let v = valid_text(rng, kind);
            nl(rng, v)
        }
        Family::Boundary => {
            let (min, max) = match kind {
                Kind::Number(a, b) => (u64::from(a), u64::from(b)),
                _ => (0, 1),
            };
            let n = *rng.pick(&[
                min,
                max,
                min.wrapping_sub(1),
                max + 1,
                u64::from(u32::MAX),
                u64::from(u32::MAX) + 1,
            ]);
            let mut v = if n == u64::MAX {
                b"-1".to_vec()
            } else {
                n.to_string().into_bytes()
            };
            if rng.one_in(3) {
                // Leading zeros up to and past the length limit.
                let pad = rng.below(70) as usize;
                let mut z = vec![b'0'; pad];
                z.extend_from_slice(&v);
                v = z;
            }
            nl(rng, v)
        }
        Family::Whitespace => {
            let mut v = valid_text(rng, kind);
            let j = *rng.pick(JUNK);
            match rng.below(4) {
                0 => {
                    let mut w = j.to_vec();
                    w.extend_from_slice(&v);
                    v = w;
                }
                1 => v.extend_from_slice(j),
                2 => {
                    let at = rng.below(v.len() as u64 + 1) as usize;
                    v.splice(at..at, j.iter().copied());
                }
                _ => v = j.repeat(1 + rng.below(3) as usize),
            }
            v
        }
        Family::Signed => {
            let sign = *rng.pick(&[&b"-"[..], b"+", b"--", b"+-", b"\xe2\x88\x92"]);
            let mut v = sign.to_vec();
            v.extend_from_slice(&valid_text(rng, kind));
            nl(rng, v)
        }
        Family::Overflow => {
            let v = rng
                .pick(&[
                    "4294967295",
                    "4294967296",
                    "4294967297",
                    "18446744073709551615",
                    "18446744073709551616",
                    "340282366920938463463374607431768211456",
                    "99999999999999999999999999999999999999999999999999",
                    "2147483648",
                    "1000000000000",
                ])
                .as_bytes()
                .to_vec();
            nl(rng, v)
        }
        Family::Notation => {
            let v = rng
                .pick(&[
                    "0x10",
                    "0X1F",
                    "0b1",
                    "0o7",
                    "1e3",
                    "1E3",
                    "1.0",
                    "1.",
                    ".5",
                    "1_000",
                    "1,000",
                    "1'000",
                    "10ms",
                    "10 ms",
                    "1k",
                    "inf",
                    "NaN",
                    "true",
                    "false",
                    "yes",
                    "no",
                    "ON",
                    "Off",
                    "TRUE",
                    "null",
                    "$(reboot)",
                    "%s%s%s%n",
                    "\\n",
                    "0\\n",
                ])
                .as_bytes()
                .to_vec();
            nl(rng, v)
        }
        Family::WordVariant => {
            let w = *rng.pick(&[
                "nofail", "nofs", "all", "off", "fixed", "exp", "on", "y", "n",
            ]);
            let v = match rng.below(5) {
                0 => w.to_uppercase(),
                1 => w[..w.len() - 1].to_string(),
                2 => format!("{w}{w}"),
                3 => format!("{w}x"),
                _ => {
                    let mut c: Vec<char> = w.chars().collect();
                    c[0] = c[0].to_ascii_uppercase();
                    c.into_iter().collect()
                }
            };
            nl(rng, v.into_bytes())
        }
        Family::RandomBytes => {
            let n = 1 + rng.below(100) as usize;
            (0..n).map(|_| rng.next_u64() as u8).collect()
        }
        Family::NonUtf8 => {
            let mut v = valid_text(rng, kind);
            let bad = *rng.pick(&[
                &b"\xff"[..],
                b"\xfe\xff",
                b"\xc0\xb1",
                b"\xed\xa0\x80",
                b"\xef\xbc\x91",
                b"\xd9\xa1",
                b"\x80",
                b"\xf4\x90\x80\x80",
            ]);
            if rng.one_in(2) {
                v.extend_from_slice(bad);
            } else {
                v = bad.to_vec();
            }
            nl(rng, v)
        }
        Family::Huge => {
            let n = MAX_INPUT + 1 + rng.below(2 * SYSFS_MAX_WRITE as u64) as usize;
            let fill = *rng.pick(&[b'0', b'1', b' ', b'\n', b'a', 0xff]);
            let mut v = vec![fill; n];
            if rng.one_in(2) {
                // A valid value first, the rest after it.
                let t = valid_text(rng, kind);
                v[..t.len()].copy_from_slice(&t);
            }
            v
        }
    };
    (input, family)
}

/// A short, printable rendering of an input for messages.
pub fn show_input(input: &[u8]) -> String {
    let mut s = String::new();
    for &c in input.iter().take(48) {
        if (0x20..0x7f).contains(&c) && c != b'\\' {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    if input.len() > 48 {
        s.push_str(&format!("...({} bytes)", input.len()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_follows_the_documented_rules() {
        let n = Kind::Number(1, 3_600_000);
        assert_eq!(expected(n, b"1"), Some(1));
        assert_eq!(expected(n, b"3600000\n"), Some(3_600_000));
        assert_eq!(expected(n, b"0"), None);
        assert_eq!(expected(n, b"3600001"), None);
        assert_eq!(expected(n, b""), None);
        assert_eq!(expected(n, b"\n"), None);
        assert_eq!(expected(n, b"1\n\n"), None);
        assert_eq!(expected(n, b" 1"), None);
        assert_eq!(expected(n, b"+1"), None);
        assert_eq!(expected(n, b"-1"), None);
        assert_eq!(expected(n, b"0x10"), None);
        assert_eq!(expected(n, b"010"), Some(10));
        let z63 = [&[b'0'; 63][..], b"5"].concat();
        assert_eq!(expected(n, &z63), Some(5));
        assert_eq!(expected(n, &[&z63[..], b"\n"].concat()), None);
        assert_eq!(expected(n, b"18446744073709551616"), None);
        assert_eq!(expected(Kind::Number(0, u32::MAX), b"4294967296"), None);
        assert_eq!(
            expected(Kind::Number(0, u32::MAX), b"4294967295"),
            Some(u32::MAX)
        );
        let b = Kind::Bool;
        for (t, v) in [("y", 1), ("on", 1), ("N", 0), ("off\n", 0)] {
            assert_eq!(expected(b, t.as_bytes()), Some(v));
        }
        for t in ["yes", "ON", "2", "true", "1 "] {
            assert_eq!(expected(b, t.as_bytes()), None);
        }
        let w = KNOBS[4].kind;
        assert_eq!(expected(w, b"all\n"), Some(2));
        assert_eq!(expected(w, b"ALL"), None);
        assert_eq!(expected(w, b"al"), None);
    }

    #[test]
    fn shown_values_parse_back() {
        let mut rng = Rng::new(7);
        for k in KNOBS {
            for _ in 0..200 {
                let (input, _) = generate(&mut rng, k.kind);
                if let Some(v) = expected(k.kind, &input) {
                    assert_eq!(
                        parse_shown(k.kind, &shown(k.kind, v)),
                        Some(v),
                        "{}",
                        k.name
                    );
                }
            }
        }
    }

    #[test]
    fn generator_makes_every_family_and_both_outcomes() {
        let mut rng = Rng::new(1);
        let mut fams = std::collections::HashSet::new();
        let (mut valid, mut invalid) = (0, 0);
        for i in 0..5000 {
            let k = KNOBS[i % KNOBS.len()];
            let (input, fam) = generate(&mut rng, k.kind);
            fams.insert(format!("{fam}"));
            match expected(k.kind, &input) {
                Some(_) => valid += 1,
                None => invalid += 1,
            }
        }
        assert_eq!(fams.len(), FAMILIES.len());
        assert!(
            valid > 300 && invalid > 3000,
            "valid {valid} invalid {invalid}"
        );
    }

    #[test]
    fn rng_is_reproducible() {
        let a: Vec<u64> = (0..5)
            .scan(Rng::new(3), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .scan(Rng::new(3), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a[0], a[1]);
    }
}
