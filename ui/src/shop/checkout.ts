// Placing an order, exactly once. The Idempotency-Key is made at the moment the customer
// (or staff at the counter) confirms, and kept in this browser with the order it belongs
// to before the first try; every retry (no answer, an answer lost on the way, 503, 429,
// a reload of the page, a staff sign-in in between) sends that same key and body, until
// the node answers with the order (201, also for a replay) or refuses it for good. So a
// lost answer never makes a second order: the retry gets the first one back.
//
// Refusals that end it: the quote expired or was used (`invalid_quote`, `quote_used`:
// the node would have replayed an order it took under this key, so it took none; the
// basket is priced again and the customer confirms again, with a new key), out of stock,
// a payment method this device may not take, the booth closed. A staff session that
// ended (401 `staff_session_needed`) pauses it: sign in, and it is sent again.
//
// A phone never orders while the booth is out of reach: its customer sees "not
// confirmed yet" and the page tries again only while it is open. An enrolled kiosk with
// its offline till takes the order itself instead (`confirmOffline`): priced by the
// node's engine, kept in the kiosk's queue with a pickup number of its own, delivered
// later. An order it confirmed online that got no answer twice is handed to the till
// under its own key, so that should the node have taken it after all, the delivery is
// refused (the key is used) rather than made a second order.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/errors';
import type { BasketLine, Minor, OrderReceipt, OrderRequest } from '../api/selling';
import { t } from '../i18n';
import { errorText } from '../i18n/words';
import { type KeyValueStore, forget, readJson, writeJson } from '../lib/stored';
import type { QueuedOrder } from './offline/store';
import type { OfflineTill, TakeResult } from './offline/till';
import { type PaymentChoice, paymentFor } from './payment-form';
import { type HeldQuote, isFresh, type LocalPrice } from './pricing';

/** What was confirmed, shown while the order is sent. */
export interface OrderSummary {
  total: Minor;
  currency: string;
  lines: BasketLine[];
}

/** An order confirmed and not yet answered for good. */
export interface PendingOrder {
  key: string;
  request: OrderRequest;
  /** What was confirmed, shown while it is sent. */
  total: Minor;
  currency: string;
  lines: BasketLine[];
  confirmedAt: string;
}

export type SendResult =
  | { kind: 'placed'; receipt: OrderReceipt }
  /** No answer or a busy booth: send again (same key) after `waitMs`. */
  | { kind: 'retry'; error: ApiError; waitMs: number }
  /** The staff session ended: sign in again, then send again (same key). */
  | { kind: 'session'; error: ApiError }
  /** Refused for good; the pending order is gone. `requote`: price the basket again. */
  | { kind: 'refused'; error: ApiError; requote: boolean };

/** Waits between tries when the booth does not answer; the last one repeats. */
export const RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000];

/** The node's part: place an order under a key (`SellingApi.placeOrder`). */
export interface OrderPlacer {
  placeOrder(idempotencyKey: string, request: OrderRequest): Promise<OrderReceipt>;
}

/** A random UUID; `crypto.randomUUID` exists only on HTTPS, and phones may be on plain HTTP. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Whether a failure may be retried with the same key, and how. */
export function classify(error: ApiError, attempt: number): SendResult {
  if (error.unreachable || error.status === 408 || error.status >= 500 || error.status === 429) {
    const backoff = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length) - 1] ?? RETRY_DELAYS_MS[0];
    const asked = error.retryAfter !== null ? error.retryAfter * 1000 : 0;
    return { kind: 'retry', error, waitMs: Math.max(backoff, asked) };
  }
  if (error.status === 401 && error.code === 'staff_session_needed') return { kind: 'session', error };
  return { kind: 'refused', error, requote: true };
}

export class Checkout {
  private inFlight: Promise<SendResult> | null = null;
  private attempts = 0;

  constructor(
    private readonly node: OrderPlacer,
    private readonly store: KeyValueStore,
    /** `boothcloud.shop.pending` for the shop; the counter keeps its own. */
    readonly storageKey: string,
    private readonly makeKey: () => string = newIdempotencyKey,
  ) {}

  pending(): PendingOrder | null {
    const p = readJson<PendingOrder>(this.store, this.storageKey);
    return p && typeof p.key === 'string' && typeof p.request?.quote_token === 'string' ? p : null;
  }

