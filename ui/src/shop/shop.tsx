// The shop: customers order on the booth's kiosks or on their own phones. Browse
// (categories, search, products) with the basket beside it and its live quote; then
// checkout (how to pay), the order on its way, and its pickup number.
//
// A kiosk (see kiosk.ts) takes the booth's payment methods, has no links out, bigger
// targets, and an attract screen when left alone. A phone orders ahead with the phones'
// methods (pay at pickup, as a rule); when the booth cannot be reached its basket stays
// and ordering waits — a phone never keeps an order to send later.

import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Catalogue, Item } from '../api/selling';
import type { SellingApi } from '../api/selling-api';
import { t, useLang } from '../i18n';
import { errorText } from '../i18n/words';
import { browserStore, readJson, writeJson } from '../lib/stored';
import { Attract } from './attract';
import { BasketBar, BasketPanel } from './basket-panel';
import { useBasket } from './basket';
import { basketOffers, useCatalogue } from './catalogue';
import { Checkout, confirmPriced, useCheckout } from './checkout';
import { Confirmation } from './confirmation';
import { useFocusOnMount } from './focus';
import { useIdle } from './kiosk';
import { LanguageSwitch } from './language-switch';
import { initialChoice, type PaymentChoice, PaymentForm } from './payment-form';
import { type LiveQuote, useLiveQuote } from './pricing';
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

export function Shop({ api, kiosk }: { api: SellingApi; kiosk: boolean }) {
  const lang = useLang();
  const store = browserStore();
  const { catalogue, error: catalogueError, reload } = useCatalogue(api);
  const basket = useBasket(BASKET_KEY);
  const checkout = useMemo(() => new Checkout(api, store, PENDING_KEY), [api]);
  const order = useCheckout(checkout);
  const busy = order.state.kind === 'sending' || order.state.kind === 'waiting' || order.state.kind === 'session';
  const { live, renew } = useLiveQuote(api, basket.lines, {}, !busy);
  const online = useOnline();
  const [view, setView] = useState<'browse' | 'checkout'>('browse');
  const [category, setCategory] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const methods = catalogue ? (kiosk ? catalogue.payments.methods : catalogue.payments.phones) : [];
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

  // The order's outcome changes the screen: placed empties the basket; refused says why.
  useEffect(() => {
    const s = order.state;
    if (s.kind === 'placed') {
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
    if (order.state.kind === 'placed') order.dismiss();
  }, [idle]);

  const closed = (live.kind === 'refused' && live.error.code === 'booth_closed') || catalogueError?.code === 'booth_closed';
  const unreachable = !online || live.kind === 'unreachable' || !!catalogueError?.unreachable;
  const canOrder = !unreachable && !closed;

  const confirm = async () => {
    if (live.kind !== 'priced' || !catalogue) return;
    await confirmPriced({ held: live.held, choice, lines: basket.lines, renew, confirm: order.confirm, showProblem: setProblem });
  };

  let main;
  const s = order.state;
  if (s.kind === 'sending' || s.kind === 'waiting' || s.kind === 'session') {
    main = (
      <SendingPanel pending={s.pending} waiting={s.kind === 'waiting' ? s : null} onRetry={order.retryNow}
        onAbandon={kiosk ? null : () => {
          order.abandon();
          setView('checkout');
        }}
        abandonHint={t('sending.abandon_hint')} />
    );
  } else if (s.kind === 'placed') {
    main = (
      <Confirmation receipt={s.receipt} qrUrl={api.receiptQrUrl(s.receipt.receipt_id)} showLink={!kiosk}
        autoCloseS={kiosk ? KIOSK_CONFIRMATION_S : null} onNew={order.dismiss} newLabel={t('done.new_order')} />
    );
  } else if (!catalogue) {
    main = catalogueError
      ? <p class="notice warn" role="alert" data-testid="catalogue-unreachable">{catalogueError.unreachable ? t('shop.unreachable_first') : errorText(catalogueError)}</p>
      : <p class="loading" aria-busy="true">{t('shop.loading')}</p>;
  } else if (view === 'checkout' && basket.lines.length > 0) {
    main = (
      <CheckoutView live={live} choice={choice} onChoice={setChoice} methods={methods} problem={problem} canOrder={canOrder}
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
      {catalogue && (unreachable || closed) && (
        <p class={`banner ${closed ? 'bad' : 'warn'}`} role="status" data-testid={closed ? 'booth-closed' : 'unreachable'}>
          {closed ? t('shop.closed') : t('shop.unreachable')}
        </p>
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

function CheckoutView({ live, choice, onChoice, methods, problem, canOrder, onConfirm, onBack }: {
  live: LiveQuote;
  choice: PaymentChoice;
  onChoice: (c: PaymentChoice) => void;
  methods: Catalogue['payments']['methods'];
  problem: string | null;
  canOrder: boolean;
  onConfirm: () => void;
  onBack: () => void;
}) {
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const held = live.kind === 'priced' || live.kind === 'pricing' || live.kind === 'unreachable' ? live.held : null;
  return (
    <section class="checkout panel" aria-labelledby="checkout-title" data-testid="checkout-view">
      <h2 id="checkout-title" tabIndex={-1} ref={heading}>{t('checkout.title')}</h2>
      {held && (
        <>
          <PricedLines quote={held.quote} />
          <Totals quote={held.quote} stale={live.kind !== 'priced'} />
          <PaymentForm methods={methods} total={held.quote.total} currency={held.quote.currency} choice={choice} onChoice={onChoice}
            audience="customer" idPrefix="shop" />
        </>
      )}
      {live.kind === 'pricing' && <p class="muted" role="status">{t('basket.updating')}</p>}
      {live.kind === 'refused' && <p class="notice bad" role="alert" data-testid="basket-problem">{errorText(live.error)}</p>}
      {methods.length === 0 && <p class="notice warn" role="status" data-testid="no-methods">{t('shop.no_methods')}</p>}
      {problem && <p class="notice bad" role="alert" data-testid="order-problem">{problem}</p>}
      <div class="buttons">
        <button type="button" class="big-button primary wide" data-testid="confirm-order" disabled={live.kind !== 'priced' || !canOrder || methods.length === 0}
          onClick={onConfirm}>
          {t('checkout.confirm')}
        </button>
        <button type="button" class="big-button" data-testid="back-to-basket" onClick={onBack}>{t('checkout.back')}</button>
      </div>
    </section>
  );
}

