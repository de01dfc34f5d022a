-- Migration 4: profiles, sessions and OAuth, rate-limit counters and the audit trail.
--
-- Access tokens, refresh tokens and authorization codes are stored like API keys:
-- a clear lookup prefix and the SHA-256 of the whole secret, never the secret.

ALTER TABLE accounts ADD COLUMN company TEXT NOT NULL DEFAULT '';

ALTER TABLE accounts ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';

ALTER TABLE accounts ADD COLUMN notifications TEXT NOT NULL DEFAULT '{}';

ALTER TABLE accounts ADD COLUMN password_changed_at {{timestamp}};

CREATE TABLE oauth_clients (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    public        BOOLEAN NOT NULL,
    secret_hash   TEXT,
    redirect_uris TEXT NOT NULL,
    grant_types   TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    revoked_at    {{timestamp}},
    created_at    {{timestamp}} NOT NULL
);

CREATE INDEX oauth_clients_account_idx ON oauth_clients (account_id, created_at);

-- One row per access or refresh token. family_id ties together every token that one
-- sign-in or one authorization produced, so that a reused refresh token, a password
-- change or a revocation can end them all at once.
CREATE TABLE auth_tokens (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT REFERENCES oauth_clients (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    prefix     TEXT NOT NULL UNIQUE,
    hash       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    family_id  TEXT NOT NULL,
    expires_at {{timestamp}} NOT NULL,
    used_at    {{timestamp}},
    revoked_at {{timestamp}},
    created_at {{timestamp}} NOT NULL
);

CREATE INDEX auth_tokens_family_idx ON auth_tokens (family_id);

CREATE INDEX auth_tokens_account_idx ON auth_tokens (account_id);

CREATE TABLE oauth_codes (
    id             TEXT PRIMARY KEY,
    hash           TEXT NOT NULL UNIQUE,
    client_id      TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    challenge      TEXT NOT NULL DEFAULT '',
    family_id      TEXT NOT NULL,
    expires_at     {{timestamp}} NOT NULL,
    used_at        {{timestamp}},
    created_at     {{timestamp}} NOT NULL
);

-- Fixed-window request counters shared by every controller on the database: one row
-- per subject (an account, or a login throttle key), window length and window start.
CREATE TABLE rate_counters (
    subject      TEXT NOT NULL,
    window_secs  INTEGER NOT NULL,
    window_start BIGINT NOT NULL,
    lim          BIGINT NOT NULL DEFAULT 0,
    count        BIGINT NOT NULL,
    granted      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, window_secs, window_start)
);

CREATE INDEX rate_counters_start_idx ON rate_counters (window_start);

CREATE TABLE audit_events (
    id         TEXT PRIMARY KEY,
    at         {{timestamp}} NOT NULL,
    event      TEXT NOT NULL,
    account_id TEXT,
    actor_id   TEXT,
    address    TEXT NOT NULL DEFAULT '',
    details    TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_events_at_idx ON audit_events (at);

CREATE INDEX audit_events_account_idx ON audit_events (account_id, at);
