import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors';
import type { OfflineOrder, OrderReceipt } from '../../api/selling';
import { deliverWaiting, type OfflinePoster } from './delivery';
import type { DeliveryQueue } from './queue';
import type { QueuedOrder } from './store';

function order(seq: number, state: QueuedOrder['state'] = 'waiting'): QueuedOrder {
  const body = { idempotency_key: `key-${seq}`, pickup: seq } as unknown as OfflineOrder;
  return { seq, body, pickupNumber: `A-00${seq}`, currency: 'EUR', state, error: null, attempts: 0 };
}

/** The queue in memory, as delivery.ts sees the IndexedDB one. */
function memoryQueue(orders: QueuedOrder[]): DeliveryQueue & { orders: QueuedOrder[] } {
  const q = {
    orders,
    async firstWaiting() {
      return q.orders.find((o) => o.state === 'waiting') ?? null;
    },
    async beforeTry(seq: number) {
      q.orders = q.orders.map((o) => (o.seq === seq ? { ...o, attempts: o.attempts + 1 } : o));
    },
    async failed(seq: number, why: QueuedOrder['error']) {
      q.orders = q.orders.map((o) => (o.seq === seq ? { ...o, error: why } : o));
    },
    async delivered(seq: number) {
      q.orders = q.orders.filter((o) => o.seq !== seq);
    },
    async needsStaff(seq: number, why: QueuedOrder['error']) {
      q.orders = q.orders.map((o) => (o.seq === seq ? { ...o, state: 'needs_staff' as const, error: why } : o));
    },
  };
  return q;
}

/** A node answering each delivery in turn (an ApiError is thrown), recording the keys sent. */
function node(answers: (ApiError | 'ok')[]): OfflinePoster & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    async deliverOffline(o: OfflineOrder) {
      sent.push(o.idempotency_key);
      const a = answers.shift() ?? 'ok';
      if (a !== 'ok') throw a;
      return { body: {} as OrderReceipt, status: 201, replayed: false };
    },
  };
}

describe('delivering orders taken offline', () => {
  it('sends them in the order taken and empties the queue', async () => {
    const q = memoryQueue([order(1), order(2), order(3)]);
    const n = node([]);
    expect(await deliverWaiting(q, n)).toEqual({ kind: 'empty', delivered: 3 });
    expect(n.sent).toEqual(['key-1', 'key-2', 'key-3']);
    expect(q.orders).toEqual([]);
  });

  it('stops at an order the node did not answer, keeps it and those after it', async () => {
    const q = memoryQueue([order(1), order(2), order(3)]);
    const n = node(['ok', new ApiError(0, 'unreachable', 'The booth does not answer.')]);
    const run = await deliverWaiting(q, n);
    expect(run.kind).toBe('away');
    expect(run.delivered).toBe(1);
    expect(q.orders.map((o) => [o.seq, o.state, o.attempts])).toEqual([[2, 'waiting', 1], [3, 'waiting', 0]]);
    expect(q.orders[0].error?.code).toBe('unreachable');
    // The next run sends the same order again first.
    const again = node([]);
    expect(await deliverWaiting(q, again)).toEqual({ kind: 'empty', delivered: 2 });
    expect(again.sent).toEqual(['key-2', 'key-3']);
  });

  it('treats 5xx, 408 and 429 as "try again later"', async () => {
    for (const status of [500, 502, 503, 504, 408, 429]) {
      const q = memoryQueue([order(1)]);
      const run = await deliverWaiting(q, node([new ApiError(status, 'x', 'busy')]));
      expect(run.kind, String(status)).toBe('away');
      expect(q.orders[0].state).toBe('waiting');
    }
  });

  it('keeps an order the node will never take for staff, and goes on with the next', async () => {
    const q = memoryQueue([order(1), order(2)]);
    const n = node([new ApiError(422, 'idempotency_key_reused', 'reused'), 'ok']);
    expect(await deliverWaiting(q, n)).toEqual({ kind: 'empty', delivered: 1 });
    expect(q.orders).toHaveLength(1);
    expect(q.orders[0]).toMatchObject({ seq: 1, state: 'needs_staff', error: { code: 'idempotency_key_reused' } });
    // Orders needing staff are not sent again by themselves.
    const later = node([]);
    expect(await deliverWaiting(q, later)).toEqual({ kind: 'empty', delivered: 0 });
    expect(later.sent).toEqual([]);
  });

  it('stops for staff when the node no longer knows the kiosk, dropping nothing', async () => {
    const q = memoryQueue([order(1), order(2)]);
    const run = await deliverWaiting(q, node([new ApiError(401, 'kiosk_not_enrolled', 'not enrolled')]));
    expect(run.kind).toBe('refused_device');
    expect(q.orders.map((o) => o.state)).toEqual(['waiting', 'waiting']);
  });
});
