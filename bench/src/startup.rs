//! The `startup` scenario: spawn the server on a database of N tasks and time it until
//! `/api/health` answers 200.
//!
//! The database is made the way users make one, through `POST /api/tasks` on a running server
//! (with `--durability normal` to seed faster), then shut down cleanly so the WAL is folded
//! into the file. Each run starts from a fresh copy of that file, which the copy leaves in the
//! page cache: these are warm-cache start-ups.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::common::{Server, histogram, now_ns, round2, rss_kib, summary_ms, targets};
use crate::progress;
use crate::rest;

#[derive(Debug, Clone, clap::Args)]
pub struct StartupArgs {
    /// The warroom binary to start.
    #[arg(long, default_value = "target/release/warroom")]
    pub server_bin: PathBuf,
    /// Tasks in the database.
    #[arg(long, default_value_t = 100_000)]
    pub tasks: usize,
    /// Start-ups to time.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// The seeded database: reused if it exists, else made here and kept.
    #[arg(long)]
    pub seed_db: Option<PathBuf>,
    /// Pin the server to this core (through `taskset -c`).
    #[arg(long)]
    pub server_cpu: Option<u32>,
}

const KEY: &str = "warroom-bench-startup-key";

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn spawn_server(args: &StartupArgs, db: &Path, port: u16, seeding: bool) -> anyhow::Result<Child> {
    let mut cmd = match args.server_cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpu.to_string()).arg(&args.server_bin);
            c
        }
        None => Command::new(&args.server_bin),
    };
    cmd.arg("serve")
        .arg("--db")
        .arg(db)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--api-key", KEY, "--rate-limit", "0"])
        .args(["--durability", if seeding { "normal" } else { "full" }])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    cmd.spawn().with_context(|| format!("starting {}", args.server_bin.display()))
}

/// Whether `/api/health` answers 200 now. A raw request: no client pool to warm up or to
/// hide a refused connection behind retries.
async fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let request = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if s.write_all(request).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).await.is_ok() && &head == b"HTTP/1.1 200"
}

/// Polls health every millisecond; returns the nanoseconds from `since` to the first 200.
async fn wait_healthy(port: u16, since: u64, child: &mut Child) -> anyhow::Result<u64> {
    let deadline = since + 120_000_000_000;
    loop {
        if healthy(port).await {
            return Ok(now_ns() - since);
        }
        if let Some(status) = child.try_wait()? {
            bail!("the server exited during start-up: {status}");
        }
        if now_ns() > deadline {
            bail!("the server did not answer /api/health within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// SIGTERM, so the server checkpoints its WAL and the file stands alone.
async fn stop(mut child: Child) -> anyhow::Result<()> {
    if let Some(pid) = child.id() {
        Command::new("kill").args(["-TERM", &pid.to_string()]).status().await?;
    }
    match tokio::time::timeout(Duration::from_secs(30), child.wait()).await {
        Ok(status) => {
            status?;
        }
        Err(_) => {
            child.kill().await?;
            bail!("the server did not stop within 30 s of SIGTERM");
        }
    }
    Ok(())
}

async fn make_seed(args: &StartupArgs, db: &Path) -> anyhow::Result<()> {
    let port = free_port()?;
    let mut child = spawn_server(args, db, port, true)?;
    wait_healthy(port, now_ns(), &mut child).await?;
    let server = Server::parse(&format!("http://127.0.0.1:{port}"), KEY)?;
    let t = now_ns();
    rest::seed_tasks(&server, rest::MAIN, args.tasks, 64).await?;
    progress!("seeded {} tasks in {:.1} s", args.tasks, (now_ns() - t) as f64 / 1e9);
    stop(child).await
}

fn copy_db(from: &Path, to: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let (src, dst) = (
            PathBuf::from(format!("{}{suffix}", from.display())),
            PathBuf::from(format!("{}{suffix}", to.display())),
        );
        let _ = std::fs::remove_file(&dst);
        if src.exists() {
            std::fs::copy(&src, &dst)
                .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
        }
    }
    Ok(())
}

pub async fn startup(args: &StartupArgs, label: &str, target: &[String]) -> anyhow::Result<Value> {
    let dir = std::env::temp_dir().join(format!("warroom-bench-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let seed = args.seed_db.clone().unwrap_or_else(|| dir.join("seed.db"));
    if !seed.exists() {
        make_seed(args, &seed).await?;
    }
    let db_bytes = std::fs::metadata(&seed)?.len();
    let run_db = dir.join("run.db");
    let mut ready = histogram();
    let mut rss = Vec::new();
    for run in 0..args.runs.max(1) {
        copy_db(&seed, &run_db)?;
        let port = free_port()?;
        let t = now_ns();
        let mut child = spawn_server(args, &run_db, port, false)?;
        let ns = wait_healthy(port, t, &mut child).await?;
        ready.saturating_record(ns);
        if let Some(pid) = child.id() {
            rss.push(rss_kib(pid).unwrap_or(0));
        }
        progress!("run {}: /api/health answered after {:.1} ms", run + 1, ns as f64 / 1e6);
        stop(child).await?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(json!({
        "scenario": "startup",
        "label": label,
        "params": { "tasks": args.tasks, "runs": args.runs },
        "db_mib": round2(db_bytes as f64 / (1024.0 * 1024.0)),
        "spawn_to_health_ms": summary_ms(&ready),
        "rss_at_ready_kib": rss,
        "headline": ["spawn_to_health_ms.p50"],
        "targets": targets(target),
    }))
}
