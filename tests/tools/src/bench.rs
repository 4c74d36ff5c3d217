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
//! Everything else is ignored. [`report`] turns the samples into a
//! [`Report`], typed structs in the order of `results.json` (written with
//! serde_json, [`to_json_text`]), from which the markdown table is written
//! too ([`Report::markdown`]). docs/benchmarks.md documents the JSON key by
//! key.

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

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

// --- results.json: the writer -------------------------------------------------

/// A JSON object whose member names are data (items, boots, tools), in the
/// order they were added.
#[derive(Debug, Clone, PartialEq)]
pub struct Members<T>(pub Vec<(String, T)>);

impl<T> Default for Members<T> {
    fn default() -> Self {
        Members(Vec::new())
    }
}

impl<T> Members<T> {
    /// The member `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

impl<T> FromIterator<(String, T)> for Members<T> {
    fn from_iter<I: IntoIterator<Item = (String, T)>>(iter: I) -> Self {
        Members(iter.into_iter().collect())
    }
}

impl<T: Serialize> Serialize for Members<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// serde_json's pretty layout (two-space indentation), with numbers as
/// [`fmt_num`] writes them: at most 4 decimals, and whole numbers without
/// any (`2`, not `2.0`), so that a count reads as an integer.
#[derive(Default)]
struct Layout(PrettyFormatter<'static>);

impl Formatter for Layout {
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, x: f64) -> io::Result<()> {
        w.write_all(fmt_num(x).as_bytes())
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `v` as JSON text laid out as `results.json` is (serde_json's pretty
/// layout, numbers as [`fmt_num`] writes them), with a final newline.
/// Non-finite numbers are written as `null`.
pub fn to_json_text<T: Serialize>(v: &T) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Layout::default());
    // Only the writer or a map key that is not a string could fail: a Vec
    // does not, and every key here is a string.
    v.serialize(&mut ser).expect("the report serialises");
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text.push('\n');
    text
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

/// `x` rounded to a multiple of `1 / scale` (scale 1000: 3 decimals).
fn rounded(x: f64, scale: f64) -> f64 {
    (x * scale).round() / scale
}

// --- results.json: the document ----------------------------------------------

/// The report: everything `results.json` holds, in its order. The
/// markdown table ([`Report::markdown`]) is written from it too.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Version of this layout.
    pub schema: u32,
    /// When the benchmark ran.
    pub date: String,
    /// Where it ran.
    pub machine: Machine,
    /// Fast-path rounds asked for.
    pub rounds: Option<f64>,
    /// Slow-path rounds asked for.
    pub slow_rounds: Option<f64>,
    /// Median over rounds of the per-round geometric mean of the fast-path
    /// items' loaded / unloaded ratios.
    pub fastpath_ratio: Option<f64>,
    /// 95% confidence interval of that median.
    pub fastpath_ratio_ci95: Option<(f64, f64)>,
    /// Spread of the per-round geometric means.
    pub fastpath_ratio_spread: Spread,
    /// The largest median ratio of one fast-path item.
    pub fastpath_ratio_worst_item: Option<f64>,
    /// The fast-path items, by name ([`FAST_ITEMS`]).
    pub fastpath: Members<Paired>,
    /// As the fast-path figures, for the slow path.
    pub slowpath_ratio: Option<f64>,
    /// See `fastpath_ratio_ci95`.
    pub slowpath_ratio_ci95: Option<(f64, f64)>,
    /// See `fastpath_ratio_spread`.
    pub slowpath_ratio_spread: Spread,
    /// See `fastpath_ratio_worst_item`.
    pub slowpath_ratio_worst_item: Option<f64>,
    /// Slow-path entries of the fast-path items with `scope=all` (0: they
    /// never enter the slow path).
    pub fastpath_slowpath_entries: Option<f64>,
    /// The slow-path items and what one tracked entry costs.
    pub slowpath: SlowPath,
    /// Detection latency beyond `stall_warn_ms`, p50.
    pub detect_latency_p50_ms: Option<f64>,
    /// Detection latency beyond `stall_warn_ms`, p99.
    pub detect_latency_p99_ms: Option<f64>,
    /// The detection benchmark.
    pub detect: Detect,
    /// Recovery beyond `oom_after_ms`, p50.
    pub recovery_p50_ms: Option<f64>,
    /// Recovery beyond `oom_after_ms`, p99.
    pub recovery_p99_ms: Option<f64>,
    /// The recovery benchmark.
    pub recovery: Recovery,
    /// CPU burnt while stuck, back-off off over on ([`CpuBurn::reduction`]).
    pub cpu_burn_reduction: Option<f64>,
    /// The CPU-burn benchmark.
    pub cpu_burn: CpuBurn,
    /// The module against earlyoom and the hung-task detector.
    pub baselines: Baselines,
    /// The module's memory footprint.
    pub footprint: Footprint,
    /// Keys of the targets whose figure is short of its asked sample count.
    pub short_of_samples: Vec<String>,
    /// The target checks, by key.
    pub targets: Members<Target>,
}

/// The host and the guest of the run.
#[derive(Debug, Serialize)]
pub struct Machine {
    pub host_cpu: String,
    pub host_cpus: Option<f64>,
    pub host_kernel: String,
    pub guest_kernel: String,
    pub qemu: String,
    pub accel: String,
    pub guest_mem_mb: Option<f64>,
    pub guest_cpus: Option<f64>,
    pub host_load_1min_start: Option<f64>,
    pub host_load_1min_end: Option<f64>,
    /// By boot (benchmark script, `-` as `_`).
    pub host_load_1min_before_boot: Members<Option<f64>>,
}

/// Spread of a sample: min, p25, p75, max and the count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    pub min: Option<f64>,
    pub p25: Option<f64>,
    pub p75: Option<f64>,
    pub max: Option<f64>,
    pub n: usize,
}

impl Spread {
    /// The spread of `v`.
    pub fn of(v: &[f64]) -> Self {
        let s = sorted(v);
        Spread {
            min: s.first().copied(),
            p25: percentile(v, 25.0),
            p75: percentile(v, 75.0),
            max: s.last().copied(),
            n: v.len(),
        }
    }
}

/// One item compared across rounds: `<prefix>.<item>.unloaded` against
/// `.loaded`, the i-th sample of both from round i.
#[derive(Debug, Clone, Serialize)]
pub struct Paired {
    /// What the item measures, and its unit.
    pub what: &'static str,
    pub unloaded_median: Option<f64>,
    pub loaded_median: Option<f64>,
    /// Median of the per-round ratios loaded / unloaded.
    pub ratio_median: Option<f64>,
    pub ratio_spread: Spread,
    pub unloaded: Vec<f64>,
    pub loaded: Vec<f64>,
    /// Per-round ratios loaded / unloaded.
    #[serde(skip)]
    pub ratios: Vec<f64>,
}

/// The slow-path items, then the figures of the loaded runs.
#[derive(Debug, Serialize)]
pub struct SlowPath {
    /// The items, by name ([`SLOW_ITEMS`]).
    #[serde(flatten)]
    pub items: Members<Paired>,
    pub direct_reclaim_rounds_per_loaded_run: Vec<f64>,
    pub free_kb_before_run: Vec<f64>,
    pub tracked_per_loaded_run: Vec<f64>,
    pub cost_per_tracked_entry: EntryCost,
}

/// The detection benchmark: how long after `stall_warn_ms` a stall is
/// reported.
#[derive(Debug, Serialize)]
pub struct Detect {
    /// Stalls measured against asked.
    #[serde(flatten)]
    pub samples: Samples,
    pub stall_warn_ms: Option<f64>,
    pub stalls: usize,
    pub rounds: Option<f64>,
    pub rounds_formed: Option<f64>,
    /// MemAvailable at the start of each round.
    pub round_start_avail_mb: Vec<f64>,
    pub max_ms: Option<f64>,
    pub latencies_ms: Vec<f64>,
}

/// The recovery benchmark: how long after `oom_after_ms` the module's OOM
/// kill ends a stall, and the same stall without the module.
#[derive(Debug, Serialize)]
pub struct Recovery {
    /// Rounds that measured a stall against rounds asked.
    #[serde(flatten)]
    pub samples: Samples,
    pub oom_after_ms: Option<f64>,
    pub stalls: usize,
    pub rounds: Option<f64>,
    pub rounds_run: Option<f64>,
    pub rounds_unformed: usize,
    /// Rounds where the kernel's own OOM killer ended the stall first.
    pub rounds_kernel_first: usize,
    pub max_ms: Option<f64>,
    pub over_ms: Vec<f64>,
    pub oom_kills_per_round: Vec<f64>,
    pub module_triggers_per_round: Vec<f64>,
    pub baseline_no_module: RecoveryBaseline,
}

/// The recovery rounds without the module.
#[derive(Debug, Serialize)]
pub struct RecoveryBaseline {
    pub rounds: usize,
    pub rounds_unformed: usize,
    pub recovered_within_window: usize,
    pub window_ms: Option<f64>,
    pub stuck_ms_median: Option<f64>,
}

/// The CPU-burn benchmark: ticks burnt by stuck tasks with the back-off
/// off and on.
#[derive(Debug, Serialize)]
pub struct CpuBurn {
    /// Rounds measured against asked.
    #[serde(flatten)]
    pub samples: Samples,
    pub rounds_run: Option<f64>,
    /// No tick at all with the back-off on: the reduction divides by 1.
    pub reduction_is_lower_bound: bool,
    pub cpu_s_per_s_per_task_off: Option<f64>,
    pub cpu_s_per_s_per_task_on: Option<f64>,
    pub round_ratio_median: Option<f64>,
    pub round_ratio_spread: Spread,
    pub seconds_per_round: f64,
    pub workers: f64,
    pub off_ticks: Vec<f64>,
    pub on_ticks: Vec<f64>,
}

impl CpuBurn {
    /// All rounds' ticks with the back-off off over those with it on (at
    /// least 1).
    pub fn reduction(&self) -> Option<f64> {
        let off: f64 = self.off_ticks.iter().sum();
        let on: f64 = self.on_ticks.iter().sum();
        if self.off_ticks.is_empty() {
            None
        } else {
            Some(off / on.max(1.0))
        }
    }
}

/// The compared tools.
#[derive(Debug, Serialize)]
pub struct Baselines {
    pub earlyoom: Tool,
    pub hung_task: Tool,
    pub nofail_watchdog: Tool,
}

/// One compared tool, from the `base.<tool>.*` figures (numbers: the
/// median of their samples): the figures every tool has (`null` when not
/// measured), then every other figure, then the texts.
#[derive(Debug, Default, Serialize)]
pub struct Tool {
    pub stall_detected: Option<bool>,
    pub stall_detect_ms: Option<f64>,
    pub stall_resolved: Option<bool>,
    pub stall_resolve_ms: Option<f64>,
    pub fp_kills: Option<f64>,
    pub fp_reports: Option<f64>,
    pub fp_window_ms: Option<f64>,
    pub fp_mem_used_pct: Option<f64>,
    /// The figures not named above.
    #[serde(flatten)]
    pub figures: Members<Option<f64>>,
    /// The texts (`NFWS`).
    #[serde(flatten)]
    pub texts: Members<String>,
}

/// The names of [`Tool`]'s own figures: the other `base.<tool>.*` figures
/// go to its `figures`.
const TOOL_FIGURES: [&str; 8] = [
    "stall_detected",
    "stall_detect_ms",
    "stall_resolved",
    "stall_resolve_ms",
    "fp_kills",
    "fp_reports",
    "fp_window_ms",
    "fp_mem_used_pct",
];

impl Tool {
    /// The text `name`.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts.get(name).map(String::as_str)
    }
}

