// The counter's dialogs over an order: voiding it (a reason, then hold to confirm; only
// before it went to the hub) and refunding it (an amount, prefilled with what is left,
// and a reason). Each is a Sheet, rendered at the page's top level so everything else
// is out of reach while it is open, wherever the counter itself sits (its own page,
// or the dashboard's Sell screen).

import { createPortal } from 'preact/compat';
import { useState } from 'preact/hooks';
import { ApiError } from '../api/errors';
import type { CounterOrder } from '../api/selling';
import type { SellingApi } from '../api/selling-api';
import { HoldButton } from '../components/hold-button';
import { Sheet } from '../components/sheet';
import { t } from '../i18n';
import { errorText, orderName } from '../i18n/words';
import { minorDigits, money, parseMoney } from '../lib/format';

function Dialog(props: Parameters<typeof Sheet>[0]) {
  return createPortal(<Sheet {...props} />, document.body);
}

export function VoidDialog({ api, order, onDone, onClose, onRefundInstead }: {
  api: SellingApi;
  order: CounterOrder;
  onDone: (text: string) => void;
  onClose: () => void;
  /** The order went to the hub meanwhile: a refund is the way back. */
  onRefundInstead: () => void;
}) {
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [synced, setSynced] = useState(false);
  const go = async () => {
    if (!reason.trim()) {
      setProblem(t('counter.reason_needed'));
      return;
    }
    setBusy(true);
    try {
      await api.voidOrder(order.order_id, { reason: reason.trim() });
      onDone(t('counter.voided', { number: orderName(order) }));
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, 'unreachable', String(e));
      if (err.code === 'already_synced') setSynced(true);
      setProblem(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={t('counter.void_title', { number: orderName(order) })} testid="void-dialog" onClose={onClose}>
      <p>{t('counter.void_explain', { amount: money(order.total, order.currency) })}</p>
      <label class="field">
        <span>{t('counter.reason')}</span>
        <input type="text" value={reason} maxLength={200} data-testid="void-reason" aria-invalid={problem !== null && !reason.trim()}
          onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
      </label>
      {problem && <p class="notice bad" role="alert" data-testid="void-problem">{problem}</p>}
      <div class="buttons">
        {synced ? (
          <button type="button" class="big-button primary" data-testid="refund-instead" onClick={onRefundInstead}>{t('counter.refund_instead')}</button>
        ) : (
          <HoldButton label={t('counter.void_confirm')} hint={t('counter.hold_hint')} testid="void-confirm" disabled={busy}
            onConfirm={() => void go()} />
        )}
      </div>
    </Dialog>
  );
}

export function RefundDialog({ api, order, onDone, onClose }: {
  api: SellingApi;
  order: CounterOrder;
  onDone: (text: string) => void;
  onClose: () => void;
}) {
  const remaining = Math.max(0, order.total - order.refunded);
  const digits = minorDigits(order.currency);
  const [amountText, setAmountText] = useState((remaining / 10 ** digits).toFixed(digits));
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const amount = parseMoney(amountText, order.currency);
  const amountOk = amount !== null && amount > 0 && amount <= remaining;
  const go = async (e: Event) => {
    e.preventDefault();
    if (!amountOk) {
      setProblem(t('counter.amount_invalid', { max: money(remaining, order.currency) }));
      return;
    }
    if (!reason.trim()) {
      setProblem(t('counter.reason_needed'));
      return;
    }
    setBusy(true);
    try {
      const r = await api.refund(order.order_id, { amount: amount!, reason: reason.trim() });
      onDone(t('counter.refunded_done', { amount: money(r.amount, order.currency), number: orderName(order) }));
    } catch (err) {
      setProblem(err instanceof ApiError ? errorText(err) : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={t('counter.refund_title', { number: orderName(order) })} testid="refund-dialog" onClose={onClose}>
      <form class="refund-form" onSubmit={(e) => void go(e)}>
        <p>{t('counter.refund_left', { amount: money(remaining, order.currency) })}</p>
        <label class="field">
          <span>{t('counter.refund_amount')}</span>
          <input type="text" inputMode="decimal" value={amountText} data-testid="refund-amount" aria-invalid={!amountOk}
            onInput={(e) => setAmountText((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>{t('counter.reason')}</span>
          <input type="text" value={reason} maxLength={200} data-testid="refund-reason" aria-required="true"
            onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
        </label>
        {problem && <p class="notice bad" role="alert" data-testid="refund-problem">{problem}</p>}
        <div class="buttons">
          <button type="submit" class="big-button primary" data-testid="refund-confirm" disabled={busy}>
            {t('counter.refund_confirm', { amount: amountOk ? money(amount!, order.currency) : '…' })}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
