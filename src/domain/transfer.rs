//! A board as a file: the `warroom-board` JSON export (everything on a board, which import
//! reads back) and the tasks as RFC 4180 CSV for spreadsheets.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use serde_json::Value;

use super::activity::Activity;
use super::boards::BoardInfo;
use super::cards::{Comment, Label, comment_body, due_at, same_label_name};
use super::input;
use super::task::{DESCRIPTION_MAX, Status, TITLE_MAX, Task};
use crate::error::{AppError, AppResult};

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

// ---- import ----

/// A task to import, validated; its labels by name.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportTask {
    pub title: String,
    pub description: String,
    pub status: Status,
    pub assignee: Option<String>,
    pub labels: Vec<String>,
    pub due_at: Option<String>,
    pub comments: Vec<ImportComment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportComment {
    pub author: String,
    pub body: String,
    /// RFC3339 UTC; the import's time when the source has none.
    pub created_at: Option<String>,
}

/// A label to have on the board (one of the same name, case aside, is reused).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportLabel {
    pub name: String,
    pub color: String,
}

/// Something of the file that is not imported, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub item: String,
    pub reason: String,
}

/// What an import will write: all of it, or (if any write fails) none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportPlan {
    /// `warroom-board`, `trello` or `csv`.
    pub source: &'static str,
    pub labels: Vec<ImportLabel>,
    pub tasks: Vec<ImportTask>,
    pub skipped: Vec<Skipped>,
}

/// What an import writes, or would: `{ imported: { tasks, labels, comments }, skipped }`.
#[derive(Debug, Serialize)]
pub struct ImportOutcome<'a> {
    pub imported: ImportCounts,
    pub skipped: &'a [Skipped],
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ImportCounts {
    pub tasks: usize,
    /// Only the labels created: one the board has by that name already is reused.
    pub labels: usize,
    pub comments: usize,
}

/// The colour of a label whose source gives none.
pub const DEFAULT_LABEL_COLOR: &str = "#8590a2";

impl ImportPlan {
    /// The plan's labels that the board (with `existing`) lacks, which the import creates.
    pub fn new_labels<'a>(&'a self, existing: &'a [Label]) -> impl Iterator<Item = &'a ImportLabel> + 'a {
        self.labels.iter().filter(|wanted| !existing.iter().any(|l| same_label_name(&l.name, &wanted.name)))
    }

    /// The answer of importing this plan into a board with `existing` labels: an import is
    /// all or nothing, so it is known before writing (which is what a dry run shows).
    pub fn outcome<'a>(&'a self, existing: &[Label]) -> ImportOutcome<'a> {
        ImportOutcome {
            imported: ImportCounts {
                tasks: self.tasks.len(),
                labels: self.new_labels(existing).count(),
                comments: self.tasks.iter().map(|t| t.comments.len()).sum(),
            },
            skipped: &self.skipped,
        }
    }

    fn skip(&mut self, item: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped { item: item.into(), reason: reason.into() });
    }

    fn label(&mut self, name: &str, color: &str) {
        if !self.labels.iter().any(|l| same_label_name(&l.name, name)) {
            self.labels.push(ImportLabel { name: name.to_owned(), color: color.to_owned() });
        }
    }

    /// Adds a task and its labels if its fields are valid, else records why not (and a label
    /// only a skipped task had is not made).
    fn task(&mut self, item: String, fields: TaskFields) {
        let labels = fields.labels.clone();
        match fields.validate() {
            Ok(task) => {
                for label in &labels {
                    self.label(&label.name, &label.color);
                }
                self.tasks.push(task);
            }
            Err(e) => self.skip(item, e.to_string()),
        }
    }
}

/// A task's fields as a source gives them, before validation.
struct TaskFields {
    title: String,
    description: String,
    status: Status,
    assignee: Option<String>,
    labels: Vec<ImportLabel>,
    due_at: Option<String>,
    comments: Vec<ImportComment>,
}

