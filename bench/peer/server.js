// The seeds' stack, for the side-by-side run of `scripts/bench.sh --peer` (issue 14): Express
// serving REST and socket.io 4 on the same HTTP server, better-sqlite3 writing synchronously,
// every change broadcast with `io.emit`, as /work/shared/seeds describe it. It serves what the
// benchmark's scenarios use and nothing more: the handshake's `apiKey`, `sync:full`,
// `task:create` / `task:update` with their `{ ok, task }` acknowledgements, the
// `task:{id}:created` / `task:{id}:updated` and `activity` broadcasts warroom sends for the same
// writes, and `/api/health` with its `connections` count.
//
//   node server.js --db FILE --host 127.0.0.1 --port 0 --api-key KEY
//
// Prints `listening on http://HOST:PORT` once it accepts connections (bench.sh reads the URL).
'use strict';

const http = require('node:http');
const { parseArgs } = require('node:util');
const express = require('express');
const { Server } = require('socket.io');
const Database = require('better-sqlite3');

const { values: opts } = parseArgs({
  options: {
    db: { type: 'string', default: 'peer.db' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
    'api-key': { type: 'string', default: process.env.WAAAH_API_KEY },
  },
});
if (!opts['api-key']) {
  console.error('an API key is needed: --api-key or WAAAH_API_KEY');
  process.exit(2);
}

// Durability as warroom's default (`--durability full`): WAL, and every commit synced before
// it is acknowledged, so "durable writes" mean the same on both sides.
const db = new Database(opts.db);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`
  CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'TODO', assignee TEXT, version INTEGER NOT NULL DEFAULT 1,
    createdAt TEXT NOT NULL, updatedAt TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS activity (
    id INTEGER PRIMARY KEY, type TEXT NOT NULL, user TEXT NOT NULL, message TEXT NOT NULL,
    taskId INTEGER, timestamp TEXT NOT NULL);
`);
const sql = {
  all: db.prepare('SELECT * FROM tasks ORDER BY id'),
  get: db.prepare('SELECT * FROM tasks WHERE id = ?'),
  insert: db.prepare(`INSERT INTO tasks (title, description, status, assignee, createdAt, updatedAt)
    VALUES (@title, @description, @status, @assignee, @now, @now) RETURNING *`),
  update: db.prepare(`UPDATE tasks SET title = @title, description = @description,
    status = @status, assignee = @assignee, version = @version, updatedAt = @updatedAt
    WHERE id = @id`),
  activity: db.prepare(`INSERT INTO activity (type, user, message, taskId, timestamp)
    VALUES (@type, @user, @message, @taskId, @timestamp) RETURNING *`),
};
const FIELDS = ['title', 'description', 'status', 'assignee'];

class CommandError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// Each write and its activity entry in one transaction; the caller broadcasts after the commit.
const createTask = db.transaction((input, user) => {
  const title = input.title ?? input.text;
  if (typeof title !== 'string' || !title.trim()) {
    throw new CommandError('VALIDATION_ERROR', 'title is required');
  }
  const now = new Date().toISOString();
  const task = sql.insert.get({
    title,
    description: input.description ?? '',
    status: input.status ?? 'TODO',
    assignee: input.assignee ?? null,
    now,
  });
  const entry = sql.activity.get({
    type: 'task.created', user, message: `${user} created "${title}"`, taskId: task.id, timestamp: now,
  });
  return { task, entry };
});

const updateTask = db.transaction((input, user) => {
  const task = sql.get.get(input.id);
  if (!task) throw new CommandError('TASK_NOT_FOUND', `Task ${input.id} not found`);
  const patch = {};
  for (const f of FIELDS) {
    if (input[f] !== undefined && input[f] !== task[f]) patch[f] = input[f];
  }
  if (Object.keys(patch).length === 0) return { task, patch: null };
  const now = new Date().toISOString();
  Object.assign(task, patch, { version: task.version + 1, updatedAt: now });
  sql.update.run(task);
  const entry = sql.activity.get({
    type: 'task.updated', user, message: `${user} updated "${task.title}"`, taskId: task.id, timestamp: now,
  });
  return { task, patch: { id: task.id, ...patch, version: task.version, updatedAt: now }, entry };
});

const app = express();
const server = http.createServer(app);
const io = new Server(server);

// Sockets whose handshake asks for no events (`auth.subscribe: []`, the benchmark's writers)
// are left out of broadcasts, as the seeds' subscription step would leave them; every other
// socket gets everything, which is what the benchmark's receivers ask for.
const QUIET = 'quiet';
const broadcast = (name, data) => io.except(QUIET).emit(name, data);

io.use((socket, next) => {
  if (socket.handshake.auth.apiKey !== opts['api-key']) return next(new Error('Unauthorized'));
  next();
});

io.on('connection', (socket) => {
  const { name, subscribe } = socket.handshake.auth;
  const user = typeof name === 'string' && name.trim() ? name.trim() : 'anonymous';
  if (Array.isArray(subscribe) && subscribe.length === 0) socket.join(QUIET);
  socket.emit('sync:full', { tasks: sql.all.all(), agents: [] });

  // A command runs its write, answers its acknowledgement, and on failure also sends the socket
  // `error`, as the seeds' error handling does.
  const command = (event, run) => {
    socket.on(event, (input, ack) => {
      let reply;
      try {
        reply = { ok: true, ...run(input ?? {}) };
      } catch (e) {
        const error = e instanceof CommandError ? e : new CommandError('INTERNAL', String(e));
        reply = { ok: false, error: { code: error.code, message: error.message } };
        socket.emit('error', reply.error);
      }
      if (typeof ack === 'function') ack(reply);
    });
  };
  command('task:create', (input) => {
    const { task, entry } = createTask(input, user);
    broadcast(`task:${task.id}:created`, task);
    broadcast('activity', entry);
    return { task };
  });
  command('task:update', (input) => {
    const { task, patch, entry } = updateTask(input, user);
    if (patch) {
      broadcast(`task:${task.id}:updated`, patch);
      broadcast('activity', entry);
    }
    return { task };
  });
});

// REST, kept beside the sockets as in the seeds.
app.use(express.json());
app.get('/api/health', (_req, res) => {
  res.json({ status: 'online', connections: io.of('/').sockets.size });
});
app.use('/api', (req, res, next) => {
  if (req.get('authorization') !== `Bearer ${opts['api-key']}`) {
    return res.status(401).json({ error: { code: 'UNAUTHORIZED', message: 'Unauthorized' } });
  }
  next();
});
app.get('/api/tasks', (_req, res) => res.json(sql.all.all()));
app.post('/api/tasks', (req, res) => {
  try {
    const { task, entry } = createTask(req.body ?? {}, 'api');
    broadcast(`task:${task.id}:created`, task);
    broadcast('activity', entry);
    res.status(201).json(task);
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
    res.status(400).json({ error: { code: e.code, message: e.message } });
  }
});

server.listen(Number(opts.port), opts.host, () => {
  console.log(`listening on http://${opts.host}:${server.address().port}`);
});
