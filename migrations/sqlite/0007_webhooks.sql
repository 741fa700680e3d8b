-- Webhooks: a board's outgoing HTTP calls, one per activity entry whose type a hook's patterns
-- match. Deliveries are the outbox: queued in the change's own transaction, sent and retried
-- by a worker, kept (the last ones per hook) as its log.
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    board      TEXT    NOT NULL REFERENCES boards (id),
    url        TEXT    NOT NULL,
    events     TEXT    NOT NULL,
    format     TEXT    NOT NULL CHECK (format IN ('json', 'slack')),
    secret     TEXT    NOT NULL,
    active     INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at TEXT    NOT NULL,
    created_by TEXT    NOT NULL
) STRICT;
CREATE INDEX webhooks_by_board ON webhooks (board, id);

-- `status`: pending (to send, at `next_at`), delivered, or failed (given up). A worker claims a
-- pending one until `claimed_until`, so that of several instances exactly one sends it.
CREATE TABLE webhook_deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id    INTEGER NOT NULL REFERENCES webhooks (id),
    board         TEXT    NOT NULL REFERENCES boards (id),
    event         TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    payload       TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts      INTEGER NOT NULL,
    last_code     INTEGER,
    last_error    TEXT,
    created_at    TEXT    NOT NULL,
    next_at       TEXT    NOT NULL,
    claimed_until TEXT
) STRICT;
CREATE INDEX deliveries_by_hook ON webhook_deliveries (webhook_id, status, id);
CREATE INDEX deliveries_pending ON webhook_deliveries (status, next_at);
CREATE INDEX deliveries_by_board ON webhook_deliveries (board);
