// Words for the node's codes, in the page's language: refusals by their code (the
// node's own message, in English, only for codes we do not know), payment methods and
// where an order is.

import type { ApiError } from '../api/errors';
import type { Fulfilment, PaymentMethod } from '../api/selling';
import { type Key, t } from './index';

const ERRORS: Record<string, Key> = {
  unreachable: 'error.unreachable',
  out_of_stock: 'error.out_of_stock',
  invalid_quote: 'error.invalid_quote',
  quote_used: 'error.invalid_quote',
  booth_closed: 'error.booth_closed',
  payment_not_allowed: 'error.payment_not_allowed',
  rate_limited: 'error.busy',
  staff_session_needed: 'error.staff_session_needed',
  wrong_pin: 'error.wrong_pin',
  refund_exceeds: 'error.refund_exceeds',
  already_synced: 'error.already_synced',
  invalid_transition: 'error.invalid_transition',
  payment_needed: 'error.payment_needed',
  tier_not_allowed: 'error.tier_not_allowed',
  not_found: 'error.not_found',
};

/** A refusal in words a customer or a booth worker understands. */
export function errorText(error: ApiError): string {
  if (error.code === 'staff_locked') {
    const minutes = Math.max(1, Math.ceil((error.retryAfter ?? 60) / 60));
    return t('error.staff_locked', { minutes });
  }
  const key = ERRORS[error.code];
  if (key) return t(key);
  if (error.status === 429 || error.status === 503) return t('error.busy');
  return t('error.other', { message: error.message });
}

const METHODS: PaymentMethod[] = ['card', 'cash', 'mobile', 'voucher', 'pay_at_pickup'];

/** A payment method in words (one we do not know, as the node wrote it). */
export function methodName(method: PaymentMethod | string): string {
  return (METHODS as string[]).includes(method) ? t(`method.${method as PaymentMethod}`) : method.replace(/_/g, ' ');
}

/** How staff call an order: its pickup number, or (orders from before pickup numbers) the start of its id. */
export function orderName(order: { pickup_number?: string | null; order_id: string }): string {
  return order.pickup_number ?? `#${order.order_id.slice(0, 8)}`;
}

/** Where an order is, as the counter says it. */
export function fulfilmentWord(f: Fulfilment): string {
  return t(`fulfilment.${f}` as Key);
}

/** Where an order is, as the customer's receipt says it. */
export function receiptStep(f: Fulfilment): string {
  return t(`receipt.step.${f}` as Key);
}
