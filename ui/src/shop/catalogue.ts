// The catalogue as the shop and the counter use it: loaded at start, asked for again
// every 30 s (stock left changes as others buy) and every 5 s while it could not be
// loaded; the categories in the catalogue's order; search; and which promotions to
// badge on an item. The shop's service worker may answer from its cache when the booth
// is out of reach, so a page that loaded once shows the catalogue offline.

import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/errors';
import type { Catalogue, Item, PromotionInfo } from '../api/selling';
import type { SellingApi } from '../api/selling-api';

const REFRESH_MS = 30_000;
const RETRY_MS = 5_000;
const FIRST_REFRESH_MS = 3_000;

export interface CatalogueState {
  catalogue: Catalogue | null;
  /** The last load failed (the last good catalogue, if any, stays). */
  error: ApiError | null;
  reload: () => void;
}

export function useCatalogue(api: SellingApi, onSessionEnded?: (e: ApiError) => void): CatalogueState {
  const [catalogue, setCatalogue] = useState<Catalogue | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let first = true;
    const load = async () => {
      let wait = REFRESH_MS;
      try {
        const c = await api.catalogue();
        if (!live) return;
        setCatalogue(c);
        setError(null);
        // The shop's service worker answers the first ask from its cache while it fetches
        // a fresh copy: asking again soon shows the stock as it is now.
        if (first) wait = FIRST_REFRESH_MS;
        first = false;
      } catch (e) {
        if (!live) return;
        const err = e instanceof ApiError ? e : new ApiError(0, 'unreachable', String(e));
        if (err.status === 401 && onSessionEnded) onSessionEnded(err);
        setError(err);
        wait = RETRY_MS;
      }
      timer = setTimeout(load, wait);
    };
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, tick]);
  return { catalogue, error, reload: () => setTick((n) => n + 1) };
}

/** The categories, in the order their first item comes in the catalogue. */
export function categories(items: Item[]): string[] {
  return [...new Set(items.map((i) => i.category))];
}

/** A category's name as people read it: "hot-drinks" → "Hot drinks". */
export function categoryName(category: string): string {
  const words = category.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A tier's name as people read it: "crew" → "Crew". */
export const tierName = categoryName;

function fold(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** Whether every word of `query` is in the item's name, description, category or SKU. */
export function matches(item: Item, query: string): boolean {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const hay = fold([item.name, item.description ?? '', item.category, item.sku].join(' '));
  return words.every((w) => hay.includes(w));
}

/**
 * The promotions to badge on `item`: those that name it. Promotions for tiers only are
 * left out where customers cannot choose a tier (`forTiers` false).
 */
export function badgesFor(item: Item, promotions: PromotionInfo[], forTiers = false): PromotionInfo[] {
  return promotions.filter((p) => p.skus?.includes(item.sku) && (forTiers || !p.tiers?.length));
}

/** Promotions on the whole basket (they name no item), for the offers strip. */
export function basketOffers(promotions: PromotionInfo[], forTiers = false): PromotionInfo[] {
  return promotions.filter((p) => !p.skus?.length && (forTiers || !p.tiers?.length));
}

/** Units left, or null when stock is not tracked. */
export function unitsLeft(item: Item): number | null {
  return typeof item.available === 'number' ? Math.max(0, item.available) : null;
}
