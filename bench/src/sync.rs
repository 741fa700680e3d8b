//! The `sync` scenario: how long a connecting socket waits for `sync:full` on a board of N tasks.
//!
//! Measured from sending the namespace connect (`40{auth}`) to the last byte of `sync:full`,
//! one socket at a time, so it is the server's time to authenticate, read the board, encode it
//! and send it, plus the loopback transfer and the generator's WebSocket decoding: an upper
//! bound on the server's own time.
//!
//! With `--boards N` the server holds N boards of `--tasks` tasks each and the sockets connect
//! to `main`: what the other boards cost one board's `sync:full` (issue 12).

use serde_json::{Value, json};

use crate::common::{Server, histogram, round2, summary_ms, targets};
use crate::progress;
use crate::rest::{self, MAIN};
use crate::sio;

pub async fn sync(
    server: &Server,
    tasks: usize,
    boards: usize,
    runs: usize,
    label: &str,
    target: &[String],
) -> anyhow::Result<Value> {
    let all = rest::ensure_boards(server, boards.max(1)).await?;
    rest::seed_boards(server, &all, tasks).await?;
    let board = rest::task_count(&rest::client()?, server, MAIN).await?;
    progress!(
        "{runs} connects to {MAIN}, each waiting for sync:full of {board} tasks ({} boards)",
        all.len()
    );
    let auth = json!({ "apiKey": server.key, "board": MAIN });
    let mut auth_to_sync = histogram();
    let mut connect_to_sync = histogram();
    let mut bytes = 0;
    for _ in 0..runs.max(1) {
        let socket = sio::connect(server, &auth).await?;
        auth_to_sync.saturating_record(socket.auth_to_sync_ns);
        connect_to_sync.saturating_record(socket.connect_to_sync_ns);
        bytes = socket.sync_bytes;
        drop(socket);
    }
    Ok(json!({
        "scenario": "sync",
        "label": label,
        "params": { "tasks": board, "boards": all.len(), "runs": runs },
        "sync_bytes": bytes,
        "auth_to_sync_ms": summary_ms(&auth_to_sync),
        "connect_to_sync_ms": summary_ms(&connect_to_sync),
        "kib": round2(bytes as f64 / 1024.0),
        "headline": ["auth_to_sync_ms.p50", "auth_to_sync_ms.p99", "connect_to_sync_ms.p50"],
        "targets": targets(target),
    }))
}
