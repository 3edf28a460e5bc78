// The controls area: big, one-tap actions. Degrade, failover and teardown join these
// when the controls capability lands; what works today is here: the price list, the
// asset cache (re-warm; empty with hold-to-confirm), full screen and the theme.

import { useState } from 'preact/hooks';
import { ApiError, type Connection } from './api';
import { HoldButton } from './hold';

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

  const failed = (what: string, e: unknown) =>
    setMessage({ tone: 'bad', text: `${what}: ${e instanceof Error ? e.message : String(e)}` });

  const rewarm = async () => {
    setBusy(true);
    try {
      const w = await conn.warmCache();
      setMessage({ tone: 'good', text: `Fetching the storefront again (${w.total} files). Progress shows on the Cache tile.` });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'warm_up_running') setMessage({ tone: 'good', text: 'The storefront is already being fetched; progress shows on the Cache tile.' });
      else failed('The storefront could not be fetched again', e);
    } finally {
      setBusy(false);
    }
  };

  const emptyCache = async () => {
    setBusy(true);
    try {
      const { purged } = await conn.purgeCache();
      let refetch = 'fetching the storefront again';
      try {
        await conn.warmCache();
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 'warm_up_running')) refetch = 'kiosks will fetch files from the storefront server as they need them';
      }
      setMessage({ tone: 'good', text: `Cache emptied (${purged} saved file${purged === 1 ? '' : 's'} removed); ${refetch}.` });
    } catch (e) {
      failed('The cache could not be emptied', e);
    } finally {
      setBusy(false);
    }
  };

  const toggleKiosk = async () => {
    try {
      await conn.setKiosk(!kiosk);
      setKiosk(!kiosk);
    } catch (e) {
      failed('Full screen could not be changed', e);
    }
  };

  return (
    <section class="controls" aria-labelledby="controls-title">
      <h2 id="controls-title">Controls</h2>
      <div class="buttons">
        <button type="button" class="big-button" onClick={reload} disabled={busy} data-testid="reload-prices">
          Reload price list
        </button>
        <button type="button" class="big-button" onClick={rewarm} disabled={busy} data-testid="rewarm-cache">
          Fetch storefront again
        </button>
        <HoldButton
          label="Empty the cache"
          hint="Hold 2 s · kiosks re-download every file"
          onConfirm={emptyCache}
          disabled={busy}
          testid="empty-cache"
        />
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
