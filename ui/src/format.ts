// Numbers, times and states in words a booth worker reads at arm's length.

import type { CacheSummary, Snapshot, SyncState } from './types';

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

/** A share 0–1 as a percent to one decimal, floored so 99.96% never shows as a perfect 100%. */
export function percent(share: number | null): string {
  if (share === null) return '—';
  const p = Math.floor(share * 1000 + 1e-9) / 10;
  return Number.isInteger(p) ? `${p}%` : `${p.toFixed(1)}%`;
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
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** "45 ms", "1.4 s", "12 s", "2 min 5 s". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
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
  const ready = !w.running && w.total > 0 && w.duration_ms !== null ? `Storefront ready: ${w.done} files in ${duration(w.duration_ms)}` : null;
  let stale: string | null = null;
  let tone: '' | 'warn' | 'bad' = '';
  if (c.origin_errors_last_minute > 0 && c.stale_last_minute > 0) {
    stale = `The storefront's server does not answer: kiosks get saved copies (${percent(c.stale_last_minute / c.requests_last_minute)} of files right now).`;
    tone = 'warn';
  } else if (c.origin_errors_last_minute > 0) {
    stale = "The storefront's server does not answer and some files were never saved here: kiosks may miss pictures.";
    tone = 'bad';
  } else if (c.stale_share !== null && c.stale_share > 0) {
    stale = `${percent(c.stale_share)} of files this event were saved copies served while refreshing.`;
  }
  if (!w.running && w.failed > 0) {
    stale = `${stale ? stale + ' ' : ''}${w.failed} file${w.failed === 1 ? '' : 's'} could not be fetched at warm-up.`;
    if (tone === '') tone = 'warn';
  }
  return { headline, caption, event, ready, warm, stale, tone };
}
