//! The board service: the one door every write goes through, from any adapter.
//!
//! validate (check the typed input, or parse the payload) → check what only memory knows (drag
//! locks) → persist (one store transaction, `domain::write`) → publish the committed change on
//! the bus. Socket.IO and REST call these methods with the caller and the command's typed
//! input (`domain::input::Input`), or its raw payload where it is not typed yet; neither knows
//! SQL or who receives which event.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::activity::Activity;
use super::agent::{Agent, ReportAgent, parse_agent_id};
use super::boards::{self, BoardInfo, CreateBoard, UpdateBoard};
use super::cards::{self, Comment, CreateComment, CreateLabel, Label, UpdateComment, UpdateLabel};
use super::change::{Applied, Change, WriteOp, WriteRequest};
use super::coordination::{AgentGone, Coordination, InProcess};
use super::input::{self, Fields, Input};
use super::invites::{self, AcceptInvite, CreateInvite};
use super::notifications::{Notification, ReadNotifications};
use super::task::{
    ClaimTask, CreateTask, NextTask, ReleaseTask, ReportProgress, Status, Task, TaskPatch, UpdateTask,
};
use super::transfer::{self, Export};
use super::waiting::Waiting;
use super::webhooks::{
    self, AllowedHosts, CreateWebhook, Delivery, Format, NewWebhook, UpdateWebhook, Webhook,
};
use super::write::offline_report;
use crate::auth::{Invite, Keys, Role, StoredToken};
use crate::bus::{Bus, DomainEvent};
use crate::domain::storage::{Attempt, DueDelivery, Snapshot, Store, TaskFilter};
use crate::error::{AppError, AppResult};
use crate::presence::{PeopleChange, Presence, Seat, User};

/// The most notifications one listing returns.
pub const NOTIFICATIONS_LISTED: i64 = 200;

/// An agent that reports only over REST goes offline after this long without a heartbeat.
pub const AGENT_SILENCE: Duration = Duration::from_secs(60);

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Recorded as `createdBy`, `movedBy`, activity `user`…
    pub name: String,
    /// The credential's identity, which scopes `opId`s (socket and REST share it).
    pub credential: String,
    /// The asking socket, which may hold drag locks; `None` for REST.
    pub connection: Option<String>,
    /// What the credential may do; viewers only read.
    pub role: Role,
    /// The boards the credential reaches; `None`: every board.
    pub scope: Option<Arc<[String]>>,
}

impl Actor {
    /// The board itself acting (presence, agents going offline, expired leases).
    fn system(name: &str) -> Actor {
        Actor {
            name: name.to_owned(),
            credential: String::new(),
            connection: None,
            role: Role::Admin,
            scope: None,
        }
    }

    fn ensure_can_write(&self) -> AppResult<()> {
        if self.role.can_write() {
            Ok(())
        } else {
            Err(AppError::Forbidden("Viewers can read the board but not change it".into()))
        }
    }

    /// Refuses anyone but an admin: "Only an admin may {doing}".
    fn ensure_admin(&self, doing: &str) -> AppResult<()> {
        if self.role != Role::Admin {
            return Err(AppError::Forbidden(format!("Only an admin may {doing}")));
        }
        Ok(())
    }

    /// Webhooks are an admin's, within their boards.
    fn ensure_webhook_admin(&self, board: &str) -> AppResult<()> {
        self.ensure_admin("see or change webhooks")?;
        crate::auth::check_board(self.scope.as_deref(), board)
    }

    /// Boards are made, changed and deleted by admins, within their boards.
    fn ensure_admin_of(&self, board: &str) -> AppResult<()> {
        self.ensure_admin("create, change or delete boards")?;
        crate::auth::check_board(self.scope.as_deref(), board)
    }
}

/// The id a command names: from the route (REST) or from the payload (socket).
#[derive(Debug, Clone, Copy)]
pub enum TaskRef {
    Route(i64),
    Payload,
}

impl TaskRef {
    /// The task meant, given the id the body names (if any).
    fn resolve(self, given: Option<i64>) -> AppResult<i64> {
        match (self, given) {
            (TaskRef::Route(route), Some(body)) if route != body => {
                Err(AppError::validation("`id` in the body differs from the route's id"))
            }
            (TaskRef::Route(route), _) => Ok(route),
            (TaskRef::Payload, Some(id)) => Ok(id),
            (TaskRef::Payload, None) => Err(AppError::validation("`taskId` is required")),
        }
    }
}

#[derive(Clone)]
pub struct Board {
    store: Arc<dyn Store>,
    bus: Arc<Bus>,
    presence: Arc<Presence>,
    /// How long a claim lasts without a heartbeat (`LEASE_SECONDS`).
    lease: Duration,
    /// What is shared with other instances: people, drag locks, agents' owners, committed
    /// changes. In-process on one instance, through Redis with `REDIS_URL`.
    coordination: Arc<dyn Coordination>,
    /// Held from a change of the online list until its join or leave is committed, so that
    /// the list each `users:update` carries is the one of its sequence number: without it a
    /// leave committed just after someone else's arrival would already list them.
    people_turn: Arc<tokio::sync::Mutex<()>>,
    /// How long a person whose last connection closed stays online (`PRESENCE_GRACE_MS`).
    grace: Duration,
    /// Agents waiting for work (`task:next { wait }`), in line per board.
    waiting: Arc<Waiting>,
    /// The hosts webhooks may call; `None`: any.
    webhook_hosts: AllowedHosts,
    /// Every board, as last read: each connection lists them (`sync:full`'s `boards`), and
    /// reading them from the store on every connect cost a third of a connect with 50 boards.
    board_list: Arc<BoardList>,
}

/// The cached board list and its generation: a change of any board bumps the generation and
/// drops the list, and a list read from the store is kept only if no change came meanwhile.
#[derive(Default)]
struct BoardList(std::sync::Mutex<(u64, Option<Arc<Vec<BoardInfo>>>)>);

/// A connection named at its handshake, announced once the socket is in sync; until then no
/// one else comes or goes (see `Board::people_turn`).
pub struct Arrival<'a> {
    board: &'a Board,
    board_id: String,
    change: PeopleChange,
    _turn: tokio::sync::MutexGuard<'a, ()>,
}

impl Arrival<'_> {
    pub async fn announce(self) -> AppResult<()> {
        self.board.settle_people(&self.board_id, self.change).await
    }
}

