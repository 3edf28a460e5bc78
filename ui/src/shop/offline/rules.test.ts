import { describe, expect, it } from 'vitest';
import type { OfflineLimits } from '../../api/selling';
import { chargedOf, formatPickup, heldOf, nextAfterKit, refusal, type TakeCheck } from './rules';

describe('pickup numbers', () => {
  it('read as the node writes them: the prefix, a dash, three digits at least', () => {
    expect(formatPickup('A', 7)).toBe('A-007');
    expect(formatPickup('A', 42)).toBe('A-042');
    expect(formatPickup('K', 999)).toBe('K-999');
    expect(formatPickup('A', 1000)).toBe('A-1000');
  });

  const range = (first: number, next: number) => ({ prefix: 'A', first, last: first + 49, next });

  it('start at the node’s next for a kiosk that kept no kit', () => {
    expect(nextAfterKit(null, range(101, 101))).toBe(101);
  });
  it('go on from the kiosk’s own next when it handed out numbers the node has not seen', () => {
    expect(nextAfterKit({ first: 101, next: 105 }, range(101, 102))).toBe(105);
  });
  it('go on from the node’s next when it is further (orders delivered, say, from another tab)', () => {
    expect(nextAfterKit({ first: 101, next: 103 }, range(101, 110))).toBe(110);
  });
  it('start at the new range’s next when the node reserved another range', () => {
    expect(nextAfterKit({ first: 101, next: 140 }, range(151, 151))).toBe(151);
    // Even when the new range lies below the old one's numbers.
    expect(nextAfterKit({ first: 151, next: 160 }, range(1, 1))).toBe(1);
  });
});

describe('limits before an order is taken offline', () => {
  const limits: OfflineLimits = { methods: ['card', 'cash'], max_order: 15_000, max_total: 100_000, max_orders: 50, max_for_secs: 7_200 };
  const now = Date.parse('2026-12-03T18:00:00Z');
  const ok: TakeCheck = { limits, total: 2_500, held: { orders: 3, total: 9_000 }, next: 4, last: 50, receivedAt: now - 60_000, now, method: 'card' };

  it('let an ordinary order through', () => {
    expect(refusal(ok)).toBeNull();
    expect(refusal({ ...ok, method: null })).toBeNull();
  });
  it('refuse an order larger than a kiosk may take, and take one exactly at the limit', () => {
    expect(refusal({ ...ok, total: 15_001 })).toEqual({ kind: 'order_too_large', max: 15_000 });
    expect(refusal({ ...ok, total: 15_000 })).toBeNull();
  });
  it('refuse when the money waiting would pass the limit', () => {
    expect(refusal({ ...ok, held: { orders: 10, total: 95_000 }, total: 5_001 })).toEqual({ kind: 'queue_total', max: 100_000 });
    expect(refusal({ ...ok, held: { orders: 10, total: 95_000 }, total: 5_000 })).toBeNull();
  });
  it('refuse when the queue holds as many orders as it may', () => {
    expect(refusal({ ...ok, held: { orders: 50, total: 1_000 } })).toEqual({ kind: 'queue_full', max: 50 });
    expect(refusal({ ...ok, held: { orders: 49, total: 1_000 } })).toBeNull();
  });
  it('refuse once the kit is older than the kiosk may sell with', () => {
    expect(refusal({ ...ok, receivedAt: now - 7_200_000 })).toBeNull();
    expect(refusal({ ...ok, receivedAt: now - 7_200_001 })).toEqual({ kind: 'kit_too_old', maxSecs: 7_200 });
  });
  it('refuse when the clock went back so far the kit’s age cannot be told', () => {
    expect(refusal({ ...ok, receivedAt: now + 60_000 })).toBeNull();
    expect(refusal({ ...ok, receivedAt: now + 3_600_000 })).toEqual({ kind: 'kit_too_old', maxSecs: 7_200 });
  });
  it('refuse when no reserved pickup number is left', () => {
    expect(refusal({ ...ok, next: 50 })).toBeNull();
    expect(refusal({ ...ok, next: 51 })).toEqual({ kind: 'no_numbers' });
  });
  it('refuse a way of paying not taken offline', () => {
    expect(refusal({ ...ok, method: 'pay_at_pickup' })).toEqual({ kind: 'method', method: 'pay_at_pickup' });
  });
});

describe('what the queue holds and what was charged', () => {
  it('counts the orders and adds up their money', () => {
    expect(heldOf([])).toEqual({ orders: 0, total: 0 });
    expect(heldOf([3_900, 600, 1_250])).toEqual({ orders: 3, total: 5_750 });
  });
  it('keeps the engine’s lines and totals as the node’s Charged', () => {
    const priced = {
      lines: [
        { sku: 'TEE-M', name: 'Tee (M)', qty: 1, unit_price: 2_500, subtotal: 2_500, discount: 284, total: 2_216, discounts: [] },
        { sku: 'BEANIE', name: 'Beanie', qty: 1, unit_price: 1_900, subtotal: 1_900, discount: 216, total: 1_684, discounts: [] },
      ],
      subtotal: 4_400,
      discount: 500,
      total: 3_900,
    };
    expect(chargedOf(priced)).toEqual({
      lines: [
        { sku: 'TEE-M', qty: 1, unit_price: 2_500, total: 2_216 },
        { sku: 'BEANIE', qty: 1, unit_price: 1_900, total: 1_684 },
      ],
      subtotal: 4_400,
      discount: 500,
      total: 3_900,
    });
  });
});
