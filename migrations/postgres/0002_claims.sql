-- Agents as teammates: a claimed task records who holds it and until when, and the
-- holder's last progress note (JSON `{ message, percent, at }`, as TEXT).
ALTER TABLE tasks ADD COLUMN claimed_by TEXT COLLATE "C";
ALTER TABLE tasks ADD COLUMN lease_expires_at TEXT COLLATE "C";
ALTER TABLE tasks ADD COLUMN progress TEXT COLLATE "C";
CREATE INDEX tasks_by_lease ON tasks (board, lease_expires_at) WHERE lease_expires_at IS NOT NULL;
