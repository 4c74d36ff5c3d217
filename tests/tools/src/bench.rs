//! `nfw-bench`: statistics, the raw measurement format and the report
//! (`build/bench/results.json` and the markdown table) of `make bench`.
//!
//! The guest scripts (`tests/bench/*.sh`) and the host driver
//! (`scripts/bench.sh`) print raw lines, one figure each:
//!
//! - `NFWB <key> <number>`: a numeric sample; repeated keys collect samples
//!   in order (for paired keys such as `fast.pages_o0.unloaded` and
//!   `fast.pages_o0.loaded`, the i-th samples of both come from round i);
//! - `NFWS <key> <text>`: a text value (the last one wins).
//!
//! Everything else is ignored. [`report`] turns the samples into the JSON
//! document that README.md documents key by key.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Raw samples and texts, by key.
#[derive(Debug, Default, Clone)]
pub struct Raw {
    /// Numeric samples in the order they were printed.
    pub nums: BTreeMap<String, Vec<f64>>,
    /// Text values.
    pub texts: BTreeMap<String, String>,
}

impl Raw {
    /// Adds every `NFWB`/`NFWS` line of `text`.
    pub fn parse(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            let mut it = line.splitn(3, ' ');
            match (it.next(), it.next(), it.next()) {
                (Some("NFWB"), Some(k), Some(v)) => {
                    if let Ok(x) = v.trim().parse::<f64>() {
                        if x.is_finite() {
                            self.nums.entry(k.to_string()).or_default().push(x);
                        }
                    }
                }
                (Some("NFWS"), Some(k), Some(v)) => {
                    self.texts.insert(k.to_string(), v.trim().to_string());
                }
                _ => {}
            }
        }
    }

    /// The samples of `key` (empty if none).
    pub fn get(&self, key: &str) -> &[f64] {
        self.nums.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The last sample of `key`.
    pub fn last(&self, key: &str) -> Option<f64> {
        self.get(key).last().copied()
    }

    /// The text of `key`.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.texts.get(key).map(String::as_str)
    }
}

/// Sorted copy of the finite values.
fn sorted(v: &[f64]) -> Vec<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    s.sort_by(f64::total_cmp);
    s
}

/// Median (mean of the two middle values for an even count).
pub fn median(v: &[f64]) -> Option<f64> {
    let s = sorted(v);
    let n = s.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(s[n / 2]),
        _ => Some((s[n / 2 - 1] + s[n / 2]) / 2.0),
    }
}

/// Nearest-rank percentile `q` (0 < q <= 100): the smallest sample with at
/// least q% of the samples at or below it (as the guest tests compute it).
pub fn percentile(v: &[f64], q: f64) -> Option<f64> {
    let s = sorted(v);
    if s.is_empty() {
        return None;
    }
    let rank = ((q / 100.0) * s.len() as f64).ceil() as usize;
    Some(s[rank.clamp(1, s.len()) - 1])
}

/// Distribution-free confidence interval (>= 95%) of the median: the order
/// statistics of ranks k and n+1-k, k - 1 the largest count with
/// P(Binomial(n, 1/2) <= k - 1) <= 2.5%. `None` below 6 samples, where
/// even the full range covers the median with less than 95%.
pub fn median_ci95(v: &[f64]) -> Option<(f64, f64)> {
    let s = sorted(v);
    let n = s.len();
    if n < 6 {
        return None;
    }
    // P(X <= j) for X ~ Binomial(n, 1/2), summed term by term.
    let (mut term, mut cdf, mut k) = (0.5f64.powi(n as i32), 0.0, 1);
    for j in 0..n {
        cdf += term;
        if cdf > 0.025 {
            break;
        }
        k = j + 1;
        term *= (n - j) as f64 / (j + 1) as f64;
    }
    let k = k.min(n.div_ceil(2));
    Some((s[k - 1], s[n - k]))
}

/// Verdict on "value <= limit" from a confidence interval: met if the
/// whole interval is at or below the limit, not met if it is all above,
/// otherwise undecided (`None`): the measurement cannot tell.
pub fn verdict_le(ci: Option<(f64, f64)>, limit: f64) -> Option<bool> {
    match ci {
        Some((_, hi)) if hi <= limit => Some(true),
        Some((lo, _)) if lo > limit => Some(false),
        _ => None,
    }
}

/// Per-round ratios `b[i] / a[i]` of paired samples (rounds where `a` is 0
/// are skipped).
pub fn ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .filter(|(x, _)| **x > 0.0)
        .map(|(x, y)| y / x)
        .collect()
}

/// Per-round geometric mean over several series of per-round ratios (the
/// rounds all series have).
pub fn geomean_rounds(series: &[Vec<f64>]) -> Vec<f64> {
    let n = series.iter().map(Vec::len).min().unwrap_or(0);
    if series.is_empty() {
        return Vec::new();
    }
    (0..n)
        .map(|i| {
            let l: f64 = series.iter().map(|s| s[i].ln()).sum();
            (l / series.len() as f64).exp()
        })
        .collect()
}

/// A JSON value (just what the report needs).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true`/`false`.
    Bool(bool),
    /// A number (non-finite ones print as `null`).
    Num(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, keys in insertion order.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// An optional number: `null` if absent.
    pub fn opt(x: Option<f64>) -> Json {
        x.map_or(Json::Null, Json::Num)
    }

    /// An array of numbers.
    pub fn nums(v: &[f64]) -> Json {
        Json::Arr(v.iter().map(|&x| Json::Num(x)).collect())
    }

    /// Serializes with two-space indentation; short arrays of scalars stay
    /// on one line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let pad = |d: usize| "  ".repeat(d);
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(x) => out.push_str(&fmt_num(*x)),
            Json::Str(s) => write_str(out, s),
            Json::Arr(v) => {
                if v.iter().all(|x| !matches!(x, Json::Arr(_) | Json::Obj(_))) {
                    out.push('[');
                    for (i, x) in v.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        x.write(out, depth);
                    }
                    out.push(']');
                } else {
                    out.push_str("[\n");
                    for (i, x) in v.iter().enumerate() {
                        out.push_str(&pad(depth + 1));
                        x.write(out, depth + 1);
                        out.push_str(if i + 1 < v.len() { ",\n" } else { "\n" });
                    }
                    out.push_str(&pad(depth));
                    out.push(']');
                }
            }
            Json::Obj(kv) => {
                if kv.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push_str("{\n");
                for (i, (k, v)) in kv.iter().enumerate() {
                    out.push_str(&pad(depth + 1));
                    write_str(out, k);
                    out.push_str(": ");
                    v.write(out, depth + 1);
                    out.push_str(if i + 1 < kv.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(depth));
                out.push('}');
            }
        }
    }
}

