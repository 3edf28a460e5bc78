// Printing on the counter's order cards: each order's pickup ticket and receipt jobs in
// words (Printed, Printing…, Waiting for printer, Held, Needs attention: why), a Reprint
// button on each job that printed (or may not have), and "Print receipt" until one was
// asked for.
//
// The node is asked about an order's jobs only while its card is on screen (an
// IntersectionObserver keeps the set), in one parallel batch per poll at the Orders
// tab's pace (3 s), and only for the orders whose jobs may still change (`jobsDue`). A
// card that scrolls into view is asked about at once; a tap asks again at once.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/errors';
import type { PrintingApi } from '../api/printing-api';
import type { CounterOrder } from '../api/selling';
import type { PrintJob } from '../api/types';
import { t } from '../i18n';
import { errorText, orderName } from '../i18n/words';
import { canReprint, jobsDue, jobStatus, jobTitle, type KnownJobs, offersLabel, offersReceipt } from './print-status';

const POLL_MS = 3_000;
/** Cards this close to the screen count as on it (they are a flick away). */
const MARGIN = '200px 0px';
/** How long "on its way to the printer" stays under the jobs. */
const MESSAGE_MS = 8_000;

export interface PrintJobsWatch {
  /** An order's jobs as last answered; absent until asked. */
  known: ReadonlyMap<string, KnownJobs>;
  /** Follows a card while it is mounted (its `data-order-id`); answers the unfollow. */
  follow: (card: HTMLElement) => () => void;
  /** Asks again about one order now (after a tap); `added` shows at once meanwhile. */
  askAgain: (orderId: string, added?: PrintJob) => void;
}

