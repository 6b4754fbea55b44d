/**
 * The header list a fetch sends on each hop, and the fields it refuses.
 *
 * The Fetch Standard adds fields in two places: once per fetch (§4 Fetching
 * steps 12-13: `Accept`, `Accept-Language`), and on a copy of the request
 * for each hop (§4.5 HTTP-network-or-cache fetch step 8: Content-Length,
 * Referer, the Fetch metadata, User-Agent, the cache mode's fields,
 * Accept-Encoding). The per-hop ones are computed again on every hop, so
 * a redirect that drops the body also drops its Content-Length.
 *
 * Headers objects do not refuse forbidden request-header names in Node
 * (undici implements none of them), so what a caller gives is sent, with
 * the checks undici makes when it dispatches a request: framing and
 * connection management are the client's (Transfer-Encoding, Keep-Alive,
 * Upgrade, Expect are refused; Connection may only say `close`), a
 * Content-Length must be a number that matches the body, and Host is
 * always the URL's (HTTP-network-or-cache fetch deletes it, as undici does).
 */

import { isToken } from '../common/field-syntax.js';
import { InvalidRequestError } from './fetch-errors.js';
import type { FetchBody } from './request-body.js';

/** The User-Agent sent when the request names none (§4.5 step 8.14). */
export const DEFAULT_USER_AGENT = 'hyperwire';

/** §4 Fetching steps 12-13: once per fetch, on the request itself. */
export function addFetchDefaults(headers: Headers): void {
  if (!headers.has('accept')) headers.append('accept', '*/*');
  // The standard leaves the value to the user agent; `*` is undici's.
  if (!headers.has('accept-language')) headers.append('accept-language', '*');
}

/** What the per-hop fields depend on. */
export interface HopRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  readonly body: FetchBody | null;
  readonly mode: string;
  readonly cache: string;
  /** The referrer determined for this hop. */
  readonly referrer: URL | 'no-referrer';
}

const CONDITIONAL = ['if-modified-since', 'if-none-match', 'if-unmodified-since', 'if-match', 'if-range'];

/**
 * The fields of one hop, checked (§4.5 HTTP-network-or-cache fetch step 8,
 * then undici's dispatch checks).
 *
 * @throws InvalidRequestError for a field that cannot be sent. Nothing has been sent.
 */
export function hopHeaders(req: HopRequest): Array<[string, string]> {
  const h = new Headers(req.headers);
  const length = req.body === null ? 0 : req.body.length;
  // Step 8.4-8.8: the body's length, or 0 for a POST or PUT without one.
  const given = h.get('content-length');
  if (given !== null) {
    if (!/^\d+$/.test(given)) throw new InvalidRequestError('HW_ERR_CONTENT_LENGTH', `Invalid Content-Length ${JSON.stringify(given)}`, 'content-length');
    if (req.body === null) {
      // There is nothing for it to count: undici sends the real length (0) instead.
      h.delete('content-length');
      if (req.method === 'POST' || req.method === 'PUT') h.set('content-length', '0');
    } else if (length !== null && Number(given) !== length) {
      throw new InvalidRequestError('HW_ERR_CONTENT_LENGTH', `Content-Length is ${given} but the body has ${length} octets`, 'content-length');
    }
  } else if (length !== null && (req.body !== null || req.method === 'POST' || req.method === 'PUT')) {
    h.set('content-length', String(length));
  }
  // Step 8.11: Referer.
  if (req.referrer !== 'no-referrer') h.append('referer', req.referrer.href);
  // Step 8.13: Fetch metadata; only Sec-Fetch-Mode is known without a document.
  h.set('sec-fetch-mode', req.mode);
  // Step 8.14.
  if (!h.has('user-agent')) h.append('user-agent', DEFAULT_USER_AGENT);
  // Steps 8.15-8.17: what the cache mode asks of caches on the way.
  let cache = req.cache;
  if (cache === 'default' && CONDITIONAL.some((name) => h.has(name))) cache = 'no-store';
  if (cache === 'no-cache' && !h.has('cache-control')) h.append('cache-control', 'max-age=0');
  if (cache === 'no-store' || cache === 'reload') {
    if (!h.has('pragma')) h.append('pragma', 'no-cache');
    if (!h.has('cache-control')) h.append('cache-control', 'no-cache');
  }
  // Step 8.18: a range of encoded octets would be meaningless once decoded.
  if (h.has('range')) h.append('accept-encoding', 'identity');
  // Step 8.19: the codings we decode (brotli only over TLS, as browsers and undici offer it).
  if (!h.has('accept-encoding')) h.append('accept-encoding', req.url.protocol === 'https:' ? 'br, gzip, deflate' : 'gzip, deflate');
  // Step 8.20: the Host is the URL's.
  h.delete('host');
  return checked(h);
}

/** The fields as pairs, after undici's dispatch checks. */
function checked(h: Headers): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, value] of h) {
    switch (name) {
      case 'transfer-encoding':
      case 'keep-alive':
      case 'upgrade':
        throw new InvalidRequestError('HW_ERR_INVALID_HEADER', `invalid ${name} header`, name);
      case 'expect':
        throw new InvalidRequestError('HW_ERR_UNSUPPORTED_HEADER', 'expect header not supported', name);
      case 'connection': {
        // A list of tokens (RFC 9110 §7.6.1); only `close` means anything
        // to a client that manages its own connections.
        let close = false;
        for (const token of value.toLowerCase().split(',')) {
          const t = token.trim();
          if (!isToken(t)) throw new InvalidRequestError('HW_ERR_INVALID_HEADER', 'invalid connection header', name);
          if (t === 'close') close = true;
        }
        if (close) out.push(['connection', 'close']);
        break;
      }
      default:
        out.push([name, value]);
    }
  }
  return out;
}
