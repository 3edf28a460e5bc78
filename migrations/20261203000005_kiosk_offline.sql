-- Kiosks that keep selling while they cannot reach the node.
--
-- Every price book a kiosk was given, by the SHA-256 of its document, so an order priced
-- offline is priced again on delivery with the very book the kiosk used.
CREATE TABLE price_books (
    digest     TEXT    PRIMARY KEY,
    event_id   TEXT    NOT NULL,
    document   TEXT    NOT NULL,
    first_ms   INTEGER NOT NULL
) STRICT;

-- Pickup numbers reserved in advance for one kiosk (taken from the same counter as every
-- other order, so they never collide).
CREATE TABLE kiosk_ranges (
    kiosk_id    TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    prefix      TEXT    NOT NULL,
    first       INTEGER NOT NULL CHECK (first >= 1),
    last        INTEGER NOT NULL CHECK (last >= first),
    reserved_ms INTEGER NOT NULL,
    PRIMARY KEY (event_id, prefix, first)
) STRICT;
CREATE INDEX kiosk_ranges_by_kiosk ON kiosk_ranges (kiosk_id, event_id, prefix, first);

-- An order a kiosk took offline: which kiosk, the number it handed out, when, with which
-- price book; and why staff should look at it (a price that differs), if they should.
ALTER TABLE orders ADD COLUMN offline_kiosk TEXT;
ALTER TABLE orders ADD COLUMN offline_pickup INTEGER;
ALTER TABLE orders ADD COLUMN taken_ms INTEGER;
ALTER TABLE orders ADD COLUMN price_book TEXT;
ALTER TABLE orders ADD COLUMN attention TEXT;
CREATE INDEX orders_offline ON orders (offline_kiosk, offline_pickup) WHERE offline_kiosk IS NOT NULL;
