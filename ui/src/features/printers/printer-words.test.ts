import { afterEach, describe, expect, it } from 'vitest';
import type { PrinterView } from '../../api';
import { setLang } from '../../i18n';
import { attentionWhy, lastPrinted, needingAttention, paperState, printerState, releaseLabel, roleWords } from './printer-words';

function printer(over: Partial<PrinterView> = {}): PrinterView {
  return {
    name: 'prep', identity: 'socket://10.0.0.9:9100', uri: 'socket://10.0.0.9:9100', role: 'tickets', state: 'ready',
    detail: null, paper: 'ok', queued: 0, held: 0, attention: 0, last_printed: null, paused: false, logo_problem: null, ...over,
  };
}

afterEach(() => setLang('en'));

describe('a paused printer', () => {
  it('says Paused, outlined, not as trouble', () => {
    expect(printerState(printer({ state: 'paused', paused: true }).state)).toEqual({ text: 'Paused', tone: 'quiet' });
  });
});

describe('a printer in words', () => {
  it('says each state, in a colour that tells them apart', () => {
    expect(printerState('ready')).toEqual({ text: 'Ready', tone: 'good' });
    expect(printerState('printing')).toEqual({ text: 'Printing', tone: 'busy' });
    expect(printerState('needs_attention')).toEqual({ text: 'Needs attention', tone: 'bad' });
    expect(printerState('not_checked')).toEqual({ text: 'Not checked yet', tone: 'quiet' });
  });
  it('says a state it does not know as the node does, to be looked at', () => {
    expect(printerState('on_fire')).toEqual({ text: 'on_fire', tone: 'bad' });
  });
  it('says the paper', () => {
    expect(paperState('ok')).toEqual({ text: 'OK', tone: 'good' });
    expect(paperState('out')).toEqual({ text: 'Out of paper', tone: 'bad' });
    expect(paperState('unknown')).toEqual({ text: 'Unknown', tone: 'quiet' });
  });
  it('says what it prints', () => {
    expect(roleWords('tickets')).toBe('Pickup tickets (prep table)');
    expect(roleWords('receipts')).toBe('Receipts');
    expect(roleWords('labels')).toBe('Labels');
  });
  it('asks to print what it held, in the words of its role and number', () => {
    expect(releaseLabel({ role: 'tickets', held: 14 })).toBe('Print 14 waiting tickets?');
    expect(releaseLabel({ role: 'tickets', held: 1 })).toBe('Print 1 waiting ticket?');
    expect(releaseLabel({ role: 'receipts', held: 2 })).toBe('Print 2 waiting receipts?');
  });
  it('speaks German too', () => {
    setLang('de');
    expect(printerState('needs_attention').text).toBe('Bitte prüfen');
    expect(paperState('out').text).toBe('Papier leer');
    expect(releaseLabel({ role: 'tickets', held: 14 })).toBe('14 wartende Bons drucken?');
  });
});

describe('when it last printed', () => {
  const now = new Date('2026-12-03T13:35:00Z');
  it('is the time of day in the event\'s zone and how long ago', () => {
    expect(lastPrinted('2026-12-03T13:32:10Z', now, 'Europe/Berlin')).toBe('14:32 (3 min. ago)');
    expect(lastPrinted('2026-12-03T13:34:50Z', now, 'Europe/Berlin')).toBe('14:34 (this minute)');
  });
  it('is "Not yet" before the first job', () => {
    expect(lastPrinted(null, now, 'Europe/Berlin')).toBe('Not yet');
    expect(lastPrinted('not a time', now, 'Europe/Berlin')).toBe('Not yet');
  });
});

describe('the dashboard notice', () => {
  it('names only the printers that need a person', () => {
    const all = [printer({ name: 'a' }), printer({ name: 'b', state: 'needs_attention' }), printer({ name: 'c', state: 'not_checked' })];
    expect(needingAttention(all).map((p) => p.name)).toEqual(['b']);
    expect(needingAttention(null)).toEqual([]);
  });
  it('says why: the node\'s words first, else the paper, else the jobs', () => {
    expect(attentionWhy(printer({ state: 'needs_attention', detail: 'The printer says: out of paper', paper: 'out' }))).toBe('The printer says: out of paper');
    expect(attentionWhy(printer({ state: 'needs_attention', paper: 'out' }))).toBe('Out of paper');
    expect(attentionWhy(printer({ state: 'needs_attention', attention: 2 }))).toMatch(/^2 jobs may not have printed/);
    expect(attentionWhy(printer({ state: 'needs_attention' }))).toBe('Needs attention');
  });
});
