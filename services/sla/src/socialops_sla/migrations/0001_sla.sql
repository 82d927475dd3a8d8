-- SLA state. Items are every citizen comment / inbound DM seen (state NULL = needs no answer),
-- so that a later moderation decision can still open one. Facts (answers, verdicts, removals)
-- are kept so that messages arriving out of order are applied whichever comes first.

CREATE TABLE sla_accounts (
    platform text NOT NULL,
    external_id text NOT NULL,
    name text NOT NULL,
    department text NOT NULL,
    status text NOT NULL,
    start_date date,
    response_calendar text NOT NULL,
    response_target_hours double precision NOT NULL,
    PRIMARY KEY (platform, external_id)
);

CREATE TABLE sla_items (
    platform text NOT NULL,
    account_id text NOT NULL,
    item_id text NOT NULL,
    event_id text NOT NULL UNIQUE,
    thread_id text NOT NULL,
    parent_id text,
    item_kind text NOT NULL,
    occurred_at timestamptz NOT NULL,
    text_is_question boolean NOT NULL DEFAULT false,
    state text,
    opened_by text,
    department text,
    deadline timestamptz,
    at_risk_at timestamptz,
    answered_at timestamptz,
    answer_event_id text,
    closed_reason text,
    response_working_seconds double precision,
    response_wall_seconds double precision,
    -- when the scheduler must look next: at_risk_at while open, deadline while at risk, else NULL
    next_due_at timestamptz,
    PRIMARY KEY (platform, account_id, item_id)
);
CREATE INDEX sla_items_due ON sla_items (next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX sla_items_thread ON sla_items (platform, account_id, thread_id);
CREATE INDEX sla_items_tracked ON sla_items (occurred_at) WHERE state IS NOT NULL;

CREATE TABLE sla_answers (
    event_id text PRIMARY KEY,
    platform text NOT NULL,
    account_id text NOT NULL,
    thread_id text NOT NULL,
    parent_id text,
    kind text NOT NULL,
    occurred_at timestamptz NOT NULL
);
CREATE INDEX sla_answers_thread ON sla_answers (platform, account_id, thread_id);

CREATE TABLE sla_verdicts (
    platform text NOT NULL,
    account_id text NOT NULL,
    item_id text NOT NULL,
    thread_id text NOT NULL,
    decision_id text NOT NULL,
    needs_answer boolean NOT NULL,
    action text NOT NULL,
    decided_at timestamptz NOT NULL,
    PRIMARY KEY (platform, account_id, item_id)
);
CREATE INDEX sla_verdicts_thread ON sla_verdicts (platform, account_id, thread_id);

CREATE TABLE sla_removals (
    platform text NOT NULL,
    account_id text NOT NULL,
    item_id text NOT NULL,
    thread_id text NOT NULL,
    event_id text NOT NULL,
    reason text NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (platform, account_id, item_id)
);
CREATE INDEX sla_removals_thread ON sla_removals (platform, account_id, thread_id);

-- every consumed message id (event_id / decision_id): replaying the topics changes nothing
CREATE TABLE sla_seen_messages (
    message_id text PRIMARY KEY
);

-- transactional outbox: state changes are written with the state, published afterwards
CREATE TABLE sla_outbox (
    id bigserial PRIMARY KEY,
    change_id text NOT NULL,
    message_key bytea NOT NULL,
    payload text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sla_posts (
    platform text NOT NULL,
    account_id text NOT NULL,
    item_id text NOT NULL,
    event_id text NOT NULL,
    published_at timestamptz NOT NULL,
    late_friday boolean NOT NULL,
    PRIMARY KEY (platform, account_id, item_id)
);
CREATE INDEX sla_posts_published ON sla_posts (published_at);

CREATE TABLE sla_metric_snapshots (
    event_id text PRIMARY KEY,
    platform text NOT NULL,
    account_id text NOT NULL,
    taken_at timestamptz NOT NULL,
    period text NOT NULL,
    reach bigint,
    impressions bigint,
    interactions bigint,
    followers bigint
);
CREATE INDEX sla_metric_snapshots_account ON sla_metric_snapshots (platform, account_id, taken_at);
