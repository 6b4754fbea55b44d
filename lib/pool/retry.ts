/**
 * Retry: how many times, and after how long, a pool tries a request again.
 *
 * The semantics are urllib3 1.25's `urllib3.util.retry.Retry`, with names in
 * camelCase and every duration in milliseconds. A `Retry` is immutable:
 * {@link Retry.increment} returns a new one with its counters lowered and the
 * attempt appended to {@link Retry.history}, so one `Retry` can be shared as a
 * pool's default and reused for every request.
 *
 * The pool's loop, in outline:
 *
 * ```ts
 * let retries = Retry.fromInt(options.retries, { redirect: options.redirect });
 * for (;;) {
 *   let response;
 *   try {
 *     response = await attempt();
 *   } catch (err) {
 *     // only errors of the exchange (see isConnectError, isReadError; a
 *     // TLSError counts too); an abort or the pool's own errors are thrown
 *     retries = retries.increment({ method, url, error: err as Error }); // throws when out
 *     await retries.sleep(undefined, signal);
 *     continue;
 *   }
 *   // redirect: retries.increment({ method, url, response }); await retries.sleepForRetry(response, signal)
 *   // status:   if (retries.isRetry(method, response.status, hasRetryAfter)) { increment; await retries.sleep(response, signal) }
 *   return response;
 * }
 * ```
 */

import {
  ConnectionError,
  ConnectTimeoutError,
  HPACKDecodingError,
  HTTP11Error,
  HyperwireError,
  NewConnectionError,
  ProtocolError,
  ProxyError,
  StreamRefusedError,
  StreamResetError,
  TimeoutError,
} from '../common/errors.js';
import { MaxRetryError, ResponseError } from './errors.js';

/**
 * Statuses whose Retry-After is honoured by {@link Retry.sleep} and can
 * make {@link Retry.isRetry} say yes without `statusForcelist`: 413 Content
 * Too Large, 429 Too Many Requests and 503 Service Unavailable, the
 * statuses RFC 9110 §15.5.14, RFC 6585 §4 and RFC 9110 §15.6.4 pair with
 * Retry-After.
 */
export const RETRY_AFTER_STATUS_CODES: readonly number[] = Object.freeze([413, 429, 503]);

/**
 * The methods retried by default (urllib3's `DEFAULT_METHOD_WHITELIST`):
 * the idempotent methods of RFC 9110 §9.2.2, which can be sent again
 * without changing the result. A read error on any other method (POST,
 * PATCH) is not retried, since the server may have acted on the request.
 */
