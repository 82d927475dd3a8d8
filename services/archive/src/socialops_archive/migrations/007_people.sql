-- The audit log names the person (issue 12): the identity provider's subject and the e-mail beside
-- the display name ("Louise Lind <louise.lind@stad.se>"), or "client:<name>" for a machine client.
ALTER TABLE audit_log ADD COLUMN subject text;
ALTER TABLE audit_log ADD COLUMN email text;
COMMENT ON COLUMN audit_log.principal IS 'the person''s name and e-mail, or the machine client''s name (never a token)';
COMMENT ON COLUMN audit_log.role IS 'the roles the token gave, comma-separated';
CREATE INDEX audit_log_subject ON audit_log (subject, at DESC);
