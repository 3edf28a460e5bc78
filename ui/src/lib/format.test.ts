import { describe, expect, it, vi } from 'vitest';

// The screen's locale is read from the browser when format.ts loads: these tests pin it
// to British English, and pass other locales explicitly where that is the point.
vi.hoisted(() => vi.stubGlobal('navigator', { languages: ['en-GB', 'en'], language: 'en-GB' }));

import { ago, boothHealth, bytes, cacheTile, deviceKind, pairing, roundTrip, clipSpan, clipTime, clock, count, dayAndTime, decimal, duration, LOCALE, browserLocale, timeOfDay, latencyTile, linkMode, micros, money, percent, priceEngine, routeName, auditLine, levelName, pathName, runbookWhen, runway, shortId, span, wayName, spendTile, transcodeTile, jobState, jobWhat, uploadState, stepState, teardownSummary, floodNotice, serviceKind, sentence, spanWords, clockReading, laptopOffset, clockNow, timeSettled, secondsLeft, countdownWhy, automaticTeardown } from './format';
import type { Booth, CacheSummary, ClockView, Device, LatencyFigures, Job, LatencySummary, Link, MediaSummary, RouteFigures, Spend, SpendComponent, SpendLine, TeardownView, Upload } from '../api';

describe('browserLocale', () => {
  it('takes the browser’s first language', () => {
    expect(browserLocale({ languages: ['de-DE', 'en'], language: 'de-DE' })).toBe('de-DE');
    expect(browserLocale({ languages: ['fr-CA'] })).toBe('fr-CA');
    expect(browserLocale({ languages: [], language: 'nl' })).toBe('nl');
    expect(LOCALE).toBe('en-GB');
  });
  it('falls back to English when the browser names none it can format in', () => {
    expect(browserLocale({})).toBe('en');
    expect(browserLocale({ languages: [], language: '' })).toBe('en');
    expect(browserLocale({ languages: ['not a language!'] })).toBe('en');
    expect(browserLocale({ languages: ['not a language!'], language: 'it-IT' })).toBe('it-IT');
  });
});

describe('money', () => {
  it('uses the currency’s own decimals, never floats in the input', () => {
    expect(money(1250, 'EUR')).toBe('€12.50');
    expect(money(5, 'EUR')).toBe('€0.05');
    expect(money(1250, 'JPY')).toBe('JP¥1,250');
    expect(money(123456, 'GBP')).toBe('£1,234.56');
  });
  it('writes it the browser’s way, always in the manifest’s currency', () => {
    expect(money(123456, 'EUR', 'de-DE')).toBe('1.234,56\u00a0€');
    expect(money(1250, 'USD', 'de-DE')).toBe('12,50\u00a0$');
    expect(money(1250, 'EUR', 'en-US')).toBe('€12.50');
  });
});

describe('numbers', () => {
  it('follow the locale’s decimal mark and grouping', () => {
    expect(decimal(12.44)).toBe('12.4');
    expect(decimal(12.44, 1, 'de-DE')).toBe('12,4');
    expect(count(3214)).toBe('3,214');
    expect(count(3214, 'de-DE')).toBe('3.214');
    expect(percent(0.995)).toBe('99.5%');
  });
});

describe('clock', () => {
  it('shows the event’s time zone, not the laptop’s', () => {
    const at = new Date('2026-06-10T14:30:05Z');
    expect(clock(at, 'Europe/Berlin')).toBe('16:30:05');
    expect(clock(at, 'America/New_York')).toBe('10:30:05');
  });
  it('stays on the 24-hour clock in every language, midnight included', () => {
    expect(clock(new Date('2026-06-10T14:30:05Z'), 'Europe/Berlin', 'en-US')).toBe('16:30:05');
    expect(clock(new Date('2026-06-10T22:00:05Z'), 'Europe/Berlin', 'en-US')).toBe('00:00:05');
    expect(timeOfDay(new Date('2026-06-10T14:30:05Z'), 'Europe/Berlin', 'de-DE')).toBe('16:30');
  });
});

describe('ago', () => {
  const now = new Date('2026-06-10T12:00:00Z');
  it('reads naturally', () => {
    expect(ago(new Date('2026-06-10T11:59:58Z'), now)).toBe('just now');
    expect(ago(new Date('2026-06-10T11:59:48Z'), now)).toBe('12 s ago');
    expect(ago(new Date('2026-06-10T11:56:00Z'), now)).toBe('4 min ago');
    expect(ago(new Date('2026-06-10T09:00:00Z'), now)).toBe('3 h ago');
  });
});

