DROP TABLE publication_metrics;
DROP TABLE publications;
DROP INDEX works_source_key;
ALTER TABLE works DROP COLUMN source_key;
