// Numbers, times and states in words a booth worker reads at arm's length. The words
// are English; numbers, money and dates follow the browser's language (money always in
// the manifest's currency, times always in the event's time zone).

import type {
  AuditEntry, Booth, CacheSummary, ClockView, CountdownView, Device, DeviceKind, Job, LatencySummary, Link, MediaSummary, RelayPeer, Route, RouteFigures,
  Snapshot, Spend, PausedType, RunbookView, SpendLine, SyncState, TeardownStepView, TeardownView, Trust, Upload,
} from '../api';

type Languages = { languages?: readonly string[]; language?: string };

/**
 * The screen's locale: the browser's first language (`navigator.languages[0]`, else
 * `navigator.language`) when this browser can format in it, else plain English.
 */
export function browserLocale(nav: Languages | undefined = globalThis.navigator): string {
  for (const tag of [nav?.languages?.[0], nav?.language]) {
    if (!tag) continue;
    try {
      const [supported] = Intl.NumberFormat.supportedLocalesOf(tag);
      if (supported) return supported;
    } catch {
      // Not a language tag: try the next, then English.
    }
  }
  return 'en';
}

/** Read once: a booth screen does not change language while it runs. */
export const LOCALE = browserLocale();

const numberFormats = new Map<string, Intl.NumberFormat>();

/** Intl formatters are slow to build and the screen redraws every second: kept by options. */
function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = locale + JSON.stringify(options);
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, options);
    numberFormats.set(key, format);
  }
  return format;
}

/** Integer minor units as money in the manifest's currency: 1250 EUR → "€12.50" in
 * English, "12,50 €" in German (the currency's own decimals either way). */
