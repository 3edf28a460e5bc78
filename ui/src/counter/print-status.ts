// An order's print jobs as the counter says them — Printed, Printing…, Waiting for
// printer, Held, Needs attention: why — what each job is ("Pickup ticket · Reprint 1"),
// which jobs can be printed again, and which orders' jobs to ask the node for next.
//
// Asking is bounded: only for the cards on screen, and among those only for the orders
// not asked yet, whose jobs are still moving (queued, being sent, held), or whose answer
// is older than `SETTLED_EVERY_MS`; at most `MAX_BATCH` at a time, one batch per poll.

import type { PrintJob } from '../api/types';
import { type Key, t } from '../i18n';

/** `good` printed, `busy` on its way, `warn` waiting on something, `bad` a person must look. */
export type PrintTone = 'good' | 'busy' | 'warn' | 'bad';

/** Jobs that will not change by themselves: printed, or waiting for a person's reprint. */
const SETTLED = new Set<PrintJob['state']>(['sent', 'confirmed', 'attention']);

/** How often the jobs of an order that look settled are asked again (a reprint from elsewhere). */
export const SETTLED_EVERY_MS = 30_000;
/** Most orders asked about in one go. */
export const MAX_BATCH = 24;

const KINDS: Record<PrintJob['kind'], Key> = {
  ticket: 'print.kind.ticket',
  receipt: 'print.kind.receipt',
  label: 'print.kind.label',
};

/** What a job is: "Pickup ticket", "Receipt · Reprint 2". */
export function jobTitle(job: Pick<PrintJob, 'kind' | 'copy'>): string {
  const what = KINDS[job.kind] ? t(KINDS[job.kind]) : job.kind;
  return job.copy > 0 ? `${what} · ${t('print.reprint_n', { n: job.copy })}` : what;
}

/**
 * Where a job is, in words, and what more to say under it: the printer's trouble while
 * it waits, or why it was held.
 */
export function jobStatus(job: Pick<PrintJob, 'state' | 'last_error'> & { forwarded_to?: string | null }): { text: string; tone: PrintTone; why: string | null } {
  // A job handed to a paired booth's printer ("prep@Hall B") is said by that booth's name.
  const where = job.forwarded_to ? job.forwarded_to.slice(job.forwarded_to.indexOf('@') + 1) : null;
  switch (job.state) {
    case 'sent':
    case 'confirmed':
      return { text: where ? t('print.state.printed_at', { where }) : t('print.state.printed'), tone: 'good', why: null };
    case 'forwarded':
      return { text: t('print.state.forwarded', { where: where ?? '?' }), tone: 'busy', why: null };
    case 'sending':
      return { text: t('print.state.printing'), tone: 'busy', why: null };
    case 'queued':
      // A job that waits after a failed try says why (paper out, printer off).
      return job.last_error
        ? { text: t('print.state.waiting'), tone: 'warn', why: job.last_error }
        : { text: t('print.state.waiting'), tone: 'busy', why: null };
    case 'held':
      return { text: t('print.state.held'), tone: 'warn', why: t('print.held_why') };
    case 'attention':
      return { text: t('print.state.attention', { why: job.last_error || t('print.attention_unknown') }), tone: 'bad', why: null };
    default:
      return { text: String(job.state), tone: 'warn', why: job.last_error ?? null };
  }
}

/**
 * Whether staff may print it again: once it printed, or when it may not have (a job
 * still on its way would print twice).
 */
export function canReprint(job: Pick<PrintJob, 'state'>): boolean {
  return SETTLED.has(job.state);
}

/** Whether "Print receipt" is offered: no receipt was printed or asked for yet. */
export function offersReceipt(jobs: readonly Pick<PrintJob, 'kind'>[]): boolean {
  return !jobs.some((j) => j.kind === 'receipt');
}

/** Whether "Print label" is offered: no label was printed or asked for yet. */
export function offersLabel(jobs: readonly Pick<PrintJob, 'kind'>[]): boolean {
  return !jobs.some((j) => j.kind === 'label');
}

/** Whether none of an order's jobs will change without a person (none at all counts). */
export function settled(jobs: readonly Pick<PrintJob, 'state'>[]): boolean {
  return jobs.every((j) => SETTLED.has(j.state));
}

/** An order's jobs as last answered, and when (ms, this browser's clock). */
export interface KnownJobs {
  jobs: PrintJob[];
  at: number;
}

/**
 * Which orders to ask about now, in the order shown: those on screen that were never
 * asked, whose jobs are still moving, or whose answer is `SETTLED_EVERY_MS` old; none
 * already being asked; at most `max`.
 */
export function jobsDue(
  orderIds: readonly string[],
  onScreen: ReadonlySet<string>,
  known: ReadonlyMap<string, KnownJobs>,
  asking: ReadonlySet<string>,
  now: number,
  max = MAX_BATCH,
): string[] {
  const due: string[] = [];
  for (const id of orderIds) {
    if (due.length >= max) break;
    if (!onScreen.has(id) || asking.has(id)) continue;
    const k = known.get(id);
    if (!k || !settled(k.jobs) || now - k.at >= SETTLED_EVERY_MS) due.push(id);
  }
  return due;
}
