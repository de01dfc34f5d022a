-- Migration 7: policies and their scheduler, retention, garbage collection and storage
-- checks.
--
-- policies.next_run_at is the instant the policy's next backup is due, schedule slot plus
-- the policy's stable offset. A controller starts a due policy with one conditional
-- UPDATE of that column (compare and swap) in the transaction that queues the backup, so
-- of several controllers sharing the database exactly one starts each due run.
-- sources and options are stored as a backup's are (database passwords sealed).
-- retention is the JSON of the keep rules.

CREATE TABLE policies (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    agent_id    TEXT NOT NULL,
    sources     TEXT NOT NULL,
    options     TEXT NOT NULL,
    schedule    TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    retention   TEXT NOT NULL DEFAULT '{}',
    next_run_at {{timestamp}} NOT NULL,
    last_run_at {{timestamp}},
    created_at  {{timestamp}} NOT NULL,
    updated_at  {{timestamp}} NOT NULL
);

CREATE UNIQUE INDEX policies_account_name_idx ON policies (account_id, name);
CREATE INDEX policies_due_idx ON policies (next_run_at);

-- A backup started by a policy names it. forgotten_at is set when the backup is deleted
-- or expires: the row stays (its restores keep their history) but is hidden, and its
-- blobs are no longer live for garbage collection.
ALTER TABLE backups ADD COLUMN policy_id TEXT;

ALTER TABLE backups ADD COLUMN forgotten_at {{timestamp}};

CREATE INDEX backups_policy_idx ON backups (policy_id, status);
CREATE INDEX backups_expires_idx ON backups (expires_at);

-- A pack whose blobs were all collected or moved is marked deleted first; its file goes
-- a while later, so that a read that located a blob in it just before still finds it.
ALTER TABLE packs ADD COLUMN deleted_at {{timestamp}};

-- gc_condemned holds blob rows that a collection found unreferenced and took out of the
-- index: Missing answers them absent, so no new backup is told they exist, while reads
-- still find them. Once every backup that might have been told before has ended, the
-- collection walks the snapshots again, puts back the rows one references, and deletes
-- the rest.
CREATE TABLE gc_condemned (
    account_id  TEXT NOT NULL,
    id          {{bytes}} NOT NULL,
    kind        SMALLINT NOT NULL,
    pack_id     TEXT NOT NULL,
    pack_offset BIGINT NOT NULL,
    length      INTEGER NOT NULL,
    raw_length  INTEGER NOT NULL,
    created_at  {{timestamp}} NOT NULL,
    gc_id       TEXT NOT NULL,
    PRIMARY KEY (account_id, id)
);

CREATE INDEX gc_condemned_gc_idx ON gc_condemned (gc_id);

-- One collection or check per row; account_id NULL means every account. barrier is the
-- JSON list of backups the collection waits for; stats and damaged are JSON.
CREATE TABLE gc_runs (
    id           TEXT PRIMARY KEY,
    account_id   TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    status       TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    phase        TEXT NOT NULL DEFAULT '',
    barrier      TEXT NOT NULL DEFAULT '[]',
    stats        TEXT NOT NULL DEFAULT '{}',
    error        TEXT NOT NULL DEFAULT '',
    created_at   {{timestamp}} NOT NULL,
    started_at   {{timestamp}},
    completed_at {{timestamp}}
);

CREATE INDEX gc_runs_account_idx ON gc_runs (account_id, created_at);
CREATE INDEX gc_runs_status_idx ON gc_runs (status, created_at);

CREATE TABLE storage_checks (
    id                TEXT PRIMARY KEY,
    account_id        TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    status            TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    read_data_percent DOUBLE PRECISION NOT NULL DEFAULT 0,
    damaged           TEXT NOT NULL DEFAULT '[]',
    stats             TEXT NOT NULL DEFAULT '{}',
    error             TEXT NOT NULL DEFAULT '',
    created_at        {{timestamp}} NOT NULL,
    started_at        {{timestamp}},
    completed_at      {{timestamp}}
);

CREATE INDEX storage_checks_account_idx ON storage_checks (account_id, created_at);
CREATE INDEX storage_checks_status_idx ON storage_checks (status, created_at);

-- Leases on the storage's maintenance tasks ('gc', 'check'): the holder runs the task's
-- queued work alone until lease_until, and next_due is when the periodic run is due
-- (NULL until a controller first looks: the first run comes one period later).
CREATE TABLE maintenance (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL DEFAULT '',
    lease_until {{timestamp}},
    next_due    {{timestamp}}
);

INSERT INTO maintenance (name) VALUES ('gc');
INSERT INTO maintenance (name) VALUES ('check');
