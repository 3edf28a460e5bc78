// The shop: customers order on the booth's kiosks or on their own phones. Browse
// (categories, search, products) with the basket beside it and its live quote; then
// checkout (how to pay), the order on its way, and its pickup number.
//
// A kiosk (see kiosk.ts) takes the booth's payment methods, has no links out, bigger
// targets, and an attract screen when left alone. When it cannot reach the booth it
// keeps selling with its offline till (offline/till.ts): its own prices from the node's
// engine, card or cash as its kit allows, a pickup number of its own, the order kept
// and delivered later; a banner says so while it is offline or holds orders. A phone
// orders ahead with the phones' methods (pay at pickup, as a rule); when the booth
// cannot be reached its basket stays and ordering waits — a phone never keeps an order
// to send later.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { BasketLine, Catalogue, Item } from '../api/selling';
import type { SellingApi } from '../api/selling-api';
import { t, useLang } from '../i18n';
import { errorText } from '../i18n/words';
import { browserStore, readJson, writeJson } from '../lib/stored';
import { Attract } from './attract';
import { BasketBar, BasketPanel } from './basket-panel';
import { useBasket } from './basket';
import { basketOffers, useCatalogue } from './catalogue';
import { Checkout, confirmOffline, confirmPriced, useCheckout } from './checkout';
import { Confirmation, offlineConfirmed } from './confirmation';
import { useFocusOnMount } from './focus';
import { useIdle } from './kiosk';
import { LanguageSwitch } from './language-switch';
import { cannotSellText, OfflineBanner, offlineProblem, StaffNeeded } from './offline-panels';
import type { QueuedOrder } from './offline/store';
import { type CannotSell, type OfflineTill, useTillState } from './offline/till';
import { initialChoice, type PaymentChoice, PaymentForm } from './payment-form';
import { type LiveQuote, shownPrice, useLiveQuote } from './pricing';
import { Filters, ProductGrid } from './product-grid';
import { PricedLines, Totals } from './quote-summary';
import { SendingPanel } from './sending';
import { applyTheme } from './theme';

const BASKET_KEY = 'boothcloud.shop.basket';
const PENDING_KEY = 'boothcloud.shop.pending';
/** A phone's last order, for the "your order" link after the confirmation is gone. */
const LAST_KEY = 'boothcloud.shop.last';
const LAST_KEPT_MS = 12 * 3600_000;
const KIOSK_CONFIRMATION_S = 20;

interface LastOrder {
  pickup_number: string;
  receipt_url: string;
  at: number;
}

function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine !== false);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, []);
  return online;
}