impl Board {
    pub fn new(store: Arc<dyn Store>, bus: Arc<Bus>, presence: Arc<Presence>, lease: Duration) -> Board {
        let grace = crate::presence::PRESENCE_GRACE;
        let waiting = Arc::new(Waiting::new(bus.clone(), presence.clone()));
        let coordination = Arc::new(InProcess(presence.clone()));
        Board {
            store,
            bus,
            presence,
            lease,
            coordination,
            people_turn: Arc::default(),
            grace,
            waiting,
            webhook_hosts: None,
            board_list: Arc::default(),
        }
    }

    /// The same service, with webhooks limited to these hosts (`WEBHOOK_ALLOWED_HOSTS`).
    pub fn with_webhook_hosts(self, webhook_hosts: AllowedHosts) -> Board {
        Board { webhook_hosts, ..self }
    }

    /// The same service with another presence grace (SPEC's 10 s is the default).
    pub fn with_grace(self, grace: Duration) -> Board {
        Board { grace, ..self }
    }

    /// The same service, sharing its run-time state with other instances.
    pub fn with_coordination(self, coordination: Arc<dyn Coordination>) -> Board {
        Board { coordination, ..self }
    }

    pub fn bus(&self) -> &Arc<Bus> {
        &self.bus
    }

    /// Everyone online on a board, on every instance, ordered by id.
    pub fn users(&self, board: &str) -> Vec<User> {
        self.coordination.users(board)
    }

    /// Refuses a change of a task that someone else is dragging (on any instance).
    async fn check_unlocked(&self, board: &str, task_id: i64, conn: Option<&str>) -> AppResult<()> {
        self.coordination.check_unlocked(board, task_id, conn).await
    }

    fn lease_until(&self) -> String {
        crate::clock::after(self.lease)
    }

    /// Answers every waiting `task:next` now, with no task (shutdown).
    pub fn stop_waiting(&self) {
        self.waiting.stop();
    }

    /// The agents waiting for work on `board` on this instance, in arrival order.
    pub fn waiting_agents(&self, board: &str) -> Vec<String> {
        self.waiting.agents(board)
    }

    // ---- connections (the realtime adapter's bookkeeping, kept in presence) ----

    /// Counts one more connection of `credential` if it has fewer than `limit` (see
    /// `Presence::reserve`); `None`: the credential is at its limit.
    pub fn reserve_seat(&self, credential: &str, limit: usize) -> Option<Seat> {
        self.presence.reserve(credential, limit)
    }

    /// Opens a connection on `board` in the seat its handshake reserved.
    pub fn open_connection(&self, conn: &str, board: &str, seat: Seat) {
        self.presence.connect(conn, board, seat);
    }

    /// The connection's display name, or `anonymous`.
    pub fn name_of(&self, conn: &str) -> String {
        self.presence.name_of(conn)
    }

    /// Authenticated connections open on this instance now.
    pub fn connection_count(&self) -> usize {
        self.presence.connection_count()
    }

    // ---- the server's upkeep ----

    /// Whether the store answers (`/api/health`), within `timeout`.
    pub async fn store_answers(&self, timeout: Duration) -> bool {
        let probe = tokio::time::timeout(timeout, self.store.setting("health-probe")).await;
        matches!(probe, Ok(Ok(_)))
    }

    /// Every board with its last committed sequence number, as stored now (where the
    /// fan-out's resume rings start).
    pub async fn boards_with_seq(&self) -> AppResult<Vec<(String, i64)>> {
        let mut boards = Vec::new();
        for board in self.store.boards().await? {
            let seq = self.store.seq(&board.id).await?;
            boards.push((board.id, seq));
        }
        Ok(boards)
    }

    /// Whether a board exists now, read from the store (a handshake may name a board made on
    /// another instance a moment ago).
    pub async fn board_exists(&self, id: &str) -> AppResult<bool> {
        Ok(self.store.board(id).await?.is_some())
    }

    /// Every token, revoked ones included: the command line creates and revokes them in the
    /// database, and the server reads them back every second.
    pub async fn tokens(&self) -> AppResult<Vec<StoredToken>> {
        self.store.tokens().await
    }

    /// Every board's id, as stored now (the lease sweep's list).
    pub async fn board_ids(&self) -> AppResult<Vec<String>> {
        Ok(self.store.boards().await?.into_iter().map(|b| b.id).collect())
    }

    /// Commits what is queued and closes the store: the last thing a stopping server does.
    pub async fn close(&self) {
        self.store.close().await;
    }

    // ---- tasks ----

    pub async fn create_task(&self, board: &str, actor: &Actor, input: CreateTask) -> AppResult<Task> {
        let CreateTask { op_id, task } = input.check()?;
        task_of(self.write(board, actor, op_id, WriteOp::CreateTask(task)).await?)
    }

    /// `task:update` and `PUT`/`PATCH /api/tasks/:id`: only the given fields change.
    pub async fn update_task(
        &self,
        board: &str,
        actor: &Actor,
        target: TaskRef,
        input: UpdateTask,
    ) -> AppResult<Task> {
        let UpdateTask { task_id, op_id, patch } = input.check()?;
        let id = target.resolve(task_id)?;
        self.check_unlocked(board, id, actor.connection.as_deref()).await?;
        task_of(self.write(board, actor, op_id, WriteOp::UpdateTask { id, patch }).await?)
    }

    /// `task:move { taskId, status, position? }`, or `{ taskId, board, status?, position? }` to
    /// another board (write access to both). The drag holder's move ends its drag.
    pub async fn move_task(&self, board: &str, actor: &Actor, payload: Value) -> AppResult<Task> {
        let mut fields = Fields::new(payload, "task:move payload")?;
        let id = task_id(&mut fields, TaskRef::Payload)?;
        let op_id = input::op_id(&mut fields)?;
        let target = fields.take(&["board"])?.map(|v| boards::board_id(v, "board")).transpose()?;
        let op = match target.filter(|t| t != board) {
            Some(target) => {
                let status = fields.take(&["status"])?.map(Status::parse_value).transpose()?;
                let position = input::optional_count(&mut fields, "position")?;
                crate::auth::check_board(actor.scope.as_deref(), &target)?;
                WriteOp::MoveToBoard { id, target, status, position }
            }
            None => WriteOp::UpdateTask { id, patch: TaskPatch::parse_move(&mut fields)? },
        };
        fields.finish()?;
        self.check_unlocked(board, id, actor.connection.as_deref()).await?;
        let task = task_of(self.write(board, actor, op_id, op).await?)?;
        if let Some(conn) = &actor.connection {
            self.coordination.end_drag(board, conn, id).await;
        }
        Ok(task)
    }

