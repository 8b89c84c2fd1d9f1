-- The in-app inbox: one row per notice to one person (a work entered their queue, theirs was
-- sent back or moved on, a comment, a reply, a mention, an assignment, an overdue date), and
-- the kinds of notice each person chose not to get.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    event TEXT NOT NULL,
    work_id TEXT REFERENCES works(id),
    actor_id TEXT REFERENCES users(id),
    text TEXT NOT NULL,
    read_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    -- Once-a-day notices (overdue) carry the day, so a second run that day adds nothing.
    dedupe_key TEXT
);
CREATE INDEX notifications_inbox ON notifications(user_id, created_at);
CREATE INDEX notifications_unread ON notifications(user_id, read_at);
CREATE UNIQUE INDEX notifications_dedupe ON notifications(dedupe_key);

CREATE TABLE notification_mutes (
    user_id TEXT NOT NULL REFERENCES users(id),
    event TEXT NOT NULL,
    PRIMARY KEY (user_id, event)
);
