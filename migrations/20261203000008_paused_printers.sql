-- Printers a person paused from the Printers screen (changing a roll, clearing a jam):
-- their jobs wait, nothing is sent to them, and no other printer hands its jobs to them,
-- until someone resumes them. Kept across a restart.
CREATE TABLE paused_printers (
    name      TEXT    PRIMARY KEY,
    paused_ms INTEGER NOT NULL,
    paused_by TEXT
) STRICT;