    pub async fn delete_task(
        &self,
        board: &str,
        actor: &Actor,
        target: TaskRef,
        payload: Value,
    ) -> AppResult<()> {
        let mut fields = Fields::new(payload, "task:delete payload")?;
        let id = task_id(&mut fields, target)?;
        let op_id = input::op_id(&mut fields)?;
        fields.finish()?;
        self.check_unlocked(board, id, actor.connection.as_deref()).await?;
        self.write(board, actor, op_id, WriteOp::DeleteTask { id }).await?;
        Ok(())
    }

    /// `task:drag:start`: the task must exist; someone else's drag refuses it.
    pub async fn start_drag(&self, board: &str, actor: &Actor, conn: &str, payload: Value) -> AppResult<()> {
        actor.ensure_can_write()?;
        let id = drag_target(payload)?;
        if self.store.task(board, id).await?.is_none() {
            return Err(AppError::TaskNotFound(id));
        }
        self.coordination.start_drag(board, conn, id).await
    }

    /// `task:drag:end`, on one instance or several.
    pub async fn release_drag(&self, board: &str, conn: &str, payload: Value) -> AppResult<()> {
        let id = drag_target(payload)?;
        self.coordination.end_drag(board, conn, id).await;
        Ok(())
    }

    /// `typing:start` / `typing:stop`: someone is writing a new task (viewers cannot).
    pub fn typing(&self, actor: &Actor, conn: &str, payload: Value, started: bool) -> AppResult<()> {
        actor.ensure_can_write()?;
        // The payload carries nothing, but it must still be an object (or absent).
        Fields::new(payload, "typing payload")?;
        if started {
            self.presence.start_typing(conn);
        } else {
            self.presence.stop_typing(conn);
        }
        Ok(())
    }

    // ---- agents ----

    /// `agent:status` and `PUT /api/agents/:id`: an upsert that is also the agent's heartbeat.
    pub async fn report_agent(&self, board: &str, actor: &Actor, input: ReportAgent) -> AppResult<Agent> {
        let ReportAgent { op_id, report } = input.check()?;
        let id = report.id.clone();
        let op = WriteOp::ReportAgent { report, lease_until: self.lease_until() };
        let applied = self.write(board, actor, op_id, op).await?;
        if let Some(conn) = &actor.connection {
            self.coordination.own_agent(board, &id, conn).await?;
        }
        match applied {
            Applied::Committed(c) => Ok(serde_json::from_value(c.result).map_err(anyhow::Error::from)?),
            Applied::Unchanged(v) | Applied::Replayed(v) => {
                Ok(serde_json::from_value(v).map_err(anyhow::Error::from)?)
            }
        }
    }

    /// Agents whose REST heartbeats stopped go offline (socket agents go with their socket).
    pub async fn sweep_silent_agents(&self, board: &str) -> AppResult<()> {
        let silent =
            self.store.silent_agents(board, &crate::clock::ago(AGENT_SILENCE.as_secs() as i64)).await?;
        for id in silent {
            if !self.coordination.agent_is_connected(board, &id).await? {
                self.mark_offline(board, &id, &id).await?;
            }
        }
        Ok(())
    }

    /// Records, one after another, the agents the cluster's reaper reports gone with their
    /// instance; runs until the reaper's sender is dropped.
    pub async fn record_agents_gone(&self, mut gone: tokio::sync::mpsc::UnboundedReceiver<AgentGone>) {
        while let Some(AgentGone { board, agent }) = gone.recv().await {
            if let Err(e) = self.mark_offline(&board, &agent, &agent).await {
                e.log("marking a dead instance's agent offline");
            }
        }
    }

    async fn mark_offline(&self, board: &str, agent_id: &str, actor: &str) -> AppResult<()> {
        let actor = Actor::system(actor);
        let op = WriteOp::ReportAgent { report: offline_report(agent_id), lease_until: self.lease_until() };
        self.write(board, &actor, None, op).await?;
        Ok(())
    }

    // ---- agents' claims ----

    /// `task:claim { taskId, agentId }`: assign to the agent and start it, atomically.
    pub async fn claim_task(
        &self,
        board: &str,
        actor: &Actor,
        target: TaskRef,
        input: ClaimTask,
    ) -> AppResult<Task> {
        let ClaimTask { task_id, op_id, agent_id: agent } = input.check()?;
        let id = target.resolve(task_id)?;
        self.check_unlocked(board, id, actor.connection.as_deref()).await?;
        let actor = Actor { name: agent.clone(), ..actor.clone() };
        let op = WriteOp::Claim { id: Some(id), agent, lease_until: self.lease_until() };
        task_of(self.write(board, &actor, op_id, op).await?)
    }

    /// `task:next { agentId, wait? }` over REST and MCP: see `next_task_until`.
    pub async fn next_task(&self, board: &str, actor: &Actor, input: NextTask) -> AppResult<Option<Task>> {
        self.next_task_until(board, actor, input, std::future::pending()).await
    }

    /// `task:next { agentId, wait? }`: claims the top ready task, or answers `None`. With `wait`
    /// (seconds) an empty queue is waited on, in line with the board's other waiting agents,
    /// until a task can be claimed, the wait passes, or `cancel` completes (a closed socket).
    pub async fn next_task_until(
        &self,
        board: &str,
        actor: &Actor,
        input: NextTask,
        cancel: impl std::future::Future<Output = ()>,
    ) -> AppResult<Option<Task>> {
        let input = input.check()?;
        let (wait, op_id, agent) = (input.wait(), input.op_id, input.agent_id);
        let actor = Actor { name: agent.clone(), ..actor.clone() };
        let attempt = || async {
            // Each attempt's lease starts when it claims, not when the wait began.
            let op = WriteOp::Claim { id: None, agent: agent.clone(), lease_until: self.lease_until() };
            match self.write(board, &actor, op_id.clone(), op).await? {
                Applied::Unchanged(Value::Null) | Applied::Replayed(Value::Null) => Ok(None),
                applied => task_of(applied).map(Some),
            }
        };
        if wait.is_zero() {
            return attempt().await;
        }
        self.waiting.wait(board, &agent, wait, cancel, attempt).await
    }

