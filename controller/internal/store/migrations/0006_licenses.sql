-- Migration 6: the Scythe license service.
--
-- license_signing_keys holds each account's Ed25519 signing keys. The private key is kept
-- only wrapped by the controller's master key (see the keyring package). generation counts
-- an account's keys from 1; the highest signs, every key of it verifies. The unique pair
-- makes two controllers rotating at once take different generations. Keys are never deleted, so a license keeps
-- verifying after its key has been rotated out.
--
-- licenses.idempotency_key is the Idempotency-Key header of the request that issued the
-- license, with request_hash the SHA-256 of that request, so that a repeat answers the same
-- license; NULLs do not collide in the unique index.
--
-- licenses.seats_used counts the rows of license_activations of the license. Activation
-- raises it with a conditional UPDATE (seats_used < max_users), which is what keeps two
-- controllers or two requests from both taking the last seat.

CREATE TABLE license_signing_keys (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    generation  INTEGER NOT NULL,
    public_key  {{bytes}} NOT NULL,
    private_key {{bytes}} NOT NULL,
    created_at  {{timestamp}} NOT NULL
);

CREATE UNIQUE INDEX license_signing_keys_generation_idx
    ON license_signing_keys (account_id, generation);

CREATE TABLE licenses (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    signing_key_id TEXT NOT NULL REFERENCES license_signing_keys (id),
    product_id     TEXT NOT NULL,
    license_type   TEXT NOT NULL CHECK (license_type IN ('perpetual', 'subscription', 'trial')),
    customer_name  TEXT NOT NULL,
    customer_email TEXT NOT NULL,
    company_name   TEXT NOT NULL DEFAULT '',
    features       TEXT NOT NULL DEFAULT '[]',
    max_users      INTEGER NOT NULL CHECK (max_users >= 1),
    seats_used     INTEGER NOT NULL DEFAULT 0 CHECK (seats_used >= 0),
    license_key    TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash   TEXT NOT NULL DEFAULT '',
    expires_at     {{timestamp}},
    revoked_at     {{timestamp}},
    created_at     {{timestamp}} NOT NULL,
    updated_at     {{timestamp}} NOT NULL
);

CREATE INDEX licenses_account_created_idx ON licenses (account_id, created_at);
CREATE INDEX licenses_product_idx ON licenses (account_id, product_id);
CREATE UNIQUE INDEX licenses_idempotency_idx ON licenses (account_id, idempotency_key);

CREATE TABLE license_activations (
    license_id   TEXT NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    fingerprint  TEXT NOT NULL,
    machine_name TEXT NOT NULL DEFAULT '',
    created_at   {{timestamp}} NOT NULL,
    last_seen_at {{timestamp}} NOT NULL,
    PRIMARY KEY (license_id, fingerprint)
);
