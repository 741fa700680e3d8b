//! `warroom-bench`: the load generator behind `scripts/bench.sh` and `docs/performance.md`.
//!
//! One subcommand per scenario, each talking to a running server the way clients do (Socket.IO
//! v5 over WebSocket, REST) and ending with one JSON line on stdout; progress goes to stderr.
//! `report` turns a file of those lines into the Markdown table of medians and spreads.
//!
//! Layout: `sio` is the minimal Socket.IO client; `fanout` holds the `fanout` and `throughput`
//! scenarios (writers and receivers), `waiting` the `waiting` and `waiters` scenarios (agents
//! on `task:next { wait }`), `connections`, `rest`, `sync` and `startup` one scenario each;
//! `common` the clock, histograms and `/proc` readings; `report` the table.
//!
//! Run it on another core than the server (`taskset -c 1`): with one core it uses a
//! single-threaded runtime, which is the cheapest way to drive thousands of sockets.

mod common;
mod connections;
mod fanout;
mod report;
mod rest;
mod sio;
mod startup;
mod sync;
mod waiting;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::common::{Server, print_result};

#[derive(Debug, Parser)]
#[command(name = "warroom-bench", version, about = "Load generator for warroom")]
struct Cli {
    /// The server's base URL.
    #[arg(long, global = true, env = "WARROOM_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The team API key.
    #[arg(long, global = true, env = "WAAAH_API_KEY", default_value = "", hide_env_values = true)]
    key: String,
    /// The server's PID, to report its CPU use and resident memory from /proc. `fanout` and
    /// `throughput` take one per instance (repeat the flag) and report each one's CPU.
    #[arg(long, global = true)]
    pid: Vec<u32>,
    /// The name this run is reported under (runs with the same label are aggregated).
    #[arg(long, global = true)]
    label: Option<String>,
    /// A threshold to judge in `report`, e.g. `latency_ms.p99<10` (repeatable).
    #[arg(long = "target", global = true)]
    targets: Vec<String>,
    /// Runtime worker threads; default: the cores this process may run on.
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// N receivers; W writers issuing task:update on a fixed schedule at R updates/s in total.
    Fanout {
        #[command(flatten)]
        load: fanout::LoadArgs,
        /// Updates per second, all writers together.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
    },
    /// Writers each keeping a window of K updates awaiting acks; acked writes/s, deliveries/s.
    Throughput {
        #[command(flatten)]
        load: fanout::LoadArgs,
        /// Updates in flight per writer.
        #[arg(long, default_value_t = 64)]
        window: usize,
    },
    /// Open N idle sockets in batches, hold them, read the server's RSS per connection.
    Connections {
        #[command(flatten)]
        args: connections::ConnectionsArgs,
    },
    /// GET and POST /api/tasks at a fixed concurrency.
    Rest {
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds for each of GET and POST.
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        /// Tasks on the board while GET is measured (seeded through REST if fewer).
        #[arg(long, default_value_t = 100)]
        tasks: usize,
    },
    /// Time from the namespace connect to sync:full, on a board of N tasks.
    Sync {
        /// Tasks on each board.
        #[arg(long, default_value_t = 1000)]
        tasks: usize,
        /// Boards on the server (`main` and `bench-1`…), each seeded with `--tasks`; the
        /// sockets connect to `main`.
        #[arg(long, default_value_t = 1)]
        boards: usize,
        /// Sequential connections to time.
        #[arg(long, default_value_t = 100)]
        runs: usize,
    },
    /// A agents looping on task:next { wait: 60 }; time from a task becoming ready to its claim.
    Waiting {
        #[command(flatten)]
        args: waiting::WaitingArgs,
    },
    /// N sockets idle, then each waiting on task:next { wait: 60 }: the server's memory and threads.
    Waiters {
        #[command(flatten)]
        args: waiting::WaitersArgs,
    },
    /// Spawn the server on a database of N tasks; time until /api/health answers.
    Startup {
        #[command(flatten)]
        args: startup::StartupArgs,
    },
    /// Render result lines (files, or stdin with `-`) as the Markdown table.
    Report {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A side-by-side run's labels `ROW (A)` and `ROW (B)`: first the table of A / B per row.
        #[arg(long, num_args = 2, value_names = ["A", "B"])]
        ratio: Vec<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let threads = cli.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    common::now_ns();
    let label = |default: &str| cli.label.clone().unwrap_or_else(|| default.to_owned());
    let server = || Server::parse(&cli.url, &cli.key);
    let mut result = match &cli.command {
        Scenario::Fanout { load, rate } => {
            fanout::fanout(&server()?, load, *rate, &cli.pid, &label("fanout"), &cli.targets).await?
        }
        Scenario::Throughput { load, window } => {
            fanout::throughput(&server()?, load, *window, &cli.pid, &label("throughput"), &cli.targets)
                .await?
        }
        Scenario::Connections { args } => {
            connections::connections(
                &server()?,
                args,
                cli.pid.first().copied(),
                &label("connections"),
                &cli.targets,
            )
            .await?
        }
        Scenario::Rest { concurrency, duration, tasks } => {
            rest::rest(
                &server()?,
                *concurrency,
                *duration,
                *tasks,
                cli.pid.first().copied(),
                &label("rest"),
                &cli.targets,
            )
            .await?
        }
        Scenario::Sync { tasks, boards, runs } => {
            sync::sync(&server()?, *tasks, *boards, *runs, &label("sync"), &cli.targets).await?
        }
        Scenario::Waiting { args } => {
            waiting::waiting(&server()?, args, cli.pid.first().copied(), &label("waiting"), &cli.targets)
                .await?
        }
        Scenario::Waiters { args } => {
            waiting::waiters(&server()?, args, cli.pid.first().copied(), &label("waiters"), &cli.targets)
                .await?
        }
        Scenario::Startup { args } => startup::startup(args, &label("startup"), &cli.targets).await?,
        Scenario::Report { files, ratio } => {
            let mut text = String::new();
            for f in files {
                if f.as_os_str() == "-" {
                    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
                } else {
                    text.push_str(&std::fs::read_to_string(f)?);
                }
                text.push('\n');
            }
            let lines = report::read_lines(&text);
            if let [a, b] = ratio.as_slice() {
                println!("{}", report::ratios(&lines, a, b));
            }
            print!("{}", report::table(&lines)?);
            return Ok(());
        }
    };
    print_result(&mut result);
    Ok(())
}
