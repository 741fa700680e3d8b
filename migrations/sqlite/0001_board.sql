-- The board's first schema. Every row belongs to a board (only `main` exists for now), so
-- separate boards ("rooms") need no rewrite.
CREATE TABLE boards (
    name TEXT PRIMARY KEY,
    -- The last sequence number given to a change on this board.
    seq  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    board       TEXT    NOT NULL REFERENCES boards (name),
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('TODO', 'IN_PROGRESS', 'BLOCKED', 'REVIEW', 'DONE')),
    assignee    TEXT,
    position    INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    version     INTEGER NOT NULL
) STRICT;
CREATE INDEX tasks_by_column ON tasks (board, status, position, id);

CREATE TABLE agents (
    board           TEXT    NOT NULL REFERENCES boards (name),
    id              TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('idle', 'busy', 'error', 'offline')),
    current_task_id INTEGER,
    last_seen       TEXT    NOT NULL,
    PRIMARY KEY (board, id)
) STRICT;

-- Kept after a task is deleted: it is the task's history.
CREATE TABLE activity (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    board     TEXT    NOT NULL REFERENCES boards (name),
    seq       INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    user      TEXT    NOT NULL,
    message   TEXT    NOT NULL,
    task_id   INTEGER,
    changes   TEXT,
    timestamp TEXT    NOT NULL
) STRICT;
CREATE INDEX activity_by_task ON activity (board, task_id, id);
CREATE INDEX activity_by_board ON activity (board, id);

-- First results of client operations (`opId`, REST `Idempotency-Key`) per credential.
CREATE TABLE idempotency (
    credential TEXT NOT NULL,
    op_id      TEXT NOT NULL,
    result     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (credential, op_id)
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

INSERT INTO boards (name) VALUES ('main');
