// The one module that talks to the booth node, and the only one that knows whether the
// dashboard runs inside the desktop app (Tauri) or in a plain browser: nothing else in
// the dashboard calls `fetch` on the node or imports `@tauri-apps/*`.
//
// - Desktop: the app hands over the embedded node's URL and the operator token (from
//   the OS keyring) through the `node_endpoint` command; kiosk mode, notifications, the
//   folder chooser and the save dialog are app commands.
// - Browser (an ops lead's tablet): the node served this page, so the API is on the same
//   origin; the operator token is asked for once and kept in this browser.
//
// Live figures come from `GET /api/v1/ops/stream` (server-sent events), read with
// `fetch` so the token travels in the Authorization header, never in a URL.
//
// The selling faces (shop, counter, pickup board, receipt page) talk to the node through
// `selling-api.ts` over `node-client.ts`; the dashboard's Sell screen gets the same calls
// with the operator token from `Connection.selling()`. Printing (`printing-api.ts`) is
// shared the same way: the counter over its own client, the Printers screen with the
// operator token from `Connection.printing()`.
//
// The node's shapes are in `types.ts`, aliases of `schema.d.ts` (generated from the
// OpenAPI document the node serves), re-exported here, so screens import everything
// about the node from this one module. Request bodies are checked against the document's
// schemas with `satisfies`.

import { ApiError } from './errors';
import { NodeClient } from './node-client';
import { PrintingApi } from './printing-api';
import { SellingApi } from './selling-api';
import { reconnectDelay, SseParser, STREAM_SILENCE_MS } from './sse';
import type {
  Approval, AuditEntry, Booth, ChartName, ChartSpan, ClockView, ConfirmTime, ControlsView, DegradedRequest, DegradeRequest, DevicesView, ErrorBody, FailoverRequest, FleetView, ForwardingRequest,
  IssuedToken, IssueToken, Job, JobList, Link, MediaSummary, Order, OrderPage, PairingCode, PairRequest, Purged, PurgeRequest, ReloadOutcome, Route, RunReport,
  Snapshot, StartTranscode, SyncState, RotatedToken, TeardownRequest, TeardownView, Trust, Unpaired, Upload, UploadToken, WarmUp,
  StaffMember, Enrollment, KioskView, EnrolledKiosk,
} from './types';

export type * from './types';
export { ApiError } from './errors';
export type { PrintingApi } from './printing-api';

const TOKEN_KEY = 'boothcloud.operatorToken';

export type Runtime = 'desktop' | 'browser';

export type StreamState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'lost'; attempt: number; reason: string }
  | { kind: 'unauthorized' };

/**
 * Where an export went. `saved`: the file is on disk at `path` (the app's save dialog
 * wrote and synced it). `cancelled`: the operator closed the save dialog. `downloading`:
 * a browser was handed the file; whether it lands is up to the browser, so nobody may
 * call it saved.
 */
export type SaveOutcome = { kind: 'saved'; path: string } | { kind: 'cancelled' } | { kind: 'downloading' };

type TauriInvoke = <T>(cmd: string, args?: Record<string, unknown>) => Promise<T>;

