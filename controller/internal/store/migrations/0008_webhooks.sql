-- Migration 8: webhooks with their outbox, alerts, and the figures analytics read.
--
-- events is the outbox of everything webhooks may hear about. A job's transition writes
-- its event in the same transaction that records the transition, so an event exists
-- exactly when the transition does. account_id '' is a system-wide event. notify false
-- keeps a job's completion or failure from being delivered (options.notify_on_completion).
-- A dispatcher fans each event out into one webhook_deliveries row per subscribed webhook
-- and sets dispatched_at, all in one transaction.
--
-- webhook_deliveries is the delivery queue and its log: payload is the exact body sent on
-- every attempt; lease_until and lease_owner say which controller is sending the current
-- attempt, so two controllers never send the same one. webhook_attempts keeps each
-- attempt's status code and timing.
--
-- webhooks.secret is sealed under the master key; webhooks.idempotency_key and
-- request_hash work as they do for licenses (migration 6).
--
-- alerts remembers the alerts raised with a key (an agent's offline spell, a streak of
-- failed backups), so that each is raised once however many controllers notice it.
--
-- job_stats_daily adds up ended jobs per UTC day (YYYY-MM-DD), account, kind, agent and
-- status, in the transaction that ends each job; analytics over weeks and months read it
-- instead of the jobs. Jobs that ended before this migration are not in it.
-- api_requests_hourly counts each account's authenticated requests per hour (Unix
-- seconds of the hour's start). storage_samples is one row a day per account (and '' for
-- the storage as a whole) of what storage held, for growth and the fill projection.
--
-- The indexes at the end serve analytics: jobs that ended in a range (of one account,
-- or of all for the admin), each agent's latest backup, and sums over kept backups read
-- from the index alone.
--
-- backups.stored_raw_bytes is the plaintext size of the blobs a backup added (beside
-- stored_bytes, their sealed size); packs.raw_size the plaintext size of a pack's blobs.
-- Together they split savings into deduplication and compression.

CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    secret          TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT NOT NULL DEFAULT '',
    failing_since   {{timestamp}},
    last_success_at {{timestamp}},
    last_failure_at {{timestamp}},
    idempotency_key TEXT,
    request_hash    TEXT NOT NULL DEFAULT '',
    created_at      {{timestamp}} NOT NULL,
    updated_at      {{timestamp}} NOT NULL
);

CREATE INDEX webhooks_account_idx ON webhooks (account_id, created_at);
CREATE UNIQUE INDEX webhooks_idempotency_idx ON webhooks (account_id, idempotency_key);

CREATE TABLE events (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL DEFAULT '',
    type          TEXT NOT NULL,
    data          TEXT NOT NULL,
    notify        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    {{timestamp}} NOT NULL,
    dispatched_at {{timestamp}}
);

CREATE INDEX events_pending_idx ON events (created_at) WHERE dispatched_at IS NULL;
CREATE INDEX events_dispatched_idx ON events (dispatched_at);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {{timestamp}} NOT NULL,
    lease_until     {{timestamp}},
    lease_owner     TEXT NOT NULL DEFAULT '',
    status_code     INTEGER NOT NULL DEFAULT 0,
    error           TEXT NOT NULL DEFAULT '',
    duration_ms     BIGINT NOT NULL DEFAULT 0,
    created_at      {{timestamp}} NOT NULL,
    updated_at      {{timestamp}} NOT NULL,
    completed_at    {{timestamp}}
);

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at);
CREATE INDEX webhook_deliveries_completed_idx ON webhook_deliveries (completed_at);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    started_at  {{timestamp}} NOT NULL,
    duration_ms BIGINT NOT NULL,
    status_code INTEGER NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE alerts (
    dedupe_key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    created_at {{timestamp}} NOT NULL
);

CREATE TABLE job_stats_daily (
    account_id      TEXT NOT NULL,
    day             TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('backup', 'restore')),
    agent_id        TEXT NOT NULL,
    status          TEXT NOT NULL,
    jobs            BIGINT NOT NULL DEFAULT 0,
    bytes           BIGINT NOT NULL DEFAULT 0,
    stored_bytes    BIGINT NOT NULL DEFAULT 0,
    stored_raw_bytes BIGINT NOT NULL DEFAULT 0,
    duration_ms     BIGINT NOT NULL DEFAULT 0,
    max_duration_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day, kind, agent_id, status)
);

CREATE TABLE api_requests_hourly (
    account_id TEXT NOT NULL,
    hour       BIGINT NOT NULL,
    requests   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, hour)
);

CREATE TABLE storage_samples (
    account_id    TEXT NOT NULL,
    day           TEXT NOT NULL,
    stored_bytes  BIGINT NOT NULL DEFAULT 0,
    raw_bytes     BIGINT NOT NULL DEFAULT 0,
    logical_bytes BIGINT NOT NULL DEFAULT 0,
    used_bytes    BIGINT NOT NULL DEFAULT 0,
    total_bytes   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day)
);

ALTER TABLE backups ADD COLUMN stored_raw_bytes BIGINT NOT NULL DEFAULT 0;

ALTER TABLE packs ADD COLUMN raw_size BIGINT NOT NULL DEFAULT 0;

UPDATE packs SET raw_size =
    (SELECT COALESCE(SUM(raw_length), 0) FROM blobs WHERE blobs.pack_id = packs.id);

CREATE INDEX backups_account_completed_idx ON backups (account_id, completed_at);
CREATE INDEX backups_agent_completed_idx ON backups (agent_id, status, completed_at);
CREATE INDEX backups_account_sizes_idx
    ON backups (account_id, status, agent_id, bytes_total, stored_bytes);
CREATE INDEX backups_completed_idx ON backups (completed_at);
CREATE INDEX restores_account_completed_idx ON restores (account_id, completed_at);
CREATE INDEX restores_completed_idx ON restores (completed_at);
CREATE INDEX job_stats_daily_day_idx ON job_stats_daily (day);
CREATE INDEX api_requests_hourly_hour_idx ON api_requests_hourly (hour);
