-- The asset cache's figures for the event, per route prefix (see assets::figures).
CREATE TABLE asset_figures (
    prefix            TEXT PRIMARY KEY NOT NULL,
    hits              INTEGER NOT NULL DEFAULT 0,
    stale             INTEGER NOT NULL DEFAULT 0,
    peer              INTEGER NOT NULL DEFAULT 0,
    misses            INTEGER NOT NULL DEFAULT 0,
    revalidations     INTEGER NOT NULL DEFAULT 0,
    bytes_from_cache  INTEGER NOT NULL DEFAULT 0,
    bytes_from_origin INTEGER NOT NULL DEFAULT 0,
    origin_errors     INTEGER NOT NULL DEFAULT 0
);
