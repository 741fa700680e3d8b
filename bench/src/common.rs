//! What every scenario shares: the process-wide clock, the server's address, histograms,
//! and readings of a process's CPU time and resident memory from `/proc`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use hdrhistogram::Histogram;
use serde_json::{Value, json};

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since the process's first call. Senders stamp this into payloads and receivers
/// in the same process subtract it from their own reading: one monotonic clock, no skew.
pub fn now_ns() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// The tokio instant of a `now_ns()` reading, to sleep until a scheduled send.
pub fn instant_at(ns: u64) -> tokio::time::Instant {
    tokio::time::Instant::from_std(*EPOCH.get_or_init(Instant::now) + Duration::from_nanos(ns))
}

/// The server, as given by `--url http://host:port`.
#[derive(Debug, Clone)]
pub struct Server {
    /// `host:port`, for TCP connects.
    pub authority: String,
    /// `http://host:port`, for REST.
    pub base: String,
    pub key: String,
}

impl Server {
    pub fn parse(url: &str, key: &str) -> anyhow::Result<Server> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("--url must start with http:// (got {url})"))?;
        let authority = rest.split('/').next().unwrap_or_default().to_owned();
        if authority.is_empty() {
            bail!("--url has no host: {url}");
        }
        Ok(Server { base: format!("http://{authority}"), authority, key: key.to_owned() })
    }
}

/// Latencies in nanoseconds, from 1 ns to 10 minutes at three significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000_000, 3).expect("valid histogram bounds")
}

/// Percentiles in milliseconds, as the JSON lines report them.
pub fn summary_ms(h: &Histogram<u64>) -> Value {
    let ms = |ns: u64| (ns as f64 / 1e6 * 1000.0).round() / 1000.0;
    if h.is_empty() {
        return json!({ "count": 0 });
    }
    json!({
        "count": h.len(),
        "mean": (h.mean() / 1e6 * 1000.0).round() / 1000.0,
        "p50": ms(h.value_at_quantile(0.50)),
        "p90": ms(h.value_at_quantile(0.90)),
        "p99": ms(h.value_at_quantile(0.99)),
        "p99_9": ms(h.value_at_quantile(0.999)),
        "max": ms(h.max()),
    })
}

/// A process's resident memory (`VmRSS`) in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))
}

/// A process's thread count (`Threads` of `/proc/PID/status`).
pub fn threads(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow!("no Threads in /proc/{pid}/status"))
}

/// A process's CPU time (user + system, all threads).
pub fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces and parentheses: count fields after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // /proc reports clock ticks of USER_HZ, which Linux fixes at 100 for user space.
    Some(Duration::from_millis(ticks * 10))
}

/// CPU use of the generator and of the servers whose PIDs are known, over one measured window.
pub struct CpuWindow {
    servers: Vec<u32>,
    started: Instant,
    own: Option<Duration>,
    theirs: Vec<Option<Duration>>,
}

impl CpuWindow {
    pub fn start(servers: &[u32]) -> CpuWindow {
        CpuWindow {
            servers: servers.to_vec(),
            started: Instant::now(),
            own: cpu_time(None),
            theirs: servers.iter().map(|&pid| cpu_time(Some(pid))).collect(),
        }
    }

    /// Busy fraction of one core for each process (1.0 = one core fully busy): `server` is all
    /// the servers together and, with several (instances of a cluster), `servers` each one.
    pub fn finish(&self) -> Value {
        let wall = self.started.elapsed().as_secs_f64();
        let share = |before: Option<Duration>, after: Option<Duration>| match (before, after) {
            (Some(b), Some(a)) if wall > 0.0 => {
                Some(((a.saturating_sub(b)).as_secs_f64() / wall * 100.0).round() / 100.0)
            }
            _ => None,
        };
        let each: Vec<Option<f64>> = self
            .servers
            .iter()
            .zip(&self.theirs)
            .map(|(&pid, &before)| share(before, cpu_time(Some(pid))))
            .collect();
        let total = each.iter().copied().sum::<Option<f64>>().filter(|_| !each.is_empty());
        let mut value = json!({
            "generator": share(self.own, cpu_time(None)),
            "server": total.map(round2),
        });
        if each.len() > 1 {
            value["servers"] = json!(each);
        }
        value
    }
}

/// Thresholds given with `--target`, carried in the result line for `report` to judge.
pub fn targets(list: &[String]) -> Value {
    json!(list)
}

/// Rounds a rate or a ratio for the result line.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The one machine-readable result line every scenario ends with. It carries the machine's
/// load average, so a run disturbed by other work on the machine can be told apart.
pub fn print_result(value: &mut Value) {
    let load: Vec<f64> = std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .filter_map(|x| x.parse().ok())
        .collect();
    value["host_loadavg"] = json!(load);
    println!("{value}");
}

/// Progress for people, on stderr so stdout stays one JSON line.
#[macro_export]
macro_rules! progress {
    ($($arg:tt)*) => { eprintln!("[warroom-bench] {}", format!($($arg)*)) };
}
