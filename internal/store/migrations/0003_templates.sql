-- Email templates (SES-BEHAVIOR §12): one row per template, whichever API
-- (v1 CreateTemplate or v2 CreateEmailTemplate) made it.
CREATE TABLE email_templates (
    account_id TEXT NOT NULL,
    name       TEXT NOT NULL,  -- case-sensitive, [A-Za-z0-9_-]{1,64}
    subject    TEXT NOT NULL,
    text       TEXT NOT NULL DEFAULT '',
    html       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
);
