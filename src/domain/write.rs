//! The write rules: what each change does to the board, applied inside one store transaction.
//!
//! Every backend runs `apply` with its own `Tx`, so a rule (version checks, placement, what
//! counts as a change, which activity is recorded) is written once, here, and the store only
//! reads and writes rows. The transaction makes each change atomic: the task row, its
//! activity entry, the board's sequence number and the idempotency record commit together.

use serde_json::{Value, json};

use super::activity::NewActivity;
use super::agent::{Agent, AgentReport, AgentStatus};
use super::cards::{self, Comment, Label, LabelPatch, NewLabel};
use super::change::{Applied, Change, Committed, WriteOp, WriteRequest};
use super::graph::{find_cycle, spell_cycle};
use super::input;
use super::notifications::{self, NewNotification, Notification};
use super::storage::Tx;
use super::task::{self, Changes, NewTask, Progress, Status, Task, TaskPatch, record};
use super::transfer::{ImportCounts, ImportPlan};
use super::webhooks;
use crate::error::{AppError, AppResult};
use crate::presence::User;

pub fn apply(tx: &mut dyn Tx, req: &WriteRequest, now: &str) -> AppResult<Applied> {
    if let Some((credential, op_id)) = &req.idempotency
        && let Some(stored) = tx.remembered(credential, op_id)?
    {
        if stored.get("op").and_then(Value::as_str) != Some(req.op.kind()) {
            return Err(AppError::Conflict(format!(
                "opId {op_id:?} was already used for another kind of command"
            )));
        }
        return Ok(Applied::Replayed(stored.get("result").cloned().unwrap_or(Value::Null)));
    }
    // The board may have been deleted while this write was queued.
    if !tx.board_exists(&req.board)? {
        return Err(AppError::BoardNotFound(req.board.clone()));
    }
    let outcome = match &req.op {
        WriteOp::CreateTask(new) => create_task(tx, req, new, now)?,
        WriteOp::UpdateTask { id, patch } => update_task(tx, req, *id, patch, now)?,
        WriteOp::DeleteTask { id } => delete_task(tx, req, *id, now)?,
        WriteOp::ReportAgent { report, lease_until } => report_agent(tx, req, report, lease_until, now)?,
        WriteOp::Claim { id, agent, lease_until } => claim(tx, req, *id, agent, lease_until, now)?,
        WriteOp::Release { id } => give_back(tx, req, *id, GiveBack::Release, now)?,
        WriteOp::Requeue { id } => give_back(tx, req, *id, GiveBack::Requeue, now)?,
        WriteOp::Import(plan) => import(tx, req, plan, now)?,
        WriteOp::CreateLabel(new) => create_label(tx, req, new, now)?,
        WriteOp::UpdateLabel { id, patch } => update_label(tx, req, *id, patch, now)?,
        WriteOp::DeleteLabel { id } => delete_label(tx, req, *id, now)?,
        WriteOp::CreateComment { task_id, body } => create_comment(tx, req, *task_id, body, now)?,
        WriteOp::UpdateComment { id, body, admin } => update_comment(tx, req, *id, body, *admin, now)?,
        WriteOp::DeleteComment { id, admin } => delete_comment(tx, req, *id, *admin, now)?,
        WriteOp::MoveToBoard { id, target, status, position } => {
            move_to_board(tx, req, *id, target, (*status, *position), now)?
        }
        WriteOp::Progress { id, agent, message, percent, lease_until } => {
            progress(tx, req, *id, agent.as_deref(), (message, *percent), lease_until, now)?
        }
        WriteOp::Presence { name, joined, users } => presence(tx, req, name, *joined, users, now)?,
        WriteOp::DisableWebhook { id, reason } => disable_webhook(tx, req, *id, reason, now)?,
    };
    let mut outcome = outcome;
    if let Applied::Committed(c) = &mut outcome {
        c.notifications = notify(tx, req, c, now)?;
        queue_deliveries(tx, &req.board, c, now)?;
        if let Some((board, then)) = &c.then {
            queue_deliveries(tx, board, then, now)?;
        }
    }
    if let (Some((credential, op_id)), Applied::Committed(c)) = (&req.idempotency, &outcome) {
        tx.remember(credential, op_id, &json!({ "op": req.op.kind(), "result": c.result }), now)?;
    }
    Ok(outcome)
}

/// Takes the next sequence number and stores the activity entries under it.
fn commit(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    now: &str,
    change: Change,
    entries: Vec<NewActivity>,
    result: Value,
) -> AppResult<Applied> {
    Ok(Applied::Committed(Box::new(committed_on(tx, &req.board, now, change, entries, result)?)))
}

