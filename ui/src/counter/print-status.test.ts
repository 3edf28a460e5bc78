import { afterEach, describe, expect, it } from 'vitest';
import type { PrintJob } from '../api/types';
import { setLang } from '../i18n';
import { canReprint, jobsDue, jobStatus, jobTitle, type KnownJobs, offersLabel, offersReceipt, SETTLED_EVERY_MS, settled } from './print-status';

function job(over: Partial<PrintJob> = {}): PrintJob {
  return {
    job_id: 'j1', order_id: 'o1', kind: 'ticket', copy: 0, reprint_of: null, printer: 'prep', state: 'sent', attempts: 1,
    last_error: null, created_at: '2026-12-03T12:00:00Z', done_at: '2026-12-03T12:00:01Z', ...over,
  };
}

afterEach(() => setLang('en'));

describe('a print job in words', () => {
  it('says printed for a job the printer took (socket) or confirmed (IPP)', () => {
    expect(jobStatus(job({ state: 'sent' }))).toEqual({ text: 'Printed', tone: 'good', why: null });
    expect(jobStatus(job({ state: 'confirmed' }))).toEqual({ text: 'Printed', tone: 'good', why: null });
    expect(jobStatus(job({ state: 'forwarded', forwarded_to: 'prep@Hall B' }))).toEqual({ text: 'Printing at Hall B…', tone: 'busy', why: null });
    expect(jobStatus(job({ state: 'sent', forwarded_to: 'prep@Hall B' }))).toEqual({ text: 'Printed at Hall B', tone: 'good', why: null });
  });
  it('says printing while it is sent', () => {
    expect(jobStatus(job({ state: 'sending' }))).toEqual({ text: 'Printing…', tone: 'busy', why: null });
  });
  it('says waiting, and why once a try failed', () => {
    expect(jobStatus(job({ state: 'queued' }))).toEqual({ text: 'Waiting for printer', tone: 'busy', why: null });
    expect(jobStatus(job({ state: 'queued', last_error: 'The printer says: out of paper' })))
      .toEqual({ text: 'Waiting for printer', tone: 'warn', why: 'The printer says: out of paper' });
  });
  it('says held, and who prints it', () => {
    const s = jobStatus(job({ state: 'held' }));
    expect(s.text).toBe('Held');
    expect(s.why).toMatch(/Printers screen/);
  });
  it('says why it needs attention', () => {
    expect(jobStatus(job({ state: 'attention', last_error: 'the connection broke: it may have printed; reprint it if it did not' })).text)
      .toBe('Needs attention: the connection broke: it may have printed; reprint it if it did not');
    expect(jobStatus(job({ state: 'attention' })).text).toBe('Needs attention: it may not have printed');
  });
  it('names the job and its reprints', () => {
    expect(jobTitle(job())).toBe('Pickup ticket');
    expect(jobTitle(job({ copy: 1 }))).toBe('Pickup ticket · Reprint 1');
    expect(jobTitle(job({ kind: 'receipt', copy: 2 }))).toBe('Receipt · Reprint 2');
    setLang('de');
    expect(jobTitle(job({ copy: 1 }))).toBe('Abholbon · Nachdruck 1');
    expect(jobStatus(job({ state: 'sent' })).text).toBe('Gedruckt');
  });
});

describe('what staff can do', () => {
  it('reprints a job that printed or may not have, never one still on its way', () => {
    expect(['sent', 'confirmed', 'attention'].every((state) => canReprint({ state: state as PrintJob['state'] }))).toBe(true);
    expect(['queued', 'sending', 'held'].some((state) => canReprint({ state: state as PrintJob['state'] }))).toBe(false);
  });
  it('offers a receipt until one was asked for', () => {
    expect(offersReceipt([])).toBe(true);
    expect(offersReceipt([job()])).toBe(true);
    expect(offersReceipt([job(), job({ kind: 'receipt', state: 'queued' })])).toBe(false);
  });
  it('offers a bag label until one was asked for, whatever else printed', () => {
    expect(offersLabel([job(), job({ kind: 'receipt', state: 'sent' })])).toBe(true);
    expect(offersLabel([job({ kind: 'label', state: 'attention' })])).toBe(false);
  });
});

describe('which orders to ask about', () => {
  const now = 1_000_000;
  const known = (jobs: PrintJob[], age = 0): KnownJobs => ({ jobs, at: now - age });
  const none = new Set<string>();

  it('asks only about the cards on screen, never-asked first in the order shown', () => {
    expect(jobsDue(['a', 'b', 'c'], new Set(['c', 'a']), new Map(), none, now)).toEqual(['a', 'c']);
  });
  it('asks again about jobs still moving, not about settled ones until they are old', () => {
    const map = new Map<string, KnownJobs>([
      ['moving', known([job({ state: 'queued' })])],
      ['held', known([job({ state: 'held' })])],
      ['done', known([job({ state: 'sent' })])],
      ['none', known([])],
      ['old', known([job({ state: 'sent' })], SETTLED_EVERY_MS)],
    ]);
    const ids = ['moving', 'held', 'done', 'none', 'old'];
    expect(jobsDue(ids, new Set(ids), map, none, now)).toEqual(['moving', 'held', 'old']);
  });
  it('skips orders being asked about, and asks about at most a batch', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `o${i}`);
    expect(jobsDue(ids, new Set(ids), new Map(), new Set(['o0']), now, 24)).toHaveLength(24);
    expect(jobsDue(ids, new Set(ids), new Map(), new Set(['o0']), now, 24)[0]).toBe('o1');
  });
  it('counts an order without jobs, or with only settled ones, as settled', () => {
    expect(settled([])).toBe(true);
    expect(settled([job(), job({ state: 'attention' })])).toBe(true);
    expect(settled([job(), job({ state: 'sending' })])).toBe(false);
  });
});
