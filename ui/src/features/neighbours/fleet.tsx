// The Fleet screen: the event's other booths and their last reported health (queue,
// speed, cache, spend) and, when their clock is over 10 s from this booth's, by how much,
// each opening to its details. A sheet over the booth screen, refreshed every two seconds.

import { useState } from 'preact/hooks';
import type { Booth, Connection, FleetView } from '../../api';
import { Sheet } from '../../components/sheet';
import { ago, boothHealth, moneyOrDash, percent, roundTrip } from '../../lib/format';
import { usePolled } from '../../lib/polled';

const REFRESH_MS = 2_000;

/** Another booth's link, in words. */
const PEER_MODES: Record<string, string> = {
  local: 'Selling locally',
  online: 'Online',
  offline: 'Offline, still selling',
  relay: 'Relaying through a nearby booth',
};

export function Fleet({ conn, onClose }: { conn: Connection; onClose: () => void }) {
  const { data, problem } = usePolled<FleetView>(() => conn.fleet(), REFRESH_MS);
  const [open, setOpen] = useState<string | null>(null);
  const now = new Date();
  return (
    <Sheet title="Fleet" testid="fleet" onClose={onClose}>
      {problem && <p class="notice bad" role="alert">{problem}</p>}
      {data && data.booths.length === 0 && (
        <p class="empty">No other booth of this event has been found. Booths on this network appear here by themselves; remote booths are added by address in the price list file.</p>
      )}
      <div class="fleet">
        {data?.booths.map((b) => {
          const h = boothHealth(b);
          const key = b.id ?? b.url;
          const s = b.status;
          return (
            <article class={`tile booth-card ${h.tone}`} key={key} data-testid="booth-card">
              <button type="button" class="booth-head" aria-expanded={open === key} onClick={() => setOpen(open === key ? null : key)}>
                <span class="booth-name">{b.name}</span>
                <span class={`chip ${h.tone}`}>{h.label}</span>
              </button>
              {b.clock_words && <p class="skew" data-testid="booth-clock">{b.clock_words}</p>}
              {s && (
                <dl class="booth-figures">
                  <div><dt>Waiting to sync</dt><dd>{s.queue_depth}</dd></div>
                  <div><dt>Slowest p99</dt><dd>{s.p99_ms == null ? '—' : `${Math.round(s.p99_ms)} ms`}</dd></div>
                  <div><dt>Cache</dt><dd>{percent(s.hit_ratio)}</dd></div>
                  <div><dt>Spend</dt><dd>{moneyOrDash(s.spend, s.currency)} of {moneyOrDash(s.budget, s.currency)}</dd></div>
                </dl>
              )}
              {open === key && <BoothDetail b={b} now={now} />}
            </article>
          );
        })}
      </div>
    </Sheet>
  );
}

function BoothDetail({ b, now }: { b: Booth; now: Date }) {
  const s = b.status;
  return (
    <div class="booth-detail" data-testid="booth-detail">
      <p>{b.detail}</p>
      <table class="order-table">
        <tbody>
          <tr><td>Found</td><td>{b.found_by === 'lan' ? 'On this network' : 'By address in the price list file'}</td></tr>
          <tr><td>Address</td><td>{b.url}</td></tr>
          <tr><td>Last answer</td><td>{b.status_at ? ago(new Date(b.status_at), now) : 'Never'}{b.rtt_ms != null ? ` (${roundTrip(b.rtt_ms)})` : ''}</td></tr>
          {s && <tr><td>Orders today</td><td>{s.orders_today} ({moneyOrDash(s.revenue_today, s.currency)})</td></tr>}
          {s && <tr><td>Needs attention</td><td>{s.quarantined}</td></tr>}
          {s && <tr><td>Printers needing a person</td><td data-testid="booth-printers">{s.printers_attention ?? 0}</td></tr>}
          {s && <tr><td>Oldest order waiting</td><td>{s.oldest_unsynced ? ago(new Date(s.oldest_unsynced), now) : 'None'}</td></tr>}
          {s && <tr><td>Link</td><td>{PEER_MODES[s.mode] ?? s.mode} · uplink {s.uplink.replace('_', ' ')}</td></tr>}
          {s && <tr><td>Version</td><td>{s.version}</td></tr>}
        </tbody>
      </table>
    </div>
  );
}
