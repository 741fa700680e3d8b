//! The `connections` scenario: open N idle sockets in batches, hold them, and read what they
//! cost the server in resident memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Server, now_ns, round2, rss_kib, targets};
use crate::progress;
use crate::rest;
use crate::sio;

#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionsArgs {
    /// Sockets to open.
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Sockets connecting at once.
    #[arg(long, default_value_t = 250)]
    pub batch: usize,
    /// Seconds to hold them all open before the final reading.
    #[arg(long, default_value_t = 5.0)]
    pub hold: f64,
}

pub async fn connections(
    server: &Server,
    args: &ConnectionsArgs,
    pid: Option<u32>,
    label: &str,
    target: &[String],
) -> anyhow::Result<Value> {
    let http = rest::client()?;
    let rss_before = pid.map(rss_kib).transpose()?;
    let sockets_before = rest::health_connections(&http, server).await?;
    let auth = json!({ "apiKey": server.key });
    let closed = Arc::new(AtomicU64::new(0));
    let mut held = Vec::with_capacity(args.count);
    let mut failed = 0usize;
    let mut first_error: Option<String> = None;
    let mut connect_ms = crate::common::histogram();
    let started = now_ns();
    let mut left = args.count;
    while left > 0 {
        let n = left.min(args.batch.max(1));
        left -= n;
        let connects: Vec<_> = (0..n)
            .map(|_| {
                let (server, auth) = (server.clone(), auth.clone());
                tokio::spawn(async move { sio::connect(&server, &auth).await })
            })
            .collect();
        for c in connects {
            match c.await.map_err(anyhow::Error::from).and_then(|r| r) {
                Ok(socket) => {
                    connect_ms.saturating_record(socket.connect_to_sync_ns);
                    let closed = closed.clone();
                    held.push(tokio::spawn(async move {
                        let why = sio::hold(socket.ws).await;
                        if closed.fetch_add(1, Relaxed) == 0 {
                            progress!("a held socket ended: {why}");
                        }
                    }));
                }
                Err(e) => {
                    failed += 1;
                    first_error.get_or_insert_with(|| format!("{e:#}"));
                }
            }
        }
        if held.len() % 2000 < args.batch.max(1) {
            progress!("{} sockets open, {failed} failed", held.len());
        }
    }
    let open_s = (now_ns() - started) as f64 / 1e9;
    progress!("{} open in {open_s:.1} s; holding for {} s", held.len(), args.hold);
    tokio::time::sleep(Duration::from_secs_f64(args.hold)).await;
    let rss_after = pid.map(rss_kib).transpose()?;
    let sockets_after = rest::health_connections(&http, server).await?;
    let still_open = held.len() as u64 - closed.load(Relaxed);
    let per_conn = match (rss_before, rss_after) {
        (Some(b), Some(a)) if !held.is_empty() => {
            Some(round2(a.saturating_sub(b) as f64 / held.len() as f64))
        }
        _ => None,
    };
    for h in &held {
        h.abort();
    }
    Ok(json!({
        "scenario": "connections",
        "label": label,
        "params": { "count": args.count, "batch": args.batch, "hold": args.hold },
        "opened": held.len(),
        "failed": failed,
        "first_error": first_error,
        "still_open": still_open,
        "server_connections_before": sockets_before,
        "server_connections_after": sockets_after,
        "open_seconds": round2(open_s),
        "connect_to_sync_ms": crate::common::summary_ms(&connect_ms),
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "rss_per_connection_kib": per_conn,
        "headline": ["opened", "failed", "still_open", "rss_per_connection_kib"],
        "targets": targets(target),
    }))
}
