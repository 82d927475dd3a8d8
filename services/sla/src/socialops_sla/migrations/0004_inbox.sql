-- The inbox (issue 13): what an item says and who wrote it, who has claimed it, internal notes, and the
-- platform's answer to a reply that failed.
ALTER TABLE sla_items ADD COLUMN IF NOT EXISTS text text;
ALTER TABLE sla_items ADD COLUMN IF NOT EXISTS author_id text;
ALTER TABLE sla_items ADD COLUMN IF NOT EXISTS author_name text;
ALTER TABLE sla_items ADD COLUMN IF NOT EXISTS reply_error text;
ALTER TABLE sla_items ADD COLUMN IF NOT EXISTS reply_error_at timestamptz;
CREATE INDEX IF NOT EXISTS sla_items_inbox ON sla_items (deadline) WHERE state IN ('open', 'at_risk', 'breached');

-- One claim per item: who has it now, and whom they took it over from (the previous holder sees that).
CREATE TABLE IF NOT EXISTS inbox_claims (
    event_id       text PRIMARY KEY,
    subject        text NOT NULL,
    name           text NOT NULL,
    email          text,
    claimed_at     timestamptz NOT NULL,
    taken_from     text,             -- the previous holder's name, when this claim took it over
    taken_from_subject text
);

CREATE TABLE IF NOT EXISTS inbox_notes (
    id         bigserial PRIMARY KEY,
    event_id   text NOT NULL,
    subject    text NOT NULL,
    name       text NOT NULL,
    text       text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS inbox_notes_item ON inbox_notes (event_id, id);
