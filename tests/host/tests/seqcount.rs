//! Tests of `logic::seqcount`: the write/read protocol of a sequence count
//! (a write inside a read, a read inside a write), the numbering, lapping
//! and loss rules of the ring, and torn reads under real concurrency
//! (writer and reader threads; every copy a reader keeps must be whole).

use nfw_logic_tests::logic::seqcount::{RingSlot, SeqCount, SeqRing};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;

/// A record of four words that a writer always stores equal: a copy whose
/// words differ is torn.
struct Quad([AtomicU64; 4]);

impl Quad {
    const fn new() -> Self {
        Self([const { AtomicU64::new(0) }; 4])
    }

    fn store(&self, v: u64) {
        for w in &self.0 {
            w.store(v, Relaxed);
        }
    }

    fn load(&self) -> [u64; 4] {
        [0, 1, 2, 3].map(|i| self.0[i].load(Relaxed))
    }
}

fn whole(q: [u64; 4]) -> bool {
    q.iter().all(|&w| w == q[0])
}

#[test]
fn count_write_then_read() {
    let c = SeqCount::new();
    let q = Quad::new();
    assert_eq!(c.generation(), 0);
    assert_eq!(c.read(|gen| (gen, q.load())), Some((0, [0; 4])));
    assert_eq!(c.write(|| q.store(7)), Some(2));
    assert_eq!(c.generation(), 2);
    assert_eq!(c.read(|gen| (gen, q.load())), Some((2, [7; 4])));
    assert_eq!(c.write(|| q.store(8)), Some(4));
    assert!(c.still(4));
    assert!(!c.still(2));
}

#[test]
fn count_read_during_write_fails() {
    let c = SeqCount::new();
    let mut inner = None;
    let mut gen_inside = 0;
    let gen = c.write(|| {
        gen_inside = c.generation();
        inner = Some(c.read(|_| ()));
    });
    assert_eq!(gen_inside, 1, "odd while written");
    assert_eq!(inner, Some(None), "a read under way of a write fails");
    assert_eq!(gen, Some(2));
}

#[test]
fn count_write_during_read_voids_the_read() {
    let c = SeqCount::new();
    let q = Quad::new();
    let r = c.read(|_| {
        let before = q.load();
        c.write(|| q.store(1));
        before
    });
    assert_eq!(r, None, "the data changed under the reader");
    assert_eq!(c.read(|_| q.load()), Some([1; 4]));
}

#[test]
fn count_second_writer_gives_up() {
    let c = SeqCount::new();
    let mut nested = Some(0);
    let mut called = false;
    assert_eq!(
        c.write(|| nested = c.write(|| called = true)),
        Some(2),
        "the first writer completes"
    );
    assert_eq!(nested, None);
    assert!(!called, "the second writer's stores do not run");
    assert_eq!(c.write(|| ()), Some(4), "the count is not left odd");
}

#[test]
fn count_still_after_a_write_is_false() {
    let c = SeqCount::new();
    let g = c.write(|| ()).unwrap();
    assert!(c.still(g));
    let mut inside = true;
    c.write(|| inside = c.still(g));
    assert!(!inside, "a write under way changes the count");
    assert!(!c.still(g));
}

#[test]
fn count_wraps() {
    let c = SeqCount::new();
    // Not 2^31 writes: the arithmetic is wrapping, checked by overflow checks.
    for i in 1..=1000u32 {
        assert_eq!(c.write(|| ()), Some(2 * i));
    }
}

fn ring<const N: usize>() -> SeqRing<AtomicU64, N> {
    SeqRing::new([const { RingSlot::new(AtomicU64::new(0)) }; N])
}

#[test]
fn ring_empty() {
    let r = ring::<4>();
    assert_eq!(r.head(), 0);
    for n in [0, 1, 3, 4, u64::MAX] {
        assert_eq!(r.read(n, |f| f.load(Relaxed)), None, "entry {n}");
    }
}

