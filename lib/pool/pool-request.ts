/**
 * urllib3's request(): a request given as fields, JSON or a web body type,
 * turned into what urlopen() sends.
 */

import { encodeRequest, type EncodeRequestOptions } from './request-encoding.js';
import type { UrlopenOptions } from './urlopen.js';

/** Options of `request()`: urlopen's, and the ways of giving a body that it encodes. */
export interface PoolRequestOptions extends Omit<UrlopenOptions, 'body'>, Omit<EncodeRequestOptions, 'headers'> {}

/**
 * Encodes `fields` (into the query for GET, HEAD, DELETE and OPTIONS,
 * else into a multipart or urlencoded body), `json`, or a FormData, Blob or
 * URLSearchParams body, and returns the URL and urlopen options to send.
 */
export async function encodeForPool(method: string, url: string, options: PoolRequestOptions): Promise<{ url: string; options: UrlopenOptions }> {
  const { fields, json, body, encodeMultipart, multipartBoundary, ...rest } = options;
  if (fields === undefined && json === undefined && (body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array)) {
    // Nothing to encode: the common case costs nothing more.
    return { url, options: body === undefined ? rest : { ...rest, body } };
  }
  const encoded = await encodeRequest(method, url, {
    fields,
    json,
    body,
    headers: rest.headers,
    encodeMultipart,
    multipartBoundary,
  });
  return { url: encoded.url, options: { ...rest, headers: encoded.headers, body: encoded.body } };
}