function inDesktopApp(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

async function tauriInvoke(): Promise<TauriInvoke> {
  const core = await import('@tauri-apps/api/core');
  return core.invoke as TauriInvoke;
}

/** Finds the node: the app's embedded one, or the one that served this page. */
export async function connect(): Promise<Connection> {
  if (inDesktopApp()) {
    const invoke = await tauriInvoke();
    const endpoint = await invoke<{ url: string; operator_token: string }>('node_endpoint');
    return new Connection('desktop', endpoint.url, endpoint.operator_token, invoke);
  }
  let token: string | null = null;
  try {
    token = window.localStorage.getItem(TOKEN_KEY);
  } catch {
    // Private browsing without storage: ask every time.
  }
  return new Connection('browser', '', token, null);
}

export class Connection {
  constructor(
    readonly runtime: Runtime,
    private readonly base: string,
    private token: string | null,
    private readonly invoke: TauriInvoke | null,
  ) {}

  get hasToken(): boolean {
    return !!this.token;
  }

  /** Keeps the operator token for this browser (the desktop app never asks). */
  setToken(token: string): void {
    this.token = token.trim();
    try {
      window.localStorage.setItem(TOKEN_KEY, this.token);
    } catch {
      // Kept for this page only.
    }
  }

  forgetToken(): void {
    this.token = null;
    try {
      window.localStorage.removeItem(TOKEN_KEY);
    } catch {
      // Nothing kept.
    }
  }

  /** The token, and which client this is (for the node's audit log). */
  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const client = { 'x-boothcloud-client': this.runtime === 'desktop' ? 'app' : 'dashboard' };
    return this.token ? { authorization: `Bearer ${this.token}`, ...client, ...extra } : { ...client, ...extra };
  }

  private async request<T>(path: string, init: RequestInit = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.base + path, { ...init, headers: this.headers(init.headers as Record<string, string>) });
    } catch {
      throw new ApiError(0, 'unreachable', 'The booth node does not answer. Check that the booth laptop is on and on this network.');
    }
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: handled below.
    }
    if (!response.ok) {
      // Any proxy in between may answer too: nothing of the node's error body is taken for granted.
      const detail = (body as Partial<ErrorBody> | null)?.error as Partial<ErrorBody['error']> | undefined;
      throw new ApiError(response.status, detail?.code ?? 'http_' + response.status, detail?.message ?? `The node answered ${response.status}.`);
    }
    return body as T;
  }

  /**
   * The selling calls (catalogue, quotes, orders, the counter's orders) with the
   * operator token: the dashboard's Sell screen is the counter, signed in as the lead.
   */
  selling(): SellingApi {
    return new SellingApi(new NodeClient(this.base, () => this.headers()));
  }

  /** The printers and their jobs, with the operator token (the Printers screen). */
  printing(): PrintingApi {
    return new PrintingApi(new NodeClient(this.base, () => this.headers()));
  }

  status(): Promise<Snapshot> {
    return this.request<Snapshot>('/api/v1/ops/status');
  }

  orders(status: SyncState | null, limit = 50): Promise<OrderPage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (status) query.set('status', status);
    return this.request<OrderPage>(`/api/v1/ops/orders?${query}`);
  }

  /** Re-reads the manifest now; a refused edit rejects with the problems in words. */
  reloadManifest(): Promise<ReloadOutcome> {
    return this.request('/api/v1/ops/manifest/reload', { method: 'POST' });
  }

  /** Empties the asset cache; answers how many stored files were removed. */
  purgeCache(): Promise<Purged> {
    return this.request('/api/v1/ops/assets/purge', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ all: true } satisfies PurgeRequest) });
  }

  /** Every device found on the booth's network, and how this booth shows itself. */
  devices(): Promise<DevicesView> {
    return this.request('/api/v1/ops/devices');
  }

  /** The other booths of the event, with their last reported health. */
  fleet(): Promise<FleetView> {
    return this.request('/api/v1/ops/fleet');
  }

  /** Pairs with a booth; `code` is the pairing code shown on that booth, when needed. */
  pair(id: string, code: string | null): Promise<Booth> {
    return this.request(`/api/v1/ops/peers/${encodeURIComponent(id)}/pair`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify((code ? { code } : {}) satisfies PairRequest),
    });
  }

  /** Stops trusting a booth until it is paired again. */
  unpair(id: string): Promise<Unpaired> {
    return this.request(`/api/v1/ops/peers/${encodeURIComponent(id)}/unpair`, { method: 'POST' });
  }

  /** Shows a new pairing code on this booth, for another booth to type. */
  showPairingCode(): Promise<PairingCode> {
    return this.request('/api/v1/ops/pairing-code', { method: 'POST' });
  }

  async hidePairingCode(): Promise<void> {
    await this.request('/api/v1/ops/pairing-code', { method: 'DELETE' });
  }

  /** Uploads, transcodes, quota and forwarding at a glance. */
  media(): Promise<MediaSummary> {
    return this.request('/api/v1/ops/media');
  }

  uploads(): Promise<Upload[]> {
    return this.request('/api/v1/ops/uploads?limit=100');
  }

  async transcodes(): Promise<Job[]> {
    return (await this.request<JobList>('/api/v1/ops/transcodes?limit=100')).jobs;
  }

  /** Queues a clip of an upload in a preset, optionally trimmed (seconds). */
  startTranscode(uploadId: string, preset: string, startS: number | null = null, endS: number | null = null): Promise<Job> {
    return this.request('/api/v1/ops/transcodes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ upload_id: uploadId, preset, start_s: startS, end_s: endS } satisfies StartTranscode),
    });
  }

  cancelTranscode(id: string): Promise<Job> {
    return this.request(`/api/v1/ops/transcodes/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
  }

  /** Deletes a clip's file (frees its space); the job's record stays. */
  removeClip(id: string): Promise<Job> {
    return this.request(`/api/v1/ops/transcodes/${encodeURIComponent(id)}/output`, { method: 'DELETE' });
  }

  async deleteUpload(id: string): Promise<void> {
    await this.request(`/api/v1/ops/uploads/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  uploadTokens(): Promise<UploadToken[]> {
    return this.request('/api/v1/ops/upload-tokens');
  }

  /** A new upload token for a device; its secret is only in this answer. */
  issueUploadToken(label: string): Promise<IssuedToken> {
    return this.request('/api/v1/ops/upload-tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ label } satisfies IssueToken) });
  }

  revokeUploadToken(id: string): Promise<UploadToken> {
    return this.request(`/api/v1/ops/upload-tokens/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** Reduced-quality presets and fewer transcodes at once, or back to normal. */
  setMediaDegraded(degraded: boolean): Promise<MediaSummary> {
    return this.request('/api/v1/ops/media/degraded', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ degraded } satisfies DegradedRequest) });
  }

  controls(): Promise<ControlsView> {
    return this.request('/api/v1/ops/controls');
  }

  /** Moves the booth to a degrade level (`normal` undoes it), at once. */
  degrade(level: string): Promise<ControlsView> {
    return this.request('/api/v1/ops/degrade', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ level } satisfies DegradeRequest) });
  }

  /** One tap to switch the way upstream: `auto`, `regional`, `offline` or `peer:<id>`. */
  failover(path: string): Promise<Link> {
    return this.request('/api/v1/ops/failover', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path } satisfies FailoverRequest) });
  }

  setForwarding(paused: boolean): Promise<ControlsView> {
    return this.request('/api/v1/ops/media/forwarding', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ paused } satisfies ForwardingRequest) });
  }

  /** What a runbook would do, changing nothing. */
  dryRun(name: string): Promise<RunReport> {
    return this.request(`/api/v1/ops/runbooks/${encodeURIComponent(name)}/dry-run`, { method: 'POST' });
  }

  runRunbook(name: string): Promise<RunReport> {
    return this.request(`/api/v1/ops/runbooks/${encodeURIComponent(name)}/run`, { method: 'POST' });
  }

  /** A new operator token, in force at once; this connection uses it from now on (and
   *  this browser keeps it). The old token is refused everywhere else. */
  async rotateOperatorToken(): Promise<RotatedToken> {
    const rotated = await this.request<RotatedToken>('/api/v1/ops/operator-token/rotate', { method: 'POST' });
    if (this.runtime === 'desktop') this.token = rotated.token;
    else this.setToken(rotated.token);
    return rotated;
  }

  /** How a kiosk comes to trust this booth: the CA's fingerprint, the page, its QR code. */
  enrollment(): Promise<Enrollment> {
    return this.request('/api/v1/ops/enrollment');
  }

  /** The kiosks and tablets the lead enrolled (never their tokens). */
  kiosks(): Promise<KioskView[]> {
    return this.request('/api/v1/ops/kiosks');
  }

  /** Enrolls a kiosk: its token, shown once. */
  enrollKiosk(name: string): Promise<EnrolledKiosk> {
    return this.request('/api/v1/ops/kiosks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  }

  /** Revokes a kiosk: its token is refused at once. */
  revokeKiosk(id: string): Promise<void> {
    return this.request(`/api/v1/ops/kiosks/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** The people who sell at the counter (never their PINs). */
  staff(): Promise<StaffMember[]> {
    return this.request('/api/v1/ops/staff');
  }

  addStaff(name: string, pin: string): Promise<StaffMember> {
    return this.request('/api/v1/ops/staff', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, pin }) });
  }

  /** A new PIN: a lockout ends, and so do the person's sessions. */
  resetStaffPin(id: string, pin: string): Promise<StaffMember> {
    return this.request(`/api/v1/ops/staff/${encodeURIComponent(id)}/pin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin }) });
  }

  removeStaff(id: string): Promise<void> {
    return this.request(`/api/v1/ops/staff/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  teardown(): Promise<TeardownView> {
    return this.request('/api/v1/ops/teardown');
  }

  /** Starts teardown, or continues it (after it stopped for a folder, or a crash). */
  startTeardown(exportDir: string | null): Promise<TeardownView> {
    const body: TeardownRequest = { confirm: true, ...(exportDir ? { export_dir: exportDir } : {}) };
    return this.request('/api/v1/ops/teardown', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  /** Stops the countdown of an automatic teardown: the booth stays open, and the end time
   * does not close it again (a refusal, 409, when nothing counts down). */
  cancelTeardownCountdown(): Promise<TeardownView> {
    return this.request('/api/v1/ops/teardown/countdown/cancel', { method: 'POST' });
  }

  /** Reopens a booth the event's end time closed, until the wipe has run (a refusal, 409,
   * says why not in words). */
  reopenBooth(): Promise<TeardownView> {
    return this.request('/api/v1/ops/teardown/reopen', { method: 'POST' });
  }

  /** The booth's time, the laptop's clock, any doubt about it, and this event's steps. */
  clock(): Promise<ClockView> {
    return this.request('/api/v1/ops/clock');
  }

  /** The lead settles a doubt about the time: the laptop's clock is right, or the booth's. */
  confirmTime(trust: Trust): Promise<ClockView> {
    return this.request('/api/v1/ops/clock/confirm', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ trust } satisfies ConfirmTime) });
  }

  audit(limit = 20): Promise<AuditEntry[]> {
    return this.request(`/api/v1/ops/audit?limit=${limit}`);
  }

  uplink(): Promise<Link> {
    return this.request('/api/v1/ops/uplink');
  }

  /** The way orders go upstream: automatic, the regional hub only, a chosen booth, or none. */
  setRoute(route: Route): Promise<Link> {
    return this.request('/api/v1/ops/uplink/route', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(route satisfies Route) });
  }

  /** Lets an order over an offline limit through; the kiosk sends it again. */
  approve(quoteId: string): Promise<Approval> {
    return this.request(`/api/v1/ops/uplink/approvals/${encodeURIComponent(quoteId)}`, { method: 'POST' });
  }

  retryOrder(orderId: string): Promise<Order> {
    return this.request(`/api/v1/ops/orders/${encodeURIComponent(orderId)}/retry`, { method: 'POST' });
  }

  /** The quarantined (or every undelivered) order as the text of a JSON file. */
  async exportOrders(status: 'quarantined' | 'unsynced'): Promise<string> {
    const orders = await this.request<Order[]>(`/api/v1/ops/orders/export?status=${status}`);
    return JSON.stringify(orders, null, 2) + '\n';
  }

  /** An absolute URL for a path the node serves (a clip, for preview). */
  url(path: string): string {
    return this.base + path;
  }

  /** A chart as SVG text, in the dashboard's theme, sized for where it is shown. */
  async chart(name: ChartName, span: ChartSpan, theme: 'light' | 'dark', width: number, height: number): Promise<string> {
    const query = new URLSearchParams({ span, theme, width: String(Math.round(width)), height: String(Math.round(height)) });
    let response: Response;
    try {
      response = await fetch(`${this.base}/api/v1/ops/charts/${name}.svg?${query}`, { headers: this.headers() });
    } catch {
      throw new ApiError(0, 'unreachable', 'The booth node does not answer. Check that the booth laptop is on and on this network.');
    }
    if (!response.ok) throw new ApiError(response.status, 'http_' + response.status, `The chart could not be drawn (the node answered ${response.status}).`);
    return response.text();
  }

  /** The same chart as a PNG for the post-event report. */
  async chartPng(name: ChartName, span: ChartSpan): Promise<Blob> {
    const query = new URLSearchParams({ span, theme: 'light', width: '1600', height: '700' });
    let response: Response;
    try {
      response = await fetch(`${this.base}/api/v1/ops/charts/${name}.png?${query}`, { headers: this.headers() });
    } catch {
      throw new ApiError(0, 'unreachable', 'The booth node does not answer. Check that the booth laptop is on and on this network.');
    }
    if (!response.ok) throw new ApiError(response.status, 'http_' + response.status, `The picture could not be made (the node answered ${response.status}).`);
    return response.blob();
  }

  /** Starts fetching the manifest's warm-up list again (progress comes with the snapshots). */
  warmCache(): Promise<WarmUp> {
    return this.request('/api/v1/ops/assets/warm', { method: 'POST' });
  }

  /**
   * Follows the live stream until `stop()` is called: `onSnapshot` for every snapshot,
   * `onState` whenever the connection changes. Reconnects by itself, with backoff.
   */
  stream(onSnapshot: (s: Snapshot) => void, onState: (s: StreamState) => void): { stop: () => void } {
    let stopped = false;
    let controller: AbortController | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      let attempt = 0;
      while (!stopped) {
        onState(attempt === 0 ? { kind: 'connecting' } : { kind: 'lost', attempt, reason: 'reconnecting' });
        let reason = 'the connection closed';
        controller = new AbortController();
        try {
          const response = await fetch(this.base + '/api/v1/ops/stream', { headers: this.headers({ accept: 'text/event-stream' }), signal: controller.signal });
          if (response.status === 401) {
            onState({ kind: 'unauthorized' });
            return;
          }
          if (!response.ok || !response.body) throw new Error(`the node answered ${response.status}`);
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          const parser = new SseParser();
          let first = true;
          let watchdog = setTimeout(() => controller?.abort(), STREAM_SILENCE_MS);
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              clearTimeout(watchdog);
              watchdog = setTimeout(() => controller?.abort(), STREAM_SILENCE_MS);
              for (const message of parser.feed(value)) {
                if (message.event === 'snapshot') {
                  if (first) onState({ kind: 'live' });
                  first = false;
                  attempt = 0;
                  onSnapshot(JSON.parse(message.data) as Snapshot);
                }
              }
            }
          } finally {
            clearTimeout(watchdog);
          }
        } catch (e) {
          reason = e instanceof Error ? e.message : String(e);
        }
        if (stopped) return;
        attempt += 1;
        onState({ kind: 'lost', attempt, reason });
        await new Promise<void>((resolve) => (timer = setTimeout(resolve, reconnectDelay(attempt))));
      }
    };
    void run();
    return {
      stop: () => {
        stopped = true;
        clearTimeout(timer);
        controller?.abort();
      },
    };
  }

  /** Kiosk mode: the app's frameless fullscreen, or the browser's fullscreen. */
  async setKiosk(on: boolean): Promise<void> {
    if (this.invoke) {
      await this.invoke('set_kiosk', { on });
    } else if (on) {
      await document.documentElement.requestFullscreen?.();
    } else if (document.fullscreenElement) {
      await document.exitFullscreen();
    }
  }

  /** A native notification in the app; in a browser the page's own banner suffices. */
  async notify(title: string, body: string): Promise<void> {
    if (this.invoke) await this.invoke('notify', { title, body }).catch(() => undefined);
  }

  /** Whether a native folder chooser is at hand (in the app; a browser may be on another machine). */
  get canChooseFolder(): boolean {
    return this.invoke !== null;
  }

  /** The app's native folder chooser: the chosen folder, or null when cancelled. */
  async chooseFolder(title: string): Promise<string | null> {
    if (!this.invoke) return null;
    return ((await this.invoke('choose_folder', { title })) as string | null) ?? null;
  }

  /**
   * Keeps a text file the operator asked for. In the app: the native save dialog, then
   * the app writes the file and syncs it to disk before answering where it is (a failure
   * rejects with the reason in words). In a browser: a download, which the browser may
   * still ask about, block or drop — so the outcome is only that it started.
   */
  async saveText(fileName: string, text: string, type: string): Promise<SaveOutcome> {
    if (this.invoke) {
      let path: string | null;
      try {
        path = (await this.invoke<string | null>('save_export', { fileName, contents: text })) ?? null;
      } catch (e) {
        throw new Error(typeof e === 'string' ? e : e instanceof Error ? e.message : String(e));
      }
      return path === null ? { kind: 'cancelled' } : { kind: 'saved', path };
    }
    download(new Blob([text], { type }), fileName);
    return { kind: 'downloading' };
  }

  /** Hands a picture to the browser's downloads (both in the app and in a browser). */
  downloadPicture(picture: Blob, fileName: string): SaveOutcome {
    download(picture, fileName);
    return { kind: 'downloading' };
  }

  /** Marks the first live render (the app logs the cold-start time from it). */
  dashboardReady(): void {
    document.documentElement.dataset.ready = 'true';
    performance.mark('boothcloud-dashboard-ready');
    if (this.invoke) void this.invoke('dashboard_ready').catch(() => undefined);
  }
}

/** Starts a browser download of `blob` as `fileName`. */
function download(blob: Blob, fileName: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = fileName;
  a.click();
  // Long enough for the browser to have read it; a revoked URL frees the memory.
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}
