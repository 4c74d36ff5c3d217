//! `nfwctl watch`: follows the `events` file with poll(2).
//!
//! sysfs protocol: read the file, then poll() it for `POLLPRI`; the module
//! wakes pollers (kernfs_notify) when it records events; read it again from
//! offset 0 and print what is new (by sequence number). With a journal
//! (`--journal`), each event is a structured journal entry instead of a
//! line (journal.rs).

use crate::journal::{self, Journal};
use crate::parse::{self, Event};
use serde::Serialize;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// Exit status when `--exit-on-kill` saw an `oom` event.
pub const EXIT_KILL: i32 = 3;
/// Exit status when `--timeout` passed.
pub const EXIT_TIMEOUT: i32 = 124;

pub struct Options {
    pub json: bool,
    pub exit_on_kill: bool,
    pub count: Option<u64>,
    pub timeout: Option<Duration>,
    pub from_start: bool,
    /// Send events to this journal instead of printing them.
    pub journal: Option<Journal>,
}

/// `CLOCK_MONOTONIC` in ns: the clock of the module's event times.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if r != 0 {
        return 0;
    }
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

#[derive(Serialize)]
struct JsonEvent<'a> {
    #[serde(flatten)]
    event: &'a Event,
    /// How long after the event this line was written (µs).
    delay_us: u64,
}

/// Formats one event; `now_ns` is when it is printed.
pub fn line(e: &Event, now_ns: u64, json: bool) -> String {
    let delay_us = now_ns.saturating_sub(e.time_ns) / 1000;
    if json {
        serde_json::to_string(&JsonEvent { event: e, delay_us }).unwrap_or_default()
    } else {
        format!(
            "[{:>6}.{:06}] {:<7} pid={} comm={} order={} ms={} gfp={} seq={} delay_ms={}.{:03}",
            e.time_ns / 1_000_000_000,
            e.time_ns % 1_000_000_000 / 1000,
            e.event,
            e.pid,
            e.comm,
            e.order,
            e.ms,
            e.gfp,
            e.seq,
            delay_us / 1000,
            delay_us % 1000
        )
    }
}

fn read_events(f: &mut File) -> Result<parse::Events, String> {
    let mut text = String::new();
    f.seek(SeekFrom::Start(0))
        .and_then(|_| f.read_to_string(&mut text))
        .map_err(|e| format!("reading events: {e} (module unloaded?)"))?;
    parse::events(&text)
}

/// Waits for `POLLPRI` on `f` for at most `ms` (-1: forever).
fn wait(f: &File, ms: i32) -> Result<bool, String> {
    let mut p = libc::pollfd {
        fd: f.as_raw_fd(),
        events: libc::POLLPRI,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r >= 0 {
            return Ok(r > 0);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("poll: {e}"));
        }
    }
}

