-- Migration 2: the blob index (packs and the blobs inside them) and the wrapped
-- account keys.
--
-- {{bytes}} becomes BYTEA on PostgreSQL and BLOB on SQLite.
--
-- A pack's id is the hex SHA-256 of the pack file's bytes. A blob belongs to
-- one pack: when two packs hold the same blob of an account, the index keeps
-- the first one committed. The blob's place in its pack is pack_offset
-- ("offset" is an SQL keyword) and length, both of the sealed bytes;
-- raw_length is the length of its plaintext.

CREATE TABLE packs (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    size       BIGINT NOT NULL,
    blob_count INTEGER NOT NULL,
    created_at {{timestamp}} NOT NULL
);

CREATE INDEX packs_account_idx ON packs (account_id, created_at);

CREATE TABLE blobs (
    account_id  TEXT NOT NULL,
    id          {{bytes}} NOT NULL,
    kind        SMALLINT NOT NULL,
    pack_id     TEXT NOT NULL REFERENCES packs (id) ON DELETE CASCADE,
    pack_offset BIGINT NOT NULL,
    length      INTEGER NOT NULL,
    raw_length  INTEGER NOT NULL,
    created_at  {{timestamp}} NOT NULL,
    PRIMARY KEY (account_id, id)
);

-- Finds a pack's blobs, for the cascade above and for garbage collection.
CREATE INDEX blobs_pack_idx ON blobs (pack_id);

-- An account's blob keys, sealed by the controller's master key: only a
-- controller holding that key can read them.
CREATE TABLE account_keys (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    wrapped    {{bytes}} NOT NULL,
    created_at {{timestamp}} NOT NULL
);
