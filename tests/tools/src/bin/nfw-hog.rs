//! `nfw-hog`: locks a given amount of anonymous memory and sleeps forever.
//!
//! `nfw-hog (--mb N | --leave-mb M) [--oom-score-adj V] [--name NAME]`
//!
//! Exits non-zero with a message if the memory cannot be mapped or locked.

use nfw_tools::hog::{self, Config};
use nfw_tools::sys::{page_size, AnonMap};
use std::io::Write;
use std::process::exit;

fn die(msg: &str) -> ! {
    eprintln!("nfw-hog: error: {msg}");
    exit(1);
}

fn os_err(what: &str) -> ! {
    die(&format!("{what}: {}", std::io::Error::last_os_error()));
}

/// Lifts `RLIMIT_MEMLOCK` to unlimited (we run as root in the guest), or at
/// least the soft limit to the hard one; a failure shows up at `mlock()`.
fn raise_memlock_limit() {
    let unlimited = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: `unlimited` is a valid rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &unlimited) } == 0 {
        return;
    }
    let mut cur = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `cur` is a writable rlimit; then a valid one is passed back.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut cur) == 0 {
            cur.rlim_cur = cur.rlim_max;
            libc::setrlimit(libc::RLIMIT_MEMLOCK, &cur);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg: Config = match hog::parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            if !e.0.is_empty() {
                eprintln!("nfw-hog: {e}");
            }
            eprintln!("{}", hog::USAGE);
            exit(if e.0.is_empty() { 0 } else { 2 });
        }
    };

    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| hog::mem_available_kb(&m));
    let mb = hog::target_mb(cfg.size, available).unwrap_or_else(|e| die(&e));
    let bytes = usize::try_from(mb)
        .ok()
        .and_then(|m| m.checked_mul(1 << 20))
        .unwrap_or_else(|| die(&format!("{mb} MiB is too large")));

    // The adjustment holds from the start, as a service's does (systemd
    // writes OOMScoreAdjust= before exec), not only once the memory is
    // locked: a hog that inherited the test shell's -1000 and faulted its
    // memory in while unkillable left the kernel's OOM killer nothing to
    // choose once the spares were gone ("System is deadlocked on memory",
    // 7.3, tests/guest/50-xfs-scenario.sh).
    if let Some(v) = cfg.oom_score_adj {
        if let Err(e) = std::fs::write("/proc/self/oom_score_adj", format!("{v}\n")) {
            die(&format!(
                "writing {v} to /proc/self/oom_score_adj failed: {e}"
            ));
        }
    }
    raise_memlock_limit();

    let map = AnonMap::new(bytes).unwrap_or_else(|e| {
        die(&format!("mmap of {mb} MiB failed: {e}"));
    });
    if let Err(e) = map.lock() {
        die(&format!(
            "mlock of {mb} MiB failed (RLIMIT_MEMLOCK could not be lifted?): {e}"
        ));
    }
    // Touch every page (mlock already populated them; this also dirties them).
    map.touch(page_size());

    if let Some(name) = &cfg.name {
        let mut buf = [0u8; 16];
        buf[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
        if unsafe { libc::prctl(libc::PR_SET_NAME, buf.as_ptr(), 0, 0, 0) } != 0 {
            os_err("prctl(PR_SET_NAME) failed");
        }
    }

    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "nfw-hog: ready pid={} locked_mb={mb}",
        std::process::id()
    );
    let _ = out.flush();
    drop(out);
    loop {
        // SAFETY: pause() only waits for a signal.
        unsafe { libc::pause() };
    }
}
