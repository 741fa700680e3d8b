-- Boards: a team's projects, each with its own tasks, history and sequence. Until now the
-- table held only `main` and its `seq`; its key column was called `name`, which is the board's
-- id (a slug), so it is renamed and `name` becomes the title people read. Existing tasks and
-- history stay on `main`.
ALTER TABLE boards RENAME COLUMN name TO id;
ALTER TABLE boards ADD COLUMN name TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE boards ADD COLUMN description TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE boards ADD COLUMN archived BIGINT NOT NULL DEFAULT 0 CHECK (archived IN (0, 1));
ALTER TABLE boards ADD COLUMN created_at TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE boards ADD COLUMN created_by TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE boards SET name = 'Main', created_at = COALESCE(
    (SELECT MIN(created_at) FROM tasks WHERE board = 'main'), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
    created_by = 'warroom'
 WHERE id = 'main';

-- A token may be limited to some boards: a JSON array of board ids; NULL reaches every board.
ALTER TABLE tokens ADD COLUMN boards TEXT COLLATE "C";

-- Invite links: an admin's one-time code that becomes a personal token. Only its SHA-256 is
-- kept, like a token's.
CREATE TABLE invites (
    hash       TEXT COLLATE "C" PRIMARY KEY,
    role       TEXT COLLATE "C" NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    boards     TEXT COLLATE "C",
    created_by TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,
    used_at    TEXT COLLATE "C"
);