export function money(minor: number, currency: string, locale = LOCALE): string {
  const format = numberFormat(locale, { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}

/** A number with exactly `digits` decimals, in the screen's locale: "12.4", "12,4". */
export function decimal(n: number, digits = 1, locale = LOCALE): string {
  return numberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
}

/** A count with the locale's grouping: "3,214", "3.214". */
export function count(n: number, locale = LOCALE): string {
  return numberFormat(locale, { maximumFractionDigits: 0 }).format(n);
}

/** The wall clock in the event's time zone, on the 24-hour clock: "14:05:09". */
export function clock(at: Date, timeZone: string, locale = LOCALE): string {
  return new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(at);
}

/** A time of day in the event's time zone: "14:05". */
export function timeOfDay(at: Date, timeZone: string, locale = LOCALE): string {
  return new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
}

/** A moment within the event as a short date and time: "Sat 31 Dec, 22:00". */
export function dayAndTime(iso: string, timeZone: string, locale = LOCALE): string {
  return new Intl.DateTimeFormat(locale, { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(new Date(iso));
}

/** "just now", "12 s ago", "4 min ago", "3 h ago". */
export function ago(then: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

/** What a service type is, in words: "_ipp._tcp" → "printers". */
export function serviceKind(type: string): string {
  if (type === '_boothcloud._tcp') return 'other booths';
  if (type === '_ipp._tcp' || type === '_ipps._tcp') return 'printers';
  if (type === '_http._tcp') return 'web devices';
  return `${type} devices`;
}

/** Why the booth stopped looking for one kind of device, and for how long. */
export function floodNotice(p: PausedType, now: Date): string {
  const minutes = Math.max(1, Math.ceil((new Date(p.until).getTime() - now.getTime()) / 60_000));
  return `Not looking for ${serviceKind(p.service_type)} for the next ${minutes} min: ${count(p.names)} new ones appeared within 10 seconds, so something on this network is flooding it. Devices already found stay listed; other kinds are still found.`;
}

export const ORDER_STATES: { value: SyncState | null; label: string }[] = [
  { value: null, label: 'All' },
  { value: 'captured', label: 'Waiting to sync' },
  { value: 'syncing', label: 'Sending' },
  { value: 'synced', label: 'Synced' },
  { value: 'quarantined', label: 'Needs attention' },
  { value: 'voided', label: 'Voided' },
];

export function orderState(state: SyncState): string {
  return ORDER_STATES.find((s) => s.value === state)?.label ?? state;
}

export type Tone = 'good' | 'warn' | 'bad' | 'quiet';

function queued(n: number): string {
  return `${n} order${n === 1 ? '' : 's'} queued`;
}

/** The header's mode chip: words and a tone, never a code. */
export function linkMode(link: Snapshot['link']): { label: string; tone: Tone } {
  switch (link.mode) {
    case 'online':
      return { label: link.queue_depth > 0 ? `Online — sending ${queued(link.queue_depth)}` : 'Online', tone: 'good' };
    case 'relay':
      return { label: `Relaying via ${link.relay_via?.name ?? 'a nearby booth'} — ${queued(link.queue_depth)}`, tone: 'warn' };
    case 'offline':
      return { label: `Offline — ${queued(link.queue_depth)}`, tone: 'bad' };
    default:
      return { label: 'Selling locally', tone: 'good' };
  }
}

/** "40 s", "12 min", "3 h 20 min", "2 days". */
export function span(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 2 * 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s > 60 * 86_400) return 'over two months';
  return `${Math.floor(s / 86_400)} days`;
}

// The document types a limit's name as a string; one the screen does not know shows as sent.
const RUNWAY_NAMES: Record<string, string> = {
  per_order: 'Each order',
  exposure: 'Money not yet delivered',
  queue_age: 'Oldest waiting order',
  prices: 'Price list',
  disk: 'Disk',
};

/** The offline runway: the headline and one line per limit. */
export function runway(link: Link): { headline: string; lines: { name: string; detail: string; left: string | null; tone: Tone }[] } {
  const r = link.runway;
  const headline = r.seconds == null || r.binding == null
    ? 'No limit in sight at the current pace.'
    : `About ${span(r.seconds)} of selling before a limit (${(RUNWAY_NAMES[r.binding] ?? r.binding).toLowerCase()}).`;
  const lines = r.limits.map((l) => ({
    name: RUNWAY_NAMES[l.limit] ?? l.limit,
    detail: l.detail,
    left: l.seconds == null ? null : span(l.seconds),
    tone: (l.reached ? 'bad' : l.seconds != null && l.seconds < 3600 ? 'warn' : 'quiet') as Tone,
  }));
  return { headline, lines };
}

const CLIENTS: Record<string, string> = { app: 'the booth screen', dashboard: 'a browser', api: 'another program' };

/** An audit entry in one line: "Failover: automatic → offline, from a browser". */
export function auditLine(e: AuditEntry): { text: string; ok: boolean } {
  const change = e.before && e.after ? `: ${e.before} → ${e.after}` : e.after ? `: ${e.after}` : '';
  const from = (CLIENTS[e.client] ?? e.client) + (e.client === 'app' && e.desktop_user ? ` (${e.desktop_user})` : '');
  const runbook = e.why.startsWith('runbook ') ? e.why.slice('runbook '.length) : null;
  const who = e.actor === 'teardown'
    ? 'during teardown'
    : runbook === null
    ? e.why === 'manual' ? `by hand from ${from}` : `by ${e.actor} (${e.why})`
    : e.actor === 'runbook' ? `by the ${runbook} runbook (its trigger fired)` : `by the ${runbook} runbook, run by hand from ${from}`;
  const action = e.action.charAt(0).toUpperCase() + e.action.slice(1);
  return { text: `${action}${change}, ${who}${e.result === 'ok' ? '' : ` — refused: ${e.result}`}`, ok: e.result === 'ok' };
}

/** A degrade level's name as a label: "normal" → "Normal". */
export function levelName(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1).replace(/[-_]/g, ' ');
}

/** A failover path (`auto`, `regional`, `offline`, `peer:<id>`) in words. */
export function pathName(path: string, candidates: RelayPeer[] = []): string {
  if (path.startsWith('peer:')) {
    const id = path.slice('peer:'.length);
    return wayName({ route: 'peer', peer: id }, candidates);
  }
  return wayName({ route: path === 'offline' ? 'offline_only' : path === 'regional' ? 'regional' : 'auto' }, candidates);
}

/** When a runbook runs, in words. */
export function runbookWhen(r: RunbookView): string {
  if (!r.automatic) return 'Runs only when staff run it.';
  const now = r.condition ? ' The condition holds now.' : '';
  return `Runs by itself when ${r.trigger.replace(/^p99 over/, 'the slowest kiosk answers (p99) take over')}.${now}`;
}

/** The way upstream the operator chose, in words. */
export function wayName(route: Route, candidates: RelayPeer[]): string {
  switch (route.route) {
    case 'auto':
      return 'Automatic';
    case 'regional':
      return 'Regional hub only';
    case 'offline_only':
      return 'Offline only';
    case 'peer':
      return `Via ${candidates.find((c) => c.id === route.peer)?.name ?? 'a chosen booth'}`;
  }
}

export function uplink(link: Snapshot['link']): string {
  switch (link.uplink) {
    case 'up':
      return 'Uplink working';
    case 'down':
      return 'Uplink down';
    default:
      return 'Uplink not checked';
  }
}

/** The price engine's tile: what is loaded, and any refused manifest edit in plain words. */
export function priceEngine(m: Snapshot['manifest']): { headline: string; detail: string; problem: string | null } {
  const headline = `${m.items} items · ${m.promotions} offers`;
  const detail = `Price list v${m.version}, from ${m.source}`;
  if (!m.last_failure) return { headline, detail, problem: null };
  const problems = m.last_failure.problems;
  const first = problems[0];
  const where = first?.line ? ` (line ${first.line}${first.column ? `, column ${first.column}` : ''})` : '';
  const what = first?.message ?? 'the file could not be read';
  const more = problems.length > 1 ? `, and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}` : '';
  return {
    headline,
    detail,
    problem: `The last change to the price list was not applied${where}: ${what}${more}. The booth keeps selling with the previous prices — fix the file and save it again.`,
  };
}

/** An order id short enough to read out loud: the last 6 characters. */
export function shortId(id: string): string {
  return id.replace(/-/g, '').slice(-6).toUpperCase();
}

/** A share 0–1 as a percent to one decimal, floored so 99.96% never shows as a perfect 100%. */
export function percent(share: number | null | undefined): string {
  if (share == null) return '—';
  const p = Math.floor(share * 1000 + 1e-9) / 10;
  return `${decimal(p, Number.isInteger(p) ? 0 : 1)}%`;
}

/** Bytes in the units people know: "950 B", "12.4 MB", "1.2 GB" (decimal, like file managers). */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v < 10 ? decimal(v) : count(Math.round(v))} ${units[i]}`;
}

/** "45 ms", "1.4 s", "12 s", "2 min 5 s". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${decimal(ms / 1000)} s`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The cache tile in words: the headline and what it covers, the event's line, the
 * warm-up (a bar while it runs, its time after), any outage note, and a tone. */
export function cacheTile(c: CacheSummary): {
  headline: string;
  caption: string;
  event: string | null;
  ready: string | null;
  warm: { label: string; share: number } | null;
  stale: string | null;
  tone: '' | 'warn' | 'bad';
} {
  const w = c.warm_up;
  const warm = w.running
    ? { label: `Getting the storefront ready: ${w.done + w.failed} of ${w.total} files (${bytes(w.bytes)})`, share: w.total > 0 ? (w.done + w.failed) / w.total : 0 }
    : null;
  const busy = c.requests_last_minute > 0;
  const headline = busy ? percent(c.hit_ratio_now) : c.requests > 0 ? percent(c.hit_ratio_event) : '—';
  const caption = busy ? 'of files served from this laptop, last minute' : c.requests > 0 ? 'of files served from this laptop (none asked this minute)' : 'No kiosk has asked for a file yet';
  const event = c.requests > 0 ? `This event: ${percent(c.hit_ratio_event)} · ${bytes(c.bytes_from_origin)} downloaded` : null;
  const ready = !w.running && w.total > 0 && w.duration_ms != null ? `Storefront ready: ${w.done} files in ${duration(w.duration_ms)}` : null;
  let stale: string | null = null;
  let tone: '' | 'warn' | 'bad' = '';
  if (c.origin_errors_last_minute > 0 && c.stale_last_minute > 0) {
    stale = `The storefront's server does not answer: kiosks get saved copies (${percent(c.stale_last_minute / c.requests_last_minute)} of files right now).`;
    tone = 'warn';
  } else if (c.origin_errors_last_minute > 0) {
    stale = "The storefront's server does not answer and some files were never saved here: kiosks may miss pictures.";
    tone = 'bad';
  } else if (c.stale_share != null && c.stale_share > 0) {
    stale = `${percent(c.stale_share)} of files this event were saved copies served while refreshing.`;
  }
  if (!w.running && w.failed > 0) {
    stale = `${stale ? stale + ' ' : ''}${w.failed} file${w.failed === 1 ? '' : 's'} could not be fetched at warm-up.`;
    if (tone === '') tone = 'warn';
  }
  return { headline, caption, event, ready, warm, stale, tone };
}

/** A route template in words staff know. */
export function routeName(method: string, route: string): string {
  const known: Record<string, string> = {
    'POST /api/v1/orders': 'Placing orders',
    'GET /api/v1/orders/{order_id}': 'Order look-ups',
    'POST /api/v1/quotes': 'Pricing baskets',
    'GET /api/v1/catalogue': 'Catalogue',
    'GET /assets/{*path}': 'Storefront files',
    'GET /api/v1/status': 'Kiosk status checks',
    'GET /healthz': 'Health checks',
  };
  return known[`${method} ${route}`] ?? `${method} ${route}`;
}

/** Microseconds as a short time: "0.4 ms", "12 ms", "1.2 s". */
export function micros(us: number): string {
  if (us < 10_000) return `${decimal(us / 1000)} ms`;
  if (us < 1_000_000) return `${Math.round(us / 1000)} ms`;
  return `${decimal(us / 1_000_000)} s`;
}

/** Whether a route's last minute passed a target. */
export function overTarget(r: RouteFigures, l: LatencySummary): boolean {
  const f = r.last_minute;
  return f.requests > 0 && (f.p95_us > l.p95_target_ms * 1000 || f.p99_us > l.p99_target_ms * 1000);
}

/** The speed tile: the busiest customer routes of the last minute, coloured when slow. */
export function latencyTile(l: LatencySummary): {
  headline: string;
  caption: string;
  rows: { name: string; figures: string; slow: boolean }[];
  tone: '' | 'warn' | 'bad';
} {
  const busy = l.routes.filter((r) => r.last_minute.requests > 0);
  if (busy.length === 0) {
    return { headline: '—', caption: 'No kiosk or phone has asked anything this minute', rows: [], tone: '' };
  }
  const top = busy[0];
  const rows = busy.slice(0, 3).map((r) => ({
    name: routeName(r.method, r.route),
    figures: `${micros(r.last_minute.p95_us)} / ${micros(r.last_minute.p99_us)}`,
    slow: overTarget(r, l),
  }));
  const slow = busy.filter((r) => overTarget(r, l));
  const errors = busy.reduce((n, r) => n + r.last_minute.errors, 0);
  const tone = errors > 0 ? 'bad' : slow.length > 0 ? 'warn' : '';
  const caption = errors > 0
    ? `${errors} request${errors === 1 ? '' : 's'} failed this minute`
    : slow.length > 0
      ? `Slower than the target (${l.p95_target_ms} ms / ${l.p99_target_ms} ms): ${slow.map((r) => routeName(r.method, r.route)).join(', ')}`
      : `p95 / p99 of ${routeName(top.method, top.route).toLowerCase()}, last minute`;
  const { p95_us, p99_us } = top.last_minute;
  const headline = p99_us < 1_000_000 ? `${micros(p95_us).replace(' ms', '')} / ${micros(p99_us)}` : `${micros(p95_us)} / ${micros(p99_us)}`;
  return { headline, caption, rows, tone };
}

const STATE_TONE: Record<SpendLine['state'], '' | 'warn' | 'bad'> = { unbudgeted: '', ok: '', warn: 'warn', over: 'bad' };

/** The spend tile: spent against the total budget as a gauge, and where it is heading. */
export function spendTile(s: Spend, timeZone: string): {
  headline: string;
  caption: string;
  gauge: { share: number; label: string } | null;
  projection: string;
  alert: string | null;
  tone: '' | 'warn' | 'bad';
} {
  const t = s.total;
  const m = (minor: number) => money(minor, s.currency);
  const caption = t.budget != null ? `of ${m(t.budget)} budget (${Math.round(t.percent_of_budget ?? 0)}%)` : 'spent so far (no total budget set)';
  const gauge = t.budget != null && t.budget > 0
    ? { share: Math.min(1, t.spent_micro / (t.budget * 1_000_000)), label: `${Math.round(t.percent_of_budget ?? 0)}% of the budget spent` }
    : null;
  const projection = t.projected == null
    ? 'Projection after a minute of figures'
    : `At this rate: ${m(t.projected)} by ${dayAndTime(s.ends_at, timeZone)} (${m(t.burn_per_hour ?? 0)} an hour)`;
  const alert = s.state === 'warn' || s.state === 'over' ? s.detail : null;
  return { headline: m(t.spent), caption, gauge, projection, alert, tone: STATE_TONE[s.state] };
}

/** Money in a table cell; "—" when absent. */
export function moneyOrDash(minor: number | null | undefined, currency: string): string {
  return minor == null ? '—' : money(minor, currency);
}

/** A spend line's state in words. */
export function budgetState(state: SpendLine['state']): string {
  return { unbudgeted: 'No budget', ok: 'Within budget', warn: 'Watch', over: 'Over budget' }[state];
}

/** A component's usage in words: "12,345 requests", "1.2 GB", "3.5 min", "42 calls". */
export function usage(c: Spend['components'][number]): string {
  switch (c.component) {
    case 'egress':
      return bytes(c.usage);
    case 'transcode':
      return `${decimal(c.usage / 60_000)} min`;
    case 'edge':
      return `${count(c.usage)} requests`;
    default:
      return `${count(c.usage)} calls`;
  }
}

/** The transcodes tile: minutes of media this event, running now and the peak. */
export function transcodeTile(s: Spend, m: MediaSummary): { headline: string; caption: string; running: string; tone: Tone } {
  const c = s.components.find((x) => x.component === 'transcode');
  const t = m.transcodes;
  const today = t.media_minutes_today;
  const event = (c?.usage ?? 0) / 60_000;
  const caption = !t.ffmpeg_ok
    ? 'Transcoding is unavailable: ffmpeg is missing'
    : event > 0
      ? `of video today · ${decimal(event)} min this event · ${money(c?.spent ?? 0, s.currency)}`
      : 'No video transcoded yet this event';
  const waiting = t.queued > 0 ? ` · ${t.queued} waiting` : '';
  return {
    headline: `${decimal(today)} min`,
    caption,
    running: `${t.running} running now${waiting} · at most ${t.peak} at once${t.degraded ? ' · reduced quality' : ''}`,
    tone: !t.ffmpeg_ok ? 'bad' : t.budget_held || t.degraded ? 'warn' : 'quiet',
  };
}

/** An upload's state and progress, in words. */
export function uploadState(u: Upload): { label: string; tone: Tone; share: number } {
  const share = u.length === 0 ? 1 : u.received / u.length;
  switch (u.state) {
    case 'receiving':
      return { label: `Arriving · ${Math.floor(share * 100)}%`, tone: 'warn', share };
    case 'done':
      return { label: 'Uploaded', tone: 'good', share: 1 };
    case 'expired':
      return { label: 'Abandoned (expired)', tone: 'quiet', share };
    default:
      return { label: 'Deleted', tone: 'quiet', share };
  }
}

/** A transcode job's state in words: what it makes and where it stands. */
export function jobState(j: Job): { label: string; tone: Tone } {
  switch (j.state) {
    case 'queued':
      return { label: j.reason ? 'Held' : 'Waiting', tone: j.reason ? 'warn' : 'quiet' };
    case 'running':
      return { label: `Working · ${Math.floor(j.progress * 100)}%`, tone: 'warn' };
    case 'done':
      return { label: 'Ready', tone: 'good' };
    case 'cancelled':
      return { label: 'Cancelled', tone: 'quiet' };
    case 'timed_out':
      return { label: 'Took too long', tone: 'bad' };
    case 'stopped':
      return { label: 'Stopped (budget)', tone: 'bad' };
    default:
      return { label: 'Failed', tone: 'bad' };
  }
}

/** A point in a video, to the tenth of a second: "0:05", "1:02", "0:01.5", "1:00:05". */
export function clipTime(ms: number, locale = LOCALE): string {
  const tenths = Math.round(Math.max(0, ms) / 100);
  const whole = Math.floor(tenths / 10);
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  const mark = numberFormat(locale, {}).formatToParts(1.5).find((p) => p.type === 'decimal')?.value ?? '.';
  const ss = String(s).padStart(2, '0') + (tenths % 10 ? `${mark}${tenths % 10}` : '');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The part of a video a clip covers: "0:01.5–1:02", "0:02–end", "start–0:10". */
export function clipSpan(startMs: number | null | undefined, endMs: number | null | undefined): string {
  return `${startMs == null ? 'start' : clipTime(startMs)}–${endMs == null ? 'end' : clipTime(endMs)}`;
}

/** What a job makes: "480p, 0:01–0:03" or "poster". */
export function jobWhat(j: Job): string {
  const preset = j.ran_preset && j.ran_preset !== j.preset ? `${j.ran_preset} (asked ${j.preset})` : j.preset;
  if (j.start_ms == null && j.end_ms == null) return preset;
  return `${preset}, ${clipSpan(j.start_ms ?? 0, j.end_ms)}`;
}

/** What a device is, in words. */
export function deviceKind(kind: DeviceKind): string {
  return { booth: 'Booth', printer: 'Printer', web_device: 'Web device', other: 'Other device' }[kind];
}

/** A round trip: "0.4 ms", "12 ms", "No answer". */
export function roundTrip(ms: number | null | undefined): string {
  if (ms == null) return 'No answer';
  return ms < 10 ? `${decimal(ms)} ms` : `${count(Math.round(ms))} ms`;
}

/** Whether a booth on the network is paired with this one, in words and a tone. */
export function pairing(d: Device): { label: string; tone: Tone } {
  if (d.kind !== 'booth') return { label: '—', tone: 'quiet' };
  return d.paired ? { label: 'Paired', tone: 'good' } : { label: 'Not paired', tone: 'warn' };
}

/** A booth of the fleet at a glance: its health in words and a tone. */
export function boothHealth(b: Booth): { label: string; tone: Tone } {
  if (!b.paired) return { label: 'Not paired', tone: 'warn' };
  if (!b.reachable) return { label: 'Not answering', tone: 'bad' };
  const s = b.status;
  if (s && (s.spend_state === 'over' || s.quarantined > 0)) return { label: 'Needs attention', tone: 'bad' };
  if (s && (s.printers_attention ?? 0) > 0) return { label: s.printers_attention === 1 ? 'A printer needs attention' : 'Printers need attention', tone: 'warn' };
  if (s && s.spend_state === 'warn') return { label: 'Watch spend', tone: 'warn' };
  if (s && s.mode === 'offline') return { label: 'Offline, still selling', tone: 'warn' };
  return { label: 'Selling', tone: 'good' };
}

/** Where teardown stands, in one sentence for the operator. */
export function teardownSummary(t: TeardownView): { text: string; tone: 'good' | 'warn' | 'bad' } {
  const stopped = t.steps.find((s) => s.state === 'blocked' || s.state === 'failed');
  switch (t.state) {
    case 'not_started':
      return { text: 'The booth is open.', tone: 'good' };
    case 'running': {
      const now = t.steps.find((s) => s.state === 'running') ?? t.steps.find((s) => s.state === 'pending');
      return { text: `Tearing down: ${now ? now.title.toLowerCase() : 'finishing'}…`, tone: 'warn' };
    }
    case 'blocked':
      return { text: `Teardown is waiting for you: ${stopped?.detail ?? 'see the steps below'}`, tone: 'bad' };
    case 'failed':
      return { text: `A teardown step went wrong: ${stopped?.detail ?? 'see the steps below'}. Fix it and continue.`, tone: 'bad' };
    case 'interrupted':
      return { text: 'Teardown was interrupted (the laptop stopped). The booth stays closed; continue to finish it.', tone: 'bad' };
    case 'finished':
      return { text: `Teardown finished. The report is in ${t.report_dir}.`, tone: 'good' };
    default:
      // The document types the state as a string: a state this screen does not know, as sent.
      return { text: `Teardown: ${t.state}.`, tone: 'warn' };
  }
}

/** A teardown step's state in words. */
export function stepState(state: TeardownStepView['state']): string {
  const words: Record<string, string> = { pending: 'Waiting', running: 'Working…', done: 'Done', blocked: 'Needs you', failed: 'Went wrong' };
  return words[state] ?? state;
}

/** A sentence from the node's words: "the booth is not closed" → "The booth is not closed." */
export function sentence(words: string): string {
  const t = words.trim();
  if (!t) return t;
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

// Time the booth can trust. The booth keeps its own time (what every rule reads) apart
// from the laptop's wall clock, which may jump; the screen says both, in the event's time
// zone, and spans the way the node does ("3 min 00 s").

/** A span to the second, the node's way: "45 s", "3 min 05 s", "1 h 00 min", "2 days 4 h" (sign ignored). */
export function spanWords(ms: number): string {
  const s = Math.floor((Math.abs(ms) + 500) / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  if (s >= 2 * 86_400) return `${Math.floor(s / 86_400)} days ${Math.floor((s % 86_400) / 3600)} h`;
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${two(Math.floor((s % 3600) / 60))} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${two(s % 60)} s`;
  return `${s} s`;
}

/** The calendar day of `at` in `timeZone`, for comparing two readings. */
function dayIn(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/**
 * A clock's reading in the event's time zone: "18:05:09" — with the date when it is not
 * the day of `reference` (a laptop whose clock went back to another day):
 * "Thu, 3 Dec 2026, 18:05:09".
 */
export function clockReading(at: Date, timeZone: string, reference: Date = at, locale = LOCALE): string {
  if (dayIn(at, timeZone) === dayIn(reference, timeZone)) return clock(at, timeZone, locale);
  return new Intl.DateTimeFormat(locale, {
    timeZone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).format(at);
}

/** Where the laptop's clock stands against the booth's time (`laptop_off_by_ms`: laptop − booth). */
export function laptopOffset(offByMs: number): string {
  if (Math.abs(offByMs) < 1000) return "The laptop's clock and the booth's time agree.";
  return `The laptop's clock is ${spanWords(offByMs)} ${offByMs < 0 ? 'behind' : 'ahead of'} the booth's time.`;
}

/**
 * A clock the node read `elapsedMs` ago (measured on the browser's monotonic clock, which
 * no step of the wall clock moves), read now.
 */
export function clockNow(iso: string, elapsedMs: number): Date {
  return new Date(Date.parse(iso) + Math.max(0, elapsedMs));
}

/** What the lead's choice did, from the node's answer. */
export function timeSettled(v: ClockView, trust: Trust, timeZone: string): { tone: 'good' | 'warn'; text: string } {
  const booth = clockReading(new Date(v.booth_time), timeZone);
  if (v.in_doubt) return { tone: 'warn', text: `The booth is still not sure of the time. ${v.notice ?? ''}`.trim() };
  if (trust === 'laptop') return { tone: 'good', text: `Done: the booth now follows the laptop's clock (${booth}).` };
  return { tone: 'good', text: `Done: the booth keeps its own time (${booth}). ${laptopOffset(v.laptop_off_by_ms)} Set the laptop's clock right when you can.` };
}

/** Seconds an automatic teardown has left, `elapsedMs` after the node said `secondsLeft`. */
export function secondsLeft(secondsLeft: number, elapsedMs: number): number {
  return Math.max(0, secondsLeft - Math.floor(Math.max(0, elapsedMs) / 1000));
}

/** The countdown in words: why, and when the booth closes. */
export function countdownWhy(c: CountdownView, timeZone: string): string {
  return `The booth has reached ${c.why}. At ${clock(new Date(c.closes_at), timeZone)} it stops taking orders and teardown begins, unless you keep it open.`;
}

/** What the automatic teardown will (not) do, one line each, for the Teardown screen. */
export function automaticTeardown(t: TeardownView, timeZone: string): { key: string; text: string; tone: Tone }[] {
  const lines: { key: string; text: string; tone: Tone }[] = [];
  if (t.waiting_for_time) {
    lines.push({
      key: 'waiting-for-time',
      text: 'The booth is not sure of the time, so it will not close by itself until you confirm the time (the notice at the top of the screen).',
      tone: 'warn',
    });
  }
  if (t.stood_down) {
    lines.push({ key: 'stood-down', text: 'The end time will not close this booth again; start teardown by hand when you are done.', tone: 'quiet' });
  } else if (t.automatic_at && t.state === 'not_started' && !t.countdown) {
    lines.push({
      key: 'automatic-at',
      text: `The booth closes by itself at ${dayAndTime(t.automatic_at, timeZone)}, after a countdown you can cancel.`,
      tone: 'quiet',
    });
  }
  return lines;
}

/** How many minor units a currency has per major unit's decimals: EUR 2, JPY 0. */
export function minorDigits(currency: string): number {
  return numberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/**
 * An amount typed by a person ("20", "20.5", "20,50", "€ 20") as minor units of
 * `currency`, or null when it is not one. A comma or a point is the decimal mark
 * (grouping marks are not accepted: "1.000" would be ambiguous).
 */
export function parseMoney(text: string, currency: string): number | null {
  const cleaned = text.replace(/[^\d.,-]/g, '');
  if (!/^\d+([.,]\d*)?$/.test(cleaned)) return null;
  const [whole, fraction = ''] = cleaned.split(/[.,]/);
  const digits = minorDigits(currency);
  if (fraction.length > digits) return null;
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
}
