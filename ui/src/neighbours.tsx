// The booth's neighbours: the Devices screen (everything found on the network, with
// pairing) and the Fleet screen (the event's booths and their health, each opening to
// its details). Both are full-screen views over the booth screen, refreshed every two
// seconds, closed with one big button.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Connection } from './api';
import { ago, boothHealth, deviceKind, floodNotice, moneyOrDash, pairing, percent, roundTrip } from './format';
import { HoldButton } from './hold';
import { useAction, usePolled } from './polled';
import type { Booth, DevicesView, FleetView, PairingCode } from './types';

const REFRESH_MS = 2_000;

/** A full-screen view over the booth screen with a title, actions and one big Close button. */
const PEER_MODES: Record<string, string> = {
  local: 'Selling locally',
  online: 'Online',
  offline: 'Offline, still selling',
  relay: 'Relaying through a nearby booth',
};

export function Sheet({ title, testid, onClose, actions, children }: {
  title: string;
  testid: string;
  onClose: () => void;
  actions?: preact.ComponentChildren;
  children: preact.ComponentChildren;
}) {
  const close = useRef<HTMLButtonElement>(null);
  // The latest onClose, read by the key handler: the booth screen re-renders with every
  // live update, and re-running the effect then would move focus (and scroll the sheet)
  // back to Close under the operator's finger.
  const latest = useRef(onClose);
  latest.current = onClose;
  useEffect(() => {
    close.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && latest.current();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-labelledby={`${testid}-title`} data-testid={testid}>
      <div class="detail">
        <div class="detail-head">
          <h2 id={`${testid}-title`}>{title}</h2>
          <div class="buttons">
            {actions}
            <button type="button" class="big-button primary" ref={close} onClick={onClose}>Close</button>
          </div>
        </div>
        {children}
      </div>
    </div>
  );
}

export function Devices({ conn, onClose }: { conn: Connection; onClose: () => void }) {
  const { data, problem, refresh } = usePolled<DevicesView>(() => conn.devices(), REFRESH_MS);
  const [code, setCode] = useState<PairingCode | null>(null);
  const [pairingWith, setPairingWith] = useState<string | null>(null);
  const [typed, setTyped] = useState('');
  const { message, setMessage, act } = useAction(refresh);
  const now = new Date();

  const pair = async (id: string, name: string) => {
    try {
      const booth = await conn.pair(id, typed.trim() || null);
      setPairingWith(null);
      setTyped('');
      setMessage(booth.paired ? { tone: 'good', text: `Paired with ${name}.` } : { tone: 'bad', text: booth.detail });
      refresh();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'pairing_key_differs' && !typed) {
        setPairingWith(id);
        setMessage({ tone: 'bad', text: `${name} holds another pairing key: type the pairing code shown on ${name}.` });
      } else setMessage({ tone: 'bad', text: e instanceof Error ? e.message : String(e) });
    }
  };

  const showCode = async () => {
    try {
      setCode(await conn.showPairingCode());
    } catch (e) {
      setMessage({ tone: 'bad', text: e instanceof Error ? e.message : String(e) });
    }
  };

  const d = data?.discovery;
  return (
    <Sheet
      title="Devices nearby"
      testid="devices"
      onClose={onClose}
      actions={<button type="button" class="big-button" onClick={showCode} data-testid="show-code">Show pairing code</button>}
    >
      {code && (
        <div class="notice good pairing-code" role="status" data-testid="pairing-code">
          <span>Type this on the other booth's Devices screen (works once, for 5 minutes):</span>
          <strong>{code.code}</strong>
          <button type="button" class="big-button" onClick={() => void conn.hidePairingCode().then(() => setCode(null))}>Hide code</button>
        </div>
      )}
      {message && <p class={`notice ${message.tone}`} role="status" data-testid="devices-message">{message.text}</p>}
      {problem && <p class="notice bad" role="alert">{problem}</p>}
      {d && (
        <p class="muted" data-testid="discovery-summary">
          {d.enabled
            ? `This booth shows itself as ${d.advertised_as ?? '(not advertised)'}; ${data.alive} device${data.alive === 1 ? '' : 's'} here, ${data.gone} gone. Pairing key: ${
                d.key_source === 'manifest' ? 'from the price list file' : d.key_source === 'pairing_code' ? 'from a pairing code' : 'none yet'
              } (fingerprint ${d.fingerprint || '—'}).`
            : 'Looking for devices is switched off on this booth.'}
        </p>
      )}
      {d?.paused.map((p) => (
        <p key={p.service_type} class="notice warn" role="status" data-testid="flood-notice">{floodNotice(p, now)}</p>
      ))}
      {data && data.devices.length === 0 && <p class="empty">No devices found on this network yet.</p>}
      {data && data.devices.length > 0 && (
        <table class="order-table devices" data-testid="device-table">
          <thead>
            <tr><th>Type</th><th>Name</th><th>Address</th><th>Last seen</th><th class="num">Round trip</th><th>State</th><th>Pairing</th><th /></tr>
          </thead>
          <tbody>
            {data.devices.map((dev) => {
              const p = pairing(dev);
              const id = dev.booth?.id;
              return (
                <tr key={dev.key} class={dev.state === 'gone' ? 'gone' : ''} data-testid="device-row" data-kind={dev.kind}>
                  <td>{deviceKind(dev.kind)}</td>
                  <td>{dev.name}</td>
                  <td>{dev.addresses[0] ?? '—'}{dev.port ? `:${dev.port}` : ''}</td>
                  <td>{ago(new Date(dev.last_seen), now)}</td>
                  <td class="num">{roundTrip(dev.rtt_ms)}</td>
                  <td class={`state ${dev.state === 'alive' ? 'ok' : 'over'}`}>{dev.state === 'alive' ? 'Here' : 'Gone'}</td>
                  <td class={`state ${p.tone === 'good' ? 'ok' : p.tone === 'warn' ? 'warn' : ''}`}>{p.label}</td>
                  <td>
                    {id && dev.paired === false && pairingWith !== id && (
                      <button type="button" class="big-button" onClick={() => void pair(id, dev.name)} data-testid="pair">Pair</button>
                    )}
                    {id && pairingWith === id && (
                      <form class="code-form" onSubmit={(e) => { e.preventDefault(); void pair(id, dev.name); }}>
                        <input class="code-input" aria-label={`Pairing code shown on ${dev.name}`} placeholder="XXXX-XXXX-XXXX-XXXX"
                          value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} autocomplete="off" data-testid="code-input" />
                        <button type="submit" class="big-button primary" data-testid="pair-with-code">Pair</button>
                      </form>
                    )}
                    {id && dev.paired && (
                      <HoldButton label="Unpair" hint="Hold to stop trusting this booth" testid="unpair"
                        onConfirm={() => void act(() => conn.unpair(id), `${dev.name} is no longer trusted.`)} />
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Sheet>
  );
}

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
              {s && (
                <dl class="booth-figures">
                  <div><dt>Waiting to sync</dt><dd>{s.queue_depth}</dd></div>
                  <div><dt>Slowest p99</dt><dd>{s.p99_ms === null ? '—' : `${Math.round(s.p99_ms)} ms`}</dd></div>
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
          <tr><td>Last answer</td><td>{b.status_at ? ago(new Date(b.status_at), now) : 'Never'}{b.rtt_ms !== null ? ` (${roundTrip(b.rtt_ms)})` : ''}</td></tr>
          {s && <tr><td>Orders today</td><td>{s.orders_today} ({moneyOrDash(s.revenue_today, s.currency)})</td></tr>}
          {s && <tr><td>Needs attention</td><td>{s.quarantined}</td></tr>}
          {s && <tr><td>Oldest order waiting</td><td>{s.oldest_unsynced ? ago(new Date(s.oldest_unsynced), now) : 'None'}</td></tr>}
          {s && <tr><td>Link</td><td>{PEER_MODES[s.mode] ?? s.mode} · uplink {s.uplink.replace('_', ' ')}</td></tr>}
          {s && <tr><td>Version</td><td>{s.version}</td></tr>}
        </tbody>
      </table>
    </div>
  );
}
