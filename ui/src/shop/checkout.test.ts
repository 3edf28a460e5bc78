import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors';
import type { OrderReceipt, OrderRequest } from '../api/selling';
import { Checkout, classify, newIdempotencyKey, type OrderPlacer } from './checkout';

function memoryStore() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k), m };
}

const request: OrderRequest = { quote_token: 'q1', payment: { method: 'pay_at_pickup' } };
const summary = { total: 1250, currency: 'EUR', lines: [{ sku: 'MUG', qty: 1 }] };

function receipt(n: number): OrderReceipt {
  return {
    order_id: `o${n}`, status: 'captured', currency: 'EUR', lines: [], subtotal: 1250, discount: 0, total: 1250,
    payment: 'pay_at_pickup', created_at: '2026-12-03T12:00:00Z', pickup_number: `A-00${n}`, receipt_id: `r${n}`, receipt_url: `/r/r${n}`,
  };
}

/** A node that keeps one order per key, and can lose its answer on the way back. */
function fakeNode() {
  const orders = new Map<string, OrderReceipt>();
  const keys: string[] = [];
  let loseNextAnswer = false;
  let down = false;
  const node: OrderPlacer & { loseNext(): void; setDown(d: boolean): void; orders: typeof orders; keys: string[] } = {
    orders,
    keys,
    loseNext: () => void (loseNextAnswer = true),
    setDown: (d) => void (down = d),
    async placeOrder(key) {
      keys.push(key);
      if (down) throw new ApiError(0, 'unreachable', 'no answer');
      let r = orders.get(key);
      if (!r) {
        r = receipt(orders.size + 1);
        orders.set(key, r);
      }
      if (loseNextAnswer) {
        loseNextAnswer = false;
        throw new ApiError(0, 'unreachable', 'answer lost');
      }
      return r;
    },
  };
  return node;
}

describe('placing an order', () => {
  it('retries a lost answer with the same key and gets the one order back', async () => {
    const node = fakeNode();
    const store = memoryStore();
    const checkout = new Checkout(node, store, 'boothcloud.shop.pending');
    node.loseNext();
    const first = await checkout.confirm(request, summary);
    expect(first.kind).toBe('retry');
    expect(checkout.pending()?.key).toBe(node.keys[0]);
    const second = await checkout.send();
    expect(second).toEqual({ kind: 'placed', receipt: receipt(1) });
    expect(node.keys).toHaveLength(2);
    expect(node.keys[1]).toBe(node.keys[0]);
    expect(node.orders.size).toBe(1);
    expect(checkout.pending()).toBeNull();
  });

  it('resumes after a reload with the key kept in the browser', async () => {
    const node = fakeNode();
    const store = memoryStore();
    node.setDown(true);
    await new Checkout(node, store, 'k').confirm(request, summary);
    node.setDown(false);
    const reloaded = new Checkout(node, store, 'k');
    expect(reloaded.pending()?.request).toEqual(request);
    const result = await reloaded.send();
    expect(result.kind).toBe('placed');
    expect(new Set(node.keys).size).toBe(1);
  });

  it('makes a new key only for a new confirmation', async () => {
    const node = fakeNode();
    const checkout = new Checkout(node, memoryStore(), 'k');
    await checkout.confirm(request, summary);
    await checkout.confirm({ ...request, quote_token: 'q2' }, summary);
    expect(new Set(node.keys).size).toBe(2);
    expect(node.orders.size).toBe(2);
  });

  it('sends a pending order again instead of confirming a second one', async () => {
    const node = fakeNode();
    const checkout = new Checkout(node, memoryStore(), 'k');
    node.setDown(true);
    await checkout.confirm(request, summary);
    node.setDown(false);
    await checkout.confirm({ ...request, quote_token: 'q2' }, summary);
    expect(new Set(node.keys).size).toBe(1);
    expect(node.orders.size).toBe(1);
  });

  it('forgets the order after a refusal for good', async () => {
    const store = memoryStore();
    const refusing: OrderPlacer = { placeOrder: async () => { throw new ApiError(409, 'out_of_stock', 'gone'); } };
    const checkout = new Checkout(refusing, store, 'k');
    const result = await checkout.confirm(request, summary);
    expect(result).toMatchObject({ kind: 'refused', requote: true });
    expect(checkout.pending()).toBeNull();
  });

  it('keeps the order while a staff session is renewed', async () => {
    const ended: OrderPlacer = { placeOrder: async () => { throw new ApiError(401, 'staff_session_needed', 'sign in'); } };
    const checkout = new Checkout(ended, memoryStore(), 'k');
    expect((await checkout.confirm(request, summary)).kind).toBe('session');
    expect(checkout.pending()).not.toBeNull();
  });

  it('sends one try at a time', async () => {
    const node = fakeNode();
    const checkout = new Checkout(node, memoryStore(), 'k');
    const a = checkout.confirm(request, summary);
    const b = checkout.send();
    expect(await a).toEqual(await b);
    expect(node.keys).toHaveLength(1);
  });
});

describe('what may be retried', () => {
  it('retries no answer, a busy or failing booth, with backoff and Retry-After', () => {
    expect(classify(new ApiError(0, 'unreachable', ''), 1)).toMatchObject({ kind: 'retry', waitMs: 1000 });
    expect(classify(new ApiError(503, 'shed', ''), 3)).toMatchObject({ kind: 'retry', waitMs: 4000 });
    expect(classify(new ApiError(503, 'shed', ''), 9)).toMatchObject({ kind: 'retry', waitMs: 8000 });
    expect(classify(new ApiError(429, 'rate_limited', '', 12), 1)).toMatchObject({ kind: 'retry', waitMs: 12000 });
  });
  it('stops at a refusal', () => {
    for (const [status, code] of [[422, 'invalid_quote'], [409, 'quote_used'], [410, 'booth_closed'], [403, 'payment_not_allowed']] as const) {
      expect(classify(new ApiError(status, code, ''), 1).kind).toBe('refused');
    }
  });
});

describe('idempotency keys', () => {
  it('are UUIDs, also where crypto.randomUUID is missing (plain HTTP)', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(newIdempotencyKey()).toMatch(uuid);
    const original = crypto.randomUUID;
    try {
      Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true });
      const a = newIdempotencyKey();
      expect(a).toMatch(uuid);
      expect(newIdempotencyKey()).not.toBe(a);
    } finally {
      Object.defineProperty(crypto, 'randomUUID', { value: original, configurable: true });
    }
  });
});