/// A number with at most 4 decimals, no trailing zeros; non-finite: `null`.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return "null".into();
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Builder for a JSON object.
#[derive(Default)]
pub struct Obj(Vec<(String, Json)>);

impl Obj {
    /// An empty object.
    pub fn new() -> Self {
        Obj(Vec::new())
    }
    /// Adds a member.
    pub fn put(mut self, k: &str, v: Json) -> Self {
        self.0.push((k.to_string(), v));
        self
    }
    /// Adds a number member (`null` if absent).
    pub fn num(self, k: &str, v: Option<f64>) -> Self {
        self.put(k, Json::opt(v))
    }
    /// The object.
    pub fn done(self) -> Json {
        Json::Obj(self.0)
    }
}

/// Spread of a sample: min, p25, p75, max and the count.
pub fn spread(v: &[f64]) -> Json {
    Obj::new()
        .num("min", sorted(v).first().copied())
        .num("p25", percentile(v, 25.0))
        .num("p75", percentile(v, 75.0))
        .num("max", sorted(v).last().copied())
        .num("n", Some(v.len() as f64))
        .done()
}

/// The fast-path items: (raw key, what).
pub const FAST_ITEMS: &[(&str, &str)] = &[
    (
        "pages_o0",
        "alloc_pages(GFP_KERNEL, 0) + __free_pages, ns/op",
    ),
    (
        "pages_o1",
        "alloc_pages(GFP_KERNEL, 1) + __free_pages, ns/op",
    ),
    ("kmalloc_64", "kmalloc(64) + kfree, ns/op"),
    ("kmalloc_512", "kmalloc(512) + kfree, ns/op"),
    ("kmalloc_4096", "kmalloc(4096) + kfree, ns/op"),
    (
        "kmalloc_16384",
        "kmalloc(16384) + kfree (page allocator, order 2), ns/op",
    ),
    (
        "user_fault",
        "userspace first-touch page fault of fresh anonymous memory, ns/page",
    ),
];

/// The slow-path items: (raw key, what).
pub const SLOW_ITEMS: &[(&str, &str)] = &[
    (
        "kernel_nofs_hold",
        "kernel: hold 224 MiB of GFP_NOFS order-0 pages against page cache (tracked), ns/page",
    ),
    (
        "user_fault_pressure",
        "userspace: fault in 224 MiB of anonymous memory against page cache, ns/page",
    ),
];

/// Paired comparison of `<prefix>.<item>.unloaded` and `.loaded`.
pub struct Paired {
    /// Per-round ratios loaded / unloaded.
    pub ratios: Vec<f64>,
    /// The item's JSON object.
    pub json: Json,
}

/// Compares one item across rounds.
pub fn paired(raw: &Raw, prefix: &str, item: &str, what: &str) -> Paired {
    let a = raw.get(&format!("{prefix}.{item}.unloaded"));
    let b = raw.get(&format!("{prefix}.{item}.loaded"));
    let r = ratios(a, b);
    let json = Obj::new()
        .put("what", Json::Str(what.into()))
        .num("unloaded_median", median(a))
        .num("loaded_median", median(b))
        .num("ratio_median", median(&r))
        .put("ratio_spread", spread(&r))
        .put("unloaded", Json::nums(a))
        .put("loaded", Json::nums(b))
        .done();
    Paired { ratios: r, json }
}

/// What one followed slow-path entry of `kernel_nofs_hold` costs, in ns:
/// the whole (loaded minus unloaded) and the probe mechanism alone (loaded
/// with `enabled=0` minus unloaded: the probe is hit, its handler returns
/// at once); the rest is the handlers' work (slot, return probe, release).
#[derive(Debug, Default, PartialEq)]
pub struct EntryCost {
    /// Slow-path entries per allocated page (medians over loaded runs).
    pub entries_per_page: Option<f64>,
    /// Loaded minus unloaded, per entry (medians).
    pub total_ns: Option<f64>,
    /// Probe only minus unloaded, per entry (medians).
    pub probe_ns: Option<f64>,
    /// The noise of those figures: half the interquartile range of the
    /// unloaded runs, per entry. A figure smaller than this is not measured.
    pub noise_ns: Option<f64>,
}

impl EntryCost {
    /// Handler work: total minus probe.
    pub fn handler_ns(&self) -> Option<f64> {
        self.total_ns.zip(self.probe_ns).map(|(t, p)| t - p)
    }

    fn json(&self) -> Json {
        let r = |x: Option<f64>| x.map(|v| (v * 10.0).round() / 10.0);
        Obj::new()
            .num(
                "entries_per_page",
                self.entries_per_page.map(|v| (v * 1000.0).round() / 1000.0),
            )
            .num("total_ns", r(self.total_ns))
            .num("probe_mechanism_ns", r(self.probe_ns))
            .num("handler_work_ns", r(self.handler_ns()))
            .num("noise_ns", r(self.noise_ns))
            .done()
    }
}

/// The cost per tracked slow-path entry (see [`EntryCost`]).
pub fn entry_cost(raw: &Raw) -> EntryCost {
    let unloaded = median(raw.get("slow.kernel_nofs_hold.unloaded"));
    let loaded = median(raw.get("slow.kernel_nofs_hold.loaded"));
    let probe = median(raw.get("slow.kernel_nofs_hold.probe_only"));
    let tracked = median(raw.get("slow.tracked"));
    let pages = median(raw.get("slow.pages"));
    let per_page = tracked
        .zip(pages)
        .filter(|&(_, p)| p > 0.0)
        .map(|(t, p)| t / p);
    let per_entry = |x: Option<f64>| {
        x.zip(unloaded)
            .zip(per_page)
            .filter(|&(_, e)| e > 0.0)
            .map(|((x, u), e)| (x - u) / e)
    };
    let u = raw.get("slow.kernel_nofs_hold.unloaded");
    let iqr = percentile(u, 75.0)
        .zip(percentile(u, 25.0))
        .map(|(a, b)| a - b);
    EntryCost {
        entries_per_page: per_page,
        total_ns: per_entry(loaded),
        probe_ns: per_entry(probe),
        noise_ns: iqr
            .zip(per_page)
            .filter(|&(_, e)| e > 0.0)
            .map(|(r, e)| r / 2.0 / e),
    }
}

/// The larger of two optional numbers.
fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// How many samples a figure rests on, against how many its benchmark
/// asked for. A figure short of its count is marked (`short` in the JSON,
/// ": short" in the table): a p99 of 6 stalls where 24 were asked is the
/// largest of 6, and must not read as the planned figure (issue 13).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Samples {
    /// Samples the figure rests on.
    pub got: usize,
    /// Samples asked for; `None` when the raw output does not say (that
    /// boot did not run, or printed no count).
    pub asked: Option<usize>,
    /// What one sample is: "stalls", "rounds".
    pub unit: &'static str,
}

