//! The storage contract: one suite over `Arc<dyn Store>`, run against every backend.
//!
//! Each test below runs twice: `sqlite::<name>` on a temp file, and `postgres::<name>` on a
//! fresh database made from `TEST_DATABASE_URL` (and dropped afterwards). Without that
//! variable the PostgreSQL half prints `SKIPPED: TEST_DATABASE_URL not set` and passes.
//! The write rules are the same code for both (`domain::write` through `Tx`), so what this
//! proves is that both stores read and write rows the same way.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};
use tempfile::TempDir;
use warroom::auth::{Invite, Role, StoredToken};
use warroom::domain::agent::{AgentReport, AgentStatus};
use warroom::domain::boards::BoardInfo;
use warroom::domain::cards::NewLabel;
use warroom::domain::change::{Applied, Change, Committed, WriteOp, WriteRequest};
use warroom::domain::storage::{Attempt, Store, TaskFilter};
use warroom::domain::task::{NewTask, Shifted, Status, Task, TaskPatch};
use warroom::domain::webhooks::{Format, NewWebhook};
use warroom::error::{AppError, AppResult};
use warroom::store::Durability;
use warroom::store::postgres::PostgresStore;
use warroom::store::sqlite::SqliteStore;

use common::postgres::TestDatabase;

const BOARD: &str = warroom::MAIN_BOARD;
/// A lease that ran out long ago, and one that lasts the whole test.
const PAST: &str = "2000-01-01T00:00:00.000Z";
const FUTURE: &str = "2999-01-01T00:00:00.000Z";

/// Declares each contract test once per backend.
macro_rules! contract {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Backend::sqlite()).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(backend) = super::Backend::postgres(stringify!($test)).await {
                        super::$test(backend).await;
                    }
                }
            )+
        }
    };
}

contract![
    new_tasks_go_to_the_end_of_their_column_or_to_the_index_asked,
    moving_a_task_renumbers_the_column_it_lands_in,
    a_move_to_the_top_of_a_long_column_shifts_every_card_as_it_was,
    an_update_at_an_old_version_is_refused_with_conflict_and_changes_nothing,
    an_update_to_the_current_values_is_unchanged_and_takes_no_sequence_number,
    a_deleted_task_is_gone_but_its_history_stays,
    agents_are_stored_listed_byte_by_byte_and_found_silent,
    an_agent_reporting_on_two_boards_is_listed_once_with_its_latest_report,
    claiming_takes_the_top_unassigned_todo_task_and_release_gives_it_back,
    expired_leases_are_found_renewed_by_heartbeats_and_requeued,
    the_holders_repeated_claim_renews_its_lease_silently_and_only_the_holder_reports_progress,
    blockers_are_stored_in_order_validated_claimed_only_when_done_and_cleaned_on_delete,
    a_repeated_operation_id_replays_the_first_result_without_applying,
    sequence_numbers_rise_by_one_per_change_without_gaps_even_under_concurrency,
    tokens_are_created_listed_in_order_and_revoked_once,
    settings_are_stored_and_replaced,
    tasks_are_filtered_by_status_assignee_and_literal_text,
    tasks_page_in_display_order_with_limit_and_offset,
    activity_pages_newest_first_before_an_id,
    a_negative_limit_is_an_empty_page_and_a_negative_offset_skips_nothing,
    a_snapshot_holds_every_task_in_display_order_every_agent_and_the_seq,
    a_reopened_store_keeps_everything_and_continues_the_sequence,
    boards_are_created_once_changed_and_deleted_with_everything_on_them,
    an_invite_is_redeemed_once_and_only_before_it_expires,
    a_deleted_label_comes_off_its_tasks_in_the_same_change,
    comments_are_counted_on_their_task_and_go_with_it,
    webhook_deliveries_are_queued_with_their_change_due_in_order_and_claimed_once,
];

// ---- The backends ----

/// Where a test's data lives. `open` may be called again after `close`, on the same data.
#[derive(Clone)]
enum Backend {
    Sqlite(Arc<TempDir>),
    Postgres(Arc<TestDatabase>),
}

impl Backend {
    fn sqlite() -> Backend {
        Backend::Sqlite(Arc::new(tempfile::tempdir().expect("a temp dir")))
    }

    async fn postgres(test: &str) -> Option<Backend> {
        TestDatabase::create(test).await.map(|db| Backend::Postgres(Arc::new(db)))
    }

    async fn open(&self) -> TestBoard {
        let store: Arc<dyn Store> = match self {
            Backend::Sqlite(dir) => Arc::new(
                SqliteStore::open(&dir.path().join("tasks.db"), Durability::Normal).expect("opening SQLite"),
            ),
            Backend::Postgres(db) => Arc::new(
                PostgresStore::connect(&db.url, Durability::Normal).await.expect("connecting to PostgreSQL"),
            ),
        };
        TestBoard { store }
    }
}

// ---- Helpers that make the tests read like the behaviour ----

/// The store, driven the way the board service drives it.
struct TestBoard {
    store: Arc<dyn Store>,
}

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        description: String::new(),
        status: Status::Todo,
        assignee: None,
        position: None,
        blocked_by: Vec::new(),
        labels: Vec::new(),
        due_at: None,
    }
}

fn in_column(title: &str, status: Status, position: Option<i64>) -> NewTask {
    NewTask { status, position, ..new_task(title) }
}

fn request(op: WriteOp) -> WriteRequest {
    WriteRequest { board: BOARD.into(), actor: "alice".into(), idempotency: None, op }
}

fn report(id: &str, status: AgentStatus) -> AgentReport {
    AgentReport { id: id.into(), name: None, status, current_task_id: None }
}

fn committed(applied: AppResult<Applied>, what: &str) -> Committed {
    match applied {
        Ok(Applied::Committed(c)) => *c,
        other => panic!("{what}: expected a committed change, got {other:?}"),
    }
}

fn changed_task(c: &Committed) -> Task {
    match &c.change {
        Change::TaskCreated { task, .. } | Change::TaskUpdated { task, .. } => task.clone(),
        other => panic!("expected a task change, got {other:?}"),
    }
}

fn token(id: &str, name: &str, at: &str) -> StoredToken {
    StoredToken {
        id: id.into(),
        name: name.into(),
        role: Role::Editor,
        hash: format!("hash-of-{id}"),
        created_at: at.into(),
        revoked_at: None,
        boards: None,
    }
}

fn board_info(id: &str) -> BoardInfo {
    BoardInfo {
        id: id.into(),
        name: format!("Board {id}"),
        description: String::new(),
        archived: false,
        created_at: "2026-01-01T00:00:00.000Z".into(),
        created_by: "alice".into(),
    }
}

impl TestBoard {
    async fn write(&self, op: WriteOp) -> AppResult<Applied> {
        self.store.apply(request(op)).await
    }

    async fn commit(&self, op: WriteOp) -> Committed {
        let what = format!("{op:?}");
        committed(self.write(op).await, &what)
    }

    async fn create(&self, title: &str) -> Task {
        self.create_with(new_task(title)).await
    }

    async fn create_with(&self, new: NewTask) -> Task {
        changed_task(&self.commit(WriteOp::CreateTask(new)).await)
    }

