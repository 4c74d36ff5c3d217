//! Tests of `logic::stall`: reports, back-off, OOM decisions, deadlines, budget.

use nfw_logic_tests::logic::knobs::{self, Knob};
use nfw_logic_tests::logic::stall::{
    self, backoff_sleep_capped, backoff_sleep_ms, lingers, next_deadline, oom_deadline, oom_due,
    report_due, Backoff, Budget, BudgetDecision, Policy,
};

const MS: u64 = 1_000_000;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
}

fn policy() -> Policy {
    Policy {
        stall_warn_ms: 10_000,
        warn_interval_ms: 30_000,
        backoff: Backoff::Exp,
        backoff_after_ms: 1_000,
        backoff_min_ms: 1,
        backoff_max_ms: 100,
        oom_after_ms: 30_000,
        oom_interval_ms: 5_000,
    }
}

#[test]
fn policy_from_defaults() {
    assert_eq!(Policy::from_values(&knobs::defaults()), policy());
    assert_eq!(Policy::default(), policy());
}

#[test]
fn policy_from_values_maps_every_field() {
    let mut v = [0u32; knobs::COUNT];
    for (i, slot) in v.iter_mut().enumerate() {
        *slot = 1000 + i as u32;
    }
    v[Knob::Backoff as usize] = 1;
    let p = Policy::from_values(&v);
    assert_eq!(p.stall_warn_ms, 1000 + Knob::StallWarnMs as u32);
    assert_eq!(p.warn_interval_ms, 1000 + Knob::WarnIntervalMs as u32);
    assert_eq!(p.backoff, Backoff::Fixed);
    assert_eq!(p.backoff_after_ms, 1000 + Knob::BackoffAfterMs as u32);
    assert_eq!(p.backoff_min_ms, 1000 + Knob::BackoffMinMs as u32);
    assert_eq!(p.backoff_max_ms, 1000 + Knob::BackoffMaxMs as u32);
    assert_eq!(p.oom_after_ms, 1000 + Knob::OomAfterMs as u32);
    assert_eq!(p.oom_interval_ms, 1000 + Knob::OomIntervalMs as u32);
}

#[test]
fn policy_invalid_backoff_index_is_off() {
    let mut v = knobs::defaults();
    for (idx, want) in [
        (0, Backoff::Off),
        (1, Backoff::Fixed),
        (2, Backoff::Exp),
        (3, Backoff::Off),
        (u32::MAX, Backoff::Off),
    ] {
        v[Knob::Backoff as usize] = idx;
        assert_eq!(Policy::from_values(&v).backoff, want);
    }
}

#[test]
fn backoff_words_match_knob() {
    let words = match Knob::Backoff.desc().kind {
        knobs::KnobKind::Words(w) => w,
        other => panic!("{other:?}"),
    };
    assert_eq!(words.len(), 3);
    for (i, w) in words.iter().enumerate() {
        let b = Backoff::from_index(i as u32).unwrap();
        assert_eq!(b as usize, i);
        assert_eq!(b.as_str(), *w);
    }
    assert_eq!(Backoff::from_index(3), None);
}

#[test]
fn ms_to_ns_never_overflows() {
    assert_eq!(stall::ms_to_ns(0), 0);
    assert_eq!(stall::ms_to_ns(1), MS);
    assert_eq!(stall::ms_to_ns(u32::MAX), u32::MAX as u64 * MS);
    assert_eq!(stall::elapsed(5, 3), 2);
    assert_eq!(stall::elapsed(3, 5), 0);
    assert_eq!(stall::elapsed(u64::MAX, 0), u64::MAX);
    assert_eq!(stall::elapsed(0, u64::MAX), 0);
}

#[test]
fn first_report_at_threshold() {
    let p = policy();
    let start = 123_456_789;
    let t = start + 10_000 * MS;
    assert!(!report_due(&p, start, start, None));
    assert!(!report_due(&p, t - 1, start, None));
    assert!(report_due(&p, t, start, None));
    assert!(report_due(&p, t + 1, start, None));
    assert!(report_due(&p, u64::MAX, start, None));
}