impl TaskFields {
    fn validate(self) -> AppResult<ImportTask> {
        let title = input::text(Value::String(self.title), "title", 1, TITLE_MAX)?;
        let description = input::text(Value::String(self.description), "description", 0, DESCRIPTION_MAX)?;
        let assignee = self
            .assignee
            .filter(|a| !a.trim().is_empty())
            .map(|a| input::name(Value::String(a), "assignee"))
            .transpose()?;
        let due_at = self
            .due_at
            .filter(|d| !d.trim().is_empty())
            .map(|d| due_at(Value::String(d)))
            .transpose()?
            .flatten();
        let comments = self
            .comments
            .into_iter()
            .filter_map(|c| {
                let body = comment_body(Value::String(c.body)).ok()?;
                Some(ImportComment { author: c.author, body, created_at: c.created_at })
            })
            .collect();
        Ok(ImportTask {
            title,
            description,
            status: self.status,
            assignee,
            labels: self.labels.into_iter().map(|l| l.name).collect(),
            due_at,
            comments,
        })
    }
}

/// Reads an import: a warroom export or a Trello board export (JSON), or CSV with a header row.
pub fn parse_import(body: &[u8]) -> AppResult<ImportPlan> {
    let text = std::str::from_utf8(body).map_err(|_| AppError::validation("the file is not UTF-8 text"))?;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        let json: Value = serde_json::from_str(trimmed)
            .map_err(|e| AppError::validation(format!("the file is not valid JSON: {e}")))?;
        if json["format"] == EXPORT_FORMAT {
            return from_warroom(json);
        }
        if json["cards"].is_array() && json["lists"].is_array() {
            return Ok(from_trello(&json));
        }
        return Err(AppError::validation(
            "this JSON is neither a warroom export (format: warroom-board) nor a Trello board export",
        ));
    }
    from_csv(trimmed)
}

fn from_warroom(json: Value) -> AppResult<ImportPlan> {
    let export: Export = serde_json::from_value(json)
        .map_err(|e| AppError::validation(format!("this warroom export cannot be read: {e}")))?;
    if export.version != EXPORT_VERSION {
        return Err(AppError::validation(format!(
            "warroom export version {} is not one this server reads",
            export.version
        )));
    }
    let mut plan = ImportPlan { source: "warroom-board", ..ImportPlan::default() };
    for label in &export.labels {
        plan.label(&label.name, &label.color);
    }
    for task in export.tasks {
        let labels = task
            .labels
            .iter()
            .filter_map(|id| export.labels.iter().find(|l| l.id == *id))
            .map(|l| ImportLabel { name: l.name.clone(), color: l.color.clone() })
            .collect();
        let comments = export
            .comments
            .iter()
            .filter(|c| c.task_id == task.id)
            .map(|c| ImportComment {
                author: c.author.clone(),
                body: c.body.clone(),
                created_at: Some(c.created_at.clone()),
            })
            .collect();
        let item = format!("task #{} “{}”", task.id, task.title);
        let fields = TaskFields {
            title: task.title,
            description: task.description,
            status: task.status,
            assignee: task.assignee,
            labels,
            due_at: task.due_at,
            comments,
        };
        plan.task(item, fields);
    }
    Ok(plan)
}

/// SPEC's mapping of a Trello list to a column; `None`: another name (TODO, with a label named
/// after the list).
fn status_of_list(name: &str) -> Option<Status> {
    match name.trim().to_lowercase().as_str() {
        "to do" | "todo" | "backlog" => Some(Status::Todo),
        "doing" | "in progress" => Some(Status::InProgress),
        "blocked" => Some(Status::Blocked),
        "review" | "qa" => Some(Status::Review),
        "done" => Some(Status::Done),
        _ => None,
    }
}

/// A CSV row's status: SPEC's names in any case (`in progress` too), or what people call the
/// columns in a spreadsheet, as Trello's lists are read ("To Do", "Doing", "QA").
fn csv_status(text: &str) -> AppResult<Status> {
    text.parse::<Status>()
        .or_else(|e| status_of_list(text).ok_or(e))
        .or_else(|e| text.to_ascii_uppercase().replace([' ', '-'], "_").parse::<Status>().map_err(|_| e))
}

