//! nfwctl: the userspace companion of the nofail_watchdog kernel module.
//!
//! Reads `/sys/kernel/nofail_watchdog/` (or `--sysfs DIR`): `status` shows
//! knobs, counters and the allocations stuck now; `watch` follows the
//! pollable `events` file; `set` validates a knob value with the module's
//! own parser (rust/logic) before writing it; `metrics` prints Prometheus
//! text for node_exporter's textfile collector.

mod journal;
mod metrics;
mod parse;
mod watch;

use clap::{Parser, Subcommand, ValueEnum};
use nfw_logic::logic::knobs::{self, Knob};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const DEFAULT_DIR: &str = "/sys/kernel/nofail_watchdog";

#[derive(Parser)]
#[command(
    name = "nfwctl",
    version,
    about = "Control and observe the nofail_watchdog kernel module"
)]
struct Cli {
    /// JSON output (status, get, set, watch: one object per line)
    #[arg(long, global = true)]
    json: bool,
    /// The module's sysfs directory
    #[arg(long, global = true, env = "NFW_SYSFS", default_value = DEFAULT_DIR)]
    sysfs: PathBuf,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Knobs, counters and the allocations stuck right now
    Status,
    /// Print one line per event (stall, backoff, oom, end) as it happens
    Watch {
        /// Exit with status 3 at the first oom event (the module triggered a kill)
        #[arg(long)]
        exit_on_kill: bool,
        /// Exit with status 0 after this many events
        #[arg(long)]
        count: Option<u64>,
        /// Exit with status 124 after this many seconds
        #[arg(long)]
        timeout: Option<f64>,
        /// Print the events still in the file first
        #[arg(long)]
        from_start: bool,
        /// Send events to the systemd journal with structured fields
        /// (NOFAIL_EVENT=, NOFAIL_PID=, ...) instead of printing them; auto:
        /// when stdout is the journal ($JOURNAL_STREAM) and --json is not given
        #[arg(long, value_enum, default_value_t = JournalMode::Auto,
              num_args = 0..=1, require_equals = true, default_missing_value = "always")]
        journal: JournalMode,
        /// journald's native socket
        #[arg(long, env = "NFW_JOURNAL_SOCKET", default_value = journal::SOCKET, hide = true)]
        journal_socket: PathBuf,
    },
    /// Read one knob, or all
    Get { knob: Option<String> },
    /// Validate a knob value with the module's rules, then write it
    Set {
        knob: String,
        /// The value, exactly as it would be written to the sysfs file
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// Prometheus text format (node_exporter textfile collector)
    Metrics {
        /// Write to this file atomically (temporary file + rename) instead of stdout
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum JournalMode {
    Auto,
    Always,
    Never,
}

impl JournalMode {
    /// Whether to log to the journal, given `--json` and whether stdout is
    /// the journal stream.
    fn wanted(self, json: bool, stdout_is_journal: bool) -> bool {
        match self {
            JournalMode::Always => true,
            JournalMode::Never => false,
            JournalMode::Auto => !json && stdout_is_journal,
        }
    }
}

fn read(dir: &Path, name: &str) -> Result<String, String> {
    std::fs::read_to_string(dir.join(name))
        .map_err(|e| format!("{}: {e}", dir.join(name).display()))
}

fn check_loaded(dir: &Path) -> Result<(), String> {
    if dir.join("stats").exists() {
        Ok(())
    } else {
        Err(format!(
            "{} not found: is the nofail_watchdog module loaded?",
            dir.display()
        ))
    }
}

fn knob_values(dir: &Path) -> Result<Vec<(Knob, String)>, String> {
    knobs::ALL
        .iter()
        .map(|&k| read(dir, k.name()).map(|v| (k, v.trim().to_string())))
        .collect()
}

#[derive(Serialize)]
struct KnobJson {
    name: &'static str,
    value: String,
    default: String,
    valid: String,
    help: &'static str,
}

#[derive(Serialize)]
struct StatusJson {
    sysfs: String,
    knobs: Vec<KnobJson>,
    stats: serde_json::Map<String, serde_json::Value>,
    /// `null` when `stalls` is not readable (root only).
    stalls: Option<Vec<parse::Stall>>,
}

fn status(dir: &Path, json: bool) -> Result<String, String> {
    check_loaded(dir)?;
    let knobs = knob_values(dir)?;
    let stats = parse::stats(&read(dir, "stats")?)?;
    let stalls = match std::fs::read_to_string(dir.join("stalls")) {
        Ok(t) => Some(parse::stalls(&t)?),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => None,
        Err(e) => return Err(format!("stalls: {e}")),
    };
    if json {
        let s = StatusJson {
            sysfs: dir.display().to_string(),
            knobs: knobs
                .iter()
                .map(|(k, v)| KnobJson {
                    name: k.name(),
                    value: v.clone(),
                    default: parse::default_text(*k),
                    valid: parse::kind_name(&k.desc().kind),
                    help: k.desc().help,
                })
                .collect(),
            stats: stats
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::from(*v)))
                .collect(),
            stalls,
        };
        return serde_json::to_string_pretty(&s).map_err(|e| e.to_string());
    }
    let mut o = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(o, "nofail_watchdog ({})\n", dir.display());
    let _ = writeln!(o, "{:<18} {:<8} {:<8} VALID", "KNOB", "VALUE", "DEFAULT");
    for (k, v) in &knobs {
        let d = parse::default_text(*k);
        let mark = if *v != d { " *" } else { "" };
        let _ = writeln!(
            o,
            "{:<18} {:<8} {:<8} {}{}",
            k.name(),
            v,
            d,
            parse::kind_name(&k.desc().kind),
            mark
        );
    }
    let _ = writeln!(o, "\n{:<26} VALUE", "COUNTER");
    for (k, v) in &stats {
        let _ = writeln!(o, "{k:<26} {v}");
    }
    match stalls {
        None => {
            let _ = writeln!(o, "\nin-flight stalls: not readable (root only)");
        }
        Some(s) => {
            let _ = writeln!(o, "\nIN-FLIGHT ALLOCATIONS ({})", s.len());
            if !s.is_empty() {
                let _ = writeln!(
                    o,
                    "{:<7} {:<16} {:<8} {:<5} {:>9} {:>8} {:>7} {:<8} GFP",
                    "PID", "COMM", "KIND", "ORDER", "STUCK_MS", "RETRIES", "SLEEPS", "REPORTED"
                );
                for x in &s {
                    let _ = writeln!(
                        o,
                        "{:<7} {:<16} {:<8} {:<5} {:>9} {:>8} {:>7} {:<8} {}",
                        x.pid,
                        x.comm,
                        x.kind,
                        x.order,
                        x.ms,
                        x.retries,
                        x.sleeps,
                        if x.first_report_ns != 0 { "yes" } else { "no" },
                        x.gfp
                    );
                }
            }
        }
    }
    Ok(o)
}

