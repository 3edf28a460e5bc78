-- Staff: people the booth lead lets sell at the counter, each with a name and a PIN
-- (argon2id; the PIN itself is never stored). Wrong PINs count; enough of them lock the
-- person out for a while. Removed staff are kept for the audit log's sake.
CREATE TABLE staff (
    id              TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    pin_hash        TEXT    NOT NULL,
    created_ms      INTEGER NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    locked_until_ms INTEGER,
    removed_ms      INTEGER
) STRICT;

-- One person of a name at a time (a removed one's name may be given again).
CREATE UNIQUE INDEX staff_name ON staff (name COLLATE NOCASE) WHERE removed_ms IS NULL;
