-- The board's first schema: migrations/sqlite/0001_board.sql in PostgreSQL's types. Every row
-- belongs to a board (only `main` exists for now), so separate boards need no rewrite.
--
-- Every TEXT column is COLLATE "C": compared, sorted and case-folded byte by byte, as SQLite
-- does, whatever the server's locale. RFC3339 timestamps therefore compare as times, and ids
-- and names sort identically on both backends. JSON is kept as TEXT, exactly as written: the
-- store never looks inside, and a replayed result is byte for byte the first one.
CREATE TABLE boards (
    name TEXT COLLATE "C" PRIMARY KEY,
    -- The last sequence number given to a change on this board.
    seq  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE tasks (
    id          BIGSERIAL PRIMARY KEY,
    board       TEXT COLLATE "C" NOT NULL REFERENCES boards (name),
    title       TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    status      TEXT COLLATE "C" NOT NULL CHECK (status IN ('TODO', 'IN_PROGRESS', 'BLOCKED', 'REVIEW', 'DONE')),
    assignee    TEXT COLLATE "C",
    position    BIGINT NOT NULL,
    created_by  TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL,
    version     BIGINT NOT NULL
);
CREATE INDEX tasks_by_column ON tasks (board, status, position, id);

CREATE TABLE agents (
    board           TEXT COLLATE "C" NOT NULL REFERENCES boards (name),
    id              TEXT COLLATE "C" NOT NULL,
    name            TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL CHECK (status IN ('idle', 'busy', 'error', 'offline')),
    current_task_id BIGINT,
    last_seen       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (board, id)
);

-- Kept after a task is deleted: it is the task's history. `user` is a reserved word in
-- PostgreSQL, hence the quotes wherever the column is named.
CREATE TABLE activity (
    id        BIGSERIAL PRIMARY KEY,
    board     TEXT COLLATE "C" NOT NULL REFERENCES boards (name),
    seq       BIGINT NOT NULL,
    kind      TEXT COLLATE "C" NOT NULL,
    "user"    TEXT COLLATE "C" NOT NULL,
    message   TEXT COLLATE "C" NOT NULL,
    task_id   BIGINT,
    changes   TEXT COLLATE "C",
    timestamp TEXT COLLATE "C" NOT NULL
);
CREATE INDEX activity_by_task ON activity (board, task_id, id);
CREATE INDEX activity_by_board ON activity (board, id);

-- First results of client operations (`opId`, REST `Idempotency-Key`) per credential.
CREATE TABLE idempotency (
    credential TEXT COLLATE "C" NOT NULL,
    op_id      TEXT COLLATE "C" NOT NULL,
    result     TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (credential, op_id)
);

CREATE TABLE settings (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);

INSERT INTO boards (name) VALUES ('main');
