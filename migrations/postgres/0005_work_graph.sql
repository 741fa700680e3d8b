-- Agents' work graph: migrations/sqlite/0005_work_graph.sql in PostgreSQL's types. A task waits
-- for the tasks in its `blockedBy`, kept here in the order they were given (`ord`).
CREATE TABLE task_blockers (
    board      TEXT COLLATE "C" NOT NULL REFERENCES boards (id),
    task_id    BIGINT NOT NULL,
    blocker_id BIGINT NOT NULL,
    ord        BIGINT NOT NULL,
    PRIMARY KEY (board, task_id, blocker_id)
);
-- The tasks a blocker holds up: readiness when it reaches DONE, clean-up when it is deleted.
CREATE INDEX task_blockers_by_blocker ON task_blockers (board, blocker_id);
