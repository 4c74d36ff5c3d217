//! `nfw-fuzz`: hostile input for nofail_watchdog's knobs (guest tool).
//!
//! ```text
//! nfw-fuzz sysfs  [--dir D] [--per-file N] [--seed S]
//! nfw-fuzz chaos  [--dir D] [--secs T] [--procs P] [--seed S] [--skip KNOB]...
//! nfw-fuzz params --module KO [--count N] [--seed S]
//! ```
//!
//! `sysfs`: N random inputs per knob file, one process; after every write
//! the return value must be what the documented rules say (the full length
//! for a valid value, `EINVAL` for an invalid one, `E2BIG` or `EINVAL` past
//! a page, 0 for a zero-byte write) and every knob must show the value the
//! model holds (an invalid write changes nothing). Restores the knobs.
//!
//! `chaos`: P processes write random inputs to random knobs for T seconds;
//! each write's outcome must follow the rules; at the end every knob must
//! show a valid value. Never writes `panic_on_stall=1`, nor the knobs given
//! with `--skip` (repeatable). The knobs are left
//! as the writers left them (restore them yourself).
//!
//! `params`: N `finit_module()` calls of KO with one random, quoted
//! parameter each: a load must succeed exactly when the value is valid (and
//! then show it in sysfs; the module is unloaded again) and fail with
//! `EINVAL` otherwise, leaving no module behind.
//!
//! Prints one summary line; exits 1 on the first mismatch (with the input),
//! 2 on a usage error.

use nfw_tools::fuzz::{self, Family, Knob, Rng, FAMILIES, KNOBS};
use std::ffi::CString;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::process::exit;
use std::time::{Duration, Instant};

fn usage() -> ! {
    eprintln!(
        "usage: nfw-fuzz sysfs [--dir D] [--per-file N] [--seed S]\n       nfw-fuzz chaos [--dir D] [--secs T] [--procs P] [--seed S] [--skip KNOB]...\n       nfw-fuzz params --module KO [--count N] [--seed S]"
    );
    exit(2);
}

fn fail(msg: &str) -> ! {
    println!("nfw-fuzz: MISMATCH: {msg}");
    exit(1);
}

struct Opts {
    dir: String,
    count: u64,
    secs: u64,
    procs: u64,
    seed: u64,
    module: Option<String>,
    skip: Vec<String>,
}

fn parse_opts(args: &[String]) -> Opts {
    let mut o = Opts {
        dir: "/sys/kernel/nofail_watchdog".into(),
        count: 1000,
        secs: 10,
        procs: 4,
        seed: 1,
        module: None,
        skip: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().unwrap_or_else(|| usage());
        let num = || v.parse::<u64>().unwrap_or_else(|_| usage());
        match a.as_str() {
            "--dir" => o.dir = v.clone(),
            "--per-file" | "--count" => o.count = num(),
            "--secs" => o.secs = num(),
            "--procs" => o.procs = num().max(1),
            "--seed" => o.seed = num(),
            "--module" => o.module = Some(v.clone()),
            "--skip" => o.skip.push(v.clone()),
            _ => usage(),
        }
    }
    o
}

/// One knob file, open for writing and reading.
struct KnobFile {
    knob: &'static Knob,
    file: File,
}

impl KnobFile {
    fn open(dir: &str, knob: &'static Knob) -> Self {
        let path = format!("{dir}/{}", knob.name);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| fail(&format!("cannot open {path}: {e}")));
        KnobFile { knob, file }
    }

    /// What the file shows now, without the newline.
    fn read(&self) -> String {
        let mut buf = [0u8; 128];
        let n = self
            .file
            .read_at(&mut buf, 0)
            .unwrap_or_else(|e| fail(&format!("read {}: {e}", self.knob.name)));
        String::from_utf8_lossy(&buf[..n])
            .trim_end_matches('\n')
            .to_string()
    }

    /// The stored value, parsed back from what the file shows.
    fn value(&self) -> u32 {
        let s = self.read();
        fuzz::parse_shown(self.knob.kind, &s)
            .unwrap_or_else(|| fail(&format!("{} shows an invalid value '{s}'", self.knob.name)))
    }

    /// One `write()` of `input`: the byte count or the errno.
    fn write(&self, input: &[u8]) -> Result<usize, i32> {
        // SAFETY: `input` is a valid buffer of `input.len()` bytes and the
        // descriptor is open.
        let r = unsafe { libc::write(self.file.as_raw_fd(), input.as_ptr().cast(), input.len()) };
        if r < 0 {
            Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
        } else {
            Ok(r as usize)
        }
    }
}

