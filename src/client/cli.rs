//! `warroom task …`: the board from a shell, for scripts and shell-based agents.
//!
//! Human output by default (one line per task); `--json` prints exactly one JSON value on
//! stdout (a task, an array of tasks, or `null` when `claim-next` finds nothing) and, on
//! failure, `{ "error": { code, message } }` on stderr. Failures exit with status 1.
//!
//! Besides SPEC's five commands, `progress` lets a shell agent keep its lease on a long job.

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;

use super::{BoardClient, ClientError, Remote};
use crate::domain::storage::TaskFilter;
use crate::domain::task::{CreateTask, NewTask, NextTask, Status, Task, TaskPatch, UpdateTask};
use crate::domain::webhooks::{CreateWebhook, Format};

#[derive(Debug, Clone, Args)]
pub struct TaskArgs {
    #[command(flatten)]
    pub remote: Remote,
    /// Print JSON for machines instead of text for people.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: TaskCommand,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub remote: Remote,
    /// `json` (everything on the board, which import reads back) or `csv` (its tasks).
    #[arg(long, default_value = "json", value_parser = ["json", "csv"])]
    pub format: String,
}

/// `warroom export --board ID [--format csv]`: the board, as the server exports it, on stdout.
pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let client = args.remote.client()?;
    match client.export(&args.format).await {
        Ok(body) => {
            print!("{body}");
            Ok(())
        }
        Err(err) => {
            eprintln!("warroom: {err}");
            std::process::exit(1);
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub remote: Remote,
    /// The file: a warroom export (JSON), a Trello board export (JSON), or CSV with a header row.
    pub file: std::path::PathBuf,
}

/// `warroom import FILE --board ID`: what was imported and what was skipped, as JSON.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let client = args.remote.client()?;
    let file = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    match client.import(file).await {
        Ok(result) => {
            println!("{}", serde_json::to_string_pretty(&result)?);
            Ok(())
        }
        Err(err) => {
            eprintln!("warroom: {err}");
            std::process::exit(1);
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    #[command(flatten)]
    pub remote: Remote,
    #[command(subcommand)]
    pub command: WebhookCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum WebhookCommand {
    /// Add a webhook to the board (admins); its secret is printed once.
    Add {
        /// Where deliveries are posted (http:// or https://).
        #[arg(value_name = "URL")]
        target: String,
        /// Which activity types it gets (patterns such as `task.*`; repeat it); default every one.
        #[arg(long = "event")]
        events: Vec<String>,
        /// `json` (signed deliveries) or `slack` (`{ text }` for Slack, Mattermost, Discord).
        #[arg(long, default_value = "json", value_parser = ["json", "slack"])]
        format: String,
        /// The signing secret; generated when not given.
        #[arg(long)]
        secret: Option<String>,
    },
    /// List the board's webhooks.
    List,
    /// Remove a webhook and its deliveries.
    Remove { id: i64 },
}

/// `warroom webhook add|list|remove`, against a running server.
pub async fn webhook(args: WebhookArgs) -> anyhow::Result<()> {
    let client = args.remote.client()?;
    let outcome = match args.command {
        WebhookCommand::Add { target, events, format, secret } => {
            let hook = CreateWebhook {
                url: target,
                events: (!events.is_empty()).then_some(events),
                secret,
                // clap lets only `json` or `slack` through.
                format: Some(Format::parse(&format)?),
            };
            client.add_webhook(&hook).await.map(|hook| {
                println!(
                    "webhook {} on {}: {} ({})",
                    hook["id"],
                    hook["board"].as_str().unwrap_or(""),
                    hook["url"].as_str().unwrap_or(""),
                    hook["format"].as_str().unwrap_or("")
                );
                println!("secret, shown only now: {}", hook["secret"].as_str().unwrap_or(""));
            })
        }
        WebhookCommand::List => client.webhooks().await.map(|hooks| {
            for hook in hooks {
                let events: Vec<&str> =
                    hook["events"].as_array().into_iter().flatten().filter_map(|e| e.as_str()).collect();
                let state = if hook["active"] == json!(true) { "active" } else { "disabled" };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    hook["id"],
                    hook["url"].as_str().unwrap_or(""),
                    events.join(","),
                    hook["format"].as_str().unwrap_or(""),
                    state
                );
            }
        }),
        WebhookCommand::Remove { id } => {
            client.remove_webhook(id).await.map(|()| println!("removed webhook {id}"))
        }
    };
    if let Err(err) = outcome {
        eprintln!("warroom: {err}");
        std::process::exit(1);
    }
    Ok(())
}

#[derive(Debug, Clone, Subcommand)]
pub enum TaskCommand {
    /// List tasks in board order.
    List {
        /// Only this column (TODO, IN_PROGRESS, BLOCKED, REVIEW, DONE; `in-progress` works too).
        #[arg(long)]
        status: Option<String>,
        /// Only tasks assigned to this person or agent.
        #[arg(long)]
        assignee: Option<String>,
        /// Only tasks whose title or description contains this text.
        #[arg(long, short)]
        q: Option<String>,
    },
    /// Create a task.
    Add {
        title: String,
        #[arg(long, short)]
        description: Option<String>,
        /// The column (default TODO).
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        assignee: Option<String>,
    },
    /// Move a task to another column (to the end of it unless --position is given).
    Move {
        id: i64,
        /// TODO, IN_PROGRESS, BLOCKED, REVIEW or DONE.
        status: String,
        /// 0-based place in the column, top first.
        #[arg(long)]
        position: Option<i64>,
    },
    /// Claim the top unassigned TODO task for an agent (prints nothing to do when there is none).
    ClaimNext {
        /// The agent; default: the host name.
        #[arg(long, env = "WARROOM_AGENT_ID")]
        agent_id: Option<String>,
        /// When nothing is ready, wait up to this many seconds (0–60) for a task.
        #[arg(long, value_name = "SECONDS")]
        wait: Option<f64>,
    },
    /// Record a progress note; on a task the agent holds it also renews the agent's leases.
    Progress {
        id: i64,
        message: String,
        /// How far along, 0–100.
        #[arg(long, short)]
        percent: Option<f64>,
        /// The agent reporting; default: the host name.
        #[arg(long, env = "WARROOM_AGENT_ID")]
        agent_id: Option<String>,
    },
    /// Move a task to DONE, with an optional closing note.
    Done {
        id: i64,
        /// Recorded as the task's last progress note.
        #[arg(long, short)]
        summary: Option<String>,
        /// The agent finishing it (reported idle if this was its task); default: the host name.
        #[arg(long, env = "WARROOM_AGENT_ID")]
        agent_id: Option<String>,
    },
}

/// Runs one command. A refusal by the server is printed (JSON with `--json`) and exits 1.
pub async fn run(args: TaskArgs) -> anyhow::Result<()> {
    let board = args.remote.client()?;
    let output = match execute(&board, args.command).await? {
        Ok(output) => output,
        Err(err) => {
            if args.json {
                eprintln!("{}", err.to_json());
            } else {
                eprintln!("warroom: {err}");
            }
            std::process::exit(1);
        }
    };
    if args.json {
        println!("{}", output.json);
    } else {
        println!("{}", output.text);
    }
    Ok(())
}

/// What a command prints, both ways.
pub struct Output {
    pub text: String,
    /// Pretty JSON, serialized from the typed value so fields keep the API's order.
    pub json: String,
}

/// The outer error is a usage problem (a bad status or agent id, before anything is sent); the
/// inner one is the board's answer.
pub async fn execute(
    board: &dyn BoardClient,
    command: TaskCommand,
) -> anyhow::Result<Result<Output, ClientError>> {
    Ok(match command {
        TaskCommand::List { status, assignee, q } => {
            let filter = TaskFilter {
                status: status.as_deref().map(status_arg).transpose()?,
                assignee,
                q,
                ..TaskFilter::default()
            };
            board.tasks(filter).await.map(|tasks| Output {
                text: if tasks.is_empty() {
                    "No tasks.".to_owned()
                } else {
                    tasks.iter().map(line).collect::<Vec<_>>().join("\n")
                },
                json: pretty(&tasks),
            })
        }
        TaskCommand::Add { title, description, status, assignee } => {
            let task = NewTask {
                description: description.unwrap_or_default(),
                status: status.as_deref().map(status_arg).transpose()?.unwrap_or(Status::Todo),
                assignee,
                ..NewTask::titled(title)
            };
            let input = CreateTask { op_id: None, task };
            board.create_task(input).await.map(|task| said(format!("Created {}", line(&task)), &task))
        }
        TaskCommand::Move { id, status, position } => {
            let patch = TaskPatch { status: Some(status_arg(&status)?), position, ..TaskPatch::default() };
            let input = UpdateTask { patch, ..UpdateTask::default() };
            board.update_task(id, input).await.map(|task| said(format!("Moved {}", line(&task)), &task))
        }
        TaskCommand::ClaimNext { agent_id, wait } => {
            let agent_id = super::agent_id(agent_id.as_deref())?;
            board.next_task(NextTask { op_id: None, agent_id, wait }).await.map(|task| match task {
                Some(task) => {
                    let until = task.lease_expires_at.as_deref().unwrap_or("-");
                    said(format!("Claimed {} (lease until {until})", line(&task)), &task)
                }
                None => {
                    Output { text: "Nothing to do: no unassigned TODO task.".to_owned(), json: pretty(&()) }
                }
            })
        }
        TaskCommand::Progress { id, message, percent, agent_id } => {
            let agent_id = super::agent_id(agent_id.as_deref())?;
            super::report_progress(board, &agent_id, id, &message, percent)
                .await
                .map(|task| said(format!("Noted {}", line(&task)), &task))
        }
        TaskCommand::Done { id, summary, agent_id } => {
            let agent_id = super::agent_id(agent_id.as_deref())?;
            super::complete_task(board, &agent_id, id, summary.as_deref())
                .await
                .map(|task| said(format!("Done {}", line(&task)), &task))
        }
    })
}

fn said(text: String, task: &Task) -> Output {
    Output { text, json: pretty(task) }
}

fn pretty<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned())
}

/// `in-progress`, `in_progress` and `IN_PROGRESS` all name the column; anything else is
/// refused with the server's own message.
fn status_arg(s: &str) -> anyhow::Result<Status> {
    s.trim().to_ascii_uppercase().replace('-', "_").parse().map_err(|e| anyhow::anyhow!("{e}"))
}

/// `#12  IN_PROGRESS  bot-1  Write the docs  [60% drafting]`
fn line(task: &Task) -> String {
    let mut line = format!(
        "#{:<4} {:<11}  {:<12} {}",
        task.id,
        task.status.as_str(),
        task.assignee.as_deref().unwrap_or("-"),
        task.title
    );
    if let Some(progress) = &task.progress {
        match progress.percent {
            Some(p) => line.push_str(&format!("  [{p}% {}]", progress.message)),
            None => line.push_str(&format!("  [{}]", progress.message)),
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_may_be_written_the_shell_way() {
        assert_eq!(status_arg("in-progress").unwrap(), Status::InProgress);
        assert_eq!(status_arg("done").unwrap(), Status::Done);
        assert!(status_arg("finished").unwrap_err().to_string().contains("TODO, IN_PROGRESS"));
    }
}
