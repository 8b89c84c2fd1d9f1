ALTER TABLE comments DROP COLUMN drawing;
ALTER TABLE comments DROP COLUMN resolved_at;
ALTER TABLE comments DROP COLUMN resolved_by;
ALTER TABLE comments DROP COLUMN frame;

ALTER TABLE media DROP COLUMN transcript;
ALTER TABLE media DROP COLUMN preview_error;
ALTER TABLE media DROP COLUMN preview_progress;
ALTER TABLE media DROP COLUMN preview_status;
ALTER TABLE media DROP COLUMN pixel_format;
