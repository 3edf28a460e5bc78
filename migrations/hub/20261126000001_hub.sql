-- The regional hub's tables (PostgreSQL, or any engine that speaks its SQL: plain
-- types, JSONB, INSERT … ON CONFLICT). The hub keeps no other state: any number of
-- hubs may serve the same database behind a load balancer.

-- Every order any booth delivered, once: the order id is the idempotency key.
CREATE TABLE hub_orders (
    order_id    TEXT        PRIMARY KEY,
    booth_id    TEXT        NOT NULL,
    event_id    TEXT        NOT NULL,
    currency    TEXT        NOT NULL,
    subtotal    BIGINT      NOT NULL,
    discount    BIGINT      NOT NULL,
    total       BIGINT      NOT NULL,
    lines       JSONB       NOT NULL,
    payment     TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The booth that carried it when its own uplink was down (NULL: delivered directly).
    relayed_by  TEXT,
    -- SHA-256 of the order as first delivered: a later copy that differs is refused.
    digest      TEXT        NOT NULL
);
CREATE INDEX hub_orders_by_booth ON hub_orders (booth_id, created_at);

-- Each booth's last report (heartbeat), newest wins.
CREATE TABLE hub_booths (
    booth_id    TEXT        PRIMARY KEY,
    event_id    TEXT        NOT NULL,
    report      JSONB       NOT NULL,
    reported_at TIMESTAMPTZ NOT NULL,
    seen_at     TIMESTAMPTZ NOT NULL
);
