// The booth's own kiosks and tablets, on the Devices screen: the lead enrolls one by
// name (its token is shown once, to type or paste into the kiosk), sees when each was
// last heard from and how many orders it took offline still wait on it (as it last
// said), and revokes one with a hold (its token is refused at once).

import { useState } from 'preact/hooks';
import type { Connection, EnrolledKiosk } from '../../api';
import { HoldButton } from '../../components/hold-button';
import { ago } from '../../lib/format';
import { useAction, usePolled } from '../../lib/polled';

export function EnrolledKiosks({ conn }: { conn: Connection }) {
  const { data, problem, refresh } = usePolled(() => conn.kiosks(), 5_000);
  const { message, setMessage, act } = useAction(refresh);
  const [name, setName] = useState('');
  const [made, setMade] = useState<EnrolledKiosk | null>(null);
  const now = new Date();

  const enroll = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) {
      setMessage({ tone: 'bad', text: 'Give the kiosk a name, such as "Kiosk by the door".' });
      return;
    }
    try {
      setMade(await conn.enrollKiosk(name.trim()));
      setMessage(null);
      setName('');
      refresh();
    } catch (err) {
      setMessage({ tone: 'bad', text: err instanceof Error ? err.message : String(err) });
    }
  };

  return (
    <section class="kiosks" data-testid="kiosks">
      <h3>The booth's kiosks and tablets</h3>
      {problem && <p class="notice bad" role="alert">{problem}</p>}
      {made && (
        <div class="notice good" role="status" data-testid="kiosk-token">
          <p>{made.kiosk.name} is enrolled. Enter this key on it once; it is not shown again:</p>
          <p class="fingerprint"><code>{made.token}</code></p>
          <button type="button" class="big-button" onClick={() => setMade(null)}>Done</button>
        </div>
      )}
      {data && data.length === 0 && <p class="empty">No kiosk enrolled yet.</p>}
      {data && data.length > 0 && (
        <ul class="staff-list" data-testid="kiosk-list">
          {data.map((k) => (
            <li key={k.id} data-testid="kiosk">
              <strong>{k.name}</strong>
              <span>{k.last_seen ? `Last heard from ${ago(new Date(k.last_seen), now)}` : 'Not heard from since the booth started'}</span>
              {k.waiting_orders > 0 && (
                <span class="state warn" data-testid="kiosk-waiting">
                  {k.waiting_orders === 1 ? '1 order waiting' : `${k.waiting_orders} orders waiting`}: taken offline, not delivered yet
                </span>
              )}
              <span class="buttons">
                <HoldButton label={`Revoke ${k.name}`} hint="Hold 2 s · it can no longer sell as the booth's kiosk" onConfirm={() => void act(() => conn.revokeKiosk(k.id), `${k.name} is revoked.`)} testid="revoke-kiosk" />
              </span>
            </li>
          ))}
        </ul>
      )}
      <form class="staff-add" onSubmit={(e) => void enroll(e)}>
        <label class="field">
          Kiosk name
          <input value={name} maxLength={60} autoComplete="off" onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="kiosk-name" />
        </label>
        <button type="submit" class="big-button" data-testid="enroll-kiosk">Enroll</button>
      </form>
      {message && <p class={`notice ${message.tone}`} role="status" data-testid="kiosks-message">{message.text}</p>}
    </section>
  );
}
