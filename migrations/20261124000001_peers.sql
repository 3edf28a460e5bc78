-- Who this node is among its peers (see peers/mod.rs): one row, made at first start,
-- so a node keeps its identity across restarts and address changes.
CREATE TABLE node_identity (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    node_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL -- Unix seconds
);

-- Peers the operator unpaired: refused and never asked, even holding the pairing key,
-- until the operator pairs them again.
CREATE TABLE peer_unpaired (
    node_id     TEXT PRIMARY KEY,
    unpaired_at INTEGER NOT NULL -- Unix seconds
);
