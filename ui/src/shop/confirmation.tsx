// An order the booth took: the pickup number, large; that it will be called; the change
// due for cash, or what to pay at collection; the receipt's QR code (and, where leaving
// the page is fine, a link to it); and the way to the next order. A kiosk goes back to
// its start by itself after a while. An order a kiosk took offline has no receipt yet:
// it says the receipt comes once the kiosk reaches the booth again. A kiosk whose booth
// prints receipts offers "Print a receipt" (once).

import { useEffect, useRef, useState } from 'preact/hooks';
import type { Minor, OrderReceipt } from '../api/selling';
import { t, tn } from '../i18n';
import { money } from '../lib/format';
import { useFocusOnMount } from './focus';

/** What the confirmation shows: a receipt, or an order a kiosk took offline (no receipt yet). */
export type Confirmed = Pick<OrderReceipt, 'pickup_number' | 'currency' | 'total' | 'payment' | 'change_due'> & {
  receipt_url?: string;
};

/** An order a kiosk took offline, as its confirmation shows it. */
export function offlineConfirmed(order: { pickupNumber: string; currency: string; body: { charged: { total: Minor }; payment: OrderReceipt['payment']; tendered?: Minor | null } }): Confirmed {
  const { charged, payment, tendered } = order.body;
  return {
    pickup_number: order.pickupNumber,
    currency: order.currency,
    total: charged.total,
    payment,
    change_due: payment === 'cash' && typeof tendered === 'number' ? tendered - charged.total : null,
  };
}

export function Confirmation({ receipt, qrUrl, showLink, autoCloseS, onNew, newLabel, audience = 'customer', onPrintReceipt = null }: {
  receipt: Confirmed;
  /** The receipt's QR code; null: taken offline, the receipt comes later. */
  qrUrl: string | null;
  /** A link to the receipt page (not on a kiosk: nothing there may leave the shop). */
  showLink: boolean;
  /** Seconds until `onNew` runs by itself; null: never. */
  autoCloseS: number | null;
  onNew: () => void;
  newLabel: string;
  audience?: 'customer' | 'staff';
  /** Prints the receipt on the booth's receipts printer; null: not offered here. */
  onPrintReceipt?: (() => Promise<void>) | null;
}) {
  const [printing, setPrinting] = useState<'idle' | 'asking' | 'done' | string>('idle');
  const printReceipt = async () => {
    if (!onPrintReceipt) return;
    setPrinting('asking');
    try {
      await onPrintReceipt();
      setPrinting('done');
    } catch (e) {
      setPrinting(t('done.receipt_failed', { message: e instanceof Error ? e.message : String(e) }));
    }
  };
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const [left, setLeft] = useState(autoCloseS);
  const latest = useRef(onNew);
  latest.current = onNew;
  useEffect(() => {
    if (autoCloseS === null) return;
    const started = performance.now();
    const timer = setInterval(() => {
      const remaining = Math.ceil(autoCloseS - (performance.now() - started) / 1000);
      if (remaining <= 0) {
        clearInterval(timer);
        latest.current();
      } else setLeft(remaining);
    }, 1000);
    return () => clearInterval(timer);
  }, [autoCloseS]);
  const c = receipt.currency;
  return (
    <section class="confirmation panel" aria-labelledby="done-title" data-testid="confirmation" data-offline={qrUrl ? undefined : 'true'}>
      <h2 id="done-title" tabIndex={-1} ref={heading}>{audience === 'customer' ? t('done.title') : t('done.title_staff')}</h2>
      <p class="number-label" id="pickup-label">{t('done.your_number')}</p>
      <p class="pickup-number" style={{ '--chars': receipt.pickup_number.length }} aria-describedby="pickup-label" data-testid="pickup-number">{receipt.pickup_number}</p>
      <p class="lead">{audience === 'customer' ? t('done.call') : t('done.call_staff')}</p>
      {receipt.payment === 'cash' && typeof receipt.change_due === 'number' && (
        <p class="change-done" data-testid="change-due-done">{t('pay.cash.change', { amount: money(receipt.change_due, c) })}</p>
      )}
      {receipt.payment === 'pay_at_pickup' && (
        <p class="to-pay" data-testid="to-pay">{t('done.pay_at_pickup', { amount: money(receipt.total, c) })}</p>
      )}
      {qrUrl ? (
        <figure class="receipt-qr">
          <img src={qrUrl} alt={t('done.qr_alt')} width={220} height={220} data-testid="receipt-qr" />
          <figcaption>{t('done.receipt_qr')}</figcaption>
        </figure>
      ) : (
        <p class="notice warn receipt-later" data-testid="receipt-later">{t('offline.receipt_later')}</p>
      )}
      {showLink && receipt.receipt_url && (
        <a class="big-button" href={receipt.receipt_url} data-testid="receipt-link">{t('done.receipt_link')}</a>
      )}
      {onPrintReceipt && printing !== 'done' && (
        <button type="button" class="big-button" data-testid="print-receipt" disabled={printing === 'asking'} onClick={() => void printReceipt()}>
          {t('done.print_receipt')}
        </button>
      )}
      {printing === 'done' && <p class="notice good" role="status" data-testid="receipt-printing">{t('done.receipt_printing')}</p>}
      {printing !== 'idle' && printing !== 'asking' && printing !== 'done' && <p class="notice bad" role="alert" data-testid="receipt-print-failed">{printing}</p>}
      <button type="button" class="big-button primary" data-testid="new-order" onClick={onNew}>{newLabel}</button>
      {left !== null && <p class="muted" data-testid="auto-close">{tn('done.back_soon', left)}</p>}
    </section>
  );
}