    async fn update(&self, id: i64, patch: TaskPatch) -> AppResult<Applied> {
        self.write(WriteOp::UpdateTask { id, patch }).await
    }

    async fn task(&self, id: i64) -> Task {
        self.store.task(BOARD, id).await.unwrap().unwrap_or_else(|| panic!("task {id} is stored"))
    }

    /// `(title, position)` of a column, top to bottom.
    async fn column(&self, status: Status) -> Vec<(String, i64)> {
        let filter = TaskFilter { status: Some(status), ..TaskFilter::default() };
        self.store.tasks(BOARD, filter).await.unwrap().into_iter().map(|t| (t.title, t.position)).collect()
    }

    async fn titles(&self, filter: TaskFilter) -> Vec<String> {
        self.store.tasks(BOARD, filter).await.unwrap().into_iter().map(|t| t.title).collect()
    }

    async fn seq(&self) -> i64 {
        self.store.snapshot(BOARD).await.unwrap().seq
    }

    async fn close(self) {
        self.store.close().await;
    }
}

fn col(entries: &[(&str, i64)]) -> Vec<(String, i64)> {
    entries.iter().map(|(t, p)| (t.to_string(), *p)).collect()
}

fn assert_invalid(result: AppResult<Applied>, mentions: &str) {
    match &result {
        Err(AppError::Validation(message)) if message.contains(mentions) => {}
        _ => panic!("expected VALIDATION_ERROR mentioning {mentions:?}, got {result:?}"),
    }
}

fn blocked(list: &[i64]) -> TaskPatch {
    TaskPatch { blocked_by: Some(list.to_vec()), ..TaskPatch::default() }
}

fn assert_conflict(result: AppResult<Applied>) {
    assert!(matches!(result, Err(AppError::Conflict(_))), "expected CONFLICT, got {result:?}");
}

// ---- The contract ----

async fn new_tasks_go_to_the_end_of_their_column_or_to_the_index_asked(backend: Backend) {
    let board = backend.open().await;
    let a = board.create("a").await;
    board.create("b").await;
    board.create("c").await;
    assert_eq!((a.version, a.created_by.as_str(), a.created_at == a.updated_at), (1, "alice", true));

    let placed = board.commit(WriteOp::CreateTask(in_column("d", Status::Todo, Some(1)))).await;

    let Change::TaskCreated { task, shifted } = &placed.change else { panic!("{:?}", placed.change) };
    assert_eq!(task.position, 1);
    let mut answered = Vec::new();
    for t in shifted {
        answered.push((board.task(t.id).await.title, t.position, t.version));
    }
    assert_eq!(
        answered,
        vec![("b".into(), 2, 1), ("c".into(), 3, 1)],
        "shifted, not edited: their versions stay"
    );
    assert_eq!(board.column(Status::Todo).await, col(&[("a", 0), ("d", 1), ("b", 2), ("c", 3)]));
    assert_eq!(board.task(task.id).await, *task, "the stored task is the one answered");
    board.close().await;
}

async fn moving_a_task_renumbers_the_column_it_lands_in(backend: Backend) {
    let board = backend.open().await;
    let a = board.create("a").await;
    board.create("b").await;
    let c = board.create("c").await;
    board.create_with(in_column("x", Status::InProgress, None)).await;
    board.create_with(in_column("y", Status::InProgress, None)).await;

    let moved = board
        .commit(WriteOp::UpdateTask {
            id: c.id,
            patch: TaskPatch { status: Some(Status::InProgress), position: Some(1), ..TaskPatch::default() },
        })
        .await;

    let Change::TaskUpdated { task, moved_from, shifted, changes, .. } = &moved.change else { panic!() };
    assert_eq!((task.status, task.position, task.version), (Status::InProgress, 1, 2));
    assert_eq!(*moved_from, Some(Status::Todo));
    assert_eq!(shifted.len(), 1);
    assert_eq!(board.task(shifted[0].id).await.title, "y");
    assert_eq!(changes["status"], json!({ "from": "TODO", "to": "IN_PROGRESS" }));
    assert_eq!(moved.activity[0].kind, "task.moved");
    assert_eq!(board.column(Status::InProgress).await, col(&[("x", 0), ("c", 1), ("y", 2)]));
    assert_eq!(board.column(Status::Todo).await, col(&[("a", 0), ("b", 1)]));

    // Within a column: "a" goes below "b".
    let below = TaskPatch { position: Some(1), ..TaskPatch::default() };
    let reordered = board.commit(WriteOp::UpdateTask { id: a.id, patch: below }).await;
    assert_eq!(reordered.activity[0].kind, "task.updated");
    assert_eq!(board.column(Status::Todo).await, col(&[("b", 0), ("a", 1)]));
    board.close().await;
}

/// More cards than one renumbering statement writes (64), with a hole in their numbers (a card
/// moved away, which the cards above it close; those below keep their numbers) and cards that
/// keep their blockers and comments while they shift.
async fn a_move_to_the_top_of_a_long_column_shifts_every_card_as_it_was(backend: Backend) {
    let board = backend.open().await;
    let mut column = Vec::new();
    for k in 0..150 {
        column.push(board.create(&format!("t{k}")).await);
    }
    let hole = column.remove(120);
    board
        .commit(WriteOp::UpdateTask {
            id: hole.id,
            patch: TaskPatch { status: Some(Status::Done), ..TaskPatch::default() },
        })
        .await;
    board.commit(WriteOp::UpdateTask { id: column[100].id, patch: blocked(&[column[3].id]) }).await;
    board.commit(WriteOp::CreateComment { task_id: column[110].id, body: "still here".into() }).await;
    let mover = board.create_with(in_column("mover", Status::InProgress, None)).await;
    let mut before = Vec::new();
    for t in &column {
        before.push(board.task(t.id).await);
    }

    let moved = board
        .commit(WriteOp::UpdateTask {
            id: mover.id,
            patch: TaskPatch { status: Some(Status::Todo), position: Some(0), ..TaskPatch::default() },
        })
        .await;

    let Change::TaskUpdated { task, shifted, .. } = &moved.change else { panic!("{:?}", moved.change) };
    assert_eq!(task.position, 0);
    let expected: Vec<(i64, i64)> =
        column[..120].iter().enumerate().map(|(k, t)| (t.id, k as i64 + 1)).collect();
    let got: Vec<(i64, i64)> = shifted.iter().map(|t| (t.id, t.position)).collect();
    assert_eq!(got, expected, "the cards above the hole, in order, one place down");
    for (before, after) in before.iter().zip(shifted) {
        let stored = board.task(before.id).await;
        let as_stored = Shifted {
            id: stored.id,
            position: stored.position,
            version: stored.version,
            updated_at: stored.updated_at.clone(),
        };
        assert_eq!(after, &as_stored, "a shifted card is answered as stored");
        assert_eq!(stored, Task { position: stored.position, ..before.clone() }, "shifted, not edited");
    }
    assert_eq!(board.task(column[100].id).await.blocked_by, vec![column[3].id], "its blockers stay");
    assert_eq!(board.task(column[110].id).await.comment_count, 1, "its comments stay");
    let titles: Vec<String> = board.column(Status::Todo).await.into_iter().map(|(title, _)| title).collect();
    assert_eq!(titles[0], "mover");
    assert_eq!(titles.len(), 150);
    board.close().await;
}

