#!/usr/bin/env node
// A stand-in for the warroom binary, for front-end work without a Rust build. It speaks the
// subset of SPEC's protocol the dashboard uses and takes the same command line:
//   WAAAH_API_KEY=k node dev/mock-warroom.mjs serve --host 127.0.0.1 --port 8080 --db /tmp/x/tasks.db
// The board is kept in a JSON file beside --db, so a restart keeps it. The end-to-end tests run
// against the real binary; point WARROOM_BIN here only to work on the UI.

import { createServer } from "node:http";
import { readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Server } from "socket.io";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const HOST = flag("host", "127.0.0.1");
const PORT = Number(flag("port", process.env.PORT ?? 8080));
const DB = flag("db", "./data/tasks.db") + ".json";
const KEY = process.env.WAAAH_API_KEY ?? "dev";
const DIST = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const STATUSES = ["TODO", "IN_PROGRESS", "BLOCKED", "REVIEW", "DONE"];

mkdirSync(dirname(DB), { recursive: true });
const db = existsSync(DB)
  ? JSON.parse(readFileSync(DB, "utf8"))
  : { tasks: [], agents: [], activity: [], seq: 0, nextId: 1, nextActivity: 1, ops: {} };
const save = () => writeFileSync(DB, JSON.stringify(db));
const now = () => new Date().toISOString();
const fail = (code, message) => ({ ok: false, error: { code, message } });

const users = new Map(); // socket.id -> name
const typing = new Map(); // name -> timer
const locks = new Map(); // taskId -> { socketId, user, timer }

function column(status) {
  return db.tasks.filter((t) => t.status === status).sort((a, b) => a.position - b.position);
}
function renumber(status) {
  column(status).forEach((t, i) => (t.position = i));
}

let io;
function broadcast(event, payload, seq) {
  io.emit(event, payload, { seq });
}
function activity(type, user, message, taskId, seq) {
  const entry = { id: db.nextActivity++, type, user, message, taskId, timestamp: now(), seq };
  db.activity.unshift(entry);
  db.activity = db.activity.slice(0, 500);
  broadcast("activity", entry, seq);
}
function userList() {
  const seen = new Map();
  for (const name of users.values()) seen.set(name.toLowerCase(), { id: name.toLowerCase(), name, status: "online" });
  return [...seen.values()];
}

function createTask(input, user) {
  const title = String(input.title ?? input.text ?? "").trim();
  if (!title || title.length > 200) return fail("VALIDATION_ERROR", "title must be 1-200 characters");
  const status = input.status ?? "TODO";
  if (!STATUSES.includes(status)) return fail("VALIDATION_ERROR", `unknown status ${status}`);
  const seq = ++db.seq;
  const task = {
    id: db.nextId++,
    title,
    description: String(input.description ?? "").trim(),
    status,
    assignee: input.assignee?.trim() || null,
    position: column(status).length,
    createdBy: user,
    createdAt: now(),
    updatedAt: now(),
    version: 1,
    claimedBy: null,
    leaseExpiresAt: null,
    progress: null,
  };
  db.tasks.push(task);
  broadcast(`task:${task.id}:created`, task, seq);
  broadcast("task:created", { task, user, timestamp: task.createdAt }, seq);
  activity("task.created", user, `${user} created #${task.id} “${title}”`, task.id, seq);
  save();
  return { ok: true, task };
}

function lockedFor(taskId, socketId) {
  const lock = locks.get(taskId);
  return lock && lock.socketId !== socketId ? lock : null;
}

function updateTask(id, fields, user, socketId) {
  const task = db.tasks.find((t) => t.id === Number(id));
  if (!task) return fail("TASK_NOT_FOUND", `Task ${id} not found`);
  const lock = lockedFor(task.id, socketId);
  if (lock) return fail("TASK_LOCKED", `Task ${task.id} is being moved by ${lock.user}`);
  if (fields.version !== undefined && fields.version !== task.version)
    return fail("CONFLICT", `Task ${task.id} was changed by someone else (version ${task.version})`);
  const patch = {};
  for (const key of ["title", "description", "assignee"]) {
    if (fields[key] !== undefined && fields[key] !== task[key])
      patch[key] = fields[key] || (key === "assignee" ? null : "");
  }
  const oldStatus = task.status;
  const statusChanged = fields.status !== undefined && fields.status !== task.status;
  const positionGiven = typeof fields.position === "number";
  if (statusChanged || positionGiven) {
    const target = fields.status ?? task.status;
    const list = column(target).filter((t) => t !== task);
    const at = positionGiven ? Math.max(0, Math.min(fields.position, list.length)) : list.length;
    if (statusChanged || task.position !== at) {
      list.splice(at, 0, task);
      task.status = target;
      list.forEach((t, i) => (t.position = i));
      renumber(oldStatus);
      patch.status = target;
      patch.position = at;
    }
  }
  if (Object.keys(patch).length === 0) return { ok: true, task };
  Object.assign(task, patch);
  task.version += 1;
  task.updatedAt = now();
  const seq = ++db.seq;
  broadcast(
    `task:${task.id}:updated`,
    { id: task.id, ...patch, version: task.version, updatedAt: task.updatedAt },
    seq,
  );
  if (statusChanged) {
    broadcast("task:moved", { taskId: task.id, newStatus: task.status, movedBy: user }, seq);
    activity("task.moved", user, `${user} moved #${task.id} to ${task.status}`, task.id, seq);
    if (task.status === "DONE") broadcast("celebration", { user, taskId: task.id }, seq);
  } else {
    activity("task.updated", user, `${user} updated #${task.id}`, task.id, seq);
  }
  save();
  return { ok: true, task };
}

