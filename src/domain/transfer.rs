//! A board as a file: the `warroom-board` JSON export (everything on a board, which import
//! reads back) and the tasks as RFC 4180 CSV for spreadsheets.

use serde::{Deserialize, Serialize};

use super::activity::Activity;
use super::boards::BoardInfo;
use super::cards::{Comment, Label};
use super::task::Task;
use crate::error::AppResult;

pub const EXPORT_FORMAT: &str = "warroom-board";
pub const EXPORT_VERSION: i64 = 1;

/// Everything on one board, as of one moment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BoardContents {
    pub tasks: Vec<Task>,
    pub labels: Vec<Label>,
    /// Oldest first.
    pub comments: Vec<Comment>,
    /// Oldest first.
    pub activity: Vec<Activity>,
}

/// `GET /api/boards/:board/export`: `{ format, version, board, labels, tasks, comments, activity }`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Export {
    pub format: String,
    pub version: i64,
    pub board: BoardInfo,
    pub labels: Vec<Label>,
    pub tasks: Vec<Task>,
    pub comments: Vec<Comment>,
    pub activity: Vec<Activity>,
}

impl Export {
    pub fn new(board: BoardInfo, contents: BoardContents) -> Export {
        Export {
            format: EXPORT_FORMAT.to_owned(),
            version: EXPORT_VERSION,
            board,
            labels: contents.labels,
            tasks: contents.tasks,
            comments: contents.comments,
            activity: contents.activity,
        }
    }
}

pub const CSV_HEADER: [&str; 11] = [
    "id",
    "title",
    "description",
    "status",
    "assignee",
    "labels",
    "dueAt",
    "position",
    "createdBy",
    "createdAt",
    "updatedAt",
];

/// The tasks as CSV with a header row; labels by name, `;`-separated.
pub fn tasks_csv(tasks: &[Task], labels: &[Label]) -> AppResult<String> {
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let failed = |e: csv::Error| anyhow::Error::new(e).context("writing CSV");
    out.write_record(CSV_HEADER).map_err(failed)?;
    for task in tasks {
        let names: Vec<&str> = task
            .labels
            .iter()
            .filter_map(|id| labels.iter().find(|l| l.id == *id).map(|l| l.name.as_str()))
            .collect();
        out.write_record([
            task.id.to_string().as_str(),
            &task.title,
            &task.description,
            task.status.as_str(),
            task.assignee.as_deref().unwrap_or_default(),
            &names.join(";"),
            task.due_at.as_deref().unwrap_or_default(),
            task.position.to_string().as_str(),
            &task.created_by,
            &task.created_at,
            &task.updated_at,
        ])
        .map_err(failed)?;
    }
    let bytes = out.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {e}"))?;
    Ok(String::from_utf8(bytes).map_err(|e| anyhow::Error::new(e).context("writing CSV"))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::task::Status;

    #[test]
    fn tasks_become_rfc_4180_rows_with_label_names() {
        let task = Task {
            id: 7,
            board: "main".into(),
            title: "Say \"hi\", then go".into(),
            description: "two\nlines".into(),
            status: Status::Review,
            assignee: Some("Adam".into()),
            position: 2,
            created_by: "Nick".into(),
            created_at: "2026-01-01T00:00:00.000Z".into(),
            updated_at: "2026-01-02T00:00:00.000Z".into(),
            version: 3,
            claimed_by: None,
            lease_expires_at: None,
            progress: None,
            blocked_by: Vec::new(),
            labels: vec![2, 1],
            due_at: None,
            comment_count: 0,
        };
        let labels = [
            Label { id: 1, board: "main".into(), name: "bug".into(), color: "#ff0000".into() },
            Label { id: 2, board: "main".into(), name: "ui".into(), color: "#00ff00".into() },
        ];
        let csv = tasks_csv(&[task], &labels).unwrap();
        assert_eq!(
            csv,
            "id,title,description,status,assignee,labels,dueAt,position,createdBy,createdAt,updatedAt\r\n\
             7,\"Say \"\"hi\"\", then go\",\"two\nlines\",REVIEW,Adam,ui;bug,,2,Nick,2026-01-01T00:00:00.000Z,2026-01-02T00:00:00.000Z\r\n"
        );
    }
}
