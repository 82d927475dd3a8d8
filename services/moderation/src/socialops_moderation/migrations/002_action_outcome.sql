-- The outcome as published, so that a command redelivered after its outcome was recorded but
-- before the broker acknowledged it publishes the same outcome again instead of losing it.
ALTER TABLE executed_actions ADD COLUMN IF NOT EXISTS outcome jsonb;
