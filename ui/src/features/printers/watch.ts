// The booth's printers as the dashboard follows them: asked every 2 s while the Printers
// screen is shown, every 5 s otherwise (for the notice under the header, on every
// screen). One watch in the app feeds both, so the node is asked once, not twice.

import { useMemo } from 'preact/hooks';
import type { Connection, PrinterView, PrintingApi } from '../../api';
import { usePolled } from '../../lib/polled';

const ON_SCREEN_MS = 2_000;
const ELSEWHERE_MS = 5_000;

export interface PrinterWatch {
  /** Null until the node answered once. */
  printers: PrinterView[] | null;
  /** Why the last ask failed (the last answer stays shown). */
  problem: string | null;
  refresh: () => void;
  /** The calls, with the operator token; null while there is none. */
  api: PrintingApi | null;
}

/** `conn`: null while the dashboard has no token (nothing is asked). */
export function usePrinterWatch(conn: Connection | null, onScreen: boolean): PrinterWatch {
  const api = useMemo(() => conn?.printing() ?? null, [conn]);
  const { data, problem, refresh } = usePolled(() => api!.printers(), onScreen ? ON_SCREEN_MS : ELSEWHERE_MS, [api], api !== null);
  return { printers: data, problem, refresh, api };
}
