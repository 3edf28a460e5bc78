// The counter's Sell tab: staff ring up a customer. The favourites first (the event's
// `shop.favourites`), then every other item, or what a search finds; each tile adds one
// and shows the stock left, with a warning at the event's low-stock mark and no tap
// when sold out. Beside it the ticket: lines with steppers, the price tier (regular,
// crew, member… — a staff session may price any tier), the live quote, the payment
// (cash with change due, the card slip's reference, or pay at pickup) and "Ring up",
// which answers the pickup number.

import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Catalogue, Item } from '../api/selling';
import type { SellingApi } from '../api/selling-api';
import { t, tn } from '../i18n';
import { errorText } from '../i18n/words';
import { money } from '../lib/format';
import { useBasket } from '../shop/basket';
import { categoryName, matches, tierName, unitsLeft } from '../shop/catalogue';
import { Checkout, confirmPriced, useCheckout } from '../shop/checkout';
import { Confirmation } from '../shop/confirmation';
import { initialChoice, type PaymentChoice, PaymentForm } from '../shop/payment-form';
import { useLiveQuote } from '../shop/pricing';
import { Totals } from '../shop/quote-summary';
import { SendingPanel } from '../shop/sending';
import { Stepper } from '../shop/stepper';
import { browserStore } from '../lib/stored';

export function Sell({ api, catalogue, scope, onSessionEnded, onOrdered }: {
  api: SellingApi;
  catalogue: Catalogue;
  /** Keeps this counter's basket and order in flight apart from another's in this browser. */
  scope: string;
  onSessionEnded: () => void;
  /** An order was rung up (the Orders tab refreshes). */
  onOrdered: () => void;
}) {
  const basket = useBasket(`boothcloud.${scope}.basket`);
  const checkout = useMemo(() => new Checkout(api, browserStore(), `boothcloud.${scope}.pending`), [api, scope]);
  const order = useCheckout(checkout);
  const [tier, setTier] = useState<string>('');
  const [query, setQuery] = useState('');
  const methods = catalogue.payments.methods;
  const [choice, setChoice] = useState<PaymentChoice>(() => initialChoice(methods));
  const [problem, setProblem] = useState<string | null>(null);
  const busy = order.state.kind === 'sending' || order.state.kind === 'waiting' || order.state.kind === 'session';
  const { live, renew } = useLiveQuote(api, basket.lines, { tier: tier || null }, !busy);
  const items = useMemo(() => new Map(catalogue.items.map((i) => [i.sku, i] as [string, Item])), [catalogue]);

  useEffect(() => {
    basket.keepOnly(new Set(catalogue.items.map((i) => i.sku)));
    if (tier && !catalogue.tiers.includes(tier)) setTier('');
  }, [catalogue]);

  useEffect(() => {
    const s = order.state;
    if (s.kind === 'placed') {
      basket.clear();
      setTier('');
      setChoice(initialChoice(methods));
      setProblem(null);
      onOrdered();
    } else if (s.kind === 'refused') {
      setProblem(errorText(s.error));
      if (s.requote) void renew().catch(() => undefined);
      order.dismiss();
    } else if (s.kind === 'session') {
      onSessionEnded();
    }
  }, [order.state]);

  useEffect(() => {
    if (live.kind === 'refused' && live.error.status === 401) onSessionEnded();
  }, [live]);

  const ringUp = async () => {
    if (live.kind !== 'priced') return;
    await confirmPriced({ held: live.held, choice, lines: basket.lines, renew, confirm: order.confirm, showProblem: setProblem });
  };

  const s = order.state;
  let ticket;
  if (s.kind === 'sending' || s.kind === 'waiting' || s.kind === 'session') {
    ticket = (
      <SendingPanel pending={s.pending} waiting={s.kind === 'waiting' ? s : null} onRetry={order.retryNow}
        onAbandon={order.abandon} abandonHint={t('counter.abandon_hint')} />
    );
  } else if (s.kind === 'placed') {
    ticket = (
      <Confirmation receipt={s.receipt} qrUrl={api.receiptQrUrl(s.receipt.receipt_id)} showLink={false} autoCloseS={null}
        onNew={order.dismiss} newLabel={t('counter.next_customer')} audience="staff" />
    );
  } else {
    const held = live.kind === 'priced' || live.kind === 'pricing' || live.kind === 'unreachable' ? live.held : null;
    ticket = (
      <section class="ticket panel" aria-labelledby="ticket-title" data-testid="ticket">
        <h2 id="ticket-title">{t('counter.ticket')} <span class="count">{tn('basket.items', basket.count)}</span></h2>
        <label class="field inline-field">
          <span>{t('counter.tier')}</span>
          <select value={tier} data-testid="counter-tier" onChange={(e) => setTier((e.target as HTMLSelectElement).value)}>
            <option value="">{t('counter.tier_regular')}</option>
            {catalogue.tiers.map((tr) => <option value={tr} key={tr}>{tierName(tr)}</option>)}
          </select>
        </label>
        {basket.lines.length === 0 && <p class="empty" data-testid="ticket-empty">{t('counter.ticket_empty')}</p>}
        <ul class="basket-lines">
          {basket.lines.map((line) => {
            const item = items.get(line.sku);
            if (!item) return null;
            const priced = held?.quote.lines.find((l) => l.sku === line.sku && l.qty === line.qty);
            return (
              <li key={line.sku} data-testid="ticket-line" data-sku={line.sku}>
                <span class="name">{item.name}</span>
                <Stepper name={item.name} qty={line.qty} max={unitsLeft(item)} onSet={(q) => basket.set(line.sku, q)} testid={`ticket-qty-${line.sku}`} />
                <span class="amount">{money(priced?.subtotal ?? item.price * line.qty, item.currency)}</span>
              </li>
            );
          })}
        </ul>
        {held && basket.lines.length > 0 && <Totals quote={held.quote} stale={live.kind !== 'priced'} testid="counter-total" />}
        <div role="status" aria-live="polite">
          {live.kind === 'pricing' && <p class="muted">{t('basket.updating')}</p>}
          {live.kind === 'unreachable' && <p class="notice warn" data-testid="counter-unreachable">{t('error.unreachable')}</p>}
        </div>
        {live.kind === 'refused' && <p class="notice bad" role="alert" data-testid="ticket-problem">{errorText(live.error)}</p>}
        {held && basket.lines.length > 0 && (
          <PaymentForm methods={methods} total={held.quote.total} currency={held.quote.currency} choice={choice} onChoice={setChoice}
            audience="staff" idPrefix={`${scope}-pay`} />
        )}
        {problem && <p class="notice bad" role="alert" data-testid="order-problem">{problem}</p>}
        {basket.lines.length > 0 && (
          <div class="buttons">
            <button type="button" class="big-button primary wide" data-testid="ring-up" disabled={live.kind !== 'priced'} onClick={() => void ringUp()}>
              {t('counter.ring_up')}{live.kind === 'priced' && <> · {money(live.held.quote.total, live.held.quote.currency)}</>}
            </button>
            <button type="button" class="big-button" data-testid="ticket-clear" onClick={() => {
              basket.clear();
              setProblem(null);
            }}>{t('counter.clear_ticket')}</button>
          </div>
        )}
      </section>
    );
  }

  const favourites = catalogue.shop.favourites.map((sku) => items.get(sku)).filter((i): i is Item => !!i);
  const favouriteSkus = new Set(favourites.map((i) => i.sku));
  const searching = query.trim() !== '';
  const others = catalogue.items.filter((i) => (searching ? matches(i, query) : !favouriteSkus.has(i.sku)));
  const tile = (item: Item) => (
    <ItemTile key={item.sku} item={item} inTicket={basket.qty(item.sku)} lowAt={catalogue.shop.low_stock_at} disabled={busy || s.kind === 'placed'}
      onAdd={() => basket.add(item.sku)} />
  );
  return (
    <div class="sell" data-testid="sell">
      <div class="sell-items">
        <label class="search">
          <span class="sr-only">{t('counter.search')}</span>
          <input type="search" value={query} placeholder={t('counter.search')} data-testid="counter-search"
            onInput={(e) => setQuery((e.target as HTMLInputElement).value)} />
        </label>
        {!searching && favourites.length > 0 && (
          <section aria-labelledby="favourites-title" data-testid="favourites">
            <h2 id="favourites-title">{t('counter.favourites')}</h2>
            <div class="item-tiles">{favourites.map(tile)}</div>
          </section>
        )}
        <section aria-labelledby="items-title" data-testid="all-items">
          <h2 id="items-title">{searching ? t('counter.found') : favourites.length ? t('counter.other_items') : t('counter.all_items')}</h2>
          {others.length === 0 && <p class="empty">{t('shop.no_match', { query: query.trim() })}</p>}
          <div class="item-tiles">{others.map(tile)}</div>
        </section>
      </div>
      <div class="ticket-side">{ticket}</div>
    </div>
  );
}

