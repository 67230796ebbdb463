-- Configuration sets (SES-BEHAVIOR §9): one row per (account, name), whichever
-- API (v1 or v2) made it. Options are stored in v2's spelling.
CREATE TABLE config_sets (
    account_id          TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    sending_enabled     INTEGER NOT NULL DEFAULT 1,
    reputation_metrics  INTEGER NOT NULL DEFAULT 0,
    last_fresh_start    INTEGER NOT NULL DEFAULT 0,
    tls_policy          TEXT    NOT NULL DEFAULT 'OPTIONAL', -- REQUIRE | OPTIONAL
    sending_pool        TEXT    NOT NULL DEFAULT '',
    max_delivery_secs   INTEGER NOT NULL DEFAULT 0,          -- 0: Sesame's retry window
    tracking            INTEGER NOT NULL DEFAULT 0,          -- tracking options exist
    tracking_domain     TEXT    NOT NULL DEFAULT '',
    https_policy        TEXT    NOT NULL DEFAULT '',
    suppression         INTEGER NOT NULL DEFAULT 0,          -- the set overrides the account's reasons
    suppressed_reasons  TEXT    NOT NULL DEFAULT '',         -- comma-separated: BOUNCE,COMPLAINT
    validation_enabled  TEXT    NOT NULL DEFAULT '',         -- '' (none) | ENABLED | DISABLED
    validation_verdict  TEXT    NOT NULL DEFAULT '',         -- MEDIUM | HIGH | MANAGED
    vdm_engagement      TEXT    NOT NULL DEFAULT '',         -- '' | ENABLED | DISABLED
    vdm_shared_delivery TEXT    NOT NULL DEFAULT '',         -- '' | ENABLED | DISABLED
    archive_arn         TEXT    NOT NULL DEFAULT '',
    tags                TEXT    NOT NULL DEFAULT '',         -- JSON [{"Key":…,"Value":…}]
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;

-- Event destinations of a configuration set; exactly one destination each.
CREATE TABLE config_set_destinations (
    account_id  TEXT    NOT NULL,
    config_set  TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    enabled     INTEGER NOT NULL,
    event_types TEXT    NOT NULL,             -- comma-separated, v2 names: SEND,BOUNCE,…
    kind        TEXT    NOT NULL,             -- SNS | CLOUD_WATCH | KINESIS_FIREHOSE | EVENT_BRIDGE | PINPOINT
    target_arn  TEXT    NOT NULL DEFAULT '',  -- topic, delivery stream, event bus or application ARN
    role_arn    TEXT    NOT NULL DEFAULT '',  -- the Firehose IAM role
    dimensions  TEXT    NOT NULL DEFAULT '',  -- JSON CloudWatch dimension configurations
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, config_set, name),
    FOREIGN KEY (account_id, config_set) REFERENCES config_sets(account_id, name) ON DELETE CASCADE
) WITHOUT ROWID;
