//! The `fanout` and `throughput` scenarios: writers issue `task:update` on their own tasks and
//! N receivers measure when each `task:{id}:updated` reaches them.
//!
//! Every update's description carries its send time (`bench t=<ns> w=<writer> n=<k>`, on the
//! process clock of `common::now_ns`), so a receiver in the same process knows the delivery
//! latency from one subtraction and one histogram record: no JSON decoding on the hot path.
//!
//! `fanout` is open loop: writer sends follow a fixed schedule whatever the acks, and the stamp
//! is the *scheduled* time, so a generator or server falling behind shows up as latency
//! instead of silently lowering the offered load (no coordinated omission).
//! `throughput` is closed loop: each writer keeps a window of K commands awaiting their acks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{CpuWindow, Server, histogram, instant_at, now_ns, round2, summary_ms, targets};
use crate::progress;
use crate::rest;
use crate::sio::{self, Packet, Ws};

/// How long to wait, after the last send, for outstanding acks and deliveries.
const DRAIN: Duration = Duration::from_secs(5);

/// What receivers see, summed over all of them.
pub struct Deliveries {
    /// `task:{id}:updated` carrying a bench stamp.
    pub delivered: AtomicU64,
    /// Every event frame, bench or not (the `activity` entries, for example).
    pub frames: AtomicU64,
    /// Receivers whose connection ended during the run.
    pub closed: AtomicU64,
    /// Delivery latency in nanoseconds. One histogram behind a mutex, not one per receiver:
    /// a thousand histograms would cost more memory than the sockets, and on a generator
    /// pinned to one core the lock is never contended.
    pub latency: Mutex<Histogram<u64>>,
}

impl Deliveries {
    pub fn new() -> Arc<Deliveries> {
        Arc::new(Deliveries {
            delivered: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            latency: Mutex::new(histogram()),
        })
    }
}

/// What writers see, summed over all of them.
struct Writes {
    sent: AtomicU64,
    ok: AtomicU64,
    /// Acknowledged updates on each board with writers: each is expected at that board's receivers.
    ok_by_board: Vec<AtomicU64>,
    refused: AtomicU64,
    unacked: AtomicU64,
    /// Acks that arrived within the measured window (for `throughput`).
    ok_in_window: AtomicU64,
    /// The worst delay of a send behind its schedule, in nanoseconds (open loop only).
    max_lag_ns: AtomicU64,
    first_refusal: Mutex<Option<String>>,
    /// From the (scheduled) send to the ack, in nanoseconds.
    ack_latency: Mutex<Histogram<u64>>,
}

impl Writes {
    fn new(boards: usize) -> Arc<Writes> {
        Arc::new(Writes {
            sent: AtomicU64::new(0),
            ok: AtomicU64::new(0),
            ok_by_board: (0..boards).map(|_| AtomicU64::new(0)).collect(),
            refused: AtomicU64::new(0),
            unacked: AtomicU64::new(0),
            ok_in_window: AtomicU64::new(0),
            max_lag_ns: AtomicU64::new(0),
            first_refusal: Mutex::new(None),
            ack_latency: Mutex::new(histogram()),
        })
    }
}

/// The send time stamped in a bench update, if this event is one.
fn stamp(event: &str) -> Option<u64> {
    // `["task:12:updated",{"id":12,"description":"bench t=123 w=0 n=5",…},{"seq":9}]`
    let rest = event.strip_prefix("[\"task:")?;
    let name_end = rest.find('"')?;
    if !rest[..name_end].ends_with(":updated") {
        return None;
    }
    const MARK: &str = "\"description\":\"bench t=";
    let at = rest.find(MARK)? + MARK.len();
    let digits = rest[at..].bytes().take_while(u8::is_ascii_digit).count();
    rest[at..at + digits].parse().ok()
}

/// Reads one receiver's frames until it is stopped or the server closes it.
async fn receive(mut ws: Ws, seen: Arc<Deliveries>) {
    while let Some(msg) = ws.next().await {
        let Ok(Message::Text(text)) = msg else {
            if matches!(msg, Ok(Message::Close(_)) | Err(_)) {
                break;
            }
            continue;
        };
        match sio::classify(text.as_str()) {
            Packet::Ping if ws.send(sio::pong()).await.is_err() => break,
            Packet::Event(event) => {
                seen.frames.fetch_add(1, Relaxed);
                if let Some(sent) = stamp(event) {
                    let latency = now_ns().saturating_sub(sent);
                    seen.delivered.fetch_add(1, Relaxed);
                    seen.latency.lock().unwrap().saturating_record(latency);
                }
            }
            _ => {}
        }
    }
    seen.closed.fetch_add(1, Relaxed);
}

