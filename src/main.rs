//! The `warroom` binary: parse the configuration, open the store, serve.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use warroom::config::{Cli, Command, InviteAction, ServeArgs, StoreArgs, TokenAction};
use warroom::{App, KeySource, admin};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve(args)) => serve(args).await,
        None => serve(cli.serve).await,
        Some(Command::Mcp(args)) => {
            init_logging(false);
            warroom::mcp::serve_stdio(args).await
        }
        Some(Command::Task(args)) => warroom::client::cli::run(args).await,
        Some(Command::Export(args)) => warroom::client::cli::export(args).await,
        Some(Command::Import(args)) => warroom::client::cli::import(args).await,
        Some(Command::Webhook(args)) => warroom::client::cli::webhook(args).await,
        Some(Command::Key { store }) => {
            match admin::stored_key(&store).await? {
                Some(key) => println!("{key}"),
                None => anyhow::bail!("no key is stored in this database"),
            }
            Ok(())
        }
        Some(Command::Token { action, store }) => token(action, &store).await,
        Some(Command::Invite {
            action: InviteAction::Create { role, boards, expires_in_hours, url },
            store,
        }) => {
            let (code, invite) = admin::create_invite(&store, role, &boards, expires_in_hours).await?;
            let scope = invite.boards.map_or_else(|| "every board".to_owned(), |b| b.join(", "));
            println!(
                "invite for a new {} on {scope}, until {}, shown only now:",
                invite.role.as_str(),
                invite.expires_at
            );
            println!("  {}", warroom::domain::invites::url(&url, &code));
            Ok(())
        }
        Some(Command::Backup { path, store }) => {
            admin::backup(&store, &path).await?;
            println!("backed up {} to {}", store.database_path.display(), path.display());
            Ok(())
        }
        Some(Command::Restore { path, store }) => {
            admin::restore(&store, &path)?;
            println!("restored {} from {}", store.database_path.display(), path.display());
            Ok(())
        }
    }
}

async fn token(action: TokenAction, db: &StoreArgs) -> anyhow::Result<()> {
    match action {
        TokenAction::Create { name, role, boards } => {
            let (token, stored) = admin::create_token(db, &name, role, &boards).await?;
            println!("token {} for {} ({}), shown only now:", stored.id, stored.name, stored.role.as_str());
            println!("  {token}");
        }
        TokenAction::List => {
            for t in admin::list_tokens(db).await? {
                let state = t.revoked_at.map(|at| format!("revoked {at}")).unwrap_or_else(|| "active".into());
                let boards = t.boards.map_or_else(|| "every board".to_owned(), |b| b.join(","));
                println!(
                    "{}  {:<24} {:<7} {boards:<20} created {}  {state}",
                    t.id,
                    t.name,
                    t.role.as_str(),
                    t.created_at
                );
            }
        }
        TokenAction::Revoke { id } => {
            let t = admin::revoke_token(db, &id).await?;
            println!(
                "revoked token {} of {}; a running server disconnects its sockets within a second",
                t.id, t.name
            );
        }
    }
    Ok(())
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
    let store = match &args.database_url {
        Some(url) if !url.is_empty() => "PostgreSQL".to_owned(),
        _ => args.database_path.display().to_string(),
    };
    tracing::info!(%local, %store, "listening");
    warroom::serve(listener, app, shutdown_signal()).await
}

fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,socketioxide=warn,engineioxide=warn,rmcp=warn"));
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