async fn an_update_at_an_old_version_is_refused_with_conflict_and_changes_nothing(backend: Backend) {
    let board = backend.open().await;
    let task = board.create("first").await;
    let renamed =
        TaskPatch { title: Some("second".into()), expected_version: Some(1), ..TaskPatch::default() };
    let second = changed_task(&committed(board.update(task.id, renamed).await, "renaming at version 1"));
    assert_eq!((second.title.as_str(), second.version), ("second", 2));
    let seq = board.seq().await;

    let stale = TaskPatch { title: Some("third".into()), expected_version: Some(1), ..TaskPatch::default() };
    assert_conflict(board.update(task.id, stale).await);

    assert_eq!(board.task(task.id).await, second);
    assert_eq!(board.seq().await, seq, "a refused write takes no sequence number");
    let missing = board.update(9999, TaskPatch { title: Some("x".into()), ..TaskPatch::default() }).await;
    assert!(matches!(missing, Err(AppError::TaskNotFound(9999))), "{missing:?}");
    board.close().await;
}

async fn an_update_to_the_current_values_is_unchanged_and_takes_no_sequence_number(backend: Backend) {
    let board = backend.open().await;
    let task = board.create_with(NewTask { assignee: Some("adam".into()), ..new_task("same") }).await;
    let seq = board.seq().await;
    let activity = board.store.activity(BOARD, 100, None).await.unwrap();

    let same = TaskPatch {
        title: Some("same".into()),
        assignee: Some(Some("adam".into())),
        status: Some(Status::Todo),
        ..TaskPatch::default()
    };
    let applied = board.update(task.id, same).await;

    let Ok(Applied::Unchanged(value)) = applied else { panic!("expected unchanged, got {applied:?}") };
    assert_eq!(value, serde_json::to_value(&task).unwrap(), "the current task is answered");
    assert_eq!(board.task(task.id).await.version, 1);
    assert_eq!(board.seq().await, seq);
    assert_eq!(board.store.activity(BOARD, 100, None).await.unwrap(), activity, "nothing recorded");
    let next = board.create("next").await;
    let created = board.store.task_history(BOARD, next.id).await.unwrap();
    assert_eq!(created[0].seq, seq + 1, "the next change takes the next number");
    board.close().await;
}

async fn a_deleted_task_is_gone_but_its_history_stays(backend: Backend) {
    let board = backend.open().await;
    let task = board.create("short-lived").await;
    board
        .update(task.id, TaskPatch { description: Some("details".into()), ..TaskPatch::default() })
        .await
        .unwrap();

    let deleted = board.commit(WriteOp::DeleteTask { id: task.id }).await;

    assert!(
        matches!(&deleted.change, Change::TaskDeleted { task: t, .. } if t.id == task.id && t.version == 2)
    );
    assert_eq!(deleted.result, Value::Null);
    assert_eq!(board.store.task(BOARD, task.id).await.unwrap(), None);
    assert!(board.store.tasks(BOARD, TaskFilter::default()).await.unwrap().is_empty());
    let history = board.store.task_history(BOARD, task.id).await.unwrap();
    let kinds: Vec<&str> = history.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, vec!["task.deleted", "task.updated", "task.created"], "newest first");
    assert_eq!(history[1].changes.as_ref().unwrap()["description"], json!({ "from": "", "to": "details" }));
    assert!(matches!(board.write(WriteOp::DeleteTask { id: task.id }).await, Err(AppError::TaskNotFound(_))));
    board.close().await;
}

async fn an_agent_reporting_on_two_boards_is_listed_once_with_its_latest_report(backend: Backend) {
    let board = backend.open().await;
    assert!(board.store.create_board(board_info("web")).await.unwrap());
    board
        .commit(WriteOp::ReportAgent { report: report("bot", AgentStatus::Idle), lease_until: FUTURE.into() })
        .await;
    // Reports are ordered by their time, kept to the millisecond.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let on_web = WriteRequest {
        board: "web".into(),
        actor: "bot".into(),
        idempotency: None,
        op: WriteOp::ReportAgent { report: report("bot", AgentStatus::Busy), lease_until: FUTURE.into() },
    };
    committed(board.store.apply(on_web).await, "report on web");

    let listed: Vec<(String, AgentStatus)> =
        board.store.agents().await.unwrap().into_iter().map(|a| (a.id, a.status)).collect();
    assert_eq!(listed, vec![("bot".to_owned(), AgentStatus::Busy)], "one agent, its latest status");
    assert_eq!(board.store.agent("bot").await.unwrap().map(|a| a.status), Some(AgentStatus::Busy));
    let main = board.store.snapshot(BOARD).await.unwrap();
    assert_eq!(
        main.agents.iter().map(|a| (a.id.as_str(), a.status)).collect::<Vec<_>>(),
        vec![("bot", AgentStatus::Busy)]
    );
    board.close().await;
}

async fn agents_are_stored_listed_byte_by_byte_and_found_silent(backend: Backend) {
    let board = backend.open().await;
    let started = warroom::clock::now();
    for (id, status) in
        [("beta", AgentStatus::Idle), ("alpha", AgentStatus::Busy), ("Zed", AgentStatus::Error)]
    {
        board.commit(WriteOp::ReportAgent { report: report(id, status), lease_until: FUTURE.into() }).await;
    }
    let named = AgentReport { name: Some("Alpha Bot".into()), ..report("alpha", AgentStatus::Busy) };
    let heartbeat = board.commit(WriteOp::ReportAgent { report: named, lease_until: FUTURE.into() }).await;

    assert!(matches!(heartbeat.change, Change::AgentReported { status_changed: false, .. }));
    assert!(heartbeat.activity.is_empty(), "a heartbeat is not activity");
    let ids: Vec<String> = board.store.agents().await.unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(ids, vec!["Zed", "alpha", "beta"], "ids sort byte by byte, upper case first");
    let alpha = board.store.agent("alpha").await.unwrap().expect("alpha is stored");
    assert_eq!(
        (alpha.name.as_str(), alpha.status, alpha.current_task_id),
        ("Alpha Bot", AgentStatus::Busy, None)
    );
    assert!(alpha.last_seen >= started);
    assert_eq!(board.store.agent("nobody").await.unwrap(), None);

    let offline = board
        .commit(WriteOp::ReportAgent {
            report: report("beta", AgentStatus::Offline),
            lease_until: FUTURE.into(),
        })
        .await;
    assert_eq!(offline.activity[0].kind, "agent.status");
    let later = warroom::clock::after(std::time::Duration::from_secs(60));
    assert_eq!(
        board.store.silent_agents(BOARD, &later).await.unwrap(),
        vec!["Zed", "alpha"],
        "offline agents are not silent"
    );
    assert!(board.store.silent_agents(BOARD, PAST).await.unwrap().is_empty());
    let unknown_task =
        AgentReport { current_task_id: Some(Some(9999)), ..report("alpha", AgentStatus::Busy) };
    let refused =
        board.write(WriteOp::ReportAgent { report: unknown_task, lease_until: FUTURE.into() }).await;
    assert!(matches!(refused, Err(AppError::TaskNotFound(9999))), "{refused:?}");
    board.close().await;
}

