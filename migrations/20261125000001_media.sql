-- Media (see embedded-node/src/media/): upload tokens, tus uploads, transcode jobs and
-- what is waiting to be sent upstream. Times are Unix milliseconds.

-- Issued by the operator to a device; only the SHA-256 of the secret is kept.
CREATE TABLE upload_tokens (
    id          TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL UNIQUE,
    label       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    -- Bytes this token may upload in all, and how many uploads.
    max_bytes   INTEGER NOT NULL,
    max_uploads INTEGER NOT NULL,
    revoked_at  INTEGER
);

-- One tus upload. `received` is only ever advanced after the bytes are on disk
-- (fsync), so the offset a client is told is always data the node has.
CREATE TABLE uploads (
    id          TEXT PRIMARY KEY,
    token_id    TEXT NOT NULL,
    length      INTEGER NOT NULL,
    received    INTEGER NOT NULL DEFAULT 0,
    -- The Upload-Metadata header as sent (base64 values), returned on HEAD.
    metadata    TEXT NOT NULL DEFAULT '',
    filename    TEXT,
    filetype    TEXT,
    state       TEXT NOT NULL CHECK (state IN ('receiving', 'done', 'expired', 'deleted')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    finished_at INTEGER
);
CREATE INDEX uploads_by_state ON uploads (state, expires_at);
CREATE INDEX uploads_by_token ON uploads (token_id);

-- One transcode: an upload through a preset (optionally trimmed).
CREATE TABLE transcodes (
    id          TEXT PRIMARY KEY,
    upload_id   TEXT NOT NULL,
    preset      TEXT NOT NULL,
    -- The preset actually run (the degraded one while the booth was degraded).
    ran_preset  TEXT,
    start_ms    INTEGER,
    end_ms      INTEGER,
    essential   INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled', 'timed_out', 'stopped')),
    reason      TEXT,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    -- Media transcoded and wall time taken, both metered.
    media_ms    INTEGER NOT NULL DEFAULT 0,
    wall_ms     INTEGER NOT NULL DEFAULT 0,
    output      TEXT,
    output_bytes INTEGER,
    -- The ffmpeg arguments, so an operator can run the same command by hand.
    command     TEXT
);
CREATE INDEX transcodes_by_state ON transcodes (state, created_at);

-- Finished uploads and clips waiting for the upstream, resumable like orders.
CREATE TABLE media_forwards (
    kind        TEXT NOT NULL CHECK (kind IN ('upload', 'clip')),
    source_id   TEXT NOT NULL,
    path        TEXT NOT NULL,
    length      INTEGER NOT NULL,
    metadata    TEXT NOT NULL,
    -- The upstream's tus URL once created; `sent` is what it confirmed.
    remote_url  TEXT,
    sent        INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'quarantined')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER,
    PRIMARY KEY (kind, source_id)
);
CREATE INDEX media_forwards_due ON media_forwards (state, next_attempt_at);
