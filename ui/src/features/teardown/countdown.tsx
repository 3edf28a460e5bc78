// The automatic teardown's countdown, from every screen: the teardown view polled often
// while a countdown runs or is about to start (rarely otherwise), the seconds counting
// down between polls on the browser's monotonic clock, and a hold that cancels it.
// A banner, not a dialog: staff keep using every screen while it counts down.

import { useEffect, useState } from 'preact/hooks';
import type { Connection, CountdownView, TeardownView } from '../../api';
import { HoldButton } from '../../components/hold-button';
import { countdownWhy, secondsLeft, sentence, spanWords } from '../../lib/format';
import { type Message, useFleetingMessage, usePolled, useTicking } from '../../lib/polled';
import { SLOW_MS, teardownPace } from './pace';

type Reading = { view: TeardownView; at: number };

export type TeardownWatch = {
  view: TeardownView | null;
  /** The countdown running now: none once the live figures say the booth closed. */
  countdown: CountdownView | null;
  /** When `view` arrived (`performance.now()`). */
  at: number;
  message: Message | null;
  dismiss: () => void;
  busy: boolean;
  cancel: () => void;
};

/**
 * Polls teardown while `conn` is set; `boothNow` is the booth's time (for the pace), and
 * `closed` the live figures' word that the booth closed (asked again at once when it changes).
 */
export function useTeardownWatch(conn: Connection | null, boothNow: Date | null, closed: boolean): TeardownWatch {
  const [pace, setPace] = useState(SLOW_MS);
  const { data, refresh } = usePolled<Reading>(async () => ({ view: await conn!.teardown(), at: performance.now() }), pace, [conn], conn !== null);
  const [answered, setAnswered] = useState<Reading | null>(null);
  const [message, setMessage] = useFleetingMessage();
  const [busy, setBusy] = useState(false);
  const r = answered && (!data || answered.at > data.at) ? answered : data;
  const next = teardownPace(r?.view ?? null, boothNow);
  useEffect(() => setPace(next), [next]);
  useEffect(() => {
    if (closed) refresh();
  }, [closed]);

  const cancel = () => {
    if (!conn || busy) return;
    setBusy(true);
    conn
      .cancelTeardownCountdown()
      .then((view) => {
        setAnswered({ view, at: performance.now() });
        setMessage({
          tone: 'good',
          text: 'Automatic teardown cancelled: the booth stays open. The end time will not close it again; start teardown by hand when you are done.',
        });
        refresh();
      })
      .catch((e) => {
        setMessage({ tone: 'bad', text: `Not cancelled. ${sentence(e instanceof Error ? e.message : String(e))}` });
        refresh();
      })
      .finally(() => setBusy(false));
  };

  const countdown = closed ? null : r?.view.countdown ?? null;
  return { view: r?.view ?? null, countdown, at: r?.at ?? 0, message, dismiss: () => setMessage(null), busy, cancel };
}

export function CountdownBanner({ watch, timeZone }: { watch: TeardownWatch; timeZone: string }) {
  // Four times a second, so the figure changes within a quarter second of the true one.
  const mono = useTicking(250);
  const c = watch.countdown;
  if (!c) return null;
  const left = secondsLeft(c.seconds_left, mono - watch.at);
  return (
    <section class="alert-panel bad countdown" aria-labelledby="countdown-title" data-testid="countdown">
      <div class="countdown-text">
        <h2 class="alert-title" id="countdown-title">Automatic teardown</h2>
        <p class="countdown-left">
          {left > 0
            ? <>The booth closes in <span class="countdown-figure" role="timer" data-testid="countdown-left" data-seconds={left}>{spanWords(left * 1000)}</span></>
            : <span data-testid="countdown-left" data-seconds={0}>The booth is closing now…</span>}
        </p>
        <p role="alert" data-testid="countdown-why">{countdownWhy(c, timeZone)}</p>
      </div>
      <HoldButton label="Keep the booth open" hint="Hold 2 s to cancel the automatic teardown" testid="cancel-countdown"
        disabled={watch.busy} onConfirm={watch.cancel} />
    </section>
  );
}