async fn the_holders_repeated_claim_renews_its_lease_silently_and_only_the_holder_reports_progress(
    backend: Backend,
) {
    const LATER: &str = "2999-06-01T00:00:00.000Z";
    let board = backend.open().await;
    let task = board.create("retried").await;
    let claim = |agent: &str, until: &str| WriteOp::Claim {
        id: Some(task.id),
        agent: agent.into(),
        lease_until: until.into(),
    };
    let claimed = changed_task(&board.commit(claim("bot-1", FUTURE)).await);
    let seq = board.seq().await;

    let again = board.write(claim("bot-1", LATER)).await;
    let Ok(Applied::Unchanged(answer)) = again else { panic!("the holder's retry: {again:?}") };
    assert_eq!(answer["leaseExpiresAt"], LATER, "the answer shows the renewed lease");
    assert_eq!(answer["version"], claimed.version, "no version change");
    assert_eq!(board.seq().await, seq, "no sequence number, so no event");
    let stored = board.task(task.id).await;
    assert_eq!(stored.lease_expires_at.as_deref(), Some(LATER), "the renewal is stored");
    assert_eq!(Task { lease_expires_at: claimed.lease_expires_at.clone(), ..stored }, claimed);

    let note = |agent: Option<&str>| WriteOp::Progress {
        id: task.id,
        agent: agent.map(Into::into),
        message: "x".into(),
        percent: None,
        lease_until: FUTURE.into(),
    };
    assert_conflict(board.write(note(Some("bot-2"))).await);
    let noted = changed_task(&board.commit(note(Some("bot-1"))).await);
    assert_eq!(noted.progress.map(|p| p.message), Some("x".into()));
    board.commit(WriteOp::Release { id: task.id }).await;
    assert_conflict(board.write(note(Some("bot-1"))).await);
    assert_eq!(board.seq().await, seq + 2, "refused notes take no sequence number");
    board.close().await;
}

async fn blockers_are_stored_in_order_validated_claimed_only_when_done_and_cleaned_on_delete(
    backend: Backend,
) {
    let board = backend.open().await;
    let (a, b) = (board.create("a").await, board.create("b").await);
    let plan = NewTask { blocked_by: vec![b.id, a.id], position: Some(0), ..new_task("after a and b") };
    let waiting = board.create_with(plan).await;
    assert_eq!(waiting.blocked_by, vec![b.id, a.id], "in the order given");
    assert_eq!(board.task(waiting.id).await.blocked_by, vec![b.id, a.id]);
    let listed = board.store.tasks(BOARD, TaskFilter::default()).await.unwrap();
    let shown: Vec<(i64, Vec<i64>)> = listed.into_iter().map(|t| (t.id, t.blocked_by)).collect();
    assert_eq!(shown, vec![(waiting.id, vec![b.id, a.id]), (a.id, vec![]), (b.id, vec![])]);
    let snapshot = board.store.snapshot(BOARD).await.unwrap();
    assert_eq!(snapshot.tasks[0].blocked_by, vec![b.id, a.id]);

    // Refusals change nothing and take no sequence number.
    let seq = board.seq().await;
    assert_invalid(board.update(a.id, blocked(&[a.id])).await, "itself");
    assert_invalid(board.update(a.id, blocked(&[9999])).await, "9999");
    let cycle = format!("#{} → #{} → #{}", a.id, waiting.id, a.id);
    assert_invalid(board.update(a.id, blocked(&[waiting.id])).await, &cycle);
    assert_invalid(
        board.write(WriteOp::CreateTask(NewTask { blocked_by: vec![9999], ..new_task("x") })).await,
        "9999",
    );
    assert_eq!(board.seq().await, seq);

    // The blocked task is on top of TODO, but the next claim skips it until both are DONE.
    let claim_next = || WriteOp::Claim { id: None, agent: "bot".into(), lease_until: FUTURE.into() };
    assert_eq!(changed_task(&board.commit(claim_next()).await).id, a.id);
    let done = |id| board.update(id, TaskPatch { status: Some(Status::Done), ..TaskPatch::default() });
    let first = committed(done(a.id).await, "a to DONE");
    assert!(first.activity.iter().all(|e| e.kind != "task.unblocked"), "b is still open");
    let last = committed(done(b.id).await, "b to DONE");
    let unblocked: Vec<_> = last.activity.iter().filter(|e| e.kind == "task.unblocked").collect();
    assert_eq!(unblocked.len(), 1);
    assert_eq!((unblocked[0].task_id, unblocked[0].user.as_str()), (Some(waiting.id), "alice"));
    assert_eq!(changed_task(&board.commit(claim_next()).await).id, waiting.id, "ready now");

    // Deleting a blocker takes it out of the lists that named it, in the same change.
    let deleted = board.commit(WriteOp::DeleteTask { id: b.id }).await;
    let Change::TaskDeleted { dependents, .. } = &deleted.change else { panic!("{:?}", deleted.change) };
    let after = board.task(waiting.id).await;
    assert_eq!(after.blocked_by, vec![a.id]);
    assert_eq!(dependents, &vec![after.clone()]);
    assert_eq!(board.store.task_history(BOARD, waiting.id).await.unwrap()[0].kind, "task.updated");
    board.close().await;
}

async fn claiming_takes_the_top_unassigned_todo_task_and_release_gives_it_back(backend: Backend) {
    let board = backend.open().await;
    let bobs = board.create_with(NewTask { assignee: Some("bob".into()), ..new_task("bob's") }).await;
    let first = board.create("first").await;
    let second = board.create("second").await;
    let claim_next =
        |agent: &str| WriteOp::Claim { id: None, agent: agent.into(), lease_until: FUTURE.into() };

    let claimed = board.commit(claim_next("bot-1")).await;

    let Change::TaskUpdated { task, agent, .. } = &claimed.change else { panic!() };
    assert_eq!(task.id, first.id, "the top unassigned TODO task");
    assert_eq!((task.status, task.assignee.as_deref()), (Status::InProgress, Some("bot-1")));
    assert_eq!((task.claimed_by.as_deref(), task.lease_expires_at.as_deref()), (Some("bot-1"), Some(FUTURE)));
    assert_eq!(board.task(first.id).await, *task);
    let bot = board.store.agent("bot-1").await.unwrap().expect("the claimer becomes an agent");
    assert_eq!((bot.status, bot.current_task_id), (AgentStatus::Busy, Some(first.id)));
    assert_eq!(agent.as_ref(), Some(&bot));
    let again = WriteOp::Claim { id: Some(first.id), agent: "bot-2".into(), lease_until: FUTURE.into() };
    assert_conflict(board.write(again).await);
    let assigned = WriteOp::Claim { id: Some(bobs.id), agent: "bot-2".into(), lease_until: FUTURE.into() };
    assert_conflict(board.write(assigned).await);

    let progress = WriteOp::Progress {
        id: first.id,
        agent: None,
        message: "half way".into(),
        percent: Some(50.0),
        lease_until: FUTURE.into(),
    };
    let noted = changed_task(&board.commit(progress).await);
    assert_eq!(
        noted.progress.as_ref().map(|p| (p.message.as_str(), p.percent)),
        Some(("half way", Some(50.0)))
    );
    assert_eq!(board.task(first.id).await, noted, "progress is stored as written");

    let released = changed_task(&board.commit(WriteOp::Release { id: first.id }).await);
    assert_eq!(
        (released.status, released.assignee.clone(), released.claimed_by.clone()),
        (Status::Todo, None, None)
    );
    assert_eq!((released.lease_expires_at.clone(), released.progress.clone()), (None, None));
    let bot = board.store.agent("bot-1").await.unwrap().unwrap();
    assert_eq!((bot.status, bot.current_task_id), (AgentStatus::Idle, None));
    assert_conflict(board.write(WriteOp::Release { id: first.id }).await);

    // The released task went to the end of TODO, below "second".
    assert_eq!(changed_task(&board.commit(claim_next("bot-1")).await).id, second.id);
    assert_eq!(changed_task(&board.commit(claim_next("bot-1")).await).id, first.id);
    let none_left = board.write(claim_next("bot-1")).await;
    assert!(matches!(none_left, Ok(Applied::Unchanged(Value::Null))), "{none_left:?}");
    board.close().await;
}

