// The Sync screen: how the booth reaches the regional hub, and what staff can do about
// it — the mode and its reason, the queue, the offline runway, orders waiting for
// approval over an offline limit, quarantined orders (retry, export), and the way
// upstream (automatic, the hub only, a chosen booth, offline only). Opened from the
// header's mode chip; refreshed every two seconds.
//
// Saving orders to a file says "saved" only once the file is on disk: in the app the
// native save dialog answers with the path it wrote; in a browser the file goes to the
// downloads, and the screen says only that the download started.

import { useState } from 'preact/hooks';
import type { AuditEntry, Connection, Link, Order, Route } from '../../api';
import { Sheet } from '../../components/sheet';
import { ago, auditLine, money, runway, span, timeOfDay, wayName } from '../../lib/format';
import { type Message, useAction, usePolled } from '../../lib/polled';
import { type Export, exportMessage } from './saving';

const REFRESH_MS = 2_000;

type Everything = { link: Link; quarantined: Order[]; audit: AuditEntry[] };

export function Sync({ conn, currency, timeZone, onClose }: { conn: Connection; currency: string; timeZone: string; onClose: () => void }) {
  const { data, problem, refresh } = usePolled<Everything>(
    async () => {
      const [link, page, audit] = await Promise.all([conn.uplink(), conn.orders('quarantined', 100), conn.audit(10)]);
      return { link, quarantined: page.orders, audit };
    },
    REFRESH_MS,
  );
  const { message, act } = useAction(refresh);
  const [exporting, setExporting] = useState(false);
  // Shown under the save buttons, where the operator is looking.
  const [exported, setExported] = useState<Message | null>(null);
  const now = new Date();
  const l = data?.link;
  const routes: { route: Route; label: string }[] = l
    ? [
        { route: { route: 'auto' }, label: 'Automatic' },
        { route: { route: 'regional' }, label: 'Regional hub only' },
        ...l.relay_candidates.map((c) => ({ route: { route: 'peer', peer: c.id } as Route, label: `Via ${c.name}` })),
        { route: { route: 'offline_only' }, label: 'Offline only' },
      ]
    : [];
  const chosen = (r: Route) => l !== undefined && JSON.stringify(r) === JSON.stringify(l.route);
  const exportAll = async (status: Export) => {
    setExporting(true);
    setExported(null);
    try {
      const outcome = await conn.saveText(`${status}-orders.json`, await conn.exportOrders(status), 'application/json');
      setExported(exportMessage(status, outcome));
    } catch (e) {
      setExported({ tone: 'bad', text: `Not saved: ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      setExporting(false);
    }
  };
  const r = l && runway(l);
  return (
    <Sheet title="Sync" testid="sync" onClose={onClose}>
      {message && <p class={`notice ${message.tone}`} role="status" data-testid="sync-message">{message.text}</p>}
      {problem && <p class="notice bad" role="alert">{problem}</p>}
      {l && (
        <>
          <p class="lead" data-testid="sync-detail">{l.detail}</p>
          <div class="figures-grid" data-testid="sync-figures">
            <div><span class="sub">Waiting to send</span><strong data-testid="sync-queue">{l.queue_depth}</strong></div>
            <div><span class="sub">Oldest waiting</span><strong>{l.oldest_unsynced_seconds == null ? '—' : span(l.oldest_unsynced_seconds)}</strong></div>
            <div><span class="sub">Last delivery</span><strong>{l.last_sync ? ago(new Date(l.last_sync), now) : 'none yet'}</strong></div>
            <div><span class="sub">In this mode for</span><strong>{span(l.seconds_in_mode)}</strong></div>
          </div>
          {l.last_sync_error && l.queue_depth > 0 && <p class="sub">Last problem: {l.last_sync_error}</p>}

          <h3>Way to the hub</h3>
          <p class="sub">Now: {wayName(l.route, l.relay_candidates)}{l.hub ? ` · hub ${l.hub}` : ''}</p>
          <div class="buttons" role="group" aria-label="Way to the hub">
            {routes.map((x) => (
              <button type="button" class="big-button" aria-pressed={chosen(x.route)} data-testid="route"
                onClick={() => void act(() => conn.setRoute(x.route), `From now on: ${x.label.toLowerCase()}.`)}>
                {x.label}
              </button>
            ))}
          </div>

          {l.approvals.length > 0 && (
            <>
              <h3>Waiting for your approval</h3>
              <ul class="plain-list" data-testid="approvals">
                {l.approvals.map((a) => (
                  <li data-testid="approval">
                    <div>
                      <strong>{money(a.total, a.currency)}</strong>
                      <p class="sub">Refused {ago(new Date(a.asked_at), now)}: {a.reason}.</p>
                    </div>
                    {a.approved_until
                      ? <span class="state ok">Approved — the kiosk can send it again</span>
                      : <button type="button" class="big-button primary" data-testid="approve"
                          onClick={() => void act(() => conn.approve(a.quote_id), 'Approved. Ask the customer to tap Pay again.')}>Approve</button>}
                  </li>
                ))}
              </ul>
            </>
          )}

          <h3>Offline runway</h3>
          <p class="sub" data-testid="runway">{r?.headline}</p>
          <table class="order-table" data-testid="runway-table">
            <tbody>
              {r?.lines.map((x) => (
                <tr>
                  <th scope="row">{x.name}</th>
                  <td>{x.detail}</td>
                  <td class={`num ${x.tone === 'bad' ? 'over' : x.tone === 'warn' ? 'warn' : ''}`}>{x.left ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>

          <h3>Orders the hub refused</h3>
          {data.quarantined.length === 0 && <p class="empty">None. Every order the hub saw, it took.</p>}
          {data.quarantined.length > 0 && (
            <ul class="plain-list" data-testid="quarantined">
              {data.quarantined.map((o) => (
                <li data-testid="quarantined-order">
                  <div>
                    <strong>{money(o.total, o.currency || currency)}</strong> · {timeOfDay(new Date(o.created_at), timeZone)}
                    <p class="sub">{o.status_reason}</p>
                  </div>
                  <button type="button" class="big-button" data-testid="retry-order"
                    onClick={() => void act(() => conn.retryOrder(o.order_id), 'Sent again.')}>Send again</button>
                </li>
              ))}
            </ul>
          )}
          <div class="buttons">
            <button type="button" class="big-button" disabled={exporting || data.quarantined.length === 0} onClick={() => void exportAll('quarantined')}
              data-testid="export-quarantined">Save refused orders to a file</button>
            <button type="button" class="big-button" disabled={exporting || l.queue_depth === 0} onClick={() => void exportAll('unsynced')}
              data-testid="export-unsynced">Save waiting orders to a file</button>
          </div>
          {exported && <p class={`notice ${exported.tone}`} role="status" data-testid="export-message">{exported.text}</p>}

          <h3>Recent control actions</h3>
          {data.audit.length === 0 && <p class="empty">None yet.</p>}
          <ul class="plain-list" data-testid="audit">
            {data.audit.map((e) => {
              const line = auditLine(e);
              return (
                <li data-testid="audit-entry">
                  <span class={line.ok ? '' : 'state over'}>{line.text}</span>
                  <span class="sub">{ago(new Date(e.at), now)}</span>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </Sheet>
  );
}
