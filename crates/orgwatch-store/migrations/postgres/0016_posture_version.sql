-- A counter of the posture data's changes: every transaction that loads a snapshot, replaces
-- one or records a failed file adds one to it just before it commits, so a reader that sees the
-- same value sees the same posture data (the web app shares a page's computation while it
-- holds; `Store::posture_version`). One row, updated last in each transaction so that
-- concurrent loads on PostgreSQL wait on it only for their commit.
CREATE TABLE posture_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO posture_version (id, version) VALUES (1, 0);
