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

import type { HTTPResponse } from '../pool/response.js';
import { decodeBody } from './content-coding.js';

/** A response body stream and the way to end it from outside. */
export interface ResponseBody {
  readonly stream: ReadableStream<Uint8Array>;
  /** Errors the stream with `reason` and gives the connection up (the fetch was aborted); nothing once the body has ended. */
  abort(reason: unknown): void;
  /** Gives the connection up without touching the stream (nobody can read it any more); nothing once the body has ended. */
  release(): void;
}

/**
 * The body of `response` as a stream, with `codings` undone (see
 * content-coding.ts). `done` runs once, when the body has ended, failed,
 * been cancelled or been aborted.
 */
export function responseBody(response: HTTPResponse, codings: readonly string[], done: () => void): ResponseBody {
  const raw: AsyncIterable<Uint8Array> = response.stream();
  const iterator = (codings.length > 0 ? decodeBody(raw, codings) : raw)[Symbol.asyncIterator]();
  let finished = false;
  let controller!: ReadableByteStreamController;
  const finish = (): boolean => {
    if (finished) return false;
    finished = true;
    done();
    return true;
  };
  const giveUp = (): void => {
    response.releaseConn();
    iterator.return?.().catch(() => {});
  };
  const stream = new ReadableStream({
    type: 'bytes',
    start(c) {
      controller = c;
    },
    async pull(c) {
      for (;;) {
        let r: IteratorResult<Uint8Array>;
        try {
          r = await iterator.next();
        } catch (err) {
          if (finish()) {
            c.error(new TypeError('terminated', { cause: err }));
            giveUp();
          }
          return;
        }
        // Aborted or cancelled while the read was pending.
        if (finished) return;
        if (r.done === true) {
          finish();
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
      if (finish()) giveUp();
    },
  });
  return {
    stream: stream as ReadableStream<Uint8Array>,
    abort(reason: unknown) {
      if (!finish()) return;
      controller.error(reason);
      giveUp();
    },
    release() {
      if (finish()) giveUp();
    },
  };
}
