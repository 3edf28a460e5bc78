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