/// Connected receivers: their reading tasks, and how many are on each board.
pub struct Receivers {
    pub tasks: Vec<JoinHandle<()>>,
    pub on_board: Vec<u64>,
}

/// Connects `per_board` receivers to each of `boards`, `batch` at a time, each past its
/// `sync:full` before the next batch starts; receiver `i` goes to `servers[i % servers.len()]`,
/// so the instances of a cluster share them evenly. Returns them and how many failed to connect.
pub async fn connect_receivers(
    servers: &[Server],
    boards: &[String],
    per_board: usize,
    batch: usize,
    subscribe: &[String],
    seen: &Arc<Deliveries>,
) -> (Receivers, usize, Option<String>) {
    let mut auth = json!({ "apiKey": servers[0].key });
    if !subscribe.is_empty() {
        auth["subscribe"] = json!(subscribe);
    }
    let count = per_board * boards.len();
    let mut receivers = Receivers { tasks: Vec::with_capacity(count), on_board: vec![0; boards.len()] };
    let mut failed = 0;
    let mut first_error = None;
    let mut left = count;
    while left > 0 {
        let n = left.min(batch.max(1));
        left -= n;
        let first = count - left - n;
        let connects: Vec<_> = (first..first + n)
            .map(|i| {
                let board = i / per_board;
                let server = servers[i % servers.len()].clone();
                let mut auth = auth.clone();
                auth["board"] = json!(boards[board]);
                (board, tokio::spawn(async move { sio::connect(&server, &auth).await }))
            })
            .collect();
        for (board, c) in connects {
            match c.await.map_err(anyhow::Error::from).and_then(|r| r) {
                Ok(socket) => {
                    receivers.tasks.push(tokio::spawn(receive(socket.ws, seen.clone())));
                    receivers.on_board[board] += 1;
                }
                Err(e) => {
                    failed += 1;
                    first_error.get_or_insert_with(|| format!("{e:#}"));
                }
            }
        }
    }
    (receivers, failed, first_error)
}

/// A writer's socket and the task it updates. Writers subscribe to nothing (`[]`): they send
/// and read acks only, so their own deliveries never compete with the receivers'.
struct Writer {
    index: usize,
    /// The index of its board in the scenario's list.
    board: usize,
    task_id: i64,
}

/// `per_board` writers on each of `boards`, numbered across all of them.
async fn connect_writers(
    server: &Server,
    boards: &[String],
    per_board: usize,
) -> anyhow::Result<Vec<(Writer, Ws)>> {
    let mut writers = Vec::with_capacity(per_board * boards.len());
    for index in 0..per_board * boards.len() {
        let board = index / per_board;
        let auth =
            json!({ "apiKey": server.key, "subscribe": [], "name": "bench-writer", "board": boards[board] });
        let mut ws =
            sio::connect(server, &auth).await.with_context(|| format!("connecting writer {index}"))?.ws;
        let reply = sio::call(
            &mut ws,
            0,
            "task:create",
            &json!({ "title": format!("bench writer {index}"), "description": "bench" }),
        )
        .await?;
        let Some(task_id) = reply["task"]["id"].as_i64() else {
            bail!("task:create was refused: {reply}");
        };
        writers.push((Writer { index, board, task_id }, ws));
    }
    Ok(writers)
}

fn update(ack_id: u64, w: &Writer, scheduled_ns: u64, n: u64) -> Message {
    sio::command(
        ack_id,
        "task:update",
        &format!("{{\"id\":{},\"description\":\"bench t={scheduled_ns} w={} n={n}\"}}", w.task_id, w.index),
    )
}

/// Records one ack against the send it answers.
fn on_ack(writes: &Writes, board: usize, body: &str, sent_ns: u64, window_end: u64) {
    let now = now_ns();
    if body.starts_with("[{\"ok\":true") {
        writes.ok.fetch_add(1, Relaxed);
        writes.ok_by_board[board].fetch_add(1, Relaxed);
        if now <= window_end {
            writes.ok_in_window.fetch_add(1, Relaxed);
        }
        writes.ack_latency.lock().unwrap().saturating_record(now.saturating_sub(sent_ns));
    } else {
        writes.refused.fetch_add(1, Relaxed);
        writes.first_refusal.lock().unwrap().get_or_insert_with(|| body.chars().take(200).collect());
    }
}

