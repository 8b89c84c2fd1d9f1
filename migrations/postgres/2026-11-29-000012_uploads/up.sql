-- Resumable uploads (tus 1.0): the offset lives here and the bytes in the store, as one
-- object per received piece, so the next PATCH may reach any node. Completed, the upload
-- names the medium it became; expired ones are removed with their pieces.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    work_id TEXT NOT NULL REFERENCES works(id),
    role TEXT NOT NULL,
    filename TEXT,
    length BIGINT NOT NULL,
    upload_offset BIGINT NOT NULL,
    pieces TEXT NOT NULL,
    media_id TEXT,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX uploads_expires ON uploads (expires_at);
