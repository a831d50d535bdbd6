-- Local users, what a viewer may see, and server-side sessions (the web app, issue 14).
-- Times are epoch seconds on both backends, so session expiry compares alike.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- argon2id PHC string; the password itself is never stored.
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- A viewer with rows here sees only the accounts they name (by id, OU or environment);
-- a viewer without rows sees every account. Admins are never limited.
CREATE TABLE user_scopes (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('account', 'ou', 'environment')),
    value TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, value)
);
-- The session id is kept only as its SHA-256: a copy of the table opens no session.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
