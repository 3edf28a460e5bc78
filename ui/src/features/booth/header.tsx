// The booth screen's header: event, mode (a tap opens the Sync screen), uplink and the
// booth's time (a tap opens the time screen) — always visible — the live-feed state, and
// under it the alerts staff must not miss.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Snapshot, StreamState } from '../../api';
import { ago, clock, linkMode, span, uplink } from '../../lib/format';

export function Header({ snapshot, stream, lastUpdate, onSync, boothAt, timeInDoubt, onClock, children }: {
  snapshot: Snapshot | null;
  stream: StreamState;
  lastUpdate: Date | null;
  onSync: () => void;
  /** The booth's time at a `performance.now()`; null until the node said it. */
  boothAt: (mono: number) => Date | null;
  timeInDoubt: boolean;
  onClock: () => void;
  /** The alerts, under the header and as sticky as it. */
  children?: ComponentChildren;
}) {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), 1000);
    return () => clearInterval(t);
  }, []);
  // A closed booth says so first: "Selling locally" would be untrue.
  const mode = snapshot ? (snapshot.closed ? { label: 'Closed — teardown', tone: 'bad' as const } : linkMode(snapshot.link)) : null;
  const lost = stream.kind === 'lost';
  // The booth's time, not this browser's: the laptop's clock may have jumped, and an ops
  // lead's tablet keeps its own.
  const time = clock(boothAt(performance.now()) ?? now, snapshot?.event.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  return (
    <header class="header">
      <div class="event">
        <span class="brand" aria-hidden="true">Boothcloud</span>
        <h1 data-testid="event-name">{snapshot?.event.name ?? '…'}</h1>
      </div>
      <div class="status-row">
        {mode && snapshot && (
          // The mode is also the way in to the Sync screen: one tap, no hover.
          <button type="button" class={`chip ${mode.tone}`} data-testid="mode" onClick={onSync}
            aria-label={`${mode.label}. ${snapshot.link.detail} Open the Sync screen.`}>
            {mode.label}
            {snapshot.link.mode !== 'local' && snapshot.link.mode !== 'online' && <span class="chip-since"> · {span(snapshot.link.seconds_in_mode)}</span>}
          </button>
        )}
        {snapshot && (
          <span class="chip quiet" data-testid="uplink">
            {uplink(snapshot.link)}
          </span>
        )}
        <button type="button" class={`clock${timeInDoubt ? ' doubt' : ''}`} data-testid="clock" onClick={onClock}
          aria-label={`Booth time ${time}${timeInDoubt ? ', in doubt' : ''}. Open the time screen.`}>
          {time}
        </button>
      </div>
      <div class={`feed ${lost ? 'lost' : stream.kind}`} role="status" aria-live="polite" data-testid="feed">
        {stream.kind === 'live' && <>Live</>}
        {stream.kind === 'connecting' && <>Connecting…</>}
        {lost && (
          <>
            Live figures paused — reconnecting{lastUpdate ? ` (last update ${ago(lastUpdate, now)})` : ''}. Sales are not affected.
          </>
        )}
        {stream.kind === 'unauthorized' && <>The operator token was refused</>}
      </div>
      {children}
    </header>
  );
}
