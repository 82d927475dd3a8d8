-- The queue's order among items decided in the same batch: they share one decided_at, and a tie broken
-- by decision id (a hash) put the later comment first. The insertion order is the topic's order.
ALTER TABLE review_queue ADD COLUMN IF NOT EXISTS arrival bigserial;