/// `commit` on any board: the change takes `board`'s next sequence number.
fn committed_on(
    tx: &mut dyn Tx,
    board: &str,
    now: &str,
    change: Change,
    entries: Vec<NewActivity>,
    result: Value,
) -> AppResult<Committed> {
    let seq = tx.next_seq(board)?;
    let activity = entries
        .into_iter()
        .map(|entry| tx.insert_activity(board, seq, &entry, now))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Committed { seq, at: now.to_owned(), change, activity, result, then: None, notifications: Vec::new() })
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn create_task(tx: &mut dyn Tx, req: &WriteRequest, new: &NewTask, now: &str) -> AppResult<Applied> {
    // Appending (the usual case) needs only the column's end, not the whole column.
    let (position, shifts) = match new.position {
        None => (tx.end_of_column(&req.board, new.status)?, Vec::new()),
        Some(_) => task::place(&tx.column(&req.board, new.status)?, new.position),
    };
    check_blockers(tx, &req.board, None, &new.blocked_by)?;
    check_labels(tx, &req.board, &new.labels)?;
    let shifted = tx.shift_tasks(&req.board, &shifts)?;
    let mut created = tx.insert_task(&req.board, new, position, &req.actor, now)?;
    tx.set_blockers(&req.board, created.id, &new.blocked_by)?;
    created.blocked_by = new.blocked_by.clone();
    let entry = NewActivity {
        kind: "task.created",
        user: req.actor.clone(),
        message: format!("{} created #{} “{}”", req.actor, created.id, created.title),
        task_id: Some(created.id),
        changes: Some(task::creation_changes(&created)),
    };
    let result = to_json(&created);
    commit(tx, req, now, Change::TaskCreated { task: created, shifted }, vec![entry], result)
}

fn update_task(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    id: i64,
    patch: &TaskPatch,
    now: &str,
) -> AppResult<Applied> {
    let current = tx.task(&req.board, id)?.ok_or(AppError::TaskNotFound(id))?;
    if let Some(expected) = patch.expected_version
        && expected != current.version
    {
        return Err(AppError::Conflict(format!(
            "Task {id} is at version {}, not {expected}: reload it and try again",
            current.version
        )));
    }
    if let Some(blockers) = patch.blocked_by.as_ref().filter(|b| **b != current.blocked_by) {
        check_blockers(tx, &req.board, Some(id), blockers)?;
    }
    if let Some(labels) = patch.labels.as_ref().filter(|l| **l != current.labels) {
        check_labels(tx, &req.board, labels)?;
    }
    let mut edit = patch.apply(&current);
    let mut shifted = Vec::new();
    if patch.needs_placement(&edit) {
        // A same-column move without a position changes nothing.
        if edit.moved_from.is_some() || patch.position.is_some() {
            let (position, shifts) = match patch.position {
                // A status change to the end of the new column, where this task is not yet.
                None => (tx.end_of_column(&req.board, edit.task.status)?, Vec::new()),
                Some(_) => {
                    let others: Vec<(i64, i64)> = tx
                        .column(&req.board, edit.task.status)?
                        .into_iter()
                        .filter(|(other, _)| *other != id)
                        .collect();
                    task::place(&others, patch.position)
                }
            };
            let stays = edit.moved_from.is_none() && shifts.is_empty() && position == current.position;
            if !stays {
                if position != current.position {
                    edit.changes.insert(
                        "position".into(),
                        serde_json::json!({ "from": current.position, "to": position }),
                    );
                }
                edit.task.position = position;
                shifted = tx.shift_tasks(&req.board, &shifts)?;
            }
        }
    }
    // A claim ends when its task leaves IN_PROGRESS/BLOCKED or is reassigned; its agent is
    // then free again.
    let mut freed = None;
    if let Some(holder) = current.claimed_by.as_deref()
        && !edit.task.claim_still_holds()
    {
        record(&mut edit.changes, "claimedBy", json!(holder), Value::Null);
        record(&mut edit.changes, "leaseExpiresAt", json!(current.lease_expires_at), Value::Null);
        edit.task.claimed_by = None;
        edit.task.lease_expires_at = None;
        freed = free_agent(tx, &req.board, holder, id)?;
    }
    if edit.changes.is_empty() && shifted.is_empty() {
        return Ok(Applied::Unchanged(to_json(&current)));
    }
    edit.task.version += 1;
    edit.task.updated_at = now.to_owned();
    tx.save_task(&req.board, &edit.task)?;
    if edit.changes.contains_key("blockedBy") {
        tx.set_blockers(&req.board, id, &edit.task.blocked_by)?;
    }
    let mut entries = Vec::new();
    if let Some(from) = edit.moved_from {
        entries.push(NewActivity {
            kind: "task.moved",
            user: req.actor.clone(),
            message: format!("{} moved #{} from {from} to {}", req.actor, id, edit.task.status),
            task_id: Some(id),
            changes: Some(edit.changes.clone()),
        });
    } else {
        let fields: Vec<&str> = edit.changes.keys().map(String::as_str).collect();
        entries.push(NewActivity {
            kind: "task.updated",
            user: req.actor.clone(),
            message: if fields.is_empty() {
                format!("{} reordered #{}", req.actor, id)
            } else {
                format!("{} updated #{}: {}", req.actor, id, fields.join(", "))
            },
            task_id: Some(id),
            changes: Some(edit.changes.clone()),
        });
    }
    if edit.moved_from.is_some() && edit.task.status == Status::Done {
        entries.extend(unblocked_by(tx, req, &edit.task)?);
    }
    let result = to_json(&edit.task);
    let change = Change::TaskUpdated {
        task: edit.task,
        changes: edit.changes,
        moved_from: edit.moved_from,
        shifted,
        agent: freed,
    };
    commit(tx, req, now, change, entries, result)
}

