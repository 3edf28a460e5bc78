-- Teardown at the end of an event: a sequenced, resumable pipeline. One row per event
-- that began tearing down; one row per step that ran. A step's row is written when it
-- is done (or stopped short, with the reason), so running teardown again after a crash
-- continues at the first step without a `done` row.
CREATE TABLE teardown (
    event_id    TEXT    PRIMARY KEY,
    started_ms  INTEGER NOT NULL,
    -- Who started it, in words: "operator (app)", "manifest end time", "runbook end-of-day".
    started_by  TEXT    NOT NULL,
    -- The folder the operator chose for what could not be sent upstream, and the report.
    export_dir  TEXT,
    finished_ms INTEGER
) STRICT;

CREATE TABLE teardown_steps (
    event_id TEXT    NOT NULL,
    step     TEXT    NOT NULL,
    state    TEXT    NOT NULL CHECK (state IN ('done', 'blocked', 'failed')),
    -- What the step did or why it stopped, in words.
    detail   TEXT    NOT NULL,
    at_ms    INTEGER NOT NULL,
    PRIMARY KEY (event_id, step)
) STRICT;

-- An order written to an export file (with its contact details) when it could not be
-- synced. Teardown wipes personal data only when every order is synced or exported.
ALTER TABLE orders ADD COLUMN exported_ms INTEGER;
