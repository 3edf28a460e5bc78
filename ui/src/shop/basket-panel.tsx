// The shop's basket: each line with a stepper and its price from the live quote, the
// discounts with their reasons, the totals, what stops an order (sold out, the booth
// out of reach or closed) in words, and the way on to checkout. On a wide screen it sits
// beside the products; on a phone it follows them, with a bar at the bottom that jumps
// to it.

import type { Item } from '../api/selling';
import { t, tn } from '../i18n';
import { errorText } from '../i18n/words';
import { money } from '../lib/format';
import type { Basket } from './basket';
import { unitsLeft } from './catalogue';
import { type LiveQuote, shownPrice } from './pricing';
import { Totals } from './quote-summary';
import { Stepper } from './stepper';

export function BasketPanel({ basket, items, live, canOrder, onCheckout }: {
  basket: Basket;
  items: Map<string, Item>;
  live: LiveQuote;
  /** False while the booth is out of reach or closed: the basket is kept, ordering waits. */
  canOrder: boolean;
  onCheckout: () => void;
}) {
  const shown = shownPrice(live);
  const quote = shown?.priced ?? null;
  return (
    <section class="basket" id="basket" aria-labelledby="basket-title" data-testid="basket">
      <h2 id="basket-title" tabIndex={-1}>
        {t('basket.title')} <span class="count" data-testid="basket-count">{tn('basket.items', basket.count)}</span>
      </h2>
      {basket.lines.length === 0 && <p class="empty" data-testid="basket-empty">{t('basket.empty')}</p>}
      {basket.lines.length > 0 && (
        <ul class="basket-lines">
          {basket.lines.map((line) => {
            const item = items.get(line.sku);
            if (!item) return null;
            const left = unitsLeft(item);
            const priced = quote?.lines.find((l) => l.sku === line.sku && l.qty === line.qty);
            return (
              <li key={line.sku} data-testid="basket-line" data-sku={line.sku}>
                <span class="name">{item.name}</span>
                <Stepper name={item.name} qty={line.qty} max={left} onSet={(q) => basket.set(line.sku, q)} testid={`qty-${line.sku}`} />
                <span class="amount">{money(priced?.subtotal ?? item.price * line.qty, item.currency)}</span>
                {left !== null && line.qty > left && (
                  <span class="line-problem" data-testid="line-short">{left === 0 ? t('shop.sold_out') : tn('shop.left', left)}</span>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {quote && basket.lines.length > 0 && <Totals quote={quote} stale={!!shown?.stale} />}
      <div class="basket-status" role="status" aria-live="polite" data-testid="basket-status">
        {live.kind === 'pricing' && <p class="muted">{t('basket.updating')}</p>}
      </div>
      {live.kind === 'refused' && (
        <p class="notice bad" role="alert" data-testid="basket-problem">{errorText(live.error)}</p>
      )}
      {live.kind === 'unreachable' && live.local && !live.local.ok && (
        <p class="notice bad" role="alert" data-testid="basket-problem">{t('offline.why.cannot_price')} {t('offline.staff')}</p>
      )}
      {basket.lines.length > 0 && (
        <div class="basket-actions">
          <button type="button" class="big-button primary wide" data-testid="checkout" disabled={!shown || shown.stale || !canOrder} onClick={onCheckout}>
            {t('basket.checkout')}
            {shown && !shown.stale && <> · {money(shown.priced.total, shown.priced.currency)}</>}
          </button>
          <button type="button" class="big-button" data-testid="basket-clear" onClick={() => basket.clear()}>
            {t('basket.clear')}
          </button>
        </div>
      )}
    </section>
  );
}

/** The bar at a phone's bottom edge: items and total, and a jump to the basket. */
export function BasketBar({ basket, live }: { basket: Basket; live: LiveQuote }) {
  if (basket.count === 0) return null;
  const shown = shownPrice(live);
  const quote = shown && !shown.stale ? shown.priced : null;
  return (
    <div class="basket-bar" data-testid="basket-bar">
      <button type="button" class="big-button primary wide" onClick={() => {
        const panel = document.getElementById('basket');
        panel?.scrollIntoView({ behavior: 'smooth', block: 'start' });
        document.getElementById('basket-title')?.focus({ preventScroll: true });
      }}>
        {t('basket.view')} · {tn('basket.items', basket.count)}{quote && <> · {money(quote.total, quote.currency)}</>}
      </button>
    </div>
  );
}
