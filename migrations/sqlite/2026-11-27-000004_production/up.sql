ALTER TABLE works ADD COLUMN assignees TEXT NOT NULL DEFAULT '[]';
ALTER TABLE works ADD COLUMN due_date TEXT;
ALTER TABLE works ADD COLUMN review_round INTEGER NOT NULL DEFAULT 0;
ALTER TABLE works ADD COLUMN status_changed_at TIMESTAMP;

CREATE TABLE transitions (
    id TEXT PRIMARY KEY NOT NULL,
    work_id TEXT NOT NULL REFERENCES works(id),
    action TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    actor_id TEXT NOT NULL REFERENCES users(id),
    comment TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX transitions_work ON transitions(work_id, created_at);
CREATE INDEX transitions_created ON transitions(created_at);

CREATE TABLE signoffs (
    work_id TEXT NOT NULL REFERENCES works(id),
    review_round INTEGER NOT NULL,
    reviewer_id TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (work_id, review_round, reviewer_id)
);

CREATE TABLE comments (
    id TEXT PRIMARY KEY NOT NULL,
    work_id TEXT NOT NULL REFERENCES works(id),
    author_id TEXT NOT NULL REFERENCES users(id),
    body TEXT NOT NULL,
    media_id TEXT,
    timecode_ms BIGINT,
    reply_to TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX comments_work ON comments(work_id, created_at);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT,
    client_addr TEXT,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_target ON audit_log(target_id, seq);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
