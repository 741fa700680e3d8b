-- Webhooks: migrations/sqlite/0007_webhooks.sql in PostgreSQL's types.
CREATE TABLE webhooks (
    id         BIGSERIAL PRIMARY KEY,
    board      TEXT COLLATE "C" NOT NULL REFERENCES boards (id),
    url        TEXT COLLATE "C" NOT NULL,
    events     TEXT COLLATE "C" NOT NULL,
    format     TEXT COLLATE "C" NOT NULL CHECK (format IN ('json', 'slack')),
    secret     TEXT COLLATE "C" NOT NULL,
    active     BIGINT NOT NULL CHECK (active IN (0, 1)),
    created_at TEXT COLLATE "C" NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL
);
CREATE INDEX webhooks_by_board ON webhooks (board, id);

CREATE TABLE webhook_deliveries (
    id            BIGSERIAL PRIMARY KEY,
    webhook_id    BIGINT NOT NULL REFERENCES webhooks (id),
    board         TEXT COLLATE "C" NOT NULL REFERENCES boards (id),
    event         TEXT COLLATE "C" NOT NULL,
    seq           BIGINT NOT NULL,
    payload       TEXT COLLATE "C" NOT NULL,
    status        TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts      BIGINT NOT NULL,
    last_code     BIGINT,
    last_error    TEXT COLLATE "C",
    created_at    TEXT COLLATE "C" NOT NULL,
    next_at       TEXT COLLATE "C" NOT NULL,
    claimed_until TEXT COLLATE "C"
);
CREATE INDEX deliveries_by_hook ON webhook_deliveries (webhook_id, status, id);
CREATE INDEX deliveries_pending ON webhook_deliveries (status, next_at);
CREATE INDEX deliveries_by_board ON webhook_deliveries (board);
