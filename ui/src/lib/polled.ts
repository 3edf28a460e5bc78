// The hooks the screens share: polling the node while a view is open (load at once,
// then every `everyMs`, again whenever `deps` change; the last good value stays on
// screen while a load fails; nothing while `active` is false), an operator action that
// says what happened in words, an answer that goes away by itself, and a second's tick
// for figures that count on between polls.

import { useEffect, useRef, useState } from 'preact/hooks';

export function usePolled<T>(
  load: () => Promise<T>,
  everyMs: number,
  deps: unknown[] = [],
  active = true,
): { data: T | null; problem: string | null; refresh: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!active) return;
    let live = true;
    const run = async () => {
      try {
        const d = await load();
        if (live) {
          setData(d);
          setProblem(null);
        }
      } catch (e) {
        if (live) setProblem(e instanceof Error ? e.message : String(e));
      }
    };
    void run();
    const timer = setInterval(run, everyMs);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [tick, everyMs, active, ...deps]);
  return { data, problem, refresh: () => setTick((t) => t + 1) };
}

export type Message = { tone: 'good' | 'warn' | 'bad'; text: string };

/**
 * An operator action on a polled view: runs it, says what happened in words (the
 * node's message when it refuses), and refreshes the view.
 */
export function useAction(refresh: () => void): {
  message: Message | null;
  setMessage: (m: Message | null) => void;
  act: (what: () => Promise<unknown>, done: string) => Promise<void>;
} {
  const [message, setMessage] = useState<Message | null>(null);
  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      setMessage({ tone: 'good', text: done });
      refresh();
    } catch (e) {
      setMessage({ tone: 'bad', text: e instanceof Error ? e.message : String(e) });
    }
  };
  return { message, setMessage, act };
}

/**
 * An answer shown for `ms` and then taken away: the answer to a tap on a notice that
 * goes away with the tap (a cancelled countdown, a settled doubt about the time).
 */
export function useFleetingMessage(ms = 20_000): [Message | null, (m: Message | null) => void] {
  const [message, setMessage] = useState<Message | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const set = (m: Message | null) => {
    clearTimeout(timer.current);
    setMessage(m);
    if (m) timer.current = setTimeout(() => setMessage(null), ms);
  };
  return [message, set];
}

/**
 * Re-renders every `everyMs` and answers the browser's monotonic time (ms): figures that
 * count on between polls use it, since the laptop's wall clock may jump.
 */
export function useTicking(everyMs = 1000): number {
  const [, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return performance.now();
}