/// The footprint benchmark: the module's size, and its table while it
/// tracks N stalls at once.
#[derive(Debug, Serialize)]
pub struct Footprint {
    pub ko_text_bytes: Option<f64>,
    pub ko_data_bytes: Option<f64>,
    pub ko_rodata_bytes: Option<f64>,
    pub ko_bss_bytes: Option<f64>,
    /// Idle, from /proc/modules.
    pub module_size_bytes: Option<f64>,
    pub table_slots: Option<f64>,
    pub tracking: Vec<Tracking>,
    /// The module size never changed and no more slots were in use than
    /// the table has.
    pub bounded: bool,
    /// The most slots in use in any measurement.
    #[serde(skip)]
    pub slots_in_use_max: Option<f64>,
}

/// The module while N stalls are tracked at once.
#[derive(Debug, Serialize)]
pub struct Tracking {
    pub n: u32,
    pub in_flight: Option<f64>,
    pub slots_in_use: Option<f64>,
    pub overflow: Option<f64>,
    pub module_size_bytes: Option<f64>,
    pub slab_kb_delta: Option<f64>,
    pub kernel_stack_kb_delta: Option<f64>,
    pub mem_used_kb_delta: Option<f64>,
}

/// The Ns of the footprint benchmark (tests/bench/footprint.sh).
const TRACKING_N: [u32; 4] = [1, 64, 1024, 1100];

