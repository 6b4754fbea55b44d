/**
 * The loop around one request that urllib3's urlopen runs: an attempt,
 * then by its outcome a retry (after backoff or Retry-After), a redirect
 * (RFC 9110 §15.4), or the response. Shared by the connection pools (which
 * stay on their origin) and the PoolManager (which routes each URL to its
 * origin's pool).
 */

import { debuglog } from 'node:util';
import type { RequestBody } from '../common/body.js';
import { HyperwireError, TLSError } from '../common/errors.js';
import { HTTPHeaderMap, type HeadersInit } from '../common/headers.js';
import type { AttemptRequest, TimeoutInput } from './connection-pool.js';
import { LocationParseError, LocationValueError, MaxRetryError } from './errors.js';
import type { HTTPResponse } from './response.js';
import { isConnectError, isReadError, Retry } from './retry.js';
import { Timeout } from './timeout.js';

const debug = debuglog('hyperwire');

/** What a pool takes for its retries: a Retry, a count, or false for none. */
export type RetryInput = Retry | number | false | null;

/** Options of `urlopen()`. */
export interface UrlopenOptions {
  /** Header fields; the pool's `headers` when not given (as urllib3). */
  headers?: HeadersInit;
  /** The body, ready to send (see `request()` for fields and JSON). */
  body?: RequestBody;
  /** Retries: a Retry, a count, or false (errors thrown unwrapped, redirects not followed). */
  retries?: RetryInput;
  /** Follow redirects. Default true. */
  redirect?: boolean;
  /** A pool's urlopen refuses a URL of another origin (HostChangedError). Default true. */
  assertSameHost?: boolean;
  /** Timeouts of this request. */
  timeout?: TimeoutInput;
  /** Read the whole body before returning (into `data`), giving the connection back. Default true. */
  preloadContent?: boolean;
  /** Decode gzip, deflate and br bodies. Default true. */
  decodeContent?: boolean;
  /**
   * urllib3's release_conn: with `preloadContent: false`, the connection is
   * held until the body is read or released either way, so this only
   * exists for code written for urllib3.
   */
  releaseConn?: boolean;
  /** Aborts the request, wherever it is: waiting for a connection, for the response, or for backoff. */
  signal?: AbortSignal;
}

/** A request body that is not all in memory cannot be sent twice. */
export class BodyNotReplayableError extends HyperwireError {
  constructor(message: string) {
    super('HW_ERR_BODY_NOT_REPLAYABLE', message, { scope: 'stream' });
  }
}

/** What a pool or manager uses where a request gives nothing, resolved once, not per request. */
export interface UrlopenDefaults {
  headers: HeadersInit | undefined;
  retries: Retry;
  timeout: Timeout;
}

/** The defaults for a pool's or manager's options. */
export function urlopenDefaults(options: { headers?: HeadersInit | undefined; retries?: RetryInput | undefined; timeout?: ConstructorParameters<typeof Timeout>[0] | Timeout | number | null | undefined }): UrlopenDefaults {
  return { headers: options.headers, retries: Retry.fromInt(options.retries), timeout: Timeout.resolve(options.timeout) };
}

/** Where one attempt of a request goes. */
export interface AttemptTarget {
  attempt(req: AttemptRequest): Promise<HTTPResponse>;
}

/** Header fields never carried to another origin on a redirect, whatever `removeHeadersOnRedirect` says. */
const CROSS_ORIGIN_DROP = ['cookie', 'proxy-authorization'];

/** Parses an absolute http(s) URL, with urllib3's errors. */
export function absoluteUrl(url: string | URL): URL {
  if (url instanceof URL) return url;
  if (typeof url !== 'string') throw new TypeError('url must be a string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LocationParseError(url);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new LocationValueError(`Unsupported URL scheme ${JSON.stringify(parsed.protocol.slice(0, -1))} in ${url}: only http and https`);
  }
  if (parsed.hostname === '') throw new LocationValueError(`No host in ${url}`);
  return parsed;
}

/**
 * Runs a request to its end: attempts on the target `route` picks for each
 * URL, with retries and redirects as `options.retries` and
 * `options.redirect` allow.
 */
