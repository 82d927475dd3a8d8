-- Consumed-message ids only need to outlive the topics' retention (30 days): keep when each was
-- seen so that older ids can be pruned (`SlaStore.prune_seen`).
ALTER TABLE sla_seen_messages ADD COLUMN seen_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX sla_seen_messages_seen_at ON sla_seen_messages (seen_at);
