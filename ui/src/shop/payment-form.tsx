// Choosing how an order is paid, for the shop's checkout and the counter's ticket: the
// methods this device may take (a kiosk or staff: the booth's methods; a phone: the
// phones' ones), and what each needs — card: the reference printed on the terminal's
// slip; cash: what was handed over, with quick amounts and the change due as it is
// typed; pay at pickup: nothing now. `paymentFor` turns a choice into the order's
// `payment`, or says in words what is missing.

import type { Minor, OrderRequest, PaymentMethod } from '../api/selling';
import { type Key, t } from '../i18n';
import { methodName } from '../i18n/words';
import { changeDue, quickTenders } from '../lib/cash';
import { minorDigits, money, parseMoney } from '../lib/format';

export interface PaymentChoice {
  method: PaymentMethod | null;
  reference: string;
  /** What was typed for cash handed over. */
  tendered: string;
}

export const NO_CHOICE: PaymentChoice = { method: null, reference: '', tendered: '' };

/** The first method when there is only one to choose from. */
export function initialChoice(methods: PaymentMethod[]): PaymentChoice {
  return { ...NO_CHOICE, method: methods.length === 1 ? methods[0] : null };
}

export type Audience = 'customer' | 'staff';

export function paymentFor(choice: PaymentChoice, total: Minor, currency: string):
  { ok: true; payment: OrderRequest['payment'] } | { ok: false; problem: string } {
  switch (choice.method) {
    case null:
      return { ok: false, problem: t('pay.choose') };
    case 'card': {
      const reference = choice.reference.trim();
      if (reference.length < 1 || reference.length > 40) return { ok: false, problem: t('pay.reference_needed') };
      return { ok: true, payment: { method: 'card', reference } };
    }
    case 'cash': {
      const tendered = parseMoney(choice.tendered, currency);
      if (tendered === null || tendered < total) return { ok: false, problem: t('pay.tendered_needed', { amount: money(total, currency) }) };
      return { ok: true, payment: { method: 'cash', tendered } };
    }
    default:
      return { ok: true, payment: { method: choice.method } };
  }
}

const HINTS: Record<Audience, Partial<Record<PaymentMethod, Key>>> = {
  customer: { card: 'pay.card.hint', pay_at_pickup: 'pay.pickup.hint', mobile: 'pay.mobile.hint', voucher: 'pay.voucher.hint' },
  staff: { card: 'pay.card.hint_staff', pay_at_pickup: 'pay.pickup.hint_staff', mobile: 'pay.mobile.hint_staff', voucher: 'pay.voucher.hint_staff' },
};

export function PaymentForm({ methods, total, currency, choice, onChoice, audience, idPrefix }: {
  methods: PaymentMethod[];
  total: Minor;
  currency: string;
  choice: PaymentChoice;
  onChoice: (c: PaymentChoice) => void;
  audience: Audience;
  /** Keeps ids unique when two forms could be on one page. */
  idPrefix: string;
}) {
  const tendered = parseMoney(choice.tendered, currency);
  const change = changeDue(total, tendered);
  const hint = choice.method ? HINTS[audience][choice.method] : undefined;
  return (
    <fieldset class="payment" data-testid="payment">
      <legend>{audience === 'customer' ? t('pay.title') : t('pay.title_staff')}</legend>
      <div class="methods">
        {methods.map((m) => (
          <label class={`method${choice.method === m ? ' chosen' : ''}`} key={m}>
            <input type="radio" name={`${idPrefix}-method`} value={m} checked={choice.method === m} data-testid={`pay-${m}`}
              onChange={() => onChoice({ ...choice, method: m })} />
            <span>{methodName(m)}</span>
          </label>
        ))}
      </div>
      {hint && <p class="pay-hint" data-testid="pay-hint">{t(hint)}</p>}
      {choice.method === 'card' && (
        <label class="field">
          <span>{t('pay.card.reference')}</span>
          <input type="text" value={choice.reference} maxLength={40} autoComplete="off" autoCapitalize="characters" spellcheck={false}
            data-testid="card-reference" onInput={(e) => onChoice({ ...choice, reference: (e.target as HTMLInputElement).value })} />
        </label>
      )}
      {choice.method === 'cash' && (
        <div class="cash">
          <label class="field">
            <span>{t('pay.cash.tendered')}</span>
            <input type="text" inputMode="decimal" value={choice.tendered} autoComplete="off" data-testid="cash-tendered"
              aria-invalid={choice.tendered !== '' && tendered === null}
              onInput={(e) => onChoice({ ...choice, tendered: (e.target as HTMLInputElement).value })} />
          </label>
          <div class="buttons quick" role="group" aria-label={t('pay.cash.quick')}>
            {[total, ...quickTenders(total, currency)].map((amount, i) => (
              <button type="button" class="big-button" key={amount} data-testid={i === 0 ? 'tender-exact' : 'tender-quick'}
                aria-label={t('pay.cash.handed', { amount: money(amount, currency) })}
                onClick={() => onChoice({ ...choice, tendered: (amount / 10 ** minorDigits(currency)).toFixed(minorDigits(currency)) })}>
                {i === 0 ? t('pay.cash.exact', { amount: money(amount, currency) }) : money(amount, currency)}
              </button>
            ))}
          </div>
          <p class={`change${change === null && tendered !== null ? ' short' : ''}`} role="status" aria-live="polite" data-testid="change-due">
            {change !== null
              ? t('pay.cash.change', { amount: money(change, currency) })
              : tendered !== null
                ? t('pay.cash.short', { amount: money(total - tendered, currency) })
                : choice.tendered !== '' ? t('pay.cash.invalid') : ''}
          </p>
        </div>
      )}
    </fieldset>
  );
}
