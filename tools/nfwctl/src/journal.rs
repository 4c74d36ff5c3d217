//! `nfwctl watch --journal`: events as structured journal entries.
//!
//! systemd-journald's native protocol (systemd.journal-fields(7), "Native
//! Journal Protocol" in systemd's docs): one datagram per entry, sent to
//! `/run/systemd/journal/socket`, made of `KEY=value\n` fields; a value
//! holding a newline is sent as `KEY\n`, its length as a little-endian
//! u64, the value, `\n`. An entry is a few hundred bytes, far below the
//! datagram limit, so the memfd variant for large entries is not needed.
//!
//! Every field of ours starts with `NOFAIL_`: the journal's field names are
//! one namespace shared by every program, and a bare `PID=` would sit next
//! to journald's trusted `_PID=` (nfwctl's own pid) meaning something else.
//! `OBJECT_PID=` is the journal's own field for "this entry is about that
//! process": sent by root, journald adds the stuck task's `OBJECT_COMM=`,
//! `OBJECT_EXE=`, `OBJECT_SYSTEMD_UNIT=`... while it still runs.

use crate::parse::Event;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

/// journald's socket for the native protocol.
pub const SOCKET: &str = "/run/systemd/journal/socket";

/// Whether `name` is a field name journald accepts from a client: `A-Z`,
/// `0-9` and `_`, not starting with `_` (trusted fields) or a digit, at most
/// 64 characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Appends one field to `buf` in the native protocol's encoding.
pub fn field(buf: &mut Vec<u8>, name: &str, value: &[u8]) {
    debug_assert!(valid_name(name), "bad journal field name {name:?}");
    buf.extend_from_slice(name.as_bytes());
    if value.contains(&b'\n') {
        buf.push(b'\n');
        buf.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        buf.push(b'=');
    }
    buf.extend_from_slice(value);
    buf.push(b'\n');
}

/// syslog priority of an event: an OOM kill is an error, a stall a
/// warning, its end a notice, a back-off information.
pub fn priority(event: &str) -> u8 {
    match event {
        "oom" => 3,
        "stall" => 4,
        "end" => 5,
        _ => 6,
    }
}

/// The human-readable `MESSAGE=` of an event.
pub fn message(e: &Event) -> String {
    let what = format!("order-{} {} allocation", e.order, e.gfp);
    let task = format!("task {}:{}", e.comm, e.pid);
    match e.event.as_str() {
        "stall" => format!("{task} stuck {} ms in {what}", e.ms),
        "backoff" => format!("{task} backed off after {} ms in {what}", e.ms),
        "oom" => format!("OOM killer invoked for {task} stuck {} ms in {what}", e.ms),
        "end" => format!("{task} no longer stuck after {} ms in {what}", e.ms),
        other => format!("{other}: {task}, {} ms in {what}", e.ms),
    }
}

/// One journal entry for event `e`, printed at `now_ns` (CLOCK_MONOTONIC).
pub fn entry(e: &Event, now_ns: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(512);
    field(&mut b, "MESSAGE", message(e).as_bytes());
    field(
        &mut b,
        "PRIORITY",
        priority(&e.event).to_string().as_bytes(),
    );
    field(&mut b, "SYSLOG_IDENTIFIER", b"nfwctl");
    field(&mut b, "NOFAIL_EVENT", e.event.as_bytes());
    field(&mut b, "NOFAIL_PID", e.pid.to_string().as_bytes());
    field(&mut b, "NOFAIL_COMM", e.comm.as_bytes());
    field(&mut b, "NOFAIL_GFP", e.gfp.as_bytes());
    field(&mut b, "NOFAIL_ORDER", e.order.to_string().as_bytes());
    field(&mut b, "NOFAIL_MS", e.ms.to_string().as_bytes());
    field(&mut b, "NOFAIL_SEQ", e.seq.to_string().as_bytes());
    field(&mut b, "NOFAIL_TIME_NS", e.time_ns.to_string().as_bytes());
    let delay_us = now_ns.saturating_sub(e.time_ns) / 1000;
    field(&mut b, "NOFAIL_DELAY_US", delay_us.to_string().as_bytes());
    if e.pid > 0 {
        field(&mut b, "OBJECT_PID", e.pid.to_string().as_bytes());
    }
    b
}

