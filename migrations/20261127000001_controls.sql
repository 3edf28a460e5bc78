-- The controls' state that must outlive a restart: the degrade level and whether the
-- media forwarding is paused. A booth degraded for a reason stays degraded after a
-- crash until someone (or a runbook) says otherwise.
CREATE TABLE control_state (
    name   TEXT    PRIMARY KEY,
    value  TEXT    NOT NULL,
    at_ms  INTEGER NOT NULL,
    -- Who set it, in words: "operator (app)", "runbook rush-hour".
    set_by TEXT    NOT NULL
) STRICT;
