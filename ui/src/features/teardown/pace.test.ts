import { describe, expect, it } from 'vitest';
import type { TeardownView } from '../../api';
import { FAST_MS, SLOW_MS, teardownPace } from './pace';

const view = (over: Partial<TeardownView>): TeardownView => ({
  state: 'not_started', closed: false, started_at: null, started_by: null, finished_at: null, export_dir: null,
  suggested_export_dir: '/e', report_dir: '/e/r', steps: [], orders_at_risk: 0,
  automatic_at: null, automatic: false, reopenable: false, stood_down: false, countdown: null, waiting_for_time: false, ...over,
});
const now = new Date('2026-12-31T20:00:00Z');

describe('teardownPace', () => {
  it('asks often while a countdown runs', () => {
    expect(teardownPace(view({ countdown: { closes_at: '2026-12-31T20:05:00Z', seconds_left: 300, why: "the event's end time" } }), now)).toBe(FAST_MS);
  });
  it('asks often from two minutes before the automatic start, on the booth’s time', () => {
    expect(teardownPace(view({ automatic_at: '2026-12-31T20:01:59Z' }), now)).toBe(FAST_MS);
    expect(teardownPace(view({ automatic_at: '2026-12-31T19:00:00Z', waiting_for_time: true }), now)).toBe(FAST_MS);
    expect(teardownPace(view({ automatic_at: '2026-12-31T20:02:01Z' }), now)).toBe(SLOW_MS);
  });
  it('asks rarely when nothing will start by itself', () => {
    expect(teardownPace(null, now)).toBe(SLOW_MS);
    expect(teardownPace(view({}), now)).toBe(SLOW_MS);
    expect(teardownPace(view({ automatic_at: '2026-12-31T19:00:00Z', stood_down: true }), now)).toBe(SLOW_MS);
    expect(teardownPace(view({ automatic_at: '2026-12-31T19:00:00Z', state: 'blocked', closed: true }), now)).toBe(SLOW_MS);
  });
});
