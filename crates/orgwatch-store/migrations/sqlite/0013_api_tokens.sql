-- API tokens for the JSON API (the web app, issue 14), and each user's last login.
-- A token is 256 random bits that only its holder has; the store keeps its SHA-256 (hex),
-- looked up by that hash, and a short public prefix to tell tokens apart in lists.
-- A token carries no access of its own: each request is its user's (role and scope as
-- stored then), and removing the user deletes their tokens.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    -- Epoch seconds, as the sessions' times.
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
ALTER TABLE users ADD COLUMN last_login_at INTEGER;
