ALTER TABLE media DROP COLUMN gps;
DROP INDEX works_unchecked;
ALTER TABLE works DROP COLUMN checked_at;
ALTER TABLE works DROP COLUMN findings_review;
ALTER TABLE works DROP COLUMN findings_block;
DROP TABLE findings;
DROP TABLE wordlists;