/// The task leaves its board (an event of deletion there) and arrives on `target` (an event of
/// creation there), keeping its id and history; a claim ends with the move, as agents belong
/// to boards, and its blockers and the others' waits on it end, as dependencies stay on a board.
fn move_to_board(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    id: i64,
    target: &str,
    (status, position): (Option<Status>, Option<i64>),
    now: &str,
) -> AppResult<Applied> {
    let current = tx.task(&req.board, id)?.ok_or(AppError::TaskNotFound(id))?;
    if !tx.board_exists(target)? {
        return Err(AppError::BoardNotFound(target.to_owned()));
    }
    let status = status.unwrap_or(current.status);
    let (position, shifts) = match position {
        None => (tx.end_of_column(target, status)?, Vec::new()),
        Some(_) => task::place(&tx.column(target, status)?, position),
    };
    let shifted = tx.shift_tasks(target, &shifts)?;
    let moved = Task {
        board: target.to_owned(),
        status,
        position,
        updated_at: now.to_owned(),
        version: current.version + 1,
        claimed_by: None,
        lease_expires_at: None,
        progress: None,
        // Its blockers are tasks of the board it leaves.
        blocked_by: Vec::new(),
        labels: same_labels_on(tx, &req.board, target, &current.labels)?,
        ..current.clone()
    };
    tx.rehome_task(&req.board, &moved)?;
    let mut changes = Changes::new();
    changes.insert("board".into(), json!({ "from": req.board, "to": target }));
    let entry = |message: String| NewActivity {
        kind: "task.moved",
        user: req.actor.clone(),
        message,
        task_id: Some(id),
        changes: Some(changes.clone()),
    };
    let result = to_json(&moved);
    let mut left = vec![entry(format!("{} moved #{id} “{}” to the board {target}", req.actor, moved.title))];
    let arrived =
        entry(format!("{} moved #{id} “{}” here from the board {}", req.actor, moved.title, req.board));
    let dependents = release_dependents(tx, req, id, "moved away", &mut left, now)?;
    let gone = Change::TaskDeleted { task: current, dependents };
    let mut out = committed_on(tx, &req.board, now, gone, left, result.clone())?;
    let change = Change::TaskCreated { task: moved, shifted };
    let into = committed_on(tx, target, now, change, vec![arrived], result)?;
    out.then = Some((target.to_owned(), Box::new(into)));
    Ok(Applied::Committed(Box::new(out)))
}

