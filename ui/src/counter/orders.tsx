// The counter's Orders tab: the open orders, oldest first (asked again every 3 s), each
// with its pickup number, lines, total, whether it is paid, and one big button for its
// next step — Start preparing, Mark ready, Collected (an unpaid order asks first whether
// it was paid in cash or by card). Before an order went to the hub it can be voided
// (a reason, hold to confirm); after, refunded. "Done" lists the collected and voided
// ones, newest first, for refunds. An order a kiosk took while it could not reach the
// booth carries a "Taken offline" tag, and when the node found something off about it
// (a price that changed meanwhile, a pickup number that was not the kiosk's) that is
// said first, in words, for staff to sort out with the customer. Each card says how its
// pickup ticket and receipt printed, with Reprint and Print receipt (`print-jobs.tsx`).

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/errors';
import type { PrintingApi } from '../api/printing-api';
import type { CounterOrder, CounterView, FulfilmentRequest } from '../api/selling';
import type { SellingApi } from '../api/selling-api';
import { lang, t } from '../i18n';
import { errorText, fulfilmentWord, methodName, orderName } from '../i18n/words';
import { money } from '../lib/format';
import { RefundDialog, VoidDialog } from './order-dialogs';
import { OrderPrints, type PrintJobsWatch, usePrintJobs } from './print-jobs';

const POLL_MS = 3_000;

/** The steps staff take at the counter (a void has its own call). */
type NextStep = Extract<FulfilmentRequest['state'], 'preparing' | 'ready' | 'collected'>;

const NEXT: Partial<Record<CounterOrder['fulfilment'], NextStep>> = {
  new: 'preparing',
  preparing: 'ready',
  ready: 'collected',
};

/** "3 min ago", in the page's language. */
function ago(iso: string, now: number): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const format = new Intl.RelativeTimeFormat(lang(), { numeric: 'auto', style: 'short' });
  if (Math.abs(seconds) < 60) return format.format(0, 'minute');
  if (Math.abs(seconds) < 3600) return format.format(Math.round(seconds / 60), 'minute');
  return format.format(Math.round(seconds / 3600), 'hour');
}

export function Orders({ api, printing, active, refreshKey, onSessionEnded }: {
  api: SellingApi;
  /** The order's print jobs, with the same sign-in. */
  printing: PrintingApi;
  /** Shown: polls only then. */
  active: boolean;
  /** Changes when an order was rung up here (asks at once). */
  refreshKey: number;
  onSessionEnded: () => void;
}) {
  const [view, setView] = useState<CounterView>('open');
  const [orders, setOrders] = useState<CounterOrder[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [dialog, setDialog] = useState<{ kind: 'void' | 'refund'; order: CounterOrder } | null>(null);
  const refresh = () => setTick((n) => n + 1);
  const prints = usePrintJobs(printing, orders, active, onSessionEnded);

  const failed = (e: unknown) => {
    const err = e instanceof ApiError ? e : new ApiError(0, 'unreachable', String(e));
    if (err.status === 401) onSessionEnded();
    return err;
  };

  useEffect(() => {
    if (!active) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const list = await api.counterOrders(view);
        if (!live) return;
        setOrders(list);
        setProblem(null);
      } catch (e) {
        if (live) setProblem(errorText(failed(e)));
      }
      if (live) timer = setTimeout(run, POLL_MS);
    };
    void run();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, view, active, tick, refreshKey]);

  const switchView = (v: CounterView) => {
    if (v === view) return;
    setOrders(null);
    setView(v);
  };

  const advance = async (order: CounterOrder, body: FulfilmentRequest) => {
    try {
      const updated = await api.advance(order.order_id, body);
      setMessage(t('counter.moved', { number: orderName(updated), state: fulfilmentWord(updated.fulfilment) }));
      setOrders((list) => list?.map((o) => (o.order_id === updated.order_id ? updated : o)).filter((o) => view === 'done' || (o.fulfilment !== 'collected' && o.fulfilment !== 'voided')) ?? null);
    } catch (e) {
      setMessage(errorText(failed(e)));
    }
    refresh();
  };

  const now = Date.now();
  return (
    <div class="counter-orders" data-testid="counter-orders">
      <div class="buttons" role="group" aria-label={t('counter.orders_view')}>
        <button type="button" class="big-button" aria-pressed={view === 'open'} data-testid="orders-open" onClick={() => switchView('open')}>
          {t('counter.view_open')}
        </button>
        <button type="button" class="big-button" aria-pressed={view === 'done'} data-testid="orders-done" onClick={() => switchView('done')}>
          {t('counter.view_done')}
        </button>
      </div>
      <p class="orders-message" role="status" aria-live="polite" data-testid="orders-message">{message ?? ''}</p>
      {problem && <p class="notice warn" role="alert" data-testid="orders-problem">{problem}</p>}
      {orders === null && !problem && <p class="loading" aria-busy="true">{t('common.loading')}</p>}
      {orders && orders.length === 0 && (
        <p class="empty" data-testid="orders-empty">{view === 'open' ? t('counter.no_open') : t('counter.no_done')}</p>
      )}
      {orders && orders.length > 0 && (
        <ul class="order-cards">
          {orders.map((o) => (
            <OrderCard key={o.order_id} order={o} now={now} onAdvance={(body) => advance(o, body)}
              onVoid={() => setDialog({ kind: 'void', order: o })} onRefund={() => setDialog({ kind: 'refund', order: o })}
              prints={prints} printing={printing} onSessionEnded={onSessionEnded} />
          ))}
        </ul>
      )}
      {dialog?.kind === 'void' && (
        <VoidDialog api={api} order={dialog.order} onClose={() => setDialog(null)}
          onRefundInstead={() => setDialog({ kind: 'refund', order: dialog.order })}
          onDone={(text) => {
            setDialog(null);
            setMessage(text);
            refresh();
          }} />
      )}
      {dialog?.kind === 'refund' && (
        <RefundDialog api={api} order={dialog.order} onClose={() => setDialog(null)}
          onDone={(text) => {
            setDialog(null);
            setMessage(text);
            refresh();
          }} />
      )}
    </div>
  );
}