#[test]
fn ring_push_read_and_lap() {
    let r = ring::<4>();
    for n in 0..10u64 {
        assert_eq!(r.push(|m, f| f.store(m * 10, Relaxed)), Some(n));
        assert_eq!(r.head(), n + 1);
        assert_eq!(r.read(n + 1, |f| f.load(Relaxed)), None, "not pushed yet");
    }
    for n in 0..10u64 {
        let want = (n >= 6).then_some(n * 10);
        assert_eq!(r.read(n, |f| f.load(Relaxed)), want, "entry {n}");
    }
    assert_eq!(r.head_counter().load(Relaxed), 10);
}

#[test]
fn ring_single_writer_numbers_like_push() {
    let r = ring::<3>();
    for n in 0..5u64 {
        assert_eq!(r.push_single_writer(|m, f| f.store(m + 100, Relaxed)), n);
    }
    assert_eq!(r.head(), 5);
    let got: Vec<_> = (0..5).map(|n| r.read(n, |f| f.load(Relaxed))).collect();
    assert_eq!(got, [None, None, Some(102), Some(103), Some(104)]);
}

#[test]
fn ring_entry_counted_but_not_written_yet() {
    let r = ring::<4>();
    r.push(|_, f| f.store(1, Relaxed));
    let mut during = (None, None, 0);
    r.push(|n, f| {
        f.store(2, Relaxed);
        // Inside the write of push 1: the head counts it, a read fails.
        during = (
            r.read(n, |f| f.load(Relaxed)),
            r.read(0, |f| f.load(Relaxed)),
            r.head(),
        );
    });
    assert_eq!(during, (None, Some(1), 2));
    assert_eq!(r.read(1, |f| f.load(Relaxed)), Some(2));
}

#[test]
fn ring_single_writer_head_counts_complete_pushes_only() {
    let r = ring::<4>();
    let mut head_during = None;
    r.push_single_writer(|_, _| head_during = Some(r.head()));
    assert_eq!(head_during, Some(0));
    assert_eq!(r.head(), 1);
}

#[test]
fn ring_lapping_writer_is_lost_and_entry_recovers() {
    // Push 0 is still being written when pushes 1..=4 come; push 4 falls on
    // its entry and is lost; push 0 completes; the entry is usable again.
    let r = ring::<4>();
    let mut lapped = Vec::new();
    let first = r.push(|_, f| {
        f.store(1000, Relaxed);
        for _ in 1..=4 {
            lapped.push(r.push(|m, f| f.store(m, Relaxed)));
        }
    });
    assert_eq!(first, Some(0));
    assert_eq!(lapped, [Some(1), Some(2), Some(3), None]);
    assert_eq!(r.head(), 5);
    assert_eq!(r.read(4, |f| f.load(Relaxed)), None, "lost");
    assert_eq!(
        r.read(0, |f| f.load(Relaxed)),
        None,
        "overtaken by the head"
    );
    assert_eq!(r.read(3, |f| f.load(Relaxed)), Some(3));
    // Push 8 lands on the same entry and is written normally.
    for n in 5..=8 {
        assert_eq!(r.push(|m, f| f.store(m, Relaxed)), Some(n));
    }
    assert_eq!(r.read(8, |f| f.load(Relaxed)), Some(8));
}

/// Runs `readers` reader threads calling `read` until `writer` returns.
fn race(
    readers: usize,
    writer: impl FnOnce() + Send + 'static,
    read: impl Fn() + Send + Sync + 'static,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let read = Arc::new(read);
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let (stop, read) = (stop.clone(), read.clone());
            thread::spawn(move || {
                while !stop.load(Relaxed) {
                    read();
                }
            })
        })
        .collect();
    writer();
    stop.store(true, Relaxed);
    for h in handles {
        h.join().unwrap();
    }
}

/// Writes or pushes a writer makes: `min`, and more while the readers have
/// not yet kept a read (on a loaded host they may not have run at all), up
/// to 100 times `min`. The writer yields now and then so that they do.
fn keep_writing(i: u64, min: u64, kept: &AtomicU64) -> bool {
    if i % 256 == 255 {
        thread::yield_now();
    }
    i < min || (kept.load(Relaxed) == 0 && i < 100 * min)
}