/// A client of journald's native socket.
#[derive(Debug)]
pub struct Journal {
    sock: UnixDatagram,
    path: PathBuf,
}

impl Journal {
    /// Opens a socket for `path`; fails when there is no such socket
    /// (journald not running). Entries are sent by path, so that a
    /// restarted journald (a new socket) keeps receiving them.
    pub fn open(path: &Path) -> Result<Self, String> {
        use std::os::unix::fs::FileTypeExt;
        match std::fs::metadata(path) {
            Ok(m) if m.file_type().is_socket() => {}
            Ok(_) => return Err(format!("{}: not a socket", path.display())),
            Err(e) => {
                return Err(format!(
                    "{}: {e} (is systemd-journald running?)",
                    path.display()
                ))
            }
        }
        let sock = UnixDatagram::unbound().map_err(|e| format!("socket: {e}"))?;
        Ok(Journal {
            sock,
            path: path.to_path_buf(),
        })
    }

    /// Sends one entry.
    pub fn send(&self, entry: &[u8]) -> Result<(), String> {
        self.sock
            .send_to(entry, &self.path)
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

/// Parses `$JOURNAL_STREAM` (`DEVICE:INODE`, both decimal), which systemd
/// sets for a service whose stdout or stderr is connected to the journal.
pub fn parse_stream(s: &str) -> Option<(u64, u64)> {
    let (dev, ino) = s.split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

/// Whether `fd` is the stream `$JOURNAL_STREAM` (`var`) names.
pub fn is_stream(fd: std::os::fd::RawFd, var: Option<&str>) -> bool {
    let Some(want) = var.and_then(parse_stream) else {
        return false;
    };
    // SAFETY: an all-zero `stat` is a valid value; fstat writes into it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid, writable `stat`; a bad fd only makes fstat fail.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return false;
    }
    (st.st_dev, st.st_ino) == want
}

/// Whether stdout is the journal stream systemd gave this process
/// (systemd.exec(7), `$JOURNAL_STREAM`): then the native protocol is the
/// better way to log.
pub fn stdout_is_journal() -> bool {
    is_stream(1, std::env::var("JOURNAL_STREAM").ok().as_deref())
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Decodes a native-protocol datagram into its fields, in order.
    pub fn decode(mut b: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let nl = b.iter().position(|&c| c == b'\n').expect("field ends");
            let line = &b[..nl];
            if let Some(eq) = line.iter().position(|&c| c == b'=') {
                out.push((
                    String::from_utf8(line[..eq].to_vec()).unwrap(),
                    line[eq + 1..].to_vec(),
                ));
                b = &b[nl + 1..];
            } else {
                let name = String::from_utf8(line.to_vec()).unwrap();
                let len = u64::from_le_bytes(b[nl + 1..nl + 9].try_into().unwrap()) as usize;
                let v = b[nl + 9..nl + 9 + len].to_vec();
                assert_eq!(b[nl + 9 + len], b'\n', "binary field ends with a newline");
                out.push((name, v));
                b = &b[nl + 10 + len..];
            }
        }
        out
    }

    pub fn get<'a>(f: &'a [(String, Vec<u8>)], k: &str) -> Option<&'a str> {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| std::str::from_utf8(v).unwrap())
    }

    fn oom() -> Event {
        Event {
            seq: 5,
            time_ns: 38_779_591_284,
            event: "oom".into(),
            pid: 127,
            comm: "nfw_stall/0".into(),
            order: 0,
            ms: 30002,
            gfp: "GFP_NOFS|__GFP_COMP|__GFP_ZERO".into(),
        }
    }

    #[test]
    fn field_encodings() {
        let mut b = Vec::new();
        field(&mut b, "A", b"x y");
        field(&mut b, "B", b"");
        field(&mut b, "C", b"two\nlines");
        let mut want = b"A=x y\nB=\nC\n".to_vec();
        want.extend_from_slice(&9u64.to_le_bytes());
        want.extend_from_slice(b"two\nlines\n");
        assert_eq!(b, want);
        assert_eq!(
            decode(&b),
            [
                ("A".into(), b"x y".to_vec()),
                ("B".into(), vec![]),
                ("C".into(), b"two\nlines".to_vec())
            ]
        );
    }

    #[test]
    fn field_names() {
        for ok in ["MESSAGE", "NOFAIL_EVENT", "OBJECT_PID", "A1"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "_PID", "1A", "nofail", "NOFAIL-EVENT", "NOFAIL EVENT"] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(!valid_name(&"A".repeat(65)));
    }

    #[test]
    fn oom_entry_has_every_field() {
        let b = entry(&oom(), 38_779_591_284 + 2_500_000);
        let f = decode(&b);
        // Every field name is one journald takes, and none is sent twice.
        for (n, _) in &f {
            assert!(valid_name(n), "{n}");
            assert_eq!(f.iter().filter(|(m, _)| m == n).count(), 1, "{n}");
        }
        for (k, v) in [
            ("NOFAIL_EVENT", "oom"),
            ("NOFAIL_PID", "127"),
            ("NOFAIL_COMM", "nfw_stall/0"),
            ("NOFAIL_GFP", "GFP_NOFS|__GFP_COMP|__GFP_ZERO"),
            ("NOFAIL_ORDER", "0"),
            ("NOFAIL_MS", "30002"),
            ("NOFAIL_SEQ", "5"),
            ("NOFAIL_TIME_NS", "38779591284"),
            ("NOFAIL_DELAY_US", "2500"),
            ("OBJECT_PID", "127"),
            ("PRIORITY", "3"),
            ("SYSLOG_IDENTIFIER", "nfwctl"),
            (
                "MESSAGE",
                "OOM killer invoked for task nfw_stall/0:127 stuck 30002 ms in order-0 GFP_NOFS|__GFP_COMP|__GFP_ZERO allocation",
            ),
        ] {
            assert_eq!(get(&f, k), Some(v), "{k}");
        }
        // User fields only: nothing that would clash with journald's own.
        assert!(f.iter().all(|(n, _)| !n.starts_with('_') && n != "PID"));
    }

    #[test]
    fn priorities_and_messages() {
        let mut e = oom();
        for (ev, prio, msg) in [
            ("stall", 4, "task nfw_stall/0:127 stuck 30002 ms in "),
            (
                "backoff",
                6,
                "task nfw_stall/0:127 backed off after 30002 ms in ",
            ),
            (
                "end",
                5,
                "task nfw_stall/0:127 no longer stuck after 30002 ms in ",
            ),
            ("new", 6, "new: task nfw_stall/0:127, 30002 ms in "),
        ] {
            e.event = ev.into();
            assert_eq!(priority(ev), prio);
            assert!(message(&e).starts_with(msg), "{}", message(&e));
        }
        // No OBJECT_PID for a pid the kernel would not have.
        e.pid = 0;
        assert_eq!(get(&decode(&entry(&e, 0)), "OBJECT_PID"), None);
    }

    #[test]
    fn sends_to_a_socket() {
        let dir = std::env::temp_dir().join(format!("nfwctl-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("socket");
        let _ = std::fs::remove_file(&path);
        assert!(Journal::open(&path)
            .unwrap_err()
            .contains("journald running"));
        let server = UnixDatagram::bind(&path).unwrap();
        let j = Journal::open(&path).unwrap();
        j.send(&entry(&oom(), 0)).unwrap();
        let mut buf = vec![0u8; 4096];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(get(&decode(&buf[..n]), "NOFAIL_EVENT"), Some("oom"));
        drop(server);
        std::fs::remove_file(&path).unwrap();
        assert!(j.send(b"A=b\n").is_err());
        std::fs::write(&path, "").unwrap();
        assert!(Journal::open(&path).unwrap_err().contains("not a socket"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn journal_stream_variable() {
        assert_eq!(parse_stream("8:12345"), Some((8, 12345)));
        assert_eq!(parse_stream("8:"), None);
        assert_eq!(parse_stream("x:1"), None);
        assert_eq!(parse_stream("812345"), None);
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::MetadataExt;
        let f = std::fs::File::open("/proc/self/exe").unwrap();
        let m = f.metadata().unwrap();
        let var = format!("{}:{}", m.dev(), m.ino());
        assert!(is_stream(f.as_raw_fd(), Some(&var)));
        assert!(!is_stream(
            f.as_raw_fd(),
            Some(&format!("{}:{}", m.dev(), m.ino() + 1))
        ));
        assert!(!is_stream(f.as_raw_fd(), None));
        assert!(!is_stream(-1, Some(&var)));
    }
}
