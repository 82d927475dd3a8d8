-- Removed comments: snapshot, registration (diarium entry) and the e-mail to the registrar.

-- One city removal of one item (hide or delete), however many messages told us about it.
CREATE TABLE removal (
    id           bigserial PRIMARY KEY,
    platform     text NOT NULL,
    account_id   text NOT NULL,
    platform_item_id text NOT NULL,
    operation    text NOT NULL CHECK (operation IN ('hide', 'delete')),
    source       text NOT NULL,          -- 'platform' (webhook) or 'executor' (moderation action)
    source_id    text NOT NULL,          -- event_id or action_id that told us first
    removed_by   text,
    reason       text,
    removed_at   timestamptz NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, account_id, platform_item_id, operation)
);
CREATE TRIGGER removal_append_only BEFORE UPDATE OR DELETE ON removal
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();

-- Gap-free number series: the counter row is locked and incremented in the same transaction that
-- inserts the registration, so a rolled-back registration also rolls back its number.
CREATE TABLE registration_counter (
    series       text NOT NULL,
    year         integer NOT NULL,
    last_number  integer NOT NULL,
    PRIMARY KEY (series, year)
);

CREATE TABLE registration (
    id           bigserial PRIMARY KEY,
    removal_ref  bigint NOT NULL UNIQUE REFERENCES removal (id),
    number       text NOT NULL UNIQUE,   -- e.g. "KS 2026/000123"
    series       text NOT NULL,
    year         integer NOT NULL,
    sequence     integer NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (series, year, sequence)
);
CREATE TRIGGER registration_append_only BEFORE UPDATE OR DELETE ON registration
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();

-- The rendered snapshot ("skärmdump") of the comment in its thread, PDF and PNG.
CREATE TABLE snapshot (
    id           bigserial PRIMARY KEY,
    registration_ref bigint NOT NULL UNIQUE REFERENCES registration (id),
    pdf          bytea NOT NULL,
    png          bytea NOT NULL,
    pdf_sha256   text NOT NULL,
    png_sha256   text NOT NULL,
    rendered_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER snapshot_append_only BEFORE UPDATE OR DELETE ON snapshot
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();

-- The outbox: one e-mail per registration, retried with backoff until sent; never dropped.
CREATE TABLE mail_outbox (
    registration_ref bigint PRIMARY KEY REFERENCES registration (id),
    recipient    text NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent')),
    attempts     integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error   text,
    message_id   text NOT NULL,
    sent_at      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status <> 'sent';
