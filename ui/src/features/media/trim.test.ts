import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => vi.stubGlobal('navigator', { languages: ['en-GB'], language: 'en-GB' }));

import { checkTrim, parseTime, trimWords } from './trim';

describe('parseTime', () => {
  it('reads seconds, minutes and seconds, and hours', () => {
    expect(parseTime('')).toBeNull();
    expect(parseTime('  ')).toBeNull();
    expect(parseTime('12')).toBe(12);
    expect(parseTime('12.5')).toBe(12.5);
    expect(parseTime('12,5')).toBe(12.5);
    expect(parseTime('1:05')).toBe(65);
    expect(parseTime('1:05.5')).toBe(65.5);
    expect(parseTime('1:00:05')).toBe(3605);
    expect(parseTime('-3')).toBe(-3);
  });
  it('knows what is not a time', () => {
    for (const t of ['abc', '1:75', '1:60:00', '12s', '1::2', '.5.5']) expect(parseTime(t)).toBeUndefined();
  });
});

describe('checkTrim', () => {
  it('takes empty fields as the whole video', () => {
    expect(checkTrim('', '')).toEqual({ ok: true, trim: { startS: null, endS: null } });
    expect(checkTrim('0', '')).toEqual({ ok: true, trim: { startS: null, endS: null } });
    expect(checkTrim('1.5', '0:03')).toEqual({ ok: true, trim: { startS: 1.5, endS: 3 } });
    expect(checkTrim('', '10')).toEqual({ ok: true, trim: { startS: null, endS: 10 } });
  });
  it('says in words what is wrong, and where', () => {
    expect(checkTrim('soon', '')).toMatchObject({ ok: false, field: 'start', problem: expect.stringMatching(/^The start is not a time\. Write seconds/) });
    expect(checkTrim('', 'x')).toMatchObject({ ok: false, field: 'end', problem: expect.stringMatching(/^The end is not a time/) });
    expect(checkTrim('-2', '')).toMatchObject({ ok: false, field: 'start', problem: expect.stringMatching(/cannot be before the beginning/) });
    expect(checkTrim('', '-1')).toMatchObject({ ok: false, field: 'end' });
    expect(checkTrim('', '0')).toMatchObject({ ok: false, field: 'end', problem: expect.stringMatching(/after the beginning/) });
    expect(checkTrim('90000', '')).toMatchObject({ ok: false, field: 'start', problem: expect.stringMatching(/within 24 hours/) });
    expect(checkTrim('5', '3')).toEqual({ ok: false, field: 'end', problem: 'The end (0:03) must come after the start (0:05).' });
    expect(checkTrim('5', '5')).toMatchObject({ ok: false, field: 'end' });
  });
  it('words the part a clip covers', () => {
    expect(trimWords({ startS: null, endS: null })).toBe('');
    expect(trimWords({ startS: 1.5, endS: 3 })).toBe(' from 0:01.5 to 0:03');
    expect(trimWords({ startS: 65, endS: null })).toBe(' from 1:05 to the end');
    expect(trimWords({ startS: null, endS: 10 })).toBe(' from 0:00 to 0:10');
  });
});