const link = (over: Partial<Link>): Link => ({
  mode: 'online', uplink: 'up', detail: '', since: '2026-06-10T12:00:00Z', seconds_in_mode: 0, route: { route: 'auto' }, relay_via: null,
  relay_candidates: [], hub: null, booth: null, probe_rtt_ms: null, last_heartbeat: null, last_probe_error: null, mode_changes: 0,
  queue_depth: 0, quarantined: 0, oldest_unsynced: null, oldest_unsynced_seconds: null, last_sync: null, last_sync_error: null, delivered: 0,
  runway: { seconds: null, binding: null, limits: [] }, approvals: [], ...over,
});

describe('linkMode', () => {
  it('never shows a code, and says how many orders wait', () => {
    expect(linkMode(link({ mode: 'offline', uplink: 'down', queue_depth: 37 }))).toEqual({ label: 'Offline — 37 orders queued', tone: 'bad' });
    expect(linkMode(link({ mode: 'offline', queue_depth: 1 })).label).toBe('Offline — 1 order queued');
    expect(linkMode(link({ mode: 'relay', relay_via: { id: 'b', name: 'Stand 15' }, queue_depth: 2 })).label).toBe('Relaying via Stand 15 — 2 orders queued');
    expect(linkMode(link({ mode: 'online' }))).toEqual({ label: 'Online', tone: 'good' });
    expect(linkMode(link({ mode: 'local', uplink: 'not_checked' })).label).toBe('Selling locally');
  });
});

describe('runway and ways', () => {
  it('names the first limit and says how long is left', () => {
    const r = runway(link({
      runway: {
        seconds: 6000,
        binding: 'exposure',
        limits: [
          { limit: 'exposure', detail: '600.00 EUR of 1000.00 EUR', seconds: 6000, left: 40000, reached: false },
          { limit: 'per_order', detail: 'Each order up to 150.00 EUR', seconds: null, left: null, reached: false },
          { limit: 'disk', detail: 'Room', seconds: 0, left: 0, reached: true },
        ],
      },
    }));
    expect(r.headline).toBe('About 1 h 40 min of selling before a limit (money not yet delivered).');
    expect(r.lines.map((l) => [l.name, l.left, l.tone])).toEqual([
      ['Money not yet delivered', '1 h 40 min', 'quiet'],
      ['Each order', null, 'quiet'],
      ['Disk', '0 s', 'bad'],
    ]);
    expect(runway(link({})).headline).toBe('No limit in sight at the current pace.');
  });

  it('writes an audit entry in one line, refusals included', () => {
    const e = { id: 1, at: '2026-06-10T12:00:00Z', actor: 'operator', client: 'dashboard', action: 'failover', before: 'auto', after: 'offline', why: 'manual', result: 'ok' };
    expect(auditLine(e)).toEqual({ text: 'Failover: auto → offline, by hand from a browser', ok: true });
    expect(auditLine({ ...e, client: 'app', after: 'peer:x', result: 'no booth x is paired' }).text)
      .toBe('Failover: auto → peer:x, by hand from the booth screen — refused: no booth x is paired');
  });

  it('names the runbook that acted, and whether staff or its trigger ran it', () => {
    const e = { id: 2, at: '2026-06-10T07:00:00Z', actor: 'runbook', client: 'node', action: 'degrade', before: 'normal', after: 'reduced', why: 'runbook rush-hour', result: 'ok' };
    expect(auditLine(e).text).toBe('Degrade: normal → reduced, by the rush-hour runbook (its trigger fired)');
    expect(auditLine({ ...e, actor: 'operator', client: 'app' }).text).toBe('Degrade: normal → reduced, by the rush-hour runbook, run by hand from the booth screen');
  });

  it('puts levels, failover paths and triggers in words', () => {
    expect(levelName('essential')).toBe('Essential');
    expect(pathName('offline')).toBe('Offline only');
    expect(pathName('auto')).toBe('Automatic');
    expect(pathName('peer:b', [{ id: 'b', name: 'Stand 15' }])).toBe('Via Stand 15');
    const r = { name: 'slow', title: 'Slow', trigger: 'p99 over 1s for 1m', automatic: true, condition: false, steps: [], last_run: null };
    expect(runbookWhen(r)).toBe('Runs by itself when the slowest kiosk answers (p99) take over 1s for 1m.');
    expect(runbookWhen({ ...r, condition: true })).toContain('The condition holds now.');
    expect(runbookWhen({ ...r, automatic: false, trigger: 'manual' })).toBe('Runs only when staff run it.');
  });

  it('says the chosen way in words', () => {
    expect(wayName({ route: 'peer', peer: 'b' }, [{ id: 'b', name: 'Stand 15' }])).toBe('Via Stand 15');
    expect(wayName({ route: 'offline_only' }, [])).toBe('Offline only');
    expect(span(45)).toBe('45 s');
    expect(span(3 * 86_400)).toBe('3 days');
  });
});