/// A target check: `value` against `target`. The label and the shown
/// result are the table's.
#[derive(Debug, Serialize)]
pub struct Target {
    #[serde(skip)]
    pub label: String,
    #[serde(skip)]
    pub shown: String,
    pub value: Option<f64>,
    pub target: &'static str,
    /// `None`: not measured, or the measurement cannot tell.
    pub met: Option<bool>,
    /// The sample count behind the value, for figures with an asked count.
    #[serde(flatten)]
    pub samples: Option<Samples>,
}

impl Target {
    /// Rests on fewer samples than asked.
    pub fn is_short(&self) -> bool {
        self.samples.and_then(|n| n.short()) == Some(true)
    }
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
}

impl Serialize for EntryCost {
    /// Entries per page to 3 decimals, nanoseconds to 1 (the table rounds
    /// the unrounded figures).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ns = |x: Option<f64>| x.map(|v| rounded(v, 10.0));
        let mut o = s.serialize_struct("EntryCost", 5)?;
        let per_page = self.entries_per_page.map(|v| rounded(v, 1000.0));
        o.serialize_field("entries_per_page", &per_page)?;
        o.serialize_field("total_ns", &ns(self.total_ns))?;
        o.serialize_field("probe_mechanism_ns", &ns(self.probe_ns))?;
        o.serialize_field("handler_work_ns", &ns(self.handler_ns()))?;
        o.serialize_field("noise_ns", &ns(self.noise_ns))?;
        o.end()
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

impl Serialize for Samples {
    /// `samples`, `samples_asked`, `short` and `sample_unit`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_struct("Samples", 4)?;
        o.serialize_field("samples", &self.got)?;
        o.serialize_field("samples_asked", &self.asked)?;
        o.serialize_field("short", &self.short())?;
        o.serialize_field("sample_unit", self.unit)?;
        o.end()
    }
}

// --- From the raw samples to the report ---------------------------------------

/// The report of `raw`.
pub fn report(raw: &Raw) -> Report {
    let fast = PathOverhead::new(raw, "fast", FAST_ITEMS, "rounds");
    let slow = PathOverhead::new(raw, "slow", SLOW_ITEMS, "slow_rounds");
    let detect = detect(raw);
    let recovery = recovery(raw);
    let cpu_burn = cpu_burn(raw);
    let footprint = footprint(raw);
    let targets = targets(&fast, &slow, &detect, &recovery, &cpu_burn, &footprint);
    Report {
        schema: 1,
        date: text_or_unknown(raw, "date"),
        machine: machine(raw),
        rounds: raw.last("rounds"),
        slow_rounds: raw.last("slow_rounds"),
        fastpath_ratio: fast.ratio(),
        fastpath_ratio_ci95: fast.ci95(),
        fastpath_ratio_spread: Spread::of(&fast.geomean),
        fastpath_ratio_worst_item: fast.worst,
        fastpath: fast.items,
        slowpath_ratio: slow.ratio(),
        slowpath_ratio_ci95: slow.ci95(),
        slowpath_ratio_spread: Spread::of(&slow.geomean),
        slowpath_ratio_worst_item: slow.worst,
        fastpath_slowpath_entries: raw.last("fast.slowpath_entries_scope_all"),
        slowpath: slow_path(raw, slow.items),
        detect_latency_p50_ms: percentile(&detect.latencies_ms, 50.0),
        detect_latency_p99_ms: percentile(&detect.latencies_ms, 99.0),
        detect,
        recovery_p50_ms: percentile(&recovery.over_ms, 50.0),
        recovery_p99_ms: percentile(&recovery.over_ms, 99.0),
        recovery,
        cpu_burn_reduction: cpu_burn.reduction(),
        cpu_burn,
        baselines: Baselines {
            earlyoom: tool(raw, "earlyoom"),
            hung_task: tool(raw, "hung_task"),
            nofail_watchdog: tool(raw, "nofail_watchdog"),
        },
        footprint,
        short_of_samples: short_of_samples(&targets),
        targets,
    }
}

/// The report as `nfw-bench report` writes it: the text of `results.json`
/// and the markdown table.
pub fn report_texts(raw: &Raw) -> (String, String) {
    let r = report(raw);
    (to_json_text(&r), r.markdown())
}

/// The text `key`, "unknown" if absent.
fn text_or_unknown(raw: &Raw, key: &str) -> String {
    raw.text(key).unwrap_or("unknown").to_string()
}

