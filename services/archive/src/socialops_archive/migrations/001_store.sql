-- The archive of public records ("allmänna handlingar"): append-only, tamper-evident.
-- Every row of the archived tables is written once; triggers refuse UPDATE and DELETE, so neither
-- the application nor anyone with its credentials can rewrite history (retention disposal, when
-- it comes, will go through its own logged path).

CREATE OR REPLACE FUNCTION archive_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'archive table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- One row per archived item (post, comment, reply, mention, DM): its identity, never changed.
CREATE TABLE item (
    id           bigserial PRIMARY KEY,
    -- "platform:account:item": one selective key the writer looks items up by, whatever the
    -- planner's statistics say about the (platform, account) prefixes shared by other indexes.
    item_key     text NOT NULL UNIQUE,
    platform     text NOT NULL,
    account_id   text NOT NULL,
    platform_item_id text NOT NULL,
    item_type    text NOT NULL CHECK (item_type IN ('post', 'comment', 'reply', 'mention', 'dm')),
    thread_id    text NOT NULL,
    parent_id    text,
    author_id    text,
    author_name  text,
    author_is_account boolean NOT NULL DEFAULT false,
    first_occurred_at timestamptz NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, account_id, platform_item_id)
);
CREATE INDEX item_thread ON item (platform, account_id, thread_id);
CREATE INDEX item_account_time ON item (account_id, first_occurred_at);
CREATE INDEX item_time ON item (first_occurred_at DESC);
CREATE INDEX item_author ON item (author_id);

-- Every event on an item, in arrival order, with its canonical record, SHA-256 and hash chain.
-- Content events (created, edited, published, DM) carry a version number: edits never overwrite.
CREATE TABLE item_event (
    id           bigserial PRIMARY KEY,
    item_ref     bigint NOT NULL REFERENCES item (id),
    seq          integer NOT NULL,
    version_no   integer,
    event_id     text NOT NULL UNIQUE,
    kind         text NOT NULL,
    text         text,
    occurred_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT now(),
    record       text NOT NULL,          -- the canonical JSON of the event, byte for byte as hashed
    raw          jsonb NOT NULL,         -- the platform payload as received (also inside record)
    sha256       text NOT NULL,          -- sha256(record)
    prev_hash    text NOT NULL,          -- chain_hash of the item's previous event (zeros first)
    chain_hash   text NOT NULL,          -- sha256(prev_hash || sha256)
    UNIQUE (item_ref, seq),
    UNIQUE (item_ref, version_no)
);

-- Moderation decisions, SLA state changes, platform action commands/outcomes: one row each.
CREATE TABLE moderation_decision (
    id           bigserial PRIMARY KEY,
    decision_id  text NOT NULL UNIQUE,
    event_id     text NOT NULL,
    platform     text NOT NULL,
    account_id   text NOT NULL,
    platform_item_id text NOT NULL,
    action       text NOT NULL,
    rules        text[] NOT NULL,
    masked_text  text,
    decided_at   timestamptz NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT now(),
    record       text NOT NULL,
    sha256       text NOT NULL
);
CREATE INDEX moderation_decision_item ON moderation_decision (platform, account_id, platform_item_id);
CREATE INDEX moderation_decision_event ON moderation_decision (event_id);
CREATE INDEX moderation_decision_rules ON moderation_decision USING gin (rules);

CREATE TABLE sla_change (
    id           bigserial PRIMARY KEY,
    change_id    text NOT NULL UNIQUE,
    event_id     text NOT NULL,
    platform     text NOT NULL,
    account_id   text NOT NULL,
    platform_item_id text NOT NULL,
    state        text NOT NULL,
    changed_at   timestamptz NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT now(),
    record       text NOT NULL,
    sha256       text NOT NULL
);
CREATE INDEX sla_change_item ON sla_change (platform, account_id, platform_item_id);

CREATE TABLE platform_action (
    id           bigserial PRIMARY KEY,
    message_key  text NOT NULL UNIQUE,   -- command:<action_id> or outcome:<action_id>:<status>:<attempts>
    action_id    text NOT NULL,
    message_type text NOT NULL,
    platform     text NOT NULL,
    account_id   text NOT NULL,
    platform_item_id text NOT NULL,
    operation    text NOT NULL,
    status       text,
    at           timestamptz NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT now(),
    record       text NOT NULL,
    sha256       text NOT NULL
);
CREATE INDEX platform_action_item ON platform_action (platform, account_id, platform_item_id);

-- Metric snapshots are kept as received (they are records of the account's reach, not items).
CREATE TABLE metric_snapshot (
    id           bigserial PRIMARY KEY,
    event_id     text NOT NULL UNIQUE,
    platform     text NOT NULL,
    account_id   text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT now(),
    record       text NOT NULL,
    sha256       text NOT NULL
);

CREATE TRIGGER item_append_only BEFORE UPDATE OR DELETE ON item
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER item_event_append_only BEFORE UPDATE OR DELETE ON item_event
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER moderation_decision_append_only BEFORE UPDATE OR DELETE ON moderation_decision
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER sla_change_append_only BEFORE UPDATE OR DELETE ON sla_change
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER platform_action_append_only BEFORE UPDATE OR DELETE ON platform_action
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER metric_snapshot_append_only BEFORE UPDATE OR DELETE ON metric_snapshot
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
-- TRUNCATE bypasses row triggers: refuse it per statement too.
CREATE TRIGGER item_event_no_truncate BEFORE TRUNCATE ON item_event
    FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER item_no_truncate BEFORE TRUNCATE ON item
    FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change();

-- The current state of each item, derived from its events (a projection: rebuilt from item_event
-- if ever needed, so it may be updated). It carries what search filters on.
CREATE TABLE item_state (
    item_ref     bigint PRIMARY KEY REFERENCES item (id),
    latest_text  text,
    version_count integer NOT NULL DEFAULT 0,
    hidden       boolean NOT NULL DEFAULT false,
    deleted_by_city boolean NOT NULL DEFAULT false,
    deleted_by_author boolean NOT NULL DEFAULT false,
    removed_at   timestamptz,
    search       tsvector NOT NULL DEFAULT ''::tsvector
);
CREATE INDEX item_state_search ON item_state USING gin (search);

-- The account inventory as last received (social.accounts.v1 is compacted: latest wins).
CREATE TABLE account (
    platform     text NOT NULL,
    external_id  text NOT NULL,
    name         text NOT NULL,
    department   text NOT NULL,
    status       text NOT NULL,
    archive_level text NOT NULL,
    closed_date  date,
    record       text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, external_id)
);
CREATE INDEX account_department ON account (department);