#[test]
fn repeated_reports_at_interval() {
    let p = policy();
    let start = 0;
    let last = 10_000 * MS;
    assert!(!report_due(&p, last, start, Some(last)));
    assert!(!report_due(&p, last + 30_000 * MS - 1, start, Some(last)));
    assert!(report_due(&p, last + 30_000 * MS, start, Some(last)));
    assert!(report_due(&p, u64::MAX, start, Some(last)));
}

#[test]
fn report_clock_backwards() {
    let p = policy();
    // now before start: elapsed 0.
    assert!(!report_due(&p, 0, u64::MAX, None));
    assert!(!report_due(&p, 5, 10, None));
    // now before the last report: elapsed 0.
    assert!(!report_due(&p, 5, 0, Some(u64::MAX)));
    // ... unless the thresholds are 0.
    let zero = Policy {
        stall_warn_ms: 0,
        warn_interval_ms: 0,
        ..p
    };
    assert!(report_due(&zero, 0, u64::MAX, None));
    assert!(report_due(&zero, 5, 0, Some(u64::MAX)));
    assert!(report_due(&zero, 0, 0, None));
    assert!(report_due(&zero, 0, 0, Some(0)));
}

#[test]
fn report_extreme_thresholds() {
    let p = Policy {
        stall_warn_ms: u32::MAX,
        warn_interval_ms: u32::MAX,
        ..policy()
    };
    let big = u32::MAX as u64 * MS;
    assert!(!report_due(&p, big - 1, 0, None));
    assert!(report_due(&p, big, 0, None));
    assert!(!report_due(&p, u64::MAX, u64::MAX - big + 1, None));
    assert!(report_due(&p, u64::MAX, u64::MAX - big, None));
    assert!(report_due(&p, u64::MAX, 0, Some(0)));
}

#[test]
fn backoff_off_and_before_threshold() {
    let p = Policy {
        backoff: Backoff::Off,
        ..policy()
    };
    for sleeps in [0, 1, 100, u32::MAX] {
        assert_eq!(backoff_sleep_ms(&p, u64::MAX, 0, sleeps), 0);
    }
    let p = policy();
    let start = 1_000;
    assert_eq!(backoff_sleep_ms(&p, start, start, 0), 0);
    assert_eq!(backoff_sleep_ms(&p, start + 1_000 * MS - 1, start, 0), 0);
    assert_eq!(backoff_sleep_ms(&p, start + 1_000 * MS, start, 0), 1);
    // Clock backwards: elapsed 0 < backoff_after_ms.
    assert_eq!(backoff_sleep_ms(&p, 0, u64::MAX, 5), 0);
}

#[test]
fn backoff_after_zero_sleeps_immediately() {
    let p = Policy {
        backoff_after_ms: 0,
        ..policy()
    };
    assert_eq!(backoff_sleep_ms(&p, 0, 0, 0), 1);
    // Even with the clock going backwards.
    assert_eq!(backoff_sleep_ms(&p, 0, u64::MAX, 0), 1);
}

#[test]
fn backoff_fixed() {
    let p = Policy {
        backoff: Backoff::Fixed,
        backoff_min_ms: 7,
        ..policy()
    };
    let now = 10_000 * MS;
    for sleeps in [0, 1, 2, 31, 32, 63, 64, 65, u32::MAX] {
        assert_eq!(backoff_sleep_ms(&p, now, 0, sleeps), 7);
    }
    let capped = Policy {
        backoff_min_ms: 500,
        backoff_max_ms: 100,
        ..p
    };
    assert_eq!(backoff_sleep_ms(&capped, now, 0, 0), 100);
}