fn machine(raw: &Raw) -> Machine {
    Machine {
        host_cpu: text_or_unknown(raw, "machine.cpu"),
        host_cpus: raw.last("machine.cpus"),
        host_kernel: text_or_unknown(raw, "machine.kernel"),
        guest_kernel: text_or_unknown(raw, "machine.guest_kernel"),
        qemu: text_or_unknown(raw, "machine.qemu"),
        accel: text_or_unknown(raw, "machine.accel"),
        guest_mem_mb: raw.last("machine.guest_mem_mb"),
        guest_cpus: raw.last("machine.guest_cpus"),
        host_load_1min_start: raw.last("machine.load_start"),
        host_load_1min_end: raw.last("machine.load_end"),
        host_load_1min_before_boot: raw
            .nums
            .iter()
            .filter_map(|(k, v)| {
                let boot = k.strip_prefix("machine.load_before_")?;
                Some((boot.to_string(), v.last().copied()))
            })
            .collect(),
    }
}

/// Compares one item across rounds.
pub fn paired(raw: &Raw, prefix: &str, item: &str, what: &'static str) -> Paired {
    let a = raw.get(&format!("{prefix}.{item}.unloaded"));
    let b = raw.get(&format!("{prefix}.{item}.loaded"));
    let ratios = ratios(a, b);
    Paired {
        what,
        unloaded_median: median(a),
        loaded_median: median(b),
        ratio_median: median(&ratios),
        ratio_spread: Spread::of(&ratios),
        unloaded: a.to_vec(),
        loaded: b.to_vec(),
        ratios,
    }
}

/// The overhead of one path (fast or slow): its items, and per round the
/// geometric mean of the items' ratios.
struct PathOverhead {
    items: Members<Paired>,
    /// Per-round geometric mean over the measured items.
    geomean: Vec<f64>,
    /// The largest median ratio of one item.
    worst: Option<f64>,
    /// Rounds measured against asked.
    samples: Samples,
}

