-- Where stored files live once `migrate-store` has moved them (a node configured for another
-- place refuses to start: it would write where no one reads), and every object a migration
-- has copied and verified, so an interrupted run resumes where it stopped.
CREATE TABLE store_location (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    location TEXT NOT NULL,
    moved_at TIMESTAMP NOT NULL
);

CREATE TABLE store_copies (
    destination TEXT NOT NULL,
    object_path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    copied_at TIMESTAMP NOT NULL,
    PRIMARY KEY (destination, object_path)
);
