// The Staff part of the Controls screen: the people who sell at the counter. The lead
// adds someone with a name and a PIN (told to them, never shown again), gives a new PIN
// (which also lifts a lockout and signs their devices out), and removes someone (hold to
// confirm). Staff sign in on their own device; this screen only manages who they are.

import { useState } from 'preact/hooks';
import type { Connection } from '../../api';
import { HoldButton } from '../../components/hold-button';
import { useAction, usePolled } from '../../lib/polled';

const PIN = /^\d{4,12}$/;

export function Staff({ conn }: { conn: Connection }) {
  const { data, problem, refresh } = usePolled(() => conn.staff(), 5_000);
  const { message, setMessage, act } = useAction(refresh);
  const [name, setName] = useState('');
  const [pin, setPin] = useState('');
  const [newPin, setNewPin] = useState<{ id: string; pin: string } | null>(null);

  const add = async (e: Event) => {
    e.preventDefault();
    if (!name.trim() || !PIN.test(pin)) {
      setMessage({ tone: 'bad', text: 'Give a name, and a PIN of 4 to 12 digits.' });
      return;
    }
    try {
      await conn.addStaff(name.trim(), pin);
      setMessage({ tone: 'good', text: `${name.trim()} can now sign in at the counter with their PIN.` });
      // Cleared only once added: a refused name or PIN stays to be corrected.
      setName('');
      setPin('');
      refresh();
    } catch (e) {
      setMessage({ tone: 'bad', text: e instanceof Error ? e.message : String(e) });
    }
  };

  const savePin = async (id: string, who: string) => {
    if (!newPin || !PIN.test(newPin.pin)) {
      setMessage({ tone: 'bad', text: 'A PIN is 4 to 12 digits.' });
      return;
    }
    try {
      await conn.resetStaffPin(id, newPin.pin);
      setMessage({ tone: 'good', text: `${who} has a new PIN; their devices are signed out.` });
      setNewPin(null);
      refresh();
    } catch (e) {
      setMessage({ tone: 'bad', text: e instanceof Error ? e.message : String(e) });
    }
  };

  return (
    <div class="staff" data-testid="staff">
      <h3>Staff</h3>
      <p class="hint">People who sell at the counter sign in on their device with their name and PIN. Tell each their PIN; it is not shown again.</p>
      {problem && <p class="notice bad" role="alert">{problem}</p>}
      {data && data.length === 0 && <p class="empty">No one yet.</p>}
      {data && data.length > 0 && (
        <ul class="staff-list" data-testid="staff-list">
          {data.map((s) => (
            <li key={s.id} data-testid="staff-member">
              <strong>{s.name}</strong>
              <span>
                {s.locked_until
                  ? `Locked after wrong PINs until ${new Date(s.locked_until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`
                  : s.sessions > 0
                    ? `Signed in on ${s.sessions} device${s.sessions === 1 ? '' : 's'}`
                    : 'Not signed in'}
              </span>
              {newPin?.id === s.id ? (
                <span class="buttons">
                  <label class="field inline">
                    New PIN for {s.name}
                    <input type="password" inputMode="numeric" autoComplete="off" value={newPin.pin}
                      onInput={(e) => setNewPin({ id: s.id, pin: (e.target as HTMLInputElement).value })} data-testid="new-pin" />
                  </label>
                  <button type="button" class="big-button" onClick={() => void savePin(s.id, s.name)} data-testid="save-pin">Save PIN</button>
                  <button type="button" class="big-button" onClick={() => setNewPin(null)}>Cancel</button>
                </span>
              ) : (
                <span class="buttons">
                  <button type="button" class="big-button" onClick={() => setNewPin({ id: s.id, pin: '' })} data-testid="reset-pin">New PIN</button>
                  <HoldButton label={`Remove ${s.name}`} hint="Hold 2 s · signs their devices out" onConfirm={() => void act(() => conn.removeStaff(s.id), `${s.name} is no longer on the staff.`)} testid="remove-staff" />
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      <form class="staff-add" onSubmit={(e) => void add(e)}>
        <label class="field">
          Name
          <input value={name} maxLength={40} autoComplete="off" onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="staff-name" />
        </label>
        <label class="field">
          PIN (4 to 12 digits)
          <input type="password" inputMode="numeric" autoComplete="off" value={pin} onInput={(e) => setPin((e.target as HTMLInputElement).value)} data-testid="staff-pin" />
        </label>
        <button type="submit" class="big-button" data-testid="add-staff">Add to staff</button>
      </form>
      {message && <p class={`notice ${message.tone}`} role="status" data-testid="staff-message">{message.text}</p>}
    </div>
  );
}
