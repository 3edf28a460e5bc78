// The digital receipt (`/r/<receipt id>`), opened from the QR code or the link at
// checkout: the pickup number, large; where the order is (asked again every 2 s while
// the page is shown); the lines, totals, payment and refunds. Public: anyone with the
// link sees it, so nothing here is personal (no contact details exist).

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/errors';
import type { Receipt } from '../api/selling';
import type { SellingApi } from '../api/selling-api';
import { t, useLang } from '../i18n';
import { errorText, methodName, receiptStep } from '../i18n/words';
import { money } from '../lib/format';
import { LanguageSwitch } from '../shop/language-switch';
import { Progress } from './progress';

const POLL_MS = 2_000;

/** Polls `load` every `everyMs` while the page is visible; the last answer stays on failure. */
function usePolling<T>(load: () => Promise<T>, everyMs: number): { data: T | null; error: ApiError | null } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    let live = true;
    const run = async () => {
      clearTimeout(timer.current);
      try {
        const d = await load();
        if (!live) return;
        setData(d);
        setError(null);
      } catch (e) {
        if (!live) return;
        setError(e instanceof ApiError ? e : new ApiError(0, 'unreachable', String(e)));
      }
      if (live && !document.hidden) timer.current = setTimeout(run, everyMs);
    };
    const onVisible = () => {
      if (!document.hidden) void run();
    };
    void run();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      live = false;
      clearTimeout(timer.current);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, []);
  return { data, error };
}

export function ReceiptPage({ api, receiptId }: { api: SellingApi; receiptId: string | null }) {
  const lang = useLang();
  if (!receiptId) {
    return (
      <main class="receipt-page centre-column">
        <p class="notice bad" role="alert" data-testid="receipt-missing">{t('receipt.not_found')}</p>
      </main>
    );
  }
  return <ReceiptView api={api} receiptId={receiptId} lang={lang} />;
}

function ReceiptView({ api, receiptId, lang }: { api: SellingApi; receiptId: string; lang: ReturnType<typeof useLang> }) {
  const { data: r, error } = usePolling<Receipt>(() => api.receipt(receiptId), POLL_MS);
  useEffect(() => {
    if (r) document.title = `${r.pickup_number ?? t('receipt.title')} · ${receiptStep(r.fulfilment)} · ${r.event}`;
  }, [r?.pickup_number, r?.fulfilment, r?.event, lang]);

  const notFound = error?.status === 404;
  return (
    <div class="receipt-page">
      <header class="shop-header">
        <h1 data-testid="receipt-event">{r?.event ?? t('receipt.title')}</h1>
        <LanguageSwitch current={lang} />
      </header>
      <main class="centre-column" id="main">
        {error && !notFound && r && (
          <p class="banner warn" role="status" data-testid="receipt-reconnecting">{t('common.reconnecting')}</p>
        )}
        {notFound && <p class="notice bad" role="alert" data-testid="receipt-missing">{t('receipt.not_found')}</p>}
        {!r && !notFound && (error
          ? <p class="notice warn" role="status">{errorText(error)} {t('common.reconnecting')}</p>
          : <p class="loading" aria-busy="true">{t('common.loading')}</p>)}
        {r && !notFound && <ReceiptBody r={r} />}
      </main>
    </div>
  );
}

function ReceiptBody({ r }: { r: Receipt }) {
  const c = r.currency;
  const sentences: Record<Receipt['fulfilment'], string> = {
    new: t('receipt.now.new'),
    preparing: t('receipt.now.preparing'),
    ready: r.pickup_number ? t('receipt.now.ready', { number: r.pickup_number }) : t('receipt.now.ready_no_number'),
    collected: t('receipt.now.collected'),
    voided: t('receipt.now.voided'),
  };
  return (
    <>
      <section class={`receipt-head panel state-${r.fulfilment}`} aria-label={t('receipt.progress')}>
        {r.pickup_number && (
          <>
            <p class="number-label" id="receipt-number-label">{t('receipt.number')}</p>
            <p class="pickup-number" style={{ '--chars': r.pickup_number.length }} data-testid="receipt-pickup-number">{r.pickup_number}</p>
          </>
        )}
        <p class="receipt-state-line">
          <strong class="state-word" data-testid="receipt-state">{receiptStep(r.fulfilment)}</strong>
        </p>
        {/* Spoken when it changes: "Your order is ready…". */}
        <p class="lead" role="status" aria-live="polite" data-testid="receipt-sentence">{sentences[r.fulfilment]}</p>
        <Progress fulfilment={r.fulfilment} />
      </section>
      <section class="panel" aria-labelledby="receipt-items">
        <h2 id="receipt-items">{t('receipt.items')}</h2>
        <ul class="priced-lines" data-testid="receipt-lines">
          {r.lines.map((l) => (
            <li key={l.sku}>
              <span class="qty">{l.qty} ×</span>
              <span class="name">{l.name}</span>
              {/* Before discounts, so the lines add up to the subtotal. */}
              <span class="amount">{money(l.unit_price * l.qty, c)}</span>
            </li>
          ))}
        </ul>
        <dl class="sums">
          {r.discount > 0 && (
            <>
              <div><dt>{t('common.subtotal')}</dt><dd>{money(r.subtotal, c)}</dd></div>
              <div><dt>{t('common.discount')}</dt><dd>−{money(r.discount, c)}</dd></div>
            </>
          )}
          <div class="grand"><dt>{t('common.total')}</dt><dd data-testid="receipt-total">{money(r.total, c)}</dd></div>
          {r.refunded > 0 && (
            <div class="refunded"><dt>{t('receipt.refunded')}</dt><dd data-testid="receipt-refunded">−{money(r.refunded, c)}</dd></div>
          )}
        </dl>
        <p class="paid-line" data-testid="receipt-paid">
          {r.paid ? t('receipt.paid_by', { method: methodName(r.payment) }) : t('receipt.to_pay', { amount: money(r.total, c) })}
        </p>
        <p class="muted" data-testid="receipt-time">{t('receipt.ordered_at', { time: new Date(r.created_at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) })}</p>
      </section>
    </>
  );
}
