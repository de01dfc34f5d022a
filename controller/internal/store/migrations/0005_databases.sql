-- Migration 5: database sources.
--
-- agents.capabilities is the JSON the agent reported in its hello: the database tools
-- it found and their versions. backups.source_results is the JSON list of what each of
-- a backup's sources stored (type, name, snapshot root, engine, dump format, sizes),
-- written when the backup completes; restores of databases read their roots from it.
-- Database passwords never reach these tables in the clear: the sources and targets
-- columns hold them sealed under the master key.

ALTER TABLE agents ADD COLUMN capabilities TEXT NOT NULL DEFAULT '';

ALTER TABLE backups ADD COLUMN source_results TEXT NOT NULL DEFAULT '[]';
