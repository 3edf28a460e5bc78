// The live stream's wire format and pacing: parsing `text/event-stream` bodies as the
// node sends them, and how long to wait between reconnection attempts. Pure code with no
// network, so it is tested on its own (sse.test.ts); `index.ts` does the fetching.

/** Waits between reconnection attempts, in ms; the last one repeats. */
export const RECONNECT_DELAYS = [250, 500, 1000, 2000, 4000];
/** A stream that has sent nothing (not even a keep-alive) for this long is dead. */
export const STREAM_SILENCE_MS = 20_000;

export type SseMessage = { event: string; data: string };

/** Incremental parser for a `text/event-stream` body (the subset the node sends). */
export class SseParser {
  private buffer = '';

  feed(chunk: string): SseMessage[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const out: SseMessage[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue; // comment or keep-alive
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) out.push({ event, data: data.join('\n') });
    }
    return out;
  }
}

/** The wait before reconnection attempt `attempt` (1-based). */
export function reconnectDelay(attempt: number): number {
  return RECONNECT_DELAYS[Math.min(Math.max(attempt, 1), RECONNECT_DELAYS.length) - 1];
}
