-- How many times a later moderation decision has reopened an item (issue 14): a transition that
-- happens again in a later cycle gets a change id of its own instead of repeating the first one's.
ALTER TABLE sla_items ADD COLUMN IF NOT EXISTS reopenings integer NOT NULL DEFAULT 0;
