-- Retention ("gallring") per item class, legal hold, and disposal runs that say what went and why.

-- How long each class of item is kept. No row for a class = kept for ever (the default: nothing is
-- disposed until the city has decided a rule). 'removed_comment' = a comment the city removed.
CREATE TABLE retention_rule (
    item_class   text PRIMARY KEY CHECK (item_class IN ('post', 'comment', 'reply', 'mention', 'dm',
                                                        'removed_comment')),
    keep_days    integer NOT NULL CHECK (keep_days >= 1),
    decision     text NOT NULL,          -- the disposal decision it rests on (gallringsbeslut)
    set_by       text NOT NULL,
    set_at       timestamptz NOT NULL DEFAULT now()
);

-- A hold stops disposal of what it covers: an account, one item, a period, or a combination.
CREATE TABLE legal_hold (
    id           bigserial PRIMARY KEY,
    account_id   text,
    item_ref     bigint,                 -- no foreign key: a hold outlives nothing it covers
    period_from  timestamptz,
    period_to    timestamptz,
    reason       text NOT NULL,
    placed_by    text NOT NULL,
    placed_at    timestamptz NOT NULL DEFAULT now(),
    released_by  text,
    released_at  timestamptz
);

CREATE TABLE disposal_run (
    id           bigserial PRIMARY KEY,
    run_by       text NOT NULL,
    dry_run      boolean NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    disposed     integer NOT NULL DEFAULT 0,
    held_back    integer NOT NULL DEFAULT 0
);

-- What was disposed, under which rule, with the last chain link it had (proof of what existed).
CREATE TABLE disposal_log (
    id           bigserial PRIMARY KEY,
    run_ref      bigint NOT NULL REFERENCES disposal_run (id),
    item_ref     bigint NOT NULL,
    platform     text NOT NULL,
    account_id   text NOT NULL,
    platform_item_id text NOT NULL,
    item_class   text NOT NULL,
    first_occurred_at timestamptz NOT NULL,
    rule_keep_days integer NOT NULL,
    rule_decision text NOT NULL,
    events       integer NOT NULL,
    last_chain_hash text,
    disposed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER disposal_log_append_only BEFORE UPDATE OR DELETE ON disposal_log
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();

-- Disposal is the one way rows leave the archive: only inside dispose_archived_item(), which sets
-- a transaction-local flag that the append-only trigger lets DELETE (never UPDATE) through.
CREATE OR REPLACE FUNCTION archive_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME <> 'disposal_log' AND TG_TABLE_NAME <> 'audit_log'
       AND current_setting('socialops.disposal_run', true) IS NOT NULL
       AND current_setting('socialops.disposal_run', true) <> '' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'archive table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE OR REPLACE FUNCTION dispose_archived_item(p_item bigint, p_run bigint, p_class text,
                                                 p_keep_days integer, p_decision text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    it item%ROWTYPE;
BEGIN
    SELECT * INTO it FROM item WHERE id = p_item;
    INSERT INTO disposal_log (run_ref, item_ref, platform, account_id, platform_item_id, item_class,
                              first_occurred_at, rule_keep_days, rule_decision, events, last_chain_hash)
    SELECT p_run, it.id, it.platform, it.account_id, it.platform_item_id, p_class, it.first_occurred_at,
           p_keep_days, p_decision, count(*),
           (SELECT chain_hash FROM item_event WHERE item_ref = it.id ORDER BY seq DESC LIMIT 1)
    FROM item_event WHERE item_ref = it.id;
    PERFORM set_config('socialops.disposal_run', p_run::text, true);
    DELETE FROM moderation_decision WHERE platform = it.platform AND account_id = it.account_id
        AND platform_item_id = it.platform_item_id;
    DELETE FROM sla_change WHERE platform = it.platform AND account_id = it.account_id
        AND platform_item_id = it.platform_item_id;
    DELETE FROM platform_action WHERE platform = it.platform AND account_id = it.account_id
        AND platform_item_id = it.platform_item_id;
    DELETE FROM item_state WHERE item_ref = it.id;
    DELETE FROM item_event WHERE item_ref = it.id;
    DELETE FROM item WHERE id = it.id;
    PERFORM set_config('socialops.disposal_run', '', true);
END;
$$;