export const DEFAULT_ALLOWED_METHODS: readonly string[] = Object.freeze(['HEAD', 'GET', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);

/**
 * Request header fields dropped when a redirect is followed (urllib3's
 * `DEFAULT_REDIRECT_HEADERS_BLACKLIST`), lowercased: credentials must not
 * leak to wherever a Location points.
 */
export const DEFAULT_REMOVE_HEADERS_ON_REDIRECT: readonly string[] = Object.freeze(['authorization']);

/** The default cap on a computed backoff, in ms (urllib3's `BACKOFF_MAX`, 120 s). */
export const BACKOFF_MAX = 120_000;

/**
 * The default cap on a wait asked for by Retry-After, in ms (6 hours, the
 * value urllib3 2 adopted): without one, a server could park a request for
 * ever with one header.
 */
export const DEFAULT_RETRY_AFTER_MAX = 21_600_000;

/** The statuses that are redirects when they carry a Location (RFC 9110 §15.4). */
const REDIRECT_STATUSES: readonly number[] = [301, 302, 303, 307, 308];

/** The longest delay Node's timers take; longer ones fire after 1 ms. */
const MAX_TIMER_DELAY = 2_147_483_647;

/**
 * One attempt that ended in {@link Retry.increment}: what was asked, and
 * what went wrong or where it was redirected.
 */
export interface RequestHistory {
  /** The request method. */
  readonly method: string;
  /** The URL of the attempt. */
  readonly url: string;
  /** The error the attempt failed with, or null if a response came. */
  readonly error: Error | null;
  /** The response status, for a redirect or a status retry; null otherwise. */
  readonly status: number | null;
  /** Where a redirect pointed; null when the attempt was not a redirect. */
  readonly redirectLocation: string | null;
}

/**
 * What {@link Retry} needs from a response: its status and a way to read a
 * header field. `HTTPHeaderMap` (its `get` returns every value), a WHATWG
 * `Headers` (`string | null`) and a plain `Map` all fit `headers`.
 *
 * `getRedirectLocation`, when present, decides whether the response is a
 * redirect (urllib3's `get_redirect_location`: a non-empty string means
 * yes). Without it the response is a redirect when its status is 301, 302,
 * 303, 307 or 308 and it has a non-empty Location field.
 */
export interface RetryResponse {
  /** The status code. */
  readonly status: number;
  /** The header fields, looked up case-insensitively by the implementation. */
  readonly headers: { get(name: string): readonly string[] | string | null | undefined };
  /** The redirect target, or a falsy value when the response is not a redirect. */
  getRedirectLocation?(): string | false | null | undefined;
}

/** A retry counter: a number of retries left, null for no separate limit, false to disable. */
export type RetryCount = number | false | null;

/** The options of {@link Retry}; every one has urllib3's default. */
export interface RetryOptions {
  /**
   * Retries of any kind allowed; takes precedence over the other counts.
   * Default 10. `null`: no overall limit (the other counts still apply).
   * `0`: fail on the first retry. `false`: retries off; an error is thrown
   * as it is, unwrapped, and redirects are not followed
   * (`raiseOnRedirect` becomes false).
   */
  total?: number | false | null | undefined;
  /**
   * Retries on errors raised before the request reached the server (see
   * {@link isConnectError}); safe whatever the method. `false`: such an
   * error is thrown unwrapped.
   */
  connect?: RetryCount | undefined;
  /**
   * Retries on errors raised after the request was sent (see
   * {@link isReadError}); only for methods in `allowedMethods`, since the
   * server may have acted. `false`: such an error is thrown unwrapped.
   */
  read?: RetryCount | undefined;
  /**
   * Redirects to follow (301, 302, 303, 307, 308). `false`: none, and
   * `raiseOnRedirect` becomes false, so the 3xx is returned.
   */
  redirect?: RetryCount | undefined;
  /** Retries on responses whose status is in `statusForcelist`. */
  status?: number | null | undefined;
  /**
   * Methods (compared in upper case) that read errors and status retries
   * apply to. Default {@link DEFAULT_ALLOWED_METHODS}. `false`, or an empty
   * collection, allows every method (urllib3 treats any falsy whitelist so).
   */
  allowedMethods?: Iterable<string> | false | undefined;
  /** Statuses to retry on, for methods in `allowedMethods`. Default none. */
  statusForcelist?: Iterable<number> | null | undefined;
  /**
   * Backoff in ms: before a retry after n consecutive failed attempts
   * (n ≥ 2) {@link Retry.sleep} waits `backoffFactor * 2^(n-1)` ms, at most
   * `backoffMax`. Default 0 (no backoff).
   */
  backoffFactor?: number | undefined;
  /** The cap on a computed backoff, in ms. Default {@link BACKOFF_MAX} (120 s). */
  backoffMax?: number | undefined;
  /**
   * The cap on a Retry-After wait, in ms. Default
   * {@link DEFAULT_RETRY_AFTER_MAX} (6 h). Not in urllib3 1.25, which has no cap.
   */
  retryAfterMax?: number | undefined;
  /** When redirects run out: throw {@link MaxRetryError} (true) or return the 3xx. Default true. */
  raiseOnRedirect?: boolean | undefined;
  /** When status retries run out: throw {@link MaxRetryError} (true) or return the response. Default true. */
  raiseOnStatus?: boolean | undefined;
  /** The attempts so far, oldest first. Default none. */
  history?: readonly RequestHistory[] | undefined;
  /** Whether to wait as Retry-After asks on 413, 429 and 503. Default true. */
  respectRetryAfterHeader?: boolean | undefined;
  /**
   * Request header fields to drop when following a redirect (compared in
   * lower case). Default {@link DEFAULT_REMOVE_HEADERS_ON_REDIRECT}.
   */
  removeHeadersOnRedirect?: Iterable<string> | undefined;
}

/** What one failed attempt hands to {@link Retry.increment}. */
export interface RetryIncrement {
  /** The request method. */
  method: string;
  /** The URL of the attempt (it becomes {@link MaxRetryError.url}). */
  url: string;
  /** The response, for a redirect or a status retry. */
  response?: RetryResponse | null | undefined;
  /** The error, when the attempt failed without a usable response. */
  error?: Error | null | undefined;
}

/** The options of {@link Retry.fromInt}. */
export interface FromIntOptions {
  /**
   * Whether redirects are followed: truthy (the default) leaves them
   * limited only by `total`; falsy disables them, as `redirect: false`.
   * A number is read for its truth only, as urllib3's `bool(redirect)`.
   */
  redirect?: boolean | number | undefined;
  /** Used when `retries` is null or undefined; defaults to {@link Retry.DEFAULT}. */
  default?: Retry | number | false | null | undefined;
}

/**
 * A Retry-After field that is neither delay-seconds nor an HTTP-date
 * (RFC 9110 §10.2.3); urllib3's `InvalidHeader`.
 */
export class InvalidHeader extends HyperwireError {
  /** The field value as received. */
  readonly value: string;
  constructor(message: string, value: string) {
    super('HW_ERR_INVALID_HEADER', message, { scope: 'stream' });
    this.value = value;
  }
}

/**
 * True for an error raised before the request reached the server, so that
 * sending it again cannot repeat any effect (urllib3's
 * `_is_connection_error`); such errors count against `connect` and are
 * retried whatever the method:
 *
 * - {@link NewConnectionError}: the connect itself failed;
 * - {@link ConnectTimeoutError}: the connect took too long;
 * - {@link ProxyError}: the proxy refused the tunnel, so the origin never
 *   saw the request;
 * - {@link StreamRefusedError}: an HTTP/2 stream the server did not process
 *   (REFUSED_STREAM, or above a GOAWAY's last-stream-id), which RFC 9113
 *   §8.7 makes safe to retry whatever the method.
 *
 * A TLS failure (`TLSError`) is not one: urllib3 counts an SSLError
 * against `total` only (neither `connect` nor `read`), and so does
 * {@link Retry.increment} here.
 */
export function isConnectError(err: unknown): boolean {
  return (
    err instanceof NewConnectionError ||
    err instanceof ConnectTimeoutError ||
    err instanceof ProxyError ||
    err instanceof StreamRefusedError
  );
}

/**
 * True for an error raised after the request was (or may have been) sent,
 * so the server may have acted on it (urllib3's `_is_read_error`); such
 * errors count against `read` and are retried only for methods in
 * `allowedMethods`:
 *
 * - `ReadTimeoutError` and any other {@link TimeoutError} that is not
 *   a connect timeout;
 * - {@link ConnectionError} other than {@link NewConnectionError}: the
 *   connection died under the request (urllib3 wraps such socket errors in
 *   its ProtocolError, "Connection aborted.");
 * - {@link ProtocolError}, {@link HPACKDecodingError},
 *   {@link StreamResetError} (not a refusal) and {@link HTTP11Error}: the
 *   peer broke the protocol or reset the stream mid-exchange.
 *
 * A `DecodeError` is not one: urllib3 does not retry a body it could
 * not decode, as the same bytes would come again. Nor is a
 * `HPACKEncodingError`, which is our own refusal to send.
 */
export function isReadError(err: unknown): boolean {
  if (isConnectError(err)) return false;
  return (
    err instanceof TimeoutError ||
    err instanceof ConnectionError ||
    err instanceof ProtocolError ||
    err instanceof HPACKDecodingError ||
    err instanceof StreamResetError ||
    err instanceof HTTP11Error
  );
}

/** `value` as a count, or a TypeError/RangeError naming `what`. */
function countOf(value: unknown, what: string, allowFalse: boolean): number | false | null {
  if (value === undefined || value === null) return null;
  if (value === false && allowFalse) return false;
  if (typeof value !== 'number') throw new TypeError(`Retry ${what} must be an integer${allowFalse ? ', false' : ''} or null, got ${typeof value}`);
  if (!Number.isInteger(value)) throw new RangeError(`Retry ${what} must be an integer, got ${value}`);
  return value;
}

/** `value` as a duration in ms (≥ 0), or the default. */
function durationOf(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`Retry ${what} must be a number of milliseconds, got ${typeof value}`);
  if (Number.isNaN(value) || value < 0) throw new RangeError(`Retry ${what} must be 0 or more milliseconds, got ${value}`);
  return value;
}

