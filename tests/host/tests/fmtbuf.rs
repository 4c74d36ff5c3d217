//! Tests of `logic::fmtbuf`: truncating writer over a byte buffer.

use core::fmt::Write;
use nfw_logic_tests::logic::fmtbuf::{newest_that_fit, Count, FmtBuf};

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