/// Trello's named label colours, as Trello shows them.
fn trello_color(name: Option<&str>) -> &'static str {
    match name.unwrap_or_default() {
        "green" => "#61bd4f",
        "yellow" => "#f2d600",
        "orange" => "#ff9f1a",
        "red" => "#eb5a46",
        "purple" => "#c377e0",
        "blue" => "#0079bf",
        "sky" => "#00c2e0",
        "lime" => "#51e898",
        "pink" => "#ff78cb",
        "black" => "#344563",
        _ => DEFAULT_LABEL_COLOR,
    }
}

fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn from_trello(json: &Value) -> ImportPlan {
    let mut plan = ImportPlan { source: "trello", ..ImportPlan::default() };
    let empty = Vec::new();
    let array = |key: &str| json.get(key).and_then(Value::as_array).unwrap_or(&empty);
    let pos = |v: &Value| v.get("pos").and_then(Value::as_f64).unwrap_or(0.0);
    // Open lists, in board order.
    let mut lists: Vec<&Value> = array("lists").iter().filter(|l| l["closed"] != true).collect();
    lists.sort_by(|a, b| pos(a).total_cmp(&pos(b)));
    // Members, lists, checklists and comments are looked up by id once: a file of 16,000 cards
    // and 24,000 comments scanned them per card for minutes.
    let members: HashMap<&str, &str> =
        array("members").iter().filter_map(|m| Some((str_of(m, "id")?, str_of(m, "fullName")?))).collect();
    let member_name = |id: &str| members.get(id).map(|name| (*name).to_owned());
    let list_index: HashMap<&str, usize> =
        lists.iter().enumerate().filter_map(|(i, l)| Some((str_of(l, "id")?, i))).collect();
    let list_order = |card: &Value| str_of(card, "idList").and_then(|id| list_index.get(id).copied());
    let mut checklists_of: HashMap<&str, Vec<&Value>> = HashMap::new();
    for checklist in array("checklists") {
        if let Some(card) = str_of(checklist, "idCard") {
            checklists_of.entry(card).or_default().push(checklist);
        }
    }
    let mut comments_of: HashMap<&str, Vec<&Value>> = HashMap::new();
    for action in array("actions").iter().filter(|a| str_of(a, "type") == Some("commentCard")) {
        if let Some(card) = action["data"]["card"]["id"].as_str() {
            comments_of.entry(card).or_default().push(action);
        }
    }
    let mut cards: Vec<&Value> = array("cards").iter().collect();
    cards.sort_by(|a, b| pos(a).total_cmp(&pos(b)));
    cards.sort_by_key(|c| list_order(c).unwrap_or(usize::MAX));
    for card in cards {
        let name = str_of(card, "name").unwrap_or_default();
        let item = format!("card “{name}”");
        if card["closed"] == true {
            plan.skip(item, "archived");
            continue;
        }
        let Some(list) = list_order(card).map(|i| lists[i]) else {
            plan.skip(item, "its list is archived or not in the file");
            continue;
        };
        let list_name = str_of(list, "name").unwrap_or("List");
        let mut labels = Vec::new();
        let status = match status_of_list(list_name) {
            Some(status) => status,
            None => {
                labels
                    .push(ImportLabel { name: list_name.to_owned(), color: DEFAULT_LABEL_COLOR.to_owned() });
                Status::Todo
            }
        };
        for label in card.get("labels").and_then(Value::as_array).unwrap_or(&empty) {
            let color = str_of(label, "color");
            // An unnamed label is named by its colour.
            let Some(named) = str_of(label, "name").filter(|n| !n.trim().is_empty()).or(color) else {
                continue;
            };
            if !labels.iter().any(|l: &ImportLabel| same_label_name(&l.name, named)) {
                labels.push(ImportLabel { name: named.to_owned(), color: trello_color(color).to_owned() });
            }
        }
        let mut description = str_of(card, "desc").unwrap_or_default().to_owned();
        let card_id = str_of(card, "id").unwrap_or_default();
        let mut checklists: Vec<&Value> = checklists_of.get(card_id).cloned().unwrap_or_default();
        checklists.sort_by(|a, b| pos(a).total_cmp(&pos(b)));
        for checklist in checklists {
            let mut items: Vec<&Value> =
                checklist.get("checkItems").and_then(Value::as_array).unwrap_or(&empty).iter().collect();
            items.sort_by(|a, b| pos(a).total_cmp(&pos(b)));
            let lines: Vec<String> = items
                .iter()
                .map(|i| {
                    let mark = if str_of(i, "state") == Some("complete") { "x" } else { " " };
                    format!("- [{mark}] {}", str_of(i, "name").unwrap_or_default())
                })
                .collect();
            if !lines.is_empty() {
                let title = str_of(checklist, "name").unwrap_or("Checklist");
                description = format!("{}\n\n{title}\n{}", description.trim_end(), lines.join("\n"))
                    .trim_start()
                    .to_owned();
            }
        }
        let assignee = card
            .get("idMembers")
            .and_then(Value::as_array)
            .and_then(|ids| ids.first())
            .and_then(Value::as_str)
            .and_then(member_name);
        let mut comments: Vec<(String, ImportComment)> = comments_of
            .get(card_id)
            .into_iter()
            .flatten()
            .map(|a| {
                let author = a["memberCreator"]["fullName"].as_str().unwrap_or("trello").to_owned();
                let body = a["data"]["text"].as_str().unwrap_or_default().to_owned();
                let date = str_of(a, "date").and_then(|d| due_at(Value::String(d.to_owned())).ok().flatten());
                (date.clone().unwrap_or_default(), ImportComment { author, body, created_at: date })
            })
            .collect();
        // Trello lists actions newest first.
        comments.sort_by(|a, b| a.0.cmp(&b.0));
        let fields = TaskFields {
            title: name.to_owned(),
            description,
            status,
            assignee,
            labels,
            due_at: str_of(card, "due").map(str::to_owned),
            comments: comments.into_iter().map(|(_, c)| c).collect(),
        };
        plan.task(item, fields);
    }
    plan
}

