//! Tests of `logic::fmtbuf`: truncating writer over a byte buffer.

use core::fmt::Write;
use nfw_logic_tests::logic::fmtbuf::{newest_that_fit, next_after, Count, FmtBuf};

#[test]
fn empty_buffer() {
    let mut mem = [0u8; 0];
    let mut b = FmtBuf::new(&mut mem);
    assert!(b.is_empty());
    assert_eq!(b.capacity(), 0);
    b.write_str("").unwrap();
    assert!(!b.truncated());
    b.write_str("a").unwrap();
    assert!(b.truncated());
    assert_eq!(b.len(), 0);
    assert_eq!(b.as_bytes(), b"");
    assert_eq!(b.as_str(), "");
}

#[test]
fn fits_exactly() {
    let mut mem = [0u8; 5];
    let mut b = FmtBuf::new(&mut mem);
    let ll = "ll";
    write!(b, "he{ll}o").unwrap();
    assert_eq!(b.as_bytes(), b"hello");
    assert!(!b.truncated());
    b.write_str("").unwrap();
    assert!(!b.truncated());
    b.write_str("!").unwrap();
    assert!(b.truncated());
    assert_eq!(b.as_str(), "hello");
}

#[test]
fn truncates_and_stays_truncated() {
    let mut mem = [0u8; 8];
    let mut b = FmtBuf::new(&mut mem);
    write!(b, "{}", 1234567890u64).unwrap();
    assert_eq!(b.as_str(), "12345678");
    assert!(b.truncated());
    assert_eq!(b.len(), 8);
    assert!(!b.is_empty());
}

#[test]
fn later_writes_dropped_after_truncation() {
    let mut mem = [0u8; 4];
    let mut b = FmtBuf::new(&mut mem);
    b.write_str("ab").unwrap();
    // "cé" is 3 bytes, 2 fit, but the 2nd would split 'é': only "c" is kept.
    b.write_str("c\u{e9}").unwrap();
    assert_eq!(b.as_str(), "abc");
    assert!(b.truncated());
    // One byte is still free, but output stays a prefix of what was written.
    b.write_str("d").unwrap();
    assert_eq!(b.as_str(), "abc");
}

#[test]
fn never_splits_utf8() {
    for cap in 0..12 {
        let mut mem = vec![0u8; cap];
        let mut b = FmtBuf::new(&mut mem);
        b.write_str("a\u{1F600}b\u{e9}\u{20ac}").unwrap();
        let s = core::str::from_utf8(b.as_bytes()).expect("valid UTF-8");
        assert_eq!(b.as_str(), s);
        assert!("a\u{1F600}b\u{e9}\u{20ac}".starts_with(s));
        assert!(b.len() <= cap);
        assert_eq!(b.truncated(), cap < "a\u{1F600}b\u{e9}\u{20ac}".len());
    }
    let mut mem = [0u8; 3];
    let mut b = FmtBuf::new(&mut mem);
    b.write_str("\u{1F600}").unwrap();
    assert!(b.is_empty());
    assert!(b.truncated());
}

#[test]
fn many_small_writes_fill_a_page() {
    let mut page = [0u8; 4096];
    let mut b = FmtBuf::new(&mut page);
    let mut written = String::new();
    for i in 0..10_000u32 {
        writeln!(b, "line {i}").unwrap();
        if written.len() < 8192 {
            written.push_str(&format!("line {i}\n"));
        }
    }
    assert!(b.truncated());
    assert_eq!(b.len(), 4096);
    assert_eq!(b.as_bytes(), &written.as_bytes()[..4096]);
}

#[test]
fn write_char_and_fmt() {
    let mut mem = [0u8; 16];
    let mut b = FmtBuf::new(&mut mem);
    b.write_char('x').unwrap();
    write!(b, "{:>4}|{:<3}|{:#x}", 7, "ab", 255).unwrap();
    assert_eq!(b.as_str(), "x   7|ab |0xff");
    assert!(!b.truncated());
}

#[test]
fn trim_partial_line_drops_the_cut_line_only_when_truncated() {
    let mut mem = [0u8; 10];
    let mut b = FmtBuf::new(&mut mem);
    b.write_str("abc\ndef\n").unwrap();
    b.trim_partial_line();
    assert_eq!(b.as_str(), "abc\ndef\n", "nothing cut: nothing trimmed");
    b.write_str("ghij").unwrap();
    assert!(b.truncated());
    assert_eq!(b.as_str(), "abc\ndef\ngh");
    b.trim_partial_line();
    assert_eq!(b.as_str(), "abc\ndef\n");

    let mut mem = [0u8; 4];
    let mut b = FmtBuf::new(&mut mem);
    b.write_str("no newline").unwrap();
    b.trim_partial_line();
    assert_eq!(b.as_str(), "", "a single cut line goes entirely");

    let mut mem = [0u8; 4];
    let mut b = FmtBuf::new(&mut mem);
    b.write_str("abc").unwrap();
    b.trim_partial_line();
    assert_eq!(b.as_str(), "abc", "an unfinished line that fit is kept");
}