/// Checks the outcome of writing `input` against the rules; returns the
/// value it stored, if any.
fn check_write(k: &Knob, input: &[u8], got: Result<usize, i32>) -> Option<u32> {
    let what = || format!("{} <- '{}'", k.name, fuzz::show_input(input));
    if input.is_empty() {
        // A zero-byte write never reaches the module.
        if got != Ok(0) {
            fail(&format!("{}: expected 0, got {got:?}", what()));
        }
        return None;
    }
    let seen = &input[..input.len().min(fuzz::SYSFS_MAX_WRITE)];
    match fuzz::expected(k.kind, seen) {
        Some(v) => {
            if got != Ok(input.len()) && !(input.len() > fuzz::SYSFS_MAX_WRITE && got.is_ok()) {
                fail(&format!(
                    "{}: valid, expected {} got {got:?}",
                    what(),
                    input.len()
                ));
            }
            Some(v)
        }
        None => {
            let ok = match got {
                Err(e) if e == libc::EINVAL => true,
                Err(e) if e == libc::E2BIG => input.len() > fuzz::SYSFS_MAX_WRITE,
                _ => false,
            };
            if !ok {
                fail(&format!(
                    "{}: invalid, expected EINVAL, got {got:?}",
                    what()
                ));
            }
            None
        }
    }
}

/// A generated input that is allowed: never `panic_on_stall=1`.
fn next_input(rng: &mut Rng, k: &Knob) -> Option<(Vec<u8>, Family)> {
    let (input, fam) = fuzz::generate(rng, k.kind);
    let seen = &input[..input.len().min(fuzz::SYSFS_MAX_WRITE)];
    if k.name == "panic_on_stall" && !input.is_empty() && fuzz::expected(k.kind, seen) == Some(1) {
        return None;
    }
    Some((input, fam))
}

fn family_counts(counts: &[u64; FAMILIES.len()]) -> String {
    FAMILIES
        .iter()
        .zip(counts)
        .map(|(f, n)| format!("{f}={n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn cmd_sysfs(o: &Opts) {
    let files: Vec<KnobFile> = KNOBS.iter().map(|k| KnobFile::open(&o.dir, k)).collect();
    let initial: Vec<String> = files.iter().map(KnobFile::read).collect();
    let mut model: Vec<u32> = files.iter().map(KnobFile::value).collect();
    let mut rng = Rng::new(o.seed);
    let (mut valid, mut invalid, mut empty, mut skipped) = (0u64, 0u64, 0u64, 0u64);
    let mut fams = [0u64; FAMILIES.len()];
    let start = Instant::now();
    for i in 0..o.count * files.len() as u64 {
        let idx = (i % files.len() as u64) as usize;
        let f = &files[idx];
        let Some((input, fam)) = next_input(&mut rng, f.knob) else {
            skipped += 1;
            continue;
        };
        fams[FAMILIES.iter().position(|x| *x == fam).unwrap_or(0)] += 1;
        let got = f.write(&input);
        match check_write(f.knob, &input, got) {
            Some(v) => {
                valid += 1;
                model[idx] = v;
            }
            None if input.is_empty() => empty += 1,
            None => invalid += 1,
        }
        // Every knob shows what the model says: an invalid write changed
        // nothing, a valid one only its own knob.
        for (j, g) in files.iter().enumerate() {
            let want = fuzz::shown(g.knob.kind, model[j]);
            let have = g.read();
            if have != want {
                fail(&format!(
                    "after {} <- '{}' ({:?}): {} shows '{have}', expected '{want}'",
                    f.knob.name,
                    fuzz::show_input(&input),
                    got,
                    g.knob.name
                ));
            }
        }
    }
    for (f, v) in files.iter().zip(&initial) {
        if f.write(v.as_bytes()) != Ok(v.len()) {
            fail(&format!("cannot restore {}={v}", f.knob.name));
        }
    }
    println!(
        "nfw-fuzz sysfs: {} writes to {} files in {:.1} s: {valid} valid, {invalid} invalid, {empty} empty, {skipped} skipped (panic_on_stall=1), 0 mismatches; seed {}; families: {}",
        valid + invalid + empty,
        files.len(),
        start.elapsed().as_secs_f64(),
        o.seed,
        family_counts(&fams)
    );
}

fn chaos_worker(o: &Opts, n: u64) -> (u64, u64) {
    let files: Vec<KnobFile> = KNOBS
        .iter()
        .filter(|k| !o.skip.iter().any(|s| s == k.name))
        .map(|k| KnobFile::open(&o.dir, k))
        .collect();
    let mut rng = Rng::new(o.seed.wrapping_mul(1000).wrapping_add(n));
    let end = Instant::now() + Duration::from_secs(o.secs);
    let (mut valid, mut invalid) = (0, 0);
    while Instant::now() < end {
        let f = rng.pick(&files);
        let Some((input, _)) = next_input(&mut rng, f.knob) else {
            continue;
        };
        match check_write(f.knob, &input, f.write(&input)) {
            Some(_) => valid += 1,
            None => invalid += 1,
        }
    }
    (valid, invalid)
}

fn cmd_chaos(o: &Opts) {
    let mut pids = Vec::new();
    for n in 0..o.procs {
        // SAFETY: fork() in a single-threaded process; the child only runs
        // Rust code that does not depend on other threads, then exits.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            fail("fork failed");
        }
        if pid == 0 {
            let (v, i) = chaos_worker(o, n);
            println!("nfw-fuzz chaos: writer {n}: {v} valid, {i} invalid writes, all as expected");
            exit(0);
        }
        pids.push(pid);
    }
    let mut bad = 0;
    for pid in pids {
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            bad += 1;
        }
    }
    if bad > 0 {
        fail(&format!("{bad} writer(s) failed"));
    }
    let shown: Vec<String> = KNOBS
        .iter()
        .map(|k| {
            let f = KnobFile::open(&o.dir, k);
            format!("{}={}", k.name, f.value())
        })
        .collect();
    println!(
        "nfw-fuzz chaos: {} writers for {} s, every knob valid at the end: {}",
        o.procs,
        o.secs,
        shown.join(" ")
    );
}

