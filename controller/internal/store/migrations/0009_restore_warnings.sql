-- Migration 9: what a restore could not do.
--
-- restores.warnings is the JSON list of the agent's warnings about a completed restore:
-- owners or modes the kernel did not let it set, setuid and setgid bits it left off
-- because the owner was not restored.

ALTER TABLE restores ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