/// Runs the watch loop; returns the exit status.
pub fn run(dir: &Path, o: &Options, out: &mut dyn Write) -> Result<i32, String> {
    let path = dir.join("events");
    let mut f = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let first = read_events(&mut f)?;
    let mut last = if o.from_start { 0 } else { first.seq };
    let mut shown = 0u64;
    let deadline = o.timeout.map(|t| Instant::now() + t);
    let mut pending = if o.from_start { Some(first) } else { None };
    loop {
        let evs = match pending.take() {
            Some(e) => e,
            None => {
                let ms = match deadline {
                    Some(d) => {
                        let left = d.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            return Ok(EXIT_TIMEOUT);
                        }
                        i32::try_from(left.as_millis().max(1)).unwrap_or(i32::MAX)
                    }
                    None => -1,
                };
                if !wait(&f, ms)? {
                    continue;
                }
                read_events(&mut f)?
            }
        };
        let now = monotonic_ns();
        let (fresh, lost) = parse::new_events(last, &evs);
        if lost > 0 {
            eprintln!("nfwctl: {lost} events were overwritten before they could be read");
        }
        last = last.max(evs.seq);
        for e in &fresh {
            // A failed send (journald restarting, say) still shows the
            // event: as a line on stdout, which systemd also logs.
            let sent = match &o.journal {
                Some(j) => j
                    .send(&journal::entry(e, now))
                    .map_err(|err| eprintln!("nfwctl: journal: {err}; printing the event"))
                    .is_ok(),
                None => false,
            };
            if !sent {
                writeln!(out, "{}", line(e, now, o.json)).map_err(|e| e.to_string())?;
            }
            out.flush().map_err(|e| e.to_string())?;
            shown += 1;
            if o.exit_on_kill && e.event == "oom" {
                return Ok(EXIT_KILL);
            }
            if o.count.is_some_and(|c| shown >= c) {
                return Ok(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev() -> Event {
        Event {
            seq: 2,
            time_ns: 3_498_174_115,
            event: "stall".into(),
            pid: 126,
            comm: "nfw_stall/0".into(),
            order: 0,
            ms: 1456,
            gfp: "GFP_NOFS|__GFP_NOFAIL".into(),
        }
    }

    #[test]
    fn text_line() {
        assert_eq!(
            line(&ev(), 3_500_174_115, false),
            "[     3.498174] stall   pid=126 comm=nfw_stall/0 order=0 ms=1456 gfp=GFP_NOFS|__GFP_NOFAIL seq=2 delay_ms=2.000"
        );
    }

    #[test]
    fn json_line() {
        let v: serde_json::Value = serde_json::from_str(&line(&ev(), 3_598_174_115, true)).unwrap();
        assert_eq!(v["event"], "stall");
        assert_eq!(v["pid"], 126);
        assert_eq!(v["seq"], 2);
        assert_eq!(v["delay_us"], 100_000);
        // A clock behind the event does not underflow.
        let v: serde_json::Value = serde_json::from_str(&line(&ev(), 0, true)).unwrap();
        assert_eq!(v["delay_us"], 0);
    }

    #[test]
    fn monotonic_clock_advances() {
        let a = monotonic_ns();
        std::thread::sleep(Duration::from_millis(2));
        assert!(monotonic_ns() >= a + 2_000_000);
    }

    #[test]
    fn regular_file_from_start_and_exit_on_kill() {
        // A plain file is always "readable", so this checks the reading,
        // ordering and exit logic without a module.
        let dir = std::env::temp_dir().join(format!("nfwctl-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("events"),
            "seq 3\nseq time_ns event pid comm order ms gfp\n\
             1 10 stall 5 a 0 10000 GFP_NOFS\n2 20 backoff 5 a 0 10010 GFP_NOFS\n3 30 oom 5 a 0 30000 GFP_NOFS\n",
        )
        .unwrap();
        let o = Options {
            json: false,
            exit_on_kill: true,
            count: None,
            timeout: Some(Duration::from_secs(5)),
            from_start: true,
            journal: None,
        };
        let mut out = Vec::new();
        assert_eq!(run(&dir, &o, &mut out).unwrap(), EXIT_KILL);
        let text = String::from_utf8(out).unwrap();
        let kinds: Vec<_> = text
            .lines()
            .map(|l| l.split_whitespace().nth(2).unwrap())
            .collect();
        assert_eq!(kinds, ["stall", "backoff", "oom"]);
        let o = Options {
            exit_on_kill: false,
            count: Some(2),
            ..o
        };
        let mut out = Vec::new();
        assert_eq!(run(&dir, &o, &mut out).unwrap(), 0);
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
        assert!(run(&dir.join("nonexistent"), &o, &mut Vec::new()).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn events_to_the_journal() {
        use crate::journal::tests::{decode, get};
        use std::os::unix::net::UnixDatagram;
        let dir = std::env::temp_dir().join(format!("nfwctl-watch-j-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("events"),
            "seq 2\nseq time_ns event pid comm order ms gfp\n\
             1 10 stall 5 a 0 10000 GFP_NOFS\n2 30 oom 5 a 0 30000 GFP_NOFS\n",
        )
        .unwrap();
        let sock = dir.join("socket");
        let server = UnixDatagram::bind(&sock).unwrap();
        let o = Options {
            json: false,
            exit_on_kill: true,
            count: None,
            timeout: Some(Duration::from_secs(5)),
            from_start: true,
            journal: Some(Journal::open(&sock).unwrap()),
        };
        let mut out = Vec::new();
        assert_eq!(run(&dir, &o, &mut out).unwrap(), EXIT_KILL);
        // Nothing printed: both events are journal entries.
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
        let mut buf = vec![0u8; 4096];
        for (ev, seq) in [("stall", "1"), ("oom", "2")] {
            let n = server.recv(&mut buf).unwrap();
            let f = decode(&buf[..n]);
            assert_eq!(get(&f, "NOFAIL_EVENT"), Some(ev));
            assert_eq!(get(&f, "NOFAIL_SEQ"), Some(seq));
        }
        // journald gone: the events are printed instead of lost.
        drop(server);
        std::fs::remove_file(&sock).unwrap();
        let mut out = Vec::new();
        assert_eq!(run(&dir, &o, &mut out).unwrap(), EXIT_KILL);
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