    /// `task:release { taskId }`: back to TODO, unassigned.
    pub async fn release_task(
        &self,
        board: &str,
        actor: &Actor,
        target: TaskRef,
        input: ReleaseTask,
    ) -> AppResult<Task> {
        let ReleaseTask { task_id, op_id } = input.check()?;
        let id = target.resolve(task_id)?;
        self.check_unlocked(board, id, actor.connection.as_deref()).await?;
        let actor = self.as_claimer(board, id, actor).await?;
        task_of(self.write(board, &actor, op_id, WriteOp::Release { id }).await?)
    }

    /// `task:progress { taskId, message, percent? }`: a note in the task's activity and on its card.
    pub async fn report_progress(
        &self,
        board: &str,
        actor: &Actor,
        target: TaskRef,
        input: ReportProgress,
    ) -> AppResult<Task> {
        let ReportProgress { task_id, op_id, message, percent, agent_id: agent } = input.check()?;
        let id = target.resolve(task_id)?;
        let actor = match &agent {
            Some(agent) => Actor { name: agent.clone(), ..actor.clone() },
            None => self.as_claimer(board, id, actor).await?,
        };
        let op = WriteOp::Progress { id, agent, message, percent, lease_until: self.lease_until() };
        task_of(self.write(board, &actor, op_id, op).await?)
    }

    /// Agents' actions are recorded under the agent's id; a note without `agentId` is the
    /// holder's, whoever sends it (a person's note on an unclaimed task keeps their name).
    async fn as_claimer(&self, board: &str, id: i64, actor: &Actor) -> AppResult<Actor> {
        let holder = self.store.task(board, id).await?.and_then(|t| t.claimed_by);
        Ok(Actor { name: holder.unwrap_or_else(|| actor.name.clone()), ..actor.clone() })
    }

    /// Tasks whose lease ran out go back to TODO, so no task is stuck on a dead agent.
    pub async fn requeue_expired(&self, board: &str) -> AppResult<()> {
        for id in self.store.expired_leases(board, &crate::clock::now()).await? {
            let holder = self.store.task(board, id).await?.and_then(|t| t.claimed_by).unwrap_or_default();
            let actor = Actor::system(&holder);
            self.write(board, &actor, None, WriteOp::Requeue { id }).await?;
        }
        Ok(())
    }

    // ---- people ----

    /// Names a connection (`user:join` or `auth.name`) and tells the board who came or went.
    /// `fixed` is the name a person's token fixes: joining as anyone else is FORBIDDEN.
    pub async fn join(
        &self,
        board: &str,
        conn: &str,
        fixed: Option<&str>,
        payload: Value,
    ) -> AppResult<String> {
        let mut fields = Fields::new(payload, "user:join payload")?;
        let name = input::name(
            fields.take(&["name"])?.ok_or_else(|| AppError::validation("`name` is required"))?,
            "name",
        )?;
        fields.finish()?;
        if let Some(person) = fixed.filter(|p| input::person_key(p) != input::person_key(&name)) {
            return Err(AppError::Forbidden(format!("This token belongs to {person}")));
        }
        self.join_as(board, conn, &name).await?;
        Ok(name)
    }

    pub async fn join_as(&self, board: &str, conn: &str, name: &str) -> AppResult<()> {
        self.arrive(board, conn, name).await.announce().await
    }