#[test]
fn backoff_exponential() {
    let p = policy(); // 1 ms doubling up to 100 ms
    let now = 10_000 * MS;
    let got: Vec<u32> = (0..10).map(|n| backoff_sleep_ms(&p, now, 0, n)).collect();
    assert_eq!(got, [1, 2, 4, 8, 16, 32, 64, 100, 100, 100]);
    for sleeps in [31, 32, 33, 63, 64, 65, 1000, u32::MAX] {
        assert_eq!(backoff_sleep_ms(&p, now, 0, sleeps), 100, "{sleeps}");
    }
    let p3 = Policy {
        backoff_min_ms: 3,
        backoff_max_ms: 10_000,
        ..p
    };
    assert_eq!(backoff_sleep_ms(&p3, now, 0, 0), 3);
    assert_eq!(backoff_sleep_ms(&p3, now, 0, 11), 6144);
    assert_eq!(backoff_sleep_ms(&p3, now, 0, 12), 10_000);
}

#[test]
fn backoff_equal_and_inverted_bounds() {
    let now = u64::MAX;
    for backoff in [Backoff::Fixed, Backoff::Exp] {
        let eq = Policy {
            backoff,
            backoff_min_ms: 50,
            backoff_max_ms: 50,
            ..policy()
        };
        for sleeps in [0, 1, 40, u32::MAX] {
            assert_eq!(backoff_sleep_ms(&eq, now, 0, sleeps), 50);
        }
        let inv = Policy {
            backoff,
            backoff_min_ms: 10_000,
            backoff_max_ms: 1,
            ..policy()
        };
        for sleeps in [0, 1, 40, u32::MAX] {
            assert_eq!(backoff_sleep_ms(&inv, now, 0, sleeps), 1);
        }
        // Zero knobs (impossible through parse) still give a sleep of 1.
        let zero = Policy {
            backoff,
            backoff_min_ms: 0,
            backoff_max_ms: 0,
            ..policy()
        };
        for sleeps in [0, 1, 40, u32::MAX] {
            assert_eq!(backoff_sleep_ms(&zero, now, 0, sleeps), 1);
        }
        let huge = Policy {
            backoff,
            backoff_min_ms: u32::MAX,
            backoff_max_ms: u32::MAX,
            ..policy()
        };
        for sleeps in [0, 1, 40, u32::MAX] {
            assert_eq!(backoff_sleep_ms(&huge, now, 0, sleeps), u32::MAX);
        }
    }
}

#[test]
fn backoff_invariants() {
    let mut rng = Lcg(1);
    let interesting = [0u32, 1, 2, 3, 99, 100, 101, 10_000, u32::MAX / 2, u32::MAX];
    let pick = |rng: &mut Lcg| -> u32 {
        if rng.next() % 2 == 0 {
            interesting[(rng.next() % interesting.len() as u64) as usize]
        } else {
            rng.next() as u32
        }
    };
    for _ in 0..50_000 {
        let backoff = Backoff::from_index((rng.next() % 3) as u32).unwrap();
        let p = Policy {
            backoff,
            backoff_after_ms: pick(&mut rng),
            backoff_min_ms: pick(&mut rng),
            backoff_max_ms: pick(&mut rng),
            ..policy()
        };
        let now = rng.next();
        let start = if rng.next() % 4 == 0 {
            rng.next()
        } else {
            now.saturating_sub(rng.next() % (1 << 40))
        };
        let sleeps = pick(&mut rng);
        let ms = backoff_sleep_ms(&p, now, start, sleeps);
        let elapsed = now.saturating_sub(start);
        let active = backoff != Backoff::Off && elapsed >= p.backoff_after_ms as u64 * MS;
        if !active {
            assert_eq!(ms, 0);
            continue;
        }
        assert!(ms >= 1);
        assert!(ms <= p.backoff_max_ms.max(1));
        if backoff == Backoff::Exp {
            // Non-decreasing in the number of sleeps done.
            let next = backoff_sleep_ms(&p, now, start, sleeps.saturating_add(1));
            assert!(next >= ms);
            assert!(next <= ms.saturating_mul(2).max(1));
        }
    }
}

