-- Selling: an order gains what the people at the booth see of it — its pickup number,
-- its public receipt, where it is at the counter (new → preparing → ready → collected,
-- or voided before it was synced), how it was paid — and refunds are records of their
-- own, synced upstream like orders.
--
-- `status` gains 'voided' (a void takes an order out of the sync queue for good), which
-- SQLite can only add to a CHECK by building the table again.
CREATE TABLE orders_selling (
    order_id        TEXT    PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE,
    request_hash    BLOB    NOT NULL,
    quote_id        TEXT    NOT NULL UNIQUE,
    event_id        TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    subtotal        INTEGER NOT NULL CHECK (subtotal >= 0),
    discount        INTEGER NOT NULL CHECK (discount >= 0),
    total           INTEGER NOT NULL CHECK (total >= 0),
    lines           TEXT    NOT NULL,
    payment_method  TEXT    NOT NULL,
    customer_email  TEXT,
    customer_phone  TEXT,
    status          TEXT    NOT NULL DEFAULT 'captured'
                    CHECK (status IN ('captured', 'syncing', 'synced', 'quarantined', 'voided')),
    status_reason   TEXT,
    sync_attempts   INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    synced_ms       INTEGER,
    response        TEXT    NOT NULL,
    exported_ms     INTEGER,
    -- `A-042`: short, called out at the counter, never reused within the event.
    pickup_number   TEXT,
    -- The public receipt's id (`/r/<id>`): 128 random bits, unguessable.
    receipt_id      TEXT    UNIQUE,
    fulfilment      TEXT    NOT NULL DEFAULT 'new'
                    CHECK (fulfilment IN ('new', 'preparing', 'ready', 'collected', 'voided')),
    fulfilment_ms   INTEGER,
    -- 0 for pay at pickup until it is collected and paid.
    paid            INTEGER NOT NULL DEFAULT 1 CHECK (paid IN (0, 1)),
    -- How a pay-at-pickup order was settled when collected (card, cash).
    settled_with    TEXT,
    -- The card terminal slip's reference; cash handed over.
    payment_reference TEXT,
    tendered        INTEGER CHECK (tendered >= 0),
    -- The staff member who rang it up, or `lead`, or NULL for a kiosk or phone.
    sold_by         TEXT,
    void_reason     TEXT
) STRICT;

-- Orders taken before this change are history: they are not waiting at the counter.
INSERT INTO orders_selling (order_id, idempotency_key, request_hash, quote_id, event_id, currency,
    subtotal, discount, total, lines, payment_method, customer_email, customer_phone, status,
    status_reason, sync_attempts, next_attempt_ms, created_ms, updated_ms, synced_ms, response,
    exported_ms, fulfilment, fulfilment_ms)
SELECT order_id, idempotency_key, request_hash, quote_id, event_id, currency, subtotal, discount,
    total, lines, payment_method, customer_email, customer_phone, status, status_reason,
    sync_attempts, next_attempt_ms, created_ms, updated_ms, synced_ms, response, exported_ms,
    'collected', updated_ms
FROM orders;

DROP TABLE orders;
ALTER TABLE orders_selling RENAME TO orders;
CREATE INDEX orders_due ON orders (next_attempt_ms, created_ms) WHERE status = 'captured';
CREATE INDEX orders_by_time ON orders (created_ms);
-- The counter's and the pickup board's open orders.
CREATE INDEX orders_open ON orders (created_ms) WHERE fulfilment IN ('new', 'preparing', 'ready');

-- The last pickup number given per event and prefix.
CREATE TABLE pickup_numbers (
    event_id TEXT    NOT NULL,
    prefix   TEXT    NOT NULL,
    last     INTEGER NOT NULL CHECK (last >= 0),
    PRIMARY KEY (event_id, prefix)
) STRICT;

-- A refund: money given back for an order already synced (or collected), with a reason
-- and who gave it. Synced upstream like an order; never edited.
CREATE TABLE refunds (
    refund_id       TEXT    PRIMARY KEY,
    order_id        TEXT    NOT NULL REFERENCES orders (order_id),
    amount          INTEGER NOT NULL CHECK (amount > 0),
    reason          TEXT    NOT NULL,
    by_whom         TEXT    NOT NULL,
    created_ms      INTEGER NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'captured' CHECK (status IN ('captured', 'syncing', 'synced')),
    sync_attempts   INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    synced_ms       INTEGER
) STRICT;
CREATE INDEX refunds_by_order ON refunds (order_id);
CREATE INDEX refunds_due ON refunds (next_attempt_ms) WHERE status = 'captured';
