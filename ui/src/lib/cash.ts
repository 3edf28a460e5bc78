// Cash at the counter or the kiosk: what a customer is likely to hand over for a total
// (the quick buttons) and the change due. Money is integer minor units throughout.

import { minorDigits } from './format';

/** Banknote-like amounts, in major units, that people round a total up to. */
const ROUNDINGS = [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

/**
 * Up to `count` amounts above `total` a customer is likely to hand over, smallest first:
 * the total rounded up to a 5, 10, 20, 50… (only roundings worth at least a tenth of the
 * total and below ten times it, so €12.50 gives 15, 20, 50, not 13, 14 or 200).
 */
export function quickTenders(total: number, currency: string, count = 3): number[] {
  if (total <= 0) return [];
  const unit = 10 ** minorDigits(currency);
  const found = new Set<number>();
  for (const major of ROUNDINGS) {
    const step = major * unit;
    if (step * 10 < total) continue;
    const amount = Math.ceil(total / step) * step;
    if (amount > total && amount < total * 10) found.add(amount);
  }
  return [...found].sort((a, b) => a - b).slice(0, count);
}

/** Change due for `tendered` against `total`, or null when it is not enough. */
export function changeDue(total: number, tendered: number | null): number | null {
  if (tendered === null || tendered < total) return null;
  return tendered - total;
}
