CREATE TABLE media (
    id TEXT PRIMARY KEY NOT NULL,
    work_id TEXT NOT NULL REFERENCES works(id),
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    format TEXT NOT NULL,
    content_type TEXT NOT NULL,
    original_filename TEXT,
    role TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    width INTEGER,
    height INTEGER,
    duration_ms BIGINT,
    rotation INTEGER,
    video_codec TEXT,
    audio_codec TEXT,
    frame_rate DOUBLE PRECISION,
    bitrate BIGINT,
    taken_at TEXT,
    camera TEXT,
    derivatives TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX media_work ON media(work_id, created_at);
CREATE INDEX media_sha256 ON media(sha256);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    media_id TEXT NOT NULL REFERENCES media(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    run_after TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_due ON jobs(status, run_after);
CREATE INDEX jobs_media ON jobs(media_id);
