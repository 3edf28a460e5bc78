// An enrolled kiosk's till for selling while it cannot reach the booth. It keeps the
// offline kit fresh (at start, every minute, after each delivery), loads the price
// engine for it while online, prices baskets with that engine, takes orders into the
// queue (limits checked and a pickup number given in one transaction), delivers them
// when the node answers again (in order, one at a time, retrying at most 10 s apart)
// and tells the node what it still holds (after each delivery run, every 15 s while
// orders wait, zero once they are all delivered).
//
// Owns: when the kiosk asks for its kit, delivers and reports, and the till's state the
// shop shows (its banner, its offline checkout). Never: runs on a phone (main.tsx makes
// one for a kiosk only), prices by rules of its own, or drops an order the node did not
// take.

import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api/errors';
import type { BasketLine, OrderPayment, OfflineKit } from '../../api/selling';
import type { SellingApi } from '../../api/selling-api';
import { newIdempotencyKey } from '../checkout';
import type { LocalPrice } from '../pricing';
import { type DeliveryRun, deliverWaiting } from './delivery';
import { PriceEngine, warmEngine } from './engine';
import { keepKit, readKit } from './kit';
import { deliveryQueue, listQueue, sendAgain, takeOrder } from './queue';
import { chargedOf, heldOf, type Refusal, refusal } from './rules';
import { type KeptKit, type KioskStore, openKioskStore, type QueuedOrder } from './store';

const KIT_EVERY_MS = 60_000;
const HELD_EVERY_MS = 15_000;
/** Waits between delivery tries while the node does not answer; the last one repeats. */
export const DELIVERY_RETRY_MS = [1_000, 2_000, 4_000, 8_000, 10_000];

/** The node's part (`SellingApi`): the kit, delivery and the held report. */
export type TillApi = Pick<SellingApi, 'offlineKit' | 'deliverOffline' | 'reportHeld'>;

export interface TillState {
  /** The kiosk's store: being opened, open, or not available (nothing can be taken offline). */
  storage: 'opening' | 'ready' | 'failed';
  /** The last kit, or null when none ever came. */
  kit: KeptKit | null;
  engine: 'none' | 'loading' | 'ready' | 'failed';
  /** Orders not delivered yet, in the order taken. */
  queue: QueuedOrder[];
  delivering: boolean;
  /** Whether the last call to the node was answered (null: none answered or failed yet). */
  reached: boolean | null;
  /** The node refuses this kiosk (401/403): it can neither fetch a kit nor deliver. */
  refusedDevice: boolean;
}

/** Why the till cannot take an order now: a limit, or something missing. */
export type CannotSell = Refusal | { kind: 'no_kit' | 'no_engine' | 'storage' | 'refused_device' };

export type TakeResult =
  | { ok: true; order: QueuedOrder }
  | { ok: false; cannot: CannotSell }
  /** The engine prices the basket differently now (a promotion began or ended). */
  | { ok: false; priceChanged: number }
  /** The engine cannot price the basket (its message). */
  | { ok: false; problem: string };

