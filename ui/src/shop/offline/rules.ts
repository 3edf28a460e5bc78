// The rules an enrolled kiosk keeps to while it sells without the booth, as pure
// functions: how a pickup number reads, which number comes next when a new kit arrives,
// whether one more order may be taken (the kit's limits), what was charged, and what the
// queue holds. The node checks the same on delivery; here they decide what the kiosk
// dares to take before a customer pays.
//
// Never: prices anything (the node's own engine does, offline/engine.ts), reads a clock
// (the caller passes `now`), or touches storage.

import type { Charged, HeldOrders, OfflineLimits, PickupRange, PricedLine } from '../../api/selling';

/** `A-007`, `A-042`, `A-1000`: three digits at least, as the node writes them. */
export function formatPickup(prefix: string, n: number): string {
  return `${prefix}-${String(n).padStart(3, '0')}`;
}

/** The part of a kept kit that says which pickup number the kiosk hands out next. */
export interface KeptRange {
  /** The first number of the range the kiosk was given. */
  first: number;
  /** The next number it will hand out. */
  next: number;
}

/**
 * The next number once `fresh` (a new kit's range) arrives. A new range (another
 * `first`) starts at the node's `next`; the same range goes on from whichever is
 * further: this kiosk's own (it handed out numbers the node has not seen yet) or the
 * node's (orders it delivered).
 */
export function nextAfterKit(kept: KeptRange | null, fresh: PickupRange): number {
  if (!kept || kept.first !== fresh.first) return fresh.next;
  return Math.max(kept.next, fresh.next);
}

/** What the queue holds: orders not delivered yet (waiting or needing staff), and their money. */
export function heldOf(totals: readonly number[]): HeldOrders {
  return { orders: totals.length, total: totals.reduce((sum, t) => sum + t, 0) };
}

/** Why a kiosk must not take one more order by itself; staff take over. */
export type Refusal =
  /** This order is larger than a kiosk may take offline. */
  | { kind: 'order_too_large'; max: number }
  /** The money waiting in the queue would pass the limit. */
  | { kind: 'queue_total'; max: number }
  /** The queue holds as many orders as it may. */
  | { kind: 'queue_full'; max: number }
  /** The kit is older than the kiosk may sell with. */
  | { kind: 'kit_too_old'; maxSecs: number }
  /** No reserved pickup number is left. */
  | { kind: 'no_numbers' }
  /** This way of paying is not taken offline. */
  | { kind: 'method'; method: string };

export interface TakeCheck {
  limits: OfflineLimits;
  /** The order's total (minor units). */
  total: number;
  /** What the queue already holds. */
  held: HeldOrders;
  /** The pickup number this order would get, and the last one reserved. */
  next: number;
  last: number;
  /** When the kit was received and now, on this device's clock (ms). */
  receivedAt: number;
  now: number;
  /** The chosen way of paying, when one is chosen. */
  method?: string | null;
}

/**
 * Whether one more order may be taken offline; null: it may. The kit's age is measured
 * from when this device received it, on its own clock, so a kiosk whose clock is off
 * from the laptop's still keeps the limit as long as it is.
 */
export function refusal(c: TakeCheck): Refusal | null {
  const l = c.limits;
  if (c.method && !(l.methods as string[]).includes(c.method)) return { kind: 'method', method: c.method };
  if (c.now - c.receivedAt > l.max_for_secs * 1000 || c.now < c.receivedAt - 5 * 60_000) {
    // A clock set back by more than a few minutes since the kit came cannot say how old it is.
    return { kind: 'kit_too_old', maxSecs: l.max_for_secs };
  }
  if (c.total > l.max_order) return { kind: 'order_too_large', max: l.max_order };
  if (c.held.orders >= l.max_orders) return { kind: 'queue_full', max: l.max_orders };
  if (c.held.total + c.total > l.max_total) return { kind: 'queue_total', max: l.max_total };
  if (c.next > c.last) return { kind: 'no_numbers' };
  return null;
}

/** What the customer was charged, from the engine's priced basket (as the node's `Charged`). */
export function chargedOf(priced: { lines: PricedLine[]; subtotal: number; discount: number; total: number }): Charged {
  return {
    lines: priced.lines.map((l) => ({ sku: l.sku, qty: l.qty, unit_price: l.unit_price, total: l.total })),
    subtotal: priced.subtotal,
    discount: priced.discount,
    total: priced.total,
  };
}
