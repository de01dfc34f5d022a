-- Migration 3: backup and restore jobs.
--
-- Both tables share the job lifecycle columns: status, attempt and lease_until let one
-- controller own a running job; a commit names the attempt it belongs to, so an agent cut
-- off past its lease cannot complete a job that has since been handed out again.

CREATE TABLE backups (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    agent_id         TEXT NOT NULL,
    status           TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'completed', 'failed', 'canceled')),
    progress         DOUBLE PRECISION NOT NULL DEFAULT 0,
    sources          TEXT NOT NULL,
    options          TEXT NOT NULL,
    attempt          INTEGER NOT NULL DEFAULT 0,
    lease_until      {{timestamp}},
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    bytes_total      BIGINT NOT NULL DEFAULT 0,
    bytes_done       BIGINT NOT NULL DEFAULT 0,
    files            BIGINT NOT NULL DEFAULT 0,
    chunks_total     BIGINT NOT NULL DEFAULT 0,
    chunks_new       BIGINT NOT NULL DEFAULT 0,
    stored_bytes     BIGINT NOT NULL DEFAULT 0,
    root             TEXT NOT NULL DEFAULT '',
    error            TEXT NOT NULL DEFAULT '',
    warnings         TEXT NOT NULL DEFAULT '[]',
    expires_at       {{timestamp}},
    created_at       {{timestamp}} NOT NULL,
    started_at       {{timestamp}},
    completed_at     {{timestamp}},
    updated_at       {{timestamp}} NOT NULL
);

CREATE INDEX backups_account_created_idx ON backups (account_id, created_at);
CREATE INDEX backups_status_idx ON backups (status, agent_id);

CREATE TABLE restores (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    backup_id        TEXT NOT NULL REFERENCES backups (id) ON DELETE CASCADE,
    agent_id         TEXT NOT NULL,
    status           TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'completed', 'failed', 'canceled')),
    progress         DOUBLE PRECISION NOT NULL DEFAULT 0,
    targets          TEXT NOT NULL,
    options          TEXT NOT NULL,
    attempt          INTEGER NOT NULL DEFAULT 0,
    lease_until      {{timestamp}},
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    bytes_total      BIGINT NOT NULL DEFAULT 0,
    bytes_done       BIGINT NOT NULL DEFAULT 0,
    files            BIGINT NOT NULL DEFAULT 0,
    skipped          TEXT NOT NULL DEFAULT '[]',
    error            TEXT NOT NULL DEFAULT '',
    created_at       {{timestamp}} NOT NULL,
    started_at       {{timestamp}},
    completed_at     {{timestamp}},
    updated_at       {{timestamp}} NOT NULL
);

CREATE INDEX restores_account_created_idx ON restores (account_id, created_at);
CREATE INDEX restores_status_idx ON restores (status, agent_id);
