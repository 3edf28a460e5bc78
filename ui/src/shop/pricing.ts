// Pricing: every price the selling faces show for a basket comes from here, and nothing
// else asks for a quote. A quote is the node's (`POST /api/v1/quotes`: its price book,
// its promotions, a signed token to order with). An enrolled kiosk that cannot reach the
// booth prices with the node's own engine compiled to WebAssembly and the price book
// its offline kit holds (`offline/till.ts`, given here as a `LocalPricer`): the same
// rules, never a copy of them.
//
// `useLiveQuote` follows a basket as it changes: it asks ~250 ms after the last change,
// keeps only the answer to the latest ask, renews the quote before it expires, and
// keeps asking every few seconds while the booth cannot be reached (so the page knows
// when it is back); meanwhile a kiosk's own price is shown at once for every change.
// It never places an order (`checkout.ts` does).

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/errors';
import type { BasketLine, QuoteRequest, QuoteResponse } from '../api/selling';
import type { SellingApi } from '../api/selling-api';

export const DEBOUNCE_MS = 250;
/** While the booth is out of reach, ask again this often. */
const UNREACHABLE_RETRY_MS = 5_000;
/** A quote is renewed this long before it expires, and not used for an order after. */
const EXPIRY_MARGIN_MS = 15_000;

/** A priced basket as the faces show it: the node's quote, or a kiosk's own pricing. */
export type Priced = Pick<QuoteResponse, 'currency' | 'lines' | 'discounts' | 'subtotal' | 'discount' | 'total'>;

/** A kiosk's own price for a basket, from the engine and its kit's price book. */
export type LocalPrice =
  | { ok: true; priced: Priced; digest: string }
  /** The engine cannot price this basket (its words). */
  | { ok: false; problem: string };

/** Prices a basket on this device; null while it cannot (no kit or engine yet). */
export type LocalPricer = (lines: BasketLine[]) => LocalPrice | null;

/** Who is pricing: a tier (customer group) is for staff; customers get the regular price. */
export interface PriceFor {
  tier?: string | null;
  tierCode?: string | null;
}

/** Prices a basket once. Rejects with the node's refusal (`ApiError`). */
export function priceBasket(api: SellingApi, lines: BasketLine[], who: PriceFor = {}): Promise<QuoteResponse> {
  const request: QuoteRequest = { lines };
  if (who.tier) request.tier = who.tier;
  if (who.tier && who.tierCode) request.tier_code = who.tierCode;
  return api.quote(request);
}

/** A quote with when it stops being good, on this device's monotonic clock. */
export interface HeldQuote {
  quote: QuoteResponse;
  /** `performance.now()` after which it must be renewed before ordering with it. */
  goodUntil: number;
}

function hold(quote: QuoteResponse): HeldQuote {
  // The quote's own lifetime, measured here: this device's clock may disagree with the
  // booth's, but both agree on how long a minute is.
  const lifetime = Date.parse(quote.expires_at) - Date.parse(quote.priced_at);
  const ms = Number.isFinite(lifetime) ? lifetime : 60_000;
  return { quote, goodUntil: performance.now() + Math.max(0, ms - EXPIRY_MARGIN_MS) };
}

export function isFresh(held: HeldQuote | null): held is HeldQuote {
  return !!held && performance.now() < held.goodUntil;
}

export type LiveQuote =
  /** Nothing to price. */
  | { kind: 'empty' }
  /** Asking; `held` is the previous answer (shown dimmed, never ordered with). */
  | { kind: 'pricing'; held: HeldQuote | null }
  | { kind: 'priced'; held: HeldQuote }
  /** The node refused the basket as it is (out of stock, too many, closed…). */
  | { kind: 'refused'; error: ApiError }
  /**
   * No answer: the booth cannot be reached (asking again by itself). `local`: a kiosk's
   * own price for the basket as it is now (null: it has none).
   */
  | { kind: 'unreachable'; error: ApiError; held: HeldQuote | null; local: LocalPrice | null };