export function Shop({ api, kiosk, till = null }: {
  api: SellingApi;
  kiosk: boolean;
  /** An enrolled kiosk's offline till (never a phone's). */
  till?: OfflineTill | null;
}) {
  const lang = useLang();
  const store = browserStore();
  const { catalogue, error: catalogueError, reload } = useCatalogue(api);
  const basket = useBasket(BASKET_KEY);
  const checkout = useMemo(() => new Checkout(api, store, PENDING_KEY), [api]);
  const order = useCheckout(checkout, till);
  const tillState = useTillState(till);
  const busy = order.state.kind === 'sending' || order.state.kind === 'waiting' || order.state.kind === 'session';
  const pricer = useMemo(() => (till ? (lines: BasketLine[]) => till.price(lines) : null), [till]);
  const priceKey = tillState ? `${tillState.engine} ${tillState.kit?.kit.price_book_digest ?? ''}` : null;
  const { live, renew } = useLiveQuote(api, basket.lines, {}, !busy, pricer, priceKey);
  const online = useOnline();
  const [view, setView] = useState<'browse' | 'checkout'>('browse');
  const [category, setCategory] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  /** An order the kiosk took offline, being confirmed. */
  const [taken, setTaken] = useState<QueuedOrder | null>(null);
  const taking = useRef(false);

  const closed = (live.kind === 'refused' && live.error.code === 'booth_closed') || catalogueError?.code === 'booth_closed';
  // A quote answered just now says the booth is there, whatever the till last saw.
  const answered = live.kind === 'priced' || live.kind === 'refused';
  const catalogueAway = !!catalogueError && (till ? catalogueError.boothAway : catalogueError.unreachable);
  const unreachable = !online || live.kind === 'unreachable' || catalogueAway || (!answered && tillState?.reached === false);
  const sellOffline = !!till && !!tillState && unreachable && !closed;
  const tillReady = !!tillState && !!tillState.kit && tillState.engine === 'ready' && tillState.storage === 'ready' && !tillState.refusedDevice;
  const methods = sellOffline
    ? (tillState?.kit?.kit.limits.methods ?? [])
    : catalogue ? (kiosk ? catalogue.payments.methods : catalogue.payments.phones) : [];
  const [choice, setChoice] = useState<PaymentChoice>(() => initialChoice(methods));
  const [problem, setProblem] = useState<string | null>(null);
  const [last, setLast] = useState<LastOrder | null>(() => {
    const kept = kiosk ? null : readJson<LastOrder>(store, LAST_KEY);
    return kept && Date.now() - kept.at < LAST_KEPT_MS ? kept : null;
  });

  const items = useMemo(() => new Map((catalogue?.items ?? []).map((i) => [i.sku, i] as [string, Item])), [catalogue]);
  const idleAfter = (catalogue?.shop.attract_after_s ?? 0) * 1000;
  const { idle, wake } = useIdle(idleAfter, kiosk && !busy && !!catalogue);

  useEffect(() => {
    if (!catalogue) return;
    applyTheme(catalogue.shop.theme_color, catalogue.shop.background_color);
    document.title = `${catalogue.shop.name} · ${t('shop.title')}`;
    basket.keepOnly(new Set(catalogue.items.map((i) => i.sku)));
  }, [catalogue, lang]);

  useEffect(() => {
    setChoice((c) => (c.method && methods.includes(c.method) ? c : initialChoice(methods)));
  }, [methods.join()]);

  // The booth answered a quote: orders taken offline go now, not at the next retry.
  useEffect(() => {
    if (answered) till?.wake();
  }, [answered]);

  // The order's outcome changes the screen: placed empties the basket; refused says why;
  // taken over by the kiosk's till (the booth did not answer), confirmed as taken offline.
  useEffect(() => {
    const s = order.state;
    if (s.kind === 'taken_offline') {
      basket.clear();
      setChoice(initialChoice(methods));
      setProblem(null);
      setView('browse');
      setTaken(s.order);
      order.dismiss();
    } else if (s.kind === 'placed') {
      basket.clear();
      setChoice(initialChoice(methods));
      setProblem(null);
      setView('browse');
      if (!kiosk) {
        const kept: LastOrder = { pickup_number: s.receipt.pickup_number, receipt_url: s.receipt.receipt_url, at: Date.now() };
        writeJson(store, LAST_KEY, kept);
        setLast(kept);
      }
    } else if (s.kind === 'refused') {
      setProblem(errorText(s.error));
      const backToBasket = s.error.code === 'out_of_stock' || s.error.code === 'booth_closed';
      setView(backToBasket ? 'browse' : 'checkout');
      if (s.error.code === 'out_of_stock') reload();
      if (s.requote) void renew().catch(() => undefined);
      order.dismiss();
    }
  }, [order.state]);

  // Left alone, a kiosk starts over: its attract screen, an empty basket.
  useEffect(() => {
    if (!idle) return;
    basket.clear();
    setView('browse');
    setCategory(null);
    setQuery('');
    setProblem(null);
    setChoice(initialChoice(methods));
    setTaken(null);
    if (order.state.kind === 'placed') order.dismiss();
  }, [idle]);

  const canOrder = sellOffline ? tillReady : !unreachable && !closed;
  const shown = shownPrice(live);
  // Offline, what stops the kiosk from taking this basket by itself (before anyone pays).
  // (The ways to pay offered are the kit's; the till checks the one chosen when it takes the order.)
  const cannot: CannotSell | null = sellOffline && till && shown?.local ? till.check(shown.priced.total) : null;

  const confirm = async () => {
    if (!catalogue) return;
    if (live.kind === 'priced') {
      await confirmPriced({ held: live.held, choice, lines: basket.lines, renew, confirm: order.confirm, showProblem: setProblem });
      return;
    }
    if (!sellOffline || !till || live.kind !== 'unreachable' || !live.local?.ok || taking.current) return;
    taking.current = true;
    try {
      const queued = await confirmOffline({ local: live.local, choice, lines: basket.lines, till, showProblem: setProblem, offlineProblem });
      if (queued) {
        basket.clear();
        setChoice(initialChoice(methods));
        setView('browse');
        setTaken(queued);
      }
    } finally {
      taking.current = false;
    }
  };

  let main;
  const s = order.state;
  if (taken) {
    main = (
      <Confirmation receipt={offlineConfirmed(taken)} qrUrl={null} showLink={false}
        autoCloseS={kiosk ? KIOSK_CONFIRMATION_S : null} onNew={() => setTaken(null)} newLabel={t('done.new_order')} />
    );
  } else if (s.kind === 'sending' || s.kind === 'waiting' || s.kind === 'session') {
    main = (
      <SendingPanel pending={s.pending} waiting={s.kind === 'waiting' ? s : null} onRetry={order.retryNow}
        onAbandon={kiosk ? null : () => {
          order.abandon();
          setView('checkout');
        }}
        abandonHint={t('sending.abandon_hint')}
        staff={s.kind === 'waiting' && s.offline ? offlineProblem(s.offline, s.pending.currency) : null} />
    );
  } else if (s.kind === 'placed') {
    main = (
      <Confirmation receipt={s.receipt} qrUrl={api.receiptQrUrl(s.receipt.receipt_id)} showLink={!kiosk}
        autoCloseS={kiosk ? KIOSK_CONFIRMATION_S : null} onNew={order.dismiss} newLabel={t('done.new_order')}
        onPrintReceipt={till && catalogue?.shop.kiosk_receipts ? () => api.printReceipt(s.receipt.order_id) : null} />
    );
  } else if (!catalogue) {
    main = catalogueError
      ? <p class="notice warn" role="alert" data-testid="catalogue-unreachable">{catalogueError.unreachable ? t('shop.unreachable_first') : errorText(catalogueError)}</p>
      : <p class="loading" aria-busy="true">{t('shop.loading')}</p>;
  } else if (view === 'checkout' && basket.lines.length > 0) {
    main = (
      <CheckoutView live={live} choice={choice} onChoice={setChoice} methods={methods} problem={problem} canOrder={canOrder}
        offline={sellOffline ? { cannot: cannot && shown ? cannotSellText(cannot, shown.priced.currency) : null } : null}
        onConfirm={() => void confirm()} onBack={() => {
          setProblem(null);
          setView('browse');
        }} />
    );
  } else {
    main = (
      <Browse catalogue={catalogue} api={api} basket={basket} items={items} live={live} canOrder={canOrder}
        category={category} onCategory={setCategory} query={query} onQuery={setQuery} problem={view === 'browse' ? problem : null}
        last={last} kiosk={kiosk}
        onCheckout={() => {
          setProblem(null);
          setView('checkout');
        }} />
    );
  }

  const photos = useMemo(() => (catalogue?.items ?? []).filter((i) => i.image).map((i) => api.photoUrl(i.image!)), [catalogue]);
  const attract = kiosk && idle && !!catalogue;
  return (
    <>
    <div class={`shop${kiosk ? ' kiosk' : ''}`} data-testid="shop" data-mode={kiosk ? 'kiosk' : 'phone'} inert={attract}>
      <header class="shop-header">
        <h1 data-testid="event-name">{catalogue?.shop.name ?? '\u00a0'}</h1>
        <LanguageSwitch current={lang} />
      </header>
      {catalogue && (closed || (unreachable && !till)) && (
        <p class={`banner ${closed ? 'bad' : 'warn'}`} role="status" data-testid={closed ? 'booth-closed' : 'unreachable'}>
          {closed ? t('shop.closed') : t('shop.unreachable')}
        </p>
      )}
      {till && tillState && (!closed || tillState.queue.length > 0) && (
        <OfflineBanner till={tillState} away={unreachable} canSell={tillReady} onSendAgain={(seq) => void till.sendAgain(seq)} />
      )}
      <main class="shop-main" id="main">{main}</main>
    </div>
    {attract && catalogue && <Attract eventName={catalogue.shop.name} photos={photos} onWake={wake} />}
    </>
  );
}