/** A count minus one, `false` counting as 0 as urllib3's `False - 1` does. */
function decrement(count: number | false | null): number | null {
  return count === null ? null : (count === false ? 0 : count) - 1;
}

/** A header field's value as one string (values joined by ", "), or null when absent. */
function fieldValue(response: RetryResponse, name: string): string | null {
  const got = response.headers.get(name);
  if (got === null || got === undefined) return null;
  if (typeof got === 'string') return got;
  return got.length === 0 ? null : got.join(', ');
}

/** Where a redirect response points, or null when it is not a redirect. */
function redirectLocationOf(response: RetryResponse): string | null {
  if (typeof response.getRedirectLocation === 'function') {
    const location = response.getRedirectLocation();
    return typeof location === 'string' && location !== '' ? location : null;
  }
  if (!REDIRECT_STATUSES.includes(response.status)) return null;
  const location = fieldValue(response, 'location');
  return location === null || location === '' ? null : location;
}

/** A count as urllib3's repr shows it. */
function show(count: number | false | null): string {
  return count === null ? 'null' : String(count);
}

/**
 * Retry configuration, as urllib3 1.25's `Retry` (durations in ms).
 *
 * ```ts
 * const retries = new Retry({ connect: 5, read: 2, redirect: 5 });
 * const backoff = new Retry({ total: 5, backoffFactor: 100, statusForcelist: [502, 503, 504] });
 * ```
 *
 * Each call to {@link increment} returns a new `Retry`; this one is never
 * changed, so it can be shared by every request of a pool.
 */
