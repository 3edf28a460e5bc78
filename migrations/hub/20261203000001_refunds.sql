-- Refunds booths gave: each stored once, by its id (a booth sends one again until it
-- hears the answer). Kept apart from the order: an order is never edited.
CREATE TABLE hub_refunds (
    refund_id   TEXT        PRIMARY KEY,
    booth_id    TEXT        NOT NULL,
    order_id    TEXT        NOT NULL,
    amount      BIGINT      NOT NULL CHECK (amount > 0),
    reason      TEXT        NOT NULL,
    by_whom     TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX hub_refunds_by_order ON hub_refunds (order_id);
