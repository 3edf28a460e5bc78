-- The audit log: every control action, who took it, from what, to what, why and how it
-- ended. Append-only: the triggers refuse any change or removal.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms   INTEGER NOT NULL,
    -- Who: `operator` (the operator token) today; runbooks later.
    actor   TEXT    NOT NULL,
    -- From what: `app` (the desktop window), `dashboard` (a browser), `api` (anything else).
    client  TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    before  TEXT,
    after   TEXT,
    -- `manual`, or the runbook that acted.
    why     TEXT    NOT NULL,
    -- `ok`, or the refusal in words.
    result  TEXT    NOT NULL
) STRICT;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
