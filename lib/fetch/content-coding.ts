/**
 * Content codings of a fetched response body, handled as undici handles
 * them (Fetch Standard §4.6 HTTP-network fetch, "handle content codings";
 * RFC 9110 §8.4).
 *
 * - The codings are the Content-Encoding values in order, lower-cased and
 *   split on commas; they were applied in that order, so they are undone
 *   from the last (RFC 9110 §8.4).
 * - `gzip`, `x-gzip`, `deflate` (zlib-wrapped or raw) and `br` are
 *   decoded. If any coding is another one (`identity`, `compress`, an
 *   empty one), nothing is decoded: the body is handed over as it came.
 * - More than five codings is refused, as undici (and urllib3 and curl)
 *   do: each one costs a decompressor, and a response could ask for many.
 * - The Content-Encoding and Content-Length fields stay in the response's
 *   headers, as undici keeps them.
 */

import { DecodeError } from '../common/errors.js';
import { decodeChunks } from '../common/decoding.js';

/** The most codings a response may stack. */
export const MAX_CONTENT_CODINGS = 5;

const DECODABLE: ReadonlySet<string> = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

/**
 * The codings to undo, last applied first; empty when the body is to be
 * handed over as it is.
 *
 * @throws DecodeError for more than {@link MAX_CONTENT_CODINGS} codings.
 */
export function codingsToUndo(contentEncoding: readonly string[]): string[] {
  if (contentEncoding.length === 0) return [];
  const codings = contentEncoding.join(', ').toLowerCase().split(',');
  if (codings.length > MAX_CONTENT_CODINGS) {
    throw new DecodeError(`too many content-encodings in response: ${codings.length}, maximum allowed is ${MAX_CONTENT_CODINGS}`);
  }
  const out: string[] = [];
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i]!.trim();
    if (!DECODABLE.has(coding)) return [];
    out.push(coding);
  }
  return out;
}

/** `source` with `codings` undone, in the order given. */
export function decodeBody(source: AsyncIterable<Uint8Array>, codings: readonly string[]): AsyncIterable<Uint8Array> {
  let out = source;
  for (const coding of codings) out = decodeChunks(out, coding);
  return out;
}