impl PathOverhead {
    /// The items of `prefix`; `rounds_key`: the rounds asked for.
    fn new(raw: &Raw, prefix: &str, items: &[(&str, &'static str)], rounds_key: &str) -> Self {
        let items: Members<Paired> = items
            .iter()
            .map(|(item, what)| (item.to_string(), paired(raw, prefix, item, what)))
            .collect();
        let measured: Vec<&Paired> = items
            .0
            .iter()
            .map(|(_, p)| p)
            .filter(|p| !p.ratios.is_empty())
            .collect();
        let series: Vec<Vec<f64>> = measured.iter().map(|p| p.ratios.clone()).collect();
        let worst = measured
            .iter()
            .fold(None, |w, p| max_opt(w, median(&p.ratios)));
        let geomean = geomean_rounds(&series);
        PathOverhead {
            samples: Samples::new(geomean.len(), raw.last(rounds_key), "rounds"),
            items,
            geomean,
            worst,
        }
    }

    fn ratio(&self) -> Option<f64> {
        median(&self.geomean)
    }

    fn ci95(&self) -> Option<(f64, f64)> {
        median_ci95(&self.geomean)
    }

    /// The check "ratio <= limit" on the confidence interval.
    fn target(&self, label: &str, limit: f64, target: &'static str) -> Target {
        Target {
            label: label.into(),
            shown: with_ci(self.ratio(), self.ci95()),
            value: self.ratio(),
            target,
            met: verdict_le(self.ci95(), limit),
            samples: Some(self.samples),
        }
    }
}

fn slow_path(raw: &Raw, items: Members<Paired>) -> SlowPath {
    SlowPath {
        items,
        direct_reclaim_rounds_per_loaded_run: raw.get("slow.direct_reclaim").to_vec(),
        free_kb_before_run: raw.get("slow.free_kb_before").to_vec(),
        tracked_per_loaded_run: raw.get("slow.tracked").to_vec(),
        cost_per_tracked_entry: entry_cost(raw),
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

fn detect(raw: &Raw) -> Detect {
    let lat = raw.get("detect.latency_ms");
    Detect {
        samples: Samples::new(lat.len(), raw.last("detect.samples_asked"), "stalls"),
        stall_warn_ms: raw.last("detect.stall_warn_ms"),
        stalls: lat.len(),
        rounds: raw.last("detect.rounds"),
        rounds_formed: raw.last("detect.rounds_formed"),
        round_start_avail_mb: raw.get("detect.round_avail_mb").to_vec(),
        max_ms: sorted(lat).last().copied(),
        latencies_ms: lat.to_vec(),
    }
}

fn recovery(raw: &Raw) -> Recovery {
    let over = raw.get("recover.over_ms");
    // Asked: rounds; got: the rounds that measured at least one stall.
    let measured = raw
        .get("recover.round_samples")
        .iter()
        .filter(|&&x| x > 0.0)
        .count();
    Recovery {
        samples: Samples::new(measured, raw.last("recover.rounds"), "rounds"),
        oom_after_ms: raw.last("recover.oom_after_ms"),
        stalls: over.len(),
        rounds: raw.last("recover.rounds"),
        rounds_run: raw.last("recover.rounds_run"),
        rounds_unformed: raw.get("recover.unformed").len(),
        rounds_kernel_first: raw.get("recover.kernel_first").len(),
        max_ms: sorted(over).last().copied(),
        over_ms: over.to_vec(),
        oom_kills_per_round: raw.get("recover.kills_per_round").to_vec(),
        module_triggers_per_round: raw.get("recover.module_triggers_per_round").to_vec(),
        baseline_no_module: recovery_baseline(raw),
    }
}

fn recovery_baseline(raw: &Raw) -> RecoveryBaseline {
    let recovered = raw.get("recover.baseline.recovered");
    RecoveryBaseline {
        rounds: recovered.len(),
        rounds_unformed: raw.get("recover.baseline.unformed").len(),
        recovered_within_window: recovered.iter().filter(|&&x| x != 0.0).count(),
        window_ms: raw.last("recover.baseline.window_ms"),
        stuck_ms_median: median(raw.get("recover.baseline.stuck_ms")),
    }
}

fn cpu_burn(raw: &Raw) -> CpuBurn {
    let off = raw.get("cpu.off_ticks");
    let on = raw.get("cpu.on_ticks");
    let secs = raw.last("cpu.seconds").unwrap_or(0.0);
    let workers = raw.last("cpu.workers").unwrap_or(0.0);
    let hz = raw.last("cpu.user_hz").unwrap_or(100.0);
    // CPU seconds per second and stuck task, over all rounds of one side.
    let per_task = |ticks: &[f64]| {
        let (sum, n): (f64, usize) = (ticks.iter().sum(), ticks.len());
        (secs > 0.0 && workers > 0.0 && n > 0).then(|| sum / hz / (secs * workers * n as f64))
    };
    let round_ratios: Vec<f64> = off.iter().zip(on).map(|(a, b)| a / b.max(1.0)).collect();
    CpuBurn {
        samples: Samples::new(
            off.len().min(on.len()),
            raw.last("cpu.rounds_asked"),
            "rounds",
        ),
        rounds_run: raw.last("cpu.rounds_run"),
        reduction_is_lower_bound: on.iter().sum::<f64>() == 0.0,
        cpu_s_per_s_per_task_off: per_task(off),
        cpu_s_per_s_per_task_on: per_task(on),
        round_ratio_median: median(&round_ratios),
        round_ratio_spread: Spread::of(&round_ratios),
        seconds_per_round: secs,
        workers,
        off_ticks: off.to_vec(),
        on_ticks: on.to_vec(),
    }
}

fn yes_no(x: Option<f64>) -> Option<bool> {
    x.map(|x| x != 0.0)
}

/// The compared tool `name`, from its `base.<name>.*` figures and texts.
fn tool(raw: &Raw, name: &str) -> Tool {
    let prefix = format!("base.{name}.");
    let med = |k: &str| median(raw.get(&format!("{prefix}{k}")));
    Tool {
        stall_detected: yes_no(med("stall_detected")),
        stall_detect_ms: med("stall_detect_ms"),
        stall_resolved: yes_no(med("stall_resolved")),
        stall_resolve_ms: med("stall_resolve_ms"),
        fp_kills: med("fp_kills"),
        fp_reports: med("fp_reports"),
        fp_window_ms: med("fp_window_ms"),
        fp_mem_used_pct: med("fp_mem_used_pct"),
        figures: raw
            .nums
            .iter()
            .filter_map(|(k, v)| {
                let name = k.strip_prefix(&prefix)?;
                (!TOOL_FIGURES.contains(&name)).then(|| (name.to_string(), median(v)))
            })
            .collect(),
        texts: raw
            .texts
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v.clone())))
            .collect(),
    }
}

fn footprint(raw: &Raw) -> Footprint {
    let table_slots = raw.last("foot.table_slots");
    let slots_in_use_max = raw
        .nums
        .iter()
        .filter(|(k, _)| k.ends_with(".slots_in_use"))
        .flat_map(|(_, v)| v.iter().copied())
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    let bounded = module_size_constant(raw)
        && slots_in_use_max
            .zip(table_slots)
            .is_some_and(|(s, c)| s <= c);
    Footprint {
        ko_text_bytes: raw.last("foot.ko_text"),
        ko_data_bytes: raw.last("foot.ko_data"),
        ko_rodata_bytes: raw.last("foot.ko_rodata"),
        ko_bss_bytes: raw.last("foot.ko_bss"),
        module_size_bytes: raw.last("foot.idle.module_size"),
        table_slots,
        tracking: TRACKING_N
            .iter()
            .filter_map(|&n| tracking(raw, n))
            .collect(),
        bounded,
        slots_in_use_max,
    }
}

/// Some module size was measured, and every one (idle, and under each N)
/// is the same.
fn module_size_constant(raw: &Raw) -> bool {
    let sizes: Vec<f64> = raw
        .nums
        .iter()
        .filter(|(k, _)| k.starts_with("foot.n") && k.ends_with(".module_size"))
        .flat_map(|(_, v)| v.iter().copied())
        .chain(raw.get("foot.idle.module_size").iter().copied())
        .collect();
    !sizes.is_empty() && sizes.iter().all(|&s| s == sizes[0])
}

/// The module while it tracks `n` stalls (`None`: not measured).
fn tracking(raw: &Raw, n: u32) -> Option<Tracking> {
    let k = |s: &str| format!("foot.n{n}.{s}");
    if raw.get(&k("slots_in_use")).is_empty() {
        return None;
    }
    Some(Tracking {
        n,
        in_flight: raw.last(&k("in_flight")),
        slots_in_use: raw.last(&k("slots_in_use")),
        overflow: raw.last(&k("overflow")),
        module_size_bytes: raw.last(&k("module_size")),
        slab_kb_delta: raw.last(&k("slab_kb_delta")),
        kernel_stack_kb_delta: raw.last(&k("kstack_kb_delta")),
        mem_used_kb_delta: raw.last(&k("used_kb_delta")),
    })
}

// --- The target checks ----------------------------------------------------------

/// The target checks, by key, in the table's order.
fn targets(
    fast: &PathOverhead,
    slow: &PathOverhead,
    detect: &Detect,
    recovery: &Recovery,
    cpu_burn: &CpuBurn,
    footprint: &Footprint,
) -> Members<Target> {
    let fast = fast.target(
        "Fast-path overhead (loaded/unloaded, median of per-round geomean)",
        1.01,
        "<= 1.01",
    );
    let slow = slow.target(
        "Slow-path overhead (reclaim, loaded/unloaded)",
        1.03,
        "<= 1.03",
    );
    [
        ("fastpath_ratio", fast),
        ("slowpath_ratio", slow),
        ("detect_latency_p99_ms", detect_target(detect)),
        ("recovery_p99_ms", recovery_target(recovery)),
        ("cpu_burn_reduction", cpu_burn_target(cpu_burn)),
        ("footprint", footprint_target(footprint)),
    ]
    .into_iter()
    .map(|(k, t)| (k.to_string(), t))
    .collect()
}

/// The keys of the targets whose figure is short of its asked samples.
fn short_of_samples(targets: &Members<Target>) -> Vec<String> {
    targets
        .0
        .iter()
        .filter(|(_, t)| t.is_short())
        .map(|(k, _)| k.clone())
        .collect()
}

fn detect_target(d: &Detect) -> Target {
    let p50 = percentile(&d.latencies_ms, 50.0);
    let p99 = percentile(&d.latencies_ms, 99.0);
    Target {
        label: format!(
            "Detection latency beyond stall_warn_ms={} (p50 / p99)",
            fmt_opt(d.stall_warn_ms, "")
        ),
        shown: format!("{} / {}", fmt_opt(p50, " ms"), fmt_opt(p99, " ms")),
        value: p99,
        target: "p99 <= one scan interval (stall_warn_ms)",
        met: p99.zip(d.stall_warn_ms).map(|(p, w)| p <= w),
        samples: Some(d.samples),
    }
}

fn recovery_target(r: &Recovery) -> Target {
    let p50 = percentile(&r.over_ms, 50.0);
    let p99 = percentile(&r.over_ms, 99.0);
    Target {
        label: format!(
            "Recovery beyond oom_after_ms={} (p50 / p99, {} stalls)",
            fmt_opt(r.oom_after_ms, ""),
            r.stalls
        ),
        shown: format!("{} / {}", fmt_opt(p50, " ms"), fmt_opt(p99, " ms")),
        value: p99,
        target: "p99 <= 500 ms",
        met: p99.map(|p| p <= 500.0),
        samples: Some(r.samples),
    }
}

fn cpu_burn_target(c: &CpuBurn) -> Target {
    let reduction = c.reduction();
    let at_least = if c.reduction_is_lower_bound && reduction.is_some() {
        ">= "
    } else {
        ""
    };
    Target {
        label: "CPU burnt while stuck, back-off off / on".into(),
        shown: format!("{at_least}{}x", fmt_opt(reduction.map(f64::round), "")),
        value: reduction,
        target: ">= 10x",
        met: reduction.map(|r| r >= 10.0),
        samples: Some(c.samples),
    }
}

fn footprint_target(f: &Footprint) -> Target {
    Target {
        label: format!(
            "Footprint: module size {} bytes, table {} slots",
            fmt_opt(f.module_size_bytes, ""),
            fmt_opt(f.table_slots, "")
        ),
        shown: format!(
            "bounded: {} (max slots in use {})",
            if f.bounded { "yes" } else { "no" },
            fmt_opt(f.slots_in_use_max, "")
        ),
        value: None,
        target: "bounded",
        met: Some(f.bounded),
        samples: None,
    }
}

// --- The markdown table -----------------------------------------------------------

/// A ratio with its confidence interval, 3 decimals.
fn with_ci(x: Option<f64>, ci: Option<(f64, f64)>) -> String {
    let r = |x: f64| fmt_num(rounded(x, 1000.0));
    match (x, ci) {
        (Some(x), Some((lo, hi))) => format!("{} (95% CI {} - {})", r(x), r(lo), r(hi)),
        (Some(x), None) => format!("{} (too few rounds for a 95% CI)", r(x)),
        _ => "n/a".into(),
    }
}

fn fmt_opt(x: Option<f64>, unit: &str) -> String {
    x.map_or("n/a".into(), |x| format!("{}{unit}", fmt_num(x)))
}

fn yn(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "n/a",
    }
}