impl Samples {
    /// `got` samples of the `asked` (a raw figure) ones.
    pub fn new(got: usize, asked: Option<f64>, unit: &'static str) -> Self {
        let asked = asked
            .filter(|a| a.is_finite() && *a >= 0.0)
            .map(|a| a.round() as usize);
        Samples { got, asked, unit }
    }

    /// Fewer samples than asked (`None`: nothing was asked).
    pub fn short(&self) -> Option<bool> {
        self.asked.map(|a| self.got < a)
    }

    /// Adds `samples`, `samples_asked`, `short` and `sample_unit` to `o`.
    pub fn members(&self, o: Obj) -> Obj {
        o.num("samples", Some(self.got as f64))
            .num("samples_asked", self.asked.map(|a| a as f64))
            .put("short", self.short().map_or(Json::Null, Json::Bool))
            .put("sample_unit", Json::Str(self.unit.into()))
    }

    /// For the table: "6 of 24 stalls: short", "24 of 24 stalls", or
    /// "6 stalls" when nothing was asked.
    pub fn note(&self) -> String {
        match self.asked {
            Some(a) if self.got < a => format!("{} of {a} {}: short", self.got, self.unit),
            Some(a) => format!("{} of {a} {}", self.got, self.unit),
            None => format!("{} {}", self.got, self.unit),
        }
    }
}

/// A target check.
struct Target {
    key: &'static str,
    label: String,
    value: Option<f64>,
    shown: String,
    target: &'static str,
    met: Option<bool>,
    /// The sample count behind the value, for figures with an asked count.
    samples: Option<Samples>,
}

/// A ratio with its confidence interval, 3 decimals.
fn with_ci(x: Option<f64>, ci: Option<(f64, f64)>) -> String {
    let r = |x: f64| fmt_num((x * 1000.0).round() / 1000.0);
    match (x, ci) {
        (Some(x), Some((lo, hi))) => format!("{} (95% CI {} - {})", r(x), r(lo), r(hi)),
        (Some(x), None) => format!("{} (too few rounds for a 95% CI)", r(x)),
        _ => "n/a".into(),
    }
}

fn ci_json(ci: Option<(f64, f64)>) -> Json {
    ci.map_or(Json::Null, |(lo, hi)| Json::nums(&[lo, hi]))
}

fn fmt_opt(x: Option<f64>, unit: &str) -> String {
    x.map_or("n/a".into(), |x| format!("{}{unit}", fmt_num(x)))
}

fn yes_no(x: Option<f64>) -> Option<bool> {
    x.map(|x| x != 0.0)
}

fn yn(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "n/a",
    }
}

/// Keys every compared tool has (null when not measured); flags are booleans.
const TOOL_KEYS: &[(&str, bool)] = &[
    ("stall_detected", true),
    ("stall_detect_ms", false),
    ("stall_resolved", true),
    ("stall_resolve_ms", false),
    ("fp_kills", false),
    ("fp_reports", false),
    ("fp_window_ms", false),
    ("fp_mem_used_pct", false),
];

/// One compared tool, from the `base.<tool>.*` figures: the keys of
/// [`TOOL_KEYS`] first, then every other figure (numbers: the median of
/// their samples) and text.
fn tool_json(raw: &Raw, tool: &str) -> Json {
    let prefix = format!("base.{tool}.");
    let mut o = Obj::new();
    for (k, flag) in TOOL_KEYS {
        let v = Json::opt(median(raw.get(&format!("{prefix}{k}"))));
        o = o.put(k, if *flag { v.map_bool() } else { v });
    }
    for (k, v) in raw.nums.iter() {
        if let Some(name) = k.strip_prefix(&prefix) {
            if !TOOL_KEYS.iter().any(|(t, _)| *t == name) {
                o = o.num(name, median(v));
            }
        }
    }
    for (k, v) in raw.texts.iter() {
        if let Some(name) = k.strip_prefix(&prefix) {
            o = o.put(name, Json::Str(v.clone()));
        }
    }
    o.done()
}

impl Json {
    /// A 0/1 number as a boolean (`null` stays `null`).
    fn map_bool(self) -> Json {
        match self {
            Json::Num(x) => Json::Bool(x != 0.0),
            other => other,
        }
    }
}

/// The report as `nfw-bench report` writes it: the text of `results.json`
/// and the markdown table.
pub fn report_texts(raw: &Raw) -> (String, String) {
    let (json, md) = report(raw);
    (json.render(), md)
}

