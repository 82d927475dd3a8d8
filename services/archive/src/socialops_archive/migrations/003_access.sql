-- Who read, searched or exported what, and when. Append-only like the archive itself.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    principal    text NOT NULL,          -- token name (never the token itself)
    role         text NOT NULL,
    action       text NOT NULL,          -- 'search', 'read', 'export', 'audit', ...
    target       text,
    query        jsonb NOT NULL DEFAULT '{}'::jsonb,
    status       integer NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change();