export class Retry {
  /** The retries a pool makes when told nothing: `total: 3`, as urllib3's `Retry.DEFAULT`. */
  static readonly DEFAULT: Retry = new Retry({ total: 3 });
  static {
    // Shared by every pool that is told nothing: nobody may change it.
    Object.freeze(Retry.DEFAULT);
  }

  /** Retries of any kind left; null: no overall limit; false: retries off. */
  readonly total: number | false | null;
  /** Connect-error retries left; null: limited only by `total`; false: off. */
  readonly connect: number | false | null;
  /** Read-error retries left; null: limited only by `total`; false: off. */
  readonly read: number | false | null;
  /** Redirects left; null: limited only by `total` (`false` is stored as 0). */
  readonly redirect: number | null;
  /** Status retries left; null: limited only by `total`. */
  readonly status: number | null;
  /** The methods read errors and status retries apply to (upper case); false: every method. */
  readonly allowedMethods: ReadonlySet<string> | false;
  /** The statuses retried for allowed methods. */
  readonly statusForcelist: ReadonlySet<number>;
  /** Backoff factor in ms; see {@link getBackoffTime}. */
  readonly backoffFactor: number;
  /** Cap on a computed backoff, in ms. */
  readonly backoffMax: number;
  /** Cap on a Retry-After wait, in ms. */
  readonly retryAfterMax: number;
  /** Whether running out of redirects throws (true) or returns the 3xx. */
  readonly raiseOnRedirect: boolean;
  /** Whether running out of status retries throws (true) or returns the response. */
  readonly raiseOnStatus: boolean;
  /** The attempts so far, oldest first. */
  readonly history: readonly RequestHistory[];
  /** Whether Retry-After is honoured on 413, 429 and 503. */
  readonly respectRetryAfterHeader: boolean;
  /** Request header fields dropped on a redirect, lower case. */
  readonly removeHeadersOnRedirect: ReadonlySet<string>;