async fn expired_leases_are_found_renewed_by_heartbeats_and_requeued(backend: Backend) {
    let board = backend.open().await;
    let kept = board.create("kept").await;
    let lost = board.create("lost").await;
    let claim =
        |id: i64, agent: &str| WriteOp::Claim { id: Some(id), agent: agent.into(), lease_until: PAST.into() };
    let kept = changed_task(&board.commit(claim(kept.id, "bot-1")).await);
    board.commit(claim(lost.id, "bot-2")).await;
    let now = warroom::clock::now();
    assert_eq!(board.store.expired_leases(BOARD, &now).await.unwrap(), vec![kept.id, lost.id]);

    let renewal = board
        .commit(WriteOp::ReportAgent {
            report: report("bot-1", AgentStatus::Busy),
            lease_until: FUTURE.into(),
        })
        .await;

    assert!(renewal.activity.is_empty());
    let renewed = board.task(kept.id).await;
    assert_eq!(renewed.lease_expires_at.as_deref(), Some(FUTURE));
    assert_eq!(renewed.version, kept.version, "a renewal is not a change of the task");
    assert_eq!(board.store.expired_leases(BOARD, &now).await.unwrap(), vec![lost.id]);

    let requeued = board.commit(WriteOp::Requeue { id: lost.id }).await;

    assert_eq!(requeued.activity[0].kind, "task.requeued");
    let lost = changed_task(&requeued);
    assert_eq!((lost.status, lost.claimed_by, lost.assignee), (Status::Todo, None, None));
    assert!(board.store.expired_leases(BOARD, &now).await.unwrap().is_empty());
    assert!(matches!(board.write(WriteOp::Requeue { id: lost.id }).await, Ok(Applied::Unchanged(_))));
    assert!(
        matches!(board.write(WriteOp::Requeue { id: kept.id }).await, Ok(Applied::Unchanged(_))),
        "not expired"
    );
    board.close().await;
}

async fn a_repeated_operation_id_replays_the_first_result_without_applying(backend: Backend) {
    let board = backend.open().await;
    let with_op = |credential: &str, title: &str| WriteRequest {
        idempotency: Some((credential.into(), "op-1".into())),
        ..request(WriteOp::CreateTask(new_task(title)))
    };
    let first = committed(board.store.apply(with_op("token:a", "first")).await, "the first create");
    let seq = board.seq().await;

    let replayed = board.store.apply(with_op("token:a", "second")).await;

    let Ok(Applied::Replayed(value)) = replayed else { panic!("expected a replay, got {replayed:?}") };
    assert_eq!(value, first.result, "the first result, as stored");
    assert_eq!(value["title"], "first");
    assert_eq!(board.seq().await, seq, "a replay takes no sequence number");
    assert_eq!(board.titles(TaskFilter::default()).await, vec!["first"]);
    let other = board.store.apply(with_op("token:b", "other credential")).await;
    assert!(matches!(other, Ok(Applied::Committed(_))), "operation ids are per credential: {other:?}");
    board.close().await;
}

async fn sequence_numbers_rise_by_one_per_change_without_gaps_even_under_concurrency(backend: Backend) {
    let board = backend.open().await;
    let start = board.seq().await;
    let task = board.create("contested").await;
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..40 {
        let store = board.store.clone();
        let op = match i % 4 {
            0 => WriteOp::CreateTask(new_task(&format!("task {i}"))),
            // Refused: the task is past version 1 by then, or missing.
            1 => WriteOp::UpdateTask {
                id: task.id,
                patch: TaskPatch {
                    title: Some(format!("stale {i}")),
                    expected_version: Some(0),
                    ..Default::default()
                },
            },
            2 => WriteOp::DeleteTask { id: 100_000 + i },
            _ => WriteOp::UpdateTask {
                id: task.id,
                patch: TaskPatch { title: Some(format!("title {i}")), ..Default::default() },
            },
        };
        writes.spawn(async move { store.apply(request(op)).await });
    }
    let mut seqs = vec![start + 1];
    let mut refused = 0;
    while let Some(result) = writes.join_next().await {
        match result.expect("the write task") {
            Ok(Applied::Committed(c)) => seqs.push(c.seq),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => refused += 1,
        }
    }
    let users = vec![warroom::presence::User::online("alice")];
    let presence = board.commit(WriteOp::Presence { name: "alice".into(), joined: true, users }).await;
    seqs.push(presence.seq);

    assert_eq!(refused, 20);
    seqs.sort_unstable();
    let expected: Vec<i64> = (start + 1..=start + seqs.len() as i64).collect();
    assert_eq!(seqs, expected, "every committed change has its own number, with no gap");
    assert_eq!(board.seq().await, *expected.last().unwrap());
    let recorded: BTreeSet<i64> =
        board.store.activity(BOARD, 1000, None).await.unwrap().iter().map(|a| a.seq).collect();
    assert_eq!(
        recorded,
        expected.iter().copied().collect(),
        "each change's activity is stored under its number"
    );
    board.close().await;
}

async fn tokens_are_created_listed_in_order_and_revoked_once(backend: Backend) {
    let board = backend.open().await;
    assert!(board.store.tokens().await.unwrap().is_empty());
    board.store.create_token(token("b2", "Bea", "2026-01-02T00:00:00.000Z")).await.unwrap();
    board.store.create_token(token("a1", "Al", "2026-01-01T00:00:00.000Z")).await.unwrap();
    let duplicate = board.store.create_token(token("a1", "Again", "2026-01-03T00:00:00.000Z")).await;
    assert!(duplicate.is_err(), "token ids are unique");

    board.store.revoke_token("a1", "2026-02-01T00:00:00.000Z").await.unwrap();
    board.store.revoke_token("a1", "2026-03-01T00:00:00.000Z").await.unwrap();

    let tokens = board.store.tokens().await.unwrap();
    let listed: Vec<(&str, &str, Role, &str, Option<&str>)> = tokens
        .iter()
        .map(|t| (t.id.as_str(), t.name.as_str(), t.role, t.hash.as_str(), t.revoked_at.as_deref()))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("a1", "Al", Role::Editor, "hash-of-a1", Some("2026-02-01T00:00:00.000Z")),
            ("b2", "Bea", Role::Editor, "hash-of-b2", None),
        ],
        "oldest first; the first revocation stands"
    );
    board.close().await;
}

