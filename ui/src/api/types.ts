// The shapes the node's operator API answers (see /api/v1/openapi.json). Written by hand
// for now; types generated from the OpenAPI document will replace this file, and every
// screen imports them through `./index.ts`, so nothing else changes when they do.

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
  /** The booth has begun its teardown: no new orders. */
  closed?: boolean;
  link: Link;
  today: { since: string; orders: number; revenue: number };
  orders: { captured: number; syncing: number; synced: number; quarantined: number; revenue: number; oldest_unsynced: string | null };
  secrets: { store: string; fallback_reason: string | null };
  cache: CacheSummary;
  spend: Spend;
  latency: LatencySummary;
  media: MediaSummary;
};

export type LinkMode = 'online' | 'offline' | 'relay' | 'local';

export type Route = { route: 'auto' } | { route: 'regional' } | { route: 'peer'; peer: string } | { route: 'offline_only' };

export type RelayPeer = { id: string; name: string };

export type RunwayLimit = {
  limit: 'per_order' | 'exposure' | 'queue_age' | 'prices' | 'disk';
  detail: string;
  seconds: number | null;
  left: number | null;
  reached: boolean;
};

/** An order refused over an offline limit, waiting for the operator. */
export type Approval = { quote_id: string; total: number; currency: string; reason: string; asked_at: string; approved_until: string | null };

/** The link to the regional hub (`/api/v1/ops/uplink`, and `link` in the snapshot). */
export type Link = {
  mode: LinkMode;
  uplink: 'up' | 'down' | 'not_checked';
  detail: string;
  since: string;
  seconds_in_mode: number;
  route: Route;
  relay_via: RelayPeer | null;
  relay_candidates: RelayPeer[];
  hub: string | null;
  booth: string | null;
  probe_rtt_ms: number | null;
  last_heartbeat: string | null;
  last_probe_error: string | null;
  mode_changes: number;
  queue_depth: number;
  quarantined: number;
  oldest_unsynced: string | null;
  oldest_unsynced_seconds: number | null;
  last_sync: string | null;
  last_sync_error: string | null;
  delivered: number;
  runway: { seconds: number | null; binding: RunwayLimit['limit'] | null; limits: RunwayLimit[] };
  approvals: Approval[];
};

/** One control action in the node's append-only audit log. */
export type AuditEntry = {
  id: number;
  at: string;
  actor: string;
  client: string;
  action: string;
  before: string | null;
  after: string | null;
  why: string;
  result: string;
  desktop_user?: string | null;
};

export type TranscodeSummary = {
  ffmpeg: string;
  ffmpeg_ok: boolean;
  degraded: boolean;
  budget_held: boolean;
  running: number;
  queued: number;
  peak: number;
  concurrency: number;
  media_minutes_today: number;
  wall_minutes_today: number;
};

export type ForwardSummary = {
  enabled: boolean;
  pending: number;
  pending_bytes: number;
  sent: number;
  quarantined: number;
  oldest_pending: string | null;
  last_sent_at: string | null;
  last_error: string | null;
};

export type PresetInfo = { name: string; format: 'mp4' | 'jpeg'; height: number; essential: boolean; degraded: string | null };

export type MediaSummary = {
  quota_bytes: number;
  used_bytes: number;
  max_upload_bytes: number;
  open_uploads: number;
  transcodes: TranscodeSummary;
  forwarding: ForwardSummary;
  presets: PresetInfo[];
};

export type UploadState = 'receiving' | 'done' | 'expired' | 'deleted';

export type Upload = {
  id: string;
  filename: string | null;
  filetype: string | null;
  device: string;
  length: number;
  received: number;
  state: UploadState;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  finished_at: string | null;
};

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'timed_out' | 'stopped';

export type Job = {
  id: string;
  upload_id: string;
  filename: string | null;
  preset: string;
  ran_preset: string | null;
  start_ms: number | null;
  end_ms: number | null;
  essential: boolean;
  state: JobState;
  reason: string | null;
  progress: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  media_ms: number;
  wall_ms: number;
  output_url: string | null;
  output_bytes: number | null;
  command: string[] | null;
};

export type UploadToken = {
  id: string;
  label: string;
  created_at: string;
  expires_at: string;
  max_bytes: number;
  max_uploads: number;
  used_bytes: number;
  uploads: number;
  state: 'active' | 'expired' | 'revoked';
};

export type IssuedToken = UploadToken & { token: string };

/** One window's latency figures for a route (microseconds). */
export type Figures = { requests: number; errors: number; p50_us: number; p95_us: number; p99_us: number; max_us: number; rate_per_s: number };

export type RouteFigures = { method: string; route: string; last_minute: Figures; last_15_minutes: Figures; event: Figures };

export type LatencySummary = { p95_target_ms: number; p99_target_ms: number; routes: RouteFigures[] };

export type BudgetState = 'unbudgeted' | 'ok' | 'warn' | 'over';