  /**
   * @throws TypeError / RangeError when a count is not an integer (or
   *   `false` where allowed) or null, or a duration is negative or NaN.
   */
  constructor(options: RetryOptions = {}) {
    const total = options.total === undefined ? 10 : countOf(options.total, 'total', true);
    let redirect = countOf(options.redirect, 'redirect', true);
    let raiseOnRedirect = options.raiseOnRedirect ?? true;
    // urllib3: turning retries (or redirects) off means a 3xx is handed back
    // to the caller rather than raised.
    if (redirect === false || total === false) {
      redirect = 0;
      raiseOnRedirect = false;
    }
    this.total = total;
    this.connect = countOf(options.connect, 'connect', true);
    this.read = countOf(options.read, 'read', true);
    this.redirect = redirect;
    this.status = countOf(options.status, 'status', false) as number | null;

    const allowed = options.allowedMethods ?? DEFAULT_ALLOWED_METHODS;
    if (allowed === false) {
      this.allowedMethods = false;
    } else {
      const methods = new Set<string>();
      for (const m of allowed) methods.add(m.toUpperCase());
      // urllib3 tests the whitelist for truth, so an empty one allows all.
      this.allowedMethods = methods.size === 0 ? false : methods;
    }
    this.statusForcelist = new Set(options.statusForcelist ?? []);
    this.backoffFactor = durationOf(options.backoffFactor, 'backoffFactor', 0);
    this.backoffMax = durationOf(options.backoffMax, 'backoffMax', BACKOFF_MAX);
    this.retryAfterMax = durationOf(options.retryAfterMax, 'retryAfterMax', DEFAULT_RETRY_AFTER_MAX);
    this.raiseOnRedirect = raiseOnRedirect;
    this.raiseOnStatus = options.raiseOnStatus ?? true;
    this.history = Object.freeze([...(options.history ?? [])]);
    this.respectRetryAfterHeader = options.respectRetryAfterHeader ?? true;
    const remove = new Set<string>();
    for (const name of options.removeHeadersOnRedirect ?? DEFAULT_REMOVE_HEADERS_ON_REDIRECT) remove.add(name.toLowerCase());
    this.removeHeadersOnRedirect = remove;
  }

  /**
   * A `Retry` from a pool's or a request's `retries` option (urllib3's
   * `from_int`): a `Retry` is returned as it is; a number becomes
   * `total`; `false` turns retries off; null or undefined takes
   * `options.default`, else {@link Retry.DEFAULT}.
   */
  static fromInt(retries: Retry | number | false | null | undefined, options: FromIntOptions = {}): Retry {
    let value: Retry | number | false | null | undefined = retries;
    if (value === null || value === undefined) value = options.default ?? Retry.DEFAULT;
    if (value instanceof Retry) return value;
    // urllib3: `redirect = bool(redirect) and None`.
    const followRedirects = Boolean(options.redirect ?? true);
    return new Retry({ total: value, redirect: followRedirects ? null : false });
  }