export function usePrintJobs(printing: PrintingApi, orders: readonly CounterOrder[] | null, active: boolean, onSessionEnded: () => void): PrintJobsWatch {
  const [known, setKnown] = useState<ReadonlyMap<string, KnownJobs>>(() => new Map());
  const knownNow = useRef(known);
  knownNow.current = known;
  const shown = useRef(orders);
  shown.current = orders;
  const ended = useRef(onSessionEnded);
  ended.current = onSessionEnded;
  const onScreen = useRef(new Set<string>());
  const asking = useRef(new Set<string>());
  const observer = useRef<IntersectionObserver | null>(null);
  const soon = useRef<() => void>(() => undefined);

  const ask = async (ids: string[]) => {
    if (ids.length === 0) return;
    for (const id of ids) asking.current.add(id);
    const answers = await Promise.allSettled(ids.map((id) => printing.jobsOf(id)));
    for (const id of ids) asking.current.delete(id);
    const at = Date.now();
    setKnown((before) => {
      const next = new Map(before);
      answers.forEach((a, i) => {
        if (a.status === 'fulfilled') next.set(ids[i], { jobs: a.value, at });
      });
      // Orders no longer listed are forgotten (the map stays the size of the list).
      const listed = new Set(shown.current?.map((o) => o.order_id) ?? []);
      for (const id of next.keys()) if (!listed.has(id)) next.delete(id);
      return next;
    });
    // A failed ask keeps the last answer on the card; only an ended session matters.
    if (answers.some((a) => a.status === 'rejected' && a.reason instanceof ApiError && a.reason.status === 401)) ended.current();
  };

  useEffect(() => {
    if (typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((entries) => {
      let fresh = false;
      for (const e of entries) {
        const id = (e.target as HTMLElement).dataset.orderId;
        if (!id) continue;
        if (e.isIntersecting) {
          onScreen.current.add(id);
          fresh ||= !knownNow.current.has(id);
        } else onScreen.current.delete(id);
      }
      if (fresh) soon.current();
    }, { rootMargin: MARGIN });
    observer.current = io;
    return () => {
      io.disconnect();
      observer.current = null;
    };
  }, []);

  useEffect(() => {
    if (!active) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let nudge: ReturnType<typeof setTimeout> | undefined;
    const due = () => jobsDue(shown.current?.map((o) => o.order_id) ?? [], onScreen.current, knownNow.current, asking.current, Date.now());
    const poll = async () => {
      await ask(due());
      if (live) timer = setTimeout(poll, POLL_MS);
    };
    // Cards that came into view: only the ones never asked about, right away.
    soon.current = () => {
      clearTimeout(nudge);
      nudge = setTimeout(() => {
        if (live) void ask(due().filter((id) => !knownNow.current.has(id)));
      }, 50);
    };
    timer = setTimeout(poll, POLL_MS);
    soon.current();
    return () => {
      live = false;
      clearTimeout(timer);
      clearTimeout(nudge);
      soon.current = () => undefined;
    };
  }, [printing, active]);

  return {
    known,
    follow: (card) => {
      const id = card.dataset.orderId ?? '';
      if (observer.current) observer.current.observe(card);
      else {
        // No IntersectionObserver (an old browser): every card counts as on screen.
        onScreen.current.add(id);
        soon.current();
      }
      return () => {
        observer.current?.unobserve(card);
        onScreen.current.delete(id);
      };
    },
    askAgain: (orderId, added) => {
      if (added) {
        setKnown((before) => {
          const k = before.get(orderId);
          const next = new Map(before);
          next.set(orderId, { jobs: [...(k?.jobs ?? []).filter((j) => j.job_id !== added.job_id), added], at: k?.at ?? Date.now() });
          return next;
        });
      }
      void ask([orderId]);
    },
  };
}

/** The print section of one order card. Nothing until the node answered about it. */
export function OrderPrints({ order, known, printing, onAskAgain, onSessionEnded }: {
  order: CounterOrder;
  known: KnownJobs | undefined;
  printing: PrintingApi;
  onAskAgain: (orderId: string, added?: PrintJob) => void;
  onSessionEnded: () => void;
}) {
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  // "On its way" goes once the job's own line says where it is; a refusal stays.
  useEffect(() => {
    if (message?.tone !== 'good') return;
    const timer = setTimeout(() => setMessage(null), MESSAGE_MS);
    return () => clearTimeout(timer);
  }, [message]);
  if (!known) return null;
  const number = orderName(order);

  const act = async (key: string, what: () => Promise<string>, noPrinter: 'print.no_printer' | 'print.no_label_printer' = 'print.no_printer') => {
    setBusy(key);
    try {
      setMessage({ tone: 'good', text: await what() });
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, 'unreachable', String(e));
      if (err.status === 401) onSessionEnded();
      setMessage({ tone: 'bad', text: err.code === 'no_printer' ? t(noPrinter) : errorText(err) });
    } finally {
      setBusy(null);
    }
  };
  const reprint = (job: PrintJob) => act(job.job_id, async () => {
    const again = await printing.reprint(job.job_id);
    onAskAgain(order.order_id, again);
    return t('print.reprint_queued', { n: again.copy });
  });
  const receipt = () => act('receipt', async () => {
    await printing.printReceipt(order.order_id);
    onAskAgain(order.order_id);
    return t('print.receipt_queued');
  });
  const label = () => act('label', async () => {
    await printing.printLabel(order.order_id);
    onAskAgain(order.order_id);
    return t('print.label_queued');
  }, 'print.no_label_printer');

  return (
    <section class="order-prints" aria-label={t('print.title')} data-testid="order-prints">
      {known.jobs.length > 0 && (
        <ul class="print-jobs">
          {known.jobs.map((job) => {
            const status = jobStatus(job);
            const title = jobTitle(job);
            return (
              <li key={job.job_id} class={`print-job ${status.tone}`} data-testid="print-job" data-kind={job.kind} data-copy={job.copy} data-state={job.state}>
                <div class="print-job-text">
                  <span class="print-what" data-testid="print-what">{title}</span>
                  <span class={`print-state ${status.tone}`} data-testid="print-state">{status.text}</span>
                  {status.why && <span class="print-why" data-testid="print-why">{status.why}</span>}
                </div>
                {canReprint(job) && (
                  <button type="button" class="big-button print-button" data-testid="print-reprint" disabled={busy !== null}
                    aria-label={t('print.reprint_label', { what: title, number })} onClick={() => void reprint(job)}>
                    {t('print.reprint')}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <div class="print-actions">
        {offersReceipt(known.jobs) && (
          <button type="button" class="big-button print-button" data-testid="print-receipt" disabled={busy !== null}
            aria-label={t('print.receipt_label', { number })} onClick={() => void receipt()}>
            {t('print.receipt')}
          </button>
        )}
        {offersLabel(known.jobs) && (
          <button type="button" class="big-button print-button" data-testid="print-label" disabled={busy !== null}
            aria-label={t('print.label_label', { number })} onClick={() => void label()}>
            {t('print.label')}
          </button>
        )}
      </div>
      {message && <p class={`print-message ${message.tone}`} role="status" data-testid="print-message">{message.text}</p>}
    </section>
  );
}
