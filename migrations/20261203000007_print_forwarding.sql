-- Printing at a paired booth. A booth whose printer cannot print may hand a job to a
-- printer of a paired booth (its `fallback = "printer@booth"`): the job there is
-- `forwarded`, and `forwarded_to` / `remote_job` say where and which job it became,
-- until that booth says it printed. The booth that prints keeps the ticket as it was
-- drawn by the booth that sold (`ticket`, JSON) and who asked (`from_booth`), since
-- the order is not in its own database.
-- SQLite cannot change a CHECK constraint in place: the table is made again.
CREATE TABLE print_jobs_new (
    job_id          TEXT    PRIMARY KEY,
    order_id        TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('ticket', 'receipt', 'label')),
    copy            INTEGER NOT NULL DEFAULT 0 CHECK (copy >= 0),
    reprint_of      TEXT,
    printer         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'sent', 'confirmed', 'held', 'attention', 'forwarded')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    printer_job     INTEGER,
    asked_by        TEXT,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    done_ms         INTEGER,
    forwarded_to    TEXT,
    remote_job      TEXT,
    ticket          TEXT,
    from_booth      TEXT,
    UNIQUE (order_id, kind, copy)
) STRICT;
INSERT INTO print_jobs_new (job_id, order_id, kind, copy, reprint_of, printer, state, attempts,
    next_attempt_ms, last_error, printer_job, asked_by, created_ms, updated_ms, done_ms)
SELECT job_id, order_id, kind, copy, reprint_of, printer, state, attempts,
    next_attempt_ms, last_error, printer_job, asked_by, created_ms, updated_ms, done_ms
FROM print_jobs;
DROP TABLE print_jobs;
ALTER TABLE print_jobs_new RENAME TO print_jobs;
CREATE INDEX print_jobs_waiting ON print_jobs (printer, next_attempt_ms, created_ms) WHERE state = 'queued';
CREATE INDEX print_jobs_by_order ON print_jobs (order_id);
CREATE INDEX print_jobs_forwarded ON print_jobs (printer) WHERE state = 'forwarded';