    /// Names a connection now and leaves its announcement to the caller (`Arrival::announce`).
    pub async fn arrive(&self, board: &str, conn: &str, name: &str) -> Arrival<'_> {
        let turn = self.people_turn.lock().await;
        let change = self.presence.set_name(conn, name);
        Arrival { board: self, board_id: board.to_owned(), change, _turn: turn }
    }

    /// A connection closed: its agents go offline, and its person, if this was their last
    /// connection, leaves when the grace is over without them back.
    pub async fn disconnect(&self, conn: &str) -> AppResult<()> {
        let _turn = self.people_turn.lock().await;
        let Some(departure) = self.presence.disconnect(conn) else {
            return Ok(());
        };
        self.coordination.release_connection(conn).await;
        for agent in &departure.agents {
            // With several instances, another connection may have reported the agent since.
            if self.coordination.disown_agent(&departure.board, agent, conn).await? {
                self.mark_offline(&departure.board, agent, agent).await?;
            }
        }
        match departure.people {
            // A connection that never gave a name leaves the online list as it was: nobody
            // is told (a board with many anonymous viewers would otherwise send everyone the
            // same list on each of their disconnects).
            None => Ok(()),
            // Nothing changes for anyone until the grace is over.
            Some(PeopleChange { left: Some(name), .. }) => {
                self.start_grace(&departure.board, &name);
                Ok(())
            }
            Some(people) => self.settle_people(&departure.board, people).await,
        }
    }

    /// The person's last connection closed: unless one comes back within the grace (which
    /// aborts this timer, see `Presence::set_name`), they leave then, with `users:update` and
    /// `user.left`. A reload or a reconnecting client thus writes no activity.
    fn start_grace(&self, board: &str, name: &str) {
        let departure = self.presence.next_departure();
        let (this, board_id, person) = (self.clone(), board.to_owned(), name.to_owned());
        let timer = tokio::spawn(async move {
            tokio::time::sleep(this.grace).await;
            let _turn = this.people_turn.lock().await;
            if let Some(name) = this.presence.finish_leaving(&board_id, &person, departure) {
                let left = PeopleChange { left: Some(name), ..PeopleChange::default() };
                if let Err(e) = this.settle_people(&board_id, left).await {
                    e.log("settling a leave after the presence grace");
                }
            }
        })
        .abort_handle();
        self.presence.mark_leaving(board, name, departure, timer);
    }

    /// People coming online or going offline are persisted changes; anything else that moves
    /// the online list (a second tab) is announced without a sequence number. The caller holds
    /// `people_turn`.
    async fn settle_people(&self, board: &str, change: PeopleChange) -> AppResult<()> {
        if change == (PeopleChange { back: true, ..PeopleChange::default() }) {
            // Back within the grace: the list is the one everyone has.
            return Ok(());
        }
        let change = self.coordination.people_changed(board, change);
        let after = self.users(board);
        if change == PeopleChange::default() {
            self.presence.announce_users(board, after);
            return Ok(());
        }
        if let Some(name) = change.left {
            // A rename is a leave then a join: the leave's list does not have the new name yet.
            let arriving = change.joined.as_deref().map(User::online);
            let users =
                after.iter().filter(|u| arriving.as_ref().is_none_or(|a| a.id != u.id)).cloned().collect();
            self.write(board, &Actor::system(&name), None, WriteOp::Presence { name, joined: false, users })
                .await?;
        }
        if let Some(name) = change.joined {
            let op = WriteOp::Presence { name: name.clone(), joined: true, users: after };
            self.write(board, &Actor::system(&name), None, op).await?;
        }
        Ok(())
    }

    // ---- labels and comments ----

    /// `label:create { name, color }`: CONFLICT when the board has a label of that name.
    pub async fn create_label(&self, board: &str, actor: &Actor, input: CreateLabel) -> AppResult<Label> {
        let CreateLabel { op_id, label } = input.check()?;
        result_of(self.write(board, actor, op_id, WriteOp::CreateLabel(label)).await?)
    }

    /// `label:update { id, name?, color? }`; REST names the label in its route.
    pub async fn update_label(
        &self,
        board: &str,
        actor: &Actor,
        route: Option<i64>,
        input: UpdateLabel,
    ) -> AppResult<Label> {
        let UpdateLabel { id, op_id, patch } = input.check()?;
        let id = resolve_id(route, id, "id")?;
        result_of(self.write(board, actor, op_id, WriteOp::UpdateLabel { id, patch }).await?)
    }

    /// `label:delete { id }`: the label comes off its tasks in the same change.
    pub async fn delete_label(
        &self,
        board: &str,
        actor: &Actor,
        route: Option<i64>,
        payload: Value,
    ) -> AppResult<()> {
        let mut fields = Fields::new(payload, "label:delete payload")?;
        let id = numbered(&mut fields, route, "id")?;
        let op_id = input::op_id(&mut fields)?;
        fields.finish()?;
        self.write(board, actor, op_id, WriteOp::DeleteLabel { id }).await?;
        Ok(())
    }

    pub async fn labels(&self, board: &str) -> AppResult<Vec<Label>> {
        self.store.labels(board).await
    }

    /// A label of the board named by its id or its name (case aside), for filters; `None`
    /// when the board has no such label.
    pub async fn label_id(&self, board: &str, id_or_name: &str) -> AppResult<Option<i64>> {
        let labels = self.store.labels(board).await?;
        let id = id_or_name.parse::<i64>().ok();
        Ok(labels
            .iter()
            .find(|l| Some(l.id) == id)
            .or_else(|| labels.iter().find(|l| cards::same_label_name(&l.name, id_or_name)))
            .map(|l| l.id))
    }

    /// `comment:create { taskId, body }`; REST names the task in its route.
    pub async fn create_comment(
        &self,
        board: &str,
        actor: &Actor,
        target: TaskRef,
        input: CreateComment,
    ) -> AppResult<Comment> {
        let CreateComment { task_id, op_id, body } = input.check()?;
        let task_id = target.resolve(task_id)?;
        result_of(self.write(board, actor, op_id, WriteOp::CreateComment { task_id, body }).await?)
    }

    /// `comment:update { id, body }`, by its author or an admin.
    pub async fn update_comment(
        &self,
        board: &str,
        actor: &Actor,
        route: Option<i64>,
        input: UpdateComment,
    ) -> AppResult<Comment> {
        let UpdateComment { id, op_id, body } = input.check()?;
        let id = resolve_id(route, id, "id")?;
        let admin = actor.role == Role::Admin;
        result_of(self.write(board, actor, op_id, WriteOp::UpdateComment { id, body, admin }).await?)
    }

    /// `comment:delete { id }`, by its author or an admin.
    pub async fn delete_comment(
        &self,
        board: &str,
        actor: &Actor,
        route: Option<i64>,
        payload: Value,
    ) -> AppResult<()> {
        let mut fields = Fields::new(payload, "comment:delete payload")?;
        let id = numbered(&mut fields, route, "id")?;
        let op_id = input::op_id(&mut fields)?;
        fields.finish()?;
        let admin = actor.role == Role::Admin;
        self.write(board, actor, op_id, WriteOp::DeleteComment { id, admin }).await?;
        Ok(())
    }

    /// `task:view { taskId | null }`: the card this connection has open (ephemeral, like
    /// typing). A task of another board is TASK_NOT_FOUND.
    pub async fn view_task(&self, board: &str, conn: &str, payload: Value) -> AppResult<()> {
        let mut fields = Fields::new(payload, "task:view payload")?;
        let id = match fields.take(&["taskId", "id"])? {
            None | Some(Value::Null) => None,
            Some(v) => Some(input::task_id(v, "taskId")?),
        };
        fields.finish()?;
        if let Some(id) = id {
            self.task(board, id).await?;
        }
        self.presence.view(conn, id);
        Ok(())
    }

    /// A task's comments, oldest first.
    pub async fn comments(&self, board: &str, task_id: i64) -> AppResult<Vec<Comment>> {
        self.task(board, task_id).await?;
        self.store.comments(board, task_id).await
    }

    /// The board of a comment, for routes that name only the comment: NOT_FOUND when there
    /// is none, FORBIDDEN when it is on a board outside `scope`.
    pub async fn board_of_comment(&self, scope: Option<&[String]>, id: i64) -> AppResult<String> {
        let comment = self
            .store
            .comment(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("Comment {id} not found")))?;
        crate::auth::check_board(scope, &comment.board)?;
        Ok(comment.board)
    }

    /// Everything on a board the caller can read, as the `warroom-board` export.
    pub async fn export(&self, scope: Option<&[String]>, board: &str) -> AppResult<Export> {
        let info = self.board_info(scope, board).await?;
        let contents = self.store.contents(&info.id).await?;
        Ok(Export::new(info, contents))
    }

    /// `POST /api/boards/:board/import` (admins): a warroom export, a Trello board export or
    /// CSV, written all or nothing as one change → `{ imported: { tasks, labels, comments },
    /// skipped: [{ item, reason }] }`. A dry run plans it the same way and answers the same,
    /// against the board's labels as they are now, and writes nothing.
    pub async fn import(&self, board: &str, actor: &Actor, file: &[u8], dry_run: bool) -> AppResult<Value> {
        let board = self.board_info(actor.scope.as_deref(), board).await?.id;
        actor.ensure_admin("import into a board")?;
        let plan = transfer::parse_import(file)?;
        if dry_run {
            let labels = self.store.labels(&board).await?;
            return Ok(serde_json::to_value(plan.outcome(&labels)).map_err(anyhow::Error::new)?);
        }
        result_of(self.write(&board, actor, None, WriteOp::Import(Box::new(plan))).await?)
    }

    // ---- notifications ----

    /// The caller's notifications (the person is the actor's name: nobody reads another's),
    /// newest first.
    pub async fn notifications(&self, actor: &Actor, unread_only: bool) -> AppResult<Vec<Notification>> {
        self.store.notifications(&input::person_key(&actor.name), unread_only, NOTIFICATIONS_LISTED).await
    }

    pub async fn unread_notifications(&self, name: &str) -> AppResult<i64> {
        self.store.unread_notifications(&input::person_key(name)).await
    }

    /// `{ ids? }`: marks some or all of the caller's notifications read, and tells their
    /// sockets `notifications:read { ids }`.
    pub async fn read_notifications(&self, actor: &Actor, input: ReadNotifications) -> AppResult<Vec<i64>> {
        let ReadNotifications { ids } = input.check()?;
        let person = input::person_key(&actor.name);
        let marked = self.store.mark_notifications_read(&person, ids, &crate::clock::now()).await?;
        if !marked.is_empty() {
            self.presence.notify(&person, "notifications:read", json!({ "ids": marked }));
        }
        Ok(marked)
    }

    // ---- boards ----

    /// The boards a credential limited to `scope` can see, by id. A credential that sees every
    /// board shares the cached list itself, so a connect copies nothing and `sync:full`'s cache
    /// recognises the list by its address.
    pub async fn boards_for(&self, scope: Option<&[String]>) -> AppResult<Arc<Vec<BoardInfo>>> {
        Ok(visible_boards(&self.all_boards().await?, scope))
    }

    /// Every board, from the cache when no board changed since it was read.
    async fn all_boards(&self) -> AppResult<Arc<Vec<BoardInfo>>> {
        let generation = {
            let cached = self.board_list.0.lock().unwrap();
            if let Some(list) = &cached.1 {
                return Ok(list.clone());
            }
            cached.0
        };
        let list = Arc::new(self.store.boards().await?);
        let mut cached = self.board_list.0.lock().unwrap();
        if cached.0 == generation {
            cached.1 = Some(list.clone());
        }
        Ok(list)
    }

    /// A board was made, changed or deleted, here or on another instance: the next reader
    /// reads the list again.
    pub fn boards_changed(&self) {
        let mut cached = self.board_list.0.lock().unwrap();
        cached.0 += 1;
        cached.1 = None;
    }

    /// A board `actor` may read: a malformed id is VALIDATION_ERROR, one outside its boards
    /// FORBIDDEN (whether or not it exists: a scope reveals nothing), a missing one
    /// BOARD_NOT_FOUND.
    pub async fn board_info(&self, scope: Option<&[String]>, id: &str) -> AppResult<BoardInfo> {
        let id = boards::parse_board_id(id)?;
        crate::auth::check_board(scope, &id)?;
        if let Some(board) = self.all_boards().await?.iter().find(|b| b.id == id) {
            return Ok(board.clone());
        }
        // Made on another instance a moment ago, before its news arrived here.
        self.store.board(&id).await?.ok_or(AppError::BoardNotFound(id))
    }

    /// The board a task is on, for routes that name only the task: FORBIDDEN when it is on a
    /// board outside `scope`. A task that is not (or no longer) there is looked for on `main`,
    /// or the first board of the scope, where the command then finds no task (TASK_NOT_FOUND),
    /// or its `opId` finds the answer it had when it deleted it.
    pub async fn board_of_task(&self, scope: Option<&[String]>, id: i64) -> AppResult<String> {
        match self.store.task_board(id).await? {
            Some(board) => {
                crate::auth::check_board(scope, &board)?;
                Ok(board)
            }
            None => Ok(match scope {
                Some(boards) if !boards.iter().any(|b| b == crate::MAIN_BOARD) => {
                    boards.first().cloned().ok_or(AppError::TaskNotFound(id))?
                }
                _ => crate::MAIN_BOARD.to_owned(),
            }),
        }
    }

    /// `board:create { id?, name, description? }` (admins): CONFLICT when the id is taken.
    pub async fn create_board(&self, actor: &Actor, input: CreateBoard) -> AppResult<BoardInfo> {
        let board = boards::new_board(input, &actor.name, &crate::clock::now())?;
        actor.ensure_admin_of(&board.id)?;
        if !self.store.create_board(board.clone()).await? {
            return Err(AppError::Conflict(format!("A board with the id {} exists already", board.id)));
        }
        self.boards_changed();
        self.bus.start_board(&board.id, 0);
        self.presence.announce_board(&board.id, "board:created", json!(board));
        Ok(board)
    }

    /// `board:update { id, name?, description?, archived? }` (admins); `main` cannot be archived.
    pub async fn update_board(
        &self,
        actor: &Actor,
        route: Option<&str>,
        input: UpdateBoard,
    ) -> AppResult<BoardInfo> {
        let UpdateBoard { id, patch } = input.check()?;
        let id = resolve_board(route, id)?;
        actor.ensure_admin_of(&id)?;
        if id == crate::MAIN_BOARD && patch.archived == Some(true) {
            return Err(AppError::validation("The board main cannot be archived"));
        }
        let current = self.store.board(&id).await?.ok_or_else(|| AppError::BoardNotFound(id.clone()))?;
        let Some(next) = current.patched(&patch) else {
            return Ok(current);
        };
        if !self.store.update_board(next.clone()).await? {
            return Err(AppError::BoardNotFound(id));
        }
        self.boards_changed();
        self.presence.announce_board(&id, "board:updated", json!(next));
        Ok(next)
    }

    /// `board:delete { id }` (admins): everything on it goes, and its sockets are told and
    /// disconnected. `main` always exists.
    pub async fn delete_board(&self, actor: &Actor, route: Option<&str>, payload: Value) -> AppResult<()> {
        let mut fields = Fields::new(payload, "board:delete payload")?;
        let id = board_target(&mut fields, route)?;
        fields.finish()?;
        actor.ensure_admin_of(&id)?;
        if id == crate::MAIN_BOARD {
            return Err(AppError::validation("The board main cannot be deleted"));
        }
        if !self.store.delete_board(&id).await? {
            return Err(AppError::BoardNotFound(id));
        }
        self.boards_changed();
        self.presence.announce_board(&id, "board:deleted", json!({ "id": id }));
        Ok(())
    }

    /// Whether a task of this id is on some board now (a deleted one keeps only its history).
    pub async fn task_exists(&self, id: i64) -> AppResult<bool> {
        Ok(self.store.task_board(id).await?.is_some())
    }

    // ---- invites ----

    /// `POST /api/invites` (admins): its code is shown only now. The body comes as its parse's
    /// outcome because a caller who is not an admin is refused first, whatever they sent.
    pub async fn create_invite(
        &self,
        actor: &Actor,
        input: AppResult<CreateInvite>,
    ) -> AppResult<(String, Invite)> {
        actor.ensure_admin("invite people")?;
        let CreateInvite { role, boards, expires_in_hours } = input?.check()?;
        // An invite reaches no further than its maker: naming no board means the maker's.
        let mut boards = boards.unwrap_or_default();
        if boards.is_empty()
            && let Some(scope) = &actor.scope
        {
            boards = scope.to_vec();
        }
        for board in &boards {
            crate::auth::check_board(actor.scope.as_deref(), board)?;
        }
        let role = role.unwrap_or(Role::Editor);
        invites::create(&*self.store, role, &boards, expires_in_hours, &actor.name).await
    }

    /// Exchanges an invite code for a personal token, which works at once (added to `keys`).
    pub async fn accept_invite(
        &self,
        keys: &Keys,
        code: &str,
        input: AcceptInvite,
    ) -> AppResult<(String, StoredToken)> {
        invites::accept(&*self.store, keys, code, input).await
    }

    // ---- webhooks (admins) ----

    /// `POST /api/boards/:board/webhooks`: the reply is the only one that shows the secret. The
    /// body comes as its parse's outcome because a caller who is not an admin is refused first,
    /// whatever they sent.
    pub async fn create_webhook(
        &self,
        board: &str,
        actor: &Actor,
        input: AppResult<CreateWebhook>,
    ) -> AppResult<Webhook> {
        actor.ensure_webhook_admin(board)?;
        let CreateWebhook { url, events, secret, format } = input?.check()?;
        webhooks::check_host(&url, &self.webhook_hosts)?;
        let new = NewWebhook {
            url,
            events: events.unwrap_or_else(|| vec!["**".into()]),
            secret: secret.unwrap_or_else(crate::auth::generate_key),
            format: format.unwrap_or(Format::Json),
        };
        let secret = new.secret.clone();
        let hook = self.store.create_webhook(board, new, &actor.name, &crate::clock::now()).await?;
        Ok(Webhook { secret: Some(secret), ..hook })
    }

    pub async fn webhooks(&self, board: &str, actor: &Actor) -> AppResult<Vec<Webhook>> {
        actor.ensure_webhook_admin(board)?;
        self.store.webhooks(board).await
    }

    /// A webhook an admin of its board may manage.
    async fn webhook_of(&self, actor: &Actor, id: i64) -> AppResult<Webhook> {
        let not_found = || AppError::NotFound(format!("Webhook {id} not found"));
        let hook = self.store.webhook(id).await?.ok_or_else(not_found)?;
        actor.ensure_webhook_admin(&hook.board)?;
        Ok(hook)
    }

    /// `PATCH /api/webhooks/:id { url?, events?, format?, active? }`. The body comes as its
    /// parse's outcome because an unknown webhook, or one the caller may not manage, is refused
    /// first.
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: i64,
        input: AppResult<UpdateWebhook>,
    ) -> AppResult<Webhook> {
        let hook = self.webhook_of(actor, id).await?;
        let patch = input?.check()?;
        if let Some(url) = &patch.url {
            webhooks::check_host(url, &self.webhook_hosts)?;
        }
        let next = hook.patched(patch);
        if !self.store.save_webhook(next.clone()).await? {
            return Err(AppError::NotFound(format!("Webhook {id} not found")));
        }
        Ok(next)
    }

    pub async fn delete_webhook(&self, actor: &Actor, id: i64) -> AppResult<()> {
        self.webhook_of(actor, id).await?;
        self.store.delete_webhook(id).await?;
        Ok(())
    }

    /// `GET /api/webhooks/:id/deliveries`: the last 100, newest first.
    pub async fn deliveries(&self, actor: &Actor, id: i64) -> AppResult<Vec<Delivery>> {
        self.webhook_of(actor, id).await?;
        self.store.deliveries(id).await
    }

    /// `POST /api/webhooks/:id/ping`: a `webhook.ping` delivery, queued now.
    pub async fn ping_webhook(&self, actor: &Actor, id: i64) -> AppResult<Delivery> {
        let hook = self.webhook_of(actor, id).await?;
        let (seq, now) = (self.store.seq(&hook.board).await?, crate::clock::now());
        let payload = webhooks::ping_payload(&hook.board, seq, &actor.name, &now).to_string();
        self.store.queue_ping(&hook, seq, payload, &now).await
    }

    /// Sets a webhook inactive after its deliveries failed for too long, with a
    /// `webhook.disabled` entry in the board's activity.
    pub async fn disable_webhook(&self, board: &str, id: i64, reason: &str) -> AppResult<()> {
        let op = WriteOp::DisableWebhook { id, reason: reason.to_owned() };
        self.write(board, &Actor::system("warroom"), None, op).await?;
        Ok(())
    }

    /// The outbox, for the sender (`crate::webhooks`): what is due now, of each webhook its
    /// oldest pending delivery.
    pub async fn due_deliveries(&self, now: &str, limit: i64) -> AppResult<Vec<DueDelivery>> {
        self.store.due_deliveries(now, limit).await
    }

    /// Takes a due delivery until `until`; false when another sender (instance) has it.
    pub async fn claim_delivery(&self, id: i64, now: &str, until: &str) -> AppResult<bool> {
        self.store.claim_delivery(id, now, until).await
    }

    pub async fn finish_delivery(&self, id: i64, attempt: Attempt) -> AppResult<()> {
        self.store.finish_delivery(id, attempt).await
    }

    // ---- reads ----

    pub async fn snapshot(&self, board: &str) -> AppResult<Snapshot> {
        self.store.snapshot(board).await
    }

    pub async fn tasks(&self, board: &str, filter: TaskFilter) -> AppResult<Vec<Task>> {
        self.store.tasks(board, filter).await
    }

    pub async fn task(&self, board: &str, id: i64) -> AppResult<Task> {
        self.store.task(board, id).await?.ok_or(AppError::TaskNotFound(id))
    }

    /// Every agent of the team: agents' status is team-wide, whatever board they report on.
    pub async fn agents(&self) -> AppResult<Vec<Agent>> {
        self.store.agents().await
    }

    pub async fn agent(&self, id: &str) -> AppResult<Agent> {
        let id = parse_agent_id(Value::String(id.to_owned()), "id")?;
        self.store.agent(&id).await?.ok_or(AppError::AgentNotFound(id))
    }

    pub async fn activity(&self, board: &str, limit: i64, before: Option<i64>) -> AppResult<Vec<Activity>> {
        self.store.activity(board, limit, before).await
    }

    pub async fn task_history(&self, board: &str, id: i64) -> AppResult<Vec<Activity>> {
        self.store.task_history(board, id).await
    }

    /// Persists a change, then publishes it. The two run in their own task so that a caller
    /// that goes away (a closed socket, a dropped HTTP request) cannot leave a committed change
    /// unpublished, which would stall the bus for everyone.
    async fn write(
        &self,
        board: &str,
        actor: &Actor,
        op_id: Option<String>,
        op: WriteOp,
    ) -> AppResult<Applied> {
        actor.ensure_can_write()?;
        let req = WriteRequest {
            board: board.to_owned(),
            actor: actor.name.clone(),
            idempotency: op_id.map(|op| (actor.credential.clone(), op)),
            op,
        };
        let (store, bus, coordination) = (self.store.clone(), self.bus.clone(), self.coordination.clone());
        let presence = self.presence.clone();
        tokio::spawn(async move {
            let board = req.board.clone();
            let actor = req.actor.clone();
            let applied = store.apply(req).await?;
            if let Applied::Committed(c) = &applied {
                // A move to another board is two changes, one per board, each under its seq.
                let mut next = Some((board, &**c));
                while let Some((board, c)) = next {
                    let event = DomainEvent {
                        board,
                        seq: c.seq,
                        at: c.at.clone(),
                        actor: actor.clone(),
                        change: c.change.clone(),
                        activity: c.activity.clone(),
                    };
                    // The other instances get it through Redis; this one's bus at once, so its
                    // own sockets never wait on a round trip (its echo from Redis is ignored).
                    coordination.publish_event(&event);
                    bus.publish(event);
                    for (person, notification) in &c.notifications {
                        presence.notify(person, "notification", serde_json::json!(notification));
                    }
                    next = c.then.as_ref().map(|(board, c)| (board.clone(), &**c));
                }
            }
            Ok(applied)
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("write task failed: {e}")))?
    }
}