function deleteTask(id, user, socketId) {
  const task = db.tasks.find((t) => t.id === Number(id));
  if (!task) return fail("TASK_NOT_FOUND", `Task ${id} not found`);
  const lock = lockedFor(task.id, socketId);
  if (lock) return fail("TASK_LOCKED", `Task ${task.id} is being moved by ${lock.user}`);
  db.tasks = db.tasks.filter((t) => t !== task);
  renumber(task.status);
  const seq = ++db.seq;
  broadcast(`task:${task.id}:deleted`, { id: task.id }, seq);
  broadcast("task:deleted", { taskId: task.id, deletedBy: user }, seq);
  activity("task.deleted", user, `${user} deleted #${task.id}`, task.id, seq);
  save();
  return { ok: true };
}

function idempotent(socket, payload, run) {
  const opId = payload?.opId;
  if (opId && db.ops[opId]) return db.ops[opId];
  const result = run();
  if (opId && result.ok) db.ops[opId] = result;
  return result;
}

function releaseLock(taskId, socket) {
  const lock = locks.get(taskId);
  if (!lock || lock.socketId !== socket.id) return;
  clearTimeout(lock.timer);
  locks.delete(taskId);
  socket.broadcast.emit("task:drag:other", { taskId, user: null });
}

function setTyping(socket, name, on) {
  const had = typing.has(name);
  clearTimeout(typing.get(name));
  if (on)
    typing.set(
      name,
      setTimeout(() => setTyping(socket, name, false), 3000),
    );
  else typing.delete(name);
  if (had !== on) socket.broadcast.emit("typing:update", [...typing.keys()]);
}

const MIME = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };

const http = createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  const send = (status, body) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(body === undefined ? "" : JSON.stringify(body));
  };
  if (url.pathname === "/api/health") return send(200, { status: "online", connections: io.engine.clientsCount });
  if (url.pathname.startsWith("/api/")) {
    const key = req.headers["x-api-key"] ?? req.headers.authorization?.replace(/^Bearer /, "");
    if (key !== KEY) return send(401, { error: { code: "UNAUTHORIZED", message: "Missing or wrong API key" } });
    let body = "";
    for await (const chunk of req) body += chunk;
    const json = body ? JSON.parse(body) : {};
    const m = url.pathname.match(/^\/api\/tasks\/(\d+)$/);
    const status = (r) =>
      r.ok ? 200 : r.error.code === "TASK_NOT_FOUND" ? 404 : r.error.code === "VALIDATION_ERROR" ? 400 : 409;
    if (url.pathname === "/api/tasks" && req.method === "GET") {
      const s = url.searchParams.get("status");
      return send(
        200,
        db.tasks.filter((t) => !s || t.status === s),
      );
    }
    if (url.pathname === "/api/tasks" && req.method === "POST") {
      const r = createTask(json, "api");
      return send(r.ok ? 201 : 400, r.ok ? r.task : { error: r.error });
    }
    const agentAction = url.pathname.match(/^\/api\/tasks\/(\d+)\/(claim|progress)$/);
    if (agentAction && req.method === "POST") {
      const task = db.tasks.find((t) => t.id === Number(agentAction[1]));
      if (!task) return send(404, { error: { code: "TASK_NOT_FOUND", message: `Task ${agentAction[1]} not found` } });
      const patch =
        agentAction[2] === "claim"
          ? {
              assignee: json.agentId,
              claimedBy: json.agentId,
              leaseExpiresAt: new Date(Date.now() + 300_000).toISOString(),
              status: "IN_PROGRESS",
            }
          : { progress: { message: json.message, percent: json.percent ?? null, at: now() } };
      Object.assign(task, patch);
      task.version += 1;
      task.updatedAt = now();
      const seq = ++db.seq;
      broadcast(
        `task:${task.id}:updated`,
        { id: task.id, ...patch, version: task.version, updatedAt: task.updatedAt },
        seq,
      );
      save();
      return send(200, task);
    }
    if (m && req.method === "GET") {
      const task = db.tasks.find((t) => t.id === Number(m[1]));
      return task
        ? send(200, task)
        : send(404, { error: { code: "TASK_NOT_FOUND", message: `Task ${m[1]} not found` } });
    }
    if (m && (req.method === "PUT" || req.method === "PATCH")) {
      const r = updateTask(m[1], json, "api", null);
      return send(status(r), r.ok ? r.task : { error: r.error });
    }
    if (m && req.method === "DELETE") {
      const r = deleteTask(m[1], "api", null);
      return r.ok ? send(204) : send(status(r), { error: r.error });
    }
    if (url.pathname === "/api/agents") return send(200, db.agents);
    const agentPath = url.pathname.match(/^\/api\/agents\/([\w.-]+)$/);
    if (agentPath && req.method === "PUT") {
      const id = agentPath[1];
      let agent = db.agents.find((a) => a.id === id);
      if (!agent) db.agents.push((agent = { id, name: id, status: "idle", currentTaskId: null, lastSeen: now() }));
      Object.assign(agent, { name: json.name ?? agent.name, status: json.status ?? agent.status, lastSeen: now() });
      if ("currentTaskId" in json) agent.currentTaskId = json.currentTaskId;
      const seq = ++db.seq;
      broadcast(
        `agent:${id}:status`,
        { id, status: agent.status, lastSeen: agent.lastSeen, currentTaskId: agent.currentTaskId },
        seq,
      );
      activity("agent.status", id, `${agent.name} is ${agent.status}`, null, seq);
      save();
      return send(200, agent);
    }
    if (url.pathname === "/api/activity")
      return send(200, db.activity.slice(0, Number(url.searchParams.get("limit") ?? 50)));
    return send(404, { error: { code: "NOT_FOUND", message: "Unknown route" } });
  }
  const file = join(DIST, url.pathname === "/" || !extname(url.pathname) ? "index.html" : url.pathname);
  if (!existsSync(file)) return send(404, { error: { code: "NOT_FOUND", message: "no file" } });
  res.writeHead(200, { "Content-Type": MIME[extname(file)] ?? "application/octet-stream" });
  res.end(readFileSync(file));
});