/// How a writer paces its sends.
#[derive(Clone, Copy)]
enum Pace {
    /// Open loop: one send every `period_ns`, first at `start_ns`.
    Schedule { start_ns: u64, period_ns: u64 },
    /// Closed loop: keep `window` commands awaiting acks.
    Window { window: usize },
}

async fn write(w: Writer, ws: Ws, pace: Pace, end_ns: u64, writes: Arc<Writes>) {
    let (mut sink, mut stream) = ws.split();
    let mut inflight: HashMap<u64, u64> = HashMap::new();
    let mut next_ack = 1u64;
    let mut k = 0u64;
    let drain_until = end_ns + DRAIN.as_nanos() as u64;
    loop {
        let now = now_ns();
        // The next send, if any is due before the end.
        let due = match pace {
            Pace::Schedule { start_ns, period_ns } => Some(start_ns + k * period_ns).filter(|&t| t < end_ns),
            Pace::Window { window } => (inflight.len() < window && now < end_ns).then_some(now),
        };
        if due.is_none() && (inflight.is_empty() || now >= drain_until) {
            break;
        }
        let wake = due.unwrap_or(drain_until);
        tokio::select! {
            biased;
            msg = stream.next() => {
                let Some(Ok(Message::Text(text))) = msg else {
                    if matches!(msg, None | Some(Err(_)) | Some(Ok(Message::Close(_)))) {
                        break;
                    }
                    continue;
                };
                match sio::classify(text.as_str()) {
                    Packet::Ping => { let _ = sink.send(sio::pong()).await; }
                    Packet::Ack { id, body } => {
                        if let Some(sent) = inflight.remove(&id) {
                            on_ack(&writes, w.board, body, sent, end_ns);
                        }
                    }
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(instant_at(wake)) => {
                let Some(scheduled) = due else { break };
                let lag = now_ns().saturating_sub(scheduled);
                writes.max_lag_ns.fetch_max(lag, Relaxed);
                let ack_id = next_ack;
                next_ack += 1;
                if sink.send(update(ack_id, &w, scheduled, k)).await.is_err() {
                    break;
                }
                inflight.insert(ack_id, scheduled);
                writes.sent.fetch_add(1, Relaxed);
                k += 1;
            }
        }
    }
    writes.unacked.fetch_add(inflight.len() as u64, Relaxed);
}

/// The settings `fanout` and `throughput` share.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Connected receivers on each board, each measuring every delivery.
    #[arg(long, default_value_t = 100)]
    pub receivers: usize,
    /// Writer sockets on each busy board, each updating its own task.
    #[arg(long, default_value_t = 10)]
    pub writers: usize,
    /// Boards (`main` and `bench-1`…), each with `--receivers` receivers (issue 12: what the
    /// other boards cost one board's fan-out).
    #[arg(long, default_value_t = 1)]
    pub boards: usize,
    /// Boards with writers, from `main` on; each gets `--writers` (and, for `fanout`, `--rate`).
    #[arg(long, default_value_t = 1)]
    pub busy_boards: usize,
    /// Tasks seeded on each board before the receivers connect (their `sync:full` carries them).
    #[arg(long, default_value_t = 0)]
    pub tasks: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Receivers connecting at once.
    #[arg(long, default_value_t = 200)]
    pub batch: usize,
    /// Receivers' `auth.subscribe` patterns (repeat the flag); none: every broadcast, as the
    /// dashboard receives them.
    #[arg(long)]
    pub subscribe: Vec<String>,
    /// Where receivers connect, in turn (repeat the flag for the instances of a cluster);
    /// none: `--url`, where the writers always connect.
    #[arg(long = "receiver-url")]
    pub receiver_urls: Vec<String>,
}

/// Makes and seeds the boards, connects receivers then writers; what both scenarios start with.
async fn prepare(
    server: &Server,
    load: &LoadArgs,
) -> anyhow::Result<(Arc<Deliveries>, Receivers, Vec<(Writer, Ws)>, Value)> {
    if load.busy_boards == 0 || load.busy_boards > load.boards {
        bail!("--busy-boards must be from 1 to --boards");
    }
    let boards = rest::ensure_boards(server, load.boards).await?;
    rest::seed_boards(server, &boards, load.tasks).await?;
    let seen = Deliveries::new();
    let receiver_servers = if load.receiver_urls.is_empty() {
        vec![server.clone()]
    } else {
        load.receiver_urls.iter().map(|url| Server::parse(url, &server.key)).collect::<anyhow::Result<_>>()?
    };
    progress!(
        "connecting {} receivers on each of {} boards, {} at a time, to {}",
        load.receivers,
        boards.len(),
        load.batch,
        receiver_servers.iter().map(|s| s.base.as_str()).collect::<Vec<_>>().join(" and ")
    );
    let t = now_ns();
    let (receivers, failed, first_error) =
        connect_receivers(&receiver_servers, &boards, load.receivers, load.batch, &load.subscribe, &seen)
            .await;
    let connect_s = (now_ns() - t) as f64 / 1e9;
    if let Some(e) = &first_error {
        progress!("{failed} receivers failed to connect; first error: {e}");
    }
    progress!("connecting {} writers on each of {} boards", load.writers, load.busy_boards);
    let writers = connect_writers(server, &boards[..load.busy_boards], load.writers).await?;
    let setup = json!({
        "receivers_connected": receivers.tasks.len(),
        "receivers_failed": failed,
        "first_connect_error": first_error,
        "connect_seconds": round2(connect_s),
    });
    Ok((seen, receivers, writers, setup))
}

/// After the writers stop: waits for the deliveries still on their way, up to `DRAIN`.
async fn drain(seen: &Deliveries, expected: u64) {
    let deadline = now_ns() + DRAIN.as_nanos() as u64;
    while seen.delivered.load(Relaxed) < expected && now_ns() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Deliveries due: each board's acknowledged updates times its connected receivers.
fn expected(writes: &Writes, receivers: &Receivers) -> u64 {
    writes.ok_by_board.iter().zip(&receivers.on_board).map(|(ok, &n)| ok.load(Relaxed) * n).sum()
}

/// The scenario's parameters, as both scenarios report them, with `extra`'s fields.
fn params(load: &LoadArgs, extra: Value) -> Value {
    let mut params = json!({
        "receivers": load.receivers, "writers": load.writers, "duration": load.duration,
        "boards": load.boards, "busy_boards": load.busy_boards, "tasks": load.tasks,
        "subscribe": load.subscribe, "receiver_urls": load.receiver_urls,
    });
    if let (Some(params), Value::Object(extra)) = (params.as_object_mut(), extra) {
        params.extend(extra);
    }
    params
}

fn writes_json(writes: &Writes) -> Value {
    json!({
        "sent": writes.sent.load(Relaxed),
        "acked_ok": writes.ok.load(Relaxed),
        "refused": writes.refused.load(Relaxed),
        "unacked": writes.unacked.load(Relaxed),
        "first_refusal": *writes.first_refusal.lock().unwrap(),
        "ack_latency_ms": summary_ms(&writes.ack_latency.lock().unwrap()),
    })
}

/// `fanout`: open-loop updates at `rate` per second in total; delivery latency at receivers.
pub async fn fanout(
    server: &Server,
    load: &LoadArgs,
    rate: f64,
    pids: &[u32],
    label: &str,
    target: &[String],
) -> anyhow::Result<Value> {
    if rate <= 0.0 || load.writers == 0 {
        bail!("--rate and --writers must be positive");
    }
    let (seen, receivers, writers, setup) = prepare(server, load).await?;
    // Let the last joins settle before the clock starts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let writes = Writes::new(load.busy_boards);
    // `rate` is each busy board's; each writer sends once per period.
    let period_ns = (load.writers as f64 / rate * 1e9) as u64;
    let all_writers = writers.len() as u64;
    let start_ns = now_ns() + 20_000_000;
    let end_ns = start_ns + (load.duration * 1e9) as u64;
    progress!(
        "fan-out: {} updates/s on each of {} boards from {} writers each, {} receivers in all, for {} s",
        rate,
        load.busy_boards,
        load.writers,
        receivers.tasks.len(),
        load.duration
    );
    let cpu = CpuWindow::start(pids);
    let tasks: Vec<_> = writers
        .into_iter()
        .enumerate()
        .map(|(i, (w, ws))| {
            // Writers take turns evenly across each period.
            let pace = Pace::Schedule { start_ns: start_ns + i as u64 * period_ns / all_writers, period_ns };
            tokio::spawn(write(w, ws, pace, end_ns, writes.clone()))
        })
        .collect();
    tokio::time::sleep_until(instant_at(end_ns)).await;
    let cpu = cpu.finish();
    for t in tasks {
        let _ = t.await;
    }
    let expected = expected(&writes, &receivers);
    drain(&seen, expected).await;
    for r in &receivers.tasks {
        r.abort();
    }
    let delivered = seen.delivered.load(Relaxed);
    let offered = writes.sent.load(Relaxed) as f64 / load.duration;
    Ok(json!({
        "scenario": "fanout",
        "label": label,
        "params": params(load, json!({ "rate": rate })),
        "setup": setup,
        "offered_updates_per_s": round2(offered),
        "writes": writes_json(&writes),
        "max_send_lag_ms": round2(writes.max_lag_ns.load(Relaxed) as f64 / 1e6),
        "latency_ms": summary_ms(&seen.latency.lock().unwrap()),
        "expected": expected,
        "delivered": delivered,
        "misses": expected.saturating_sub(delivered),
        "deliveries_per_s": round2(delivered as f64 / load.duration),
        "frames_received": seen.frames.load(Relaxed),
        "receivers_closed": seen.closed.load(Relaxed),
        "cpu_cores": cpu,
        "headline": ["latency_ms.p50", "latency_ms.p99", "latency_ms.p99_9", "latency_ms.max", "misses", "deliveries_per_s"],
        "targets": targets(target),
    }))
}

/// `throughput`: each writer keeps `window` updates awaiting acks; acknowledged (committed)
/// writes per second and deliveries per second within the window.
pub async fn throughput(
    server: &Server,
    load: &LoadArgs,
    window: usize,
    pids: &[u32],
    label: &str,
    target: &[String],
) -> anyhow::Result<Value> {
    if window == 0 || load.writers == 0 {
        bail!("--window and --writers must be positive");
    }
    let (seen, receivers, writers, setup) = prepare(server, load).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let writes = Writes::new(load.busy_boards);
    let start_ns = now_ns();
    let end_ns = start_ns + (load.duration * 1e9) as u64;
    progress!(
        "throughput: {} writers x window {} to {} receivers for {} s",
        writers.len(),
        window,
        receivers.tasks.len(),
        load.duration
    );
    let cpu = CpuWindow::start(pids);
    let tasks: Vec<_> = writers
        .into_iter()
        .map(|(w, ws)| tokio::spawn(write(w, ws, Pace::Window { window }, end_ns, writes.clone())))
        .collect();
    tokio::time::sleep_until(instant_at(end_ns)).await;
    let delivered_in_window = seen.delivered.load(Relaxed);
    let cpu = cpu.finish();
    for t in tasks {
        let _ = t.await;
    }
    let expected = expected(&writes, &receivers);
    drain(&seen, expected).await;
    for r in &receivers.tasks {
        r.abort();
    }
    let delivered = seen.delivered.load(Relaxed);
    Ok(json!({
        "scenario": "throughput",
        "label": label,
        "params": params(load, json!({ "window": window })),
        "setup": setup,
        "acked_writes_per_s": round2(writes.ok_in_window.load(Relaxed) as f64 / load.duration),
        "deliveries_per_s": round2(delivered_in_window as f64 / load.duration),
        "writes": writes_json(&writes),
        "latency_ms": summary_ms(&seen.latency.lock().unwrap()),
        "expected": expected,
        "delivered": delivered,
        "misses": expected.saturating_sub(delivered),
        "frames_received": seen.frames.load(Relaxed),
        "receivers_closed": seen.closed.load(Relaxed),
        "cpu_cores": cpu,
        "headline": ["acked_writes_per_s", "deliveries_per_s", "writes.ack_latency_ms.p99", "misses"],
        "targets": targets(target),
    }))
}

#[cfg(test)]
mod tests {
    use super::stamp;

    #[test]
    fn a_bench_update_yields_its_stamp_and_other_events_none() {
        let update = r#"["task:12:updated",{"id":12,"description":"bench t=123456 w=0 n=5","version":3,"updatedAt":"x"},{"seq":9}]"#;
        assert_eq!(stamp(update), Some(123456));
        let activity = r#"["activity",{"changes":{"description":{"to":"bench t=1 w=0 n=0"}}},{"seq":9}]"#;
        assert_eq!(stamp(activity), None);
        let shifted = r#"["task:3:updated",{"id":3,"position":1},{"seq":9}]"#;
        assert_eq!(stamp(shifted), None);
    }
}
