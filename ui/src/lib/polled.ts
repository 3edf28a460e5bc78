// The two hooks the screens share: polling the node while a view is open (load at once,
// then every `everyMs`, again whenever `deps` change; the last good value stays on
// screen while a load fails), and an operator action that says what happened in words.

import { useEffect, useState } from 'preact/hooks';

export function usePolled<T>(
  load: () => Promise<T>,
  everyMs: number,
  deps: unknown[] = [],
): { data: T | null; problem: string | null; refresh: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
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
  }, [tick, everyMs, ...deps]);
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
