DROP TABLE search_log_pruned;
DROP TABLE nodes;
DROP INDEX search_outbox_position;
ALTER TABLE search_outbox DROP COLUMN txid;
ALTER TABLE jobs DROP COLUMN locked_by;
