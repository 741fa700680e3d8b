//! Agents waiting for work (`task:next { agentId, wait }`, issue 13), two scenarios:
//!
//! - `waiting`: A agents each loop on `task:next { wait: 60 }` while a producer makes one task
//!   ready every I ms, by creating it or (`--unblock`) by moving its only blocker to `DONE`. The
//!   figure is the time from the producer's acknowledgement (the first moment any client knows
//!   the task is ready) to the acknowledgement that hands it to a waiting agent. Both are read
//!   on this process's clock; they are matched by task id once the run is over, so nothing but
//!   a map insert happens on the measured path.
//! - `waiters`: N sockets connect and stay idle, then each sends `task:next { wait: 60 }` on an
//!   empty board; the server's resident memory and thread count idle and waiting, so the cost
//!   of a waiting agent is what waiting adds to a connected socket.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{
    CpuWindow, Server, histogram, instant_at, now_ns, round2, rss_kib, summary_ms, targets, threads,
};
use crate::progress;
use crate::rest;
use crate::sio::{self, Packet, Ws};

/// The longest wait SPEC allows, which every waiting agent asks for.
const WAIT_SECONDS: u64 = 60;

#[derive(Debug, Clone, clap::Args)]
pub struct WaitingArgs {
    /// Agents, each looping on `task:next { wait: 60 }`.
    #[arg(long, default_value_t = 50)]
    pub agents: usize,
    /// Tasks made ready, one at a time.
    #[arg(long, default_value_t = 500)]
    pub tasks: usize,
    /// Milliseconds between two tasks becoming ready.
    #[arg(long, default_value_t = 20.0)]
    pub interval_ms: f64,
    /// Make each task ready by moving its blocker to DONE (tasks made beforehand) instead of
    /// creating it.
    #[arg(long)]
    pub unblock: bool,
}

/// What the agents saw: when each task reached one (task id → ack time), and what went wrong.
#[derive(Default)]
struct Claims {
    at: Mutex<HashMap<i64, u64>>,
    /// A task handed to two agents: never expected.
    twice: AtomicU64,
    /// Answers that were refusals, and answers with no task (a wait that passed).
    refused: AtomicU64,
    empty: AtomicU64,
    first_refusal: Mutex<Option<String>>,
}

/// One agent: asks `task:next` with the longest wait, again as soon as it is answered.
async fn agent(mut ws: Ws, agent_id: String, claims: Arc<Claims>, stop: Arc<AtomicBool>) {
    let payload = json!({ "agentId": agent_id, "wait": WAIT_SECONDS }).to_string();
    let mut ack_id = 0u64;
    while !stop.load(Relaxed) {
        ack_id += 1;
        if ws.send(sio::command(ack_id, "task:next", &payload)).await.is_err() {
            return;
        }
        loop {
            let Some(Ok(msg)) = ws.next().await else { return };
            let Message::Text(text) = msg else { continue };
            match sio::classify(text.as_str()) {
                Packet::Ping if ws.send(sio::pong()).await.is_err() => return,
                Packet::Ack { id, body } if id == ack_id => {
                    let now = now_ns();
                    let reply: Value = serde_json::from_str(body).unwrap_or(Value::Null);
                    let reply = &reply[0];
                    match reply["task"]["id"].as_i64() {
                        Some(task) if reply["ok"] == true => {
                            if claims.at.lock().unwrap().insert(task, now).is_some() {
                                claims.twice.fetch_add(1, Relaxed);
                            }
                        }
                        _ if reply["ok"] == true => {
                            claims.empty.fetch_add(1, Relaxed);
                        }
                        _ => {
                            claims.refused.fetch_add(1, Relaxed);
                            claims
                                .first_refusal
                                .lock()
                                .unwrap()
                                .get_or_insert_with(|| body.chars().take(200).collect());
                        }
                    }
                    break;
                }
                _ => {}
            }
        }
    }
}

/// The producer's socket, sending one command at a time and waiting for its answer.
struct Producer {
    ws: Ws,
    next_ack: u64,
}

impl Producer {
    async fn call(&mut self, name: &str, payload: &Value) -> anyhow::Result<Value> {
        self.next_ack += 1;
        let reply = sio::call(&mut self.ws, self.next_ack, name, payload).await?;
        if reply["ok"] != true {
            bail!("{name} was refused: {reply}");
        }
        Ok(reply)
    }
}

fn task_id(reply: &Value) -> anyhow::Result<i64> {
    reply["task"]["id"].as_i64().ok_or_else(|| anyhow!("no task in {reply}"))
}

