// The shapes the node's operator API answers (see /api/v1/openapi.json).

export type SyncState = 'captured' | 'syncing' | 'synced' | 'quarantined';

export type ManifestProblem = { line: number; column: number; message: string };

/** A manifest edit the node refused (the previous version stays in force). */
export type ReloadFailure = { at: string; problems: ManifestProblem[] };

export type Snapshot = {
  now: string;
  version: string;
  started_at: string;
  event: { id: string; name: string; currency: string; timezone: string; starts_at: string; ends_at: string; expires_at: string };
  manifest: { source: string; version: number; loaded_at: string; items: number; promotions: number; last_failure: ReloadFailure | null };
  link: { mode: 'online' | 'offline' | 'degraded' | 'local'; uplink: 'up' | 'down' | 'not_checked'; detail: string };
  today: { since: string; orders: number; revenue: number };
  orders: { captured: number; syncing: number; synced: number; quarantined: number; revenue: number; oldest_unsynced: string | null };
  secrets: { store: string; fallback_reason: string | null };
  cache: CacheSummary;
};

export type WarmUp = { running: boolean; total: number; done: number; failed: number; bytes: number; duration_ms: number | null; problems: string[] };

export type CacheSummary = {
  hit_ratio_now: number | null;
  hit_ratio_event: number | null;
  stale_share: number | null;
  requests_last_minute: number;
  stale_last_minute: number;
  origin_errors_last_minute: number;
  requests: number;
  bytes_from_origin: number;
  storage: { objects: number; memory_bytes: number; memory_limit: number; disk_bytes: number; disk_limit: number };
  warm_up: WarmUp;
};

export type OrderLine = { sku: string; qty: number; unit_price: number; total: number };

export type Order = {
  order_id: string;
  status: SyncState;
  status_reason?: string | null;
  currency: string;
  lines: OrderLine[];
  subtotal: number;
  discount: number;
  total: number;
  payment: string;
  created_at: string;
  customer?: { email?: string | null; phone?: string | null } | null;
};

export type OrderPage = { orders: Order[]; next_before: string | null };
