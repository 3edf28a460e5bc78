// The counter: staff sell (the Sell tab) and hand out orders (the Orders tab). It is
// told how to call the node — a staff member's session on the counter's own page, the
// lead's operator token on the dashboard's Sell screen — and what to do when that ends
// (401: sign in again; the ticket and any order in flight are kept in this browser).
// Both tabs stay mounted, so an order being sent keeps being sent while staff look at
// the Orders tab.

import { useMemo, useState } from 'preact/hooks';
import type { ApiError } from '../api/errors';
import { PrintingApi } from '../api/printing-api';
import type { SellingApi } from '../api/selling-api';
import { t } from '../i18n';
import { errorText } from '../i18n/words';
import { useCatalogue } from '../shop/catalogue';
import { Orders } from './orders';
import { Sell } from './sell';

export interface CounterAuth {
  /** Calls with the staff session's token, or the operator token. */
  api: SellingApi;
  /** Who sells, as the header shows it. */
  who: string;
  /** Keeps this counter's ticket apart from another kind of sign-in in the same browser. */
  scope: 'counter' | 'dashboard';
  /** The node no longer takes the token (401): sign in again. */
  onSessionEnded: () => void;
  /** Signing out, where there is such a thing (not on the dashboard). */
  onSignOut: (() => void) | null;
}

type Tab = 'sell' | 'orders';

export function Counter({ auth }: { auth: CounterAuth }) {
  const [tab, setTab] = useState<Tab>('sell');
  const [rungUp, setRungUp] = useState(0);
  const ended = (e: ApiError) => {
    if (e.status === 401) auth.onSessionEnded();
  };
  const { catalogue, error } = useCatalogue(auth.api, ended);
  // Printing goes with the same sign-in as selling.
  const printing = useMemo(() => new PrintingApi(auth.api.client), [auth.api]);
  const tabButton = (id: Tab, label: string) => (
    <button type="button" role="tab" id={`counter-tab-${id}`} aria-selected={tab === id} aria-controls={`counter-panel-${id}`}
      tabIndex={tab === id ? 0 : -1} class="tab" data-testid={`tab-${id}`} onClick={() => setTab(id)}>
      {label}
    </button>
  );
  return (
    <div class="counter" data-testid="counter">
      <div class="counter-bar">
        <div class="tabs" role="tablist" aria-label={t('counter.title')} onKeyDown={(e) => {
          // The tabs pattern: arrows move between the tabs.
          if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
          const next: Tab = tab === 'sell' ? 'orders' : 'sell';
          setTab(next);
          document.getElementById(`counter-tab-${next}`)?.focus();
        }}>
          {tabButton('sell', t('counter.tab_sell'))}
          {tabButton('orders', t('counter.tab_orders'))}
        </div>
        <p class="who" data-testid="counter-who">{t('counter.signed_in_as', { name: auth.who })}</p>
        {auth.onSignOut && (
          <button type="button" class="big-button" data-testid="sign-out" onClick={auth.onSignOut}>{t('counter.sign_out')}</button>
        )}
      </div>
      {error && <p class="banner warn" role="status" data-testid="counter-catalogue-problem">{errorText(error)}</p>}
      <div role="tabpanel" id="counter-panel-sell" aria-labelledby="counter-tab-sell" hidden={tab !== 'sell'}>
        {catalogue
          ? <Sell api={auth.api} catalogue={catalogue} scope={auth.scope} onSessionEnded={auth.onSessionEnded} onOrdered={() => setRungUp((n) => n + 1)} />
          : !error && <p class="loading" aria-busy="true">{t('common.loading')}</p>}
      </div>
      <div role="tabpanel" id="counter-panel-orders" aria-labelledby="counter-tab-orders" hidden={tab !== 'orders'}>
        <Orders api={auth.api} printing={printing} active={tab === 'orders'} refreshKey={rungUp} onSessionEnded={auth.onSessionEnded} />
      </div>
    </div>
  );
}