#[test]
fn count_no_torn_read_across_threads() {
    static C: SeqCount = SeqCount::new();
    static Q: Quad = Quad::new();
    static KEPT: AtomicU64 = AtomicU64::new(0);
    static WRITES: AtomicU64 = AtomicU64::new(0);
    race(
        2,
        || {
            let mut v = 0u64;
            while keep_writing(v, 200_000, &KEPT) {
                v += 1;
                assert!(C.write(|| Q.store(v)).is_some());
            }
            WRITES.store(v, Relaxed);
        },
        || {
            if let Some((gen, q)) = C.read(|gen| (gen, Q.load())) {
                assert!(whole(q), "torn copy {q:?}");
                assert_eq!(u64::from(gen), 2 * q[0], "copy of another version");
                KEPT.fetch_add(1, Relaxed);
            }
        },
    );
    assert_eq!(u64::from(C.generation()), 2 * WRITES.load(Relaxed));
    assert!(KEPT.load(Relaxed) > 0, "the readers never kept a read");
}

/// A ring entry of a race: the push number and three words derived from it.
struct Rec {
    num: AtomicU64,
    quad: Quad,
}

impl Rec {
    const fn new() -> Self {
        Self {
            num: AtomicU64::new(0),
            quad: Quad::new(),
        }
    }
}

fn ring_race(writers: u64, pushes: u64) {
    const N: usize = 8;
    static R: SeqRing<Rec, N> = SeqRing::new([const { RingSlot::new(Rec::new()) }; N]);
    static KEPT: AtomicU64 = AtomicU64::new(0);
    static PUSHES: AtomicU64 = AtomicU64::new(0);
    let start = R.head();
    // Run in turn (one test calls both): each counts its own.
    KEPT.store(0, Relaxed);
    PUSHES.store(0, Relaxed);
    fn fill(n: u64, e: &Rec) {
        e.num.store(n, Relaxed);
        e.quad.store(n.wrapping_mul(3));
    }
    let write = move || {
        let hs: Vec<_> = (0..writers)
            .map(|_| {
                thread::spawn(move || {
                    let mut i = 0;
                    while keep_writing(i, pushes, &KEPT) {
                        i += 1;
                        if writers == 1 {
                            R.push_single_writer(fill);
                        } else {
                            R.push(fill);
                        }
                    }
                    PUSHES.fetch_add(i, Relaxed);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    };
    race(2, write, move || {
        let head = R.head();
        let Some(newest) = head.checked_sub(1) else {
            return;
        };
        for n in newest.saturating_sub(N as u64)..=newest + 1 {
            match R.read(n, |e| (e.num.load(Relaxed), e.quad.load())) {
                Some((num, q)) => {
                    assert_eq!(num, n, "entry {n} read as push {num}");
                    assert!(whole(q) && q[0] == n.wrapping_mul(3), "torn copy {q:?}");
                    KEPT.fetch_add(1, Relaxed);
                }
                // The only writer publishes the head after the push: the
                // newest push it counted is readable until lapped.
                None if writers == 1 && n == newest => {
                    assert!(
                        R.head() >= newest + N as u64,
                        "complete push {n} unreadable"
                    )
                }
                None => {}
            }
        }
    });
    assert_eq!(R.head(), start + PUSHES.load(Relaxed));
    assert!(KEPT.load(Relaxed) > 0, "the readers never kept a read");
    // Quiet again: every entry takes a push and reads back whole.
    let last = (0..N).map(|_| R.push(fill).unwrap()).max().unwrap();
    for n in last + 1 - N as u64..=last {
        assert_eq!(R.read(n, |e| e.num.load(Relaxed)), Some(n));
    }
}

#[test]
fn ring_no_torn_read_across_threads() {
    // One test, run in turn: both share the ring.
    ring_race(1, 100_000);
    ring_race(3, 50_000);
}