impl Report {
    /// The markdown table: the run, the targets, the items, the cost per
    /// tracked entry, the compared tools and the footprint.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        self.md_run(&mut md);
        self.md_targets(&mut md);
        self.md_items(&mut md);
        self.md_entry_cost(&mut md);
        self.md_baselines(&mut md);
        self.md_footprint(&mut md);
        md
    }

    fn md_run(&self, md: &mut String) {
        let m = &self.machine;
        let per_boot: Vec<String> = m
            .host_load_1min_before_boot
            .0
            .iter()
            .filter_map(|(boot, load)| Some(format!("{boot} {}", fmt_num((*load)?))))
            .collect();
        let _ = writeln!(
            md,
            "`make bench`, {} on {} ({} host CPUs, shared: other guests and builds ran at the same time), guest {} MiB / {} vCPUs under QEMU {} ({}), kernel {}; host 1-minute load average {} at the start, {} at the end (per boot: {}).\n",
            self.date,
            m.host_cpu,
            fmt_opt(m.host_cpus, ""),
            fmt_opt(m.guest_mem_mb, ""),
            fmt_opt(m.guest_cpus, ""),
            m.qemu,
            m.accel,
            m.guest_kernel,
            fmt_opt(m.host_load_1min_start, ""),
            fmt_opt(m.host_load_1min_end, ""),
            per_boot.join(", "),
        );
    }

    fn md_targets(&self, md: &mut String) {
        let _ = writeln!(md, "| measure | result | target | met |");
        let _ = writeln!(md, "| --- | --- | --- | --- |");
        for (_, t) in &self.targets.0 {
            let (shown, met) = t.cells();
            let _ = writeln!(md, "| {} | {shown} | {} | {met} |", t.label, t.target);
        }
        let short: Vec<String> = self
            .targets
            .0
            .iter()
            .filter(|(_, t)| t.is_short())
            .filter_map(|(k, t)| Some(format!("`{k}` ({})", t.samples?.note())))
            .collect();
        if !short.is_empty() {
            let _ = writeln!(
                md,
                "\n**Short of the asked sample count**: {}. These figures rest on fewer samples than the benchmark asked for (rounds whose premise did not form, or a boot cut short: see the raw output's `#` lines); read them as indicative only.",
                short.join(", ")
            );
        }
    }

    fn md_items(&self, md: &mut String) {
        let _ = writeln!(md);
        let _ = writeln!(
            md,
            "| item (fast path {} rounds, slow path {}; order alternating) | unloaded | loaded | loaded/unloaded: median [min, max] |",
            fmt_opt(self.rounds, ""),
            fmt_opt(self.slow_rounds, "")
        );
        let _ = writeln!(md, "| --- | --- | --- | --- |");
        let fast = self.fastpath.0.iter().map(|i| ("fast", i));
        let slow = self.slowpath.items.0.iter().map(|i| ("slow", i));
        for (prefix, (item, p)) in fast.chain(slow) {
            if p.ratios.is_empty() {
                continue;
            }
            let ns = |x: Option<f64>| fmt_num(x.unwrap_or(f64::NAN).round());
            let ratio = |x: Option<f64>| fmt_num(rounded(x.unwrap_or(f64::NAN), 1000.0));
            let _ = writeln!(
                md,
                "| {prefix}: {item} | {} ns | {} ns | {} [{}, {}] |",
                ns(p.unloaded_median),
                ns(p.loaded_median),
                ratio(p.ratio_median),
                ratio(p.ratio_spread.min),
                ratio(p.ratio_spread.max),
            );
        }
    }

    fn md_entry_cost(&self, md: &mut String) {
        let c = &self.slowpath.cost_per_tracked_entry;
        let ns = |x: Option<f64>| x.map_or("-".into(), |v| format!("{} ns", fmt_num(v.round())));
        let verdict = match (c.total_ns, c.noise_ns) {
            (Some(t), Some(n)) if t.abs() > n => "measured",
            (Some(_), Some(_)) => "below the noise, not measured",
            _ => "not measured",
        };
        let _ = writeln!(
            md,
            "\nCost per tracked slow-path entry (kernel_nofs_hold, {} entries per page): {} = probe mechanism {} + handler work {}; noise of this run ±{} per entry (half the unloaded runs' interquartile range): {verdict}.",
            fmt_opt(c.entries_per_page.map(|v| rounded(v, 1000.0)), ""),
            ns(c.total_ns),
            ns(c.probe_ns),
            ns(c.handler_ns()),
            ns(c.noise_ns),
        );
    }

    fn md_baselines(&self, md: &mut String) {
        let b = &self.baselines;
        let tools = [
            (
                "nofail_watchdog",
                "nofail-watchdog (stall_warn_ms=1000, oom_after_ms=2000)",
                &b.nofail_watchdog,
            ),
            (
                "earlyoom",
                "earlyoom (Debian, default settings)",
                &b.earlyoom,
            ),
            (
                "hung_task",
                "hung-task detector (timeout 5 s)",
                &b.hung_task,
            ),
        ];
        let _ = writeln!(md);
        let _ = writeln!(
            md,
            "| tool | NOFAIL stall: detected | resolved | by / killed | ~95% memory, nothing stuck: kills |"
        );
        let _ = writeln!(md, "| --- | --- | --- | --- | --- |");
        for (_, label, tool) in tools {
            let _ = writeln!(md, "{}", tool.md_row(label));
        }
        for (name, _, tool) in tools {
            if let Some(n) = tool.text("notes") {
                let _ = writeln!(md, "\n{name}: {n}");
            }
        }
    }

    fn md_footprint(&self, md: &mut String) {
        let f = &self.footprint;
        let cells: Vec<String> = f
            .tracking
            .iter()
            .map(|t| {
                format!(
                    "{}: {} ({}), {} B",
                    t.n,
                    fmt_opt(t.slots_in_use, ""),
                    fmt_opt(t.overflow, ""),
                    fmt_opt(t.module_size_bytes, "")
                )
            })
            .collect();
        let _ = writeln!(md);
        let _ = writeln!(
            md,
            "| footprint | .text | .data | .bss | /proc/modules size | tracking N=1 / 64 / 1024 / 1100: slots in use (overflow), module size |"
        );
        let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- |");
        let _ = writeln!(
            md,
            "| nofail_watchdog.ko | {} B | {} B | {} B | {} B | {} |",
            fmt_opt(f.ko_text_bytes, ""),
            fmt_opt(f.ko_data_bytes, ""),
            fmt_opt(f.ko_bss_bytes, ""),
            fmt_opt(f.module_size_bytes, ""),
            cells.join("; ")
        );
    }
}

