// A priced basket in words (the node's quote, or a kiosk's own price while the booth is
// away): each line (quantity, name, price), each discount with the reason the promotion
// gives, then subtotal, discount and total. The total is a live region, so a screen
// reader hears it change as the basket does. Used by the shop's basket, its checkout
// and the counter's ticket.

import { t } from '../i18n';
import { money } from '../lib/format';
import type { Priced } from './pricing';

export function Totals({ quote, stale, testid = 'basket-total' }: { quote: Priced; stale: boolean; testid?: string }) {
  const c = quote.currency;
  return (
    <div class={`totals${stale ? ' stale' : ''}`} aria-busy={stale}>
      {quote.discounts.length > 0 && (
        <ul class="discounts" aria-label={t('basket.discounts')} data-testid="discounts">
          {quote.discounts.map((d) => (
            <li key={d.promotion} data-testid="discount">
              <span class="discount-name">{d.name}</span>
              <span class="amount">−{money(d.amount, c)}</span>
              <span class="discount-why">{d.reason}</span>
            </li>
          ))}
        </ul>
      )}
      <dl class="sums">
        {quote.discount > 0 && (
          <>
            <div><dt>{t('common.subtotal')}</dt><dd data-testid="basket-subtotal">{money(quote.subtotal, c)}</dd></div>
            <div><dt>{t('common.discount')}</dt><dd data-testid="basket-discount">−{money(quote.discount, c)}</dd></div>
          </>
        )}
        <div class="grand">
          <dt>{t('common.total')}</dt>
          <dd data-testid={testid} aria-live="polite" aria-atomic="true">{money(quote.total, c)}</dd>
        </div>
      </dl>
    </div>
  );
}

/** The priced lines, read-only (checkout, the order on its way). */
export function PricedLines({ quote }: { quote: Priced }) {
  return (
    <ul class="priced-lines">
      {quote.lines.map((l) => (
        <li key={l.sku}>
          <span class="qty">{l.qty} ×</span>
          <span class="name">{l.name}</span>
          <span class="amount">{money(l.subtotal, quote.currency)}</span>
        </li>
      ))}
    </ul>
  );
}
