// The orders a kiosk took while it could not reach the booth, first in first out (by
// `seq`), each with the very body it is delivered with. Taking an order is one
// IndexedDB transaction over the kit and the queue: the limits are checked against
// what the queue holds, the next pickup number is given, the order is kept, the number
// moves on — all or nothing, and durable (`strict`) before the kiosk says "Thank you".
//
// Owns: the `queue` store and handing out pickup numbers. Never: removes an order but
// after the node answered it with its receipt (delivery.ts), prices (engine.ts), or
// sends anything.

import type { OfflineOrder } from '../../api/selling';
import { formatPickup, heldOf, type Refusal, refusal } from './rules';
import type { KeptKit, KioskStore, QueuedOrder } from './store';

export type Taken =
  | { ok: true; order: QueuedOrder; kit: KeptKit }
  | { ok: false; kind: 'no_kit' }
  | { ok: false; kind: 'refused'; refusal: Refusal };

/**
 * Takes an order offline: `build` makes its body for the kit in force and the pickup
 * number given (it must not wait on anything: the transaction would end).
 */
export async function takeOrder(db: KioskStore, { total, method, now, build }: {
  total: number;
  method: string;
  now: number;
  build: (kept: KeptKit, pickup: number) => OfflineOrder;
}): Promise<Taken> {
  const tx = db.transaction(['kit', 'queue'], 'readwrite', { durability: 'strict' });
  const kits = tx.objectStore('kit');
  const queue = tx.objectStore('queue');
  const kept = await kits.get('current');
  if (!kept) {
    await tx.done;
    return { ok: false, kind: 'no_kit' };
  }
  const held = heldOf((await queue.getAll()).map((o) => o.body.charged.total));
  const why = refusal({
    limits: kept.kit.limits, total, held, next: kept.next, last: kept.kit.pickup.last, receivedAt: kept.receivedAt, now, method,
  });
  if (why) {
    await tx.done;
    return { ok: false, kind: 'refused', refusal: why };
  }
  const pickup = kept.next;
  const entry: Omit<QueuedOrder, 'seq'> = {
    body: build(kept, pickup),
    pickupNumber: formatPickup(kept.kit.pickup.prefix, pickup),
    currency: kept.kit.currency,
    state: 'waiting',
    error: null,
    attempts: 0,
  };
  // The store gives `seq` (in-line key, generated).
  const seq = await queue.add(entry as QueuedOrder);
  const after: KeptKit = { ...kept, next: pickup + 1 };
  await kits.put(after, 'current');
  await tx.done;
  return { ok: true, order: { ...entry, seq }, kit: after };
}

/** Every order not delivered yet, in the order taken. */
export function listQueue(db: KioskStore): Promise<QueuedOrder[]> {
  return db.getAll('queue');
}

/** What delivery.ts needs of the queue (a test gives it one in memory). */
export interface DeliveryQueue {
  /** The first order still to deliver, or null. */
  firstWaiting(): Promise<QueuedOrder | null>;
  /** Before a try: one more attempt, kept. */
  beforeTry(seq: number): Promise<void>;
  /** A try that failed and is tried again later: why. */
  failed(seq: number, why: QueuedOrder['error']): Promise<void>;
  /** The node took it: gone from the queue. */
  delivered(seq: number): Promise<void>;
  /** The node will never take it as it is: kept, for staff. */
  needsStaff(seq: number, why: QueuedOrder['error']): Promise<void>;
}

export function deliveryQueue(db: KioskStore): DeliveryQueue {
  const change = async (seq: number, edit: (o: QueuedOrder) => QueuedOrder) => {
    const tx = db.transaction('queue', 'readwrite', { durability: 'strict' });
    const order = await tx.store.get(seq);
    if (order) await tx.store.put(edit(order));
    await tx.done;
  };
  return {
    async firstWaiting() {
      let cursor = await db.transaction('queue').store.openCursor();
      while (cursor) {
        if (cursor.value.state === 'waiting') return cursor.value;
        cursor = await cursor.continue();
      }
      return null;
    },
    beforeTry: (seq) => change(seq, (o) => ({ ...o, attempts: o.attempts + 1 })),
    failed: (seq, why) => change(seq, (o) => ({ ...o, error: why })),
    delivered: async (seq) => {
      await db.delete('queue', seq);
    },
    needsStaff: (seq, why) => change(seq, (o) => ({ ...o, state: 'needs_staff', error: why })),
  };
}

/** Staff asked to send an order that needed them again (same key, same body). */
export async function sendAgain(db: KioskStore, seq: number): Promise<void> {
  const tx = db.transaction('queue', 'readwrite', { durability: 'strict' });
  const order = await tx.store.get(seq);
  if (order) await tx.store.put({ ...order, state: 'waiting', error: null });
  await tx.done;
}