/** Spend against one budget; money in minor units. */
export type SpendLine = {
  spent: number;
  spent_micro: number;
  budget: number | null;
  percent_of_budget: number | null;
  burn_per_hour: number | null;
  projected: number | null;
  state: BudgetState;
  reason: string;
};

export type SpendComponent = SpendLine & {
  component: 'edge' | 'egress' | 'transcode' | 'upstream';
  label: string;
  usage: number;
  unit: string;
  rate: number | null;
  rate_unit: string;
};

export type Spend = {
  currency: string;
  warn_at_percent: number;
  ends_at: string;
  state: BudgetState;
  detail: string;
  total: SpendLine;
  components: SpendComponent[];
  transcodes_running: number;
  transcodes_peak: number;
};

export type ChartName = 'latency' | 'hit-ratio' | 'spend' | 'transcodes';
export type ChartSpan = 'hour' | 'event';

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

export type DeviceKind = 'booth' | 'printer' | 'web_device' | 'other';

export type Device = {
  key: string;
  kind: DeviceKind;
  service_type: string;
  name: string;
  host: string;
  port: number;
  addresses: string[];
  state: 'alive' | 'gone';
  first_seen: string;
  last_seen: string;
  rtt_ms: number | null;
  failed_probes: number;
  moves: number;
  txt: Record<string, string>;
  booth: { id: string; event: string; role: string; version: string; fingerprint: string; name: string | null } | null;
  paired: boolean | null;
};

/** A service type the node stopped browsing for a while: it flooded the network with names. */
export type PausedType = { service_type: string; until: string; names: number };

export type DevicesView = {
  discovery: {
    enabled: boolean;
    node_id: string;
    advertised_as: string | null;
    port: number | null;
    fingerprint: string;
    key_source: 'manifest' | 'pairing_code' | 'none';
    browsing_since: string | null;
    events_seen: number;
    refused: number;
    paused: PausedType[];
  };
  alive: number;
  gone: number;
  devices: Device[];
};

export type PeerStatus = {
  id: string;
  name: string | null;
  event: string;
  role: string;
  version: string;
  mode: string;
  uplink: string;
  queue_depth: number;
  oldest_unsynced: string | null;
  quarantined: number;
  orders_today: number;
  revenue_today: number;
  currency: string;
  p99_ms: number | null;
  hit_ratio: number | null;
  spend: number;
  budget: number | null;
  spend_state: 'ok' | 'warn' | 'over' | 'unbudgeted';
  at: string;
};

export type Booth = {
  id: string | null;
  name: string;
  url: string;
  found_by: 'lan' | 'manifest';
  event: string | null;
  fingerprint: string | null;
  paired: boolean;
  reachable: boolean;
  detail: string;
  status: PeerStatus | null;
  status_at: string | null;
  checked_at: string | null;
  rtt_ms: number | null;
};

export type FleetView = { me: PeerStatus; fingerprint: string; key_source: string; booths: Booth[] };

export type PairingCode = { code: string; expires_at: string };

// The controls (GET /api/v1/ops/controls).
export type Sheddable = 'uploads' | 'clips' | 'metrics' | 'charts';
export type Notice = { at: string; text: string; runbook: string };
export type LastRun = { at: string; by: 'operator' | 'trigger'; result: string };
export type LevelView = { name: string; current: boolean; effects: string[] };
export type RunbookView = {
  name: string;
  title: string;
  trigger: string;
  automatic: boolean;
  condition: boolean | null;
  steps: string[];
  last_run: LastRun | null;
};
export type ControlsView = {
  level: string;
  since: string;
  set_by: string;
  levels: LevelView[];
  shed: Sheddable[];
  transcodes: 'full' | 'reduced' | 'essential_only';
  uploads_paused: boolean;
  uploads_paused_by_hand: boolean;
  path: string;
  mode: LinkMode;
  notices: Notice[];
  runbooks: RunbookView[];
  closed: boolean;
  origin: 'primary' | 'fallback';
};
export type StepReport = { step: string; before: string; after: string; changes: boolean; result: string };
export type RunReport = { runbook: string; dry_run: boolean; steps: StepReport[] };

export type TeardownStep = 'close' | 'media' | 'orders' | 'report' | 'keys' | 'wipe' | 'withdraw' | 'stop';
export type TeardownStepView = {
  step: TeardownStep;
  title: string;
  state: 'pending' | 'running' | 'done' | 'blocked' | 'failed';
  detail: string | null;
  at: string | null;
};
export type TeardownView = {
  state: 'not_started' | 'running' | 'blocked' | 'failed' | 'interrupted' | 'finished';
  closed: boolean;
  started_at: string | null;
  started_by: string | null;
  finished_at: string | null;
  export_dir: string | null;
  suggested_export_dir: string;
  report_dir: string;
  steps: TeardownStepView[];
  orders_at_risk: number;
  automatic_at: string | null;
};
