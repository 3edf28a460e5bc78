// How often the dashboard asks for teardown's progress from every screen: often while an
// automatic teardown counts down or is about to, rarely otherwise.

import type { TeardownView } from '../../api';

/** While a countdown runs, or the automatic start is near. */
export const FAST_MS = 2_000;
/** Otherwise: a manifest edit may bring the end time near. */
export const SLOW_MS = 15_000;
/** How near the automatic start must be for the fast pace. */
const NEAR_MS = 2 * 60_000;

/** How often to ask: fast while a countdown runs or the automatic start is near. */
export function teardownPace(t: TeardownView | null, boothNow: Date | null): number {
  if (!t) return SLOW_MS;
  if (t.countdown) return FAST_MS;
  if (!t.automatic_at || t.stood_down || t.state !== 'not_started') return SLOW_MS;
  const until = Date.parse(t.automatic_at) - (boothNow ?? new Date()).getTime();
  return until < NEAR_MS ? FAST_MS : SLOW_MS;
}
