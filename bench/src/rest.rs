//! The `rest` scenario (`GET /api/tasks` and `POST /api/tasks` at a fixed concurrency), and
//! the REST calls the other scenarios set up with: seeding tasks, reading `/api/health`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::common::{CpuWindow, Server, histogram, now_ns, round2, summary_ms, targets};
use crate::progress;

pub fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")
}

/// `connections` of `/api/health`: authenticated sockets open now.
pub async fn health_connections(http: &reqwest::Client, server: &Server) -> anyhow::Result<u64> {
    let health: Value =
        http.get(format!("{}/api/health", server.base)).send().await?.error_for_status()?.json().await?;
    Ok(health["connections"].as_u64().unwrap_or(0))
}

/// The tasks on `board`.
pub async fn task_count(http: &reqwest::Client, server: &Server, board: &str) -> anyhow::Result<usize> {
    Ok(tasks(http, server, board).await?.len())
}

/// Every task of a board, as the REST API lists them.
pub async fn tasks(http: &reqwest::Client, server: &Server, board: &str) -> anyhow::Result<Vec<Value>> {
    Ok(http
        .get(format!("{}/api/boards/{board}/tasks", server.base))
        .bearer_auth(&server.key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

async fn create_task(http: &reqwest::Client, server: &Server, board: &str, n: usize) -> anyhow::Result<()> {
    // Spread over the columns, as a real board is.
    const STATUSES: [&str; 5] = ["TODO", "IN_PROGRESS", "BLOCKED", "REVIEW", "DONE"];
    let response = http
        .post(format!("{}/api/boards/{board}/tasks", server.base))
        .bearer_auth(&server.key)
        .json(&json!({
            "title": format!("Seeded task {n}"),
            "description": "Seeded by warroom-bench to give the board a realistic size.",
            "status": STATUSES[n % STATUSES.len()],
        }))
        .send()
        .await?;
    if response.status() != reqwest::StatusCode::CREATED {
        bail!(
            "POST /api/tasks answered {}: {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

/// Creates tasks through the REST API until `board` holds at least `total`.
pub async fn seed_tasks(
    server: &Server,
    board: &str,
    total: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let http = client()?;
    let have = task_count(&http, server, board).await?;
    if have >= total {
        return Ok(());
    }
    let missing = total - have;
    progress!("seeding {missing} tasks on board {board} through POST /api/boards/{board}/tasks");
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (http, server, next, board) = (http.clone(), server.clone(), next.clone(), board.to_owned());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= missing {
                        return Ok::<(), anyhow::Error>(());
                    }
                    create_task(&http, &server, &board, have + n).await?;
                    if (n + 1) % 20_000 == 0 {
                        progress!("{} of {missing} seeded", n + 1);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await??;
    }
    Ok(())
}

/// The board that always exists, where every scenario works unless told otherwise.
pub const MAIN: &str = "main";

/// `main` and `n - 1` more boards (`bench-1`…), created through `POST /api/boards` unless they
/// exist already: the boards a multi-board scenario spreads its sockets over, `main` first.
pub async fn ensure_boards(server: &Server, n: usize) -> anyhow::Result<Vec<String>> {
    let http = client()?;
    let mut boards = vec![MAIN.to_owned()];
    for i in 1..n {
        let id = format!("bench-{i}");
        let response = http
            .post(format!("{}/api/boards", server.base))
            .bearer_auth(&server.key)
            .json(&json!({ "id": id, "name": format!("Bench board {i}") }))
            .send()
            .await?;
        let status = response.status();
        if status != reqwest::StatusCode::CREATED && status != reqwest::StatusCode::CONFLICT {
            bail!("POST /api/boards answered {status}: {}", response.text().await.unwrap_or_default());
        }
        boards.push(id);
    }
    Ok(boards)
}

/// Seeds every board of `boards` to `tasks` tasks, a few boards at a time.
pub async fn seed_boards(server: &Server, boards: &[String], tasks: usize) -> anyhow::Result<()> {
    if tasks == 0 {
        return Ok(());
    }
    for chunk in boards.chunks(4) {
        let seeds: Vec<_> = chunk.iter().map(|b| seed_tasks(server, b, tasks, 4)).collect();
        for s in futures_util::future::join_all(seeds).await {
            s?;
        }
    }
    Ok(())
}

/// One endpoint hammered by `concurrency` loops for `duration` seconds.
async fn hammer(
    http: &reqwest::Client,
    server: &Server,
    post: bool,
    concurrency: usize,
    duration: f64,
    pid: Option<u32>,
) -> Value {
    let latency = Arc::new(Mutex::new(histogram()));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let end = now_ns() + (duration * 1e9) as u64;
    let cpu = CpuWindow::start(pid.as_slice());
    let started = now_ns();
    let loops: Vec<_> = (0..concurrency.max(1))
        .map(|i| {
            let (http, server) = (http.clone(), server.clone());
            let (latency, errors, first_error) = (latency.clone(), errors.clone(), first_error.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while now_ns() < end {
                    let t = now_ns();
                    let request = if post {
                        http.post(format!("{}/api/tasks", server.base))
                            .json(&json!({ "title": format!("REST bench {i}-{n}"), "description": "" }))
                    } else {
                        http.get(format!("{}/api/tasks", server.base))
                    };
                    let outcome = match request.bearer_auth(&server.key).send().await {
                        Ok(r) if r.status().is_success() => {
                            r.bytes().await.map(|_| ()).map_err(|e| e.to_string())
                        }
                        Ok(r) => Err(format!("status {}", r.status())),
                        Err(e) => Err(e.to_string()),
                    };
                    match outcome {
                        Ok(()) => latency.lock().unwrap().saturating_record(now_ns() - t),
                        Err(e) => {
                            errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            first_error.lock().unwrap().get_or_insert(e);
                        }
                    }
                    n += 1;
                }
            })
        })
        .collect();
    for l in loops {
        let _ = l.await;
    }
    let elapsed = (now_ns() - started) as f64 / 1e9;
    let cpu = cpu.finish();
    let latency = latency.lock().unwrap();
    json!({
        "requests_per_s": round2(latency.len() as f64 / elapsed),
        "latency_ms": summary_ms(&latency),
        "errors": errors.load(std::sync::atomic::Ordering::Relaxed),
        "first_error": *first_error.lock().unwrap(),
        "cpu_cores": cpu,
    })
}

pub async fn rest(
    server: &Server,
    concurrency: usize,
    duration: f64,
    tasks: usize,
    pid: Option<u32>,
    label: &str,
    target: &[String],
) -> anyhow::Result<Value> {
    seed_tasks(server, MAIN, tasks, 16).await?;
    let http = client()?;
    let board = task_count(&http, server, MAIN).await?;
    progress!("GET /api/tasks ({board} tasks) x {concurrency} for {duration} s");
    let get = hammer(&http, server, false, concurrency, duration, pid).await;
    progress!("POST /api/tasks x {concurrency} for {duration} s");
    let post = hammer(&http, server, true, concurrency, duration, pid).await;
    Ok(json!({
        "scenario": "rest",
        "label": label,
        "params": { "concurrency": concurrency, "duration": duration, "tasks": board },
        "get": get,
        "post": post,
        "headline": ["get.requests_per_s", "get.latency_ms.p99", "post.requests_per_s", "post.latency_ms.p99"],
        "targets": targets(target),
    }))
}
