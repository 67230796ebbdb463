-- Sesame's SNS-compatible topics (DESIGN.md §6, SES-BEHAVIOR §8.4): topics,
-- HTTP(S) subscriptions with confirmation, and the durable outbox of signed
-- notifications with every delivery attempt recorded.

-- One row per topic; the ARN is arn:aws:sns:<region>:<account_id>:<name>.
CREATE TABLE sns_topics (
    account_id TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    attributes TEXT    NOT NULL DEFAULT '{}',  -- JSON: the settable attributes as set
    tags       TEXT    NOT NULL DEFAULT '{}',  -- JSON object
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;

-- Subscriptions; a deleted one is kept until its token expires, so the
-- SubscribeURL of its UnsubscribeConfirmation can restore it.
CREATE TABLE sns_subscriptions (
    arn              TEXT    PRIMARY KEY,          -- <topic arn>:<uuid>
    account_id       TEXT    NOT NULL,             -- the topic's owner
    topic            TEXT    NOT NULL,             -- topic name
    protocol         TEXT    NOT NULL,             -- http | https
    endpoint         TEXT    NOT NULL,
    status           TEXT    NOT NULL,             -- pending | confirmed | deleted
    token            TEXT    NOT NULL DEFAULT '',  -- confirmation token
    token_expires    INTEGER NOT NULL DEFAULT 0,
    authenticated    INTEGER NOT NULL DEFAULT 0,   -- ConfirmationWasAuthenticated
    auth_unsubscribe INTEGER NOT NULL DEFAULT 0,   -- AuthenticateOnUnsubscribe
    raw              INTEGER NOT NULL DEFAULT 0,   -- RawMessageDelivery
    delivery_policy  TEXT    NOT NULL DEFAULT '',  -- DeliveryPolicy JSON as set
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX sns_subscriptions_topic ON sns_subscriptions(account_id, topic, status);
CREATE INDEX sns_subscriptions_token ON sns_subscriptions(token) WHERE token <> '';

-- The outbox: what was published (or sent to confirm a subscription).
CREATE TABLE sns_messages (
    id          TEXT    PRIMARY KEY,           -- MessageId
    account_id  TEXT    NOT NULL,
    topic_arn   TEXT    NOT NULL,
    type        TEXT    NOT NULL,              -- Notification | SubscriptionConfirmation | UnsubscribeConfirmation
    subject     TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL,              -- Message (the JSON object for MessageStructure=json)
    structure   TEXT    NOT NULL DEFAULT '',   -- '' | json
    attributes  TEXT    NOT NULL DEFAULT '',   -- JSON MessageAttributes
    token       TEXT    NOT NULL DEFAULT '',   -- confirmations: the Token
    sig_version TEXT    NOT NULL DEFAULT '1',  -- the topic's SignatureVersion at publish
    created_at  INTEGER NOT NULL               -- Timestamp
);

-- One row per (message, subscription): the delivery queue.
CREATE TABLE sns_deliveries (
    message_id   TEXT    NOT NULL,
    subscription TEXT    NOT NULL,             -- subscription ARN
    state        TEXT    NOT NULL,             -- queued | delivered | failed | dropped
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,             -- due time while queued
    lease_until  INTEGER NOT NULL DEFAULT 0,   -- a dispatcher is attempting it
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (message_id, subscription)
) WITHOUT ROWID;
CREATE INDEX sns_deliveries_due ON sns_deliveries(next_at) WHERE state = 'queued';
CREATE INDEX sns_deliveries_subscription ON sns_deliveries(subscription, state);
CREATE INDEX sns_deliveries_done ON sns_deliveries(updated_at) WHERE state <> 'queued';

-- Every HTTP attempt, successful or not.
CREATE TABLE sns_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   TEXT    NOT NULL,
    subscription TEXT    NOT NULL,
    attempt      INTEGER NOT NULL,             -- 1 for the first
    at           INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL,
    status       INTEGER NOT NULL,             -- HTTP status; 0 when there was no response
    error        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sns_attempts_delivery ON sns_attempts(message_id, subscription);
