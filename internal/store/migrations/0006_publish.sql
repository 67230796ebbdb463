-- Publishing the message timeline (SES-BEHAVIOR §8, §9, §5.7): the
-- dispatcher's durable cursor over the events table, and identity
-- notification settings (v1 SetIdentityNotificationTopic,
-- SetIdentityHeadersInNotificationsEnabled).

-- One row per reader of the events table: the id of the last event handed
-- on. It advances in the same transaction as the publications it makes, so
-- each event reaches the SNS outbox exactly once. It starts at the events
-- already recorded: an upgrade does not replay history.
CREATE TABLE publish_cursor (
    name    TEXT    PRIMARY KEY,
    last_id INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO publish_cursor(name, last_id) SELECT 'events', COALESCE(MAX(id), 0) FROM events;

-- An identity's notification topics and header choices; no row means none
-- set (the defaults: no topics, no headers). Removed with the identity.
CREATE TABLE identity_notifications (
    account_id        TEXT    NOT NULL,
    identity          TEXT    NOT NULL,             -- identities.name
    bounce_topic      TEXT    NOT NULL DEFAULT '',  -- SNS topic ARN
    complaint_topic   TEXT    NOT NULL DEFAULT '',
    delivery_topic    TEXT    NOT NULL DEFAULT '',
    bounce_headers    INTEGER NOT NULL DEFAULT 0,   -- HeadersInBounceNotificationsEnabled
    complaint_headers INTEGER NOT NULL DEFAULT 0,
    delivery_headers  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, identity)
) WITHOUT ROWID;

-- GetSendStatistics counts Complaint and Reject events per account over two
-- weeks.
CREATE INDEX events_account_type ON events(account_id, type, at);