fn module_loaded() -> bool {
    std::path::Path::new("/sys/module/nofail_watchdog").exists()
}

fn cmd_params(o: &Opts) {
    let path = o.module.as_deref().unwrap_or_else(|| usage());
    let ko = File::open(path).unwrap_or_else(|e| fail(&format!("open {path}: {e}")));
    if module_loaded() {
        fail("nofail_watchdog is already loaded");
    }
    let mut rng = Rng::new(o.seed);
    let (mut loads, mut refusals, mut skipped) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    for i in 0..o.count {
        let k = &KNOBS[(i % KNOBS.len() as u64) as usize];
        let Some((mut value, _)) = next_input(&mut rng, k) else {
            skipped += 1;
            continue;
        };
        // The kernel's argument parser: the value is quoted (so that it may
        // hold spaces); it cannot hold a quote or a NUL, and it is a C string.
        value.retain(|&c| c != b'"' && c != 0);
        let mut arg = format!("{}=\"", k.name).into_bytes();
        arg.extend_from_slice(&value);
        arg.push(b'"');
        let c = CString::new(arg).unwrap_or_else(|_| fail("NUL in a parameter"));
        let want = fuzz::expected(k.kind, &value);
        // SAFETY: a valid module file descriptor and NUL-terminated string.
        let r = unsafe { libc::syscall(libc::SYS_finit_module, ko.as_raw_fd(), c.as_ptr(), 0) };
        let err = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        let what = format!("{}=\"{}\"", k.name, fuzz::show_input(&value));
        match (want, r) {
            (Some(v), 0) => {
                let shown = KnobFile::open("/sys/kernel/nofail_watchdog", k).read();
                if shown != fuzz::shown(k.kind, v) {
                    fail(&format!("{what}: loaded, but {} shows '{shown}'", k.name));
                }
                let name = CString::new("nofail_watchdog").unwrap_or_default();
                // SAFETY: a NUL-terminated module name.
                if unsafe {
                    libc::syscall(libc::SYS_delete_module, name.as_ptr(), libc::O_NONBLOCK)
                } != 0
                {
                    fail(&format!(
                        "{what}: rmmod failed: {}",
                        std::io::Error::last_os_error()
                    ));
                }
                loads += 1;
            }
            (Some(_), _) => fail(&format!("{what}: valid, but the load failed: errno {err}")),
            (None, 0) => fail(&format!("{what}: invalid, but the module loaded")),
            (None, _) if err == libc::EINVAL => refusals += 1,
            (None, _) => fail(&format!(
                "{what}: invalid, expected EINVAL, got errno {err}"
            )),
        }
        if module_loaded() && want.is_none() {
            fail(&format!("{what}: module left behind"));
        }
    }
    println!(
        "nfw-fuzz params: {} insmod attempts in {:.1} s: {loads} loaded and unloaded (valid), {refusals} refused with EINVAL, {skipped} skipped (panic_on_stall=1), 0 mismatches; seed {}",
        loads + refusals,
        start.elapsed().as_secs_f64(),
        o.seed
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else { usage() };
    let o = parse_opts(&args[1..]);
    match cmd.as_str() {
        "sysfs" => cmd_sysfs(&o),
        "chaos" => cmd_chaos(&o),
        "params" => cmd_params(&o),
        _ => usage(),
    }
}
