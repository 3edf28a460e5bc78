// The pickup board: a TV by the counter. Two columns, "Being prepared" and "Ready",
// pickup numbers as large as the screen allows, the event's name; asked again every 2 s.
// No controls. A number that just became ready is framed for a while, so people see
// it change from across the room. When the booth does not answer the last numbers stay
// with "Reconnecting…" over them.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { PickupBoard } from '../api/selling';
import type { SellingApi } from '../api/selling-api';
import { t, useLang } from '../i18n';

const POLL_MS = 2_000;
/** A number stays framed this long after it became ready. */
const FRESH_MS = 20_000;

export function Board({ api }: { api: SellingApi }) {
  useLang();
  const [board, setBoard] = useState<PickupBoard | null>(null);
  const [lost, setLost] = useState(false);
  const readySince = useRef(new Map<string, number>());
  const first = useRef(true);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const b = await api.pickupBoard();
        if (!live) return;
        const now = Date.now();
        const seen = readySince.current;
        for (const n of b.ready) if (!seen.has(n)) seen.set(n, first.current ? 0 : now);
        for (const n of [...seen.keys()]) if (!b.ready.includes(n)) seen.delete(n);
        first.current = false;
        setBoard(b);
        setLost(false);
      } catch {
        if (live) setLost(true);
      }
      if (live) timer = setTimeout(run, POLL_MS);
    };
    void run();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api]);

  useEffect(() => {
    if (board) document.title = `${board.event_name} · ${t('board.title')}`;
  }, [board?.event_name]);

  const now = Date.now();
  const size = (n: number) => (n <= 4 ? 'xl' : n <= 9 ? 'l' : n <= 16 ? 'm' : 's');
  // The longest number's length: the CSS sizes the numbers so it fits its cell.
  const chars = (ns: string[] | undefined) => ({ '--chars': Math.max(5, ...(ns ?? []).map((n) => n.length)) });
  return (
    <div class="board">
      <header class="board-header">
        <h1 data-testid="board-event">{board?.event_name ?? '\u00a0'}</h1>
        {lost && <p class="board-lost" role="status" data-testid="board-reconnecting">{t('common.reconnecting')}</p>}
      </header>
      <main class="board-columns">
        <section class="board-column preparing" aria-labelledby="board-preparing">
          <h2 id="board-preparing">{t('board.preparing')}</h2>
          <ul class={`numbers ${size(board?.preparing.length ?? 0)}`} style={chars(board?.preparing)} data-testid="pickup-preparing">
            {board?.preparing.map((n) => <li key={n}>{n}</li>)}
          </ul>
        </section>
        <section class="board-column ready" aria-labelledby="board-ready">
          <h2 id="board-ready">{t('board.ready')}</h2>
          <ul class={`numbers ${size(board?.ready.length ?? 0)}`} style={chars(board?.ready)} data-testid="pickup-ready" aria-live="polite">
            {board?.ready.map((n) => (
              <li key={n} class={now - (readySince.current.get(n) ?? 0) < FRESH_MS ? 'fresh' : ''}>{n}</li>
            ))}
          </ul>
        </section>
      </main>
    </div>
  );
}
