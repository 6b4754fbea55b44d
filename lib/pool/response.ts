/**
 * The pool's response, urllib3's HTTPResponse: status, headers, the body
 * (preloaded into `data`, or read and streamed), and the connection or
 * stream it holds until the body is done.
 */

import { HyperwireError } from '../common/errors.js';
import type { HTTPHeaderMap } from '../common/headers.js';
import type { ConnectionResponse, Protocol } from '../connection.js';
import type { Retry } from './retry.js';

/** The release of a response that has nothing left to give back. */
function noRelease(): void {}

/** Statuses whose Location is followed (RFC 9110 §15.4). */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** @internal What the pool gives a response. */
export interface PoolResponseInit {
  response: ConnectionResponse;
  url: string;
  protocol: Protocol;
  decodeContent: boolean;
  /** Gives the connection or stream back (a body left unread has been closed first). */
  release: () => void;
  fromPush?: boolean;
  /** The retries as they stood when this response came (set by the pool). */
  retries?: Retry | null;
}

/**
 * A response from a pool. With `preloadContent` (the default) the body is
 * already in {@link data} and the connection is back in the pool. Without,
 * the body is read with {@link read} or {@link stream}, and the connection
 * (HTTP/1.1) or stream slot (HTTP/2) is held until the body has been read
 * to the end, {@link releaseConn} or {@link drainConn} is called, or the
 * response is closed.
 */
export class HTTPResponse {
  /** The status code. */
  readonly status: number;
  /** The reason phrase (HTTP/1.1; '' on HTTP/2). */
  readonly reason: string;
  /** The response's header fields. */
  readonly headers: HTTPHeaderMap;
  /** `'h2'` or `'http/1.1'`. */
  readonly protocol: Protocol;
  /** True when the server pushed this response and no request was sent for it. */
  readonly fromPush: boolean;
  /** The URL this response is for: after redirects, the last one. */
  url: string;
  /** The `Retry` in force when this response came, with its history of redirects and retries. */
  retries: Retry | null;
  private readonly inner: ConnectionResponse;
  private readonly decodeContent: boolean;
  private readonly giveBack: () => void;
  private iterator: AsyncIterator<Buffer> | null = null;
  private leftover: Buffer | null = null;
  private released = false;
  private ended = false;
  private body: Buffer | null = null;

  /** @internal */
  constructor(init: PoolResponseInit) {
    this.inner = init.response;
    this.status = init.response.status;
    this.reason = init.response.reason;
    this.headers = init.response.headers;
    this.protocol = init.protocol;
    this.url = init.url;
    this.decodeContent = init.decodeContent;
    this.giveBack = init.release;
    this.fromPush = init.fromPush ?? false;
    this.retries = init.retries ?? null;
  }

  /**
   * @internal A response whose whole body was read before it was made: it
   * is complete, and its connection already given back.
   */
  static preloaded(response: ConnectionResponse, url: string, protocol: Protocol, decodeContent: boolean, body: Buffer): HTTPResponse {
    const r = new HTTPResponse({ response, url, protocol, decodeContent, release: noRelease });
    r.body = body;
    r.ended = true;
    r.released = true;
    return r;
  }

  /** The whole body, when it was preloaded (or has been read with {@link read}); else null. */
  get data(): Buffer | null {
    return this.body;
  }

  /** Trailer fields, once the body has been read to the end (null if none came). */
  get trailers(): HTTPHeaderMap | null {
    return this.inner.trailers;
  }

  /** The body has been read to its end, or given up: the connection is back. */
  get isReleased(): boolean {
    return this.released;
  }

  /**
   * Where a redirect points: the Location value for a redirect status, null
   * for a redirect without one, false for any other status (as urllib3).
   */
  getRedirectLocation(): string | null | false {
    if (!REDIRECT_STATUSES.has(this.status)) return false;
    return this.headers.first('location') ?? null;
  }

