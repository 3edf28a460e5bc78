// The booth screen's order list: newest first, with its sync state in words and a
// filter by state. Refreshed whenever the live snapshot says the orders changed.

import { useEffect, useState } from 'preact/hooks';
import type { Connection, Order, Snapshot, SyncState } from '../../api';
import { money, ORDER_STATES, orderState, shortId, timeOfDay } from '../../lib/format';

export function Orders({ conn, snapshot }: { conn: Connection; snapshot: Snapshot }) {
  const [filter, setFilter] = useState<SyncState | null>(null);
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const c = snapshot.orders;
  // Changes whenever an order arrives or moves on.
  const version = `${c.captured}/${c.syncing}/${c.synced}/${c.quarantined}`;

  useEffect(() => {
    let current = true;
    conn
      .orders(filter, 50)
      .then((page) => {
        if (current) {
          setOrders(page.orders);
          setError(null);
        }
      })
      .catch((e) => current && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      current = false;
    };
  }, [conn, filter, version]);

  // The snapshot counts no voided orders: that chip shows no count.
  const count = (s: SyncState | null): number | null =>
    s === null ? c.captured + c.syncing + c.synced + c.quarantined : s === 'voided' ? null : c[s];
  const zone = snapshot.event.timezone;

  return (
    <section class="orders" aria-labelledby="orders-title">
      <h2 id="orders-title">Orders</h2>
      <div class="filters" role="group" aria-label="Show orders">
        {ORDER_STATES.map((s) => {
          const n = count(s.value);
          return (
            <button
              type="button"
              class="filter"
              aria-pressed={filter === s.value}
              onClick={() => setFilter(s.value)}
              data-testid={`filter-${s.value ?? 'all'}`}
            >
              {s.label}
              {n !== null && <> <span class="count">{n}</span></>}
            </button>
          );
        })}
      </div>
      {error && (
        <p class="notice bad" role="alert">
          The order list could not be loaded: {error}
        </p>
      )}
      {orders && orders.length === 0 && <p class="empty">No orders here yet.</p>}
      {orders && orders.length > 0 && (
        <table class="order-table" data-testid="order-table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Order</th>
              <th scope="col">Items</th>
              <th scope="col">Paid by</th>
              <th scope="col" class="num">Total</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.order_id} data-testid="order-row" data-status={o.status}>
                <td>{timeOfDay(new Date(o.created_at), zone)}</td>
                <td class="mono">{shortId(o.order_id)}</td>
                <td>{o.lines.reduce((n, l) => n + l.qty, 0)}</td>
                <td>{o.payment}</td>
                <td class="num">{money(o.total, o.currency)}</td>
                <td>
                  <span class={`state ${o.status}`}>{orderState(o.status)}</span>
                  {o.status_reason && <span class="reason">{o.status_reason}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
