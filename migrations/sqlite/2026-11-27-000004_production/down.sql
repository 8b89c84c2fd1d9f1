DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE comments;
DROP TABLE signoffs;
DROP TABLE transitions;
ALTER TABLE works DROP COLUMN status_changed_at;
ALTER TABLE works DROP COLUMN review_round;
ALTER TABLE works DROP COLUMN due_date;
ALTER TABLE works DROP COLUMN assignees;
