//! `nfwctl metrics`: the module's counters, knobs and slow-path histogram in
//! the Prometheus text exposition format, for node_exporter's textfile
//! collector (`--collector.textfile.directory`).

use crate::parse::{Bucket, Stall};
use nfw_logic::logic::knobs::{Knob, KnobKind};
use std::fmt::Write;

/// Prefix of every metric name.
const P: &str = "nofail_watchdog";

/// Stats that are gauges (everything else in `stats` only grows).
const GAUGES: &[&str] = &[
    "stalls_active",
    "in_flight",
    "slots_in_use",
    "longest_stall_ms",
];

fn help(stat: &str) -> &'static str {
    match stat {
        "stalls_detected" => "Stalls reported (first report of each).",
        "stalls_active" => "Tracked allocations stuck longer than stall_warn_ms now.",
        "stalls_ended" => "Reported stalls that have ended.",
        "longest_stall_ms" => "Longest time a tracked allocation spent in the slow path (seconds).",
        "reports" => "Stall reports printed.",
        "reports_suppressed" => "Stall reports not printed (max_warnings budget).",
        "tracked" => "Slow-path allocations in scope followed.",
        "in_flight" => "Tracked allocations in the allocator now.",
        "slots_in_use" => "Tracking slots in use (in the allocator or lingering).",
        "overflow" => "Allocations not tracked because the table was full.",
        "retries" => "Retry rounds (direct reclaim calls) of tracked allocations.",
        "backoff_sleeps" => "Back-off sleeps.",
        "backoff_slept_ms" => "Time slept in back-off (seconds).",
        "oom_calls" => "out_of_memory() calls made by tracked stalled allocations.",
        "oom_triggers" => "Stalls' out_of_memory() calls shown __GFP_FS, deferred ones included.",
        "oom_kills" => "Triggered calls after which the kernel killed a task.",
        "oom_deferred" => "Triggered calls in which the kernel waited for an exiting victim.",
        "adopted" => "Stalls adopted: in the slow path already when the module loaded.",
        "probe_missed" => "Slow-path calls the kretprobe could not follow.",
        "events" => "Events recorded (stall, backoff, oom, end).",
        "uevents_sent" => "Uevents sent.",
        "uevents_dropped" => "Uevents not sent because of the rate limit.",
        "uevents_failed" => "Uevents that could not be sent (no memory).",
        "uevent_holds" => "Times uevents were held back while memory was exhausted.",
        _ => "Counter from the stats file.",
    }
}

/// Escapes a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// What `render` needs; `None` parts are left out.
pub struct Input<'a> {
    /// Whether the module is loaded.
    pub up: bool,
    pub stats: &'a [(String, u64)],
    /// (knob, value as the module shows it)
    pub knobs: &'a [(Knob, String)],
    pub histogram: Option<&'a [Bucket]>,
    /// `None` when not readable (not root).
    pub stalls: Option<&'a [Stall]>,
}

