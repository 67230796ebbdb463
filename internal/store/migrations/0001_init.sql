-- Accounts, as SES has them: one per (account id); Sesame serves one region.
CREATE TABLE accounts (
    id                 TEXT PRIMARY KEY,
    sandbox            INTEGER NOT NULL,
    max_24h            INTEGER NOT NULL,
    max_rate           REAL    NOT NULL,
    sending_enabled    INTEGER NOT NULL DEFAULT 1,
    suppressed_reasons TEXT    NOT NULL DEFAULT 'BOUNCE,COMPLAINT',
    details            TEXT    NOT NULL DEFAULT '',  -- JSON of the production-access request
    review_status      TEXT    NOT NULL DEFAULT '',
    review_case_id     TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL
);

CREATE TABLE access_keys (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    secret     TEXT NOT NULL,
    user_name  TEXT NOT NULL DEFAULT '',
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

-- One identity is one row, whichever API (v1 or v2) made it.
CREATE TABLE identities (
    account_id          TEXT NOT NULL REFERENCES accounts(id),
    name                TEXT NOT NULL,            -- lower-cased address or domain
    kind                TEXT NOT NULL,            -- EMAIL_ADDRESS | DOMAIN
    status              TEXT NOT NULL,            -- PENDING | SUCCESS | FAILED | TEMPORARY_FAILURE | NOT_STARTED
    created_at          INTEGER NOT NULL,
    pending_since       INTEGER NOT NULL DEFAULT 0,
    txt_token           TEXT NOT NULL DEFAULT '', -- legacy _amazonses TXT token
    txt_ok              INTEGER NOT NULL DEFAULT 0,
    email_token         TEXT NOT NULL DEFAULT '', -- secret in the verification link
    email_sent_at       INTEGER NOT NULL DEFAULT 0,
    email_template      TEXT NOT NULL DEFAULT '', -- custom verification template used
    dkim_origin         TEXT NOT NULL DEFAULT '', -- AWS_SES | EXTERNAL | '' (no DKIM)
    dkim_status         TEXT NOT NULL DEFAULT 'NOT_STARTED',
    dkim_enabled        INTEGER NOT NULL DEFAULT 1,
    dkim_tokens         TEXT NOT NULL DEFAULT '', -- space-separated Easy DKIM tokens
    dkim_selector       TEXT NOT NULL DEFAULT '', -- BYODKIM selector
    dkim_private_key    BLOB,                     -- BYODKIM key (PKCS#8 DER)
    dkim_key_length     TEXT NOT NULL DEFAULT '',
    dkim_next_length    TEXT NOT NULL DEFAULT '',
    dkim_keygen_at      INTEGER NOT NULL DEFAULT 0,
    mail_from_domain    TEXT NOT NULL DEFAULT '',
    mail_from_status    TEXT NOT NULL DEFAULT '',
    mail_from_behavior  TEXT NOT NULL DEFAULT 'USE_DEFAULT_VALUE',
    feedback_forwarding INTEGER NOT NULL DEFAULT 1,
    config_set          TEXT NOT NULL DEFAULT '',
    next_check_at       INTEGER NOT NULL DEFAULT 0,
    last_checked_at     INTEGER NOT NULL DEFAULT 0,
    last_success_at     INTEGER NOT NULL DEFAULT 0,
    error_type          TEXT NOT NULL DEFAULT '',
    error_detail        TEXT NOT NULL DEFAULT '',
    tags                TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (account_id, name)
);
CREATE INDEX identities_check ON identities(next_check_at) WHERE next_check_at > 0;

-- Easy DKIM keys: one key pair per token, served as <token>.<dkim zone> TXT.
CREATE TABLE dkim_keys (
    token         TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL,
    identity      TEXT NOT NULL,
    private_key   BLOB NOT NULL,  -- PKCS#8 DER
    public_record TEXT NOT NULL,  -- v=DKIM1; k=rsa; p=…
    created_at    INTEGER NOT NULL
);
CREATE INDEX dkim_keys_identity ON dkim_keys(account_id, identity);

CREATE TABLE custom_verification_templates (
    account_id   TEXT NOT NULL,
    name         TEXT NOT NULL,
    from_address TEXT NOT NULL,
    subject      TEXT NOT NULL,
    content      TEXT NOT NULL,
    success_url  TEXT NOT NULL,
    failure_url  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
);

-- Accepted messages: the body lives here, out of the hot deliveries table.
CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    operation     TEXT NOT NULL,
    source        TEXT NOT NULL,             -- the Source / envelope sender as given
    identity      TEXT NOT NULL DEFAULT '',  -- identity whose DKIM and MAIL FROM apply
    config_set    TEXT NOT NULL DEFAULT '',
    tags          TEXT NOT NULL DEFAULT '',  -- JSON
    headers       TEXT NOT NULL DEFAULT '',  -- JSON: original headers, for events
    data          BLOB NOT NULL,
    dkim          BLOB,                      -- DKIM-Signature header lines, made once
    system        INTEGER NOT NULL DEFAULT 0 -- Sesame's own mail (verification)
);

-- One row per envelope recipient: the queue.
CREATE TABLE deliveries (
    message_id  TEXT NOT NULL REFERENCES messages(id),
    rcpt        TEXT NOT NULL,
    state       TEXT NOT NULL,               -- queued | delivered | bounced | captured
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,            -- due time for queued rows
    lease_until INTEGER NOT NULL DEFAULT 0,
    last_code   INTEGER NOT NULL DEFAULT 0,
    last_status TEXT NOT NULL DEFAULT '',    -- enhanced status code
    last_text   TEXT NOT NULL DEFAULT '',
    remote_mta  TEXT NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (message_id, rcpt)
);
CREATE INDEX deliveries_due ON deliveries(next_at) WHERE state = 'queued';

-- Message timeline, in SES's event shapes; written with the state change.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    type       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    payload    TEXT NOT NULL
);
CREATE INDEX events_message ON events(message_id);

-- Recipients accepted per account per minute: the sliding 24-hour quota.
CREATE TABLE send_counts (
    account_id TEXT NOT NULL,
    minute     INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (account_id, minute)
);
