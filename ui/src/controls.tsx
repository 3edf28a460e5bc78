// The controls area: big, one-tap actions. Degrade, failover and teardown join these
// when the controls capability lands; what works today is here.

import { useState } from 'preact/hooks';
import { ApiError, type Connection } from './api';

type Theme = 'light' | 'dark';

export function Controls({ conn, theme, onTheme }: { conn: Connection; theme: Theme; onTheme: (t: Theme) => void }) {
  const [kiosk, setKiosk] = useState(false);
  const [message, setMessage] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const reload = async () => {
    setBusy(true);
    try {
      const r = await conn.reloadManifest();
      setMessage({ tone: 'good', text: `Price list reloaded (version ${r.version}).` });
    } catch (e) {
      const text = e instanceof ApiError && e.code === 'invalid_manifest'
        ? `The price list file has a problem and was not applied; the booth keeps the previous prices. ${e.message}`
        : e instanceof Error ? e.message : String(e);
      setMessage({ tone: 'bad', text });
    } finally {
      setBusy(false);
    }
  };

  const toggleKiosk = async () => {
    try {
      await conn.setKiosk(!kiosk);
      setKiosk(!kiosk);
    } catch (e) {
      setMessage({ tone: 'bad', text: `Full screen could not be changed: ${e instanceof Error ? e.message : e}` });
    }
  };

  return (
    <section class="controls" aria-labelledby="controls-title">
      <h2 id="controls-title">Controls</h2>
      <div class="buttons">
        <button type="button" class="big-button" onClick={reload} disabled={busy} data-testid="reload-prices">
          Reload price list
        </button>
        <button type="button" class="big-button" aria-pressed={kiosk} onClick={toggleKiosk} data-testid="kiosk">
          {kiosk ? 'Leave full screen' : 'Full screen (kiosk)'}
        </button>
        <button type="button" class="big-button" aria-pressed={theme === 'dark'} onClick={() => onTheme(theme === 'dark' ? 'light' : 'dark')} data-testid="theme">
          {theme === 'dark' ? 'Light screen (sunlight)' : 'Dark screen (evening)'}
        </button>
      </div>
      {message && (
        <p class={`notice ${message.tone}`} role="status" data-testid="control-message">
          {message.text}
        </p>
      )}
    </section>
  );
}
