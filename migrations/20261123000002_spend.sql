-- The spend ledger (see spend/mod.rs): per event and component, the metered usage and
-- the money it cost, so a restart does not reset the money.
CREATE TABLE spend_accounts (
    event_id        TEXT NOT NULL,
    component       TEXT NOT NULL,
    -- Usage in the component's unit (executions, bytes, milliseconds, calls).
    usage           INTEGER NOT NULL,
    -- Micro-minor units spent before the rate in force now took effect.
    settled_micro   INTEGER NOT NULL,
    -- Usage when that happened; usage since then costs `rate`.
    usage_at_settle INTEGER NOT NULL,
    rate            INTEGER,
    PRIMARY KEY (event_id, component)
);

-- One row a minute while the node runs: micro-minor units spent so far, per component.
CREATE TABLE spend_samples (
    event_id  TEXT NOT NULL,
    at        INTEGER NOT NULL, -- Unix seconds
    edge      INTEGER NOT NULL,
    egress    INTEGER NOT NULL,
    transcode INTEGER NOT NULL,
    upstream  INTEGER NOT NULL,
    PRIMARY KEY (event_id, at)
);
