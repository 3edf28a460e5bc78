// The calls the selling faces make, one method per route: the catalogue, quotes and
// orders (shop, counter, the dashboard's Sell screen), the public receipt and pickup
// board, staff sign-in, and the counter's orders. Who the caller is travels in the
// client's headers (a kiosk's key, a staff session, the operator token).
//
// Only `shop/pricing.ts` asks for quotes and only `shop/checkout.ts` places orders: they
// own what a quote and an order mean (debouncing, retries, the Idempotency-Key). Only
// `shop/offline/` (an enrolled kiosk's till) asks for the offline kit, delivers orders
// taken offline and says what it holds.

import type { Answer, NodeClient } from './node-client';
import type {
  Catalogue, CounterOrder, CounterOrders, CounterView, FulfilmentRequest, HeldOrders, Me, OfflineKit, OfflineOrder, OrderReceipt,
  OrderRequest, PickupBoard, QuoteRequest, QuoteResponse, Receipt, Refund, RefundRequest, SignedIn, SignIn, VoidRequest,
} from './selling';

const id = encodeURIComponent;

export class SellingApi {
  constructor(readonly client: NodeClient) {}

  /** The address of an asset-cache file (a product photo). */
  photoUrl(image: string): string {
    return this.client.url('/assets/' + image.replace(/^\/+/, ''));
  }

  /**
   * Asks for a file and drops it: a service worker on the way keeps it (the shop warms
   * its photo cache this way). Never fails.
   */
  async prefetch(url: string): Promise<void> {
    try {
      await (await fetch(url)).arrayBuffer();
    } catch {
      // Not kept this time: the photo loads when it is shown.
    }
  }

  catalogue(): Promise<Catalogue> {
    return this.client.get('/api/v1/catalogue');
  }

  quote(request: QuoteRequest): Promise<QuoteResponse> {
    return this.client.post('/api/v1/quotes', request);
  }

  /** Places an order; the same key and body again answer the same order. */
  async placeOrder(idempotencyKey: string, request: OrderRequest): Promise<OrderReceipt> {
    return (await this.client.send<OrderReceipt>('POST', '/api/v1/orders', request, { 'idempotency-key': idempotencyKey })).body;
  }

  /** An enrolled kiosk's offline kit (401 `kiosk_not_enrolled` for anything else). */
  offlineKit(): Promise<OfflineKit> {
    return this.client.get('/api/v1/kiosk/offline-kit');
  }

  /** Delivers one order taken offline; the same key and body again answer the same order. */
  deliverOffline(order: OfflineOrder): Promise<Answer<OrderReceipt>> {
    return this.client.send<OrderReceipt>('POST', '/api/v1/kiosk/offline-orders', order);
  }

  /** Tells the node what the kiosk's offline queue still holds. */
  async reportHeld(held: HeldOrders): Promise<void> {
    await this.client.send('PUT', '/api/v1/kiosk/held', held);
  }

  receipt(receiptId: string): Promise<Receipt> {
    return this.client.get(`/api/v1/receipts/${id(receiptId)}`);
  }

  /** A QR code of the receipt page's address (SVG, for an `<img>`). */
  /** An enrolled kiosk prints the receipt of the order it just took (once per order). */
  async printReceipt(orderId: string): Promise<void> {
    await this.client.send('POST', `/api/v1/kiosk/orders/${id(orderId)}/receipt-print`);
  }

  receiptQrUrl(receiptId: string): string {
    return this.client.url(`/api/v1/receipts/${id(receiptId)}/qr.svg`);
  }

  pickupBoard(): Promise<PickupBoard> {
    return this.client.get('/api/v1/pickup');
  }

  signIn(body: SignIn): Promise<SignedIn> {
    return this.client.post('/api/v1/staff/session', body);
  }

  /** Who the staff session belongs to (a 401 `staff_session_needed` when it ended). */
  me(): Promise<Me> {
    return this.client.get('/api/v1/staff/me');
  }

  signOut(): Promise<void> {
    return this.client.delete('/api/v1/staff/session');
  }

  async counterOrders(view: CounterView): Promise<CounterOrder[]> {
    return (await this.client.get<CounterOrders>(`/api/v1/counter/orders?view=${view}`)).orders;
  }

  advance(orderId: string, body: FulfilmentRequest): Promise<CounterOrder> {
    return this.client.post(`/api/v1/counter/orders/${id(orderId)}/fulfilment`, body);
  }

  voidOrder(orderId: string, body: VoidRequest): Promise<CounterOrder> {
    return this.client.post(`/api/v1/counter/orders/${id(orderId)}/void`, body);
  }

  refund(orderId: string, body: RefundRequest): Promise<Refund> {
    return this.client.post(`/api/v1/counter/orders/${id(orderId)}/refunds`, body);
  }
}