  /**
   * The customer confirmed: a new key, kept with the order, then the first try. If an
   * order is still pending, that one is sent again instead (a double tap, a second tab).
   */
  confirm(request: OrderRequest, summary: OrderSummary): Promise<SendResult> {
    if (!this.pending()) {
      const pending: PendingOrder = { key: this.makeKey(), request, ...summary, confirmedAt: new Date().toISOString() };
      writeJson(this.store, this.storageKey, pending);
      this.attempts = 0;
    }
    return this.send();
  }

  /** Sends the pending order (again), with its key. One try at a time. */
  send(): Promise<SendResult> {
    if (this.inFlight) return this.inFlight;
    const pending = this.pending();
    if (!pending) {
      return Promise.resolve({ kind: 'refused', error: new ApiError(0, 'nothing_pending', 'There is no order to send.'), requote: false });
    }
    this.attempts += 1;
    this.inFlight = this.node
      .placeOrder(pending.key, pending.request)
      .then((receipt): SendResult => {
        this.finish(pending.key);
        return { kind: 'placed', receipt };
      })
      .catch((e: unknown): SendResult => {
        const error = e instanceof ApiError ? e : new ApiError(0, 'unreachable', String(e));
        const result = classify(error, this.attempts);
        if (result.kind === 'refused') this.finish(pending.key);
        return result;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  /**
   * Stops trying (the customer or staff chose to). The order may still have reached the
   * booth; only a person who checked may call this.
   */
  abandon(): void {
    forget(this.store, this.storageKey);
    this.attempts = 0;
  }

  private finish(key: string): void {
    // Only the order this try was for: a newer one confirmed meanwhile stays.
    if (this.pending()?.key === key) forget(this.store, this.storageKey);
    this.attempts = 0;
  }
}

/**
 * Orders a priced basket the customer (or staff) confirmed with `choice`: checks the
 * payment against the total shown, renews a quote too old to order with (refusing it
 * when the total changed), then `confirm`s. Every problem goes to `showProblem`, in
 * words; `null` clears it just before the order is confirmed.
 */
export async function confirmPriced({ held, choice, lines, renew, confirm, showProblem }: {
  /** The quote the total on screen comes from. */
  held: HeldQuote;
  choice: PaymentChoice;
  lines: BasketLine[];
  /** `useLiveQuote`'s `renew`. */
  renew: () => Promise<HeldQuote>;
  /** `useCheckout`'s `confirm`. */
  confirm: (request: OrderRequest, summary: OrderSummary) => void;
  showProblem: (problem: string | null) => void;
}): Promise<void> {
  const shown = held.quote;
  const p = paymentFor(choice, shown.total, shown.currency);
  if (!p.ok) {
    showProblem(p.problem);
    return;
  }
  if (!isFresh(held)) {
    try {
      held = await renew();
    } catch (e) {
      showProblem(errorText(e as ApiError));
      return;
    }
    if (held.quote.total !== shown.total) {
      showProblem(t('checkout.price_changed'));
      return;
    }
  }
  showProblem(null);
  confirm({ quote_token: held.quote.token, payment: p.payment }, { total: held.quote.total, currency: held.quote.currency, lines });
}

/** A kiosk's till, for orders taken while the booth is away (`offline/till.ts`). */
export type OfflineTaker = Pick<OfflineTill, 'take'>;

/** A failed offline take, for `offlineProblem` to put in words. */
export type NotTaken = Exclude<TakeResult, { ok: true }>;

/**
 * Takes a basket offline on a kiosk that cannot reach the booth, priced by its own
 * engine (`local`, the price on screen): checks the payment against that total, then
 * the till prices it again, checks its limits, gives a pickup number and keeps the
 * order before answering it. Problems go to `showProblem` (`offlineProblem` words them).
 */
export async function confirmOffline({ local, choice, lines, till, showProblem, offlineProblem }: {
  local: Extract<LocalPrice, { ok: true }>;
  choice: PaymentChoice;
  lines: BasketLine[];
  till: OfflineTaker;
  showProblem: (problem: string | null) => void;
  offlineProblem: (failed: NotTaken, currency: string) => string;
}): Promise<QueuedOrder | null> {
  const { total, currency } = local.priced;
  const p = paymentFor(choice, total, currency);
  if (!p.ok) {
    showProblem(p.problem);
    return null;
  }
  const taken = await till.take({ lines, payment: p.payment, shownTotal: total });
  if (!taken.ok) {
    showProblem(offlineProblem(taken, currency));
    return null;
  }
  showProblem(null);
  return taken.order;
}

export type Sending =
  | { kind: 'idle' }
  | { kind: 'sending'; pending: PendingOrder }
  /**
   * Tries again by itself at `retryAt` (`Date.now()`). `offline`: a kiosk's till could
   * not take it over either (why), so staff are needed.
   */
  | { kind: 'waiting'; pending: PendingOrder; error: ApiError; retryAt: number; offline: NotTaken | null }
  | { kind: 'session'; pending: PendingOrder }
  | { kind: 'placed'; receipt: OrderReceipt }
  /** A kiosk's till took the order over (the booth did not answer). */
  | { kind: 'taken_offline'; order: QueuedOrder }
  | { kind: 'refused'; error: ApiError; requote: boolean };

/** Unanswered tries after which a kiosk's till takes an order over. */
export const OFFLINE_AFTER_TRIES = 2;

/**
 * The order being placed, for a screen: resumes an order left pending (a reload), keeps
 * trying while the screen is open, and says where it is. With a kiosk's `offline` till,
 * an order the booth did not answer `OFFLINE_AFTER_TRIES` times is taken offline.
 */
export function useCheckout(checkout: Checkout, offline: OfflineTaker | null = null): {
  state: Sending;
  confirm: (request: OrderRequest, summary: OrderSummary) => void;
  retryNow: () => void;
  abandon: () => void;
  /** Back to idle after a placed or refused order has been shown. */
  dismiss: () => void;
} {
  const [state, setState] = useState<Sending>(() => {
    const pending = checkout.pending();
    return pending ? { kind: 'sending', pending } : { kind: 'idle' };
  });
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const live = useRef(true);

  const busy = useRef(false);
  /** Tries in a row the booth did not answer (for the kiosk's till). */
  const away = useRef(0);

  const run = async (first: Promise<SendResult> | null = null) => {
    // One try at a time: a tap on "Try again" during a try waits for that try's answer.
    if (busy.current && !first) return;
    clearTimeout(timer.current);
    const pending = checkout.pending();
    if (!pending && !first) return;
    if (pending) setState({ kind: 'sending', pending });
    busy.current = true;
    let result: SendResult;
    try {
      result = await (first ?? checkout.send());
    } finally {
      busy.current = false;
    }
    if (!live.current) return;
    switch (result.kind) {
      case 'placed':
        away.current = 0;
        setState({ kind: 'placed', receipt: result.receipt });
        break;
      case 'refused':
        setState({ kind: 'refused', error: result.error, requote: result.requote });
        break;
      case 'session':
        if (pending) setState({ kind: 'session', pending });
        break;
      case 'retry':
        if (pending) {
          away.current = result.error.boothAway ? away.current + 1 : 0;
          let notTaken: NotTaken | null = null;
          if (offline && away.current >= OFFLINE_AFTER_TRIES) {
            busy.current = true; // No online try while the till takes it over.
            let taken: TakeResult;
            try {
              taken = await offline.take({ lines: pending.lines, payment: pending.request.payment, shownTotal: pending.total, key: pending.key });
            } finally {
              busy.current = false;
            }
            if (!live.current) return;
            if (taken.ok) {
              // Kept in the till's queue first, then no longer pending here.
              checkout.abandon();
              away.current = 0;
              setState({ kind: 'taken_offline', order: taken.order });
              break;
            }
            notTaken = taken;
          }
          setState({ kind: 'waiting', pending, error: result.error, retryAt: Date.now() + result.waitMs, offline: notTaken });
          timer.current = setTimeout(() => void run(), result.waitMs);
        }
        break;
    }
  };

  useEffect(() => {
    live.current = true;
    if (checkout.pending()) void run();
    return () => {
      live.current = false;
      clearTimeout(timer.current);
    };
  }, [checkout]);

  return {
    state,
    confirm: (request, summary) => {
      const first = checkout.confirm(request, summary);
      void run(first);
    },
    retryNow: () => void run(),
    abandon: () => {
      clearTimeout(timer.current);
      checkout.abandon();
      setState({ kind: 'idle' });
    },
    dismiss: () => setState({ kind: 'idle' }),
  };
}
