-- Several nodes on one database. Each node registers itself and beats every few seconds;
-- a claimed job names the node holding its lease; the search change log is kept until every
-- live node has applied it, each node reading it in commit order: by the writing transaction's
-- id on PostgreSQL (a row is read only once every older transaction has ended, so one that
-- commits late cannot be skipped), by sequence on SQLite (one writer at a time).
ALTER TABLE jobs ADD COLUMN locked_by TEXT;

ALTER TABLE search_outbox ADD COLUMN txid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX search_outbox_position ON search_outbox (txid, seq);

CREATE TABLE nodes (
    id TEXT PRIMARY KEY NOT NULL,
    address TEXT NOT NULL,
    version TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    heartbeat_at TIMESTAMP NOT NULL,
    index_txid BIGINT NOT NULL DEFAULT 0,
    index_seq BIGINT NOT NULL DEFAULT 0,
    index_lag BIGINT NOT NULL DEFAULT 0
);

-- The change log position everything at or before which has been pruned: a node whose index
-- is older must rebuild it from the database.
CREATE TABLE search_log_pruned (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    txid BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
