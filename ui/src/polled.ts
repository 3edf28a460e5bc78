// Polling the node while a view is open: load at once, then every `everyMs`, again
// whenever `deps` change; the last good value stays on screen while a load fails.

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
