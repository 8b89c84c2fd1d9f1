-- The compliance check before publishing: the admins' word lists, and every finding on a
-- work (personal data or a listed word), kept across saves with its override. A finding
-- stores a masked excerpt only, never the matched personal data.
CREATE TABLE wordlists (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    level TEXT NOT NULL,
    terms TEXT NOT NULL,
    term_count INTEGER NOT NULL,
    created_by TEXT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE findings (
    id TEXT PRIMARY KEY NOT NULL,
    work_id TEXT NOT NULL REFERENCES works(id),
    field TEXT NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    category TEXT NOT NULL,
    level TEXT NOT NULL,
    excerpt TEXT NOT NULL,
    status TEXT NOT NULL,
    override_by TEXT REFERENCES users(id),
    override_at TIMESTAMP,
    override_reason TEXT,
    acknowledged_by TEXT REFERENCES users(id),
    acknowledged_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX findings_work ON findings(work_id, status);

-- Open findings by level, kept on the work so lists and queues show them without a join;
-- works not checked since their lists changed have no check time (a background sweep).
ALTER TABLE works ADD COLUMN findings_block INTEGER NOT NULL DEFAULT 0;
ALTER TABLE works ADD COLUMN findings_review INTEGER NOT NULL DEFAULT 0;
ALTER TABLE works ADD COLUMN checked_at TIMESTAMP;
CREATE INDEX works_unchecked ON works(checked_at);

-- Whether a photo's original carries GPS coordinates (learned when it is processed).
ALTER TABLE media ADD COLUMN gps BOOLEAN;

-- The shipped list: small and neutral (classification markings and case files).
INSERT INTO wordlists (id, name, category, level, terms, term_count, created_by, created_at, updated_at)
VALUES ('default', '默认词表', '涉密标识', 'block',
'绝密
机密
内部资料
内部文件
内部通报
不得外传
仅供内部参考
讯问笔录	案件材料	review
询问笔录	案件材料	review
', 9, NULL, '2026-11-29 00:00:00', '2026-11-29 00:00:00');