/// Renders the metrics.
pub fn render(i: &Input) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# HELP {P}_up Whether the nofail_watchdog module is loaded."
    );
    let _ = writeln!(o, "# TYPE {P}_up gauge");
    let _ = writeln!(o, "{P}_up {}", u8::from(i.up));
    for (k, v) in i.stats {
        let gauge = GAUGES.contains(&k.as_str());
        // Prometheus's base unit of time is the second: a stat in
        // milliseconds is exported in seconds, under that name.
        let (base, value) = match k.strip_suffix("_ms") {
            Some(b) => (format!("{b}_seconds"), (*v as f64 / 1000.0).to_string()),
            None => (k.clone(), v.to_string()),
        };
        let name = if gauge {
            format!("{P}_{base}")
        } else {
            format!("{P}_{base}_total")
        };
        let _ = writeln!(o, "# HELP {name} {}", help(k));
        let _ = writeln!(
            o,
            "# TYPE {name} {}",
            if gauge { "gauge" } else { "counter" }
        );
        let _ = writeln!(o, "{name} {value}");
    }
    if !i.knobs.is_empty() {
        let _ = writeln!(o, "# HELP {P}_knob Numeric and boolean knob values.");
        let _ = writeln!(o, "# TYPE {P}_knob gauge");
        for (k, v) in i.knobs {
            if !matches!(k.desc().kind, KnobKind::Words(_)) {
                let _ = writeln!(o, "{P}_knob{{knob=\"{}\"}} {}", k.name(), label(v));
            }
        }
        let _ = writeln!(
            o,
            "# HELP {P}_knob_info Word-valued knobs (value in the label)."
        );
        let _ = writeln!(o, "# TYPE {P}_knob_info gauge");
        for (k, v) in i.knobs {
            if matches!(k.desc().kind, KnobKind::Words(_)) {
                let _ = writeln!(
                    o,
                    "{P}_knob_info{{knob=\"{}\",value=\"{}\"}} 1",
                    k.name(),
                    label(v)
                );
            }
        }
    }
    if let Some(stalls) = i.stalls {
        let name = format!("{P}_oldest_stall_seconds");
        let _ = writeln!(
            o,
            "# HELP {name} Age of the oldest tracked allocation in the allocator now (0: none)."
        );
        let _ = writeln!(o, "# TYPE {name} gauge");
        let oldest = stalls.iter().map(|s| s.ms).max().unwrap_or(0);
        let _ = writeln!(o, "{name} {}", oldest as f64 / 1000.0);
    }
    if let Some(h) = i.histogram {
        // Cumulative buckets with upper bounds in seconds. The file has no
        // sum of durations, so there is no _sum.
        let name = format!("{P}_slowpath_duration_seconds");
        let _ = writeln!(
            o,
            "# HELP {name} Slow-path durations of tracked allocations (log2 buckets)."
        );
        let _ = writeln!(o, "# TYPE {name} histogram");
        let mut cum = 0u64;
        for b in h {
            cum = cum.saturating_add(b.count);
            if b.high_us == u64::MAX {
                continue;
            }
            let le = (b.high_us as f64 + 1.0) / 1e6;
            let _ = writeln!(o, "{name}_bucket{{le=\"{le}\"}} {cum}");
        }
        let _ = writeln!(o, "{name}_bucket{{le=\"+Inf\"}} {cum}");
        let _ = writeln!(o, "{name}_count {cum}");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_knobs_and_histogram() {
        let stats = vec![
            ("stalls_detected".to_string(), 3),
            ("in_flight".to_string(), 2),
            ("longest_stall_ms".to_string(), 30097),
            ("backoff_slept_ms".to_string(), 55354),
        ];
        let knobs = vec![
            (Knob::StallWarnMs, "10000".to_string()),
            (Knob::Scope, "nofs".to_string()),
        ];
        let hist = vec![
            Bucket {
                low_us: 0,
                high_us: 1,
                count: 4,
            },
            Bucket {
                low_us: 2,
                high_us: 3,
                count: 6,
            },
        ];
        let out = render(&Input {
            up: true,
            stats: &stats,
            knobs: &knobs,
            histogram: Some(&hist),
            stalls: Some(&[]),
        });
        for want in [
            "nofail_watchdog_up 1\n",
            "# TYPE nofail_watchdog_stalls_detected_total counter\nnofail_watchdog_stalls_detected_total 3\n",
            "# TYPE nofail_watchdog_in_flight gauge\nnofail_watchdog_in_flight 2\n",
            "# TYPE nofail_watchdog_longest_stall_seconds gauge\nnofail_watchdog_longest_stall_seconds 30.097\n",
            "# TYPE nofail_watchdog_backoff_slept_seconds_total counter\nnofail_watchdog_backoff_slept_seconds_total 55.354\n",
            "nofail_watchdog_knob{knob=\"stall_warn_ms\"} 10000\n",
            "nofail_watchdog_knob_info{knob=\"scope\",value=\"nofs\"} 1\n",
            "nofail_watchdog_oldest_stall_seconds 0\n",
            "nofail_watchdog_slowpath_duration_seconds_bucket{le=\"0.000002\"} 4\n",
            "nofail_watchdog_slowpath_duration_seconds_bucket{le=\"0.000004\"} 10\n",
            "nofail_watchdog_slowpath_duration_seconds_bucket{le=\"+Inf\"} 10\n",
            "nofail_watchdog_slowpath_duration_seconds_count 10\n",
        ] {
            assert!(out.contains(want), "missing {want:?} in\n{out}");
        }
        assert!(!out.contains("_ms "), "a metric in milliseconds:\n{out}");
        // Every sample line is `name{labels} value` with a numeric value,
        // and every metric has HELP and TYPE before its samples.
        for l in out.lines().filter(|l| !l.starts_with('#')) {
            let v = l.rsplit(' ').next().unwrap();
            assert!(v.parse::<f64>().is_ok(), "{l}");
            let name = l.split(['{', ' ']).next().unwrap();
            let base = name.trim_end_matches("_bucket").trim_end_matches("_count");
            assert!(
                out.contains(&format!("# TYPE {base} ")),
                "no TYPE for {name}"
            );
        }
    }

    #[test]
    fn module_not_loaded() {
        let out = render(&Input {
            up: false,
            stats: &[],
            knobs: &[],
            histogram: None,
            stalls: None,
        });
        assert_eq!(
            out,
            "# HELP nofail_watchdog_up Whether the nofail_watchdog module is loaded.\n\
             # TYPE nofail_watchdog_up gauge\nnofail_watchdog_up 0\n"
        );
    }

    #[test]
    fn every_module_stat_has_its_own_help() {
        // The stats file of the module, in its order (rust/sysfs.rs).
        for k in [
            "stalls_detected",
            "stalls_active",
            "stalls_ended",
            "longest_stall_ms",
            "reports",
            "reports_suppressed",
            "tracked",
            "in_flight",
            "slots_in_use",
            "overflow",
            "retries",
            "backoff_sleeps",
            "backoff_slept_ms",
            "oom_calls",
            "oom_triggers",
            "oom_kills",
            "oom_deferred",
            "adopted",
            "probe_missed",
            "events",
            "uevents_sent",
            "uevents_dropped",
            "uevents_failed",
            "uevent_holds",
        ] {
            assert_ne!(help(k), help("no_such_stat"), "{k} has no help text");
        }
        // Gone from the module: a counter of triggers that found no victim
        // (the kernel now panics then, as for any __GFP_FS allocation).
        assert_eq!(help("oom_no_victim"), help("no_such_stat"));
    }

    #[test]
    fn escapes_labels() {
        assert_eq!(label("a\"b\\c\n"), "a\\\"b\\\\c\\n");
    }
}
