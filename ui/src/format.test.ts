import { describe, expect, it } from 'vitest';
import { ago, clock, linkMode, money, priceEngine, shortId } from './format';

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