pub async fn waiting(
    server: &Server,
    args: &WaitingArgs,
    pid: Option<u32>,
    label: &str,
    target: &[String],
) -> anyhow::Result<Value> {
    if args.agents == 0 || args.tasks == 0 || args.interval_ms <= 0.0 {
        bail!("--agents, --tasks and --interval-ms must be positive");
    }
    // Nobody else's events: the producer and the agents read their acks only.
    let auth = json!({ "apiKey": server.key, "subscribe": [], "board": rest::MAIN });
    let mut producer = Producer {
        ws: sio::connect(server, &auth).await.context("connecting the producer")?.ws,
        next_ack: 0,
    };
    // With --unblock: each task blocked by one task in progress (which no agent may claim).
    let mut blocked = Vec::new();
    if args.unblock {
        progress!("making {} tasks, each blocked by one task in progress", args.tasks);
        for k in 0..args.tasks {
            let blocker = task_id(
                &producer
                    .call("task:create", &json!({ "title": format!("blocker {k}"), "status": "IN_PROGRESS" }))
                    .await?,
            )?;
            let task = task_id(
                &producer
                    .call("task:create", &json!({ "title": format!("blocked {k}"), "blockedBy": [blocker] }))
                    .await?,
            )?;
            blocked.push((blocker, task));
        }
    }
    progress!("{} agents waiting with task:next {{ wait: {WAIT_SECONDS} }}", args.agents);
    let claims = Arc::new(Claims::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut agents = Vec::with_capacity(args.agents);
    for i in 0..args.agents {
        let ws = sio::connect(server, &auth).await.with_context(|| format!("connecting agent {i}"))?.ws;
        agents.push(tokio::spawn(agent(ws, format!("bench-agent-{i}"), claims.clone(), stop.clone())));
    }
    // Every agent in line before the first task.
    tokio::time::sleep(Duration::from_millis(500)).await;
    if !claims.at.lock().unwrap().is_empty() {
        bail!("the board had claimable tasks before the run: start on a board with none");
    }

    progress!(
        "making {} tasks ready, one every {} ms, by {}",
        args.tasks,
        args.interval_ms,
        if args.unblock { "moving the blocker to DONE" } else { "task:create" }
    );
    let cpu = CpuWindow::start(pid.as_slice());
    let period_ns = (args.interval_ms * 1e6) as u64;
    let start_ns = now_ns() + 20_000_000;
    // Task id → (the producer's send, its ack).
    let mut ready: HashMap<i64, (u64, u64)> = HashMap::with_capacity(args.tasks);
    let mut producer_ack = histogram();
    for k in 0..args.tasks {
        tokio::time::sleep_until(instant_at(start_ns + k as u64 * period_ns)).await;
        let sent = now_ns();
        let task = if let Some(&(blocker, task)) = blocked.get(k) {
            producer.call("task:move", &json!({ "taskId": blocker, "status": "DONE" })).await?;
            task
        } else {
            task_id(&producer.call("task:create", &json!({ "title": format!("ready {k}") })).await?)?
        };
        let acked = now_ns();
        producer_ack.saturating_record(acked - sent);
        ready.insert(task, (sent, acked));
    }
    // The last claims on their way.
    let deadline = now_ns() + 5_000_000_000;
    while claims.at.lock().unwrap().len() < args.tasks && now_ns() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cpu = cpu.finish();
    let server_threads = pid.map(threads).transpose()?;
    stop.store(true, Relaxed);
    for a in &agents {
        a.abort();
    }

    let mut ready_to_ack = histogram();
    let mut send_to_ack = histogram();
    let mut before_producer_ack = 0u64;
    let at = claims.at.lock().unwrap();
    for (task, &(sent, acked)) in &ready {
        if let Some(&claimed) = at.get(task) {
            send_to_ack.saturating_record(claimed.saturating_sub(sent));
            // The agent's ack may overtake the producer's: both follow the same commit.
            if claimed < acked {
                before_producer_ack += 1;
            }
            ready_to_ack.saturating_record(claimed.saturating_sub(acked));
        }
    }
    let unclaimed = ready.keys().filter(|t| !at.contains_key(t)).count();
    let foreign = at.keys().filter(|t| !ready.contains_key(t)).count();
    Ok(json!({
        "scenario": "waiting",
        "label": label,
        "params": { "agents": args.agents, "tasks": args.tasks, "interval_ms": args.interval_ms, "unblock": args.unblock, "wait": WAIT_SECONDS },
        "ready_to_ack_ms": summary_ms(&ready_to_ack),
        "send_to_ack_ms": summary_ms(&send_to_ack),
        "producer_ack_ms": summary_ms(&producer_ack),
        "claimed": ready.len() - unclaimed,
        "unclaimed": unclaimed,
        "claimed_twice": claims.twice.load(Relaxed),
        "claimed_unknown": foreign,
        "before_producer_ack": before_producer_ack,
        "answered_empty": claims.empty.load(Relaxed),
        "refused": claims.refused.load(Relaxed),
        "first_refusal": *claims.first_refusal.lock().unwrap(),
        "server_threads": server_threads,
        "cpu_cores": cpu,
        "headline": ["ready_to_ack_ms.p50", "ready_to_ack_ms.p99", "send_to_ack_ms.p50", "unclaimed", "claimed_twice"],
        "targets": targets(target),
    }))
}

#[derive(Debug, Clone, clap::Args)]
pub struct WaitersArgs {
    /// Sockets: connected idle, then each waiting.
    #[arg(long, default_value_t = 100)]
    pub count: usize,
    /// Sockets connecting at once.
    #[arg(long, default_value_t = 200)]
    pub batch: usize,
    /// Seconds to let each state settle before reading the server's memory.
    #[arg(long, default_value_t = 2.0)]
    pub hold: f64,
}

/// One socket of `waiters`: idle (answering pings) until `go`, then one `task:next` with the
/// longest wait, then idle again, counting the answers (none are expected within the hold).
async fn waiter(mut ws: Ws, agent_id: String, mut go: watch::Receiver<bool>, answered: Arc<AtomicU64>) {
    let payload = json!({ "agentId": agent_id, "wait": WAIT_SECONDS }).to_string();
    let mut waiting = false;
    loop {
        tokio::select! {
            msg = ws.next() => {
                let Some(Ok(msg)) = msg else { return };
                let Message::Text(text) = msg else { continue };
                match sio::classify(text.as_str()) {
                    Packet::Ping if ws.send(sio::pong()).await.is_err() => return,
                    Packet::Ack { .. } => { answered.fetch_add(1, Relaxed); }
                    _ => {}
                }
            }
            // `go` changes once, from false to true.
            changed = go.changed(), if !waiting => {
                if changed.is_err() || ws.send(sio::command(1, "task:next", &payload)).await.is_err() {
                    return;
                }
                waiting = true;
            }
        }
    }
}

/// The server's memory and threads now.
fn reading(pid: u32) -> anyhow::Result<(u64, u64)> {
    Ok((rss_kib(pid)?, threads(pid)?))
}

pub async fn waiters(
    server: &Server,
    args: &WaitersArgs,
    pid: Option<u32>,
    label: &str,
    target: &[String],
) -> anyhow::Result<Value> {
    let pid = pid.ok_or_else(|| anyhow!("waiters reads the server's memory: give --pid"))?;
    if args.count == 0 {
        bail!("--count must be positive");
    }
    let http = rest::client()?;
    let hold = Duration::from_secs_f64(args.hold);
    let (rss_before, threads_before) = reading(pid)?;
    let auth = json!({ "apiKey": server.key, "subscribe": [], "board": rest::MAIN });
    let (go, _) = watch::channel(false);
    let answered = Arc::new(AtomicU64::new(0));
    progress!("connecting {} idle sockets, {} at a time", args.count, args.batch);
    let mut sockets = Vec::with_capacity(args.count);
    for first in (0..args.count).step_by(args.batch.max(1)) {
        let connects: Vec<_> = (first..args.count.min(first + args.batch.max(1)))
            .map(|_| {
                let (server, auth) = (server.clone(), auth.clone());
                tokio::spawn(async move { sio::connect(&server, &auth).await })
            })
            .collect();
        for c in connects {
            let ws = c.await??.ws;
            let i = sockets.len();
            sockets.push(tokio::spawn(waiter(
                ws,
                format!("bench-waiter-{i}"),
                go.subscribe(),
                answered.clone(),
            )));
        }
    }
    tokio::time::sleep(hold).await;
    let (rss_idle, threads_idle) = reading(pid)?;
    progress!(
        "{} sockets idle: {rss_idle} KiB, {threads_idle} threads; now each waits {WAIT_SECONDS} s",
        args.count
    );
    go.send_replace(true);
    tokio::time::sleep(hold).await;
    let (rss_waiting, threads_waiting) = reading(pid)?;
    let claimed = rest::tasks(&http, server, rest::MAIN).await?;
    let leases = claimed.iter().filter(|t| !t["claimedBy"].is_null()).count();
    let connections = rest::health_connections(&http, server).await?;
    progress!("{} sockets waiting: {rss_waiting} KiB, {threads_waiting} threads", args.count);
    for s in &sockets {
        s.abort();
    }
    let per = |after: u64, before: u64| round2((after as f64 - before as f64) / args.count as f64);
    Ok(json!({
        "scenario": "waiters",
        "label": label,
        "params": { "count": args.count, "batch": args.batch, "hold": args.hold, "wait": WAIT_SECONDS },
        "rss_before_kib": rss_before,
        "rss_idle_kib": rss_idle,
        "rss_waiting_kib": rss_waiting,
        "rss_per_idle_socket_kib": per(rss_idle, rss_before),
        "rss_per_waiter_kib": per(rss_waiting, rss_idle),
        "threads_before": threads_before,
        "threads_idle": threads_idle,
        "threads_waiting": threads_waiting,
        "connections": connections,
        "answered_during_hold": answered.load(Relaxed),
        "leases_held": leases,
        "headline": ["rss_per_waiter_kib", "rss_per_idle_socket_kib", "threads_idle", "threads_waiting", "leases_held", "answered_during_hold"],
        "targets": targets(target),
    }))
}
