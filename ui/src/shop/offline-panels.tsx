// What a kiosk shows about selling without the booth: the banner that stays while it is
// offline or holds orders not delivered yet ("Kiosk offline: 3 orders waiting", then
// counting down as they reach the booth; orders that need staff stay listed, with a way
// to send one again), the "Please ask a member of staff" block where it may not take an
// order by itself, and every reason for that in plain words.

import { useState } from 'preact/hooks';
import { t, tn } from '../i18n';
import { methodName } from '../i18n/words';
import { money } from '../lib/format';
import type { NotTaken } from './checkout';
import type { QueuedOrder } from './offline/store';
import type { CannotSell, TillState } from './offline/till';

/** Why the kiosk cannot take an order by itself, in words for the customer and staff. */
export function cannotSellText(c: CannotSell, currency: string): string {
  switch (c.kind) {
    case 'order_too_large':
      return t('offline.why.order_too_large', { amount: money(c.max, currency) });
    case 'queue_total':
      return t('offline.why.queue_total', { amount: money(c.max, currency) });
    case 'queue_full':
      return t('offline.why.queue_full', { n: c.max });
    case 'kit_too_old':
      return t('offline.why.kit_too_old');
    case 'no_numbers':
      return t('offline.why.no_numbers');
    case 'method':
      return t('offline.why.method');
    case 'no_kit':
      return t('offline.why.no_kit');
    case 'no_engine':
      return t('offline.why.no_engine');
    case 'storage':
      return t('offline.why.storage');
    case 'refused_device':
      return t('offline.why.refused_device');
  }
}

/** A take the till refused, in words. */
export function offlineProblem(failed: NotTaken, currency: string): string {
  if ('priceChanged' in failed) return t('checkout.price_changed');
  if ('problem' in failed) return `${t('offline.why.cannot_price')} ${t('offline.staff')}`;
  return `${t('offline.staff')} ${cannotSellText(failed.cannot, currency)}`;
}

/** Instead of paying: the kiosk may not take this order by itself. */
export function StaffNeeded({ why }: { why: string }) {
  return (
    <div class="notice bad staff-needed" role="alert" data-testid="offline-staff-needed">
      <p class="lead">{t('offline.staff')}</p>
      <p>{why}</p>
    </div>
  );
}

/** Why an order waits for staff, in words (the node's own words for codes we do not know). */
function waitingWhy(order: QueuedOrder): string {
  if (!order.error) return '';
  if (order.error.code === 'idempotency_key_reused') return t('offline.why.key_used');
  return order.error.message;
}

export function OfflineBanner({ till, away, canSell, onSendAgain }: {
  till: TillState;
  /** The booth cannot be reached now. */
  away: boolean;
  /** Whether the kiosk can take orders by itself (a kit, an engine, its store). */
  canSell: boolean;
  onSendAgain: (seq: number) => void;
}) {
  const [open, setOpen] = useState(false);
  const waiting = till.queue.filter((o) => o.state === 'waiting').length;
  const staff = till.queue.filter((o) => o.state === 'needs_staff');
  if (!away && till.queue.length === 0 && !till.refusedDevice) return null;
  let text: string | null;
  if (till.refusedDevice) text = t('offline.banner.refused_device');
  else if (away && !canSell) text = t('offline.banner.cannot_sell');
  else if (away) text = waiting > 0 ? tn('offline.banner.waiting', waiting) : t('offline.banner.selling');
  else text = waiting > 0 ? tn('offline.banner.sending', waiting) : null;
  const bad = till.refusedDevice || (away && !canSell) || staff.length > 0;
  return (
    <div class={`banner offline-banner ${bad ? 'bad' : 'warn'}`} role="status" data-testid="offline-banner"
      data-waiting={waiting} data-needs-staff={staff.length}>
      {text && <p data-testid="offline-banner-text">{text}</p>}
      {staff.length > 0 && (
        <div class="offline-staff">
          <p data-testid="offline-needs-staff">{tn('offline.banner.staff', staff.length)}</p>
          <button type="button" class="big-button" aria-expanded={open} aria-controls="offline-staff-list" data-testid="offline-staff-toggle"
            onClick={() => setOpen(!open)}>
            {open ? t('offline.hide_staff') : t('offline.show_staff')}
          </button>
        </div>
      )}
      {open && staff.length > 0 && (
        <ul class="offline-staff-list" id="offline-staff-list">
          {staff.map((o) => (
            <li key={o.seq} data-testid="offline-staff-order">
              <p>
                <strong>{o.pickupNumber}</strong> · {money(o.body.charged.total, o.currency)} · {methodName(o.body.payment)}
                {o.body.reference ? ` (${o.body.reference})` : ''}
              </p>
              <p>{waitingWhy(o)}</p>
              <button type="button" class="big-button" data-testid="offline-send-again" onClick={() => onSendAgain(o.seq)}>
                {t('offline.send_again', { number: o.pickupNumber })}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
