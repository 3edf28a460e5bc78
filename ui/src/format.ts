// Numbers, times and states in words a booth worker reads at arm's length.

import type { Snapshot, SyncState } from './types';

/** Integer minor units as money: 1250 EUR → "€12.50" (the currency's own decimals). */
export function money(minor: number, currency: string, locale = 'en-GB'): string {
  const format = new Intl.NumberFormat(locale, { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}

/** The wall clock in the event's time zone: "14:05:09". */
export function clock(at: Date, timeZone: string, locale = 'en-GB'): string {
  return new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(at);
}

/** "just now", "12 s ago", "4 min ago", "3 h ago". */
export function ago(then: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

export const ORDER_STATES: { value: SyncState | null; label: string }[] = [
  { value: null, label: 'All' },
  { value: 'captured', label: 'Waiting to sync' },
  { value: 'syncing', label: 'Sending' },
  { value: 'synced', label: 'Synced' },
  { value: 'quarantined', label: 'Needs attention' },
];

export function orderState(state: SyncState): string {
  return ORDER_STATES.find((s) => s.value === state)?.label ?? state;
}

export type Tone = 'good' | 'warn' | 'bad' | 'quiet';

/** The header's mode chip: words and a tone, never a code. */
export function linkMode(link: Snapshot['link']): { label: string; tone: Tone } {
  switch (link.mode) {
    case 'online':
      return { label: 'Online', tone: 'good' };
    case 'degraded':
      return { label: 'Degraded', tone: 'warn' };
    case 'offline':
      return { label: 'Offline — selling from this laptop', tone: 'bad' };
    default:
      return { label: 'Selling locally', tone: 'good' };
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
