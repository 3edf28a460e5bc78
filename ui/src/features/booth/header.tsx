// The booth screen's header: event, mode (a tap opens the Sync screen), uplink and
// clock — always visible — and the live-feed state.

import { useEffect, useState } from 'preact/hooks';
import type { Snapshot, StreamState } from '../../api';
import { ago, clock, linkMode, span, uplink } from '../../lib/format';

export function Header({ snapshot, stream, lastUpdate, onSync }: {
  snapshot: Snapshot | null;
  stream: StreamState;
  lastUpdate: Date | null;
  onSync: () => void;
}) {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), 1000);
    return () => clearInterval(t);
  }, []);
  // A closed booth says so first: "Selling locally" would be untrue.
  const mode = snapshot ? (snapshot.closed ? { label: 'Closed — teardown', tone: 'bad' as const } : linkMode(snapshot.link)) : null;
  const lost = stream.kind === 'lost';
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
        <time class="clock" data-testid="clock" aria-label="Booth time">
          {snapshot ? clock(now, snapshot.event.timezone) : clock(now, Intl.DateTimeFormat().resolvedOptions().timeZone)}
        </time>
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
    </header>
  );
}
