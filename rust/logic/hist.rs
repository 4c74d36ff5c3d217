//! Log2 histogram of stall durations in microseconds, rendered like bcc's tools.
//!
//! Bucket 0 holds 0 µs, bucket `i` in `1..BUCKETS - 1` holds
//! `[2^(i-1), 2^i - 1]` µs and the last bucket holds everything from
//! `2^(BUCKETS - 2)` µs (about 18 minutes) up.

use core::fmt;

/// Number of buckets.
pub const BUCKETS: usize = 32;

/// Width of the distribution bar, in characters.
const STARS: u64 = 40;

/// Returns the bucket of a duration of `us` microseconds.
///
/// 0 for 0, otherwise the number of significant bits of `us` (bcc's
/// `bpf_log2l`), clamped to `BUCKETS - 1`.
pub fn bucket(us: u64) -> usize {
    let bits = 64u32.saturating_sub(us.leading_zeros());
    usize::try_from(bits).map_or(BUCKETS - 1, |b| b.min(BUCKETS - 1))
}

/// Returns the inclusive range of microseconds held by bucket `i`.
///
/// `(0, 0)` for bucket 0, `(2^(i-1), 2^i - 1)` for the middle buckets and
/// `(2^(BUCKETS-2), u64::MAX)` for the last one (any `i >= BUCKETS - 1`).
pub fn bucket_range(i: usize) -> (u64, u64) {
    let last = BUCKETS - 1;
    let shift = |n: usize| u32::try_from(n).ok().and_then(|n| 1u64.checked_shl(n));
    match i {
        0 => (0, 0),
        _ if i < last => {
            let low = shift(i.saturating_sub(1)).unwrap_or(u64::MAX);
            let high = shift(i).map_or(u64::MAX, |h| h.saturating_sub(1));
            (low, high)
        }
        _ => (shift(last.saturating_sub(1)).unwrap_or(u64::MAX), u64::MAX),
    }
}

/// Count shown on the line of bucket `i`; bucket 0 (0 µs) is folded into bucket 1, labelled `0 -> 1`.
fn line_count(counts: &[u64; BUCKETS], i: usize) -> u64 {
    let own = counts.get(i).copied().unwrap_or(0);
    if i == 1 {
        own.saturating_add(counts.first().copied().unwrap_or(0))
    } else {
        own
    }
}

/// Renders the histogram like bcc's `print_log2_hist` (python) with unit `usecs`.
///
/// A header line, then one line per bucket from bucket 1 up to the last
/// non-empty bucket, each with a 40-character bar scaled to the largest line.
/// As in bcc, the first line is labelled `0 -> 1`; it also counts bucket 0.
/// With all counts zero only the header line is written. Every line ends
/// with `\n`.
///
/// ```text
///      usecs               : count     distribution
///          0 -> 1          : 0        |                                        |
///          2 -> 3          : 3        |**********                              |
///          4 -> 7          : 12       |****************************************|
/// ```
pub fn render(counts: &[u64; BUCKETS], w: &mut impl fmt::Write) -> fmt::Result {
    w.write_str("     usecs               : count     distribution\n")?;
    let last = match counts.iter().rposition(|&c| c != 0) {
        Some(i) => i.max(1),
        None => return Ok(()),
    };
    let max = (1..=last).map(|i| line_count(counts, i)).max().unwrap_or(0);
    for i in 1..=last {
        let count = line_count(counts, i);
        let (low, high) = match i {
            1 => (0, 1),
            _ => bucket_range(i),
        };
        let stars = if max == 0 {
            0
        } else {
            // No 128-bit arithmetic: the kernel has no `__udivti3`. Counts
            // too large to multiply are scaled down first instead.
            let s = match count.checked_mul(STARS) {
                Some(c) => c.checked_div(max).unwrap_or(0),
                None => count
                    .checked_div(max.checked_div(STARS).unwrap_or(1).max(1))
                    .unwrap_or(0),
            };
            usize::try_from(s.min(STARS)).unwrap_or(0)
        };
        let spaces = usize::try_from(STARS).unwrap_or(0).saturating_sub(stars);
        writeln!(
            w,
            "{:>10} -> {:<10} : {:<8} |{:*<stars$}{:spaces$}|",
            low,
            high,
            count,
            "",
            "",
            stars = stars,
            spaces = spaces
        )?;
    }
    Ok(())
}
