import { describe, expect, it } from 'vitest';
import { changeDue, quickTenders } from './cash';
import { parseMoney } from './format';

describe('quick tenders', () => {
  it('rounds a euro total up to notes', () => {
    expect(quickTenders(1250, 'EUR')).toEqual([1500, 2000, 5000]);
    expect(quickTenders(350, 'EUR')).toEqual([500, 1000, 2000]);
    expect(quickTenders(4700, 'EUR')).toEqual([5000, 6000, 10000]);
  });
  it('never offers the exact total (that is its own button) or less', () => {
    expect(quickTenders(2000, 'EUR')).toEqual([5000, 10000]);
    expect(quickTenders(0, 'EUR')).toEqual([]);
  });
  it('follows the currency\'s decimals', () => {
    expect(quickTenders(1230, 'JPY')).toEqual([1400, 1500, 2000]);
  });
});

describe('change due', () => {
  it('is the difference, or nothing when short', () => {
    expect(changeDue(1250, 2000)).toBe(750);
    expect(changeDue(1250, 1250)).toBe(0);
    expect(changeDue(1250, 1000)).toBeNull();
    expect(changeDue(1250, null)).toBeNull();
  });
});

describe('typed amounts', () => {
  it('reads either decimal mark', () => {
    expect(parseMoney('20', 'EUR')).toBe(2000);
    expect(parseMoney('20,5', 'EUR')).toBe(2050);
    expect(parseMoney('20.50', 'EUR')).toBe(2050);
    expect(parseMoney('€ 7', 'EUR')).toBe(700);
    expect(parseMoney('500', 'JPY')).toBe(500);
  });
  it('refuses what is not an amount', () => {
    expect(parseMoney('', 'EUR')).toBeNull();
    expect(parseMoney('abc', 'EUR')).toBeNull();
    expect(parseMoney('1.000,00', 'EUR')).toBeNull();
    expect(parseMoney('2.555', 'EUR')).toBeNull();
  });
});
