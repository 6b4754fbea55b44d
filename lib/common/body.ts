/**
 * Request bodies: what a caller may pass, normalised to chunks of octets.
 */

import { Readable } from 'node:stream';

/** A request body: octets, text (sent as UTF-8), a Node Readable, or an async iterable of octets. */
export type RequestBody = Uint8Array | string | Readable | AsyncIterable<Uint8Array> | null | undefined;

/** A normalised body: its length when known, and its chunks. */
export interface NormalisedBody {
  /** Octets in all, or undefined for a stream of unknown length. */
  length: number | undefined;
  /** The whole body when it is in memory. */
  bytes: Uint8Array | undefined;
  /** The chunks, for a streamed body. */
  stream: AsyncIterable<Uint8Array> | undefined;
}

/** A string body's UTF-8 octets; octets as they are. */
export function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Normalises a body, or returns null for none. Throws TypeError for anything else. */
export function normaliseBody(body: RequestBody): NormalisedBody | null {
  if (body === null || body === undefined) return null;
  if (typeof body === 'string') {
    const bytes = bytesOf(body);
    return { length: bytes.length, bytes, stream: undefined };
  }
  if (body instanceof Uint8Array) return { length: body.length, bytes: body, stream: undefined };
  if (body instanceof Readable || isAsyncIterable(body)) {
    return { length: undefined, bytes: undefined, stream: chunksOf(body as AsyncIterable<unknown>) };
  }
  throw new TypeError('A request body must be a Uint8Array, a string, a Readable or an AsyncIterable<Uint8Array>');
}

async function* chunksOf(source: AsyncIterable<unknown>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    if (chunk instanceof Uint8Array) yield chunk;
    else if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
    else throw new TypeError('A streamed request body must yield Uint8Array chunks');
  }
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return x !== null && typeof x === 'object' && typeof (x as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}
