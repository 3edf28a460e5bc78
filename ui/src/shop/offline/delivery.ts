// Delivering the orders a kiosk took offline, in the order taken, one at a time: each
// try is counted in the queue before it is sent, and the answer is kept before the
// next. A 201 (also a replay: the node had it already) removes the order; a refusal the
// node will always give (422 and the like) keeps it for staff and moves on; no answer,
// a 5xx, 408 or 429 stops here until the next try (till.ts waits, at most 10 s); 401 or
// 403 (this kiosk is not enrolled any more, or not on HTTPS) stops for staff to sort out.
//
// Owns: what a delivery answer means for the queued order. Never: drops an order the
// node did not take, changes its body or key, or sends two at once.

import { ApiError } from '../../api/errors';
import type { Answer } from '../../api/node-client';
import type { OfflineOrder, OrderReceipt } from '../../api/selling';
import type { DeliveryQueue } from './queue';

/** The node's part (`SellingApi.deliverOffline`). */
export interface OfflinePoster {
  deliverOffline(order: OfflineOrder): Promise<Answer<OrderReceipt>>;
}

export type DeliveryRun =
  /** Nothing left to deliver (orders needing staff may remain). */
  | { kind: 'empty'; delivered: number }
  /** The node did not answer: try again later. */
  | { kind: 'away'; delivered: number; error: ApiError }
  /** The node refuses this device (401/403): staff must enroll it again. */
  | { kind: 'refused_device'; delivered: number; error: ApiError };

/** What a failed delivery means: try again later, stop for the device, or keep it for staff. */
export function classifyDelivery(error: ApiError): 'retry' | 'device' | 'staff' {
  if (error.status === 0 || error.status >= 500 || error.status === 408 || error.status === 429) return 'retry';
  if (error.status === 401 || error.status === 403) return 'device';
  return 'staff';
}

/** Delivers waiting orders until none is left or one cannot be delivered now. */
export async function deliverWaiting(queue: DeliveryQueue, node: OfflinePoster, onStep: () => void = () => undefined): Promise<DeliveryRun> {
  let delivered = 0;
  for (;;) {
    const order = await queue.firstWaiting();
    if (!order) return { kind: 'empty', delivered };
    await queue.beforeTry(order.seq);
    try {
      await node.deliverOffline(order.body);
      await queue.delivered(order.seq);
      delivered += 1;
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError(0, 'unreachable', String(e));
      const why = { code: error.code, message: error.message };
      switch (classifyDelivery(error)) {
        case 'retry':
          await queue.failed(order.seq, why);
          return { kind: 'away', delivered, error };
        case 'device':
          await queue.failed(order.seq, why);
          return { kind: 'refused_device', delivered, error };
        case 'staff':
          await queue.needsStaff(order.seq, why);
          break;
      }
    }
    onStep();
  }
}