#[test]
fn oom_disabled_when_zero() {
    let p = Policy {
        oom_after_ms: 0,
        ..policy()
    };
    assert!(!oom_due(&p, u64::MAX, 0, None));
    assert!(!oom_due(&p, 0, 0, None));
    assert!(!oom_due(&p, u64::MAX, 0, Some(0)));
    assert_eq!(oom_deadline(&p, 0, None), None);
}

#[test]
fn oom_threshold_and_interval() {
    let p = policy();
    let start = 42;
    let t = start + 30_000 * MS;
    assert!(!oom_due(&p, t - 1, start, None));
    assert!(oom_due(&p, t, start, None));
    // A recent trigger (by this or another stall) delays it.
    let last = t - 1_000 * MS;
    assert!(!oom_due(&p, t, start, Some(last)));
    assert!(!oom_due(&p, last + 5_000 * MS - 1, start, Some(last)));
    assert!(oom_due(&p, last + 5_000 * MS, start, Some(last)));
    // An old trigger does not.
    assert!(oom_due(&p, t, start, Some(0)));
    // Trigger "in the future" (clock backwards): elapsed 0 < interval.
    assert!(!oom_due(&p, t, start, Some(u64::MAX)));
    // Clock backwards relative to the stall start.
    assert!(!oom_due(&p, 0, u64::MAX, None));
    // Zero interval (impossible through parse) means no rate limit.
    let p0 = Policy {
        oom_interval_ms: 0,
        ..p
    };
    assert!(oom_due(&p0, t, start, Some(t)));
    assert!(oom_due(&p0, t, start, Some(u64::MAX)));
}

#[test]
fn oom_deadline_matches_oom_due() {
    let p = policy();
    assert_eq!(oom_deadline(&p, 0, None), Some(30_000 * MS));
    assert_eq!(oom_deadline(&p, 0, Some(28_000 * MS)), Some(33_000 * MS));
    assert_eq!(oom_deadline(&p, 0, Some(0)), Some(30_000 * MS));
    assert_eq!(oom_deadline(&p, u64::MAX - 5, None), Some(u64::MAX));
    assert_eq!(oom_deadline(&p, 0, Some(u64::MAX - 5)), Some(u64::MAX));
    let mut rng = Lcg(99);
    for _ in 0..50_000 {
        let base = rng.next() % (1 << 50);
        let start = base + rng.next() % (1 << 36);
        let last = if rng.next() % 3 == 0 {
            None
        } else {
            Some(base + rng.next() % (1 << 37))
        };
        let d = oom_deadline(&p, start, last).unwrap();
        assert!(oom_due(&p, d, start, last));
        if d > 0 {
            assert!(!oom_due(&p, d - 1, start, last));
        }
    }
}

#[test]
fn next_deadline_basic() {
    let p = policy();
    let start = 1_000 * MS;
    // First report at start + 10 s; OOM (30 s) is later.
    assert_eq!(
        next_deadline(&p, start, start, None, true),
        start + 10_000 * MS
    );
    assert_eq!(
        next_deadline(&p, start, start, None, false),
        start + 10_000 * MS
    );
    // After a report at 10 s: next report at 40 s, OOM at 30 s if pending.
    let last = start + 10_000 * MS;
    assert_eq!(
        next_deadline(&p, last, start, Some(last), false),
        last + 30_000 * MS
    );
    assert_eq!(
        next_deadline(&p, last, start, Some(last), true),
        start + 30_000 * MS
    );
    // OOM disabled: flag ignored.
    let no_oom = Policy {
        oom_after_ms: 0,
        ..p
    };
    assert_eq!(
        next_deadline(&no_oom, last, start, Some(last), true),
        last + 30_000 * MS
    );
    // OOM earlier than the first report.
    let early = Policy {
        oom_after_ms: 500,
        ..p
    };
    assert_eq!(
        next_deadline(&early, start, start, None, true),
        start + 500 * MS
    );
    assert_eq!(
        next_deadline(&early, start, start, None, false),
        start + 10_000 * MS
    );
}

