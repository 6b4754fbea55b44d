/**
 * Following a redirect: the Fetch Standard's HTTP-redirect fetch (§4.4),
 * the parts that decide where the next hop goes and what it carries.
 */

import { BodyNotReplayableError } from '../pool/urlopen.js';
import { RedirectError } from './fetch-errors.js';
import type { FetchBody } from './request-body.js';

/** Redirect statuses (§2.2.6). */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** The most redirects one fetch follows (§4.4 step 7). */
export const MAX_REDIRECTS = 20;

/** Fields that describe a body, dropped with it (the standard's request-body-header names, and Content-Length as undici adds). */
const REQUEST_BODY_HEADERS = ['content-encoding', 'content-language', 'content-location', 'content-type', 'content-length'];

/** Fields not carried to another origin (§4.4 step 13, and Cookie, Host and Proxy-Authorization as undici drops them). */
const CROSS_ORIGIN_DROP = ['authorization', 'proxy-authorization', 'cookie', 'host'];

/** Whether two URLs have the same origin (HTML's "same origin" for tuple origins). */
export function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.hostname === b.hostname && a.port === b.port;
}

/**
 * §2.2.6 "location URL": where a redirect points, resolved against the
 * response's URL, with the request's fragment when it names none; null when
 * there is no Location.
 *
 * @throws RedirectError (`HW_ERR_REDIRECT_LOCATION`) when it is not a URL.
 */
export function locationURL(status: number, values: readonly string[], current: URL): URL | null {
  if (values.length === 0) return null;
  let location = values.join(', ');
  // Many servers send the Location's UTF-8 octets unencoded; browsers read
  // them as UTF-8, and so does undici (the field arrives as latin1 text).
  if (/[^\x20-\x7e]/.test(location)) location = Buffer.from(location, 'latin1').toString('utf8');
  let url: URL;
  try {
    url = new URL(location, current);
  } catch (err) {
    throw new RedirectError('HW_ERR_REDIRECT_LOCATION', `Invalid Location ${JSON.stringify(location)} in a ${status} response from ${current.href}`, status, location, { cause: err });
  }
  if (url.hash === '' && current.hash !== '') url.hash = current.hash;
  return url;
}

/** The request as a redirect changes it. */
export interface RedirectedRequest {
  method: string;
  headers: Headers;
  body: FetchBody | null;
}

/** What §4.4 steps 6-10 check of the next URL, for a fetch in `mode` whose responses are `tainting`. */
export function checkLocation(status: number, next: URL, redirectCount: number, mode: string, tainting: string): void {
  // Step 6.
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new RedirectError('HW_ERR_REDIRECT_SCHEME', `A ${status} redirect to ${next.protocol} is not followed: only http and https`, status, next.href);
  }
  // Step 7.
  if (redirectCount >= MAX_REDIRECTS) {
    throw new RedirectError('HW_ERR_TOO_MANY_REDIRECTS', `redirect count exceeded (${MAX_REDIRECTS})`, status, next.href);
  }
  // Steps 9-10: a fetch with no document has an opaque origin, which is
  // never the origin of a URL; so in "cors" mode, or once the responses
  // are CORS-tainted, credentials in the URL are refused.
  if ((next.username !== '' || next.password !== '') && (mode === 'cors' || tainting === 'cors')) {
    throw new RedirectError('HW_ERR_REDIRECT_CREDENTIALS', 'A redirect to a URL with credentials is not followed in "cors" mode', status, next.href);
  }
}

/**
 * §4.4 steps 11-13: the method, body and fields of the next hop, changed
 * in place.
 *
 * @throws BodyNotReplayableError when the body is a stream that a 301, 302,
 *   307 or 308 would have to send again (step 11).
 */
export function redirectRequest(req: RedirectedRequest, status: number, current: URL, next: URL): void {
  if (status !== 303 && req.body !== null && !req.body.replayable) {
    throw new BodyNotReplayableError(`Cannot follow the ${status} redirect to ${next.href}: the request body was a stream, and it has been sent`);
  }
  // Step 12: what browsers do (RFC 9110 §15.4.2-4 allows it): a POST that
  // met a 301 or 302, and anything but GET or HEAD that met a 303, goes on
  // as a GET without its body.
  if (((status === 301 || status === 302) && req.method === 'POST') || (status === 303 && req.method !== 'GET' && req.method !== 'HEAD')) {
    req.method = 'GET';
    req.body = null;
    for (const name of REQUEST_BODY_HEADERS) req.headers.delete(name);
  }
  // Step 13.
  if (!sameOrigin(current, next)) for (const name of CROSS_ORIGIN_DROP) req.headers.delete(name);
}