describe('priceEngine', () => {
  const base = { source: 'booth.toml', version: 3, loaded_at: '2026-06-10T12:00:00Z', items: 20, promotions: 7, last_failure: null };
  it('summarises a healthy price list', () => {
    expect(priceEngine(base)).toEqual({ headline: '20 items · 7 offers', detail: 'Price list v3, from booth.toml', problem: null });
  });
  it('explains a refused edit with where and what to do', () => {
    const failed = { ...base, last_failure: { at: '2026-06-10T12:01:00Z', problems: [{ line: 12, column: 9, message: 'price must be a whole number of cents' }, { line: 14, column: 1, message: 'x' }] } };
    const p = priceEngine(failed).problem!;
    expect(p).toContain('line 12, column 9');
    expect(p).toContain('price must be a whole number of cents, and 1 more problem.');
    expect(p).toContain('keeps selling with the previous prices');
  });
});

describe('shortId', () => {
  it('keeps the distinctive tail of a UUIDv7', () => {
    expect(shortId('01935f3c-7a2b-7c3d-8e4f-0123456789ab')).toBe('6789AB');
  });
});

describe('cache figures', () => {
  const base: CacheSummary = {
    hit_ratio_now: null,
    hit_ratio_event: null,
    stale_share: null,
    requests_last_minute: 0,
    stale_last_minute: 0,
    origin_errors_last_minute: 0,
    requests: 0,
    bytes_from_origin: 0,
    storage: { objects: 0, memory_bytes: 0, memory_limit: 1, disk_bytes: 0, disk_limit: 1 },
    warm_up: { running: false, total: 0, done: 0, failed: 0, bytes: 0, duration_ms: null, problems: [] },
  };

  it('never rounds a near miss up to a perfect score', () => {
    expect(percent(0.9996)).toBe('99.9%');
    expect(percent(1)).toBe('100%');
    expect(percent(0.97)).toBe('97%');
    expect(percent(0.5)).toBe('50%');
    expect(percent(null)).toBe('—');
  });

  it('says sizes and times in everyday units', () => {
    expect(bytes(950)).toBe('950 B');
    expect(bytes(12_400_000)).toBe('12 MB');
    expect(bytes(1_240_000)).toBe('1.2 MB');
    expect(duration(45)).toBe('45 ms');
    expect(duration(1440)).toBe('1.4 s');
    expect(duration(125_000)).toBe('2 min 5 s');
  });

  it('shows the last minute first, and the event when the minute was quiet', () => {
    const busy = cacheTile({ ...base, requests_last_minute: 200, hit_ratio_now: 0.985, requests: 1000, hit_ratio_event: 0.9, bytes_from_origin: 3_000_000 });
    expect(busy.headline).toBe('98.5%');
    expect(busy.caption).toBe('of files served from this laptop, last minute');
    expect(busy.event).toBe('This event: 90% · 3.0 MB downloaded');
    expect(busy.tone).toBe('');
    const quiet = cacheTile({ ...base, requests: 10, hit_ratio_event: 0.8 });
    expect(quiet.headline).toBe('80%');
    expect(quiet.caption).toContain('none asked this minute');
    expect(cacheTile(base).headline).toBe('—');
  });

  it('makes an origin outage visible: stale copies warn, missing files are bad', () => {
    const outage = cacheTile({ ...base, requests_last_minute: 50, stale_last_minute: 40, origin_errors_last_minute: 3, hit_ratio_now: 0.9, requests: 50 });
    expect(outage.tone).toBe('warn');
    expect(outage.stale).toContain('saved copies (80% of files right now)');
    const lost = cacheTile({ ...base, requests_last_minute: 5, origin_errors_last_minute: 5, hit_ratio_now: 0, requests: 5 });
    expect(lost.tone).toBe('bad');
  });

  it('shows warm-up progress while it runs, and how long it took after', () => {
    const running = cacheTile({ ...base, warm_up: { ...base.warm_up, running: true, total: 40, done: 9, failed: 1, bytes: 2_500_000 } });
    expect(running.warm).toEqual({ label: 'Getting the storefront ready: 10 of 40 files (2.5 MB)', share: 0.25 });
    const done = cacheTile({ ...base, warm_up: { ...base.warm_up, total: 40, done: 38, failed: 2, duration_ms: 1400 } });
    expect(done.warm).toBeNull();
    expect(done.ready).toBe('Storefront ready: 38 files in 1.4 s');
    expect(done.stale).toContain('2 files could not be fetched');
    expect(done.tone).toBe('warn');
  });
});

