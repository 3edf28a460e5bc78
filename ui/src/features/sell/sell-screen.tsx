// The dashboard's Sell screen (and so the desktop app's): the counter, signed in as the
// booth lead with the operator token the dashboard already holds. Its ticket is kept
// apart from a staff counter's in the same browser. A refused token brings back the
// dashboard's token prompt.

import { useMemo } from 'preact/hooks';
import type { Connection } from '../../api';
import { Counter } from '../../counter/counter';

export function SellScreen({ conn, onTokenRefused }: { conn: Connection; onTokenRefused: () => void }) {
  const api = useMemo(() => conn.selling(), [conn]);
  return (
    <section class="sell-screen" aria-labelledby="sell-title" data-testid="sell-screen">
      <h2 id="sell-title" class="sr-only">Sell</h2>
      <Counter auth={{ api, who: 'Booth lead', scope: 'dashboard', onSessionEnded: onTokenRefused, onSignOut: null }} />
    </section>
  );
}
