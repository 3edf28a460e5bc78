// The basket: SKUs and quantities the customer (or staff at the counter) chose, kept in
// this browser under a page's own key so a reload, a lost connection or a staff sign-in
// keeps it. Prices are never kept here: they come from a quote (`pricing.ts`).

import { useEffect, useState } from 'preact/hooks';
import type { BasketLine } from '../api/selling';
import { browserStore, forget, readJson, writeJson } from '../lib/stored';

/** The node refuses more per line than the manifest allows; this keeps a runaway tap sane. */
export const MAX_QTY = 99;

export interface Basket {
  lines: BasketLine[];
  /** Units of `sku` in the basket. */
  qty: (sku: string) => number;
  /** Units in the whole basket. */
  count: number;
  add: (sku: string) => void;
  /** Sets a line's quantity; 0 removes it. */
  set: (sku: string, qty: number) => void;
  clear: () => void;
  /** Drops lines whose SKU is gone from the catalogue. */
  keepOnly: (skus: Set<string>) => void;
}

function clean(kept: unknown): BasketLine[] {
  if (!Array.isArray(kept)) return [];
  return kept.filter(
    (l): l is BasketLine => typeof l?.sku === 'string' && Number.isInteger(l?.qty) && l.qty > 0 && l.qty <= MAX_QTY,
  );
}

export function useBasket(storageKey: string): Basket {
  const store = browserStore();
  const [lines, setLines] = useState<BasketLine[]>(() => clean(readJson(store, storageKey)));
  useEffect(() => {
    if (lines.length) writeJson(store, storageKey, lines);
    else forget(store, storageKey);
  }, [lines, storageKey]);

  const set = (sku: string, qty: number) =>
    setLines((now) => {
      const q = Math.max(0, Math.min(MAX_QTY, Math.floor(qty)));
      if (q === 0) return now.filter((l) => l.sku !== sku);
      return now.some((l) => l.sku === sku) ? now.map((l) => (l.sku === sku ? { sku, qty: q } : l)) : [...now, { sku, qty: q }];
    });
  return {
    lines,
    qty: (sku) => lines.find((l) => l.sku === sku)?.qty ?? 0,
    count: lines.reduce((n, l) => n + l.qty, 0),
    add: (sku) => setLines((now) => {
      const line = now.find((l) => l.sku === sku);
      if (!line) return [...now, { sku, qty: 1 }];
      return now.map((l) => (l.sku === sku ? { sku, qty: Math.min(MAX_QTY, l.qty + 1) } : l));
    }),
    set,
    clear: () => setLines([]),
    keepOnly: (skus) => setLines((now) => (now.every((l) => skus.has(l.sku)) ? now : now.filter((l) => skus.has(l.sku)))),
  };
}