const figures = (requests: number, p95_ms: number, p99_ms: number, errors = 0): LatencyFigures => ({
  requests, errors, p50_us: p95_ms * 500, p95_us: p95_ms * 1000, p99_us: p99_ms * 1000, max_us: p99_ms * 1000, rate_per_s: requests / 60,
});
const route = (method: string, path: string, f: LatencyFigures): RouteFigures => ({ method, route: path, last_minute: f, last_15_minutes: f, event: f });

describe('latencyTile', () => {
  const targets = { p95_target_ms: 250, p99_target_ms: 1000 };
  it('leads with the busiest route in words and stays calm under the targets', () => {
    const l: LatencySummary = { ...targets, routes: [route('GET', '/assets/{*path}', figures(900, 2, 8)), route('POST', '/api/v1/orders', figures(40, 30, 90))] };
    const t = latencyTile(l);
    expect(t.headline).toBe('2.0 / 8.0 ms');
    expect(t.caption).toBe('p95 / p99 of storefront files, last minute');
    expect(t.rows[1]).toEqual({ name: 'Placing orders', figures: '30 ms / 90 ms', slow: false });
    expect(t.tone).toBe('');
  });
  it('colours a route over its target, and failures more', () => {
    const slow: LatencySummary = { ...targets, routes: [route('POST', '/api/v1/quotes', figures(50, 300, 400))] };
    expect(latencyTile(slow).tone).toBe('warn');
    expect(latencyTile(slow).caption).toBe('Slower than the target (250 ms / 1000 ms): Pricing baskets');
    const failing: LatencySummary = { ...targets, routes: [route('POST', '/api/v1/orders', figures(50, 10, 20, 3))] };
    expect(latencyTile(failing)).toMatchObject({ tone: 'bad', caption: '3 requests failed this minute' });
  });
  it('says so when nobody asked anything this minute', () => {
    expect(latencyTile({ ...targets, routes: [route('GET', '/api/v1/catalogue', figures(0, 0, 0))] }).headline).toBe('—');
  });
  it('names routes and times plainly', () => {
    expect(routeName('GET', '/api/v1/weird')).toBe('GET /api/v1/weird');
    expect(micros(412)).toBe('0.4 ms');
    expect(micros(45_000)).toBe('45 ms');
    expect(micros(1_250_000)).toBe('1.3 s');
  });
});

const line = (spent: number, budget: number | null, projected: number | null, state: SpendLine['state']): SpendLine => ({
  spent, spent_micro: spent * 1_000_000, budget, percent_of_budget: budget ? (spent / budget) * 100 : null,
  burn_per_hour: projected === null ? null : 250, projected, state, reason: '',
});
const component = (c: SpendComponent['component'], usage: number, l: SpendLine): SpendComponent => ({
  ...l, component: c, label: c, usage, unit: '', rate: 1, rate_unit: '',
});
const spend = (total: SpendLine, state: Spend['state'] = total.state, detail = ''): Spend => ({
  currency: 'EUR', warn_at_percent: 80, ends_at: '2026-06-13T20:00:00Z', state, detail, total,
  components: [component('edge', 1000, line(2, 3000, null, 'ok')), component('transcode', 90_000, line(2, 6000, null, 'ok'))],
  transcodes_running: 1, transcodes_peak: 3, traffic: [],
});