function OrderCard({ order: o, now, onAdvance, onVoid, onRefund, prints, printing, onSessionEnded }: {
  order: CounterOrder;
  now: number;
  onAdvance: (body: FulfilmentRequest) => Promise<void>;
  onVoid: () => void;
  onRefund: () => void;
  prints: PrintJobsWatch;
  printing: PrintingApi;
  onSessionEnded: () => void;
}) {
  const self = useRef<HTMLElement>(null);
  // Its print jobs are asked about while it is on screen.
  useEffect(() => prints.follow(self.current!), []);
  const [askPaid, setAskPaid] = useState(false);
  // One step per tap: the button waits for the node's answer before it takes another.
  const [busy, setBusy] = useState(false);
  const step = async (body: FulfilmentRequest) => {
    setBusy(true);
    try {
      await onAdvance(body);
    } finally {
      setBusy(false);
      setAskPaid(false);
    }
  };
  const next = NEXT[o.fulfilment];
  const title = `order-${o.order_id}`;
  const refundable = o.paid && o.refunded < o.total && o.fulfilment !== 'voided';
  const c = o.currency;
  return (
    <li>
    <article ref={self} class={`order-card state-${o.fulfilment}${o.attention ? ' attention' : ''}`} aria-labelledby={title} data-testid="counter-order" data-order-id={o.order_id}
      data-pickup-number={o.pickup_number ?? undefined}>
      <div class="order-head">
        <h3 id={title} class="order-number" data-testid="order-number">{orderName(o)}</h3>
        <span class="order-state" data-testid="order-state">{fulfilmentWord(o.fulfilment)}</span>
        <span class="muted">{ago(o.created_at, now)}</span>
        {o.taken_offline_by && <span class="order-tag" data-testid="order-offline">{t('counter.taken_offline')}</span>}
      </div>
      {o.attention && (
        <p class="order-attention" role="note" data-testid="order-attention">{t('counter.attention', { why: o.attention })}</p>
      )}
      <ul class="order-lines">
        {o.lines.map((l) => <li key={l.sku}><strong>{l.qty} ×</strong> {l.name}</li>)}
      </ul>
      <p class="order-money">
        <span class="order-total">{money(o.total, c)}</span>{' '}
        <span class={o.paid ? 'paid' : 'unpaid'} data-testid="order-paid">
          {o.paid ? t('counter.paid', { method: methodName(o.payment) }) : t('counter.to_pay')}
        </span>
        {o.refunded > 0 && <span class="refunded"> · {t('counter.refunded', { amount: money(o.refunded, c) })}</span>}
      </p>
      {o.status === 'quarantined' && <p class="notice warn">{t('counter.quarantined')}</p>}
      <OrderPrints order={o} known={prints.known.get(o.order_id)} printing={printing} onAskAgain={prints.askAgain} onSessionEnded={onSessionEnded} />
      {askPaid && next === 'collected' ? (
        <div class="ask-paid" role="group" aria-labelledby={`${title}-ask`}>
          <p id={`${title}-ask`} class="lead">{t('counter.how_paid', { amount: money(o.total - o.refunded, c) })}</p>
          <div class="buttons">
            <button type="button" class="big-button primary" data-testid="paid-cash" disabled={busy} onClick={() => void step({ state: 'collected', paid_with: 'cash' })}>
              {t('method.cash')}
            </button>
            <button type="button" class="big-button primary" data-testid="paid-card" disabled={busy} onClick={() => void step({ state: 'collected', paid_with: 'card' })}>
              {t('method.card')}
            </button>
            <button type="button" class="big-button" data-testid="paid-cancel" onClick={() => setAskPaid(false)}>{t('common.cancel')}</button>
          </div>
        </div>
      ) : (
        <div class="buttons order-actions">
          {next && (
            <button type="button" class="big-button primary next-step" data-testid="order-next" disabled={busy}
              onClick={() => (next === 'collected' && !o.paid ? setAskPaid(true) : void step({ state: next }))}>
              {t(`counter.next.${next}`)}
            </button>
          )}
          {o.can_void && o.fulfilment !== 'voided' && (
            <button type="button" class="big-button" data-testid="order-void" onClick={onVoid}>{t('counter.void')}</button>
          )}
          {!o.can_void && refundable && (
            <button type="button" class="big-button" data-testid="order-refund" onClick={onRefund}>{t('counter.refund')}</button>
          )}
        </div>
      )}
    </article>
    </li>
  );
}
