-- Agents' work graph: a task waits for the tasks in its `blockedBy`, kept here in the order they
-- were given (`ord`). A row names tasks of its own board only; deleting a task deletes its
-- rows on both sides (the write rules do it, so they can tell the tasks that lost a blocker).
CREATE TABLE task_blockers (
    board      TEXT    NOT NULL REFERENCES boards (id),
    task_id    INTEGER NOT NULL,
    blocker_id INTEGER NOT NULL,
    ord        INTEGER NOT NULL,
    PRIMARY KEY (board, task_id, blocker_id)
) STRICT;
-- The tasks a blocker holds up: readiness when it reaches DONE, clean-up when it is deleted.
CREATE INDEX task_blockers_by_blocker ON task_blockers (board, blocker_id);
