// The Devices screen: everything found on the booth's network (other booths, printers,
// web devices), how this booth shows itself, pairing with another booth (by a code it
// shows, or one typed from it) and unpairing, and any kind of device no longer looked
// for because it flooded the network. A booth whose clock is over 10 s from this one's
// says by how much, under its name. A printer found here shows the lines that add it
// to the price list file (by its DNS-SD name). A sheet over the booth screen, refreshed
// every two seconds.

import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, type Connection, type DevicesView, type PairingCode } from '../../api';
import { HoldButton } from '../../components/hold-button';
import { EnrollKiosk } from './enroll';
import { EnrolledKiosks } from './kiosks';
import { Sheet } from '../../components/sheet';
import { ago, deviceKind, floodNotice, pairing, roundTrip } from '../../lib/format';
import { useAction, usePolled } from '../../lib/polled';
import { printerLines } from './printer-lines';

const REFRESH_MS = 2_000;

export function Devices({ conn, onClose }: { conn: Connection; onClose: () => void }) {
  const { data, problem, refresh } = usePolled<DevicesView>(() => conn.devices(), REFRESH_MS);
  const [code, setCode] = useState<PairingCode | null>(null);
  const [pairingWith, setPairingWith] = useState<string | null>(null);
  const [typed, setTyped] = useState('');
  const [adding, setAdding] = useState<string | null>(null);
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
                d.key_source === 'manifest' ? 'from the price list file' : d.key_source === 'pairing_code' ? 'from a pairing code' : d.key_source === 'published' ? 'the demo key, refused' : 'none yet'
              } (fingerprint ${d.fingerprint || '—'}).`
            : 'Looking for devices is switched off on this booth.'}
        </p>
      )}
      {d?.key_notice && <p class="notice warn" role="status" data-testid="key-notice">{d.key_notice}</p>}
      <EnrollKiosk conn={conn} />
      <EnrolledKiosks conn={conn} />
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
              const lines = printerLines(dev);
              return (
                <Fragment key={dev.key}>
                <tr class={dev.state === 'gone' ? 'gone' : ''} data-testid="device-row" data-kind={dev.kind}>
                  <td>{deviceKind(dev.kind)}</td>
                  <td>
                    {dev.name}
                    {dev.clock_words && <span class="skew" data-testid="device-clock">{dev.clock_words}</span>}
                  </td>
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
                    {lines && (
                      <button type="button" class="big-button" aria-expanded={adding === dev.key} data-testid="printer-add"
                        onClick={() => setAdding(adding === dev.key ? null : dev.key)}>
                        Print on it
                      </button>
                    )}
                  </td>
                </tr>
                {lines && adding === dev.key && (
                  <tr class="printer-lines" data-testid="printer-lines">
                    <td colSpan={8}>
                      {'why' in lines ? <p class="notice warn">{lines.why}</p> : (
                        <>
                          <p>Add these lines to the price list file, choose what it prints, and reload the file. The booth finds the printer by this name at every job, wherever the venue's network puts it.</p>
                          <pre data-testid="printer-lines-text">{lines.lines}</pre>
                          <button type="button" class="big-button" data-testid="printer-lines-copy"
                            onClick={() => void navigator.clipboard?.writeText(lines.lines).then(
                              () => setMessage({ tone: 'good', text: 'Copied. Paste it into the price list file.' }),
                              () => setMessage({ tone: 'bad', text: 'Could not copy: select the lines and copy them.' }))}>
                            Copy the lines
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}
    </Sheet>
  );
}
