-- Playable previews of films (see domain::preview), and comments tied to a frame, resolvable,
-- with an optional on-frame drawing.
ALTER TABLE media ADD COLUMN pixel_format TEXT;
ALTER TABLE media ADD COLUMN preview_status TEXT NOT NULL DEFAULT 'not_needed';
ALTER TABLE media ADD COLUMN preview_progress INTEGER NOT NULL DEFAULT 0;
ALTER TABLE media ADD COLUMN preview_error TEXT;
-- The cues of a subtitle upload (JSON), indexed with the work.
ALTER TABLE media ADD COLUMN transcript TEXT;

ALTER TABLE comments ADD COLUMN frame BIGINT;
ALTER TABLE comments ADD COLUMN resolved_by TEXT REFERENCES users(id);
ALTER TABLE comments ADD COLUMN resolved_at TIMESTAMP;
ALTER TABLE comments ADD COLUMN drawing TEXT;
