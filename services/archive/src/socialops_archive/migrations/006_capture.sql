-- Account captures per the Stockholm city archive's guidance (seed 000): every account archived at
-- least once a year and always when it is closed, at the account's level, registered in that
-- year's collection case ("samlingsärende").

CREATE TABLE collection_case (
    year         integer PRIMARY KEY,
    number       text NOT NULL UNIQUE,   -- a number from the registration series, e.g. KS 2026/000007
    opened_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER collection_case_append_only BEFORE UPDATE OR DELETE ON collection_case
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();

CREATE TABLE account_capture (
    id           bigserial PRIMARY KEY,
    platform     text NOT NULL,
    account_id   text NOT NULL,
    reason       text NOT NULL CHECK (reason IN ('yearly', 'closure')),
    year         integer NOT NULL,
    level        text NOT NULL CHECK (level IN ('overview', 'unique', 'full')),
    period_from  timestamptz NOT NULL,
    period_to    timestamptz NOT NULL,
    collection_case text NOT NULL REFERENCES collection_case (number),
    overview_pdf bytea NOT NULL,
    overview_sha256 text NOT NULL,
    export_ref   uuid REFERENCES export_package (id),
    captured_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, account_id, reason, year)
);
CREATE TRIGGER account_capture_append_only BEFORE UPDATE OR DELETE ON account_capture
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();

-- Scheduled captures of the DMs too only at the 'full' level.
ALTER TABLE export_package ADD COLUMN include_direct_messages boolean NOT NULL DEFAULT true;