  /**
   * A copy with some options replaced (urllib3's `new`). An override that
   * is `undefined` is ignored; pass `null` to lift a limit.
   */
  clone(overrides: RetryOptions = {}): this {
    const params: RetryOptions = {
      total: this.total,
      connect: this.connect,
      read: this.read,
      redirect: this.redirect,
      status: this.status,
      allowedMethods: this.allowedMethods,
      statusForcelist: this.statusForcelist,
      backoffFactor: this.backoffFactor,
      backoffMax: this.backoffMax,
      retryAfterMax: this.retryAfterMax,
      raiseOnRedirect: this.raiseOnRedirect,
      raiseOnStatus: this.raiseOnStatus,
      history: this.history,
      respectRetryAfterHeader: this.respectRetryAfterHeader,
      removeHeadersOnRedirect: this.removeHeadersOnRedirect,
    };
    for (const [key, value] of Object.entries(overrides)) {
      if (value !== undefined) (params as Record<string, unknown>)[key] = value;
    }
    const Ctor = this.constructor as new (options: RetryOptions) => this;
    return new Ctor(params);
  }

  /** urllib3's name for {@link clone}. */
  new(overrides: RetryOptions = {}): this {
    return this.clone(overrides);
  }

  /**
   * The backoff before the next retry, in ms: 0 after fewer than two
   * consecutive failed attempts, else `backoffFactor * 2^(n-1)` for n
   * consecutive ones, at most `backoffMax`. Consecutive means the trailing
   * history entries that are not redirects: a redirect is not a failure.
   * With `backoffFactor: 100` the waits are 0, 200, 400, 800 ... ms.
   */
  getBackoffTime(): number {
    let consecutive = 0;
    for (let i = this.history.length - 1; i >= 0 && this.history[i]!.redirectLocation === null; i--) consecutive++;
    if (consecutive <= 1) return 0;
    return Math.min(this.backoffMax, this.backoffFactor * 2 ** (consecutive - 1));
  }

  /**
   * A Retry-After value as a wait in ms (RFC 9110 §10.2.3): delay-seconds
   * (`120`) or an HTTP-date in any of the three forms of RFC 9110 §5.6.7,
   * measured against `Date.now()`. A date in the past gives 0; the result
   * is at most `retryAfterMax`.
   *
   * @throws InvalidHeader when the value is neither form.
   */
  parseRetryAfter(value: string): number {
    let ms: number;
    // delay-seconds = 1*DIGIT; OWS around a field value is not part of it (RFC 9110 §5.5).
    const seconds = /^[ \t]*([0-9]+)[ \t]*$/.exec(value);
    if (seconds !== null) {
      ms = Number(seconds[1]) * 1000;
    } else {
      const date = parseHttpDate(value.replace(/^[ \t]+|[ \t]+$/g, ''));
      if (date === null) throw new InvalidHeader(`Invalid Retry-After header: ${value}`, value);
      ms = date - Date.now();
    }
    return Math.min(Math.max(ms, 0), this.retryAfterMax);
  }

  /**
   * The wait a response's Retry-After asks for, in ms, or null when it has
   * none. Several field lines are joined by ", " first, which no valid
   * value contains: Retry-After is a singleton field.
   *
   * @throws InvalidHeader when the value cannot be parsed.
   */
  getRetryAfter(response: RetryResponse): number | null {
    const value = fieldValue(response, 'retry-after');
    return value === null ? null : this.parseRetryAfter(value);
  }

  /**
   * Waits as the response's Retry-After asks, whatever its status (the
   * pool calls this before following a redirect, where Retry-After is the
   * minimum wait, RFC 9110 §10.2.3). Resolves true if it waited, false if
   * there was nothing (or 0) to wait for.
   *
   * @throws InvalidHeader (as a rejection) when Retry-After cannot be parsed.
   * Rejects with `signal.reason` when the signal aborts.
   */
  async sleepForRetry(response: RetryResponse, signal?: AbortSignal): Promise<boolean> {
    signal?.throwIfAborted();
    const wait = this.getRetryAfter(response);
    if (wait === null || wait <= 0) return false;
    await delay(wait, signal);
    return true;
  }