#[test]
fn next_deadline_already_due_is_now() {
    let p = policy();
    let start = 0;
    let now = 20_000 * MS; // first report overdue
    assert_eq!(next_deadline(&p, now, start, None, false), now);
    // OOM threshold passed but flag set: due now.
    let now = 35_000 * MS;
    assert_eq!(next_deadline(&p, now, start, Some(now), true), now);
    assert_eq!(
        next_deadline(&p, now, start, Some(now), false),
        now + 30_000 * MS
    );
    // Zero thresholds.
    let zero = Policy {
        stall_warn_ms: 0,
        warn_interval_ms: 0,
        ..p
    };
    assert_eq!(next_deadline(&zero, 7, 7, None, false), 7);
    assert_eq!(next_deadline(&zero, 7, 7, Some(7), false), 7);
}

#[test]
fn next_deadline_saturates_and_handles_clock_backwards() {
    let p = policy();
    assert_eq!(next_deadline(&p, u64::MAX, u64::MAX, None, true), u64::MAX);
    assert_eq!(next_deadline(&p, 0, u64::MAX - 1, None, true), u64::MAX);
    assert_eq!(next_deadline(&p, 0, 0, Some(u64::MAX), false), u64::MAX);
    // Start in the future (clock backwards): deadline counts from start.
    assert_eq!(next_deadline(&p, 5, 100, None, false), 100 + 10_000 * MS);
    // Last report in the future.
    assert_eq!(next_deadline(&p, 5, 0, Some(100), false), 100 + 30_000 * MS);
    let huge = Policy {
        stall_warn_ms: u32::MAX,
        warn_interval_ms: u32::MAX,
        oom_after_ms: u32::MAX,
        ..p
    };
    assert_eq!(
        next_deadline(&huge, u64::MAX - 1, u64::MAX - 1, None, true),
        u64::MAX
    );
}

#[test]
fn next_deadline_is_exact() {
    // At the returned deadline something is due; strictly before it nothing is.
    let mut rng = Lcg(2024);
    for _ in 0..50_000 {
        let p = Policy {
            stall_warn_ms: (rng.next() % 20_000) as u32,
            warn_interval_ms: (rng.next() % 20_000) as u32,
            oom_after_ms: (rng.next() % 40_000) as u32,
            ..policy()
        };
        let base = rng.next() % (1 << 50);
        let start = base + rng.next() % (1 << 36);
        let now = base + rng.next() % (1 << 37);
        let last = if rng.next() % 2 == 0 {
            None
        } else {
            Some(start + rng.next() % (1 << 36))
        };
        let pending = rng.next() % 2 == 0;
        let oom_reached = |t: u64| {
            pending && p.oom_after_ms != 0 && t.saturating_sub(start) >= p.oom_after_ms as u64 * MS
        };
        let d = next_deadline(&p, now, start, last, pending);
        assert!(d >= now);
        assert!(report_due(&p, d, start, last) || oom_reached(d));
        if d > now {
            assert!(!report_due(&p, d - 1, start, last));
            assert!(!oom_reached(d - 1));
        }
    }
}

#[test]
fn budget_sequence() {
    let mut b = Budget::new(3);
    let got: Vec<BudgetDecision> = (0..6).map(|_| b.take()).collect();
    use BudgetDecision::*;
    assert_eq!(
        got,
        [Print, Print, Print, AnnounceSuppressed, Silent, Silent]
    );
    assert_eq!(b.printed, 3);
    assert!(b.suppressed_announced);
    b.reset(1);
    assert_eq!(b, Budget::new(1));
    assert_eq!(b.take(), Print);
    assert_eq!(b.take(), AnnounceSuppressed);
    assert_eq!(b.take(), Silent);
}

#[test]
fn budget_zero() {
    use BudgetDecision::*;
    let mut b = Budget::new(0);
    assert_eq!(b.take(), AnnounceSuppressed);
    assert_eq!(b.take(), Silent);
    assert_eq!(b.take(), Silent);
    assert_eq!(b.printed, 0);
    b.reset(0);
    assert_eq!(b.take(), AnnounceSuppressed);
    b.reset(2);
    assert_eq!(b.take(), Print);
}

