-- Migration 1: accounts, API keys, agents and join tokens.
--
-- {{timestamp}} becomes TIMESTAMPTZ on PostgreSQL and DATETIME on SQLite.
-- Ids are opaque text made by store.NewID.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    plan          TEXT NOT NULL CHECK (plan IN ('FREE', 'PRO', 'MASTER', 'REAPER')),
    role          TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    {{timestamp}} NOT NULL,
    updated_at    {{timestamp}} NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL UNIQUE,
    hash         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    expires_at   {{timestamp}},
    last_used_at {{timestamp}},
    revoked_at   {{timestamp}},
    created_at   {{timestamp}} NOT NULL
);

CREATE INDEX api_keys_account_idx ON api_keys (account_id, created_at);

CREATE TABLE agents (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    hostname         TEXT NOT NULL DEFAULT '',
    version          TEXT NOT NULL DEFAULT '',
    os               TEXT NOT NULL DEFAULT '',
    arch             TEXT NOT NULL DEFAULT '',
    cert_serial      TEXT NOT NULL UNIQUE,
    cert_fingerprint TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'offline')),
    transport        TEXT NOT NULL DEFAULT '' CHECK (transport IN ('', 'quic', 'tcp')),
    last_seen        {{timestamp}},
    rtt_ms           DOUBLE PRECISION,
    revoked_at       {{timestamp}},
    created_at       {{timestamp}} NOT NULL,
    updated_at       {{timestamp}} NOT NULL
);

-- A name is unique among an account's live agents; a revoked agent's name
-- may be taken again. Both dialects support partial indexes.
CREATE UNIQUE INDEX agents_account_name_live_idx ON agents (account_id, name)
    WHERE revoked_at IS NULL;

CREATE INDEX agents_account_idx ON agents (account_id, created_at);

CREATE INDEX agents_status_idx ON agents (status, last_seen);

CREATE TABLE join_tokens (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    secret_hash      TEXT NOT NULL,
    expires_at       {{timestamp}} NOT NULL,
    used_at          {{timestamp}},
    used_by_agent_id TEXT REFERENCES agents (id) ON DELETE SET NULL,
    created_at       {{timestamp}} NOT NULL
);

CREATE INDEX join_tokens_account_idx ON join_tokens (account_id);
