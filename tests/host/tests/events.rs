//! Tests of `logic::events`: the uevent rate limit, the backoff polling
//! schedule and the text of the `events` file and of a uevent.

use nfw_logic_tests::logic::events::{
    self, backoff_check_at, holds_uevents, uevent_allowed, under_pressure, verdict_holds, Event,
    EventKind, RateLimit, BACKOFF_POLL_FOR_NS, BACKOFF_POLL_NS, PRESSURE_NS, UEVENT_BURST,
    UEVENT_REFILL_NS, VERDICT_HOLD_NS,
};
use nfw_logic_tests::logic::gfp;
use nfw_logic_tests::logic::stall::{Backoff, Policy};

const MS: u64 = 1_000_000;

#[test]
fn kinds_round_trip() {
    for (i, k) in EventKind::ALL.iter().enumerate() {
        assert_eq!(EventKind::from_u32(i as u32), Some(*k));
        assert_eq!(*k as usize, i);
    }
    assert_eq!(EventKind::from_u32(4), None);
    assert_eq!(EventKind::from_u32(u32::MAX), None);
    let names: Vec<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names, ["stall", "backoff", "oom", "end"]);
}

#[test]
fn burst_then_refill() {
    let mut r = RateLimit::new();
    let t0 = 5_000 * MS;
    for i in 0..UEVENT_BURST {
        assert!(r.take(t0), "token {i} of the burst");
    }
    assert!(!r.take(t0), "bucket empty");
    assert!(!r.take(t0 + UEVENT_REFILL_NS - 1), "not refilled yet");
    assert!(r.take(t0 + UEVENT_REFILL_NS), "one token per refill period");
    assert!(!r.take(t0 + UEVENT_REFILL_NS));
    // Three periods later: three tokens, not more.
    let t1 = t0 + 4 * UEVENT_REFILL_NS;
    assert!(r.take(t1) && r.take(t1) && r.take(t1));
    assert!(!r.take(t1));
}

#[test]
fn sustained_rate_is_bounded() {
    // 1000 events/s for 10 s: at most burst + 10 s / refill period get through.
    let mut r = RateLimit::new();
    let sent = (0..10_000u64).filter(|i| r.take(i * MS)).count() as u64;
    let max = u64::from(UEVENT_BURST) + 10_000 * MS / UEVENT_REFILL_NS;
    assert!(sent <= max, "{sent} > {max}");
    assert!(sent >= max - 1, "{sent} too few");
}

#[test]
fn idle_refills_to_burst_only() {
    let mut r = RateLimit::new();
    for _ in 0..UEVENT_BURST {
        assert!(r.take(0));
    }
    // A long idle time gives back the burst, not more.
    let t = 3_600_000 * MS;
    let n = (0..100).filter(|_| r.take(t)).count() as u32;
    assert_eq!(n, UEVENT_BURST);
    // A full bucket does not bank time while unused.
    let mut r = RateLimit::new();
    assert!(r.take(0));
    let n = (0..100).filter(|_| r.take(100 * UEVENT_REFILL_NS)).count() as u32;
    assert_eq!(n, UEVENT_BURST);
    assert!(!r.take(100 * UEVENT_REFILL_NS + 1));
}

#[test]
fn clock_going_backwards_is_harmless() {
    let mut r = RateLimit::new();
    for _ in 0..UEVENT_BURST {
        assert!(r.take(u64::MAX - 1));
    }
    assert!(!r.take(0));
    assert!(!r.take(u64::MAX));
}

#[test]
fn oom_bypasses_the_limit() {
    let mut r = RateLimit::new();
    while r.take(0) {}
    assert!(!uevent_allowed(EventKind::Stall, &mut r, 0));
    assert!(!uevent_allowed(EventKind::End, &mut r, 0));
    assert!(!uevent_allowed(EventKind::Backoff, &mut r, 0));
    assert!(uevent_allowed(EventKind::Oom, &mut r, 0));
}

fn policy(backoff: Backoff, after_ms: u32) -> Policy {
    Policy {
        backoff,
        backoff_after_ms: after_ms,
        ..Policy::default()
    }
}

#[test]
fn backoff_polling() {
    let p = policy(Backoff::Exp, 1000);
    let start = 10_000 * MS;
    // Before backoff_after_ms: look when it is reached.
    assert_eq!(backoff_check_at(&p, start, start), Some(start + 1000 * MS));
    assert_eq!(
        backoff_check_at(&p, start + 999 * MS, start),
        Some(start + 1000 * MS)
    );
    // Late: poll.
    let due = start + 1000 * MS;
    assert_eq!(
        backoff_check_at(&p, due, start),
        Some(due + BACKOFF_POLL_NS)
    );
    let late = due + BACKOFF_POLL_FOR_NS;
    assert_eq!(
        backoff_check_at(&p, late, start),
        Some(late + BACKOFF_POLL_NS)
    );
    // Too late: give up.
    assert_eq!(backoff_check_at(&p, late + 1, start), None);
    // Back-off off: never.
    assert_eq!(
        backoff_check_at(&policy(Backoff::Off, 1000), start, start),
        None
    );
    // Saturation.
    assert_eq!(
        backoff_check_at(&policy(Backoff::Fixed, 3_600_000), 0, u64::MAX - 1),
        Some(u64::MAX)
    );
}

