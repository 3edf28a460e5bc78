// The shop's products: category chips and search over a grid of cards, each with its
// photo, name, price, promotion badges, units left ("Sold out" at none) and one button,
// "Add <name>". A card is an article named by its product.

import { useState } from 'preact/hooks';
import type { Item, PromotionInfo } from '../api/selling';
import { t, tn } from '../i18n';
import { money } from '../lib/format';
import type { Basket } from './basket';
import { badgesFor, categories, categoryName, matches, unitsLeft } from './catalogue';

/** A product's photo, or its initial on a plain tile when it has none or it fails. */
export function Photo({ item, url }: { item: Item; url: string | null }) {
  const [failed, setFailed] = useState(false);
  if (!url || failed) {
    return <div class="photo placeholder" aria-hidden="true">{item.name.charAt(0)}</div>;
  }
  return (
    <div class="photo">
      <img src={url} alt="" loading="lazy" decoding="async" width={400} height={300} onError={() => setFailed(true)} />
    </div>
  );
}

export function Filters({ items, category, onCategory, query, onQuery }: {
  items: Item[];
  category: string | null;
  onCategory: (c: string | null) => void;
  query: string;
  onQuery: (q: string) => void;
}) {
  return (
    <div class="shop-filters">
      <div class="chips" role="group" aria-label={t('shop.categories')} data-testid="categories">
        <button type="button" class="chip-button" aria-pressed={category === null} data-testid="category-all" onClick={() => onCategory(null)}>
          {t('shop.all')}
        </button>
        {categories(items).map((c) => (
          <button type="button" class="chip-button" key={c} aria-pressed={category === c} data-testid={`category-${c}`} onClick={() => onCategory(c)}>
            {categoryName(c)}
          </button>
        ))}
      </div>
      <label class="search">
        <span class="sr-only">{t('shop.search')}</span>
        <input type="search" value={query} placeholder={t('shop.search_placeholder')} data-testid="search" enterKeyHint="search"
          onInput={(e) => onQuery((e.target as HTMLInputElement).value)} />
      </label>
    </div>
  );
}

export function ProductGrid({ items, promotions, basket, photoUrl, category, query }: {
  items: Item[];
  promotions: PromotionInfo[];
  basket: Basket;
  photoUrl: (image: string) => string;
  category: string | null;
  query: string;
}) {
  const shown = items.filter((i) => (category === null || i.category === category) && matches(i, query));
  if (shown.length === 0) {
    return <p class="empty" role="status" data-testid="no-match">{t('shop.no_match', { query: query.trim() || categoryName(category ?? '') })}</p>;
  }
  return (
    <div class="products" data-testid="products">
      {shown.map((item) => {
        const left = unitsLeft(item);
        const inBasket = basket.qty(item.sku);
        const soldOut = left === 0;
        const allTaken = left !== null && inBasket >= left && !soldOut;
        const nameId = `product-${item.sku}`;
        return (
          <article class={`product${soldOut ? ' sold-out' : ''}`} key={item.sku} aria-labelledby={nameId} data-testid="product" data-sku={item.sku}>
            <Photo item={item} url={item.image ? photoUrl(item.image) : null} />
            <div class="product-body">
              <h3 id={nameId}>{item.name}</h3>
              {badgesFor(item, promotions).map((p) => (
                <p class="badge" key={p.id} data-testid="promo-badge">
                  {p.name}
                  <span class="sr-only">: {p.description}</span>
                </p>
              ))}
              {item.description && <p class="description">{item.description}</p>}
              <p class="price" data-testid="price">{money(item.price, item.currency)}</p>
              {left !== null && (
                <p class={`left${soldOut ? ' none' : ''}`} data-testid="units-left">
                  {soldOut ? t('shop.sold_out') : tn('shop.left', left)}
                </p>
              )}
              <button type="button" class="add" aria-label={t('shop.add', { name: item.name })} data-testid="add"
                disabled={soldOut || allTaken} onClick={() => basket.add(item.sku)}>
                {soldOut ? t('shop.sold_out') : allTaken ? t('shop.all_in_basket') : t('shop.add_short')}
              </button>
              {inBasket > 0 && <p class="in-basket" data-testid="in-basket">{tn('shop.in_basket', inBasket)}</p>}
            </div>
          </article>
        );
      })}
    </div>
  );
}