/// The number a command names: the route's (REST), else the payload's `field` (socket).
fn numbered(fields: &mut Fields, route: Option<i64>, field: &str) -> AppResult<i64> {
    let given = fields.take(&[field])?.map(|v| input::task_id(v, field)).transpose()?;
    resolve_id(route, given, field)
}

/// The record a command names: the route's id (REST), which a body may repeat but not
/// contradict, else the body's (socket).
fn resolve_id(route: Option<i64>, given: Option<i64>, field: &str) -> AppResult<i64> {
    match (route, given) {
        (Some(route), Some(body)) if route != body => {
            Err(AppError::validation(format!("`{field}` in the body differs from the route's")))
        }
        (Some(route), _) => Ok(route),
        (None, Some(id)) => Ok(id),
        (None, None) => Err(AppError::validation(format!("`{field}` is required"))),
    }
}

/// What a committed, unchanged or replayed write answers, as `T`.
fn result_of<T: serde::de::DeserializeOwned>(applied: Applied) -> AppResult<T> {
    let value = match applied {
        Applied::Committed(c) => c.result,
        Applied::Unchanged(v) | Applied::Replayed(v) => v,
    };
    // A replayed `opId` first used for another kind of command has nothing of this kind.
    serde_json::from_value(value)
        .map_err(|_| AppError::Conflict("This opId was already used for a different command".into()))
}

