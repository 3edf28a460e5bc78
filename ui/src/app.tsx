// The booth screen: the connection to the node, the live snapshot, the theme, the
// layout (header, tiles, controls, orders — or, one tap away, the Sell screen: the
// counter as the booth lead, and the Printers screen), which sheet is open over it, and
// the alerts shown on every screen (the booth's clock, the automatic teardown and a
// printer that needs a person, watched here so they follow staff from screen to
// screen). Each screen lives in its feature folder; this file only puts them together.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type ChartName, connect, type Connection, type Snapshot, type StreamState } from './api';
import { SheetAlerts } from './components/sheet';
import { Alerts } from './features/booth/alerts';
import { Controls } from './features/booth/controls';
import { Header } from './features/booth/header';
import { Orders } from './features/booth/orders';
import { Tiles } from './features/booth/tiles';
import { ClockSheet } from './features/clock/clock-sheet';
import { useClockWatch } from './features/clock/watch';
import { Detail } from './features/details/detail';
import { Media } from './features/media/media';
import { Devices } from './features/neighbours/devices';
import { Fleet } from './features/neighbours/fleet';
import { needingAttention } from './features/printers/printer-words';
import { Printers } from './features/printers/printers';
import { usePrinterWatch } from './features/printers/watch';
import { Runbooks } from './features/runbooks/runbooks';
import { SellScreen } from './features/sell/sell-screen';
import { Sync } from './features/sync/sync';
import { useTeardownWatch } from './features/teardown/countdown';
import { Teardown } from './features/teardown/teardown';
import { TokenPrompt } from './features/token/token-prompt';
import { t } from './i18n';

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
  // The screens under the header: the booth's figures and controls, selling, printers.
  const [screen, setScreen] = useState<'booth' | 'sell' | 'printers'>('booth');
  const [sheet, setSheet] = useState<'devices' | 'fleet' | 'media' | 'sync' | 'runbooks' | 'teardown' | 'clock' | null>(null);
  const readySent = useRef(false);
  // Times on every screen are the event's, like the header's clock.
  const timeZone = snapshot?.event.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const watching = conn && !needToken ? conn : null;
  const clockWatch = useClockWatch(watching, timeZone);
  const teardownWatch = useTeardownWatch(watching, clockWatch.boothAt(performance.now()), snapshot?.closed ?? false);
  const printerWatch = usePrinterWatch(watching, screen === 'printers');

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
  const overSheet = sheet !== null || (snapshot !== null && detail !== null);
  const openPrinters = () => {
    setSheet(null);
    setDetail(null);
    setScreen('printers');
  };
  const alerts = (
    <Alerts clock={clockWatch} teardown={teardownWatch} timeZone={timeZone} onClockDetails={sheet === 'clock' ? null : () => setSheet('clock')}
      // The Printers screen says it all itself.
      printers={screen === 'printers' && !overSheet ? null : printerWatch.printers} onPrinters={screen === 'printers' && !overSheet ? null : openPrinters} />
  );
  const troubled = needingAttention(printerWatch.printers).length;
  return (
    <div class="booth">
      <Header snapshot={snapshot} stream={stream} lastUpdate={lastUpdate} onSync={() => setSheet('sync')}
        boothAt={clockWatch.boothAt} timeInDoubt={!!clockWatch.view?.in_doubt} onClock={() => setSheet('clock')}>
        {!overSheet && alerts}
      </Header>
      <nav class="screens" aria-label="Screens">
        <button type="button" class="big-button" aria-current={screen === 'booth' ? 'page' : undefined} data-testid="nav-booth" onClick={() => setScreen('booth')}>
          Booth screen
        </button>
        <button type="button" class="big-button" aria-current={screen === 'sell' ? 'page' : undefined} data-testid="nav-sell" onClick={() => setScreen('sell')}>
          Sell
        </button>
        <button type="button" class="big-button" aria-current={screen === 'printers' ? 'page' : undefined} data-testid="nav-printers" onClick={() => setScreen('printers')}>
          {t('printers.title')}
          {troubled > 0 && <span class="badge" data-testid="nav-printers-attention">{troubled}<span class="sr-only">: {t('printers.state.needs_attention')}</span></span>}
        </button>
      </nav>
      {screen === 'booth' ? (
        <main class="content" id="main">
          {!snapshot && stream.kind !== 'lost' && <p class="loading" aria-busy="true">Loading live figures…</p>}
          {snapshot && <Tiles snapshot={snapshot} onOpen={setDetail} onSheet={setSheet} />}
          <Controls conn={conn} theme={theme} onTheme={setTheme} onRunbooks={() => setSheet('runbooks')} onTeardown={() => setSheet('teardown')} />
          {snapshot && <Orders conn={conn} snapshot={snapshot} />}
        </main>
      ) : screen === 'printers' ? (
        <main class="content" id="main">
          <Printers watch={printerWatch} timeZone={timeZone} />
        </main>
      ) : (
        <main class="content" id="main">
          <SellScreen conn={conn} onTokenRefused={() => {
            conn.forgetToken();
            setTokenRefused(true);
            setNeedToken(true);
          }} />
        </main>
      )}
      <SheetAlerts.Provider value={overSheet ? alerts : null}>
        {sheet === 'devices' && <Devices conn={conn} onClose={() => setSheet(null)} />}
        {sheet === 'fleet' && <Fleet conn={conn} onClose={() => setSheet(null)} />}
        {sheet === 'media' && <Media conn={conn} timeZone={timeZone} onClose={() => setSheet(null)} />}
        {sheet === 'runbooks' && <Runbooks conn={conn} onClose={() => setSheet(null)} />}
        {sheet === 'teardown' && <Teardown conn={conn} timeZone={timeZone} onClose={() => setSheet(null)} />}
        {sheet === 'clock' && <ClockSheet watch={clockWatch} timeZone={timeZone} onClose={() => setSheet(null)} />}
        {sheet === 'sync' && <Sync conn={conn} currency={snapshot?.event.currency ?? 'EUR'} timeZone={timeZone} onClose={() => setSheet(null)} />}
        {snapshot && detail && <Detail conn={conn} snapshot={snapshot} theme={theme} name={detail} onClose={() => setDetail(null)} />}
      </SheetAlerts.Provider>
    </div>
  );
}
