// The one error every call to the node rejects with: the node's refusal
// (`{"error":{"code","message"}}`) with its HTTP status, or `unreachable` (status 0) when
// no answer came at all. Screens branch on `code`, never on the message.

/** A refusal or failure from the node, with its code and its message in words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds the node asked to wait (`Retry-After`, on 429 and 503); null when it did not say. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }

  /** No answer came: the node is off, out of reach, or the answer was lost on the way. */
  get unreachable(): boolean {
    return this.status === 0;
  }

  /**
   * No node behind the answer: none came, or a gateway or the node on its way down said
   * it cannot serve (502, 503, 504). An enrolled kiosk sells by itself then.
   */
  get boothAway(): boolean {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

/** `Retry-After` in seconds (a number of seconds or an HTTP date), or null. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