fn from_csv(text: &str) -> AppResult<ImportPlan> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| AppError::validation(format!("the CSV header cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let column = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let title = column("title").ok_or_else(|| {
        AppError::validation("this is neither JSON nor CSV with a `title` column in its header row")
    })?;
    let (description, status, assignee, labels, due) =
        (column("description"), column("status"), column("assignee"), column("labels"), column("dueAt"));
    let mut plan = ImportPlan { source: "csv", ..ImportPlan::default() };
    for (n, record) in reader.records().enumerate() {
        let item = format!("row {}", n + 2);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                plan.skip(item, format!("unreadable: {e}"));
                continue;
            }
        };
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or_default().trim().to_owned();
        let status = match get(status) {
            s if s.is_empty() => Status::Todo,
            s => match csv_status(&s) {
                Ok(status) => status,
                Err(e) => {
                    plan.skip(item, e.to_string());
                    continue;
                }
            },
        };
        let names: Vec<ImportLabel> = get(labels)
            .split(';')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|name| ImportLabel { name: name.to_owned(), color: DEFAULT_LABEL_COLOR.to_owned() })
            .collect();
        let fields = TaskFields {
            title: get(Some(title)),
            description: get(description),
            status,
            assignee: Some(get(assignee)),
            labels: names,
            due_at: Some(get(due)),
            comments: Vec::new(),
        };
        plan.task(item, fields);
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn parse(name: &str) -> ImportPlan {
        let path = format!("{}/tests/fixtures/trello/{name}", env!("CARGO_MANIFEST_DIR"));
        parse_import(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn a_full_trello_export_maps_lists_cards_labels_members_checklists_and_comments() {
        let plan = parse("full-export.json");
        assert_eq!(plan.source, "trello");
        let titles: Vec<(&str, Status)> = plan.tasks.iter().map(|t| (t.title.as_str(), t.status)).collect();
        assert_eq!(
            titles,
            [
                ("First in To Do", Status::Todo),
                ("Second in To Do", Status::Todo),
                ("Being done", Status::InProgress),
                ("Shipped", Status::Done),
                ("An idea", Status::Todo)
            ],
            "open lists in board order, cards in pos order"
        );
        let first = &plan.tasks[0];
        assert_eq!(first.assignee.as_deref(), Some("Grace Hopper"), "the first member");
        assert_eq!(first.due_at.as_deref(), Some("2027-02-01T17:00:00.000Z"));
        assert_eq!(first.labels, ["Bug", "green"], "an unnamed label is named by its colour");
        assert_eq!(first.description, "Write it\n\nSteps\n- [x] Draft\n- [ ] Review");
        let comments: Vec<(&str, &str)> =
            first.comments.iter().map(|c| (c.author.as_str(), c.body.as_str())).collect();
        assert_eq!(comments, [("Grace Hopper", "First comment"), ("Ada Lovelace", "Second comment")]);
        assert_eq!(plan.tasks[4].labels, ["Ideas"], "another list name becomes a label");
        let labels: Vec<(&str, &str)> =
            plan.labels.iter().map(|l| (l.name.as_str(), l.color.as_str())).collect();
        assert_eq!(labels, [("Bug", "#eb5a46"), ("green", "#61bd4f"), ("Ideas", DEFAULT_LABEL_COLOR)]);
        let skipped: Vec<(&str, &str)> =
            plan.skipped.iter().map(|s| (s.item.as_str(), s.reason.as_str())).collect();
        assert_eq!(
            skipped,
            [
                ("card “Archived card”", "archived"),
                ("card “In an archived list”", "its list is archived or not in the file")
            ]
        );
    }

    #[test]
    fn partial_trello_files_as_people_bring_them_import_what_they_hold() {
        let plan = parse("one-column-two-cards.json");
        let titles: Vec<&str> = plan.tasks.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(titles, ["Card One", "Card Two"]);
        assert_eq!(plan.tasks[0].labels, ["List One", "temp-label-1", "temp-label-2"]);
        let plan = parse("one-list-moved-card.json");
        assert_eq!(plan.tasks.len(), 2);
        assert_eq!(plan.skipped.len(), 1, "a card whose list is not in the file: {:?}", plan.skipped);
    }

    #[test]
    fn csv_statuses_are_read_as_people_type_them() {
        for (typed, status) in [
            ("DONE", Status::Done),
            ("done", Status::Done),
            ("To Do", Status::Todo),
            ("In Progress", Status::InProgress),
            ("in_progress", Status::InProgress),
            ("QA", Status::Review),
        ] {
            assert_eq!(csv_status(typed).unwrap(), status, "{typed}");
        }
        assert!(csv_status("Someday").is_err());
    }

    #[test]
    fn csv_needs_a_title_column_and_skips_bad_rows_with_their_reason() {
        let plan = parse_import(b"title,status,labels,dueAt,assignee\nOne,REVIEW,a;b,2027-01-01T00:00:00+01:00,Ann\n,TODO,ghost,,\nThree,LATER,b;ghost,,\n\"Four, quoted\",,,,\n").unwrap();
        assert_eq!(plan.source, "csv");
        let tasks: Vec<(&str, Status)> = plan.tasks.iter().map(|t| (t.title.as_str(), t.status)).collect();
        assert_eq!(tasks, [("One", Status::Review), ("Four, quoted", Status::Todo)]);
        assert_eq!(plan.tasks[0].due_at.as_deref(), Some("2026-12-31T23:00:00.000Z"));
        assert_eq!(plan.tasks[0].labels, ["a", "b"]);
        let names: Vec<&str> = plan.labels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["a", "b"], "a label only skipped rows have is not made");
        let existing = [Label { id: 1, board: "main".into(), name: "B".into(), color: "#000000".into() }];
        let outcome = plan.outcome(&existing);
        assert_eq!(outcome.imported, ImportCounts { tasks: 2, labels: 1, comments: 0 }, "b exists already");
        assert_eq!(plan.skipped.iter().map(|s| s.item.as_str()).collect::<Vec<_>>(), ["row 3", "row 4"]);
        assert_eq!(parse_import(b"name,status\nx,TODO\n").unwrap_err().code(), "VALIDATION_ERROR");
        assert_eq!(parse_import(b"{\"hello\": 1}").unwrap_err().code(), "VALIDATION_ERROR");
        assert_eq!(parse_import(&[0xff, 0xfe]).unwrap_err().code(), "VALIDATION_ERROR");
    }
}
