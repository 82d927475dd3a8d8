-- A verdict can be undone within a minute by the person who gave it (issue 13): the item goes back to the
-- queue, and the next verdict is a new decision of its own (its id counts the rounds).
ALTER TABLE review_queue ADD COLUMN IF NOT EXISTS review_round integer NOT NULL DEFAULT 0;
ALTER TABLE review_queue ADD COLUMN IF NOT EXISTS resolved_by_subject text;