function Browse({ catalogue, api, basket, items, live, canOrder, category, onCategory, query, onQuery, problem, last, kiosk, onCheckout }: {
  catalogue: Catalogue;
  api: SellingApi;
  basket: ReturnType<typeof useBasket>;
  items: Map<string, Item>;
  live: LiveQuote;
  canOrder: boolean;
  category: string | null;
  onCategory: (c: string | null) => void;
  query: string;
  onQuery: (q: string) => void;
  problem: string | null;
  last: LastOrder | null;
  kiosk: boolean;
  onCheckout: () => void;
}) {
  const offers = basketOffers(catalogue.promotions);
  return (
    <div class="browse">
      <div class="catalogue-side">
        {last && !kiosk && (
          <p class="last-order" data-testid="last-order">
            {t('shop.last_order', { number: last.pickup_number })} <a href={last.receipt_url}>{t('shop.follow_order')}</a>
          </p>
        )}
        {offers.length > 0 && (
          <section class="offers" aria-labelledby="offers-title" data-testid="offers">
            <h2 id="offers-title">{t('shop.offers')}</h2>
            <ul>
              {offers.map((p) => <li key={p.id}><strong>{p.name}</strong> <span>{p.description}</span></li>)}
            </ul>
          </section>
        )}
        <Filters items={catalogue.items} category={category} onCategory={onCategory} query={query} onQuery={onQuery} />
        <ProductGrid items={catalogue.items} promotions={catalogue.promotions} basket={basket} photoUrl={(i) => api.photoUrl(i)}
          category={category} query={query} />
      </div>
      <div class="basket-side">
        {problem && <p class="notice bad" role="alert" data-testid="order-problem">{problem}</p>}
        <BasketPanel basket={basket} items={items} live={live} canOrder={canOrder} onCheckout={onCheckout} />
      </div>
      <BasketBar basket={basket} live={live} />
    </div>
  );
}