io = new Server(http, { serveClient: false });
io.use((socket, next) => {
  if (socket.handshake.auth?.apiKey !== KEY) return next(new Error("Unauthorized"));
  next();
});
io.on("connection", (socket) => {
  const name = String(socket.handshake.auth?.name ?? "").trim() || "anonymous";
  users.set(socket.id, name);
  socket.emit("sync:full", { tasks: db.tasks, agents: db.agents, users: userList(), seq: db.seq });
  const joinSeq = ++db.seq;
  broadcast("users:update", userList(), joinSeq);
  const ack = (cb, r) => {
    if (!r.ok) socket.emit("error", r.error);
    if (typeof cb === "function") cb(r);
  };
  socket.on("task:create", (p, cb) =>
    ack(
      cb,
      idempotent(socket, p, () => createTask(p ?? {}, name)),
    ),
  );
  socket.on("task:update", (p, cb) => {
    const { id, opId: _o, ...fields } = p ?? {};
    ack(
      cb,
      idempotent(socket, p, () => updateTask(id, fields, name, socket.id)),
    );
  });
  socket.on("task:move", (p, cb) =>
    ack(
      cb,
      idempotent(socket, p, () => {
        const r = updateTask(p.taskId, { status: p.status, position: p.position }, name, socket.id);
        if (r.ok) releaseLock(Number(p.taskId), socket);
        return r;
      }),
    ),
  );
  socket.on("task:delete", (p, cb) =>
    ack(
      cb,
      idempotent(socket, p, () => deleteTask(p.taskId, name, socket.id)),
    ),
  );
  socket.on("typing:start", () => setTyping(socket, name, true));
  socket.on("typing:stop", () => setTyping(socket, name, false));
  socket.on("task:drag:start", (p, cb) => {
    const taskId = Number(p?.taskId);
    if (!db.tasks.some((t) => t.id === taskId)) return ack(cb, fail("TASK_NOT_FOUND", `Task ${taskId} not found`));
    const lock = lockedFor(taskId, socket.id);
    if (lock) return ack(cb, fail("TASK_LOCKED", `Task ${taskId} is being moved by ${lock.user}`));
    locks.set(taskId, { socketId: socket.id, user: name, timer: setTimeout(() => releaseLock(taskId, socket), 30000) });
    socket.broadcast.emit("task:drag:other", { taskId, user: name });
    ack(cb, { ok: true });
  });
  socket.on("task:drag:end", (p, cb) => {
    releaseLock(Number(p?.taskId), socket);
    ack(cb, { ok: true });
  });
  socket.on("disconnect", () => {
    for (const [taskId, lock] of locks) if (lock.socketId === socket.id) releaseLock(taskId, socket);
    users.delete(socket.id);
    setTyping(socket, name, false);
    broadcast("users:update", userList(), ++db.seq);
  });
});

http.listen(PORT, HOST, () => console.log(`mock warroom on http://${HOST}:${PORT}/?key=${KEY}`));
const stop = () => {
  io.close();
  http.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
