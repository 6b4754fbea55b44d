/**
 * The body-reading half every response shares, whatever the protocol:
 * read(), readChunked(), content decoding, trailers and close().
 */

import type { BodyQueue } from './body-queue.js';
import { decodeChunks, isDecodable } from './decoding.js';
import { HTTPHeaderMap } from './headers.js';
import { asBuffer } from './latin1.js';

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** Options of the body readers. */
export interface ReadOptions {
  /** Decode gzip, deflate and br transparently. Default true. */
  decodeContent?: boolean;
}

/**
 * @internal What a response asks of its connection. An interface rather than
 * two callbacks: the connection's record of the exchange can be it, so a
 * response costs no closures.
 */
export interface ResponseOwner {
  /** The trailer fields, once they have come; null if none (yet). */
  responseTrailers(): HTTPHeaderMap | null;
  /** The response was closed: abandon what is left of it. */
  closeResponse(): void;
}

/** @internal What a connection gives a response. */
export interface BaseResponseInit {
  status: number;
  headers: HTTPHeaderMap;
  body: BodyQueue;
  owner: ResponseOwner;
}

/**
 * A response's status, headers and body. The body is read with
 * {@link read} or {@link readChunked}; it arrives as it is read, so a
 * response nobody reads holds back its sender.
 */
export abstract class BaseResponse {
  /** The status code. */
  readonly status: number;
  /** The reason phrase ('' on HTTP/2, which has none). */
  abstract readonly reason: string;
  /** The response header fields. */
  readonly headers: HTTPHeaderMap;
  private readonly body: BodyQueue;
  private readonly owner: ResponseOwner;
  private source: AsyncIterator<Buffer> | null = null;
  private decoded: boolean | null = null;
  private leftover: Uint8Array | null = null;
  private closed = false;

  /** @internal */
  constructor(init: BaseResponseInit) {
    this.status = init.status;
    this.headers = init.headers;
    this.body = init.body;
    this.owner = init.owner;
  }

  /** Trailer fields, once the body has been read to the end (null if none came). */
  get trailers(): HTTPHeaderMap | null {
    return this.owner.responseTrailers();
  }

  /**
   * Reads the body: all of what is left, or up to `amt` octets (fewer only
   * at the end). An empty Buffer means the end.
   */
  read(amt?: number, options: ReadOptions = {}): Promise<Buffer> {
    if (amt === undefined) {
      const all = this.readNow(options.decodeContent ?? true);
      if (all !== null) return Promise.resolve(all);
    }
    return this.readFrom(amt, options);
  }

  /**
   * @internal The whole body at once if it has already arrived, none of it
   * has been read and it needs no decoding, as most small ones by the time
   * they are read; null otherwise (then {@link read} it). No promise: a
   * pool preloading a body takes this path per request.
   */
  readNow(decodeContent: boolean): Buffer | null {
    if (this.source !== null || this.leftover !== null || (decodeContent && this.headers.has('content-encoding'))) return null;
    const all = this.body.takeAll();
    if (all === null) return null;
    this.source = this.body;
    this.decoded = decodeContent;
    return all;
  }

  private async readFrom(amt: number | undefined, options: ReadOptions): Promise<Buffer> {
    const source = this.iterator(options);
    if (amt !== undefined && (!Number.isInteger(amt) || amt < 0)) throw new RangeError('amt must be a non-negative integer');
    const limit = amt ?? Infinity;
    const parts: Uint8Array[] = [];
    let have = 0;
    while (have < limit) {
      let chunk = this.leftover;
      this.leftover = null;
      if (chunk === null) {
        const r = await source.next();
        if (r.done === true) break;
        chunk = r.value;
      }
      const want = limit - have;
      if (chunk.length > want) {
        this.leftover = chunk.subarray(want);
        chunk = chunk.subarray(0, want);
      }
      parts.push(chunk);
      have += chunk.length;
    }
    return Buffer.concat(parts, have);
  }

  /**
   * The body as it arrives, chunk by chunk. (A plain iterator rather than an
   * async generator: an undecoded body is read straight from the queue, one
   * promise per chunk.)
   */
  readChunked(options: ReadOptions = {}): AsyncIterableIterator<Buffer> {
    const source = this.iterator(options);
    const self = this;
    const iterator: AsyncIterableIterator<Buffer> = {
      next(): Promise<IteratorResult<Buffer>> {
        const left = self.leftover;
        if (left !== null) {
          self.leftover = null;
          return Promise.resolve({ done: false, value: asBuffer(left) });
        }
        return source.next();
      },
      return(): Promise<IteratorResult<Buffer>> {
        return Promise.resolve(DONE);
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /**
   * Done with the response. An unfinished body is abandoned: on HTTP/2 the
   * stream is reset with CANCEL; on HTTP/1.1 the connection is closed.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.closeResponse();
  }

  private iterator(options: ReadOptions): AsyncIterator<Buffer> {
    const decode = options.decodeContent ?? true;
    if (this.source !== null) {
      if (decode !== this.decoded) throw new Error('decodeContent cannot change once the body is being read');
      return this.source;
    }
    this.decoded = decode;
    const encoding = this.headers.first('content-encoding');
    const raw = this.body;
    const plain = !(decode && encoding !== undefined && isDecodable(encoding));
    // Undecoded, straight from the queue: no generator in between.
    this.source = plain ? raw : decodeChunks(raw, encoding!)[Symbol.asyncIterator]();
    return this.source;
  }
}
