//! Tests of `logic::hist`: bucketing and bcc-style rendering.

use nfw_logic_tests::logic::fmtbuf::FmtBuf;
use nfw_logic_tests::logic::hist::{self, bucket, bucket_range, BUCKETS};

const HEADER: &str = "     usecs               : count     distribution\n";

fn render(counts: &[u64; BUCKETS]) -> String {
    let mut out = String::new();
    hist::render(counts, &mut out).expect("render");
    out
}

#[test]
fn buckets() {
    assert_eq!(BUCKETS, 32);
    assert_eq!(bucket(0), 0);
    assert_eq!(bucket(1), 1);
    assert_eq!(bucket(2), 2);
    assert_eq!(bucket(3), 2);
    assert_eq!(bucket(4), 3);
    assert_eq!(bucket(7), 3);
    assert_eq!(bucket(8), 4);
    assert_eq!(bucket(256), 9);
    assert_eq!(bucket(511), 9);
    assert_eq!(bucket(512), 10);
    assert_eq!(bucket((1 << 30) - 1), 30);
    assert_eq!(bucket(1 << 30), 31);
    assert_eq!(bucket((1 << 31) - 1), 31);
    assert_eq!(bucket(1 << 31), 31);
    assert_eq!(bucket(1 << 63), 31);
    assert_eq!(bucket(u64::MAX), 31);
}

#[test]
fn bucket_ranges_are_contiguous_and_consistent() {
    assert_eq!(bucket_range(0), (0, 0));
    assert_eq!(bucket_range(1), (1, 1));
    assert_eq!(bucket_range(2), (2, 3));
    assert_eq!(bucket_range(9), (256, 511));
    assert_eq!(bucket_range(30), (1 << 29, (1 << 30) - 1));
    assert_eq!(bucket_range(31), (1 << 30, u64::MAX));
    assert_eq!(bucket_range(32), (1 << 30, u64::MAX));
    assert_eq!(bucket_range(usize::MAX), (1 << 30, u64::MAX));
    for i in 0..BUCKETS {
        let (lo, hi) = bucket_range(i);
        assert!(lo <= hi);
        assert_eq!(bucket(lo), i);
        assert_eq!(bucket(hi), i);
        if i > 0 {
            assert_eq!(bucket_range(i - 1).1 + 1, lo);
            assert_eq!(bucket(lo - 1), i - 1);
        }
    }
}

#[test]
fn empty_histogram_is_header_only() {
    assert_eq!(render(&[0; BUCKETS]), HEADER);
}

#[test]
fn single_bucket_like_bcc() {
    let mut counts = [0u64; BUCKETS];
    counts[bucket(300)] = 12;
    let out = render(&counts);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], HEADER.trim_end_matches('\n'));
    assert_eq!(lines.len(), 1 + 9);
    assert_eq!(
        lines[1],
        "         0 -> 1          : 0        |                                        |"
    );
    assert_eq!(
        lines[2],
        "         2 -> 3          : 0        |                                        |"
    );
    assert_eq!(
        lines[9],
        "       256 -> 511        : 12       |****************************************|"
    );
    assert!(out.ends_with("|\n"));
}

#[test]
fn bar_scaling_is_floored_like_bcc() {
    let mut counts = [0u64; BUCKETS];
    counts[2] = 3; // 3/12*40 = 10
    counts[3] = 12;
    counts[4] = 1; // 1/12*40 = 3.33 -> 3
    counts[5] = 11; // 36.67 -> 36
    let out = render(&counts);
    let expected = String::from(HEADER)
        + "         0 -> 1          : 0        |                                        |\n"
        + "         2 -> 3          : 3        |**********                              |\n"
        + "         4 -> 7          : 12       |****************************************|\n"
        + "         8 -> 15         : 1        |***                                     |\n"
        + "        16 -> 31         : 11       |************************************    |\n";
    assert_eq!(out, expected);
}

#[test]
fn tiny_counts_get_no_stars() {
    let mut counts = [0u64; BUCKETS];
    counts[1] = 1;
    counts[2] = 1000;
    let out = render(&counts);
    assert!(out.contains(
        "         0 -> 1          : 1        |                                        |\n"
    ));
}

#[test]
fn bucket_zero_is_folded_into_first_line() {
    let mut counts = [0u64; BUCKETS];
    counts[0] = 5;
    let out = render(&counts);
    assert_eq!(
        out,
        String::from(HEADER)
            + "         0 -> 1          : 5        |****************************************|\n"
    );
    counts[1] = 5;
    counts[2] = 20;
    let out = render(&counts);
    assert!(out.contains(
        "         0 -> 1          : 10       |********************                    |\n"
    ));
}

#[test]
fn last_bucket_and_huge_counts() {
    let mut counts = [u64::MAX; BUCKETS];
    counts[0] = u64::MAX;
    let out = render(&counts);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), BUCKETS); // header + buckets 1..=31
    for line in &lines[1..] {
        assert!(
            line.ends_with("|****************************************|"),
            "{line}"
        );
        assert!(line.contains(": 18446744073709551615 |"), "{line}");
    }
    assert!(lines[31].starts_with("1073741824 -> 18446744073709551615 : "));
    assert!(lines[30].starts_with(" 536870912 -> 1073741823 : "));
}

#[test]
fn every_line_has_a_40_char_bar() {
    let mut counts = [0u64; BUCKETS];
    for (i, c) in counts.iter_mut().enumerate() {
        *c = (i as u64 * 7919) % 1000;
    }
    let out = render(&counts);
    for line in out.lines().skip(1) {
        let bar = line.split('|').nth(1).expect("bar");
        assert_eq!(bar.len(), 40, "{line}");
        assert!(bar.trim_end().chars().all(|c| c == '*'));
    }
}

#[test]
fn render_into_small_buffer_truncates() {
    let mut counts = [0u64; BUCKETS];
    counts[31] = 1;
    let mut mem = [0u8; 100];
    let mut buf = FmtBuf::new(&mut mem);
    hist::render(&counts, &mut buf).expect("never fails");
    assert!(buf.truncated());
    assert_eq!(buf.len(), 100);
    let full = render(&counts);
    assert_eq!(buf.as_bytes(), &full.as_bytes()[..100]);
    // The full histogram fits in a sysfs page.
    let mut page = [0u8; 4096];
    let mut buf = FmtBuf::new(&mut page);
    hist::render(&[u64::MAX; BUCKETS], &mut buf).expect("never fails");
    assert!(!buf.truncated());
}
