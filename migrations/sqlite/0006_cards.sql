-- Cards a team can live in: labels per board, due dates, and a comment thread per task.
-- A task's labels are its label ids in the order set (a JSON array): they are read with the task,
-- and only deleting a label looks inside them.
ALTER TABLE tasks ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tasks ADD COLUMN due_at TEXT;

CREATE TABLE labels (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    board TEXT    NOT NULL REFERENCES boards (id),
    name  TEXT    NOT NULL,
    color TEXT    NOT NULL
) STRICT;
CREATE INDEX labels_by_board ON labels (board, id);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    board      TEXT    NOT NULL REFERENCES boards (id),
    task_id    INTEGER NOT NULL,
    author     TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
) STRICT;
CREATE INDEX comments_by_task ON comments (task_id, id);
CREATE INDEX comments_by_board ON comments (board);

-- Notifications: someone was mentioned (`@name`), made a task's assignee, or their task became
-- ready. `person` is the person's key (their name, NFC and lower-cased).
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    person     TEXT    NOT NULL,
    board      TEXT    NOT NULL REFERENCES boards (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('mention', 'assigned', 'unblocked')),
    task_id    INTEGER,
    comment_id INTEGER,
    by_name    TEXT    NOT NULL,
    excerpt    TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    read_at    TEXT
) STRICT;
CREATE INDEX notifications_by_person ON notifications (person, id);