#[derive(Clone, Copy)]
struct Comm(&'static str);

impl std::fmt::Display for Comm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

fn sample(kind: EventKind) -> Event<Comm> {
    Event {
        seq: 17,
        time_ns: 123_456_789_000,
        kind,
        pid: 95,
        comm: Comm("nfw_stall/1"),
        gfp: gfp::GFP_NOFS | gfp::NOFAIL,
        order: 2,
        ms: 1502,
    }
}

#[test]
fn line_format() {
    let mut s = String::new();
    sample(EventKind::Stall).write_line(&mut s).unwrap();
    assert_eq!(
        s,
        "17 123456789000 stall 95 nfw_stall/1 2 1502 GFP_NOFS|__GFP_NOFAIL\n"
    );
    // As many fields as the header names.
    assert_eq!(
        s.split_whitespace().count(),
        events::HEADER.split_whitespace().count()
    );
}

#[test]
fn env_format() {
    let mut s = String::new();
    sample(EventKind::Oom).write_env(0, &mut s).unwrap();
    let vars: Vec<_> = s.split_terminator('\0').collect();
    assert_eq!(
        vars,
        [
            "NOFAIL_EVENT=oom",
            "NOFAIL_SEQ=17",
            "PID=95",
            "COMM=nfw_stall/1",
            "GFP=GFP_NOFS|__GFP_NOFAIL",
            "ORDER=2",
            "MS=1502"
        ]
    );
    assert!(s.ends_with('\0'));
    let mut s = String::new();
    sample(EventKind::End).write_env(3, &mut s).unwrap();
    assert!(s.starts_with("NOFAIL_EVENT=end\0"));
    assert!(s.ends_with("\0NOFAIL_DROPPED=3\0"));
}

#[test]
fn env_fits_the_module_buffer() {
    // The module formats a uevent into 512 bytes: the longest comm (16
    // bytes, each escaped as \xNN) and every gfp bit set must fit.
    let comm =
        Comm("\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff");
    let ev = Event {
        comm,
        gfp: u32::MAX,
        ms: u64::MAX,
        seq: u64::MAX,
        pid: i32::MIN,
        order: u32::MAX,
        ..sample(EventKind::Backoff)
    };
    let mut s = String::new();
    ev.write_env(u32::MAX, &mut s).unwrap();
    assert!(s.len() < 512, "{} bytes", s.len());
    let mut l = String::new();
    ev.write_line(&mut l).unwrap();
    // Even lines this long leave room for 8 events in a 4096-byte page
    // (the module shows as many of the newest as fit).
    assert!(l.len() < 4096 / 8, "{} bytes", l.len());
}

#[test]
fn uevents_held_only_where_the_kernel_called_out_of_memory() {
    for pressure in [false, true] {
        // In the allocator, in scope, out_of_memory() called: held.
        assert!(holds_uevents(true, true, 1, pressure));
        assert!(holds_uevents(true, true, u32::MAX, pressure));
        // Between two allocations, or over.
        assert!(!holds_uevents(true, false, 5, pressure));
        // Not in the scope (not reported, not acted on).
        assert!(!holds_uevents(false, true, 5, pressure));
    }
    // Never called out_of_memory() (lowmem, costly order, still
    // reclaiming): held only if memory was found exhausted lately.
    assert!(!holds_uevents(true, true, 0, false));
    assert!(holds_uevents(true, true, 0, true));
    assert!(!holds_uevents(true, false, 0, true));
}

#[test]
fn pressure_lasts_a_while_after_the_last_verdict() {
    let t = 100_000 * MS;
    assert!(!under_pressure(t, None));
    assert!(under_pressure(t, Some(t)));
    assert!(under_pressure(t + PRESSURE_NS - 1, Some(t)));
    assert!(!under_pressure(t + PRESSURE_NS, Some(t)));
    assert!(under_pressure(t, Some(t + MS)));
}

#[test]
fn uevents_held_for_a_while_after_the_last_verdict() {
    let t = 100_000 * MS;
    // No verdict yet: nothing held.
    assert!(!verdict_holds(t, None));
    assert!(!verdict_holds(0, None));
    // Held from the verdict until VERDICT_HOLD_NS after it, not longer.
    assert!(verdict_holds(t, Some(t)));
    assert!(verdict_holds(t + VERDICT_HOLD_NS - 1, Some(t)));
    assert!(!verdict_holds(t + VERDICT_HOLD_NS, Some(t)));
    assert!(!verdict_holds(u64::MAX, Some(t)));
    // A verdict stamped on another CPU just after the reader's `now`.
    assert!(verdict_holds(t, Some(t + MS)));
}

#[test]
fn guest_test_38_checks_the_module_hold() {
    // Test 38 checks the hold on a trace with its own copy of the constant.
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest/38-trace-events.sh");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let copy = text
        .lines()
        .find_map(|l| l.strip_prefix("VERDICT_HOLD_NS="))
        .expect("no VERDICT_HOLD_NS= line in test 38");
    assert_eq!(
        copy.parse::<u64>(),
        Ok(VERDICT_HOLD_NS),
        "test 38's VERDICT_HOLD_NS"
    );
}
