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

/** Where an attempt's outcome goes when it is handed on rather than returned. */
export interface AttemptOutcome<T> {
  /** The response (preloaded); what it returns is the request's result. */
  onResponse(response: HTTPResponse): T | Promise<T>;
  /** What failed; what it returns is the request's result. */
  onError(error: unknown): Promise<T>;
}

/** Where one attempt of a request goes. */
export interface AttemptTarget {
  attempt(req: AttemptRequest): Promise<HTTPResponse>;
  /**
   * The attempt with its outcome handed on, when it can go at once; null
   * (nothing done) when it cannot. See `HTTPConnectionPool.attemptNow`.
   */
  attemptNow?<T>(req: AttemptRequest, outcome: AttemptOutcome<T>): Promise<T> | null;
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
export function urlopenWithRetries(route: (url: URL) => AttemptTarget, method: string, url: URL, options: UrlopenOptions, defaults: UrlopenDefaults): Promise<HTTPResponse> {
  let exchange: Exchange;
  let target: AttemptTarget;
  try {
    exchange = new Exchange(route, method, url, options, defaults);
    target = route(url);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  // Most requests go at once and are answered with no redirect or retry:
  // the first attempt then hands its outcome straight to the exchange.
  return target.attemptNow?.(exchange.request(), exchange) ?? exchange.run(target);
}

/**
 * One request through its attempts: what it asks for now (it is the
 * request each attempt is given, updated between attempts), and the
 * retries left.
 */
class Exchange implements AttemptOutcome<HTTPResponse>, AttemptRequest {
  method: string;
  /** Origin-form path and query of {@link target}. */
  path = '';
  /** {@link target}'s href. */
  url = '';
  headers: HeadersInit | undefined;
  body: RequestBody;
  readonly timeout: Timeout;
  readonly signal: AbortSignal | undefined;
  readonly preloadContent: boolean;
  readonly decodeContent: boolean;
  /** Where the request goes now. */
  private target: URL;
  private retries: Retry;
  private readonly followRedirects: boolean;
  /**
   * A streamed body can go only once; whether it has started is watched so
   * that an attempt that failed before taking any of it may still be retried.
   */
  private readonly stream: WatchedStream | null;

  constructor(
    private readonly route: (url: URL) => AttemptTarget,
    method: string,
    target: URL,
    options: UrlopenOptions,
    defaults: UrlopenDefaults,
  ) {
    if (typeof method !== 'string') throw new TypeError('method must be a string');
    this.method = method;
    this.target = target;
    const followRedirects = options.redirect ?? true;
    this.followRedirects = followRedirects;
    const r = options.retries;
    // A Retry never changes (increment() makes a new one), so `false` needs no new one per request.
    this.retries = r === undefined ? defaults.retries : r === false ? (followRedirects ? NO_RETRIES : NO_RETRIES_NO_REDIRECTS) : Retry.fromInt(r, { redirect: followRedirects });
    // A Timeout is used as it is: an attempt with a total clones it for its clock.
    const t = options.timeout;
    this.timeout = t === undefined ? defaults.timeout : t instanceof Timeout ? t : Timeout.resolve(t);
    this.signal = options.signal;
    this.headers = options.headers ?? defaults.headers;
    this.body = options.body;
    this.stream = streamOf(this.body);
    if (this.stream !== null) this.body = this.stream.body;
    this.preloadContent = options.preloadContent ?? true;
    this.decodeContent = options.decodeContent ?? true;
  }

  /** The next attempt's request: this, with the path and URL of where it goes now. */
  request(): AttemptRequest {
    const target = this.target;
    const href = target.href;
    if (href !== lastHref) {
      lastHref = href;
      lastPath = pathOf(target);
    }
    this.path = lastPath;
    this.url = href;
    return this;
  }

  onResponse(response: HTTPResponse): HTTPResponse | Promise<HTTPResponse> {
    if (this.redirectTo(response) === null && !this.retriesStatus(response)) {
      response.retries = this.retries;
      return response;
    }
    return this.run(null, response);
  }

  async onError(error: unknown): Promise<HTTPResponse> {
    await this.afterError(error);
    return this.run(null);
  }

  /**
   * An attempt failed: throws the error when it is not one to retry, else
   * takes a retry (MaxRetryError when none are left) and waits its backoff.
   */
  private async afterError(err: unknown): Promise<void> {
    // An abort is the caller's decision, not a failure to retry; errors of
    // the pool itself (closed, no connection free in time, another host)
    // and of the caller's input are not the network's, and are thrown as
    // they are, as urllib3 does.
    if (this.signal?.aborted === true || !(isConnectError(err) || isReadError(err) || err instanceof TLSError)) throw err;
    // A streamed body that has started to go cannot go again, whatever
    // the error (even a refused stream took some of it).
    if (this.stream !== null && this.stream.started) throw err;
    this.retries = this.retries.increment({ method: this.method, url: this.target.href, error: err as Error });
    debug("Retrying (%s) after connection broken by '%s': %s", this.retries.toString(), (err as Error).name, this.target.pathname);
    await this.retries.sleep(null, this.signal);
  }

  /** The Location to follow from `response`, or null if it is not a redirect to follow. */
  private redirectTo(response: HTTPResponse): string | null {
    const location = this.followRedirects ? response.getRedirectLocation() : false;
    return typeof location === 'string' && location.length > 0 ? location : null;
  }

  /** Whether `response`'s status is one the retries say to try again for. */
  private retriesStatus(response: HTTPResponse): boolean {
    const status = response.status;
    return mayRetryStatus(this.retries, status) && this.retries.isRetry(this.method, status, response.headers.has('retry-after'));
  }

  /**
   * The retries after `response` (a redirect or a status to retry), or null
   * when none are left and `raise` is false: then the response stands, with
   * the retries as they were. When none are left and `raise` is true, the
   * response is drained and MaxRetryError thrown.
   */
  private async retryAfter(response: HTTPResponse, raise: boolean): Promise<Retry | null> {
    try {
      return this.retries.increment({ method: this.method, url: this.target.href, response });
    } catch (err) {
      if (err instanceof MaxRetryError && !raise) {
        response.retries = this.retries;
        return null;
      }
      await response.drainConn();
      throw err;
    }
  }

  /**
   * The attempts: the first on `target` (or where the route sends it), or
   * from `response`, the outcome of one already made.
   */
  async run(target: AttemptTarget | null, response: HTTPResponse | null = null): Promise<HTTPResponse> {
    const signal = this.signal;
    const stream = this.stream;
    for (;;) {
      if (response === null) {
        const to = target ?? this.route(this.target);
        target = null;
        try {
          response = await to.attempt(this.request());
        } catch (err) {
          await this.afterError(err);
          continue;
        }
      }
      const current = response;
      response = null;
      const url = this.target;

      const location = this.redirectTo(current);
      if (location !== null) {
        const next = await this.retryAfter(current, this.retries.raiseOnRedirect);
        if (next === null) return current;
        let nextUrl: URL;
        try {
          // A relative Location is resolved against the request's URL (RFC 9110 §10.2.2).
          nextUrl = absoluteUrl(new URL(location, url));
        } catch (err) {
          current.releaseConn();
          throw err instanceof HyperwireError ? err : new LocationParseError(location);
        }
        // 301 and 302 turn a POST into a GET in practice, and 303 turns any
        // method but HEAD into GET (RFC 9110 §15.4.2-4); the body goes with
        // the method. 307 and 308 keep both (§15.4.8-9).
        const status = current.status;
        const method = this.method;
        if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method !== 'HEAD' && method !== 'GET')) {
          this.method = 'GET';
          this.body = undefined;
          this.headers = withoutFields(this.headers, ['content-type', 'content-length', 'transfer-encoding']);
        } else if (stream !== null && this.body !== undefined) {
          current.releaseConn();
          throw new BodyNotReplayableError(`Cannot follow the ${status} redirect to ${nextUrl.href}: the request body was a stream, and it has been sent`);
        }
        // Credentials and cookies stay with their origin (RFC 9110 §15.4).
        if (nextUrl.origin !== url.origin) this.headers = withoutFields(this.headers, [...next.removeHeadersOnRedirect, ...CROSS_ORIGIN_DROP]);
        await current.drainConn();
        debug('Redirecting %s -> %s', url.href, nextUrl.href);
        this.retries = next;
        await next.sleepForRetry(current, signal);
        this.target = nextUrl;
        continue;
      }

      if (this.retriesStatus(current)) {
        const next = await this.retryAfter(current, this.retries.raiseOnStatus);
        if (next === null) return current;
        // A streamed body that has been sent cannot be sent again: the
        // response stands.
        if (stream !== null && stream.started) {
          current.retries = this.retries;
          return current;
        }
        await current.drainConn();
        this.retries = next;
        debug('Retry: %s (status %d)', url.pathname, current.status);
        await next.sleep(current, signal);
        continue;
      }

      current.retries = this.retries;
      return current;
    }
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

/** A streamed request body, and whether it has started to go. */
interface WatchedStream {
  body: AsyncIterable<Uint8Array>;
  started: boolean;
}

/** A streamed body wrapped so that we know whether any of it was taken; null for a body in memory. */
function streamOf(body: RequestBody): WatchedStream | null {
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

/**
 * The href and path of the last URL a request went to: requests to one URL
 * follow one another, and the path is built anew from URL getters each
 * time it is asked for. Keyed by the href, so a URL object changed in
 * place is read again.
 */
let lastHref = '';
let lastPath = '';

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
