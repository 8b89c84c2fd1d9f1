-- Index tasks written in the same transaction as the change they describe.
CREATE TABLE search_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    work_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
