// The booth screen: connection to the node, the live snapshot, and the layout.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, connect, type Connection, type StreamState } from './api';
import { Controls } from './controls';
import { Detail } from './details';
import { Header } from './header';
import { Media } from './media';
import { Devices, Fleet } from './neighbours';
import { Orders } from './orders';
import { Runbooks } from './runbooks';
import { Sync } from './sync';
import { Teardown } from './teardown';
import { Tiles } from './tiles';
import { TokenPrompt } from './token';
import type { ChartName, Snapshot } from './types';

type Theme = 'light' | 'dark';
const THEME_KEY = 'boothcloud.theme';

function initialTheme(): Theme {
  const saved = (() => {
    try {
      return window.localStorage.getItem(THEME_KEY);
    } catch {
      return null;
    }
  })();
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App() {
  const [conn, setConn] = useState<Connection | null>(null);
  const [fatal, setFatal] = useState<string | null>(null);
  const [needToken, setNeedToken] = useState(false);
  const [tokenRefused, setTokenRefused] = useState(false);
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [stream, setStream] = useState<StreamState>({ kind: 'connecting' });
  const [lastUpdate, setLastUpdate] = useState<Date | null>(null);
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [detail, setDetail] = useState<ChartName | null>(null);
  const [sheet, setSheet] = useState<'devices' | 'fleet' | 'media' | 'sync' | 'runbooks' | 'teardown' | null>(null);
  const readySent = useRef(false);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    try {
      window.localStorage.setItem(THEME_KEY, theme);
    } catch {
      // Not kept: fine.
    }
  }, [theme]);

  useEffect(() => {
    connect()
      .then((c) => {
        setConn(c);
        setNeedToken(!c.hasToken);
      })
      .catch((e) => setFatal(e instanceof Error ? e.message : String(e)));
  }, []);

  useEffect(() => {
    if (!conn || needToken) return;
    const live = conn.stream(
      (s) => {
        setSnapshot(s);
        setLastUpdate(new Date());
      },
      (state) => {
        setStream(state);
        if (state.kind === 'unauthorized') {
          conn.forgetToken();
          setTokenRefused(true);
          setNeedToken(true);
        }
      },
    );
    return () => live.stop();
  }, [conn, needToken]);

  useEffect(() => {
    if (snapshot && conn && !readySent.current) {
      readySent.current = true;
      conn.dashboardReady();
    }
  }, [snapshot, conn]);

  if (fatal) {
    return (
      <main class="centre" role="alert">
        <h1>The dashboard cannot reach its node</h1>
        <p>{fatal}</p>
        <p>Close the app and open it again. If this keeps happening, restart the booth laptop.</p>
      </main>
    );
  }
  if (!conn) return <main class="centre" aria-busy="true">Finding the booth node…</main>;
  if (needToken) {
    return (
      <TokenPrompt
        refused={tokenRefused}
        onToken={async (token) => {
          conn.setToken(token);
          try {
            await conn.status();
            setTokenRefused(false);
            setNeedToken(false);
          } catch (e) {
            if (e instanceof ApiError && e.status === 401) {
              conn.forgetToken();
              setTokenRefused(true);
            } else throw e;
          }
        }}
      />
    );
  }
  return (
    <div class="booth">
      <Header snapshot={snapshot} stream={stream} lastUpdate={lastUpdate} onSync={() => setSheet('sync')} />
      <main class="content" id="main">
        {!snapshot && stream.kind !== 'lost' && <p class="loading" aria-busy="true">Loading live figures…</p>}
        {snapshot && <Tiles snapshot={snapshot} onOpen={setDetail} onSheet={setSheet} />}
        <Controls conn={conn} theme={theme} onTheme={setTheme} onRunbooks={() => setSheet('runbooks')} onTeardown={() => setSheet('teardown')} />
        {snapshot && <Orders conn={conn} snapshot={snapshot} />}
      </main>
      {sheet === 'devices' && <Devices conn={conn} onClose={() => setSheet(null)} />}
      {sheet === 'fleet' && <Fleet conn={conn} onClose={() => setSheet(null)} />}
      {sheet === 'media' && <Media conn={conn} onClose={() => setSheet(null)} />}
      {sheet === 'runbooks' && <Runbooks conn={conn} onClose={() => setSheet(null)} />}
      {sheet === 'teardown' && <Teardown conn={conn} onClose={() => setSheet(null)} />}
      {sheet === 'sync' && <Sync conn={conn} currency={snapshot?.event.currency ?? 'EUR'} onClose={() => setSheet(null)} />}
      {snapshot && detail && <Detail conn={conn} snapshot={snapshot} theme={theme} name={detail} onClose={() => setDetail(null)} />}
    </div>
  );
}
