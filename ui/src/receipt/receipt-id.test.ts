import { describe, expect, it } from 'vitest';
import { receiptIdFrom } from './receipt-id';

describe('the receipt in the address', () => {
  it('is the last part of /r/<id>', () => {
    expect(receiptIdFrom({ pathname: '/r/abc123', search: '' })).toBe('abc123');
    expect(receiptIdFrom({ pathname: '/r/abc123/', search: '' })).toBe('abc123');
  });
  it('may be given as ?id= on receipt.html', () => {
    expect(receiptIdFrom({ pathname: '/receipt.html', search: '?id=xyz' })).toBe('xyz');
  });
  it('is missing otherwise', () => {
    expect(receiptIdFrom({ pathname: '/r/', search: '' })).toBeNull();
    expect(receiptIdFrom({ pathname: '/receipt.html', search: '' })).toBeNull();
    expect(receiptIdFrom({ pathname: '/r/%E0%A4%A', search: '' })).toBeNull();
  });
});
