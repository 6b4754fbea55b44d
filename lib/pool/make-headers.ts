/**
 * Common request headers from a few switches: urllib3 1.25's
 * `urllib3.util.request.make_headers`, in camelCase.
 */

/**
 * The codings hyperwire decodes (lib/common/decoding.ts), offered when
 * `acceptEncoding` is true. urllib3 adds `br` only when a brotli module is
 * installed; Node always has one.
 */
export const ACCEPT_ENCODING = 'gzip,deflate,br';

/** Options of {@link makeHeaders}. */
export interface MakeHeadersOptions {
  /** Adds `connection: keep-alive` (HTTP/1.1; HTTP/2 drops connection-specific fields, RFC 9113 §8.2.2). */
  keepAlive?: boolean | undefined;
  /**
   * `true` offers {@link ACCEPT_ENCODING}; a string is sent as it is; a
   * list is joined with `,` (RFC 9110 §12.5.3). An empty string or list
   * adds nothing.
   */
  acceptEncoding?: boolean | string | readonly string[] | undefined;
  /** The `user-agent` value. */
  userAgent?: string | undefined;
  /** `'user:password'`, sent as `authorization: Basic …` (RFC 7617). */
  basicAuth?: string | undefined;
  /** `'user:password'`, sent as `proxy-authorization: Basic …` (RFC 7617, RFC 9110 §11.7.2). */
  proxyBasicAuth?: string | undefined;
  /** Adds `cache-control: no-cache` (RFC 9111 §5.2.1.4). */
  disableCache?: boolean | undefined;
}

/**
 * RFC 7617 §2: the base64 of `user-id ":" password`. Encoded as UTF-8,
 * the one charset the RFC lets a server ask for (§2.1); urllib3 1.25
 * encodes as Latin-1, which differs only for characters above U+007F.
 */
function basic(credentials: string, option: string): string {
  if (typeof credentials !== 'string') throw new TypeError(`${option} must be a string 'user:password'`);
  return `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
}

/**
 * Builds common request headers: a plain object with lower-case names, in
 * urllib3's order (accept-encoding, user-agent, connection, authorization,
 * proxy-authorization, cache-control). Options that are absent, false or
 * empty add nothing.
 *
 * @example
 * makeHeaders({ keepAlive: true, userAgent: 'batman/1.0' })
 * // { 'user-agent': 'batman/1.0', connection: 'keep-alive' }
 * makeHeaders({ acceptEncoding: true })
 * // { 'accept-encoding': 'gzip,deflate,br' }
 *
 * @throws TypeError for an option of the wrong type.
 */
export function makeHeaders(options: MakeHeadersOptions = {}): Record<string, string> {
  const { keepAlive, acceptEncoding, userAgent, basicAuth, proxyBasicAuth, disableCache } = options;
  const headers: Record<string, string> = {};
  if (acceptEncoding !== undefined && acceptEncoding !== false && acceptEncoding !== '') {
    if (acceptEncoding === true) {
      headers['accept-encoding'] = ACCEPT_ENCODING;
    } else if (typeof acceptEncoding === 'string') {
      headers['accept-encoding'] = acceptEncoding;
    } else if (Array.isArray(acceptEncoding)) {
      const list = acceptEncoding as readonly unknown[];
      if (!list.every((x) => typeof x === 'string')) throw new TypeError('acceptEncoding must list strings');
      if (list.length > 0) headers['accept-encoding'] = list.join(',');
    } else {
      throw new TypeError('acceptEncoding must be a boolean, a string or a list of strings');
    }
  }
  if (userAgent !== undefined && userAgent !== '') {
    if (typeof userAgent !== 'string') throw new TypeError('userAgent must be a string');
    headers['user-agent'] = userAgent;
  }
  if (keepAlive === true) headers.connection = 'keep-alive';
  if (basicAuth !== undefined && basicAuth !== '') headers.authorization = basic(basicAuth, 'basicAuth');
  if (proxyBasicAuth !== undefined && proxyBasicAuth !== '') headers['proxy-authorization'] = basic(proxyBasicAuth, 'proxyBasicAuth');
  if (disableCache === true) headers['cache-control'] = 'no-cache';
  return headers;
}
