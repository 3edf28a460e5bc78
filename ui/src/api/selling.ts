// The selling faces' JSON, by the names the shop, the counter, the pickup board and the
// receipt page use: the catalogue with the shop's settings and payment methods, quotes,
// orders and their receipts, the pickup board, staff sessions and the counter's orders.
//
// Every shape the node answers or is sent is an alias of `schema.d.ts`, which
// openapi-typescript generates from the OpenAPI document the node serves
// (GET /api/v1/openapi.json): regenerate it with `npm run api:types`;
// `node tests/api-types.mjs` fails when it is out of date. Nothing here restates a field
// by hand: when the node changes a shape, this follows, and the faces that use it stop
// compiling until they follow too.

import type { Schemas } from './types';

/** Integer minor units of the event's currency (450 EUR = €4.50). */
export type Minor = Schemas['i64'];

/** How an order is paid. `pay_at_pickup`: nothing yet; the customer pays when collecting. */
export type PaymentMethod = Schemas['PaymentMethod'];

/** Where an order is at the counter. `new` orders show as being prepared on the board. */
export type Fulfilment = Schemas['Fulfilment'];

/** Where an order is on its way to the hub (the booth's sync state, and `voided`). */
export type OrderSyncState = Schemas['SyncState'];

// The catalogue (`GET /api/v1/catalogue`).
export type Catalogue = Schemas['Catalogue'];
/** A catalogue item, with the units left (`available`) for items whose stock is tracked. */
export type Item = Schemas['CatalogueItem'];
/** What a kiosk is told about a promotion; `skus`: the items it can take money off (absent: the whole basket). */
export type PromotionInfo = Schemas['PromotionInfo'];
/** How the shop and the counter look and behave (the manifest's `[shop]` and `[pickup]`). */
export type Shop = Schemas['ShopView'];
/** What an enrolled kiosk, staff or the lead may take (`methods`), and a customer's own phone (`phones`). */
export type Payments = Schemas['PaymentsView'];

// Quotes (`POST /api/v1/quotes`).
export type BasketLine = Schemas['BasketLine'];
export type QuoteRequest = Schemas['QuoteRequest'];
export type AppliedDiscount = Schemas['AppliedDiscount'];
export type PricedLine = Schemas['PricedLine'];
export type QuoteResponse = Schemas['QuoteResponse'];

// Orders (`POST /api/v1/orders`) and their receipts.
export type OrderRequest = Schemas['OrderRequest'];
/** The payment of an order: card needs the slip's `reference`, cash the `tendered` amount. */
export type OrderPayment = Schemas['Payment'];
/** A line as an order keeps it. */
export type OrderLine = Schemas['TokenLine'];
/** A line with the item's name, as receipts and the counter show it. */
export type NamedLine = Schemas['NamedLine'];
/** `POST /api/v1/orders`' 201 (and the same again for a retry with the same key). */
export type OrderReceipt = Schemas['OrderReceipt'];
/** `GET /api/v1/receipts/{receipt_id}` (public; no contact details exist). */
export type Receipt = Schemas['Receipt'];
/** `GET /api/v1/pickup` (public): pickup numbers; `preparing` includes new orders. */
export type PickupBoard = Schemas['PickupBoard'];

// Selling without the node (`/api/v1/kiosk/…`, enrolled kiosks only).
/** What a kiosk keeps to sell while the booth is away: price book, reserved pickup numbers, limits. */
export type OfflineKit = Schemas['OfflineKit'];
export type OfflineLimits = Schemas['OfflineLimits'];
/** Pickup numbers reserved for one kiosk (`prefix`-`first` to `prefix`-`last`). */
export type PickupRange = Schemas['PickupRange'];
/** An order a kiosk took offline, as it is delivered (`POST /api/v1/kiosk/offline-orders`). */
export type OfflineOrder = Schemas['OfflineOrder'];
/** The lines and totals a kiosk charged offline. */
export type Charged = Schemas['Charged'];
/** What a kiosk still holds in its offline queue (`PUT /api/v1/kiosk/held`). */
export type HeldOrders = Schemas['Held'];

// Staff sessions (`/api/v1/staff/session`, `/api/v1/staff/me`).
export type SignIn = Schemas['SignIn'];
export type SignedIn = Schemas['SignedIn'];
export type Me = Schemas['Me'];

// The counter's orders (`/api/v1/counter/orders`).
export type CounterOrder = Schemas['CounterOrder'];
export type CounterOrders = Schemas['CounterOrders'];
/**
 * `open`: new, preparing, ready (oldest first). `done`: collected, voided (newest first,
 * last 50). The `view` query parameter is inline in the document (no named schema). UI-only.
 */
export type CounterView = 'open' | 'done';
/** The next step at the counter; `paid_with` is needed to collect an unpaid order. */
export type FulfilmentRequest = Schemas['Step'];
export type VoidRequest = Schemas['Void'];
export type RefundRequest = Schemas['NewRefund'];
export type Refund = Schemas['Refund'];
