//! The `warroom` binary: parse the configuration, open the store, serve.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use warroom::config::{Cli, Command, ServeArgs};
use warroom::{App, KeySource};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve(args)) => serve(args).await,
        None => serve(cli.serve).await,
        Some(Command::Key { database_path }) => {
            match App::stored_key(&database_path).await? {
                Some(key) => println!("{key}"),
                None => anyhow::bail!("no key is stored in {}", database_path.display()),
            }
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_json);
    let (app, key) = App::open(&args).await?;
    let addr = SocketAddr::new(args.host, args.port);
    let listener = TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    let shown_host = if args.host.is_unspecified() { "localhost".to_owned() } else { args.host.to_string() };
    let url = format!("http://{shown_host}:{}", local.port());
    match key {
        // Printed once, to the terminal only: never through the logs.
        KeySource::Generated(key) => {
            println!("warroom: generated the team API key (shown only now; `warroom key` prints it again):");
            println!("  {key}");
            println!("warroom: open the dashboard at {url}/?key={key}");
        }
        KeySource::Stored | KeySource::Configured => println!("warroom: dashboard at {url}"),
    }
    tracing::info!(%local, db = %args.database_path.display(), "listening");
    warroom::serve(listener, app, shutdown_signal()).await
}

fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,socketioxide=warn,engineioxide=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
