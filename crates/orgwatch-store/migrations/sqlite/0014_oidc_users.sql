-- Single sign-on with OpenID Connect (issue 14): users who log in through the identity
-- provider, and the logins under way.
-- A user's source: 'local' (a password of ours) or 'oidc' (the provider vouches for them:
-- no local password can log them in). An OIDC user is known by (issuer, subject), never by
-- name: the provider's name is only a label, and another user may have it.
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'oidc'));
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_identity ON users (oidc_issuer, oidc_subject) WHERE source = 'oidc';
-- A login sent to the provider and not back yet: keyed by the SHA-256 of its `state` (the
-- value itself is only in the browser's cookie and the provider's redirect), taken once.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX oidc_logins_created ON oidc_logins (created_at);