fn get(dir: &Path, knob: Option<&str>, json: bool) -> Result<String, String> {
    check_loaded(dir)?;
    let all = knob_values(dir)?;
    let sel: Vec<&(Knob, String)> = match knob {
        None => all.iter().collect(),
        Some(n) => {
            let k = knobs::parse_by_name(n.as_bytes())
                .ok_or_else(|| parse::SetError::UnknownKnob(n.into()).to_string())?;
            all.iter().filter(|(x, _)| *x == k).collect()
        }
    };
    if json {
        let m: serde_json::Map<String, serde_json::Value> = sel
            .iter()
            .map(|(k, v)| (k.name().to_string(), serde_json::Value::from(v.clone())))
            .collect();
        return serde_json::to_string(&m).map_err(|e| e.to_string());
    }
    Ok(match knob {
        Some(_) => sel
            .iter()
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        None => sel
            .iter()
            .map(|(k, v)| format!("{}={}", k.name(), v))
            .collect::<Vec<_>>()
            .join("\n"),
    })
}

fn set(dir: &Path, name: &str, value: &str, json: bool) -> Result<String, String> {
    let (knob, _) = parse::validate(name, value).map_err(|e| e.to_string())?;
    check_loaded(dir)?;
    let path = dir.join(knob.name());
    let old = read(dir, knob.name())?.trim().to_string();
    std::fs::write(&path, value.as_bytes()).map_err(|e| match e.raw_os_error() {
        Some(libc::EINVAL) => format!(
            "the module rejected {value:?} for {} (EINVAL): module and nfwctl disagree?",
            knob.name()
        ),
        _ => format!("writing {}: {e}", path.display()),
    })?;
    let new = read(dir, knob.name())?.trim().to_string();
    if json {
        return Ok(serde_json::json!({"knob": knob.name(), "old": old, "new": new}).to_string());
    }
    Ok(format!("{}: {} -> {}", knob.name(), old, new))
}