export class OfflineTill {
  private state: TillState = {
    storage: 'opening', kit: null, engine: 'none', queue: [], delivering: false, reached: null, refusedDevice: false,
  };
  private readonly listeners = new Set<() => void>();
  private db: KioskStore | null = null;
  private engine: PriceEngine | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];
  private retry: ReturnType<typeof setTimeout> | undefined;
  private retries = 0;
  private running = false;
  private again = false;
  private lastHeld: { orders: number; total: number } | null = null;

  constructor(
    private readonly api: TillApi,
    private readonly now: () => number = Date.now,
    private readonly makeKey: () => string = newIdempotencyKey,
  ) {}

  /** Opens the store, takes up what it kept, and starts asking the node. */
  async start(): Promise<void> {
    try {
      this.db = await openKioskStore();
      const [kit, queue] = await Promise.all([readKit(this.db), listQueue(this.db)]);
      this.set({ storage: 'ready', kit, queue });
      if (kit) void this.loadEngine(kit.kit);
    } catch {
      this.set({ storage: 'failed' });
    }
    void this.refreshKit();
    this.timers.push(setInterval(() => void this.refreshKit(), KIT_EVERY_MS));
    this.timers.push(setInterval(() => {
      if (this.state.queue.length > 0 && this.state.reached !== false) void this.reportHeld();
    }, HELD_EVERY_MS));
    window.addEventListener('online', this.wake);
    if (this.waiting() > 0) void this.deliver();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    clearTimeout(this.retry);
    window.removeEventListener('online', this.wake);
  }

  get(): TillState {
    return this.state;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The node answered the page (a quote, say): deliver now rather than at the next retry. */
  readonly wake = (): void => {
    if (this.waiting() === 0 || this.running) return;
    this.retries = 0;
    void this.deliver();
  };

  /** The engine's price for `lines` now, or null when the till cannot price (no kit or engine yet). */
  price(lines: BasketLine[]): LocalPrice | null {
    const engine = this.engine;
    if (!engine || !this.state.kit) return null;
    try {
      return { ok: true, priced: engine.price(lines, this.now()), digest: engine.digest };
    } catch (e) {
      return { ok: false, problem: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Whether an order of `total` (paid with `method`, once chosen) may be taken offline now. */
  check(total: number, method: string | null = null): CannotSell | null {
    const s = this.state;
    if (s.refusedDevice) return { kind: 'refused_device' };
    if (s.storage !== 'ready' || !this.db) return { kind: 'storage' };
    if (!s.kit) return { kind: 'no_kit' };
    if (!this.engine) return { kind: 'no_engine' };
    return refusal({
      limits: s.kit.kit.limits,
      total,
      held: heldOf(s.queue.map((o) => o.body.charged.total)),
      next: s.kit.next,
      last: s.kit.kit.pickup.last,
      receivedAt: s.kit.receivedAt,
      now: this.now(),
      method,
    });
  }

  /**
   * Takes an order offline: prices `lines` again now (refused when the total is not the
   * `shownTotal` the customer saw), checks the limits, gives the next pickup number and
   * keeps the order before it answers. `key`: an order's key kept from an online try
   * that got no answer (the node, should it have that order, refuses a second one).
   */
  async take({ lines, payment, shownTotal, key }: {
    lines: BasketLine[];
    payment: OrderPayment;
    shownTotal: number;
    key?: string;
  }): Promise<TakeResult> {
    const before = this.check(shownTotal, payment.method);
    if (before) return { ok: false, cannot: before };
    const db = this.db!;
    const engine = this.engine!;
    const now = this.now();
    let priced;
    try {
      priced = engine.price(lines, now);
    } catch (e) {
      return { ok: false, problem: e instanceof Error ? e.message : String(e) };
    }
    if (priced.total !== shownTotal) return { ok: false, priceChanged: priced.total };
    const basket = lines.map((l) => ({ sku: l.sku, qty: l.qty }));
    const idempotencyKey = key ?? this.makeKey();
    let taken;
    try {
      taken = await takeOrder(db, {
        total: priced.total,
        method: payment.method,
        now,
        build: (_kept, pickup) => ({
          idempotency_key: idempotencyKey,
          price_book: engine.digest,
          basket: { lines: basket, tier: null },
          charged: chargedOf(priced),
          payment: payment.method,
          ...(payment.method === 'card' && payment.reference ? { reference: payment.reference } : {}),
          ...(payment.method === 'cash' && typeof payment.tendered === 'number' ? { tendered: payment.tendered } : {}),
          pickup,
          taken_at: new Date(now).toISOString(),
        }),
      });
    } catch {
      return { ok: false, cannot: { kind: 'storage' } };
    }
    if (!taken.ok) return { ok: false, cannot: taken.kind === 'no_kit' ? { kind: 'no_kit' } : taken.refusal };
    this.set({ kit: taken.kit, queue: [...this.state.queue, taken.order] });
    void this.deliver();
    return { ok: true, order: taken.order };
  }

  /** Staff: send an order that needed them again (same key and body). */
  async sendAgain(seq: number): Promise<void> {
    if (!this.db) return;
    await sendAgain(this.db, seq);
    await this.reloadQueue();
    this.retries = 0;
    void this.deliver();
  }

  private waiting(): number {
    return this.state.queue.filter((o) => o.state === 'waiting').length;
  }

  private set(patch: Partial<TillState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  private async reloadQueue(): Promise<void> {
    if (this.db) this.set({ queue: await listQueue(this.db) });
  }

  /** A call failed: what it says about the node and this kiosk. */
  private failed(e: unknown): void {
    const error = e instanceof ApiError ? e : new ApiError(0, 'unreachable', String(e));
    if (error.status === 401 || error.status === 403) this.set({ refusedDevice: true, reached: true });
    else if (error.boothAway) this.set({ reached: false });
  }

  private async refreshKit(): Promise<void> {
    let kit: OfflineKit;
    try {
      kit = await this.api.offlineKit();
    } catch (e) {
      this.failed(e);
      return;
    }
    this.set({ reached: true, refusedDevice: false });
    if (!this.db) return;
    try {
      const kept = await keepKit(this.db, kit, this.now());
      this.set({ kit: kept });
      await this.loadEngine(kept.kit);
    } catch {
      // Not kept this time; the last kit stays in force.
    }
    if (this.lastHeld === null) void this.reportHeld();
    this.wake();
  }

  private async loadEngine(kit: OfflineKit): Promise<void> {
    if (this.engine?.digest === kit.price_book_digest) return;
    // The engine in force keeps pricing until the new one is ready.
    if (!this.engine) this.set({ engine: 'loading' });
    try {
      const engine = await PriceEngine.load(kit.price_book, kit.price_book_digest);
      const old = this.engine;
      this.engine = engine;
      old?.free();
      this.set({ engine: 'ready' });
    } catch {
      this.set({ engine: this.engine ? 'ready' : 'failed' });
    }
  }

  private async reportHeld(): Promise<void> {
    const held = heldOf(this.state.queue.map((o) => o.body.charged.total));
    if (held.orders === 0 && this.lastHeld?.orders === 0) return;
    try {
      await this.api.reportHeld(held);
      this.lastHeld = held;
    } catch (e) {
      this.failed(e);
    }
  }

  private async deliver(): Promise<void> {
    if (!this.db || this.state.refusedDevice) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    clearTimeout(this.retry);
    this.set({ delivering: true });
    let run: DeliveryRun | null;
    try {
      run = await exclusive(() => deliverWaiting(deliveryQueue(this.db!), this.api, () => void this.reloadQueue()));
    } catch (e) {
      run = { kind: 'away', delivered: 0, error: e instanceof ApiError ? e : new ApiError(0, 'unreachable', String(e)) };
    }
    await this.reloadQueue().catch(() => undefined);
    if (run === null) {
      // Another tab of this kiosk delivers; look again later.
      this.retry = setTimeout(() => void this.deliver(), DELIVERY_RETRY_MS[DELIVERY_RETRY_MS.length - 1]);
    } else if (run.kind === 'away') {
      this.set({ reached: false });
      const wait = DELIVERY_RETRY_MS[Math.min(this.retries, DELIVERY_RETRY_MS.length - 1)];
      this.retries += 1;
      this.retry = setTimeout(() => void this.deliver(), wait);
    } else if (run.kind === 'refused_device') {
      this.set({ refusedDevice: true, reached: true });
    } else {
      this.retries = 0;
      if (run.delivered > 0) this.set({ reached: true });
    }
    if (run && run.delivered > 0) void this.refreshKit();
    if (run) await this.reportHeld();
    this.running = false;
    this.set({ delivering: false });
    if (this.again) {
      this.again = false;
      if (this.waiting() > 0 && run?.kind !== 'away') void this.deliver();
    }
  }
}

/** Runs `fn` unless another tab of this kiosk holds the delivery lock (then null). */
async function exclusive<T>(fn: () => Promise<T>): Promise<T | null> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return fn();
  return locks.request('boothcloud-kiosk-delivery', { ifAvailable: true }, async (lock) => (lock ? fn() : null));
}

/** Preloads what the till needs offline through the service worker (its first visit). */
export function warmTill(): Promise<void> {
  return warmEngine();
}

/** The till's state for a face, redrawn as it changes (null without a till: a phone). */
export function useTillState(till: OfflineTill | null): TillState | null {
  const [state, setState] = useState<TillState | null>(() => till?.get() ?? null);
  useEffect(() => {
    if (!till) return;
    setState(till.get());
    return till.subscribe(() => setState(till.get()));
  }, [till]);
  return state;
}
