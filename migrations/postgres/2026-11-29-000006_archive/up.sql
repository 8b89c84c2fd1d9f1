-- The published archive: where and when a work was published (several places), metrics
-- snapshots of each publication, and the key an imported work had in its source export.
ALTER TABLE works ADD COLUMN source_key TEXT;
CREATE UNIQUE INDEX works_source_key ON works(source_key);

CREATE TABLE publications (
    id TEXT PRIMARY KEY NOT NULL,
    work_id TEXT NOT NULL REFERENCES works(id),
    platform TEXT NOT NULL,
    account TEXT,
    url TEXT,
    published_at TIMESTAMP NOT NULL,
    created_by TEXT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX publications_work ON publications(work_id);
CREATE INDEX publications_time ON publications(published_at);

CREATE TABLE publication_metrics (
    id TEXT PRIMARY KEY NOT NULL,
    publication_id TEXT NOT NULL REFERENCES publications(id),
    as_of TIMESTAMP NOT NULL,
    reads BIGINT,
    likes BIGINT,
    shares BIGINT,
    comments BIGINT,
    reposts BIGINT,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX publication_metrics_publication ON publication_metrics(publication_id, as_of);