async fn settings_are_stored_and_replaced(backend: Backend) {
    let board = backend.open().await;
    assert_eq!(board.store.setting("api_key").await.unwrap(), None);
    board.store.set_setting("api_key", "first").await.unwrap();
    board.store.set_setting("api_key", "second").await.unwrap();
    board.store.set_setting("other", "value").await.unwrap();
    assert_eq!(board.store.setting("api_key").await.unwrap().as_deref(), Some("second"));
    assert_eq!(board.store.setting("other").await.unwrap().as_deref(), Some("value"));
    assert_eq!(board.store.setting("missing").await.unwrap(), None);
    board.close().await;
}

async fn tasks_are_filtered_by_status_assignee_and_literal_text(backend: Backend) {
    let board = backend.open().await;
    board.create_with(NewTask { assignee: Some("Adam".into()), ..new_task("Fix login bug") }).await;
    board
        .create_with(NewTask {
            description: "mention 100% coverage".into(),
            status: Status::Review,
            assignee: Some("eve".into()),
            ..new_task("Write docs")
        })
        .await;
    board.create_with(in_column("snake_case names", Status::Done, None)).await;
    board.create_with(in_column("Login page", Status::InProgress, None)).await;
    board.create_with(NewTask { assignee: Some("Émile".into()), ..new_task("Café") }).await;
    let q = |text: &str| TaskFilter { q: Some(text.into()), ..TaskFilter::default() };
    let assignee = |name: &str| TaskFilter { assignee: Some(name.into()), ..TaskFilter::default() };

    assert_eq!(board.titles(q("LOGIN")).await, vec!["Fix login bug", "Login page"], "display order");
    assert_eq!(board.titles(q("100%")).await, vec!["Write docs"], "descriptions too");
    assert_eq!(board.titles(q("%")).await, vec!["Write docs"], "% is a character, not a wildcard");
    assert_eq!(board.titles(q("_")).await, vec!["snake_case names"], "_ is a character, not a wildcard");
    assert_eq!(board.titles(q("\\")).await, Vec::<String>::new());
    assert_eq!(board.titles(assignee("adam")).await, vec!["Fix login bug"]);
    assert_eq!(board.titles(assignee("EVE")).await, vec!["Write docs"]);
    assert_eq!(board.titles(assignee("Émile")).await, vec!["Café"]);
    assert_eq!(
        board.titles(assignee("émile")).await,
        Vec::<String>::new(),
        "case folds ASCII letters only, on both"
    );
    assert_eq!(
        board.titles(TaskFilter { status: Some(Status::Review), ..TaskFilter::default() }).await,
        vec!["Write docs"]
    );
    let both = TaskFilter { status: Some(Status::Todo), q: Some("login".into()), ..TaskFilter::default() };
    assert_eq!(board.titles(both).await, vec!["Fix login bug"]);
    board.close().await;
}

async fn tasks_page_in_display_order_with_limit_and_offset(backend: Backend) {
    let board = backend.open().await;
    for title in ["t1", "t2", "t3"] {
        board.create(title).await;
    }
    board.create_with(in_column("r1", Status::Review, None)).await;
    board.create_with(in_column("t0", Status::Todo, Some(0))).await;
    let page = |limit: Option<i64>, offset: i64| TaskFilter { limit, offset, ..TaskFilter::default() };

    assert_eq!(board.titles(page(None, 0)).await, vec!["t0", "t1", "t2", "t3", "r1"]);
    assert_eq!(board.titles(page(Some(2), 0)).await, vec!["t0", "t1"]);
    assert_eq!(board.titles(page(Some(2), 2)).await, vec!["t2", "t3"]);
    assert_eq!(board.titles(page(Some(2), 4)).await, vec!["r1"]);
    assert_eq!(board.titles(page(None, 3)).await, vec!["t3", "r1"], "an offset alone skips");
    assert_eq!(board.titles(page(Some(10), 9)).await, Vec::<String>::new());
    let todo = TaskFilter { status: Some(Status::Todo), limit: Some(1), offset: 1, ..TaskFilter::default() };
    assert_eq!(board.titles(todo).await, vec!["t1"], "the page is of the filtered tasks");
    board.close().await;
}

async fn a_negative_limit_is_an_empty_page_and_a_negative_offset_skips_nothing(backend: Backend) {
    let board = backend.open().await;
    for title in ["t1", "t2"] {
        board.create(title).await;
    }
    let page = |limit: Option<i64>, offset: i64| TaskFilter { limit, offset, ..TaskFilter::default() };

    assert_eq!(board.titles(page(Some(-1), 0)).await, Vec::<String>::new());
    assert_eq!(board.titles(page(None, -1)).await, vec!["t1", "t2"]);
    assert!(board.store.activity(BOARD, -1, None).await.unwrap().is_empty());
    board.close().await;
}

async fn activity_pages_newest_first_before_an_id(backend: Backend) {
    let board = backend.open().await;
    for i in 0..5 {
        board.create(&format!("task {i}")).await;
    }
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = board.store.activity(BOARD, 2, before).await.unwrap();
        if page.is_empty() {
            break;
        }
        before = Some(page.last().unwrap().id);
        pages.push(page);
    }

    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1]);
    let all: Vec<_> = pages.into_iter().flatten().collect();
    assert!(all.windows(2).all(|w| w[0].id > w[1].id && w[0].seq > w[1].seq), "newest first");
    assert_eq!(all[0].message, "alice created #5 “task 4”");
    assert_eq!(all[0].changes.as_ref().unwrap()["title"], json!({ "from": null, "to": "task 4" }));
    assert_eq!(
        (all[0].kind.as_str(), all[0].user.as_str(), all[0].task_id),
        ("task.created", "alice", Some(5))
    );
    assert_eq!(board.store.activity(BOARD, 100, None).await.unwrap(), all, "one page holds the same entries");
    board.close().await;
}

async fn a_snapshot_holds_every_task_in_display_order_every_agent_and_the_seq(backend: Backend) {
    let board = backend.open().await;
    board.create_with(in_column("done", Status::Done, None)).await;
    board.create_with(in_column("review", Status::Review, None)).await;
    board.create_with(in_column("todo 2", Status::Todo, None)).await;
    board.create_with(in_column("todo 1", Status::Todo, Some(0))).await;
    board.create_with(in_column("blocked", Status::Blocked, None)).await;
    board.create_with(in_column("doing", Status::InProgress, None)).await;
    let reported = board
        .commit(WriteOp::ReportAgent { report: report("bot", AgentStatus::Idle), lease_until: FUTURE.into() })
        .await;

    let snapshot = board.store.snapshot(BOARD).await.unwrap();

    let titles: Vec<&str> = snapshot.tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, vec!["todo 1", "todo 2", "doing", "blocked", "review", "done"]);
    assert_eq!(snapshot.agents.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), vec!["bot"]);
    assert_eq!(snapshot.seq, reported.seq);
    board.close().await;
}