#[test]
fn count_counts_bytes() {
    let mut c = Count::default();
    writeln!(c, "{} é", 12).unwrap();
    assert_eq!(c.0, 6);
}

#[test]
fn newest_that_fit_walks_back_from_the_newest() {
    // Items 1..=5 of 10 bytes each.
    let ten = |_n: u64| Some(10);
    assert_eq!(newest_that_fit(1, 5, 100, ten), 1, "all fit");
    assert_eq!(newest_that_fit(1, 5, 50, ten), 1, "exactly all fit");
    assert_eq!(newest_that_fit(1, 5, 49, ten), 2, "the oldest is dropped");
    assert_eq!(newest_that_fit(1, 5, 10, ten), 5, "only the newest");
    assert_eq!(newest_that_fit(1, 5, 9, ten), 6, "not even the newest");
    assert_eq!(newest_that_fit(1, 0, 100, ten), 1, "empty range");
    // A gone item takes no room and does not stop the walk.
    let gone3 = |n: u64| (n != 3).then_some(10);
    assert_eq!(newest_that_fit(1, 5, 100, gone3), 1);
    assert_eq!(newest_that_fit(1, 5, 30, gone3), 2);
    // Lengths differ per item.
    let len = |n: u64| Some(n as usize);
    assert_eq!(newest_that_fit(1, 5, 9, len), 4, "5 + 4 fit, + 3 not");
    // Huge lengths do not overflow.
    let half = usize::MAX / 2 + 1;
    assert_eq!(
        newest_that_fit(0, u64::MAX - 1, usize::MAX, |_| Some(half)),
        u64::MAX - 1
    );
}

/// Lists `table` (slot -> start) the way `stalls` does: one `next_after`
/// pass per line, keyed (start, slot); `change(line)` edits the table
/// between passes.
fn listing(
    table: &mut Vec<Option<u64>>,
    mut change: impl FnMut(usize, &mut Vec<Option<u64>>),
) -> Vec<(u64, usize)> {
    let mut out = Vec::new();
    let mut prev = None;
    loop {
        let keys = table
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (s, i)))
            .collect::<Vec<_>>();
        let Some(k) = next_after(keys, prev) else {
            break;
        };
        out.push(k);
        prev = Some(k);
        change(out.len(), table);
        assert!(out.len() <= 1000, "the listing does not end");
    }
    out
}

#[test]
fn next_after_lists_oldest_first() {
    assert_eq!(next_after(Vec::<u32>::new(), None), None, "empty table");
    assert_eq!(next_after([3, 1, 2], None), Some(1));
    assert_eq!(next_after([3, 1, 2], Some(1)), Some(2));
    assert_eq!(
        next_after([3, 1, 2], Some(3)),
        None,
        "nothing after the last"
    );
    assert_eq!(
        next_after([3, 1, 2], Some(0)),
        Some(1),
        "a gone key is no barrier"
    );

    // Equal start times: the slot breaks the tie, both are listed.
    let mut t = vec![Some(50), None, Some(10), Some(50), Some(30)];
    let got = listing(&mut t, |_, _| {});
    assert_eq!(got, vec![(10, 2), (30, 4), (50, 0), (50, 3)]);
}

#[test]
fn next_after_survives_a_changing_table() {
    // Entries end and new (younger) ones start in freed slots while the
    // table is listed: the listing stays in order, lists nothing twice,
    // and ends.
    let mut t: Vec<Option<u64>> = (0..8).map(|i| Some(100 - i * 10)).collect();
    let got = listing(&mut t, |line, t| {
        t[line % 8] = if line % 2 == 0 {
            None
        } else {
            Some(1000 + line as u64)
        };
    });
    for w in got.windows(2) {
        assert!(w[0] < w[1], "not in order: {got:?}");
    }
    assert_eq!(got.first(), Some(&(30, 7)), "the oldest entry comes first");
    // An entry older than the last line listed that appears meanwhile is
    // not listed (it would break the order); one younger is.
    let mut t = vec![Some(10), Some(20), None];
    let got = listing(&mut t, |line, t| {
        if line == 1 {
            t[2] = Some(5);
        } else if line == 2 {
            t[2] = Some(25);
        }
    });
    assert_eq!(got, vec![(10, 0), (20, 1), (25, 2)]);
}
