-- The print queue: every ticket, receipt and label the booth means to print, with an
-- identity (order, kind, copy) and a state. A job whose bytes may have reached a
-- printer is never sent again without a person asking: a reprint is a new job (the
-- next copy), linked to the one it repeats.
CREATE TABLE print_jobs (
    job_id          TEXT    PRIMARY KEY,
    order_id        TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('ticket', 'receipt', 'label')),
    -- 0 for the original, n for the nth reprint.
    copy            INTEGER NOT NULL DEFAULT 0 CHECK (copy >= 0),
    reprint_of      TEXT,
    printer         TEXT    NOT NULL,
    -- queued → sending → sent (ESC/POS: the bytes were written) or confirmed (IPP: the
    -- printer said completed); held: waited past [printing] backlog_after, staff decide;
    -- attention: a person must look (it may have printed, or it failed too often).
    state           TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'sent', 'confirmed', 'held', 'attention')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    -- The IPP job-id, once the printer gave one.
    printer_job     INTEGER,
    asked_by        TEXT,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    done_ms         INTEGER,
    UNIQUE (order_id, kind, copy)
) STRICT;
CREATE INDEX print_jobs_waiting ON print_jobs (printer, next_attempt_ms, created_ms) WHERE state = 'queued';
CREATE INDEX print_jobs_by_order ON print_jobs (order_id);