/** The price to show for the basket, and whether it is only the last one (being renewed). */
export function shownPrice(live: LiveQuote): { priced: Priced; stale: boolean; local: boolean } | null {
  switch (live.kind) {
    case 'priced':
      return { priced: live.held.quote, stale: false, local: false };
    case 'pricing':
      return live.held ? { priced: live.held.quote, stale: true, local: false } : null;
    case 'unreachable':
      if (live.local?.ok) return { priced: live.local.priced, stale: false, local: true };
      return live.held ? { priced: live.held.quote, stale: true, local: false } : null;
    default:
      return null;
  }
}

/**
 * The live quote for `lines`. `renew()` asks again now and answers the fresh quote
 * (for the moment of ordering); it rejects like `priceBasket`. `local` (an enrolled
 * kiosk's till): its own price while the booth is away, for which a gateway's 502–504
 * counts as away too; `localKey` changes when what it prices with does.
 */
export function useLiveQuote(
  api: SellingApi,
  lines: BasketLine[],
  who: PriceFor = {},
  active = true,
  local: LocalPricer | null = null,
  localKey: string | null = null,
): { live: LiveQuote; renew: () => Promise<HeldQuote> } {
  const [live, setLive] = useState<LiveQuote>({ kind: 'empty' });
  const asked = useRef(0);
  const last = useRef<HeldQuote | null>(null);
  /** The last ask's failure while the booth is away, until an answer comes. */
  const away = useRef<ApiError | null>(null);
  const basketKey = JSON.stringify([lines, who.tier ?? null, who.tierCode ?? null]);
  const current = useRef({ lines, who, local });
  current.current = { lines, who, local };
  const isAway = (error: ApiError) => error.unreachable || (current.current.local !== null && error.boothAway);
  const unreachable = (error: ApiError): LiveQuote => {
    const { lines: l, local: pricer } = current.current;
    return { kind: 'unreachable', error, held: last.current, local: pricer && l.length ? pricer(l) : null };
  };

  const ask = async (): Promise<HeldQuote | null> => {
    const n = ++asked.current;
    const { lines: l, who: w } = current.current;
    try {
      const held = hold(await priceBasket(api, l, w));
      away.current = null;
      if (n === asked.current) {
        last.current = held;
        setLive({ kind: 'priced', held });
      }
      return held;
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError(0, 'unreachable', String(e));
      away.current = isAway(error) ? error : null;
      if (n === asked.current) {
        if (isAway(error)) setLive(unreachable(error));
        else if (error.status === 429 || error.status === 503) setLive({ kind: 'pricing', held: last.current });
        else {
          last.current = null;
          setLive({ kind: 'refused', error });
        }
      }
      throw error;
    }
  };

  useEffect(() => {
    if (!active) return;
    if (lines.length === 0) {
      asked.current++;
      last.current = null;
      setLive({ kind: 'empty' });
      return;
    }
    // Away from the booth with a price of its own: shown at once, the node asked after.
    setLive(away.current && local ? unreachable(away.current) : { kind: 'pricing', held: last.current });
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const run = async () => {
      let again: number;
      try {
        const held = await ask();
        again = held ? Math.max(1_000, held.goodUntil - performance.now()) : UNREACHABLE_RETRY_MS;
      } catch (e) {
        const error = e as ApiError;
        if (isAway(error)) again = UNREACHABLE_RETRY_MS;
        else if (error.status === 429 || error.status === 503) again = Math.max(1, error.retryAfter ?? 2) * 1000;
        else return; // Refused: nothing changes until the basket does.
      }
      if (!stopped) timer = setTimeout(run, again);
    };
    timer = setTimeout(run, DEBOUNCE_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [basketKey, active]);

  // The kiosk's engine or kit changed while away: price with it.
  useEffect(() => {
    if (away.current && local && lines.length) setLive(unreachable(away.current));
  }, [localKey]);

  const renew = async (): Promise<HeldQuote> => {
    const held = await ask();
    if (!held) throw new ApiError(0, 'unreachable', 'The booth does not answer.');
    return held;
  };
  return { live, renew };
}