/// The board a command names: the route's (REST), else the payload's `id` (socket).
fn board_target(fields: &mut Fields, route: Option<&str>) -> AppResult<String> {
    let given = fields.take(&["id"])?.map(|v| boards::board_id(v, "id")).transpose()?;
    resolve_board(route, given)
}

/// The board meant, given the id the body names (if any).
fn resolve_board(route: Option<&str>, given: Option<String>) -> AppResult<String> {
    match (route, given) {
        (Some(route), Some(body)) if route != body => {
            Err(AppError::validation("`id` in the body differs from the route's board"))
        }
        (Some(route), _) => boards::parse_board_id(route),
        (None, Some(id)) => Ok(id),
        (None, None) => Err(AppError::validation("`id` is required")),
    }
}

fn task_id(fields: &mut Fields, target: TaskRef) -> AppResult<i64> {
    target.resolve(input::parse_task_id(fields)?)
}

fn drag_target(payload: Value) -> AppResult<i64> {
    let mut fields = Fields::new(payload, "drag payload")?;
    let id = task_id(&mut fields, TaskRef::Payload)?;
    fields.finish()?;
    Ok(id)
}

fn task_of(applied: Applied) -> AppResult<Task> {
    let value = match applied {
        Applied::Committed(c) => match c.change {
            Change::TaskCreated { task, .. } | Change::TaskUpdated { task, .. } => return Ok(task),
            _ => c.result,
        },
        Applied::Unchanged(v) | Applied::Replayed(v) => v,
    };
    // A replayed `opId` first used for another kind of command has no task to give back.
    serde_json::from_value(value)
        .map_err(|_| AppError::Conflict("This opId was already used for a different command".into()))
}

/// The boards of `all` a credential limited to `scope` can see: `all` itself (shared, not
/// copied) when it sees every one.
pub fn visible_boards(all: &Arc<Vec<BoardInfo>>, scope: Option<&[String]>) -> Arc<Vec<BoardInfo>> {
    if all.iter().all(|b| crate::auth::can_see(scope, &b.id)) {
        return all.clone();
    }
    Arc::new(all.iter().filter(|b| crate::auth::can_see(scope, &b.id)).cloned().collect())
}
