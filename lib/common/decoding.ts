/**
 * Content decoding of response bodies: gzip, deflate and br (RFC 9110 §8.4).
 */

import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { DecodeError } from './errors.js';

/** Whether hyperwire can decode this content-coding. */
export function isDecodable(encoding: string | undefined): boolean {
  const e = encoding?.trim().toLowerCase();
  return e === 'gzip' || e === 'x-gzip' || e === 'deflate' || e === 'br';
}

/**
 * Decodes a stream of encoded chunks. `deflate` accepts both the zlib
 * wrapping RFC 9110 names and the raw form some servers send.
 */
export async function* decodeChunks(source: AsyncIterable<Uint8Array>, encoding: string): AsyncGenerator<Buffer> {
  const e = encoding.trim().toLowerCase();
  let decoder: zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress;
  let iterator: AsyncIterator<Uint8Array> = source[Symbol.asyncIterator]();
  if (e === 'gzip' || e === 'x-gzip') {
    decoder = zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } else if (e === 'br') {
    decoder = zlib.createBrotliDecompress();
  } else {
    // Look at the first octet: a zlib header has 0x8 in the low nibble of CMF.
    const first = await iterator.next();
    const head = first.done ? undefined : first.value;
    const zlibWrapped = head !== undefined && head.length > 0 && (head[0]! & 0x0f) === 0x08;
    decoder = zlibWrapped ? zlib.createInflate({ finishFlush: zlib.constants.Z_SYNC_FLUSH }) : zlib.createInflateRaw({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    // Put the first chunk back in front. A plain iterator, not a generator: a
    // generator waiting inside next() would hold back return(), and return()
    // must reach the source to end a read it has left waiting.
    const rest = iterator;
    let pending: Uint8Array | undefined = head;
    iterator = {
      next() {
        if (pending === undefined) return rest.next();
        const value = pending;
        pending = undefined;
        return Promise.resolve({ done: false, value });
      },
      return() {
        return rest.return?.() ?? Promise.resolve({ done: true, value: undefined });
      },
    };
  }
  const input = Readable.from({ [Symbol.asyncIterator]: () => iterator });
  let sourceError: unknown;
  input.on('error', (err) => {
    sourceError = err;
    decoder.destroy(err);
  });
  input.pipe(decoder);
  try {
    for await (const chunk of decoder) yield chunk as Buffer;
  } catch (err) {
    // The source's errors (a reset stream, a timeout) pass through as they
    // are; anything else is zlib's verdict on the octets: the body, not the
    // connection, was at fault.
    if (err === sourceError) throw err;
    throw new DecodeError(`The body could not be decoded as ${e}: ${(err as Error).message}`, { cause: err });
  } finally {
    // On a decoding error (or a consumer that stopped), stop reading the
    // source too: Readable.from reads ahead, and a read left waiting on the
    // body would later run into the read timeout of a body nobody reads.
    input.destroy();
    decoder.destroy();
  }
}