export async function urlopenWithRetries(route: (url: URL) => AttemptTarget, method: string, url: URL, options: UrlopenOptions, defaults: UrlopenDefaults): Promise<HTTPResponse> {
  if (typeof method !== 'string') throw new TypeError('method must be a string');
  const followRedirects = options.redirect ?? true;
  const r = options.retries;
  // A Retry never changes (increment() makes a new one), so `false` needs no new one per request.
  let retries = r === undefined ? defaults.retries : r === false ? (followRedirects ? NO_RETRIES : NO_RETRIES_NO_REDIRECTS) : Retry.fromInt(r, { redirect: followRedirects });
  // A Timeout is used as it is: an attempt with a total clones it for its clock.
  const t = options.timeout;
  const timeout = t === undefined ? defaults.timeout : t instanceof Timeout ? t : Timeout.resolve(t);
  const signal = options.signal;
  let headers = options.headers ?? defaults.headers;
  let body: RequestBody = options.body;
  // A streamed body can go only once; whether it has started is watched so
  // that an attempt that failed before taking any of it may still be retried.
  const stream = streamOf(body);
  if (stream !== null) body = stream.body;
  const preloadContent = options.preloadContent ?? true;
  const decodeContent = options.decodeContent ?? true;

  for (;;) {
    const target = route(url);
    let response: HTTPResponse;
    try {
      response = await target.attempt({
        method,
        path: pathOf(url),
        url: url.href,
        headers,
        body,
        timeout,
        signal,
        preloadContent,
        decodeContent,
      });
    } catch (err) {
      // An abort is the caller's decision, not a failure to retry; errors of
      // the pool itself (closed, no connection free in time, another host)
      // and of the caller's input are not the network's, and are thrown as
      // they are, as urllib3 does.
      if (signal?.aborted === true || !(isConnectError(err) || isReadError(err) || err instanceof TLSError)) throw err;
      // A streamed body that has started to go cannot go again, whatever
      // the error (even a refused stream took some of it).
      if (stream !== null && stream.started) throw err;
      retries = retries.increment({ method, url: url.href, error: err as Error });
      debug("Retrying (%s) after connection broken by '%s': %s", retries.toString(), (err as Error).name, url.pathname);
      await retries.sleep(null, signal);
      continue;
    }

    const location = followRedirects ? response.getRedirectLocation() : false;
    if (typeof location === 'string' && location.length > 0) {
      let next: Retry;
      try {
        next = retries.increment({ method, url: url.href, response });
      } catch (err) {
        if (err instanceof MaxRetryError && !retries.raiseOnRedirect) {
          response.retries = retries;
          return response;
        }
        await response.drainConn();
        throw err;
      }
      let nextUrl: URL;
      try {
        // A relative Location is resolved against the request's URL (RFC 9110 §10.2.2).
        nextUrl = absoluteUrl(new URL(location, url));
      } catch (err) {
        response.releaseConn();
        throw err instanceof HyperwireError ? err : new LocationParseError(location);
      }
      // 301 and 302 turn a POST into a GET in practice, and 303 turns any
      // method but HEAD into GET (RFC 9110 §15.4.2-4); the body goes with
      // the method. 307 and 308 keep both (§15.4.8-9).
      const status = response.status;
      if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method !== 'HEAD' && method !== 'GET')) {
        method = 'GET';
        body = undefined;
        headers = withoutFields(headers, ['content-type', 'content-length', 'transfer-encoding']);
      } else if (stream !== null && body !== undefined) {
        response.releaseConn();
        throw new BodyNotReplayableError(`Cannot follow the ${status} redirect to ${nextUrl.href}: the request body was a stream, and it has been sent`);
      }
      if (nextUrl.origin !== url.origin) headers = withoutFields(headers, [...next.removeHeadersOnRedirect, ...CROSS_ORIGIN_DROP]);
      await response.drainConn();
      debug('Redirecting %s -> %s', url.href, nextUrl.href);
      retries = next;
      await retries.sleepForRetry(response, signal);
      url = nextUrl;
      continue;
    }

    if (mayRetryStatus(retries, response.status) && retries.isRetry(method, response.status, response.headers.has('retry-after'))) {
      let next: Retry;
      try {
        next = retries.increment({ method, url: url.href, response });
      } catch (err) {
        if (err instanceof MaxRetryError && !retries.raiseOnStatus) {
          response.retries = retries;
          return response;
        }
        await response.drainConn();
        throw err;
      }
      if (stream !== null && stream.started) {
        response.retries = retries;
        return response;
      }
      await response.drainConn();
      retries = next;
      debug('Retry: %s (status %d)', url.pathname, response.status);
      await retries.sleep(response, signal);
      continue;
    }

    response.retries = retries;
    return response;
  }
}

/** A copy of `headers` without the named fields (lower case), or `headers` itself if it has none of them. */
function withoutFields(headers: HeadersInit | undefined, names: readonly string[]): HeadersInit | undefined {
  if (headers === undefined) return undefined;
  const map = new HTTPHeaderMap(headers);
  let dropped = false;
  for (const name of names) if (map.delete(name)) dropped = true;
  return dropped ? map : headers;
}

/** A streamed body wrapped so that we know whether any of it was taken; null for a body in memory. */
function streamOf(body: RequestBody): { body: AsyncIterable<Uint8Array>; started: boolean } | null {
  if (body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array) return null;
  const source = body as AsyncIterable<Uint8Array>;
  const watched = {
    started: false,
    body: {
      [Symbol.asyncIterator]: (): AsyncIterator<Uint8Array> => {
        watched.started = true;
        return source[Symbol.asyncIterator]();
      },
    },
  };
  return watched;
}

/** Origin-form path and query of `url`, keeping a bare '?' (an empty query is still one, RFC 3986 §3.4). */
function pathOf(url: URL): string {
  if (url.search !== '') return url.pathname + url.search;
  const href = url.href;
  const hash = href.indexOf('#');
  return href.charCodeAt((hash < 0 ? href.length : hash) - 1) === 0x3f ? `${url.pathname}?` : url.pathname;
}

/** Statuses Retry-After may ask a retry for (urllib3's RETRY_AFTER_STATUS_CODES). */
const RETRY_AFTER = new Set([413, 429, 503]);

/** A cheap first look: could this status be retried at all? (Most responses are not.) */
function mayRetryStatus(retries: Retry, status: number): boolean {
  return retries.statusForcelist.has(status) || RETRY_AFTER.has(status);
}

/** `retries: false`, with and without redirects. */
const NO_RETRIES = Retry.fromInt(false, { redirect: true });
const NO_RETRIES_NO_REDIRECTS = Retry.fromInt(false, { redirect: false });
