// Watching the booth's clock from every screen: the node's clock view every three
// seconds, both clocks counting on between polls (on the browser's monotonic clock: the
// laptop's wall clock is the one that may jump), and the lead's answer to a doubt.

import { useEffect, useState } from 'preact/hooks';
import type { ClockView, Connection, Trust } from '../../api';
import { clockNow, sentence, timeSettled } from '../../lib/format';
import { type Message, useFleetingMessage, usePolled } from '../../lib/polled';

const EVERY_MS = 3_000;

/** A clock view and when it arrived (`performance.now()`). */
type Reading = { view: ClockView; at: number };

export type ClockWatch = {
  view: ClockView | null;
  /** Why the last poll failed, in words (the notice keeps the last good view meanwhile). */
  problem: string | null;
  /** The booth's time at `mono` (a `performance.now()`), or null before the node answered. */
  boothAt: (mono: number) => Date | null;
  /** The laptop's clock at `mono`, as the node reads it. */
  laptopAt: (mono: number) => Date | null;
  /** The answer to the lead's last choice, for a while. */
  message: Message | null;
  dismiss: () => void;
  busy: boolean;
  confirm: (trust: Trust) => void;
};

/** Polls the clock while `conn` is set (a token is known). */
export function useClockWatch(conn: Connection | null, timeZone: string): ClockWatch {
  const { data, problem, refresh } = usePolled<Reading>(async () => ({ view: await conn!.clock(), at: performance.now() }), EVERY_MS, [conn], conn !== null);
  // The confirm answer is newer than the last poll: shown at once, until a poll is newer.
  const [answered, setAnswered] = useState<Reading | null>(null);
  const [message, setMessage] = useFleetingMessage();
  const [busy, setBusy] = useState(false);
  const r = answered && (!data || answered.at > data.at) ? answered : data;
  // A new doubt makes the answer to the last one stale.
  const inDoubt = !!r?.view.in_doubt;
  useEffect(() => {
    if (inDoubt) setMessage(null);
  }, [inDoubt]);

  const confirm = (trust: Trust) => {
    if (!conn || busy) return;
    setBusy(true);
    conn
      .confirmTime(trust)
      .then((view) => {
        setAnswered({ view, at: performance.now() });
        setMessage(timeSettled(view, trust, timeZone));
        refresh();
      })
      .catch((e) => setMessage({ tone: 'bad', text: `Not changed. ${sentence(e instanceof Error ? e.message : String(e))}` }))
      .finally(() => setBusy(false));
  };

  return {
    view: r?.view ?? null,
    problem,
    boothAt: (mono) => (r ? clockNow(r.view.booth_time, mono - r.at) : null),
    laptopAt: (mono) => (r ? clockNow(r.view.laptop_time, mono - r.at) : null),
    message,
    dismiss: () => setMessage(null),
    busy,
    confirm,
  };
}
