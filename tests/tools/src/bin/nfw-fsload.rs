//! `nfw-fsload`: a metadata-heavy XFS workload that allocates nothing in
//! userspace once it runs.
//!
//! `nfw-fsload --dir D [--procs N] [--seconds S] [--file-kb K] [--xattr-bytes B] [--keep F]
//!  [--worker-oom-score-adj A] [--go-file PATH]`
//!
//! Forks N workers that share one directory `D` (so they serialise on its
//! inode lock, as the tasks of a busy service writing to one directory do).
//! Each worker locks its memory (`mlockall`), reports it (the parent prints
//! `nfw-fsload: ready: ...` once all have), waits until PATH exists if
//! `--go-file` is given (so that the workers' memory is in place before the
//! squeeze), then loops until S seconds have passed: create `D/w<N>-<i>`, write K KiB, `fsync`, set a `user.`
//! xattr of B bytes (0: none), rename it to `D/r<N>-<i>`, and unlink the file
//! it renamed F iterations ago (defaults: 8 workers, 60 s, 16 KiB, 64 bytes,
//! 32 files). Workers set their `oom_score_adj` to A if given, so that the
//! parent (which reports) can stay out of the OOM killer's reach. The only allocations after the start are the
//! kernel's, on behalf of these system calls — no page faults, no forks — so
//! the workload itself never gives the kernel's OOM killer a `__GFP_FS`
//! allocation to act on except through the VFS (dentries, xattr values).
//!
//! Each worker prints `nfw-fsload: worker N ops=... worst_ms=... worst_op=...`
//! at the end; the parent prints a total line
//! `nfw-fsload: done ops=N worst_ms=M workers=N killed=K` and exits 0 when
//! every worker finished (1 if any failed, 2 on a usage error; a worker
//! killed by SIGKILL, e.g. by the OOM killer, is counted in `killed` and is
//! not a failure).

use nfw_tools::fsload::{self, Config};
use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::exit;

/// Monotonic time in milliseconds.
fn now_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// Writes `dir/<prefix><w>-<i>` NUL-terminated into `buf` (no allocation).
fn path<'a>(buf: &'a mut [u8; 512], dir: &[u8], prefix: &str, w: u32, i: u64) -> &'a libc::c_char {
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    // The directory is checked to fit at start-up; names are short.
    let _ = cur.write_all(dir);
    let _ = write!(cur, "/{prefix}{w}-{i}\0");
    // SAFETY: `buf` starts with the NUL-terminated path just written.
    unsafe { &*buf.as_ptr().cast::<libc::c_char>() }
}

/// What one worker measured.
struct Tally {
    ops: u64,
    worst_ms: u64,
    worst_op: &'static str,
}

impl Tally {
    fn note(&mut self, op: &'static str, t0: u64) {
        let d = now_ms().saturating_sub(t0);
        if d > self.worst_ms {
            self.worst_ms = d;
            self.worst_op = op;
        }
        self.ops += 1;
    }
}

fn fail(w: u32, what: &str) -> ! {
    let e = std::io::Error::last_os_error();
    eprintln!("nfw-fsload: worker {w}: {what}: {e}");
    // SAFETY: `_exit` ends this (forked) process at once.
    unsafe { libc::_exit(1) }
}

/// Start-up of a worker: what it reports on, and what it waits for.
struct Gate {
    /// Write end of the pipe on which each worker reports "locked".
    ready_fd: libc::c_int,
    /// NUL-terminated path of the go file, if any.
    go: Option<CString>,
}

