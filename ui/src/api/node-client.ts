// The HTTP transport of the selling faces: JSON to and from the node at `base` (empty:
// the origin that served the page), with whatever headers the caller proves itself with
// (a kiosk's key, a staff session, the operator token), every refusal turned into an
// `ApiError` with the node's code. It knows nothing of what the calls mean
// (`selling-api.ts` does) and never retries: whether a retry is safe is the caller's
// business (an order is retried only with its Idempotency-Key). A client made with
// `timeoutMs` (a kiosk's) gives up on an answer that takes longer and says the booth
// did not answer: a kiosk on a network that swallows packets must not wait minutes to
// learn it should sell by itself.

import { ApiError, retryAfterSeconds } from './errors';
import type { ErrorBody } from './types';

export type Headers = Record<string, string>;

/** Says which ones: the answer, and whether the node replayed an earlier one. */
export interface Answer<T> {
  body: T;
  status: number;
  /** `Idempotent-Replayed: true`: the same order as an earlier try with the same key. */
  replayed: boolean;
}

export class NodeClient {
  constructor(
    private readonly base: string,
    /** Read at every call: a sign-in or a new token applies at once. */
    private readonly auth: () => Headers = () => ({}),
    /** Longest wait for a whole answer (null: as long as the browser waits). */
    private readonly timeoutMs: number | null = null,
  ) {}

  /** The address of a file the node serves (a photo, a QR code) for `src` or `href`. */
  url(path: string): string {
    return this.base + path;
  }

  /** A new client that sends `extra` as well (a staff session on top of a kiosk's key). */
  with(extra: () => Headers): NodeClient {
    return new NodeClient(this.base, () => ({ ...this.auth(), ...extra() }), this.timeoutMs);
  }

  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return (await this.send<T>('GET', path, undefined, {}, signal)).body;
  }

  async post<T>(path: string, body: unknown, headers: Headers = {}): Promise<T> {
    return (await this.send<T>('POST', path, body, headers)).body;
  }

  /** A file the node draws for the caller (a printer's ticket preview), with its headers. */
  async blob(path: string, signal?: AbortSignal): Promise<Blob> {
    let response: Response;
    try {
      response = await fetch(this.base + path, { headers: this.auth(), signal, cache: 'no-store' });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new ApiError(0, 'unreachable', 'The booth does not answer.');
    }
    if (!response.ok) throw new ApiError(response.status, 'http_' + response.status, `The booth answered ${response.status}.`);
    return response.blob();
  }

  async delete(path: string): Promise<void> {
    await this.send('DELETE', path);
  }

  async send<T>(method: string, path: string, body?: unknown, headers: Headers = {}, signal?: AbortSignal): Promise<Answer<T>> {
    const all: Headers = { accept: 'application/json', ...this.auth(), ...headers };
    if (body !== undefined) all['content-type'] = 'application/json';
    let response: Response;
    let text: string;
    const { signal: asked, done } = this.deadline(signal);
    try {
      response = await fetch(this.base + path, {
        method,
        headers: all,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: asked,
        // The node's answers are live (stock, an order's progress): never the browser's
        // HTTP cache. The shop's service worker caches the catalogue on purpose.
        cache: 'no-store',
      });
      // The body is read inside: an answer cut halfway is as lost as no answer.
      text = await response.text();
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new ApiError(0, 'unreachable', 'The booth does not answer.');
    } finally {
      done();
    }
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: a proxy or a captive portal answered; handled below.
    }
    if (!response.ok) {
      const detail = (parsed as Partial<ErrorBody> | null)?.error as Partial<ErrorBody['error']> | undefined;
      throw new ApiError(
        response.status,
        detail?.code ?? 'http_' + response.status,
        detail?.message ?? `The booth answered ${response.status}.`,
        retryAfterSeconds(response.headers.get('retry-after')),
      );
    }
    if (parsed === null && text) throw new ApiError(response.status, 'not_json', 'The answer was not from the booth.');
    return { body: parsed as T, status: response.status, replayed: response.headers.get('idempotent-replayed') === 'true' };
  }

  /** The caller's signal, aborted too once `timeoutMs` passed; `done` stops the clock. */
  private deadline(signal?: AbortSignal): { signal: AbortSignal | undefined; done: () => void } {
    if (this.timeoutMs === null) return { signal, done: () => undefined };
    const controller = new AbortController();
    const stop = () => controller.abort();
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) controller.abort();
    const timer = setTimeout(stop, this.timeoutMs);
    return {
      signal: controller.signal,
      done: () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', stop);
      },
    };
  }
}