/// The report: the JSON document and the markdown table.
pub fn report(raw: &Raw) -> (Json, String) {
    let t = |k: &str| raw.text(k).unwrap_or("unknown").to_string();

    // 1. Fast path.
    let mut fast_items = Obj::new();
    let mut fast_series = Vec::new();
    let mut fast_worst: Option<f64> = None;
    for (item, what) in FAST_ITEMS {
        let p = paired(raw, "fast", item, what);
        if !p.ratios.is_empty() {
            let m = median(&p.ratios);
            fast_worst = max_opt(fast_worst, m);
            fast_series.push(p.ratios);
        }
        fast_items = fast_items.put(item, p.json);
    }
    let fast_geo = geomean_rounds(&fast_series);
    let fastpath_ratio = median(&fast_geo);
    let fast_ci = median_ci95(&fast_geo);
    let fast_n = Samples::new(fast_geo.len(), raw.last("rounds"), "rounds");

    // 2. Slow path.
    let mut slow_items = Obj::new();
    let mut slow_series = Vec::new();
    let mut slow_worst: Option<f64> = None;
    for (item, what) in SLOW_ITEMS {
        let p = paired(raw, "slow", item, what);
        if !p.ratios.is_empty() {
            slow_worst = max_opt(slow_worst, median(&p.ratios));
            slow_series.push(p.ratios);
        }
        slow_items = slow_items.put(item, p.json);
    }
    let slow_geo = geomean_rounds(&slow_series);
    let slowpath_ratio = median(&slow_geo);
    let slow_ci = median_ci95(&slow_geo);
    let slow_n = Samples::new(slow_geo.len(), raw.last("slow_rounds"), "rounds");
    let cost = entry_cost(raw);

    // 3. Detection latency.
    let lat = raw.get("detect.latency_ms");
    let (d50, d99) = (percentile(lat, 50.0), percentile(lat, 99.0));
    let warn = raw.last("detect.stall_warn_ms");
    let lat_n = Samples::new(lat.len(), raw.last("detect.samples_asked"), "stalls");

    // 4. Recovery.
    let rec = raw.get("recover.over_ms");
    let (r50, r99) = (percentile(rec, 50.0), percentile(rec, 99.0));
    let base_rec = raw.get("recover.baseline.recovered");
    // Asked: rounds; got: the rounds that measured at least one stall.
    let rec_n = Samples::new(
        raw.get("recover.round_samples")
            .iter()
            .filter(|&&x| x > 0.0)
            .count(),
        raw.last("recover.rounds"),
        "rounds",
    );
    let count = |k: &str| Some(raw.get(k).len() as f64);

    // 5. CPU burn.
    let off = raw.get("cpu.off_ticks");
    let on = raw.get("cpu.on_ticks");
    let (soff, son): (f64, f64) = (off.iter().sum(), on.iter().sum());
    let cpu_lower_bound = son == 0.0;
    let cpu_reduction = if off.is_empty() {
        None
    } else {
        Some(soff / son.max(1.0))
    };
    let secs = raw.last("cpu.seconds").unwrap_or(0.0);
    let workers = raw.last("cpu.workers").unwrap_or(0.0);
    let hz = raw.last("cpu.user_hz").unwrap_or(100.0);
    let per_task = |sum: f64, n: usize| {
        (secs > 0.0 && workers > 0.0 && n > 0).then(|| sum / hz / (secs * workers * n as f64))
    };
    let cpu_round_ratios: Vec<f64> = off.iter().zip(on).map(|(a, b)| a / b.max(1.0)).collect();
    let cpu_n = Samples::new(
        off.len().min(on.len()),
        raw.last("cpu.rounds_asked"),
        "rounds",
    );

    // 7. Footprint.
    let mut tracking = Vec::new();
    for n in [1u32, 64, 1024, 1100] {
        let k = |s: &str| format!("foot.n{n}.{s}");
        if raw.get(&k("slots_in_use")).is_empty() {
            continue;
        }
        tracking.push(
            Obj::new()
                .num("n", Some(f64::from(n)))
                .num("in_flight", raw.last(&k("in_flight")))
                .num("slots_in_use", raw.last(&k("slots_in_use")))
                .num("overflow", raw.last(&k("overflow")))
                .num("module_size_bytes", raw.last(&k("module_size")))
                .num("slab_kb_delta", raw.last(&k("slab_kb_delta")))
                .num("kernel_stack_kb_delta", raw.last(&k("kstack_kb_delta")))
                .num("mem_used_kb_delta", raw.last(&k("used_kb_delta")))
                .done(),
        );
    }
    let sizes: Vec<f64> = raw
        .nums
        .iter()
        .filter(|(k, _)| k.starts_with("foot.n") && k.ends_with(".module_size"))
        .flat_map(|(_, v)| v.iter().copied())
        .chain(raw.get("foot.idle.module_size").iter().copied())
        .collect();
    let size_constant = !sizes.is_empty() && sizes.iter().all(|&s| s == sizes[0]);
    let slots_max = raw
        .nums
        .iter()
        .filter(|(k, _)| k.ends_with(".slots_in_use"))
        .flat_map(|(_, v)| v.iter().copied())
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    let capacity = raw.last("foot.table_slots");
    let bounded = size_constant && slots_max.zip(capacity).is_some_and(|(s, c)| s <= c);

    let mut targets = vec![
        Target {
            key: "fastpath_ratio",
            label: "Fast-path overhead (loaded/unloaded, median of per-round geomean)".into(),
            value: fastpath_ratio,
            shown: with_ci(fastpath_ratio, fast_ci),
            target: "<= 1.01",
            met: verdict_le(fast_ci, 1.01),
            samples: Some(fast_n),
        },
        Target {
            key: "slowpath_ratio",
            label: "Slow-path overhead (reclaim, loaded/unloaded)".into(),
            value: slowpath_ratio,
            shown: with_ci(slowpath_ratio, slow_ci),
            target: "<= 1.03",
            met: verdict_le(slow_ci, 1.03),
            samples: Some(slow_n),
        },
        Target {
            key: "detect_latency_p99_ms",
            label: format!(
                "Detection latency beyond stall_warn_ms={} (p50 / p99)",
                fmt_opt(warn, "")
            ),
            value: d99,
            shown: format!("{} / {}", fmt_opt(d50, " ms"), fmt_opt(d99, " ms")),
            target: "p99 <= one scan interval (stall_warn_ms)",
            met: d99.zip(warn).map(|(p, w)| p <= w),
            samples: Some(lat_n),
        },
        Target {
            key: "recovery_p99_ms",
            label: format!(
                "Recovery beyond oom_after_ms={} (p50 / p99, {} stalls)",
                fmt_opt(raw.last("recover.oom_after_ms"), ""),
                rec.len()
            ),
            value: r99,
            shown: format!("{} / {}", fmt_opt(r50, " ms"), fmt_opt(r99, " ms")),
            target: "p99 <= 500 ms",
            met: r99.map(|p| p <= 500.0),
            samples: Some(rec_n),
        },
        Target {
            key: "cpu_burn_reduction",
            label: "CPU burnt while stuck, back-off off / on".into(),
            value: cpu_reduction,
            shown: format!(
                "{}{}x",
                if cpu_lower_bound && cpu_reduction.is_some() {
                    ">= "
                } else {
                    ""
                },
                fmt_opt(cpu_reduction.map(f64::round), "")
            ),
            target: ">= 10x",
            met: cpu_reduction.map(|r| r >= 10.0),
            samples: Some(cpu_n),
        },
    ];
    targets.push(Target {
        key: "footprint",
        label: format!(
            "Footprint: module size {} bytes, table {} slots",
            fmt_opt(raw.last("foot.idle.module_size"), ""),
            fmt_opt(capacity, "")
        ),
        value: None,
        shown: format!(
            "bounded: {} (max slots in use {})",
            if bounded { "yes" } else { "no" },
            fmt_opt(slots_max, "")
        ),
        target: "bounded",
        met: Some(bounded),
        samples: None,
    });
    // The figures short of their asked sample count, by target key.
    let short: Vec<&Target> = targets
        .iter()
        .filter(|t| t.samples.and_then(|n| n.short()) == Some(true))
        .collect();

    let machine = Obj::new()
        .put("host_cpu", Json::Str(t("machine.cpu")))
        .num("host_cpus", raw.last("machine.cpus"))
        .put("host_kernel", Json::Str(t("machine.kernel")))
        .put("guest_kernel", Json::Str(t("machine.guest_kernel")))
        .put("qemu", Json::Str(t("machine.qemu")))
        .put("accel", Json::Str(t("machine.accel")))
        .num("guest_mem_mb", raw.last("machine.guest_mem_mb"))
        .num("guest_cpus", raw.last("machine.guest_cpus"))
        .num("host_load_1min_start", raw.last("machine.load_start"))
        .num("host_load_1min_end", raw.last("machine.load_end"))
        .put(
            "host_load_1min_before_boot",
            Obj(raw
                .nums
                .iter()
                .filter_map(|(k, v)| {
                    let boot = k.strip_prefix("machine.load_before_")?;
                    Some((boot.to_string(), Json::opt(v.last().copied())))
                })
                .collect())
            .done(),
        )
        .done();

    let json = Obj::new()
        .num("schema", Some(1.0))
        .put("date", Json::Str(t("date")))
        .put("machine", machine)
        .num("rounds", raw.last("rounds"))
        .num("slow_rounds", raw.last("slow_rounds"))
        .num("fastpath_ratio", fastpath_ratio)
        .put("fastpath_ratio_ci95", ci_json(fast_ci))
        .put("fastpath_ratio_spread", spread(&fast_geo))
        .num("fastpath_ratio_worst_item", fast_worst)
        .put("fastpath", fast_items.done())
        .num("slowpath_ratio", slowpath_ratio)
        .put("slowpath_ratio_ci95", ci_json(slow_ci))
        .put("slowpath_ratio_spread", spread(&slow_geo))
        .num("slowpath_ratio_worst_item", slow_worst)
        .num(
            "fastpath_slowpath_entries",
            raw.last("fast.slowpath_entries_scope_all"),
        )
        .put(
            "slowpath",
            slow_items
                .put(
                    "direct_reclaim_rounds_per_loaded_run",
                    Json::nums(raw.get("slow.direct_reclaim")),
                )
                .put(
                    "free_kb_before_run",
                    Json::nums(raw.get("slow.free_kb_before")),
                )
                .put(
                    "tracked_per_loaded_run",
                    Json::nums(raw.get("slow.tracked")),
                )
                .put("cost_per_tracked_entry", cost.json())
                .done(),
        )
        .num("detect_latency_p50_ms", d50)
        .num("detect_latency_p99_ms", d99)
        .put(
            "detect",
            lat_n
                .members(Obj::new())
                .num("stall_warn_ms", warn)
                .num("stalls", Some(lat.len() as f64))
                .num("rounds", raw.last("detect.rounds"))
                .num("rounds_formed", raw.last("detect.rounds_formed"))
                .put(
                    "round_start_avail_mb",
                    Json::nums(raw.get("detect.round_avail_mb")),
                )
                .num("max_ms", sorted(lat).last().copied())
                .put("latencies_ms", Json::nums(lat))
                .done(),
        )
        .num("recovery_p50_ms", r50)
        .num("recovery_p99_ms", r99)
        .put(
            "recovery",
            rec_n
                .members(Obj::new())
                .num("oom_after_ms", raw.last("recover.oom_after_ms"))
                .num("stalls", Some(rec.len() as f64))
                .num("rounds", raw.last("recover.rounds"))
                .num("rounds_run", raw.last("recover.rounds_run"))
                .num("rounds_unformed", count("recover.unformed"))
                .num("rounds_kernel_first", count("recover.kernel_first"))
                .num("max_ms", sorted(rec).last().copied())
                .put("over_ms", Json::nums(rec))
                .put(
                    "oom_kills_per_round",
                    Json::nums(raw.get("recover.kills_per_round")),
                )
                .put(
                    "module_triggers_per_round",
                    Json::nums(raw.get("recover.module_triggers_per_round")),
                )
                .put(
                    "baseline_no_module",
                    Obj::new()
                        .num("rounds", Some(base_rec.len() as f64))
                        .num("rounds_unformed", count("recover.baseline.unformed"))
                        .num(
                            "recovered_within_window",
                            Some(base_rec.iter().filter(|&&x| x != 0.0).count() as f64),
                        )
                        .num("window_ms", raw.last("recover.baseline.window_ms"))
                        .num(
                            "stuck_ms_median",
                            median(raw.get("recover.baseline.stuck_ms")),
                        )
                        .done(),
                )
                .done(),
        )
        .num("cpu_burn_reduction", cpu_reduction)
        .put(
            "cpu_burn",
            cpu_n
                .members(Obj::new())
                .num("rounds_run", raw.last("cpu.rounds_run"))
                .put("reduction_is_lower_bound", Json::Bool(cpu_lower_bound))
                .num("cpu_s_per_s_per_task_off", per_task(soff, off.len()))
                .num("cpu_s_per_s_per_task_on", per_task(son, on.len()))
                .num("round_ratio_median", median(&cpu_round_ratios))
                .put("round_ratio_spread", spread(&cpu_round_ratios))
                .num("seconds_per_round", Some(secs))
                .num("workers", Some(workers))
                .put("off_ticks", Json::nums(off))
                .put("on_ticks", Json::nums(on))
                .done(),
        )
        .put(
            "baselines",
            Obj::new()
                .put("earlyoom", tool_json(raw, "earlyoom"))
                .put("hung_task", tool_json(raw, "hung_task"))
                .put("nofail_watchdog", tool_json(raw, "nofail_watchdog"))
                .done(),
        )
        .put(
            "footprint",
            Obj::new()
                .num("ko_text_bytes", raw.last("foot.ko_text"))
                .num("ko_data_bytes", raw.last("foot.ko_data"))
                .num("ko_rodata_bytes", raw.last("foot.ko_rodata"))
                .num("ko_bss_bytes", raw.last("foot.ko_bss"))
                .num("module_size_bytes", raw.last("foot.idle.module_size"))
                .num("table_slots", capacity)
                .put("tracking", Json::Arr(tracking))
                .put("bounded", Json::Bool(bounded))
                .done(),
        )
        .put(
            "short_of_samples",
            Json::Arr(short.iter().map(|t| Json::Str(t.key.into())).collect()),
        )
        .put(
            "targets",
            Json::Obj(
                targets
                    .iter()
                    .map(|t| {
                        let o = Obj::new()
                            .num("value", t.value)
                            .put("target", Json::Str(t.target.into()))
                            .put("met", t.met.map_or(Json::Null, Json::Bool));
                        let o = match t.samples {
                            Some(n) => n.members(o),
                            None => o,
                        };
                        (t.key.to_string(), o.done())
                    })
                    .collect(),
            ),
        )
        .done();

    // Markdown.
    let mut md = String::new();
    let _ = writeln!(
        md,
        "`make bench`, {} on {} ({} host CPUs, shared: other guests and builds ran at the same time), guest {} MiB / {} vCPUs under QEMU {} ({}), kernel {}; host 1-minute load average {} at the start, {} at the end (per boot: {}).\n",
        t("date"),
        t("machine.cpu"),
        fmt_opt(raw.last("machine.cpus"), ""),
        fmt_opt(raw.last("machine.guest_mem_mb"), ""),
        fmt_opt(raw.last("machine.guest_cpus"), ""),
        t("machine.qemu"),
        t("machine.accel"),
        t("machine.guest_kernel"),
        fmt_opt(raw.last("machine.load_start"), ""),
        fmt_opt(raw.last("machine.load_end"), ""),
        raw.nums
            .iter()
            .filter_map(|(k, v)| Some(format!(
                "{} {}",
                k.strip_prefix("machine.load_before_")?,
                fmt_num(*v.last()?)
            )))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let _ = writeln!(md, "| measure | result | target | met |");
    let _ = writeln!(md, "| --- | --- | --- | --- |");
    for t in &targets {
        let met = match (t.met, t.value) {
            (None, Some(_)) => "undecided (the 95% CI straddles the target, or < 6 rounds)",
            (m, _) => yn(m),
        };
        let (shown, met) = match t.samples {
            Some(n) if n.short() == Some(true) => (
                format!("{} (**{}**)", t.shown, n.note()),
                match t.value {
                    Some(_) => format!("{met} (on a short sample)"),
                    None => met.to_string(),
                },
            ),
            // Nothing asked and nothing got: that boot did not run.
            Some(n) if n.asked.is_some() || n.got > 0 => {
                (format!("{} ({})", t.shown, n.note()), met.to_string())
            }
            _ => (t.shown.clone(), met.to_string()),
        };
        let _ = writeln!(md, "| {} | {shown} | {} | {met} |", t.label, t.target);
    }
    if !short.is_empty() {
        let _ = writeln!(
            md,
            "\n**Short of the asked sample count**: {}. These figures rest on fewer samples than the benchmark asked for (rounds whose premise did not form, or a boot cut short: see the raw output's `#` lines); read them as indicative only.",
            short
                .iter()
                .filter_map(|t| Some(format!("`{}` ({})", t.key, t.samples?.note())))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "| item (fast path {} rounds, slow path {}; order alternating) | unloaded | loaded | loaded/unloaded: median [min, max] |",
        fmt_opt(raw.last("rounds"), ""),
        fmt_opt(raw.last("slow_rounds"), "")
    );
    let _ = writeln!(md, "| --- | --- | --- | --- |");
    for (prefix, items) in [("fast", FAST_ITEMS), ("slow", SLOW_ITEMS)] {
        for (item, _) in items {
            let a = raw.get(&format!("{prefix}.{item}.unloaded"));
            let b = raw.get(&format!("{prefix}.{item}.loaded"));
            let r = ratios(a, b);
            if r.is_empty() {
                continue;
            }
            let s = sorted(&r);
            let _ = writeln!(
                md,
                "| {prefix}: {item} | {} ns | {} ns | {} [{}, {}] |",
                fmt_num(median(a).unwrap_or(f64::NAN).round()),
                fmt_num(median(b).unwrap_or(f64::NAN).round()),
                fmt_num((median(&r).unwrap_or(f64::NAN) * 1000.0).round() / 1000.0),
                fmt_num((s[0] * 1000.0).round() / 1000.0),
                fmt_num((s[s.len() - 1] * 1000.0).round() / 1000.0),
            );
        }
    }
    let c = &cost;
    let ns = |x: Option<f64>| x.map_or("-".into(), |v| format!("{} ns", fmt_num(v.round())));
    let _ = writeln!(
        md,
        "\nCost per tracked slow-path entry (kernel_nofs_hold, {} entries per page): {} = probe mechanism {} + handler work {}; noise of this run ±{} per entry (half the unloaded runs' interquartile range): {}.",
        fmt_opt(c.entries_per_page.map(|v| (v * 1000.0).round() / 1000.0), ""),
        ns(c.total_ns),
        ns(c.probe_ns),
        ns(c.handler_ns()),
        ns(c.noise_ns),
        match (c.total_ns, c.noise_ns) {
            (Some(t), Some(n)) if t.abs() > n => "measured",
            (Some(_), Some(_)) => "below the noise, not measured",
            _ => "not measured",
        }
    );
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "| tool | NOFAIL stall: detected | resolved | by / killed | ~95% memory, nothing stuck: kills |"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- | --- |");
    for (tool, name) in [
        (
            "nofail_watchdog",
            "nofail-watchdog (stall_warn_ms=1000, oom_after_ms=2000)",
        ),
        ("earlyoom", "earlyoom (Debian, default settings)"),
        ("hung_task", "hung-task detector (timeout 5 s)"),
    ] {
        let k = |s: &str| format!("base.{tool}.{s}");
        let med = |s: &str| median(raw.get(&k(s)));
        let det = yes_no(med("stall_detected"));
        let res = yes_no(med("stall_resolved"));
        let _ = writeln!(
            md,
            "| {name} | {}{} | {}{} | {} | {} {} |",
            yn(det),
            med("stall_detect_ms").filter(|_| det == Some(true)).map_or(
                String::new(),
                |x| format!(", {} ms after stall start (median)", fmt_num(x.round()))
            ),
            yn(res),
            med("stall_resolve_ms")
                .filter(|_| res == Some(true))
                .map_or(String::new(), |x| format!(
                    ", {} ms after stall start",
                    fmt_num(x.round())
                )),
            raw.text(&k("stall_killed")).unwrap_or("-"),
            fmt_opt(med("fp_kills"), ""),
            raw.text(&k("fp_killed"))
                .filter(|s| !s.is_empty())
                .map_or(String::new(), |s| format!("({s})")),
        );
    }
    for tool in ["nofail_watchdog", "earlyoom", "hung_task"] {
        if let Some(n) = raw.text(&format!("base.{tool}.notes")) {
            let _ = writeln!(md, "\n{tool}: {n}");
        }
    }
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "| footprint | .text | .data | .bss | /proc/modules size | tracking N=1 / 64 / 1024 / 1100: slots in use (overflow), module size |"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- |");
    let mut cells = Vec::new();
    for n in [1, 64, 1024, 1100] {
        let k = |s: &str| format!("foot.n{n}.{s}");
        if let Some(s) = raw.last(&k("slots_in_use")) {
            cells.push(format!(
                "{n}: {} ({}), {} B",
                fmt_num(s),
                fmt_opt(raw.last(&k("overflow")), ""),
                fmt_opt(raw.last(&k("module_size")), "")
            ));
        }
    }
    let _ = writeln!(
        md,
        "| nofail_watchdog.ko | {} B | {} B | {} B | {} B | {} |",
        fmt_opt(raw.last("foot.ko_text"), ""),
        fmt_opt(raw.last("foot.ko_data"), ""),
        fmt_opt(raw.last("foot.ko_bss"), ""),
        fmt_opt(raw.last("foot.idle.module_size"), ""),
        cells.join("; ")
    );
    (json, md)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn median_and_percentiles() {
        assert_eq!(median(&[]), None);
        assert!(close(median(&[3.0, 1.0, 2.0]), 2.0));
        assert!(close(median(&[4.0, 1.0, 2.0, 3.0]), 2.5));
        let v: Vec<f64> = (1..=24).map(f64::from).collect();
        // Nearest rank: p50 of 24 is the 12th, p99 the 24th (the max).
        assert!(close(percentile(&v, 50.0), 12.0));
        assert!(close(percentile(&v, 99.0), 24.0));
        assert!(close(percentile(&v, 25.0), 6.0));
        assert!(close(percentile(&[7.0], 99.0), 7.0));
        // n = 20: ranks 6 and 15; n = 10: ranks 2 and 9.
        assert_eq!(median_ci95(&v[..20]), Some((6.0, 15.0)));
        assert_eq!(median_ci95(&v[..10]), Some((2.0, 9.0)));
        assert_eq!(median_ci95(&v[..6]), Some((1.0, 6.0)));
        assert_eq!(median_ci95(&v[..5]), None);
        assert_eq!(verdict_le(Some((0.99, 1.0)), 1.01), Some(true));
        assert_eq!(verdict_le(Some((1.02, 1.1)), 1.01), Some(false));
        assert_eq!(verdict_le(Some((0.9, 1.1)), 1.01), None);
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn entry_cost_splits_probe_and_handler() {
        let mut raw = Raw::default();
        raw.parse(
            "NFWB slow.kernel_nofs_hold.unloaded 1000\nNFWB slow.kernel_nofs_hold.loaded 1100\n\
             NFWB slow.kernel_nofs_hold.probe_only 1040\nNFWB slow.tracked 500\nNFWB slow.pages 1000\n",
        );
        let c = entry_cost(&raw);
        assert_eq!(c.entries_per_page, Some(0.5));
        assert_eq!(c.total_ns, Some(200.0));
        assert_eq!(c.probe_ns, Some(80.0));
        assert_eq!(c.handler_ns(), Some(120.0));
        // One unloaded run: no spread.
        assert_eq!(c.noise_ns, Some(0.0));
        // Nothing measured: nothing claimed.
        assert_eq!(entry_cost(&Raw::default()), EntryCost::default());
    }

    #[test]
    fn paired_ratios_and_geomean() {
        let r = ratios(&[100.0, 0.0, 200.0], &[101.0, 5.0, 198.0]);
        assert_eq!(r.len(), 2);
        assert!((r[0] - 1.01).abs() < 1e-12 && (r[1] - 0.99).abs() < 1e-12);
        let g = geomean_rounds(&[vec![2.0, 1.0], vec![0.5, 4.0, 9.0]]);
        assert_eq!(g.len(), 2);
        assert!((g[0] - 1.0).abs() < 1e-12 && (g[1] - 2.0).abs() < 1e-12);
        assert!(geomean_rounds(&[]).is_empty());
    }

    #[test]
    fn raw_lines() {
        let mut raw = Raw::default();
        raw.parse(
            "NFWB a.b 1.5\r\nnoise\nNFWB a.b 2\nNFWB bad x\nNFWS t hello world\nNFWB nan NaN\n",
        );
        assert_eq!(raw.get("a.b"), &[1.5, 2.0]);
        assert!(raw.get("bad").is_empty() && raw.get("nan").is_empty());
        assert_eq!(raw.text("t"), Some("hello world"));
        assert_eq!(raw.last("a.b"), Some(2.0));
    }

    #[test]
    fn json_rendering() {
        let j = Obj::new()
            .num("x", Some(1.23456))
            .num("y", None)
            .put("s", Json::Str("a\"b\n".into()))
            .put("v", Json::nums(&[1.0, 2.5]))
            .put("b", Json::Bool(true))
            .done();
        assert_eq!(
            j.render(),
            "{\n  \"x\": 1.2346,\n  \"y\": null,\n  \"s\": \"a\\\"b\\n\",\n  \"v\": [1, 2.5],\n  \"b\": true\n}\n"
        );
        assert_eq!(fmt_num(f64::NAN), "null");
        assert_eq!(fmt_num(-0.00001), "0");
        assert_eq!(fmt_num(1000.0), "1000");
    }

    #[test]
    fn samples_got_against_asked() {
        let short = Samples::new(6, Some(24.0), "stalls");
        assert_eq!(short.short(), Some(true));
        assert_eq!(short.note(), "6 of 24 stalls: short");
        let full = Samples::new(26, Some(24.0), "stalls");
        assert_eq!(full.short(), Some(false));
        assert_eq!(full.note(), "26 of 24 stalls");
        // Nothing asked (that boot did not run): no verdict either way.
        let unknown = Samples::new(3, None, "rounds");
        assert_eq!(unknown.short(), None);
        assert_eq!(unknown.note(), "3 rounds");
        assert_eq!(Samples::new(0, Some(f64::NAN), "rounds").asked, None);
        assert_eq!(
            short.members(Obj::new()).done().render(),
            "{\n  \"samples\": 6,\n  \"samples_asked\": 24,\n  \"short\": true,\n  \"sample_unit\": \"stalls\"\n}\n"
        );
        assert!(unknown
            .members(Obj::new())
            .done()
            .render()
            .contains("\"short\": null"));
    }

    /// Member `path` (keys separated by '/') of a JSON object.
    fn at(j: &Json, path: &str) -> Option<Json> {
        path.split('/').try_fold(j.clone(), |j, k| match j {
            Json::Obj(kv) => kv.into_iter().find(|(n, _)| n == k).map(|(_, v)| v),
            _ => None,
        })
    }

    #[test]
    fn short_figures_are_marked() {
        // Issue 13: the first detection round's 6 stalls, none after; 7 of
        // the 10 recovery rounds measured; every CPU round measured.
        let mut text = String::from(
            "NFWB detect.stall_warn_ms 1000\nNFWB detect.samples_asked 24\n\
             NFWB detect.rounds 10\nNFWB detect.rounds_formed 1\n\
             NFWB recover.oom_after_ms 2000\nNFWB recover.rounds 10\n\
             NFWB cpu.rounds_asked 4\nNFWB cpu.seconds 3\nNFWB cpu.workers 2\n",
        );
        for l in [3, 5, 8, 12, 20, 28] {
            text += &format!("NFWB detect.latency_ms {l}\n");
        }
        for r in 0..10 {
            let n = if r % 3 == 2 { 0 } else { 2 };
            text += &format!("NFWB recover.round_samples {n}\n");
            for _ in 0..n {
                text += "NFWB recover.over_ms 40\n";
            }
        }
        text +=
            "NFWB recover.unformed 1\nNFWB recover.kernel_first 1\nNFWB recover.kernel_first 1\n";
        for _ in 0..4 {
            text += "NFWB cpu.off_ticks 400\nNFWB cpu.on_ticks 3\n";
        }
        let mut raw = Raw::default();
        raw.parse(&text);
        let (json, md) = report(&raw);
        let num = |p: &str| at(&json, p);
        assert_eq!(num("detect_latency_p99_ms"), Some(Json::Num(28.0)));
        for p in ["targets/detect_latency_p99_ms", "detect"] {
            assert_eq!(num(&format!("{p}/samples")), Some(Json::Num(6.0)), "{p}");
            assert_eq!(num(&format!("{p}/samples_asked")), Some(Json::Num(24.0)));
            assert_eq!(num(&format!("{p}/short")), Some(Json::Bool(true)));
        }
        assert_eq!(num("detect/rounds_formed"), Some(Json::Num(1.0)));
        for p in ["targets/recovery_p99_ms", "recovery"] {
            assert_eq!(num(&format!("{p}/samples")), Some(Json::Num(7.0)), "{p}");
            assert_eq!(num(&format!("{p}/samples_asked")), Some(Json::Num(10.0)));
            assert_eq!(num(&format!("{p}/short")), Some(Json::Bool(true)));
            assert_eq!(
                num(&format!("{p}/sample_unit")),
                Some(Json::Str("rounds".into()))
            );
        }
        assert_eq!(num("recovery/rounds_unformed"), Some(Json::Num(1.0)));
        assert_eq!(num("recovery/rounds_kernel_first"), Some(Json::Num(2.0)));
        for p in ["targets/cpu_burn_reduction", "cpu_burn"] {
            assert_eq!(num(&format!("{p}/samples")), Some(Json::Num(4.0)), "{p}");
            assert_eq!(num(&format!("{p}/short")), Some(Json::Bool(false)));
        }
        // No fast-path boot: nothing asked, nothing short.
        assert_eq!(num("targets/fastpath_ratio/short"), Some(Json::Null));
        assert!(md.contains("| n/a | <= 1.01 | n/a |"), "{md}");
        assert_eq!(
            num("short_of_samples"),
            Some(Json::Arr(vec![
                Json::Str("detect_latency_p99_ms".into()),
                Json::Str("recovery_p99_ms".into())
            ]))
        );
        assert!(
            md.contains("| 8 ms / 28 ms (**6 of 24 stalls: short**) |"),
            "{md}"
        );
        assert!(md.contains("| yes (on a short sample) |"));
        assert!(md.contains("(**7 of 10 rounds: short**)"));
        assert!(
            md.contains("| 133x (4 of 4 rounds) | >= 10x | yes |"),
            "{md}"
        );
        assert!(md.contains(
            "**Short of the asked sample count**: `detect_latency_p99_ms` (6 of 24 stalls: short), `recovery_p99_ms` (7 of 10 rounds: short)."
        ));
    }

    #[test]
    fn report_keys_and_targets() {
        let mut raw = Raw::default();
        let mut text = String::new();
        for i in 0..10 {
            let x = 100.0 + f64::from(i);
            text += &format!(
                "NFWB fast.pages_o0.unloaded {x}\nNFWB fast.pages_o0.loaded {}\n",
                x * 1.005
            );
            text += &format!(
                "NFWB slow.kernel_nofs_hold.unloaded {x}\nNFWB slow.kernel_nofs_hold.loaded {}\n",
                x * 1.05
            );
            text += &format!("NFWB cpu.off_ticks 400\nNFWB cpu.on_ticks {}\n", i % 2);
        }
        for l in 1..=24 {
            text += &format!(
                "NFWB detect.latency_ms {l}\nNFWB recover.over_ms {}\n",
                l * 30
            );
        }
        text += "NFWB detect.stall_warn_ms 1000\nNFWB recover.oom_after_ms 2000\n";
        text += "NFWB detect.samples_asked 24\nNFWB cpu.rounds_asked 10\n";
        text += "NFWB recover.baseline.recovered 0\nNFWB recover.baseline.recovered 0\n";
        text += "NFWB cpu.seconds 3\nNFWB cpu.workers 2\n";
        text += "NFWB base.earlyoom.stall_detected 1\nNFWB base.earlyoom.fp_kills 1\nNFWS base.earlyoom.fp_killed hog(5)\n";
        text += "NFWB base.hung_task.stall_detected 0\nNFWB base.earlyoom.extra 7\n";
        text += "NFWB foot.table_slots 1024\nNFWB foot.idle.module_size 155648\n";
        text += "NFWB foot.n1024.slots_in_use 1024\nNFWB foot.n1024.module_size 155648\n";
        text += "NFWB foot.n1100.slots_in_use 1024\nNFWB foot.n1100.overflow 76\nNFWB foot.n1100.module_size 155648\n";
        raw.parse(&text);
        let (json, md) = report(&raw);
        let Json::Obj(top) = &json else {
            panic!("not an object")
        };
        let get = |k: &str| top.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        for k in [
            "fastpath_ratio",
            "slowpath_ratio",
            "detect_latency_p50_ms",
            "detect_latency_p99_ms",
            "recovery_p50_ms",
            "recovery_p99_ms",
            "cpu_burn_reduction",
            "baselines",
            "footprint",
            "targets",
        ] {
            assert!(get(k).is_some(), "missing {k}");
        }
        let Some(Json::Num(f)) = get("fastpath_ratio") else {
            panic!()
        };
        assert!((f - 1.005).abs() < 1e-9);
        assert_eq!(get("detect_latency_p99_ms"), Some(Json::Num(24.0)));
        assert_eq!(get("recovery_p99_ms"), Some(Json::Num(720.0)));
        // 4000 ticks off, 5 on.
        assert_eq!(get("cpu_burn_reduction"), Some(Json::Num(800.0)));
        let rendered = json.render();
        assert!(rendered.contains("\"earlyoom\": {\n      \"stall_detected\": true"));
        assert!(rendered.contains("\"extra\": 7"));
        assert!(rendered.contains("\"bounded\": true"));
        assert!(md.contains("| <= 1.01 | yes |"), "{md}");
        assert!(md.contains("| <= 1.03 | no |"));
        assert!(md.contains("p99 <= 500 ms | no |"));
        // As many samples as asked: counted, not marked.
        assert!(md.contains("| 12 ms / 24 ms (24 of 24 stalls) |"), "{md}");
        assert!(md.contains("(10 of 10 rounds) | >= 10x |"));
        assert!(!md.contains("short"), "{md}");
        assert_eq!(get("short_of_samples"), Some(Json::Arr(vec![])));
    }
}
