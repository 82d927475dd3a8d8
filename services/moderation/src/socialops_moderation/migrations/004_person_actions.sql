-- What people asked the platforms to do from the console (reply, like, notify): one row per attempt.
-- `request_key` is what makes two requests the same action (a reply's request id; the liked or
-- notified item), so a second POST finds the first; a failed like or notice may get a next attempt.
-- The outcome is the executor's row in executed_actions (same action_id).
CREATE TABLE IF NOT EXISTS person_actions (
    action_id     text PRIMARY KEY,
    request_key   text NOT NULL,
    attempt       integer NOT NULL,
    request_id    text NOT NULL,
    operation     text NOT NULL,
    platform      text NOT NULL,
    account_id    text NOT NULL,
    item_id       text NOT NULL,
    command       jsonb NOT NULL,          -- the PlatformActionCommand as published
    requested_at  timestamptz NOT NULL,
    UNIQUE (request_key, attempt)
);
CREATE INDEX IF NOT EXISTS person_actions_item ON person_actions (platform, account_id, item_id);
