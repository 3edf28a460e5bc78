import { describe, expect, it } from 'vitest';
import { RECONNECT_DELAYS, reconnectDelay, SseParser } from './sse';

describe('SseParser', () => {
  it('parses whole messages and ignores keep-alives', () => {
    const p = new SseParser();
    expect(p.feed(': keep-alive\n\nevent: snapshot\ndata: {"a":1}\n\n')).toEqual([{ event: 'snapshot', data: '{"a":1}' }]);
  });

  it('waits for the rest of a message split across chunks', () => {
    const p = new SseParser();
    expect(p.feed('event: snap')).toEqual([]);
    expect(p.feed('shot\ndata: {"orders"')).toEqual([]);
    expect(p.feed(':2}\n')).toEqual([]);
    expect(p.feed('\n')).toEqual([{ event: 'snapshot', data: '{"orders":2}' }]);
  });

  it('joins multi-line data, accepts CRLF and defaults the event name', () => {
    const p = new SseParser();
    expect(p.feed('data: one\r\ndata: two\r\n\r\ndata:three\n\n')).toEqual([
      { event: 'message', data: 'one\ntwo' },
      { event: 'message', data: 'three' },
    ]);
  });
});

describe('reconnectDelay', () => {
  it('backs off and then holds at the last step', () => {
    expect(reconnectDelay(1)).toBe(RECONNECT_DELAYS[0]);
    expect(reconnectDelay(2)).toBeGreaterThan(reconnectDelay(1));
    expect(reconnectDelay(99)).toBe(RECONNECT_DELAYS[RECONNECT_DELAYS.length - 1]);
    expect(reconnectDelay(99)).toBeLessThanOrEqual(5000);
  });
});
