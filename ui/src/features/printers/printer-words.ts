// A printer as staff read it, in the page's language: its role, its state and its paper
// in words, each with the colour it is shown in (solid colours with white words, which
// stay readable in sunlight), when it last printed, and which printers the dashboard's
// notice names. The node's own sentences (`detail`) are shown as they come.

import type { PrinterView } from '../../api';
import { type Key, lang, type PluralKey, t, tn } from '../../i18n';
import { timeOfDay } from '../../lib/format';

/** `good` green, `busy` the accent, `bad` red, `quiet` outlined (nothing known yet). */
export type PrinterTone = 'good' | 'busy' | 'bad' | 'quiet';

const STATES: Record<string, { key: Key; tone: PrinterTone }> = {
  ready: { key: 'printers.state.ready', tone: 'good' },
  printing: { key: 'printers.state.printing', tone: 'busy' },
  needs_attention: { key: 'printers.state.needs_attention', tone: 'bad' },
  not_checked: { key: 'printers.state.not_checked', tone: 'quiet' },
  paused: { key: 'printers.state.paused', tone: 'quiet' },
};

const PAPER: Record<string, { key: Key; tone: PrinterTone }> = {
  ok: { key: 'printers.paper.ok', tone: 'good' },
  out: { key: 'printers.paper.out', tone: 'bad' },
  unknown: { key: 'printers.paper.unknown', tone: 'quiet' },
};

const ROLES: Record<string, Key> = {
  tickets: 'printers.role.tickets',
  receipts: 'printers.role.receipts',
  labels: 'printers.role.labels',
};

const RELEASE: Record<string, PluralKey> = {
  tickets: 'printers.release.tickets',
  receipts: 'printers.release.receipts',
  labels: 'printers.release.labels',
};

/** How the printer is: Ready, Printing, Needs attention, Not checked yet. */
export function printerState(state: string): { text: string; tone: PrinterTone } {
  const known = STATES[state];
  // A state this page does not know yet is said as the node says it, and looked at.
  return known ? { text: t(known.key), tone: known.tone } : { text: state, tone: 'bad' };
}

/** Its paper: OK, Out of paper, Unknown. */
export function paperState(paper: string): { text: string; tone: PrinterTone } {
  const known = PAPER[paper];
  return known ? { text: t(known.key), tone: known.tone } : { text: paper, tone: 'quiet' };
}

/** What it prints, in words: "Pickup tickets (prep table)", "Receipts", "Labels". */
export function roleWords(role: string): string {
  const key = ROLES[role];
  return key ? t(key) : role;
}

/** The button that prints what the printer held: "Print 14 waiting tickets?". */
export function releaseLabel(p: Pick<PrinterView, 'role' | 'held'>): string {
  return tn(RELEASE[p.role] ?? 'printers.release.tickets', p.held);
}

/** "14:32 (3 min ago)" in the event's time zone, or "Not yet". */
export function lastPrinted(iso: string | null | undefined, now: Date, timeZone: string): string {
  if (!iso) return t('printers.never');
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return t('printers.never');
  return t('printers.printed_at', { time: timeOfDay(at, timeZone), ago: sinceWords(at, now) });
}

/** "now", "3 min ago", "2 hr. ago" in the page's language. */
export function sinceWords(then: Date, now: Date): string {
  const seconds = Math.round((then.getTime() - now.getTime()) / 1000);
  const format = new Intl.RelativeTimeFormat(lang(), { numeric: 'auto', style: 'short' });
  if (Math.abs(seconds) < 60) return format.format(0, 'minute');
  if (Math.abs(seconds) < 3600) return format.format(Math.round(seconds / 60), 'minute');
  return format.format(Math.round(seconds / 3600), 'hour');
}

/** The printers the dashboard's notice names: those whose state needs a person. */
export function needingAttention(printers: readonly PrinterView[] | null | undefined): PrinterView[] {
  return (printers ?? []).filter((p) => p.state === 'needs_attention');
}

/** Why a printer needs attention, in one line: the node's words, else what is known. */
export function attentionWhy(p: PrinterView): string {
  if (p.detail) return p.detail;
  if (p.paper === 'out') return t('printers.paper.out');
  if (p.attention > 0) return tn('printers.attention_jobs', p.attention);
  return t('printers.state.needs_attention');
}