describe('spendTile', () => {
  it('shows spent against the budget, the gauge and the projection to the end', () => {
    const t = spendTile(spend(line(4500, 15000, 12000, 'ok')), 'Europe/Berlin');
    expect(t.headline).toBe('€45.00');
    expect(t.caption).toBe('of €150.00 budget (30%)');
    expect(t.gauge?.share).toBeCloseTo(0.3);
    expect(t.projection).toBe('At this rate: €120.00 by Sat 13 Jun, 22:00 (€2.50 an hour)');
    expect(t.alert).toBeNull();
    expect(t.tone).toBe('');
  });
  it('warns in words when the budget is in danger, and turns red when it is gone', () => {
    const warn = spendTile(spend(line(4500, 15000, 18000, 'warn'), 'warn', 'Total: At this rate the event ends at 120% of the budget.'), 'UTC');
    expect(warn.tone).toBe('warn');
    expect(warn.alert).toBe('Total: At this rate the event ends at 120% of the budget.');
    expect(spendTile(spend(line(16000, 15000, 20000, 'over'), 'over', 'x'), 'UTC').tone).toBe('bad');
    expect(spendTile(spend(line(16000, 15000, 20000, 'over')), 'UTC').gauge?.share).toBe(1);
  });
  it('waits for a minute of figures before projecting, and copes with no budget', () => {
    const t = spendTile(spend(line(10, null, null, 'unbudgeted')), 'UTC');
    expect(t.projection).toBe('Projection after a minute of figures');
    expect(t.caption).toBe('spent so far (no total budget set)');
    expect(t.gauge).toBeNull();
  });
  it('gives the event end in its own time zone', () => {
    expect(dayAndTime('2026-06-13T20:00:00Z', 'America/New_York')).toBe('Sat 13 Jun, 16:00');
    expect(dayAndTime('2026-06-13T20:00:00Z', 'America/New_York', 'de-DE')).toBe('Sa., 13. Juni, 16:00');
  });
});

describe('transcodeTile', () => {
  const media = (over: Partial<MediaSummary['transcodes']> = {}): MediaSummary => ({
    quota_bytes: 100, used_bytes: 10, max_upload_bytes: 50, open_uploads: 0, presets: [],
    forwarding: { enabled: false, paused: false, pending: 0, pending_bytes: 0, sent: 0, quarantined: 0, oldest_pending: null, last_sent_at: null, last_error: null },
    transcodes: {
      ffmpeg: 'ffmpeg version 5.1', ffmpeg_ok: true, degraded: false, budget_held: false, running: 1, queued: 0, peak: 3, concurrency: 2,
      media_minutes_today: 0.75, wall_minutes_today: 0.5, ...over,
    },
  });
  it('counts minutes today, running and peak', () => {
    expect(transcodeTile(spend(line(0, null, null, 'ok')), media())).toEqual({
      headline: '0.8 min', caption: 'of video today · 1.5 min this event · €0.02', running: '1 running now · at most 3 at once', tone: 'quiet',
    });
  });
  it('says when clips cannot be made, wait, or are reduced', () => {
    expect(transcodeTile(spend(line(0, null, null, 'ok')), media({ ffmpeg_ok: false })).tone).toBe('bad');
    const t = transcodeTile(spend(line(0, null, null, 'ok')), media({ queued: 2, degraded: true }));
    expect(t.running).toBe('1 running now · 2 waiting · at most 3 at once · reduced quality');
    expect(t.tone).toBe('warn');
  });
});

describe('media', () => {
  const job = (over: Partial<Job>): Job => ({
    id: 'j', upload_id: 'u', filename: 'demo.mp4', preset: '720p', ran_preset: null, start_ms: null, end_ms: null, essential: true,
    state: 'queued', reason: null, progress: 0, created_at: '', started_at: null, finished_at: null, media_ms: 0, wall_ms: 0,
    output_url: null, output_bytes: null, command: null, ...over,
  });
  it('puts jobs in words', () => {
    expect(jobState(job({ state: 'running', progress: 0.426 }))).toEqual({ label: 'Working · 42%', tone: 'warn' });
    expect(jobState(job({ reason: 'Waiting: the transcode budget is spent' })).label).toBe('Held');
    expect(jobState(job({ state: 'timed_out' }))).toEqual({ label: 'Took too long', tone: 'bad' });
    expect(jobWhat(job({ ran_preset: '480p', start_ms: 1_500, end_ms: 62_000 }))).toBe('480p (asked 720p), 0:01.5–1:02');
    expect(jobWhat(job({ start_ms: 2_000 }))).toBe('720p, 0:02–end');
    expect(jobWhat(job({ end_ms: 10_000 }))).toBe('720p, 0:00–0:10');
  });
  it('writes a point in a video to the tenth, in the browser’s decimal mark', () => {
    expect(clipTime(0)).toBe('0:00');
    expect(clipTime(65_000)).toBe('1:05');
    expect(clipTime(1_540)).toBe('0:01.5');
    expect(clipTime(3_605_000)).toBe('1:00:05');
    expect(clipTime(1_500, 'de-DE')).toBe('0:01,5');
    expect(clipSpan(null, 3_000)).toBe('start–0:03');
  });
  it('shows how much of an upload arrived', () => {
    const u: Upload = {
      id: 'u', filename: null, filetype: null, device: 'Camera 1', length: 200, received: 50, state: 'receiving',
      created_at: '', updated_at: '', expires_at: null, finished_at: null,
    };
    expect(uploadState(u)).toEqual({ label: 'Arriving · 25%', tone: 'warn', share: 0.25 });
    expect(uploadState({ ...u, state: 'done', received: 200 }).label).toBe('Uploaded');
    expect(uploadState({ ...u, length: 0, received: 0, state: 'done' }).share).toBe(1);
  });
});

