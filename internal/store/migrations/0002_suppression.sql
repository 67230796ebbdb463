-- The account-level suppression list (SES-BEHAVIOR §11): one row per
-- (account, lower-cased address). Which reasons apply at send and on
-- feedback is accounts.suppressed_reasons.
CREATE TABLE suppressed_destinations (
    account_id  TEXT    NOT NULL,
    address     TEXT    NOT NULL,             -- lower case
    reason      TEXT    NOT NULL,             -- BOUNCE | COMPLAINT
    updated_at  INTEGER NOT NULL,             -- LastUpdateTime
    message_id  TEXT    NOT NULL DEFAULT '',  -- Attributes.MessageId (auto-added)
    feedback_id TEXT    NOT NULL DEFAULT '',  -- Attributes.FeedbackId (auto-added)
    PRIMARY KEY (account_id, address)
) WITHOUT ROWID;