  /**
   * Waits before the next attempt: as Retry-After asks when
   * `respectRetryAfterHeader` is on and the response is a 413, 429 or 503
   * with a positive Retry-After; otherwise for {@link getBackoffTime} ms
   * (by default 0, so it resolves at once).
   *
   * The timer keeps the process alive while it runs (a retry the program
   * awaits is pending work) and is cleared when `signal` aborts, so an
   * abandoned wait holds nothing open.
   *
   * @throws InvalidHeader (as a rejection) when Retry-After cannot be parsed.
   * Rejects with `signal.reason` when the signal is or becomes aborted.
   */
  async sleep(response?: RetryResponse | null, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.respectRetryAfterHeader && response != null && RETRY_AFTER_STATUS_CODES.includes(response.status)) {
      if (await this.sleepForRetry(response, signal)) return;
    }
    await delay(this.getBackoffTime(), signal);
  }

  /** Whether read errors and status retries apply to `method` (urllib3's `_is_method_retryable`). */
  private isMethodRetryable(method: string): boolean {
    return this.allowedMethods === false || this.allowedMethods.has(method.toUpperCase());
  }

  /**
   * Whether a response with this method and status should be retried:
   * the method must be allowed, and the status either in
   * `statusForcelist`, or a 413, 429 or 503 carrying Retry-After
   * (`hasRetryAfter`) while `respectRetryAfterHeader` is on and retries
   * are not off (`total` neither `false` nor 0).
   */
  isRetry(method: string, status: number, hasRetryAfter = false): boolean {
    if (!this.isMethodRetryable(method)) return false;
    if (this.statusForcelist.has(status)) return true;
    // urllib3 writes `self.total and ...`, which a null total also fails;
    // but its docs say null removes the overall limit, and the Retry-After
    // path is only meant to be shut when retries are off or spent.
    const retriesOn = this.total !== false && this.total !== 0;
    return retriesOn && this.respectRetryAfterHeader && hasRetryAfter && RETRY_AFTER_STATUS_CODES.includes(status);
  }

  /** Whether any counter that is set (non-null, non-false, non-zero) has gone below 0. */
  isExhausted(): boolean {
    let min = Infinity;
    for (const count of [this.total, this.connect, this.read, this.redirect, this.status]) {
      // urllib3 filters the counts for truth: null, false and 0 drop out.
      if (typeof count === 'number' && count !== 0 && count < min) min = count;
    }
    return min < 0;
  }

  /**
   * Counts one failed attempt and returns the `Retry` for the next one
   * (this one is unchanged). The attempt is classified as urllib3 does:
   *
   * 1. `total: false` and an error: the error is thrown as it is.
   * 2. A connect error ({@link isConnectError}): counts against `connect`
   *    (thrown as it is if `connect` is false).
   * 3. A read error ({@link isReadError}): counts against `read`; thrown
   *    as it is if `read` is false or the method is not allowed, since the
   *    server may have acted on it.
   * 4. A response that is a redirect: counts against `redirect`, and its
   *    location is recorded in the history.
   * 5. Anything else (a status retry, or another error such as a TLS
   *    failure): a response counts against `status`; an error against
   *    `total` only.
   *
   * Every attempt counts against `total` too.
   *
   * @throws MaxRetryError when a counter goes below 0; its `reason` is the
   *   error, or a {@link ResponseError} ("too many redirects", "too many
   *   503 error responses") when the attempt got a response.
   * @throws the `error` itself in cases 1 to 3 above.
   */
  increment(attempt: RetryIncrement): this {
    const { method, url } = attempt;
    const response = attempt.response ?? null;
    const error = attempt.error ?? null;
    if (this.total === false && error !== null) throw error;

    const total = decrement(this.total);
    let connect = this.connect;
    let read = this.read;
    let redirect = this.redirect;
    let statusCount = this.status;
    let cause = 'unknown';
    let status: number | null = null;
    let redirectLocation: string | null = null;

    if (error !== null && isConnectError(error)) {
      if (connect === false) throw error;
      connect = decrement(connect);
    } else if (error !== null && isReadError(error)) {
      if (read === false || !this.isMethodRetryable(method)) throw error;
      read = decrement(read);
    } else if (response !== null && (redirectLocation = redirectLocationOf(response)) !== null) {
      redirect = decrement(redirect);
      cause = 'too many redirects';
      status = response.status;
    } else {
      cause = ResponseError.GENERIC_ERROR;
      if (response !== null && response.status) {
        statusCount = decrement(statusCount);
        cause = ResponseError.SPECIFIC_ERROR.replace('{status_code}', String(response.status));
        status = response.status;
      }
    }

    const entry: RequestHistory = Object.freeze({ method, url, error, status, redirectLocation });
    const next = this.clone({ total, connect, read, redirect, status: statusCount, history: [...this.history, entry] });
    if (next.isExhausted()) throw new MaxRetryError(url, error ?? new ResponseError(cause, status ?? undefined));
    return next;
  }

  /** urllib3's repr: `Retry(total=3, connect=null, read=null, redirect=null, status=null)`. */
  toString(): string {
    return `${this.constructor.name}(total=${show(this.total)}, connect=${show(this.connect)}, read=${show(this.read)}, redirect=${show(this.redirect)}, status=${show(this.status)})`;
  }
}