  /**
   * Reads the body: all that is left, or up to `amt` octets (fewer only at
   * the end; an empty Buffer means the end). Reading to the end gives the
   * connection back. Reading all of it also sets {@link data}.
   */
  async read(amt?: number): Promise<Buffer> {
    if (amt !== undefined && (!Number.isInteger(amt) || amt < 0)) throw new RangeError('amt must be a non-negative integer');
    if (this.body !== null && amt === undefined) return this.body;
    const parts: Buffer[] = [];
    let have = 0;
    const limit = amt ?? Infinity;
    while (have < limit) {
      const chunk = await this.nextChunk(limit - have);
      if (chunk === null) break;
      parts.push(chunk);
      have += chunk.length;
    }
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
    if (amt === undefined) this.body = out;
    return out;
  }

  /** The body as it arrives, in chunks of at most `amt` octets when given. */
  async *stream(amt?: number): AsyncGenerator<Buffer> {
    if (amt !== undefined && (!Number.isInteger(amt) || amt <= 0)) throw new RangeError('amt must be a positive integer');
    if (this.body !== null) {
      const whole = this.body;
      const step = amt ?? (whole.length || 1);
      for (let i = 0; i < whole.length; i += step) yield whole.subarray(i, i + step);
      return;
    }
    for (;;) {
      const chunk = await this.nextChunk(amt ?? Infinity);
      if (chunk === null) return;
      yield chunk;
    }
  }

  /**
   * @internal Reads the whole body into {@link data} and gives the
   * connection back: straight from the connection's response, with none
   * of the chunking `read()` offers (this runs per preloaded request).
   */
  async preload(): Promise<void> {
    try {
      this.body = await this.inner.read(undefined, { decodeContent: this.decodeContent });
    } catch (err) {
      this.inner.close();
      this.release();
      throw err;
    }
    this.ended = true;
    this.release();
  }

  /** The body parsed as JSON (UTF-8). */
  async json(): Promise<unknown> {
    return JSON.parse((await this.read()).toString('utf8')) as unknown;
  }

  /** The body as text, decoded by the charset of its Content-Type (UTF-8 when none is named). */
  async text(): Promise<string> {
    const bytes = await this.read();
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(this.headers.first('content-type') ?? '')?.[1];
    try {
      return new TextDecoder(charset ?? 'utf-8').decode(bytes);
    } catch {
      // A charset TextDecoder does not know: UTF-8, as the Fetch Standard falls back.
      return new TextDecoder('utf-8').decode(bytes);
    }
  }

  /**
   * Gives the connection back without reading further. An unread HTTP/2
   * body resets its stream; an unread HTTP/1.1 body costs the connection
   * (it is closed, since what is left of the body would be read as the
   * next response).
   */
  releaseConn(): void {
    if (this.released) return;
    if (!this.ended) this.inner.close();
    this.release();
  }

  /** Reads and discards the rest of the body, then gives the connection back for reuse. */
  async drainConn(): Promise<void> {
    if (this.released) return;
    try {
      while ((await this.nextChunk(Infinity)) !== null) {
        // discarded
      }
    } catch {
      // A body that fails while being drained: the connection goes.
      this.releaseConn();
    }
  }

  /** Done with the response: as {@link releaseConn}. */
  close(): void {
    this.releaseConn();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** The next piece of the body, at most `max` octets; null at the end. */
  private async nextChunk(max: number): Promise<Buffer | null> {
    let chunk = this.leftover;
    this.leftover = null;
    if (chunk === null) {
      if (this.ended || this.released) return null;
      this.iterator ??= this.inner.readChunked({ decodeContent: this.decodeContent });
      let r: IteratorResult<Buffer>;
      try {
        r = await this.iterator.next();
      } catch (err) {
        // The stream failed (reset, timeout, a decoding error): whatever
        // it held is given up.
        this.inner.close();
        this.release();
        throw err instanceof HyperwireError ? err : (err as Error);
      }
      if (r.done === true) {
        this.ended = true;
        this.release();
        return null;
      }
      chunk = r.value;
    }
    if (chunk.length > max) {
      this.leftover = chunk.subarray(max);
      chunk = chunk.subarray(0, max);
    }
    return chunk;
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.giveBack();
  }
}
