-- The order queue: every order the booth accepted, and where it is on its way upstream.
-- An order row is written (and the transaction committed) before the kiosk hears 201.
CREATE TABLE orders (
    order_id        TEXT    PRIMARY KEY,
    -- The kiosk's Idempotency-Key: a retry with the same key gets the first answer.
    idempotency_key TEXT    NOT NULL UNIQUE,
    -- SHA-256 of the canonical request; the same key with another body is refused.
    request_hash    BLOB    NOT NULL,
    -- A quote token buys exactly one order.
    quote_id        TEXT    NOT NULL UNIQUE,
    event_id        TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    subtotal        INTEGER NOT NULL CHECK (subtotal >= 0),
    discount        INTEGER NOT NULL CHECK (discount >= 0),
    total           INTEGER NOT NULL CHECK (total >= 0),
    -- JSON array of {sku, qty, unit_price, total} as quoted.
    lines           TEXT    NOT NULL,
    payment_method  TEXT    NOT NULL,
    -- Personal data: shown to staff, wiped at teardown, never sent to telemetry.
    customer_email  TEXT,
    customer_phone  TEXT,
    status          TEXT    NOT NULL DEFAULT 'captured'
                    CHECK (status IN ('captured', 'syncing', 'synced', 'quarantined')),
    status_reason   TEXT,
    sync_attempts   INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    synced_ms       INTEGER,
    -- The 201 body, replayed verbatim to a retry.
    response        TEXT    NOT NULL
) STRICT;

-- The sync worker takes the oldest orders that are due; quarantined ones are not in
-- this index, so one poisonous order never blocks the rest.
CREATE INDEX orders_due ON orders (next_attempt_ms, created_ms) WHERE status = 'captured';
CREATE INDEX orders_by_time ON orders (created_ms);

-- Units sold per tracked SKU, updated in the same transaction as the order.
CREATE TABLE stock_sold (
    sku  TEXT    PRIMARY KEY,
    sold INTEGER NOT NULL CHECK (sold >= 0)
) STRICT;
