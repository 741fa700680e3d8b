-- Cards a team can live in: migrations/sqlite/0006_cards.sql in PostgreSQL's types.
ALTER TABLE tasks ADD COLUMN labels TEXT COLLATE "C" NOT NULL DEFAULT '[]';
ALTER TABLE tasks ADD COLUMN due_at TEXT COLLATE "C";

CREATE TABLE labels (
    id    BIGSERIAL PRIMARY KEY,
    board TEXT COLLATE "C" NOT NULL REFERENCES boards (id),
    name  TEXT COLLATE "C" NOT NULL,
    color TEXT COLLATE "C" NOT NULL
);
CREATE INDEX labels_by_board ON labels (board, id);

CREATE TABLE comments (
    id         BIGSERIAL PRIMARY KEY,
    board      TEXT COLLATE "C" NOT NULL REFERENCES boards (id),
    task_id    BIGINT NOT NULL,
    author     TEXT COLLATE "C" NOT NULL,
    body       TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX comments_by_task ON comments (task_id, id);
CREATE INDEX comments_by_board ON comments (board);

-- Notifications: see migrations/sqlite/0006_cards.sql.
CREATE TABLE notifications (
    id         BIGSERIAL PRIMARY KEY,
    person     TEXT COLLATE "C" NOT NULL,
    board      TEXT COLLATE "C" NOT NULL REFERENCES boards (id),
    kind       TEXT COLLATE "C" NOT NULL CHECK (kind IN ('mention', 'assigned', 'unblocked')),
    task_id    BIGINT,
    comment_id BIGINT,
    by_name    TEXT COLLATE "C" NOT NULL,
    excerpt    TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    read_at    TEXT COLLATE "C"
);
CREATE INDEX notifications_by_person ON notifications (person, id);