fn metrics_text(dir: &Path) -> Result<String, String> {
    if !dir.join("stats").exists() {
        return Ok(metrics::render(&metrics::Input {
            up: false,
            stats: &[],
            knobs: &[],
            histogram: None,
            stalls: None,
        }));
    }
    let stats = parse::stats(&read(dir, "stats")?)?;
    let knobs = knob_values(dir)?;
    let hist = parse::histogram(&read(dir, "histogram")?)?;
    let stalls = std::fs::read_to_string(dir.join("stalls"))
        .ok()
        .map(|t| parse::stalls(&t))
        .transpose()?;
    Ok(metrics::render(&metrics::Input {
        up: true,
        stats: &stats,
        knobs: &knobs,
        histogram: Some(&hist),
        stalls: stalls.as_deref(),
    }))
}

/// Writes `text` to `path` atomically: node_exporter must never read half a file.
fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(
        ".{}.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("{}: {e}", path.display())
        })
}

fn run(cli: Cli) -> Result<i32, String> {
    let dir = cli.sysfs.as_path();
    let text = match cli.cmd {
        Cmd::Status => status(dir, cli.json)?,
        Cmd::Get { knob } => get(dir, knob.as_deref(), cli.json)?,
        Cmd::Set { knob, value } => set(dir, &knob, &value, cli.json)?,
        Cmd::Metrics { output } => {
            let m = metrics_text(dir)?;
            match output {
                Some(p) => {
                    write_atomic(&p, &m)?;
                    return Ok(0);
                }
                None => m.trim_end().to_string(),
            }
        }
        Cmd::Watch {
            exit_on_kill,
            count,
            timeout,
            from_start,
            journal,
            journal_socket,
        } => {
            check_loaded(dir)?;
            let journal = if journal.wanted(cli.json, journal::stdout_is_journal()) {
                Some(journal::Journal::open(&journal_socket)?)
            } else {
                None
            };
            let timeout = match timeout {
                Some(t) if t.is_finite() && t >= 0.0 => Some(Duration::from_secs_f64(t)),
                Some(t) => return Err(format!("bad --timeout {t}")),
                None => None,
            };
            let o = watch::Options {
                json: cli.json,
                exit_on_kill,
                count,
                timeout,
                from_start,
                journal,
            };
            return watch::run(dir, &o, &mut std::io::stdout().lock());
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(|e| e.to_string())?;
    Ok(0)
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("nfwctl: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake sysfs directory with every file the module has.
    fn fake() -> PathBuf {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "nfwctl-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for k in knobs::ALL {
            std::fs::write(dir.join(k.name()), format!("{}\n", parse::default_text(k))).unwrap();
        }
        std::fs::write(dir.join("stats"), "stalls_detected 1\nin_flight 1\n").unwrap();
        std::fs::write(
            dir.join("stalls"),
            "pid comm kind nofs order ms retries sleeps start_ns first_report_ns gfp\n\
             95 kworker/u8:1 implicit 1 0 12000 900 30 1000 2000 GFP_NOFS|__GFP_COMP\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("histogram"),
            "     usecs               : count     distribution\n\
             \x20        0 -> 1          : 4        |****                                    |\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn status_text_and_json() {
        let d = fake();
        let t = status(&d, false).unwrap();
        assert!(
            t.contains("stall_warn_ms      10000    10000    1..3600000"),
            "{t}"
        );
        assert!(t.contains("IN-FLIGHT ALLOCATIONS (1)"), "{t}");
        assert!(t.contains("kworker/u8:1"), "{t}");
        let j: serde_json::Value = serde_json::from_str(&status(&d, true).unwrap()).unwrap();
        assert_eq!(j["knobs"][1]["name"], "stall_warn_ms");
        assert_eq!(j["knobs"][4]["value"], "nofs");
        assert_eq!(j["stats"]["stalls_detected"], 1);
        assert_eq!(j["stalls"][0]["pid"], 95);
        std::fs::remove_dir_all(&d).unwrap();
        assert!(status(&d, false)
            .unwrap_err()
            .contains("is the nofail_watchdog module loaded"));
    }

    #[test]
    fn set_validates_before_writing() {
        let d = fake();
        assert_eq!(
            set(&d, "stall_warn_ms", "5000", false).unwrap(),
            "stall_warn_ms: 10000 -> 5000"
        );
        assert_eq!(
            std::fs::read_to_string(d.join("stall_warn_ms")).unwrap(),
            "5000"
        );
        // Rejected values never reach the file.
        let e = set(&d, "stall_warn_ms", "0", false).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        assert_eq!(
            std::fs::read_to_string(d.join("stall_warn_ms")).unwrap(),
            "5000"
        );
        assert!(set(&d, "nope", "1", false)
            .unwrap_err()
            .contains("unknown knob"));
        let j: serde_json::Value =
            serde_json::from_str(&set(&d, "scope", "all", true).unwrap()).unwrap();
        assert_eq!(j["old"], "nofs");
        assert_eq!(j["new"], "all");
        assert_eq!(get(&d, Some("scope"), false).unwrap(), "all");
        assert!(get(&d, None, false).unwrap().contains("oom_after_ms=30000"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn metrics_to_a_file_atomically() {
        let d = fake();
        let out = d.join("nfw.prom");
        write_atomic(&out, &metrics_text(&d).unwrap()).unwrap();
        let t = std::fs::read_to_string(&out).unwrap();
        assert!(t.contains("nofail_watchdog_up 1\n"));
        assert!(
            t.contains("nofail_watchdog_oldest_stall_seconds 12\n"),
            "{t}"
        );
        let left: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(left.is_empty(), "temporary file left behind");
        std::fs::remove_dir_all(&d).unwrap();
        assert!(metrics_text(&d)
            .unwrap()
            .ends_with("nofail_watchdog_up 0\n"));
    }

    /// What tools/boot/modprobe.d/nofail_watchdog.conf holds: every knob,
    /// commented out at its default, with the module's description.
    fn modprobe_conf() -> String {
        let mut o = String::from(
            "# /etc/modprobe.d/nofail_watchdog.conf: options of the nofail_watchdog\n\
             # module, applied at every load (modprobe, and at boot through\n\
             # /etc/modules-load.d/nofail_watchdog.conf). Each knob below is shown at\n\
             # its default: uncomment a line and change the value, or put several on one\n\
             # options line. They apply at the next load; a loaded module is tuned with\n\
             # `nfwctl set KNOB VALUE` (or its files in /sys/kernel/nofail_watchdog/).\n\
             # Installed by `make install-boot` (or DKMS with NFW_BOOT=1), never\n\
             # overwritten. Every knob: docs/admin-guide.md, section 3; recipes:\n\
             # section 8. Generated from rust/logic/knobs.rs by nfwctl's unit tests.\n",
        );
        for k in knobs::ALL {
            o.push_str(&format!(
                "\n# {}: {}\n#options nofail_watchdog {}={}\n",
                k.name(),
                k.desc().help,
                k.name(),
                parse::default_text(k)
            ));
        }
        o
    }

    #[test]
    fn modprobe_conf_lists_every_knob_at_its_default() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../boot/modprobe.d/nofail_watchdog.conf"
        );
        let want = modprobe_conf();
        if std::env::var_os("NFW_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "{path} is not what rust/logic/knobs.rs says; NFW_BLESS=1 cargo test rewrites it"
        );
        // Every uncommented line would be a valid options line.
        for l in want.lines().filter(|l| l.starts_with("#options ")) {
            let (k, v) = l["#options nofail_watchdog ".len()..]
                .split_once('=')
                .unwrap();
            parse::validate(k, v).unwrap();
        }
    }

    #[test]
    fn journal_mode() {
        use JournalMode::*;
        assert!(Always.wanted(true, false));
        assert!(!Never.wanted(false, true));
        assert!(Auto.wanted(false, true));
        assert!(!Auto.wanted(false, false));
        // --json asks for JSON lines on stdout, even under systemd.
        assert!(!Auto.wanted(true, true));
    }

    #[test]
    fn watch_to_a_missing_journal_fails_at_start() {
        let d = fake();
        std::fs::write(
            d.join("events"),
            "seq 0\nseq time_ns event pid comm order ms gfp\n",
        )
        .unwrap();
        let cli = Cli::try_parse_from([
            "nfwctl",
            "--sysfs",
            d.to_str().unwrap(),
            "watch",
            "--journal",
            "--journal-socket",
            "/nonexistent/socket",
            "--timeout",
            "0",
        ])
        .unwrap();
        assert!(run(cli).unwrap_err().contains("/nonexistent/socket"));
        let cli = Cli::try_parse_from([
            "nfwctl",
            "--sysfs",
            d.to_str().unwrap(),
            "watch",
            "--journal=never",
            "--timeout",
            "0",
        ])
        .unwrap();
        assert_eq!(run(cli).unwrap(), watch::EXIT_TIMEOUT);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn cli_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let c = Cli::try_parse_from([
            "nfwctl",
            "--json",
            "watch",
            "--exit-on-kill",
            "--count",
            "2",
        ])
        .unwrap();
        assert!(c.json);
        assert!(matches!(
            c.cmd,
            Cmd::Watch {
                exit_on_kill: true,
                count: Some(2),
                ..
            }
        ));
        assert!(Cli::try_parse_from(["nfwctl", "set", "scope"]).is_err());
        // --journal alone is --journal=always; without it, auto.
        let journal = |args: &[&str]| match Cli::try_parse_from(args).map(|c| c.cmd) {
            Ok(Cmd::Watch { journal, .. }) => Ok(journal),
            Ok(_) => panic!("not watch"),
            Err(e) => Err(e.to_string()),
        };
        assert_eq!(journal(&["nfwctl", "watch"]), Ok(JournalMode::Auto));
        assert_eq!(
            journal(&["nfwctl", "watch", "--journal"]),
            Ok(JournalMode::Always)
        );
        assert_eq!(
            journal(&["nfwctl", "watch", "--journal=never"]),
            Ok(JournalMode::Never)
        );
        assert!(journal(&["nfwctl", "watch", "--journal=sometimes"]).is_err());
        // `--journal never` would be a stray argument, not the mode.
        assert!(journal(&["nfwctl", "watch", "--journal", "never"]).is_err());
        // A negative number reaches the validator (and its clear error).
        let c = Cli::try_parse_from(["nfwctl", "set", "stall_warn_ms", "-5"]).unwrap();
        assert!(matches!(c.cmd, Cmd::Set { ref value, .. } if value == "-5"));
    }
}