/** One item at the counter: a tap adds one; stock left on it, a warning when low. */
function ItemTile({ item, inTicket, lowAt, disabled, onAdd }: {
  item: Item;
  inTicket: number;
  lowAt: number;
  disabled: boolean;
  onAdd: () => void;
}) {
  const left = unitsLeft(item);
  const soldOut = left === 0;
  const low = left !== null && !soldOut && left <= lowAt;
  const full = left !== null && inTicket >= left;
  const info = `item-${item.sku}-info`;
  return (
    <button type="button" class={`item-tile${low ? ' low' : ''}${soldOut ? ' sold-out' : ''}`} data-testid="item-tile" data-sku={item.sku}
      aria-label={t('shop.add', { name: item.name })} aria-describedby={info} disabled={disabled || soldOut || full} onClick={onAdd}>
      <span class="item-name" aria-hidden="true">{item.name}</span>
      <span id={info} class="item-info">
        <span class="item-price">{money(item.price, item.currency)}</span>
        <span class="item-category">{categoryName(item.category)}</span>
        {left !== null && (
          <span class="item-stock" data-testid="item-stock">
            {soldOut ? t('shop.sold_out') : low ? <><span aria-hidden="true">⚠ </span>{tn('counter.low_stock', left)}</> : tn('shop.left', left)}
          </span>
        )}
        {inTicket > 0 && <span class="item-in-ticket">{tn('counter.in_ticket', inTicket)}</span>}
      </span>
    </button>
  );
}