describe('neighbours', () => {
  const device = (kind: Device['kind'], paired: boolean | null): Device => ({
    key: 'k', kind, service_type: '_x._tcp', name: 'n', host: 'h', port: 1, addresses: [], state: 'alive', first_seen: '', last_seen: '',
    rtt_ms: null, failed_probes: 0, moves: 0, txt: {}, booth: null, paired,
  });
  it('names devices and their pairing in words', () => {
    expect(deviceKind('web_device')).toBe('Web device');
    expect(pairing(device('booth', true))).toEqual({ label: 'Paired', tone: 'good' });
    expect(pairing(device('booth', false))).toEqual({ label: 'Not paired', tone: 'warn' });
    expect(pairing(device('printer', null)).label).toBe('—');
  });
  it('shows round trips to a useful precision', () => {
    expect(roundTrip(null)).toBe('No answer');
    expect(roundTrip(0.234)).toBe('0.2 ms');
    expect(roundTrip(42.6)).toBe('43 ms');
  });
  it('sums a booth up, worst news first', () => {
    const status = { spend_state: 'ok', quarantined: 0 } as Booth['status'];
    const booth = (over: Partial<Booth>): Booth => ({
      id: 'b', name: 'B', url: 'http://b/', found_by: 'lan', event: 'e', fingerprint: 'f', paired: true, reachable: true, detail: '',
      status, status_at: null, checked_at: null, rtt_ms: null, ...over,
    });
    expect(boothHealth(booth({}))).toEqual({ label: 'Selling', tone: 'good' });
    expect(boothHealth(booth({ paired: false })).label).toBe('Not paired');
    expect(boothHealth(booth({ reachable: false })).label).toBe('Not answering');
    expect(boothHealth(booth({ status: { ...status!, quarantined: 2 } })).label).toBe('Needs attention');
    expect(boothHealth(booth({ status: { ...status!, spend_state: 'warn' } })).label).toBe('Watch spend');
    expect(boothHealth(booth({ status: { ...status!, printers_attention: 1 } }))).toEqual({ label: 'A printer needs attention', tone: 'warn' });
    expect(boothHealth(booth({ status: { ...status!, printers_attention: 2, quarantined: 1 } })).label).toBe('Needs attention');
  });
});

