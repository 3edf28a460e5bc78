-- Time the booth can trust (see core/src/timekeeping.rs).

-- The last trusted time, saved every few seconds, and how far the laptop's clock was
-- from it (wall − trusted): a restart never starts earlier than the last run, and a
-- laptop clock the booth knew to be off is assumed off until a second source says not.
CREATE TABLE clock_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    trusted_ms INTEGER NOT NULL,
    gap_ms     INTEGER NOT NULL
) STRICT;

-- Every step of the laptop's wall clock the booth saw, for the dashboard, the audit
-- log and the post-event report.
CREATE TABLE clock_steps (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT    NOT NULL,
    -- Trusted time when the step was seen, and the wall clock's reading after it.
    at_ms    INTEGER NOT NULL,
    wall_ms  INTEGER NOT NULL,
    -- How far the wall clock jumped (negative: back).
    by_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX clock_steps_event ON clock_steps (event_id, at_ms);

-- A teardown the manifest's end time started (after its countdown) may be reopened by
-- the lead until the wipe has run; one the lead started stays closed.
ALTER TABLE teardown ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0 CHECK (automatic IN (0, 1));

-- The automatic teardown of an event, stood down: its countdown cancelled, or the
-- booth reopened. It does not start by itself again for that event.
CREATE TABLE teardown_stood_down (
    event_id TEXT    PRIMARY KEY,
    at_ms    INTEGER NOT NULL,
    by       TEXT    NOT NULL,
    why      TEXT    NOT NULL
) STRICT;
