//! `nfw-hog`: command line and memory-size logic.

use std::fmt;

/// How much memory to lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// Exactly this many MiB.
    Mb(u64),
    /// `MemAvailable` minus this many MiB.
    LeaveMb(u64),
}

/// Parsed command line of `nfw-hog`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// How much to lock.
    pub size: Size,
    /// Value for `/proc/self/oom_score_adj`, if given.
    pub oom_score_adj: Option<i32>,
    /// New command name (`PR_SET_NAME`), if given.
    pub name: Option<String>,
}

/// A command-line error, printed with the usage text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The usage text.
pub const USAGE: &str =
    "usage: nfw-hog (--mb N | --leave-mb M) [--oom-score-adj V] [--name NAME]\n\
     \n\
     Locks N MiB of anonymous memory (or MemAvailable - M MiB), touches every\n\
     page, prints 'nfw-hog: ready pid=<pid> locked_mb=<n>' and sleeps forever.";

fn value<'a, I: Iterator<Item = &'a str>>(opt: &str, it: &mut I) -> Result<&'a str, UsageError> {
    it.next()
        .ok_or_else(|| UsageError(format!("option {opt} needs a value")))
}

fn number<T: std::str::FromStr>(opt: &str, v: &str) -> Result<T, UsageError> {
    v.parse()
        .map_err(|_| UsageError(format!("option {opt}: bad number '{v}'")))
}

/// Parses the arguments (without the program name). `--opt=value` works too.
pub fn parse_args<S: AsRef<str>>(args: &[S]) -> Result<Config, UsageError> {
    let mut words = Vec::new();
    for a in args {
        let a = a.as_ref();
        match a.split_once('=') {
            Some((o, v)) if o.starts_with("--") => {
                words.push(o);
                words.push(v);
            }
            _ => words.push(a),
        }
    }
    let mut size = None;
    let mut oom_score_adj = None;
    let mut name = None;
    let mut it = words.into_iter();
    while let Some(opt) = it.next() {
        match opt {
            "--mb" | "--leave-mb" => {
                let n: u64 = number(opt, value(opt, &mut it)?)?;
                if size.is_some() {
                    return Err(UsageError("give one of --mb and --leave-mb, once".into()));
                }
                size = Some(if opt == "--mb" {
                    Size::Mb(n)
                } else {
                    Size::LeaveMb(n)
                });
            }
            "--oom-score-adj" => {
                let v: i32 = number(opt, value(opt, &mut it)?)?;
                if !(-1000..=1000).contains(&v) {
                    return Err(UsageError(format!(
                        "option --oom-score-adj: {v} is not in -1000..1000"
                    )));
                }
                oom_score_adj = Some(v);
            }
            "--name" => {
                let v = value(opt, &mut it)?;
                if v.is_empty() || v.len() > 15 || v.contains('\0') {
                    return Err(UsageError("option --name: expected 1 to 15 bytes".into()));
                }
                name = Some(v.to_string());
            }
            "-h" | "--help" => return Err(UsageError(String::new())),
            _ => return Err(UsageError(format!("unknown argument '{opt}'"))),
        }
    }
    let size = size.ok_or_else(|| UsageError("one of --mb and --leave-mb is required".into()))?;
    if size == Size::Mb(0) {
        return Err(UsageError("--mb must be at least 1".into()));
    }
    Ok(Config {
        size,
        oom_score_adj,
        name,
    })
}

/// The `MemAvailable` value of `/proc/meminfo` text, in KiB.
pub fn mem_available_kb(meminfo: &str) -> Option<u64> {
    meminfo.lines().find_map(|line| {
        let rest = line.strip_prefix("MemAvailable:")?;
        let mut f = rest.split_whitespace();
        let n = f.next()?.parse().ok()?;
        match f.next() {
            Some("kB") | None => Some(n),
            Some(_) => None,
        }
    })
}

/// MiB to lock for `size`, given `MemAvailable` in KiB.
pub fn target_mb(size: Size, available_kb: Option<u64>) -> Result<u64, String> {
    match size {
        Size::Mb(n) => Ok(n),
        Size::LeaveMb(leave) => {
            let avail = available_kb.ok_or("no MemAvailable in /proc/meminfo")? / 1024;
            match avail.checked_sub(leave) {
                Some(n) if n > 0 => Ok(n),
                _ => Err(format!(
                    "MemAvailable is {avail} MiB: cannot leave {leave} MiB and lock anything"
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO: &str = "MemTotal:         482108 kB\n\
                           MemFree:          440112 kB\n\
                           MemAvailable:     431992 kB\n\
                           Buffers:               0 kB\n";

    #[test]
    fn parses_mem_available() {
        assert_eq!(mem_available_kb(MEMINFO), Some(431_992));
        assert_eq!(mem_available_kb("MemAvailable: 12\n"), Some(12));
        assert_eq!(mem_available_kb("MemTotal: 1 kB\n"), None);
        assert_eq!(mem_available_kb("MemAvailable: x kB\n"), None);
        assert_eq!(mem_available_kb("MemAvailable: 1 MB\n"), None);
        assert_eq!(mem_available_kb(""), None);
    }

    #[test]
    fn computes_target() {
        assert_eq!(target_mb(Size::Mb(7), None), Ok(7));
        assert_eq!(target_mb(Size::LeaveMb(96), Some(431_992)), Ok(421 - 96));
        assert!(target_mb(Size::LeaveMb(96), None).is_err());
        assert!(target_mb(Size::LeaveMb(421), Some(431_992)).is_err());
        assert!(target_mb(Size::LeaveMb(500), Some(431_992)).is_err());
    }

    #[test]
    fn parses_args() {
        assert_eq!(
            parse_args(&["--leave-mb", "96"]),
            Ok(Config {
                size: Size::LeaveMb(96),
                oom_score_adj: None,
                name: None
            })
        );
        assert_eq!(
            parse_args(&["--mb=10", "--oom-score-adj", "-500", "--name", "hog1"]),
            Ok(Config {
                size: Size::Mb(10),
                oom_score_adj: Some(-500),
                name: Some("hog1".into())
            })
        );
    }

    #[test]
    fn rejects_bad_args() {
        for bad in [
            &[][..],
            &["--mb"],
            &["--mb", "x"],
            &["--mb", "0"],
            &["--mb", "1", "--leave-mb", "2"],
            &["--mb", "-1"],
            &["--mb", "1", "--oom-score-adj", "1001"],
            &["--mb", "1", "--name", "0123456789abcdef"],
            &["--mb", "1", "--name", ""],
            &["--mb", "1", "extra"],
            &["--help"],
        ] {
            assert!(parse_args(bad).is_err(), "{bad:?}");
        }
    }
}