impl Target {
    /// The table's result and met cells: the result with its sample count
    /// (marked when short), the verdict.
    fn cells(&self) -> (String, String) {
        let met = match (self.met, self.value) {
            (None, Some(_)) => "undecided (the 95% CI straddles the target, or < 6 rounds)",
            (m, _) => yn(m),
        };
        match self.samples {
            Some(n) if n.short() == Some(true) => (
                format!("{} (**{}**)", self.shown, n.note()),
                match self.value {
                    Some(_) => format!("{met} (on a short sample)"),
                    None => met.to_string(),
                },
            ),
            // Nothing asked and nothing got: that boot did not run.
            Some(n) if n.asked.is_some() || n.got > 0 => {
                (format!("{} ({})", self.shown, n.note()), met.to_string())
            }
            _ => (self.shown.clone(), met.to_string()),
        }
    }
}

impl Tool {
    /// The tool's row of the baselines table.
    fn md_row(&self, label: &str) -> String {
        // ", N ms after stall start" when the tool did it.
        let after = |done: Option<bool>, ms: Option<f64>, how: &str| {
            ms.filter(|_| done == Some(true))
                .map_or(String::new(), |x| {
                    format!(", {} ms after stall start{how}", fmt_num(x.round()))
                })
        };
        format!(
            "| {label} | {}{} | {}{} | {} | {} {} |",
            yn(self.stall_detected),
            after(self.stall_detected, self.stall_detect_ms, " (median)"),
            yn(self.stall_resolved),
            after(self.stall_resolved, self.stall_resolve_ms, ""),
            self.text("stall_killed").unwrap_or("-"),
            fmt_opt(self.fp_kills, ""),
            self.text("fp_killed")
                .filter(|s| !s.is_empty())
                .map_or(String::new(), |s| format!("({s})")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

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
        #[derive(Serialize)]
        struct T {
            x: Option<f64>,
            y: Option<f64>,
            z: f64,
            n: usize,
            s: &'static str,
            v: Vec<f64>,
            b: bool,
            m: Members<f64>,
        }
        let t = T {
            x: Some(1.23456),
            y: None,
            z: f64::NAN,
            n: 3,
            s: "a\"b\n",
            v: vec![1.0, 2.5],
            b: true,
            m: Members(vec![("q".into(), -0.00001)]),
        };
        assert_eq!(
            to_json_text(&t),
            "{\n  \"x\": 1.2346,\n  \"y\": null,\n  \"z\": null,\n  \"n\": 3,\n  \"s\": \"a\\\"b\\n\",\n  \"v\": [\n    1,\n    2.5\n  ],\n  \"b\": true,\n  \"m\": {\n    \"q\": 0\n  }\n}\n"
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
            to_json_text(&short),
            "{\n  \"samples\": 6,\n  \"samples_asked\": 24,\n  \"short\": true,\n  \"sample_unit\": \"stalls\"\n}\n"
        );
        assert!(to_json_text(&unknown).contains("\"short\": null"));
    }

    /// The report of `text` as written: `results.json` read back, and the
    /// table.
    fn written(text: &str) -> (Value, String) {
        let mut raw = Raw::default();
        raw.parse(text);
        let (json, md) = report_texts(&raw);
        (
            serde_json::from_str(&json).expect("results.json is JSON"),
            md,
        )
    }

    #[test]
    fn tool_figures_are_tools_fields() {
        let Value::Object(keys) = serde_json::to_value(Tool::default()).unwrap() else {
            panic!("not an object")
        };
        let mut keys: Vec<&str> = keys.keys().map(String::as_str).collect();
        let mut want = TOOL_FIGURES.to_vec();
        keys.sort_unstable();
        want.sort_unstable();
        assert_eq!(keys, want);
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
        let (json, md) = written(&text);
        let num = |p: &str| json.pointer(&format!("/{p}")).cloned();
        assert_eq!(num("detect_latency_p99_ms"), Some(json!(28)));
        for p in ["targets/detect_latency_p99_ms", "detect"] {
            assert_eq!(num(&format!("{p}/samples")), Some(json!(6)), "{p}");
            assert_eq!(num(&format!("{p}/samples_asked")), Some(json!(24)));
            assert_eq!(num(&format!("{p}/short")), Some(json!(true)));
        }
        assert_eq!(num("detect/rounds_formed"), Some(json!(1)));
        for p in ["targets/recovery_p99_ms", "recovery"] {
            assert_eq!(num(&format!("{p}/samples")), Some(json!(7)), "{p}");
            assert_eq!(num(&format!("{p}/samples_asked")), Some(json!(10)));
            assert_eq!(num(&format!("{p}/short")), Some(json!(true)));
            assert_eq!(num(&format!("{p}/sample_unit")), Some(json!("rounds")));
        }
        assert_eq!(num("recovery/rounds_unformed"), Some(json!(1)));
        assert_eq!(num("recovery/rounds_kernel_first"), Some(json!(2)));
        for p in ["targets/cpu_burn_reduction", "cpu_burn"] {
            assert_eq!(num(&format!("{p}/samples")), Some(json!(4)), "{p}");
            assert_eq!(num(&format!("{p}/short")), Some(json!(false)));
        }
        // No fast-path boot: nothing asked, nothing short.
        assert_eq!(num("targets/fastpath_ratio/short"), Some(Value::Null));
        assert!(md.contains("| n/a | <= 1.01 | n/a |"), "{md}");
        assert_eq!(
            num("short_of_samples"),
            Some(json!(["detect_latency_p99_ms", "recovery_p99_ms"]))
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
        let (json, md) = written(&text);
        let get = |k: &str| json.get(k).cloned();
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
        let f = json["fastpath_ratio"].as_f64().expect("a number");
        assert!((f - 1.005).abs() < 1e-9);
        assert_eq!(get("detect_latency_p99_ms"), Some(json!(24)));
        assert_eq!(get("recovery_p99_ms"), Some(json!(720)));
        // 4000 ticks off, 5 on.
        assert_eq!(get("cpu_burn_reduction"), Some(json!(800)));
        assert_eq!(json["baselines"]["earlyoom"]["stall_detected"], json!(true));
        assert_eq!(json["baselines"]["earlyoom"]["extra"], json!(7));
        assert_eq!(json["baselines"]["earlyoom"]["fp_killed"], json!("hog(5)"));
        assert_eq!(json["footprint"]["bounded"], json!(true));
        assert!(md.contains("| <= 1.01 | yes |"), "{md}");
        assert!(md.contains("| <= 1.03 | no |"));
        assert!(md.contains("p99 <= 500 ms | no |"));
        // As many samples as asked: counted, not marked.
        assert!(md.contains("| 12 ms / 24 ms (24 of 24 stalls) |"), "{md}");
        assert!(md.contains("(10 of 10 rounds) | >= 10x |"));
        assert!(!md.contains("short"), "{md}");
        assert_eq!(get("short_of_samples"), Some(json!([])));
    }
}
