// A clip's start and end as the operator types them — seconds ("12", "12.5", "12,5") or
// minutes and seconds ("1:05", "1:00:05") — both optional, checked in plain words before
// anything is sent. The node checks the same rules (`start_s`, `end_s`) and answers in
// its own words if a request gets past these.

import { clipTime } from '../../lib/format';

/** The longest trim point the node takes: 24 hours. */
export const MAX_TRIM_S = 24 * 3600;

/** Seconds from the beginning; null means the beginning (start) or the end (end). */
export type Trim = { startS: number | null; endS: number | null };

export type TrimCheck = { ok: true; trim: Trim } | { ok: false; field: 'start' | 'end'; problem: string };

/** A typed time in seconds: null when empty, undefined when it is not a time. */
export function parseTime(text: string): number | null | undefined {
  const t = text.trim().replace(',', '.');
  if (t === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  const m = /^(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d+)?)$/.exec(t);
  if (!m) return undefined;
  const [hours, minutes, seconds] = [Number(m[1] ?? 0), Number(m[2]), Number(m[3])];
  if (seconds >= 60 || (m[1] !== undefined && minutes >= 60)) return undefined;
  return hours * 3600 + minutes * 60 + seconds;
}

const NOT_A_TIME = 'Write seconds (12 or 12.5) or minutes and seconds (1:05)';

/** Checks a typed start and end; the first problem comes back in words, with its field. */
export function checkTrim(start: string, end: string): TrimCheck {
  const s = parseTime(start);
  const e = parseTime(end);
  if (s === undefined) return { ok: false, field: 'start', problem: `The start is not a time. ${NOT_A_TIME}, or leave it empty for the beginning.` };
  if (e === undefined) return { ok: false, field: 'end', problem: `The end is not a time. ${NOT_A_TIME}, or leave it empty for the end.` };
  if (s !== null && s < 0) return { ok: false, field: 'start', problem: 'The start cannot be before the beginning: use 0 or more, or leave it empty.' };
  if (e !== null && e < 0) return { ok: false, field: 'end', problem: 'The end cannot be before the beginning: use a time after the start, or leave it empty.' };
  if (s !== null && s > MAX_TRIM_S) return { ok: false, field: 'start', problem: 'The start must be within 24 hours of the beginning.' };
  if (e !== null && e > MAX_TRIM_S) return { ok: false, field: 'end', problem: 'The end must be within 24 hours of the beginning.' };
  if (e === 0) return { ok: false, field: 'end', problem: 'The end must be after the beginning of the video, or left empty for the end.' };
  if (s !== null && e !== null && e <= s) {
    return { ok: false, field: 'end', problem: `The end (${clipTime(e * 1000)}) must come after the start (${clipTime(s * 1000)}).` };
  }
  return { ok: true, trim: { startS: s === 0 ? null : s, endS: e } };
}

/** The part a clip will cover, for the message once it is queued: "" for the whole video. */
export function trimWords(trim: Trim): string {
  if (trim.startS === null && trim.endS === null) return '';
  if (trim.endS === null) return ` from ${clipTime(trim.startS! * 1000)} to the end`;
  return ` from ${clipTime((trim.startS ?? 0) * 1000)} to ${clipTime(trim.endS * 1000)}`;
}
