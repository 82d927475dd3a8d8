-- Moderation state: decisions made (so a redelivered item gets the same decision, once), the
-- review queue editors work through, and the platform actions already carried out (so the same
-- action is never executed twice).

CREATE TABLE IF NOT EXISTS moderation_decisions (
    decision_id   text PRIMARY KEY,
    event_id      text NOT NULL,
    platform      text NOT NULL,
    account_id    text NOT NULL,
    item_id       text NOT NULL,
    action        text NOT NULL,
    decision      jsonb NOT NULL,          -- the ModerationDecision as published (masked text only)
    suggested     jsonb,                   -- for review: what the rules would do if they were sure
    decided_at    timestamptz NOT NULL,
    published_at  timestamptz              -- set once the broker acknowledged decision + commands
);
CREATE INDEX IF NOT EXISTS moderation_decisions_event ON moderation_decisions (event_id);

CREATE TABLE IF NOT EXISTS review_queue (
    decision_id            text PRIMARY KEY REFERENCES moderation_decisions (decision_id),
    platform               text NOT NULL,
    account_id             text NOT NULL,
    queued_at              timestamptz NOT NULL DEFAULT now(),
    status                 text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'resolved')),
    resolved_by            text,
    resolved_at            timestamptz,
    reason                 text,
    resolution_decision_id text
);
CREATE INDEX IF NOT EXISTS review_queue_pending ON review_queue (account_id, queued_at) WHERE status = 'pending';

CREATE TABLE IF NOT EXISTS executed_actions (
    action_id     text PRIMARY KEY,
    decision_id   text NOT NULL,
    platform      text NOT NULL,
    account_id    text NOT NULL,
    item_id       text NOT NULL,
    operation     text NOT NULL,
    status        text NOT NULL,           -- started | done | dry_run | failed
    attempts      integer NOT NULL DEFAULT 0,
    http_status   integer,
    detail        text,
    started_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz
);