fn worker(cfg: &Config, dir: &[u8], w: u32, data: &[u8], gate: &Gate) -> ! {
    if let Some(adj) = cfg.worker_adj {
        let mut buf = [0u8; 16];
        let mut cur = std::io::Cursor::new(&mut buf[..]);
        let _ = write!(cur, "{adj}");
        let len = cur.position() as usize;
        // SAFETY: a NUL-terminated literal path; `buf[..len]` is readable.
        let ok = unsafe {
            let fd = libc::open(c"/proc/self/oom_score_adj".as_ptr(), libc::O_WRONLY);
            let ok = fd >= 0 && libc::write(fd, buf.as_ptr().cast(), len) == len as isize;
            if fd >= 0 {
                libc::close(fd);
            }
            ok
        };
        if !ok {
            fail(w, "setting oom_score_adj");
        }
    }
    // SAFETY: plain system call; a failure only means page faults stay possible.
    if unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) } != 0 {
        fail(w, "mlockall");
    }
    // SAFETY: writes one byte from a live buffer to our pipe.
    if unsafe { libc::write(gate.ready_fd, b"r".as_ptr().cast(), 1) } != 1 {
        fail(w, "reporting ready");
    }
    if let Some(go) = &gate.go {
        // SAFETY: `go` is a NUL-terminated path; `access` and `usleep` only
        // make system calls (no allocation, no page fault: memory is locked).
        while unsafe { libc::access(go.as_ptr(), libc::F_OK) } != 0 {
            // SAFETY: a plain system call.
            unsafe { libc::usleep(10_000) };
        }
    }
    let end_ms = now_ms() + cfg.seconds * 1000;
    let mut a = [0u8; 512];
    let mut b = [0u8; 512];
    let mut t = Tally {
        ops: 0,
        worst_ms: 0,
        worst_op: "none",
    };
    let xname = c"user.nfw";
    let mut i: u64 = 0;
    while now_ms() < end_ms {
        let t0 = now_ms();
        let p = path(&mut a, dir, "w", w, i);
        // SAFETY: `p` is a NUL-terminated path in `a`.
        let fd = unsafe { libc::open(p, libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC, 0o644) };
        if fd < 0 {
            fail(w, "open");
        }
        t.note("create", t0);
        let t0 = now_ms();
        let mut off = 0;
        while off < data.len() {
            // SAFETY: `data[off..]` is readable for its length.
            let n = unsafe { libc::write(fd, data[off..].as_ptr().cast(), data.len() - off) };
            if n <= 0 {
                fail(w, "write");
            }
            off += n as usize;
        }
        t.note("write", t0);
        let t0 = now_ms();
        // SAFETY: `fd` is our open file.
        if unsafe { libc::fsync(fd) } != 0 {
            fail(w, "fsync");
        }
        t.note("fsync", t0);
        if cfg.xattr_bytes > 0 {
            let t0 = now_ms();
            // SAFETY: `fd` is open, `xname` NUL-terminated, `data` long enough
            // (checked at start-up).
            if unsafe {
                libc::fsetxattr(fd, xname.as_ptr(), data.as_ptr().cast(), cfg.xattr_bytes, 0)
            } != 0
            {
                fail(w, "fsetxattr");
            }
            t.note("setxattr", t0);
        }
        // SAFETY: `fd` is ours; it is not used again.
        unsafe { libc::close(fd) };
        let t0 = now_ms();
        let from = path(&mut a, dir, "w", w, i) as *const libc::c_char;
        let to = path(&mut b, dir, "r", w, i) as *const libc::c_char;
        // SAFETY: both are NUL-terminated paths in `a` and `b`.
        if unsafe { libc::rename(from, to) } != 0 {
            fail(w, "rename");
        }
        t.note("rename", t0);
        if i >= cfg.keep {
            let t0 = now_ms();
            let old = path(&mut a, dir, "r", w, i - cfg.keep);
            // SAFETY: a NUL-terminated path in `a`.
            if unsafe { libc::unlink(old) } != 0 {
                fail(w, "unlink");
            }
            t.note("unlink", t0);
        }
        i += 1;
    }
    let mut out = [0u8; 256];
    let mut cur = std::io::Cursor::new(&mut out[..]);
    let _ = writeln!(
        cur,
        "nfw-fsload: worker {w} ops={} worst_ms={} worst_op={}",
        t.ops, t.worst_ms, t.worst_op
    );
    let len = cur.position() as usize;
    // SAFETY: writes our stack buffer to stdout, then ends the process.
    unsafe {
        libc::write(1, out.as_ptr().cast(), len);
        libc::_exit(0)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match fsload::parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("nfw-fsload: {e}\n{}", fsload::USAGE);
            exit(2);
        }
    };
    let dir = cfg.dir.as_os_str().as_bytes().to_vec();
    if dir.len() > 400 || CString::new(dir.clone()).is_err() {
        eprintln!("nfw-fsload: directory name too long or not a path");
        exit(2);
    }
    if let Err(e) = std::fs::create_dir_all(&cfg.dir) {
        eprintln!("nfw-fsload: cannot create {}: {e}", cfg.dir.display());
        exit(1);
    }
    let data: Vec<u8> = (0..cfg.file_kb * 1024)
        .map(|i| (i as u8).wrapping_mul(31))
        .chain(std::iter::repeat_n(0x5a, cfg.xattr_bytes))
        .collect();
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        eprintln!("nfw-fsload: pipe: {}", std::io::Error::last_os_error());
        exit(1);
    }
    let gate = Gate {
        ready_fd: fds[1],
        go: cfg.go_file.as_ref().map(|p| {
            CString::new(p.as_os_str().as_bytes()).unwrap_or_else(|_| {
                eprintln!("nfw-fsload: bad --go-file");
                exit(2)
            })
        }),
    };
    let mut pids = Vec::with_capacity(cfg.procs as usize);
    for w in 0..cfg.procs {
        // SAFETY: the child only makes system calls and exits with `_exit`.
        match unsafe { libc::fork() } {
            -1 => {
                eprintln!("nfw-fsload: fork: {}", std::io::Error::last_os_error());
                exit(1);
            }
            0 => worker(&cfg, &dir, w, &data[..cfg.file_kb * 1024], &gate),
            pid => pids.push(pid),
        }
    }
    // SAFETY: our copy of the write end is not used again.
    unsafe { libc::close(fds[1]) };
    let mut got = 0;
    let mut b = [0u8; 64];
    while got < cfg.procs as usize {
        // SAFETY: reads into a live buffer of its length.
        let n = unsafe { libc::read(fds[0], b.as_mut_ptr().cast(), b.len()) };
        if n <= 0 {
            break; // a worker died before it was ready: waitpid tells
        }
        got += n as usize;
    }
    println!(
        "nfw-fsload: ready: {got} of {} workers locked in {}{}",
        cfg.procs,
        cfg.dir.display(),
        if cfg.go_file.is_some() {
            ", waiting for the go file"
        } else {
            ""
        }
    );
    let _ = std::io::stdout().flush();
    let (mut failed, mut killed) = (0, 0);
    for pid in pids {
        let mut st = 0;
        // SAFETY: `pid` is our child; `st` is writable.
        if unsafe { libc::waitpid(pid, &mut st, 0) } != pid {
            failed += 1;
        } else if libc::WIFSIGNALED(st) && libc::WTERMSIG(st) == libc::SIGKILL {
            killed += 1;
        } else if !libc::WIFEXITED(st) || libc::WEXITSTATUS(st) != 0 {
            failed += 1;
        }
    }
    println!(
        "nfw-fsload: done workers={} killed={killed} failed={failed}",
        cfg.procs
    );
    exit(i32::from(failed > 0));
}