async fn a_reopened_store_keeps_everything_and_continues_the_sequence(backend: Backend) {
    let board = backend.open().await;
    let task = board.create("durable").await;
    board.store.set_setting("api_key", "kept").await.unwrap();
    let seq = board.seq().await;
    board.close().await;

    let board = backend.open().await;

    assert_eq!(board.task(task.id).await, task);
    assert_eq!(board.store.setting("api_key").await.unwrap().as_deref(), Some("kept"));
    let next = board.commit(WriteOp::CreateTask(new_task("after"))).await;
    assert_eq!(next.seq, seq + 1);
    assert!(changed_task(&next).id > task.id);
    board.close().await;
}

/// PostgreSQL only: several instances share one database.
mod postgres_instances {
    use super::*;

    /// Each writer reads the task and updates it at the version it read, retrying on
    /// CONFLICT: if two instances could both pass the version check, a change would be lost.
    async fn bump(store: Arc<dyn Store>, id: i64, times: usize, name: &str) -> Vec<i64> {
        let mut seqs = Vec::new();
        while seqs.len() < times {
            let task = store.task(BOARD, id).await.unwrap().unwrap();
            let patch = TaskPatch {
                title: Some(format!("{name} {}", seqs.len())),
                expected_version: Some(task.version),
                ..TaskPatch::default()
            };
            match store.apply(request(WriteOp::UpdateTask { id, patch })).await {
                Ok(Applied::Committed(c)) => seqs.push(c.seq),
                Err(AppError::Conflict(_)) => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
        seqs
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_stores_on_one_database_lose_no_update_and_share_one_gap_free_sequence() {
        let Some(Backend::Postgres(db)) = Backend::postgres("two_stores_on_one_database").await else {
            return;
        };
        // Both start at once: one migrates while the other waits for the lock.
        let (a, b) = tokio::join!(
            PostgresStore::connect(&db.url, Durability::Normal),
            PostgresStore::connect(&db.url, Durability::Normal)
        );
        let (a, b): (Arc<dyn Store>, Arc<dyn Store>) = (Arc::new(a.unwrap()), Arc::new(b.unwrap()));
        let task = changed_task(&committed(
            a.apply(request(WriteOp::CreateTask(new_task("shared")))).await,
            "create",
        ));

        let (from_a, from_b) = tokio::join!(
            tokio::spawn(bump(a.clone(), task.id, 15, "a")),
            tokio::spawn(bump(b.clone(), task.id, 15, "b"))
        );

        let mut seqs: Vec<i64> = from_a.unwrap().into_iter().chain(from_b.unwrap()).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (2..=31).collect::<Vec<i64>>(), "one sequence for both, without duplicates or gaps");
        assert_eq!(b.task(BOARD, task.id).await.unwrap().unwrap().version, 31, "every change counted once");
        assert_eq!(a.snapshot(BOARD).await.unwrap().seq, 31);
        a.close().await;
        b.close().await;
    }
}

async fn boards_are_created_once_changed_and_deleted_with_everything_on_them(backend: Backend) {
    let board = backend.open().await;
    let main = board.store.board(BOARD).await.unwrap().expect("main always exists");
    assert_eq!((main.name.as_str(), main.archived), ("Main", false));
    assert!(board.store.create_board(board_info("web")).await.unwrap());
    assert!(!board.store.create_board(board_info("web")).await.unwrap(), "an id is taken once");
    let ids: Vec<String> = board.store.boards().await.unwrap().into_iter().map(|b| b.id).collect();
    assert_eq!(ids, vec!["main", "web"]);

    let on_web = |op| WriteRequest { board: "web".into(), actor: "alice".into(), idempotency: None, op };
    let created =
        committed(board.store.apply(on_web(WriteOp::CreateTask(new_task("web work")))).await, "create");
    assert_eq!(created.seq, 1, "each board has its own seq");
    let task = changed_task(&created);
    assert_eq!(task.board, "web");
    assert_eq!(board.store.task_board(task.id).await.unwrap().as_deref(), Some("web"));
    let on_main = board.create("main work").await;
    assert_ne!(on_main.id, task.id, "task ids are unique across boards");
    assert!(board.store.task(BOARD, task.id).await.unwrap().is_none(), "not on main");

    let renamed = BoardInfo { name: "Web site".into(), archived: true, ..board_info("web") };
    assert!(board.store.update_board(renamed.clone()).await.unwrap());
    assert_eq!(board.store.board("web").await.unwrap(), Some(renamed));
    assert!(!board.store.update_board(board_info("nope")).await.unwrap());

    assert!(board.store.delete_board("web").await.unwrap());
    assert!(!board.store.delete_board("web").await.unwrap());
    assert!(board.store.board("web").await.unwrap().is_none());
    assert!(board.store.task_board(task.id).await.unwrap().is_none(), "its tasks went with it");
    assert!(board.store.task_history("web", task.id).await.unwrap().is_empty(), "and its history");
    let late = board.store.apply(on_web(WriteOp::CreateTask(new_task("too late")))).await;
    assert_eq!(late.unwrap_err().code(), "BOARD_NOT_FOUND");
    assert_eq!(board.task(on_main.id).await.title, "main work", "other boards keep theirs");
    board.close().await;
}

async fn an_invite_is_redeemed_once_and_only_before_it_expires(backend: Backend) {
    let board = backend.open().await;
    let invite = |hash: &str, expires_at: &str| Invite {
        hash: hash.into(),
        role: Role::Viewer,
        boards: Some(vec!["web".into()]),
        created_by: "alice".into(),
        created_at: "2026-01-01T00:00:00.000Z".into(),
        expires_at: expires_at.into(),
        used_at: None,
    };
    board.store.create_invite(invite("live", FUTURE)).await.unwrap();
    board.store.create_invite(invite("old", "2026-01-02T00:00:00.000Z")).await.unwrap();
    let now = "2026-06-01T00:00:00.000Z";
    let scoped = StoredToken { boards: Some(vec!["web".into()]), ..token("t1", "Ivy", now) };
    assert!(board.store.redeem_invite("live", now, scoped.clone()).await.unwrap());
    let again = StoredToken { id: "t2".into(), hash: "hash-of-t2".into(), ..scoped.clone() };
    assert!(!board.store.redeem_invite("live", now, again.clone()).await.unwrap(), "a code works once");
    assert!(
        !board.store.redeem_invite("old", now, again.clone()).await.unwrap(),
        "an expired code does not work"
    );
    assert!(!board.store.redeem_invite("unknown", now, again).await.unwrap());
    let stored = board.store.invite("live").await.unwrap().unwrap();
    assert_eq!(
        (stored.role, stored.boards, stored.used_at.as_deref()),
        (Role::Viewer, Some(vec!["web".to_owned()]), Some(now))
    );
    let tokens = board.store.tokens().await.unwrap();
    assert_eq!(tokens.len(), 1, "only the redeemed invite made a token");
    assert_eq!(tokens[0].boards, Some(vec!["web".to_owned()]));
    board.close().await;
}

async fn a_deleted_label_comes_off_its_tasks_in_the_same_change(backend: Backend) {
    let board = backend.open().await;
    let label = |name: &str| WriteOp::CreateLabel(NewLabel { name: name.into(), color: "#ff0000".into() });
    let bug = committed(board.write(label("bug")).await, "a label");
    let Change::LabelCreated(bug) = bug.change else { panic!("a label change") };
    let ui = committed(board.write(label("ui")).await, "a label");
    let Change::LabelCreated(ui) = ui.change else { panic!("a label change") };
    let duplicate = board.write(label("BUG")).await;
    assert_eq!(duplicate.unwrap_err().code(), "CONFLICT", "names are unique whatever the case");

    let both = NewTask { labels: vec![ui.id, bug.id], ..new_task("both") };
    let both = changed_task(&committed(board.write(WriteOp::CreateTask(both)).await, "create"));
    assert_eq!(both.labels, vec![ui.id, bug.id], "in the order set");
    let unknown = NewTask { labels: vec![ui.id + 1000], ..new_task("unknown label") };
    assert_eq!(board.write(WriteOp::CreateTask(unknown)).await.unwrap_err().code(), "VALIDATION_ERROR");
    let plain = board.create("plain").await;

    let deleted = board.commit(WriteOp::DeleteLabel { id: bug.id }).await;
    let Change::LabelDeleted { id, tasks } = deleted.change else { panic!("a label deletion") };
    assert_eq!(id, bug.id);
    assert_eq!(
        tasks.iter().map(|t| (t.id, t.labels.clone())).collect::<Vec<_>>(),
        vec![(both.id, vec![ui.id])]
    );
    assert_eq!(tasks[0].version, both.version + 1);
    assert_eq!(board.task(both.id).await.labels, vec![ui.id]);
    assert_eq!(board.task(plain.id).await.version, plain.version, "untouched");
    let names: Vec<String> = board.store.labels(BOARD).await.unwrap().into_iter().map(|l| l.name).collect();
    assert_eq!(names, vec!["ui"]);
    board.close().await;
}

async fn comments_are_counted_on_their_task_and_go_with_it(backend: Backend) {
    let board = backend.open().await;
    let task = board.create("discussed").await;
    let comment = |body: &str| WriteOp::CreateComment { task_id: task.id, body: body.into() };
    board.commit(comment("one")).await;
    let second = board.commit(comment("two")).await;
    let Change::CommentCreated(second) = second.change else { panic!("a comment") };
    let counted = board.task(task.id).await;
    assert_eq!((counted.comment_count, counted.version), (2, task.version), "a comment is not an edit");
    let bodies: Vec<String> =
        board.store.comments(BOARD, task.id).await.unwrap().into_iter().map(|c| c.body).collect();
    assert_eq!(bodies, vec!["one", "two"], "oldest first");

    // `alice` wrote them; someone else may not change them unless an admin.
    let as_bob = |op| WriteRequest { board: BOARD.into(), actor: "bob".into(), idempotency: None, op };
    let refused = board.store.apply(as_bob(WriteOp::DeleteComment { id: second.id, admin: false })).await;
    assert_eq!(refused.unwrap_err().code(), "FORBIDDEN");
    let edit = WriteOp::UpdateComment { id: second.id, body: "deux".into(), admin: true };
    let edited = committed(board.store.apply(as_bob(edit)).await, "an admin's edit");
    let Change::CommentUpdated(edited) = edited.change else { panic!("a comment edit") };
    assert!(edited.edited && edited.body == "deux");
    assert_eq!(board.store.comment(second.id).await.unwrap().unwrap().body, "deux");

    board.commit(WriteOp::DeleteTask { id: task.id }).await;
    assert!(board.store.comment(second.id).await.unwrap().is_none(), "a task's comments go with it");
    board.close().await;
}

async fn webhook_deliveries_are_queued_with_their_change_due_in_order_and_claimed_once(backend: Backend) {
    let board = backend.open().await;
    let new = NewWebhook {
        url: "http://127.0.0.1:9/hook".into(),
        events: vec!["task.*".into()],
        secret: "s".repeat(16),
        format: Format::Json,
    };
    let hook = board.store.create_webhook(BOARD, new, "alice", "2026-01-01T00:00:00.000Z").await.unwrap();
    assert_eq!((hook.secret.as_deref(), hook.active), (None, true), "listed without its secret");
    board.create("first").await;
    board.create("second").await;
    board
        .commit(WriteOp::ReportAgent { report: report("bot", AgentStatus::Busy), lease_until: FUTURE.into() })
        .await;

    let now = warroom::clock::now();
    let due = board.store.due_deliveries(&now, 10).await.unwrap();
    assert_eq!(due.len(), 1, "of one webhook only its oldest pending delivery is due: {due:?}");
    assert_eq!((due[0].event.as_str(), due[0].attempts, due[0].secret.len()), ("task.created", 0, 16));
    let payload: Value = serde_json::from_str(&due[0].payload).unwrap();
    assert_eq!(payload["task"]["title"], "first");
    assert_eq!(payload["activity"]["type"], "task.created");

    // Two stores on the same database stand for two instances: of 16 claims, one wins.
    let other = backend.open().await;
    let until = warroom::clock::after(std::time::Duration::from_secs(30));
    let claims = futures_util::future::join_all((0..16).map(|i| {
        let store = if i % 2 == 0 { board.store.clone() } else { other.store.clone() };
        let (now, until, id) = (now.clone(), until.clone(), due[0].id);
        async move { store.claim_delivery(id, &now, &until).await.unwrap() }
    }))
    .await;
    assert_eq!(claims.iter().filter(|c| **c).count(), 1, "exactly one claim wins: {claims:?}");
    assert!(board.store.due_deliveries(&now, 10).await.unwrap().is_empty(), "a claimed delivery is not due");

    // A failure waits for its retry; the next delivery of the hook waits behind it, in order.
    let retry = Attempt::Failed { code: Some(500), error: None, retry_at: Some(FUTURE.into()) };
    board.store.finish_delivery(due[0].id, retry).await.unwrap();
    assert!(board.store.due_deliveries(&now, 10).await.unwrap().is_empty());
    board.store.finish_delivery(due[0].id, Attempt::Delivered { code: 204 }).await.unwrap();
    let next = board.store.due_deliveries(&warroom::clock::now(), 10).await.unwrap();
    assert_eq!(next.len(), 1);
    let payload: Value = serde_json::from_str(&next[0].payload).unwrap();
    assert_eq!(payload["task"]["title"], "second");

    let log = board.store.deliveries(hook.id).await.unwrap();
    let seen: Vec<(&str, &str, i64, Option<i64>)> =
        log.iter().map(|d| (d.event.as_str(), d.status.as_str(), d.attempts, d.last_code)).collect();
    assert_eq!(seen, vec![("task.created", "pending", 0, None), ("task.created", "delivered", 2, Some(204))]);
    assert!(log[1].next_attempt_at.is_none() && log[0].next_attempt_at.is_some());

    // An inactive webhook's deliveries are not due, and it gets no new ones.
    assert!(
        board
            .store
            .save_webhook(warroom::domain::webhooks::Webhook { active: false, ..hook.clone() })
            .await
            .unwrap()
    );
    assert!(board.store.due_deliveries(&warroom::clock::now(), 10).await.unwrap().is_empty());
    board.create("third").await;
    assert_eq!(board.store.deliveries(hook.id).await.unwrap().len(), 2);
    assert!(board.store.delete_webhook(hook.id).await.unwrap());
    assert!(!board.store.delete_webhook(hook.id).await.unwrap());
    assert!(board.store.webhooks(BOARD).await.unwrap().is_empty());
    other.close().await;
    board.close().await;
}