describe('teardown', () => {
  const steps = (states: TeardownView['steps'][number]['state'][]): TeardownView['steps'] =>
    (['close', 'media', 'orders', 'report', 'keys', 'wipe', 'withdraw', 'stop'] as const).map((step, i) => ({
      step, title: `Step ${step}`, state: states[i] ?? 'pending', detail: states[i] === 'blocked' ? '3 orders are not upstream' : null, at: null,
    }));
  const view = (over: Partial<TeardownView>): TeardownView => ({
    state: 'not_started', closed: false, started_at: null, started_by: null, finished_at: null, export_dir: null,
    suggested_export_dir: '/home/booth/exports', report_dir: '/home/booth/exports/e-report', steps: steps([]), orders_at_risk: 0,
    automatic_at: null, automatic: false, reopenable: false, stood_down: false, countdown: null, waiting_for_time: false, ...over,
  });
  it('says in one sentence where it stands, and what it waits for', () => {
    expect(teardownSummary(view({})).tone).toBe('good');
    expect(teardownSummary(view({ state: 'running', steps: steps(['done', 'running']) })).text).toBe('Tearing down: step media…');
    const blocked = teardownSummary(view({ state: 'blocked', steps: steps(['done', 'done', 'blocked']) }));
    expect(blocked).toEqual({ text: 'Teardown is waiting for you: 3 orders are not upstream', tone: 'bad' });
    expect(teardownSummary(view({ state: 'interrupted' })).text).toContain('continue to finish it');
    expect(teardownSummary(view({ state: 'finished' })).text).toBe('Teardown finished. The report is in /home/booth/exports/e-report.');
    expect(stepState('blocked')).toBe('Needs you');
  });
  it('names the desktop user for actions from the booth screen', () => {
    const e = { id: 2, at: '', actor: 'operator', client: 'app', action: 'degrade', before: 'normal', after: 'reduced', why: 'manual', result: 'ok', desktop_user: 'booth' };
    expect(auditLine(e).text).toBe('Degrade: normal → reduced, by hand from the booth screen (booth)');
  });
  it('words the audit entries teardown writes', () => {
    const e = { id: 1, at: '', actor: 'teardown', client: 'node', action: 'teardown: wipe personal data, caches and media', before: null,
      after: 'contact details of 4 orders', why: 'operator (app)', result: 'ok' };
    expect(auditLine(e).text).toBe('Teardown: wipe personal data, caches and media: contact details of 4 orders, during teardown');
  });
});

describe('floodNotice', () => {
  it('says which kind of device is no longer looked for, for how long, and why', () => {
    const now = new Date('2026-12-01T19:00:00Z');
    const text = floodNotice({ service_type: '_http._tcp', until: '2026-12-01T19:03:30Z', names: 3214 }, now);
    expect(text).toContain('Not looking for web devices for the next 4 min');
    expect(text).toContain('3,214 new ones appeared within 10 seconds');
    expect(floodNotice({ service_type: '_ipp._tcp', until: '2026-12-01T19:00:05Z', names: 300 }, now)).toContain('printers for the next 1 min');
  });
  it('names the kinds in words', () => {
    expect(serviceKind('_boothcloud._tcp')).toBe('other booths');
    expect(serviceKind('_ipps._tcp')).toBe('printers');
    expect(serviceKind('_acme-pos._tcp')).toBe('_acme-pos._tcp devices');
  });
});

describe('the node’s words', () => {
  it('become a sentence: a capital first, a full stop last', () => {
    expect(sentence('the booth is not closed')).toBe('The booth is not closed.');
    expect(sentence('a teardown step is still running (wipe); try again in a moment')).toBe('A teardown step is still running (wipe); try again in a moment.');
    expect(sentence('The booth node does not answer.')).toBe('The booth node does not answer.');
    expect(sentence('  ')).toBe('');
  });
});

