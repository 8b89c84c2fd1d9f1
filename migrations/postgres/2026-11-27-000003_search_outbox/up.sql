-- Index tasks written in the same transaction as the change they describe.
CREATE TABLE search_outbox (
    seq BIGSERIAL PRIMARY KEY,
    work_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