/// The notifications a committed change makes: `@name` mentions in a new comment or in a
/// description as written (only the names it did not mention before), a new assignee, and the
/// assignees of tasks it unblocked. Never for the actor's own action.
fn notify(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    c: &Committed,
    now: &str,
) -> AppResult<Vec<(String, Notification)>> {
    let mut wanted: Vec<NewNotification> = Vec::new();
    let new = |person: String, kind, task_id: i64, comment_id: Option<i64>, text: &str| NewNotification {
        person,
        kind,
        task_id: Some(task_id),
        comment_id,
        excerpt: notifications::excerpt(text, notifications::EXCERPT_MAX),
    };
    let mentions = |tx: &mut dyn Tx, text: &str, before: &str| -> AppResult<Vec<String>> {
        if !text.contains('@') {
            return Ok(Vec::new());
        }
        let known = tx.known_people(&req.board)?;
        let already = notifications::mentioned(before, &known);
        Ok(notifications::mentioned(text, &known).into_iter().filter(|p| !already.contains(p)).collect())
    };
    match &c.change {
        Change::CommentCreated(comment) => {
            for person in mentions(tx, &comment.body, "")? {
                wanted.push(new(person, "mention", comment.task_id, Some(comment.id), &comment.body));
            }
        }
        Change::TaskCreated { task, .. } | Change::TaskUpdated { task, .. } => {
            let changes = match &c.change {
                Change::TaskUpdated { changes, .. } => Some(changes),
                _ => None,
            };
            let changed = |field: &str| changes.is_none_or(|ch| ch.contains_key(field));
            if changed("description") {
                let before = changes
                    .and_then(|ch| ch.get("description"))
                    .and_then(|d| d.get("from"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                for person in mentions(tx, &task.description, before)? {
                    wanted.push(new(person, "mention", task.id, None, &task.description));
                }
            }
            if changed("assignee")
                && let Some(assignee) = &task.assignee
            {
                wanted.push(new(input::person_key(assignee), "assigned", task.id, None, &task.title));
            }
        }
        _ => {}
    }
    for entry in c.activity.iter().filter(|a| a.kind == "task.unblocked") {
        if let Some(id) = entry.task_id
            && let Some(task) = tx.task(&req.board, id)?
            && let Some(assignee) = &task.assignee
        {
            wanted.push(new(input::person_key(assignee), "unblocked", id, None, &task.title));
        }
    }
    let actor = input::person_key(&req.actor);
    let mut made = Vec::new();
    for n in wanted.into_iter().filter(|n| n.person != actor) {
        let stored = tx.insert_notification(&req.board, &req.actor, now, &n)?;
        made.push((n.person, stored));
    }
    Ok(made)
}

/// `labels` of board `from` as labels of board `to`: those of the same name (case aside); the
/// others are dropped.
fn same_labels_on(tx: &mut dyn Tx, from: &str, to: &str, labels: &[i64]) -> AppResult<Vec<i64>> {
    if labels.is_empty() {
        return Ok(Vec::new());
    }
    let (source, target) = (tx.labels(from)?, tx.labels(to)?);
    Ok(labels
        .iter()
        .filter_map(|id| source.iter().find(|l| l.id == *id))
        .filter_map(|l| target.iter().find(|t| cards::same_label_name(&t.name, &l.name)))
        .map(|t| t.id)
        .collect())
}

fn delete_task(tx: &mut dyn Tx, req: &WriteRequest, id: i64, now: &str) -> AppResult<Applied> {
    let task = tx.task(&req.board, id)?.ok_or(AppError::TaskNotFound(id))?;
    let mut entries = vec![NewActivity {
        kind: "task.deleted",
        user: req.actor.clone(),
        message: format!("{} deleted #{} “{}”", req.actor, id, task.title),
        task_id: Some(id),
        changes: None,
    }];
    let dependents = release_dependents(tx, req, id, "deleted", &mut entries, now)?;
    // Its own rows and the others' rows naming it go with it.
    tx.delete_task(&req.board, id)?;
    commit(tx, req, now, Change::TaskDeleted { task, dependents }, entries, Value::Null)
}

/// The tasks that waited for task `id`, which leaves the board (`verb`: how), stop waiting
/// for it in the same change: each is a change of its `blockedBy`, with its version, its event
/// and its history entry (pushed on `entries`). The rows naming `id` are the caller's to remove.
fn release_dependents(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    id: i64,
    verb: &str,
    entries: &mut Vec<NewActivity>,
    now: &str,
) -> AppResult<Vec<Task>> {
    let mut dependents = Vec::new();
    for dependent in tx.dependents(&req.board, id)? {
        let Some(mut waiting) = tx.task(&req.board, dependent)? else { continue };
        let mut changes = Changes::new();
        let before = json!(waiting.blocked_by);
        waiting.blocked_by.retain(|blocker| *blocker != id);
        record(&mut changes, "blockedBy", before, json!(waiting.blocked_by));
        waiting.version += 1;
        waiting.updated_at = now.to_owned();
        tx.save_task(&req.board, &waiting)?;
        entries.push(NewActivity {
            kind: "task.updated",
            user: req.actor.clone(),
            message: format!("{} {verb} #{id}, which #{dependent} waited for", req.actor),
            task_id: Some(dependent),
            changes: Some(changes),
        });
        dependents.push(waiting);
    }
    Ok(dependents)
}

/// Refuses label ids that are not labels of the board.
fn check_labels(tx: &mut dyn Tx, board: &str, labels: &[i64]) -> AppResult<()> {
    if labels.is_empty() {
        return Ok(());
    }
    let known = tx.labels(board)?;
    match labels.iter().find(|id| !known.iter().any(|l| l.id == **id)) {
        Some(id) => Err(AppError::validation(format!("`labels`: {id} is not a label of this board"))),
        None => Ok(()),
    }
}

/// Refuses a label name another label of the board has, whatever the case.
fn check_label_name(labels: &[Label], name: &str, except: Option<i64>) -> AppResult<()> {
    match labels.iter().find(|l| Some(l.id) != except && cards::same_label_name(&l.name, name)) {
        Some(l) => Err(AppError::Conflict(format!("The label “{}” exists already on this board", l.name))),
        None => Ok(()),
    }
}

/// Writes a whole import under one sequence number with one activity entry, or nothing: any
/// failure rolls the writer's savepoint back. Labels of the same name (case aside) are reused;
/// tasks go to the end of their columns in the file's order, written by the importer.
fn import(tx: &mut dyn Tx, req: &WriteRequest, plan: &ImportPlan, now: &str) -> AppResult<Applied> {
    let mut labels = tx.labels(&req.board)?;
    let outcome = plan.outcome(&labels);
    let wanted: Vec<NewLabel> =
        plan.new_labels(&labels).map(|l| NewLabel { name: l.name.clone(), color: l.color.clone() }).collect();
    for label in &wanted {
        labels.push(tx.insert_label(&req.board, label)?);
    }
    for task in &plan.tasks {
        let ids = task
            .labels
            .iter()
            .filter_map(|name| labels.iter().find(|l| cards::same_label_name(&l.name, name)).map(|l| l.id))
            .collect();
        let new = NewTask {
            title: task.title.clone(),
            description: task.description.clone(),
            status: task.status,
            assignee: task.assignee.clone(),
            position: None,
            blocked_by: Vec::new(),
            labels: ids,
            due_at: task.due_at.clone(),
        };
        let position = tx.end_of_column(&req.board, new.status)?;
        let created = tx.insert_task(&req.board, &new, position, &req.actor, now)?;
        for comment in &task.comments {
            let at = comment.created_at.as_deref().unwrap_or(now);
            tx.insert_comment(&req.board, created.id, &comment.author, &comment.body, at)?;
        }
    }
    let ImportCounts { tasks, labels: new_labels, comments } = outcome.imported;
    let entry = NewActivity {
        kind: "board.imported",
        user: req.actor.clone(),
        message: format!(
            "{} imported {tasks} tasks, {new_labels} labels and {comments} comments ({})",
            req.actor, plan.source
        ),
        task_id: None,
        changes: None,
    };
    let result = to_json(&outcome);
    commit(tx, req, now, Change::BoardImported, vec![entry], result)
}

fn create_label(tx: &mut dyn Tx, req: &WriteRequest, new: &NewLabel, now: &str) -> AppResult<Applied> {
    check_label_name(&tx.labels(&req.board)?, &new.name, None)?;
    let label = tx.insert_label(&req.board, new)?;
    let result = to_json(&label);
    commit(tx, req, now, Change::LabelCreated(label), Vec::new(), result)
}

fn update_label(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    id: i64,
    patch: &LabelPatch,
    now: &str,
) -> AppResult<Applied> {
    let labels = tx.labels(&req.board)?;
    let current = labels.iter().find(|l| l.id == id).ok_or_else(|| label_not_found(id))?;
    let mut label = current.clone();
    if let Some(name) = &patch.name {
        check_label_name(&labels, name, Some(id))?;
        label.name = name.clone();
    }
    if let Some(color) = &patch.color {
        label.color = color.clone();
    }
    if label == *current {
        return Ok(Applied::Unchanged(to_json(&label)));
    }
    tx.save_label(&label)?;
    let result = to_json(&label);
    commit(tx, req, now, Change::LabelUpdated(label), Vec::new(), result)
}

fn delete_label(tx: &mut dyn Tx, req: &WriteRequest, id: i64, now: &str) -> AppResult<Applied> {
    if !tx.labels(&req.board)?.iter().any(|l| l.id == id) {
        return Err(label_not_found(id));
    }
    let mut tasks = tx.tasks_with_label(&req.board, id)?;
    for task in &mut tasks {
        task.labels.retain(|l| *l != id);
        task.version += 1;
        task.updated_at = now.to_owned();
        tx.save_task(&req.board, task)?;
    }
    tx.delete_label(&req.board, id)?;
    commit(tx, req, now, Change::LabelDeleted { id, tasks }, Vec::new(), Value::Null)
}

/// The outbox: one delivery per activity entry of the change for each of the board's active
/// webhooks that wants its type, in the change's own transaction, so a crash right after the
/// commit loses none.
fn queue_deliveries(tx: &mut dyn Tx, board: &str, c: &Committed, now: &str) -> AppResult<()> {
    if c.activity.is_empty() {
        return Ok(());
    }
    let hooks = tx.listening_webhooks(board)?;
    for entry in &c.activity {
        let wanting: Vec<i64> = hooks
            .iter()
            .filter(|(_, events)| webhooks::wants(events, &entry.kind))
            .map(|(id, _)| *id)
            .collect();
        if wanting.is_empty() {
            continue;
        }
        let task = match entry.task_id {
            Some(id) => tx.task(board, id)?,
            None => None,
        };
        let payload = webhooks::payload(board, entry, task.as_ref()).to_string();
        for id in wanting {
            tx.queue_delivery(board, id, &entry.kind, c.seq, &payload, now)?;
        }
    }
    Ok(())
}

fn disable_webhook(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    id: i64,
    reason: &str,
    now: &str,
) -> AppResult<Applied> {
    let Some(hook) = tx.deactivate_webhook(&req.board, id)? else {
        return Ok(Applied::Unchanged(Value::Null));
    };
    let entry = NewActivity {
        kind: "webhook.disabled",
        user: req.actor.clone(),
        message: format!("Webhook #{id} to {} was disabled: {reason}", hook.url),
        task_id: None,
        changes: None,
    };
    commit(tx, req, now, Change::WebhookDisabled { id }, vec![entry], json!(hook))
}

fn label_not_found(id: i64) -> AppError {
    AppError::NotFound(format!("Label {id} not found"))
}

fn comment_not_found(id: i64) -> AppError {
    AppError::NotFound(format!("Comment {id} not found"))
}

/// How much of a comment the feed quotes.
const FEED_EXCERPT: usize = 80;

fn comment_entry(req: &WriteRequest, kind: &'static str, comment: &Comment, message: String) -> NewActivity {
    let mut changes = Changes::new();
    changes.insert("commentId".into(), json!(comment.id));
    NewActivity {
        kind,
        user: req.actor.clone(),
        message,
        task_id: Some(comment.task_id),
        changes: Some(changes),
    }
}

/// A comment is not an edit of its task: the task's version stays.
fn create_comment(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    task_id: i64,
    body: &str,
    now: &str,
) -> AppResult<Applied> {
    tx.task(&req.board, task_id)?.ok_or(AppError::TaskNotFound(task_id))?;
    let comment = tx.insert_comment(&req.board, task_id, &req.actor, body, now)?;
    let message =
        format!("{} commented on #{task_id}: {}", req.actor, notifications::excerpt(body, FEED_EXCERPT));
    let entry = comment_entry(req, "comment.created", &comment, message);
    let result = to_json(&comment);
    commit(tx, req, now, Change::CommentCreated(comment), vec![entry], result)
}

/// The comment, if the actor may change it: its author, or an admin.
fn own_comment(tx: &mut dyn Tx, req: &WriteRequest, id: i64, admin: bool) -> AppResult<Comment> {
    let comment = tx.comment(&req.board, id)?.ok_or_else(|| comment_not_found(id))?;
    if !admin && input::person_key(&comment.author) != input::person_key(&req.actor) {
        return Err(AppError::Forbidden(format!(
            "Only {} or an admin may change this comment",
            comment.author
        )));
    }
    Ok(comment)
}

fn update_comment(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    id: i64,
    body: &str,
    admin: bool,
    now: &str,
) -> AppResult<Applied> {
    let mut comment = own_comment(tx, req, id, admin)?;
    if comment.body == body {
        return Ok(Applied::Unchanged(to_json(&comment)));
    }
    comment.body = body.to_owned();
    comment.updated_at = now.to_owned();
    comment.edited = true;
    tx.save_comment(&comment)?;
    let message = format!(
        "{} edited a comment on #{}: {}",
        req.actor,
        comment.task_id,
        notifications::excerpt(body, FEED_EXCERPT)
    );
    let entry = comment_entry(req, "comment.updated", &comment, message);
    let result = to_json(&comment);
    commit(tx, req, now, Change::CommentUpdated(comment), vec![entry], result)
}

fn delete_comment(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    id: i64,
    admin: bool,
    now: &str,
) -> AppResult<Applied> {
    let comment = own_comment(tx, req, id, admin)?;
    tx.delete_comment(&req.board, id)?;
    let message = format!("{} deleted a comment on #{}", req.actor, comment.task_id);
    let entry = comment_entry(req, "comment.deleted", &comment, message);
    commit(tx, req, now, Change::CommentDeleted { id, task_id: comment.task_id }, vec![entry], Value::Null)
}

/// Refuses a `blockedBy` that names the task itself, a task that does not exist or is on
/// another board, or (for an existing task) closes a cycle in the board's work graph.
fn check_blockers(tx: &mut dyn Tx, board: &str, task: Option<i64>, blockers: &[i64]) -> AppResult<()> {
    for &blocker in blockers {
        if Some(blocker) == task {
            return Err(AppError::validation(format!("`blockedBy`: task {blocker} cannot wait for itself")));
        }
        match tx.board_of(blocker)? {
            Some(its) if its == board => {}
            Some(_) => {
                return Err(AppError::validation(format!("`blockedBy`: task {blocker} is on another board")));
            }
            None => return Err(AppError::validation(format!("`blockedBy`: task {blocker} does not exist"))),
        }
    }
    // A new task has no dependents yet, so it cannot close a cycle.
    if let Some(task) = task
        && let Some(cycle) = find_cycle(task, blockers, &tx.blocker_pairs(board)?)
    {
        return Err(AppError::validation(format!(
            "`blockedBy` would make a cycle: {} (each waits for the next)",
            spell_cycle(&cycle)
        )));
    }
    Ok(())
}

/// `done` just reached DONE: every task that waited for it and now has no open blocker left
/// gets `task.unblocked`, under the name of whoever finished the blocker.
fn unblocked_by(tx: &mut dyn Tx, req: &WriteRequest, done: &Task) -> AppResult<Vec<NewActivity>> {
    let mut entries = Vec::new();
    'waiting: for dependent in tx.dependents(&req.board, done.id)? {
        let Some(waiting) = tx.task(&req.board, dependent)? else { continue };
        if waiting.status == Status::Done {
            continue;
        }
        for &blocker in waiting.blocked_by.iter().filter(|b| **b != done.id) {
            if tx.task(&req.board, blocker)?.is_some_and(|b| b.status != Status::Done) {
                continue 'waiting;
            }
        }
        entries.push(NewActivity {
            kind: "task.unblocked",
            user: req.actor.clone(),
            message: format!(
                "#{dependent} “{}” is ready: {} finished #{}, the last task it waited for",
                waiting.title, req.actor, done.id
            ),
            task_id: Some(dependent),
            changes: None,
        });
    }
    Ok(entries)
}

fn report_agent(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    report: &AgentReport,
    lease_until: &str,
    now: &str,
) -> AppResult<Applied> {
    if let Some(Some(task_id)) = report.current_task_id
        && tx.task(&req.board, task_id)?.is_none()
    {
        return Err(AppError::TaskNotFound(task_id));
    }
    let before = tx.agent(&req.board, &report.id)?;
    let agent = Agent {
        id: report.id.clone(),
        name: report
            .name
            .clone()
            .or_else(|| before.as_ref().map(|a| a.name.clone()))
            .unwrap_or_else(|| report.id.clone()),
        status: report.status,
        current_task_id: match report.current_task_id {
            Some(task) => task,
            None => before.as_ref().and_then(|a| a.current_task_id),
        },
        last_seen: now.to_owned(),
    };
    tx.save_agent(&req.board, &agent)?;
    // Any heartbeat renews the agent's claims, silently: no version change, no event.
    if agent.status != AgentStatus::Offline {
        tx.renew_leases(&req.board, &agent.id, lease_until)?;
    }
    let status_changed = before.as_ref().map(|a| a.status) != Some(agent.status);
    // Status changes, not heartbeats, are recorded as activity.
    let entries = if status_changed {
        vec![NewActivity {
            kind: "agent.status",
            user: agent.id.clone(),
            message: format!("{} is {}", agent.name, agent.status.as_str()),
            task_id: agent.current_task_id,
            changes: None,
        }]
    } else {
        Vec::new()
    };
    let result = to_json(&agent);
    commit(tx, req, now, Change::AgentReported { agent, status_changed }, entries, result)
}

/// Saves a changed task (version + 1) with one activity entry, and commits.
#[allow(clippy::too_many_arguments)]
fn commit_task_change(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    now: &str,
    current: &Task,
    mut task: Task,
    changes: Changes,
    entry: NewActivity,
    agent: Option<Agent>,
) -> AppResult<Applied> {
    task.version = current.version + 1;
    task.updated_at = now.to_owned();
    tx.save_task(&req.board, &task)?;
    let moved_from = (task.status != current.status).then_some(current.status);
    let result = to_json(&task);
    let change = Change::TaskUpdated { task, changes, moved_from, shifted: Vec::new(), agent };
    commit(tx, req, now, change, vec![entry], result)
}

/// Moves a task to the end of another column, recording the status and position changes.
fn move_to_end(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    task: &mut Task,
    status: Status,
    changes: &mut Changes,
) -> AppResult<()> {
    if task.status == status {
        return Ok(());
    }
    let position = tx.end_of_column(&req.board, status)?;
    record(changes, "status", json!(task.status), json!(status));
    if position != task.position {
        record(changes, "position", json!(task.position), json!(position));
    }
    task.status = status;
    task.position = position;
    Ok(())
}

fn claim(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    id: Option<i64>,
    agent_id: &str,
    lease_until: &str,
    now: &str,
) -> AppResult<Applied> {
    let current = match id {
        Some(id) => tx.task(&req.board, id)?.ok_or(AppError::TaskNotFound(id))?,
        None => match tx.next_claimable(&req.board)? {
            Some(task) => task,
            None => return Ok(Applied::Unchanged(Value::Null)),
        },
    };
    let id = current.id;
    if current.status == Status::Done {
        return Err(AppError::Conflict(format!("Task {id} is done")));
    }
    if current.claimed_by.as_deref() == Some(agent_id) {
        // The holder asking again (its ack was lost and it retried) is told it has the task,
        // and the claim is renewed as a heartbeat would: no version, no event, no activity.
        // `Unchanged` writes are kept by the store, so the renewal commits.
        tx.renew_leases(&req.board, agent_id, lease_until)?;
        let mut task = current;
        task.lease_expires_at = Some(lease_until.to_owned());
        return Ok(Applied::Unchanged(to_json(&task)));
    }
    if let Some(holder) = &current.claimed_by {
        return Err(AppError::Conflict(format!("Task {id} is already claimed by {holder}")));
    }
    if let Some(assignee) = current.assignee.as_deref().filter(|a| *a != agent_id) {
        return Err(AppError::Conflict(format!("Task {id} is assigned to {assignee}")));
    }
    let mut task = current.clone();
    let mut changes = Changes::new();
    move_to_end(tx, req, &mut task, Status::InProgress, &mut changes)?;
    if task.assignee.as_deref() != Some(agent_id) {
        record(&mut changes, "assignee", json!(task.assignee), json!(agent_id));
        task.assignee = Some(agent_id.to_owned());
    }
    record(&mut changes, "claimedBy", Value::Null, json!(agent_id));
    record(&mut changes, "leaseExpiresAt", Value::Null, json!(lease_until));
    task.claimed_by = Some(agent_id.to_owned());
    task.lease_expires_at = Some(lease_until.to_owned());
    if task.progress.take().is_some() {
        record(&mut changes, "progress", json!(current.progress), Value::Null);
    }
    // The agent is working on it now; an unknown agent is created.
    let before = tx.agent(&req.board, agent_id)?;
    let agent = Agent {
        id: agent_id.to_owned(),
        name: before.as_ref().map(|a| a.name.clone()).unwrap_or_else(|| agent_id.to_owned()),
        status: AgentStatus::Busy,
        current_task_id: Some(id),
        last_seen: now.to_owned(),
    };
    tx.save_agent(&req.board, &agent)?;
    let entry = NewActivity {
        kind: "task.claimed",
        user: agent_id.to_owned(),
        message: format!("{agent_id} claimed #{id} “{}”", task.title),
        task_id: Some(id),
        changes: Some(changes.clone()),
    };
    commit_task_change(tx, req, now, &current, task, changes, entry, Some(agent))
}

/// The agent is no longer working on `task_id`: no current task, and idle if it was busy.
fn free_agent(tx: &mut dyn Tx, board: &str, agent_id: &str, task_id: i64) -> AppResult<Option<Agent>> {
    match tx.agent(board, agent_id)? {
        Some(mut agent) if agent.current_task_id == Some(task_id) => {
            agent.current_task_id = None;
            if agent.status == AgentStatus::Busy {
                agent.status = AgentStatus::Idle;
            }
            tx.save_agent(board, &agent)?;
            Ok(Some(agent))
        }
        _ => Ok(None),
    }
}

enum GiveBack {
    /// `task:release`: the agent (or a person) hands it back.
    Release,
    /// The lease ran out.
    Requeue,
}

/// Back to TODO, unassigned, unclaimed, without progress.
fn give_back(tx: &mut dyn Tx, req: &WriteRequest, id: i64, why: GiveBack, now: &str) -> AppResult<Applied> {
    let current = tx.task(&req.board, id)?.ok_or(AppError::TaskNotFound(id))?;
    let Some(holder) = current.claimed_by.clone() else {
        return match why {
            GiveBack::Release => Err(AppError::Conflict(format!("Task {id} is not claimed"))),
            // Released or changed since the sweep looked: nothing to do.
            GiveBack::Requeue => Ok(Applied::Unchanged(to_json(&current))),
        };
    };
    if matches!(why, GiveBack::Requeue) && current.lease_expires_at.as_deref().is_none_or(|until| until > now)
    {
        return Ok(Applied::Unchanged(to_json(&current)));
    }
    let mut task = current.clone();
    let mut changes = Changes::new();
    move_to_end(tx, req, &mut task, Status::Todo, &mut changes)?;
    record(&mut changes, "assignee", json!(task.assignee), Value::Null);
    record(&mut changes, "claimedBy", json!(holder), Value::Null);
    record(&mut changes, "leaseExpiresAt", json!(task.lease_expires_at), Value::Null);
    if task.progress.is_some() {
        record(&mut changes, "progress", json!(task.progress), Value::Null);
    }
    task.assignee = None;
    task.claimed_by = None;
    task.lease_expires_at = None;
    task.progress = None;
    let agent = free_agent(tx, &req.board, &holder, id)?;
    let entry = match why {
        GiveBack::Release => NewActivity {
            kind: "task.released",
            user: holder.clone(),
            message: format!("{holder} released #{id} “{}”", task.title),
            task_id: Some(id),
            changes: Some(changes.clone()),
        },
        GiveBack::Requeue => NewActivity {
            kind: "task.requeued",
            user: holder.clone(),
            message: format!("#{id} “{}” went back to TODO: {holder}'s lease ran out", task.title),
            task_id: Some(id),
            changes: Some(changes.clone()),
        },
    };
    commit_task_change(tx, req, now, &current, task, changes, entry, agent)
}

fn progress(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    id: i64,
    agent: Option<&str>,
    (message, percent): (&str, Option<f64>),
    lease_until: &str,
    now: &str,
) -> AppResult<Applied> {
    let current = tx.task(&req.board, id)?.ok_or(AppError::TaskNotFound(id))?;
    // An agent whose claim ended (released, requeued, reassigned) must not write to the task.
    if let Some(agent) = agent
        && current.claimed_by.as_deref() != Some(agent)
    {
        return Err(AppError::Conflict(match &current.claimed_by {
            Some(holder) => format!("Task {id} is claimed by {holder}, not {agent}"),
            None => format!("Task {id} is not claimed: {agent} no longer holds it"),
        }));
    }
    let note = Progress { message: message.to_owned(), percent, at: now.to_owned() };
    let mut changes = Changes::new();
    record(&mut changes, "progress", json!(current.progress), json!(note));
    let mut task = current.clone();
    task.progress = Some(note);
    // A note from the agent holding the task shows it is alive, like a heartbeat.
    if task.claimed_by.as_deref() == Some(req.actor.as_str()) {
        record(&mut changes, "leaseExpiresAt", json!(task.lease_expires_at), json!(lease_until));
        task.lease_expires_at = Some(lease_until.to_owned());
    }
    let shown = match percent {
        Some(p) => format!("{p}% — {message}"),
        None => message.to_owned(),
    };
    let entry = NewActivity {
        kind: "task.progress",
        user: req.actor.clone(),
        message: format!("{} on #{id}: {shown}", req.actor),
        task_id: Some(id),
        changes: Some(changes.clone()),
    };
    commit_task_change(tx, req, now, &current, task, changes, entry, None)
}

/// Marks an agent offline (its socket went away, or its REST heartbeats stopped).
pub fn offline_report(id: &str) -> AgentReport {
    AgentReport { id: id.to_owned(), name: None, status: AgentStatus::Offline, current_task_id: None }
}

fn presence(
    tx: &mut dyn Tx,
    req: &WriteRequest,
    name: &str,
    joined: bool,
    users: &[User],
    now: &str,
) -> AppResult<Applied> {
    let entry = NewActivity {
        kind: if joined { "user.joined" } else { "user.left" },
        user: name.to_owned(),
        message: if joined {
            format!("{name} joined the war room")
        } else {
            format!("{name} left the war room")
        },
        task_id: None,
        changes: None,
    };
    let change = Change::Presence { name: name.to_owned(), joined, users: users.to_vec() };
    commit(tx, req, now, change, vec![entry], Value::Null)
}
