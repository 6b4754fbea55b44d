/**
 * A fetched response's body: a web ReadableStream over the pool's
 * response, as the Fetch Standard's HTTP-network fetch sets it up (§4.6
 * steps 11-19):
 *
 * - A byte stream (BYOB readers work) that pulls from the connection only
 *   when read, so an unread body holds back its sender (flow control).
 * - Each chunk is enqueued as a copy: a byte stream takes ownership of
 *   the ArrayBuffer under an enqueued view, and the pool's chunks are views
 *   into buffers that other views share.
 * - A failure of the network (a reset stream, a connection cut short, a
 *   body that does not decode) errors the stream with
 *   `TypeError('terminated')` whose `cause` is the error, as undici does;
 *   an abort errors it with the signal's reason (§4.6 step 19.2).
 * - Cancelling the stream gives the connection up: an HTTP/2 stream is
 *   reset, an HTTP/1.1 connection closed (§4.6 step 12, "abort the fetch
 *   controller").
 */

import { Readable } from 'node:stream';
import type { HTTPResponse } from '../pool/response.js';
import { decodeBody } from './content-coding.js';

/**
 * A fetched response's body, made into a stream only when something asks
 * for one. A `Response` that is read with `arrayBuffer()`, `text()` or
 * `json()`, as most are, reads it here straight from the pool: making a
 * web stream costs Node 20 a transferable object, and reading one through
 * the platform's body machinery costs more than the whole HTTP/2 exchange.
 */
export class ResponseBody {
  private made: ReadableStream<Uint8Array> | null = null;
  private controller: ReadableByteStreamController | null = null;
  private iterator: AsyncIterator<Uint8Array> | null = null;
  /** Read (or being read) whole by {@link readAll}. */
  private consumed = false;
  private finished = false;
  /** The fetch was aborted with this reason before a stream was made. */
  private abortReason: { reason: unknown } | null = null;

  /**
   * @param codings the content codings to undo (see content-coding.ts).
   * @param done runs once, when the body has ended, failed, been cancelled
   *   or been aborted.
   */
  constructor(
    private readonly response: HTTPResponse,
    private readonly codings: readonly string[],
    private readonly done: () => void,
  ) {}

  /** Whether the body has been read whole, or a stream has been made of it. */
  get touched(): boolean {
    return this.consumed || this.made !== null;
  }

  /** Whether the body is used, as `Response.bodyUsed` means it: read, or its stream disturbed. */
  get used(): boolean {
    if (this.consumed) return true;
    return this.made !== null && Readable.isDisturbed(this.made as unknown as NodeJS.ReadableStream);
  }

  /** Whether the body can still be read: not used, its stream (if any) not locked. */
  get usable(): boolean {
    return !this.used && (this.made === null || !this.made.locked);
  }

  /** The body as a stream: the same one each time, made on first use. */
  get stream(): ReadableStream<Uint8Array> {
    if (this.made === null) this.made = this.consumed ? usedStream() : this.makeStream();
    return this.made;
  }

  /** After a tee: the branch that stays the response's body. */
  replaceStream(stream: ReadableStream<Uint8Array>): void {
    this.made = stream;
  }

  /**
   * The whole body, decoded, read straight from the pool's response. For a
   * body that is {@link usable} and of which no stream was made.
   */
  async readAll(): Promise<Uint8Array> {
    this.consumed = true;
    if (this.abortReason !== null) throw this.abortReason.reason;
    const response = this.response;
    try {
      let bytes: Uint8Array;
      if (this.codings.length === 0) {
        await response.preload();
        bytes = response.data ?? EMPTY;
      } else {
        const parts: Uint8Array[] = [];
        let n = 0;
        for await (const chunk of decodeBody(response.stream(), this.codings)) {
          parts.push(chunk);
          n += chunk.byteLength;
        }
        bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
      }
      // Aborted while the last of it came: the abort wins (caught below).
      if (this.wasAborted()) throw new Error('aborted');
      this.finish();
      return bytes;
    } catch (err) {
      // (Read again: an abort may have come while the body was awaited.)
      const aborted = this.abortReason as { reason: unknown } | null;
      if (this.finish()) response.releaseConn();
      // An abort while it was read is the abort's reason; anything else is
      // the network's failure, as a stream over it would have errored.
      if (aborted !== null) throw aborted.reason;
      throw new TypeError('terminated', { cause: err });
    }
  }

  /** Errors the body with `reason` and gives the connection up (the fetch was aborted); nothing once the body has ended. */
  abort(reason: unknown): void {
    if (this.finished) return;
    if (this.made === null) {
      this.abortReason = { reason };
      this.finish();
      this.giveUp();
      return;
    }
    if (!this.finish()) return;
    this.controller!.error(reason);
    this.giveUp();
  }

  /** Gives the connection up without touching the stream (nobody can read it any more); nothing once the body has ended. */
  release(): void {
    if (this.finish()) this.giveUp();
  }

  /** For the clean-up of a response nobody kept: the connection goes back unless the body is being read. */
  releaseIfUnread(): void {
    if (this.consumed) return;
    const stream = this.made;
    if (stream === null || (!stream.locked && !Readable.isDisturbed(stream as unknown as NodeJS.ReadableStream))) this.release();
  }

  private wasAborted(): boolean {
    return this.abortReason !== null;
  }

  private finish(): boolean {
    if (this.finished) return false;
    this.finished = true;
    this.done();
    return true;
  }

  private giveUp(): void {
    this.response.releaseConn();
    this.iterator?.return?.().catch(() => {});
  }

  private makeStream(): ReadableStream<Uint8Array> {
    const aborted = this.abortReason;
    if (aborted !== null) {
      return new ReadableStream<Uint8Array>({
        start(c) {
          c.error(aborted.reason);
        },
      });
    }
    const raw: AsyncIterable<Uint8Array> = this.response.stream();
    const iterator = (this.codings.length > 0 ? decodeBody(raw, this.codings) : raw)[Symbol.asyncIterator]();
    this.iterator = iterator;
    const body = this;
    const stream = new ReadableStream({
      type: 'bytes',
      start(c) {
        body.controller = c;
      },
      async pull(c) {
        for (;;) {
          let r: IteratorResult<Uint8Array>;
          try {
            r = await iterator.next();
          } catch (err) {
            if (body.finish()) {
              c.error(new TypeError('terminated', { cause: err }));
              body.giveUp();
            }
            return;
          }
          // Aborted or cancelled while the read was pending.
          if (body.finished) return;
          if (r.done === true) {
            body.finish();
            c.close();
            // A BYOB read pending at the end is answered with an empty view.
            c.byobRequest?.respond(0);
            return;
          }
          if (r.value.byteLength > 0) {
            c.enqueue(new Uint8Array(r.value));
            return;
          }
        }
      },
      cancel() {
        if (body.finish()) body.giveUp();
      },
    });
    return stream as ReadableStream<Uint8Array>;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * The stream of a body already read whole: read to its end and locked, as
 * the platform leaves a body it has consumed.
 */
function usedStream(): ReadableStream<Uint8Array> {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.close();
    },
  });
  void stream.getReader().read();
  return stream;
}