/**
 * Resolves after `ms` ms, or rejects with `signal.reason` when it aborts;
 * the timer and the listener are removed either way. Waits longer than
 * Node's timers take are made of several timers.
 */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(signal.reason);
  if (!(ms > 0)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let left = ms;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const arm = (): void => {
      const step = Math.min(left, MAX_TIMER_DELAY);
      left -= step;
      timer = setTimeout(() => {
        if (left > 0) return arm();
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, step);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const DAY_LONG = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(?<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(?<hour>\\d{2}):(?<minute>\\d{2}):(?<second>\\d{2})';
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
// The three HTTP-date forms of RFC 9110 §5.6.7, which a recipient must all
// accept. Names are matched without regard to case: leniency here costs
// nothing worse than a wait.
const IMF_FIXDATE = new RegExp(`^${DAY}, (?<day>\\d{2}) ${MONTH} (?<year>\\d{4}) ${TIME} GMT$`, 'i');
const RFC850_DATE = new RegExp(`^${DAY_LONG}, (?<day>\\d{2})-${MONTH}-(?<year>\\d{2}) ${TIME} GMT$`, 'i');
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} (?<day> \\d|\\d{2}) ${TIME} (?<year>\\d{4})$`, 'i');

/** An HTTP-date (RFC 9110 §5.6.7) as ms since the epoch, or null if it is not one. */
function parseHttpDate(text: string): number | null {
  const fields = (IMF_FIXDATE.exec(text) ?? ASCTIME_DATE.exec(text))?.groups;
  const rfc850 = fields === undefined ? RFC850_DATE.exec(text)?.groups : undefined;
  const f = fields ?? rfc850;
  if (f === undefined) return null;
  let year = Number(f['year']);
  if (rfc850 !== undefined) {
    // RFC 9110 §5.6.7: a two-digit year that would be more than 50 years in
    // the future is the most recent past year with those last two digits.
    const now = new Date(Date.now()).getUTCFullYear();
    year += Math.floor(now / 100) * 100;
    if (year > now + 50) year -= 100;
  }
  const month = MONTHS.indexOf(f['month']!.toLowerCase());
  const day = Number(f['day']!.trim());
  const hour = Number(f['hour']);
  const minute = Number(f['minute']);
  const second = Number(f['second']);
  // time-of-day runs to 23:59:60, a leap second (RFC 9110 §5.6.7).
  if (hour > 23 || minute > 59 || second > 60) return null;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  date.setUTCFullYear(year, month, day);
  // A day past the end of its month (31 Feb) rolls over into the next one.
  if (day < 1 || date.getUTCDate() !== day) return null;
  date.setUTCHours(hour, minute, second);
  return date.getTime();
}