function CheckoutView({ live, choice, onChoice, methods, problem, canOrder, offline, onConfirm, onBack }: {
  live: LiveQuote;
  choice: PaymentChoice;
  onChoice: (c: PaymentChoice) => void;
  methods: Catalogue['payments']['methods'];
  problem: string | null;
  canOrder: boolean;
  /** A kiosk selling by itself: why it may not take this order (null: it may). */
  offline: { cannot: string | null } | null;
  onConfirm: () => void;
  onBack: () => void;
}) {
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const shown = shownPrice(live);
  const ready = !!shown && !shown.stale && canOrder && methods.length > 0 && !offline?.cannot;
  return (
    <section class="checkout panel" aria-labelledby="checkout-title" data-testid="checkout-view" data-offline={offline ? 'true' : undefined}>
      <h2 id="checkout-title" tabIndex={-1} ref={heading}>{t('checkout.title')}</h2>
      {offline && <p class="notice warn" data-testid="offline-checkout-note">{t('offline.checkout_note')}</p>}
      {shown && (
        <>
          <PricedLines quote={shown.priced} />
          <Totals quote={shown.priced} stale={shown.stale} />
          {offline?.cannot
            ? <StaffNeeded why={offline.cannot} />
            : <PaymentForm methods={methods} total={shown.priced.total} currency={shown.priced.currency} choice={choice} onChoice={onChoice}
                audience="customer" idPrefix="shop" />}
        </>
      )}
      {live.kind === 'pricing' && <p class="muted" role="status">{t('basket.updating')}</p>}
      {live.kind === 'refused' && <p class="notice bad" role="alert" data-testid="basket-problem">{errorText(live.error)}</p>}
      {live.kind === 'unreachable' && live.local && !live.local.ok && (
        <StaffNeeded why={t('offline.why.cannot_price')} />
      )}
      {methods.length === 0 && !offline?.cannot && <p class="notice warn" role="status" data-testid="no-methods">{t('shop.no_methods')}</p>}
      {problem && <p class="notice bad" role="alert" data-testid="order-problem">{problem}</p>}
      <div class="buttons">
        <button type="button" class="big-button primary wide" data-testid="confirm-order" disabled={!ready}
          onClick={onConfirm}>
          {t('checkout.confirm')}
        </button>
        <button type="button" class="big-button" data-testid="back-to-basket" onClick={onBack}>{t('checkout.back')}</button>
      </div>
    </section>
  );
}

