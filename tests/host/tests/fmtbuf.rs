//! Tests of `logic::fmtbuf`: truncating writer over a byte buffer.

use core::fmt::Write;
use nfw_logic_tests::logic::fmtbuf::FmtBuf;

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
