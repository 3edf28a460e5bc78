import { describe, expect, it } from 'vitest';
import { ago, bytes, cacheTile, clock, duration, linkMode, money, percent, priceEngine, shortId } from './format';
import type { CacheSummary } from './types';

describe('money', () => {
  it('uses the currency’s own decimals, never floats in the input', () => {
    expect(money(1250, 'EUR')).toBe('€12.50');
    expect(money(5, 'EUR')).toBe('€0.05');
    expect(money(1250, 'JPY')).toBe('JP¥1,250');
    expect(money(123456, 'GBP')).toBe('£1,234.56');
  });
});

describe('clock', () => {
  it('shows the event’s time zone, not the laptop’s', () => {
    const at = new Date('2026-06-10T14:30:05Z');
    expect(clock(at, 'Europe/Berlin')).toBe('16:30:05');
    expect(clock(at, 'America/New_York')).toBe('10:30:05');
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

describe('linkMode', () => {
  it('never shows a code', () => {
    expect(linkMode({ mode: 'offline', uplink: 'down', detail: '' })).toEqual({ label: 'Offline — selling from this laptop', tone: 'bad' });
    expect(linkMode({ mode: 'local', uplink: 'not_checked', detail: '' }).label).toBe('Selling locally');
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
