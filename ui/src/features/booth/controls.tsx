// The booth screen's controls: big, one-tap actions. First the booth's mode (the degrade levels,
// each with what it changes, in words) and the way upstream (failover), with the
// notices runbooks left and the Runbooks screen; then the price list, the asset cache
// (re-warm; empty with hold-to-confirm), full screen and the theme; and the end of the
// event (teardown, on its own screen), with a banner while the booth is closed.

import { useState } from 'preact/hooks';
import { ApiError, type Connection } from '../../api';
import { HoldButton } from '../../components/hold-button';
import { ago, levelName, pathName } from '../../lib/format';
import { useAction, usePolled } from '../../lib/polled';
import { Staff } from '../staff/staff';

const FAILOVER_PATHS = ['auto', 'regional', 'offline'] as const;

/** The three one-tap controls that matter when things go wrong: mode and way upstream. */
function BoothMode({ conn, onRunbooks, onTeardown }: { conn: Connection; onRunbooks: () => void; onTeardown: () => void }) {
  const { data, problem, refresh } = usePolled(() => conn.controls(), 2_000);
  const { message, act } = useAction(refresh);
  if (!data) return problem ? <p class="notice bad" role="alert">{problem}</p> : null;
  const current = data.levels.find((l) => l.current);
  return (
    <div class="booth-mode" data-testid="booth-mode">
      {data.closed && (
        <p class="notice closed" role="status" data-testid="booth-closed">
          This booth is closed: teardown has begun and kiosks are told so.{' '}
          <button type="button" class="big-button" data-testid="teardown-progress" onClick={onTeardown}>Show teardown</button>
        </p>
      )}
      {data.notices.map((n) => (
        <p class="notice warn" role="status" data-testid="runbook-notice" key={n.at + n.text}>
          {n.text} <span>({ago(new Date(n.at), new Date())}, {n.runbook} runbook)</span>
        </p>
      ))}
      <h3>Booth mode: <span data-testid="current-level">{levelName(data.level)}</span></h3>
      <div class="buttons" role="group" aria-label="Booth mode">
        {data.levels.map((l) => (
          <button type="button" class={`big-button ${l.current && l.name !== 'normal' ? 'warn' : ''}`} aria-pressed={l.current} key={l.name}
            data-testid={`level-${l.name}`}
            onClick={() => void act(() => conn.degrade(l.name), l.name === 'normal' ? 'Back to normal: everything is on.' : `${levelName(l.name)} mode is on.`)}>
            {levelName(l.name)}
          </button>
        ))}
      </div>
      {data.origin === 'fallback' && (
        <p class="notice warn" role="status" data-testid="fallback-origin">
          Storefront files come from the fallback origin (a runbook switched it; All clear switches back).
        </p>
      )}
      {current && (
        <ul class="effects" data-testid="level-effects">
          {current.effects.map((e) => <li key={e}>{e}</li>)}
        </ul>
      )}
      <h3>Orders go upstream: <span data-testid="current-path">{pathName(data.path)}</span></h3>
      <div class="buttons" role="group" aria-label="Way upstream">
        {FAILOVER_PATHS.map((p) => (
          <button type="button" class="big-button" aria-pressed={data.path === p} key={p} data-testid={`path-${p}`}
            onClick={() => void act(() => conn.failover(p), `From now on: ${pathName(p).toLowerCase()}.`)}>
            {pathName(p)}
          </button>
        ))}
        <button type="button" class="big-button" data-testid="open-runbooks" onClick={onRunbooks}>Runbooks</button>
      </div>
      <h3>End of event</h3>
      <div class="buttons">
        <button type="button" class="big-button warn" data-testid="open-teardown" onClick={onTeardown}>
          {data.closed ? 'Teardown progress' : 'Teardown…'}
        </button>
      </div>
      {message && <p class={`notice ${message.tone}`} role="status" data-testid="mode-message">{message.text}</p>}
    </div>
  );
}

type Theme = 'light' | 'dark';

export function Controls({ conn, theme, onTheme, onRunbooks, onTeardown }: {
  conn: Connection;
  theme: Theme;
  onTheme: (t: Theme) => void;
  onRunbooks: () => void;
  onTeardown: () => void;
}) {
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

  const [shownToken, setShownToken] = useState<string | null>(null);
  const rotateToken = async () => {
    setBusy(true);
    try {
      const rotated = await conn.rotateOperatorToken();
      setShownToken(rotated.token);
      setMessage({ tone: 'good', text: `New operator token made. ${rotated.note}` });
    } catch (e) {
      failed('A new operator token could not be made', e);
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
      <BoothMode conn={conn} onRunbooks={onRunbooks} onTeardown={onTeardown} />
      <h3>Booth</h3>
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
      <h3>Operator token</h3>
      <p class="hint">
        Make a new one if the token may have been seen or shared. This screen keeps working; every other screen and script
        needs the new token.
      </p>
      <div class="buttons">
        <HoldButton
          label="Make a new operator token"
          hint="Hold 2 s · the old token stops working at once"
          onConfirm={rotateToken}
          disabled={busy}
          testid="rotate-token"
        />
      </div>
      {shownToken && (
        <div class="new-token" data-testid="new-token">
          <p>The new operator token, shown only now:</p>
          <code>{shownToken}</code>
          <button type="button" class="big-button" onClick={() => setShownToken(null)} data-testid="hide-token">
            I have kept it: hide it
          </button>
        </div>
      )}
      {message && (
        <p class={`notice ${message.tone}`} role="status" data-testid="control-message">
          {message.text}
        </p>
      )}
      <Staff conn={conn} />
    </section>
  );
}