describe('the booth’s time', () => {
  const tz = 'Europe/Berlin';
  const clockView = (over: Partial<ClockView>): ClockView => ({
    booth_time: '2026-12-03T17:05:09Z', laptop_time: '2026-12-03T18:05:09Z', laptop_off_by_ms: 3_600_000, in_doubt: false,
    automations_held: false, notice: null, steps: [], ...over,
  });

  it('spans to the second, the way the node says them', () => {
    expect(spanWords(0)).toBe('0 s');
    expect(spanWords(45_400)).toBe('45 s');
    expect(spanWords(59_600)).toBe('1 min 00 s');
    expect(spanWords(185_000)).toBe('3 min 05 s');
    expect(spanWords(-180_000)).toBe('3 min 00 s');
    expect(spanWords(7_199_999)).toBe('2 h 00 min');
    expect(spanWords(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 days 4 h');
  });

  it('reads a clock in the event’s time zone, with the date only when it is another day', () => {
    const booth = new Date('2026-12-03T17:05:09Z');
    expect(clockReading(booth, tz)).toBe('18:05:09');
    expect(clockReading(new Date('2026-12-03T18:05:09Z'), tz, booth)).toBe('19:05:09');
    expect(clockReading(new Date('2020-01-01T08:00:00Z'), tz, booth)).toBe('Wed, 1 Jan 2020, 09:00:00');
    expect(clockReading(new Date('2020-01-01T08:00:00Z'), tz, booth, 'de-DE')).toBe('Mi., 1. Jan. 2020, 09:00:00');
    // Midnight in Berlin is still 3 December in UTC: the event's day counts.
    expect(clockReading(new Date('2026-12-03T23:30:00Z'), tz, booth)).toBe('Fri, 4 Dec 2026, 00:30:00');
  });

  it('says which way the laptop’s clock is off, and when it is not', () => {
    expect(laptopOffset(3_600_000)).toBe("The laptop's clock is 1 h 00 min ahead of the booth's time.");
    expect(laptopOffset(-12_000)).toBe("The laptop's clock is 12 s behind the booth's time.");
    expect(laptopOffset(400)).toBe("The laptop's clock and the booth's time agree.");
  });

  it('counts a clock on from when the node read it, never back', () => {
    expect(clockNow('2026-12-03T17:05:09Z', 2_500).toISOString()).toBe('2026-12-03T17:05:11.500Z');
    expect(clockNow('2026-12-03T17:05:09Z', -50).toISOString()).toBe('2026-12-03T17:05:09.000Z');
  });

  it('says what the lead’s choice did', () => {
    expect(timeSettled(clockView({ booth_time: '2026-12-03T18:05:09Z', laptop_off_by_ms: 0 }), 'laptop', tz))
      .toEqual({ tone: 'good', text: "Done: the booth now follows the laptop's clock (19:05:09)." });
    expect(timeSettled(clockView({ laptop_off_by_ms: -3_600_000 }), 'booth', tz)).toEqual({
      tone: 'good',
      text: "Done: the booth keeps its own time (18:05:09). The laptop's clock is 1 h 00 min behind the booth's time. Set the laptop's clock right when you can.",
    });
    expect(timeSettled(clockView({ in_doubt: true, notice: 'The laptop’s clock jumped.' }), 'booth', tz))
      .toEqual({ tone: 'warn', text: 'The booth is still not sure of the time. The laptop’s clock jumped.' });
  });
});

describe('the automatic teardown', () => {
  const tz = 'Europe/Berlin';
  it('counts down between polls, to zero and no further', () => {
    expect(secondsLeft(30, 0)).toBe(30);
    expect(secondsLeft(30, 999)).toBe(30);
    expect(secondsLeft(30, 1000)).toBe(29);
    expect(secondsLeft(30, 12_400)).toBe(18);
    expect(secondsLeft(3, 10_000)).toBe(0);
    expect(secondsLeft(30, -500)).toBe(30);
  });

  it('says why and when the booth closes', () => {
    expect(countdownWhy({ closes_at: '2026-12-31T21:05:00Z', seconds_left: 300, why: "the event's end time" }, tz))
      .toBe("The booth has reached the event's end time. At 22:05:00 it stops taking orders and teardown begins, unless you keep it open.");
  });

  const view = (over: Partial<TeardownView>): TeardownView => ({
    state: 'not_started', closed: false, started_at: null, started_by: null, finished_at: null, export_dir: null,
    suggested_export_dir: '/e', report_dir: '/e/r', steps: [], orders_at_risk: 0,
    automatic_at: null, automatic: false, reopenable: false, stood_down: false, countdown: null, waiting_for_time: false, ...over,
  });
  it('says on the Teardown screen when the booth closes by itself, or that it will not', () => {
    expect(automaticTeardown(view({}), tz)).toEqual([]);
    expect(automaticTeardown(view({ automatic_at: '2026-12-31T21:00:00Z' }), tz)).toEqual([
      { key: 'automatic-at', text: 'The booth closes by itself at Thu 31 Dec, 22:00, after a countdown you can cancel.', tone: 'quiet' },
    ]);
    // While it counts down, the countdown says it (on every screen).
    expect(automaticTeardown(view({ automatic_at: '2026-12-31T21:00:00Z', countdown: { closes_at: '2026-12-31T21:05:00Z', seconds_left: 9, why: 'x' } }), tz)).toEqual([]);
    expect(automaticTeardown(view({ automatic_at: '2026-12-31T21:00:00Z', stood_down: true }), tz)).toEqual([
      { key: 'stood-down', text: 'The end time will not close this booth again; start teardown by hand when you are done.', tone: 'quiet' },
    ]);
    const waiting = automaticTeardown(view({ automatic_at: '2026-12-31T21:00:00Z', waiting_for_time: true }), tz);
    expect(waiting.map((l) => l.key)).toEqual(['waiting-for-time', 'automatic-at']);
    expect(waiting[0]).toEqual({
      key: 'waiting-for-time',
      text: 'The booth is not sure of the time, so it will not close by itself until you confirm the time (the notice at the top of the screen).',
      tone: 'warn',
    });
  });
});
