//! Argument parsing of `nfw-fsload` (host-testable).

use std::path::PathBuf;

/// Usage text.
pub const USAGE: &str = "usage: nfw-fsload --dir D [--procs N] [--seconds S] [--file-kb K] \
[--xattr-bytes B] [--keep F] [--worker-oom-score-adj A] [--go-file PATH]";

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The shared directory.
    pub dir: PathBuf,
    /// Worker processes (1..=256).
    pub procs: u32,
    /// Run time (1..=86400).
    pub seconds: u64,
    /// Bytes written per file, in KiB (0..=16384).
    pub file_kb: usize,
    /// Size of the `user.nfw` xattr (0 = none, at most 65536).
    pub xattr_bytes: usize,
    /// Files each worker keeps before unlinking (0..=100000).
    pub keep: u64,
    /// `oom_score_adj` each worker sets for itself (-1000..=1000), if any.
    pub worker_adj: Option<i32>,
    /// Workers start their loop once this file exists.
    pub go_file: Option<PathBuf>,
}

fn num(flag: &str, v: Option<&String>, lo: u64, hi: u64) -> Result<u64, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    let n: u64 = v
        .parse()
        .map_err(|_| format!("{flag}: '{v}' is not a number"))?;
    if n < lo || n > hi {
        return Err(format!("{flag}: {n} is not in {lo}..={hi}"));
    }
    Ok(n)
}

/// Parses the command line (without the program name).
pub fn parse_args(args: &[String]) -> Result<Config, String> {
    let mut c = Config {
        dir: PathBuf::new(),
        procs: 8,
        seconds: 60,
        file_kb: 16,
        xattr_bytes: 64,
        keep: 32,
        worker_adj: None,
        go_file: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dir" => c.dir = PathBuf::from(it.next().ok_or("--dir needs a value")?),
            "--go-file" => {
                c.go_file = Some(PathBuf::from(it.next().ok_or("--go-file needs a value")?))
            }
            "--procs" => c.procs = num(a, it.next(), 1, 256)? as u32,
            "--seconds" => c.seconds = num(a, it.next(), 1, 86400)?,
            "--file-kb" => c.file_kb = num(a, it.next(), 0, 16384)? as usize,
            "--xattr-bytes" => c.xattr_bytes = num(a, it.next(), 0, 65536)? as usize,
            "--keep" => c.keep = num(a, it.next(), 0, 100_000)?,
            "--worker-oom-score-adj" => {
                let v = it.next().ok_or("--worker-oom-score-adj needs a value")?;
                let n: i32 = v
                    .parse()
                    .map_err(|_| format!("--worker-oom-score-adj: '{v}' is not a number"))?;
                if !(-1000..=1000).contains(&n) {
                    return Err(format!(
                        "--worker-oom-score-adj: {n} is not in -1000..=1000"
                    ));
                }
                c.worker_adj = Some(n);
            }
            _ => return Err(format!("unknown argument '{a}'")),
        }
    }
    if c.dir.as_os_str().is_empty() {
        return Err("--dir is required".into());
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn defaults_and_values() {
        let c = parse_args(&args("--dir /m --procs 4 --xattr-bytes 0")).unwrap();
        assert_eq!(c.dir, PathBuf::from("/m"));
        assert_eq!(
            (c.procs, c.seconds, c.file_kb, c.xattr_bytes, c.keep),
            (4, 60, 16, 0, 32)
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse_args(&args("--procs 4")).is_err());
        assert!(parse_args(&args("--dir /m --procs 0")).is_err());
        assert!(parse_args(&args("--dir /m --procs x")).is_err());
        assert!(parse_args(&args("--dir /m --seconds")).is_err());
        assert!(parse_args(&args("--dir /m --bogus 1")).is_err());
        assert!(parse_args(&args("--dir /m --worker-oom-score-adj 1001")).is_err());
        assert!(parse_args(&args("--dir /m --go-file")).is_err());
        assert_eq!(
            parse_args(&args("--dir /m --worker-oom-score-adj -5"))
                .unwrap()
                .worker_adj,
            Some(-5)
        );
    }
}