#[test]
fn budget_extremes() {
    use BudgetDecision::*;
    let mut b = Budget {
        max: u32::MAX,
        printed: u32::MAX - 1,
        suppressed_announced: false,
    };
    assert_eq!(b.take(), Print);
    assert_eq!(b.printed, u32::MAX);
    assert_eq!(b.take(), AnnounceSuppressed);
    assert_eq!(b.take(), Silent);
    // Lowering max below what was printed (fields written directly).
    let mut b = Budget {
        max: 2,
        printed: 10,
        suppressed_announced: false,
    };
    assert_eq!(b.take(), AnnounceSuppressed);
    assert_eq!(b.take(), Silent);
    let mut b = Budget::new(1_000_000);
    for _ in 0..1_000_000 {
        assert_eq!(b.take(), Print);
    }
    assert_eq!(b.take(), AnnounceSuppressed);
}

#[test]
fn backoff_capped_by_the_oom_deadline() {
    let p = Policy {
        backoff: Backoff::Fixed,
        backoff_after_ms: 0,
        backoff_min_ms: 100,
        backoff_max_ms: 100,
        ..policy()
    };
    // No deadline (the stall never reached the OOM killer): not capped.
    assert_eq!(backoff_sleep_capped(&p, 0, 0, 0, None), 100);
    // The deadline is 30.5 ms away: the sleep ends by then (rounded up).
    assert_eq!(
        backoff_sleep_capped(&p, 0, 0, 0, Some(30 * MS + MS / 2)),
        31
    );
    // Far away: the policy's sleep.
    assert_eq!(backoff_sleep_capped(&p, 0, 0, 0, Some(10_000 * MS)), 100);
    // Due or past: 1 ms, never 0 (0 means "no back-off").
    assert_eq!(backoff_sleep_capped(&p, 5 * MS, 0, 0, Some(5 * MS)), 1);
    assert_eq!(backoff_sleep_capped(&p, 9 * MS, 0, 0, Some(5 * MS)), 1);
    // No back-off stays no back-off, deadline or not.
    let off = Policy {
        backoff: Backoff::Off,
        ..p
    };
    assert_eq!(backoff_sleep_capped(&off, 0, 0, 0, Some(0)), 0);
}

#[test]
fn short_sleeps_right_after_a_kill() {
    let p = Policy {
        backoff_min_ms: 3,
        ..policy()
    };
    // No kill: as it is.
    assert_eq!(stall::after_kill_cap(&p, 10 * MS, None, 100), 100);
    // Just after a kill: at most backoff_min_ms.
    assert_eq!(stall::after_kill_cap(&p, 10 * MS, Some(10 * MS), 100), 3);
    assert_eq!(
        stall::after_kill_cap(&p, 10 * MS + stall::AFTER_KILL_NS - 1, Some(10 * MS), 100),
        3
    );
    // Long enough after it: as it is.
    assert_eq!(
        stall::after_kill_cap(&p, 10 * MS + stall::AFTER_KILL_NS, Some(10 * MS), 100),
        100
    );
    // No sleep stays no sleep; a 0 minimum still sleeps 1 ms.
    assert_eq!(stall::after_kill_cap(&p, 10 * MS, Some(10 * MS), 0), 0);
    let z = Policy {
        backoff_min_ms: 0,
        ..p
    };
    assert_eq!(stall::after_kill_cap(&z, 10 * MS, Some(10 * MS), 100), 1);
    // A kill "in the future" (clock went backwards): no cap.
    assert_eq!(stall::after_kill_cap(&p, 5 * MS, Some(10 * MS), 100), 100);
}

#[test]
fn only_fruitless_slow_allocations_linger() {
    let min = 50 * MS;
    assert!(lingers(min, min, true));
    assert!(lingers(u64::MAX, min, true));
    // Slow, but its last round made progress: the stall ends.
    assert!(!lingers(10_000 * MS, min, false));
    // Quick: ends, whatever the last round did.
    assert!(!lingers(min - 1, min, true));
    assert!(!lingers(0, min, false));
}
