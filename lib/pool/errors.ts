/**
 * The pool layer's errors, by urllib3's names, in the one HyperwireError
 * hierarchy. The connection layers' errors (ConnectionError,
 * NewConnectionError, ConnectTimeoutError, ReadTimeoutError, ProxyError,
 * TLSError/SSLError, DecodeError, ProtocolError) live in common/errors.ts
 * and are used here as they are.
 */

import { HyperwireError, type HyperwireErrorOptions } from '../common/errors.js';

/** Something went wrong with a connection pool itself. */
export class PoolError extends HyperwireError {
  constructor(code: string, message: string, options: HyperwireErrorOptions = {}) {
    super(code, message, { scope: 'connection', ...options });
  }
}

/**
 * A blocking pool (`block: true`) had no connection free and could open no
 * more within `poolTimeout` (urllib3's `pool_timeout`).
 */
export class EmptyPoolError extends PoolError {
  constructor(message: string, options: HyperwireErrorOptions = {}) {
    super('HW_ERR_EMPTY_POOL', message, options);
  }
}

/** The pool was closed: it takes no new requests. */
export class ClosedPoolError extends PoolError {
  constructor(message: string, options: HyperwireErrorOptions = {}) {
    super('HW_ERR_CLOSED_POOL', message, options);
  }
}

/**
 * The retries a request was allowed ran out. `reason` is the last error
 * (or a {@link ResponseError} when the last attempt got a status the
 * `Retry` retries on); `url` is the URL of that attempt.
 */
export class MaxRetryError extends HyperwireError {
  readonly url: string;
  readonly reason: Error | null;
  constructor(url: string, reason: Error | null, options: Omit<HyperwireErrorOptions, 'cause'> = {}) {
    super('HW_ERR_MAX_RETRY', `Max retries exceeded with url: ${url}${reason === null ? '' : ` (caused by ${reason.name}: ${reason.message})`}`, {
      ...options,
      cause: reason ?? undefined,
    });
    this.url = url;
    this.reason = reason;
  }
}

/**
 * A pool was asked for a URL of another origin (`assertSameHost`, the
 * default for a pool's own urlopen).
 */
export class HostChangedError extends HyperwireError {
  readonly url: string;
  /** The retries left when it happened (a `Retry`, or a plain number). */
  readonly retries: unknown;
  constructor(url: string, retries: unknown, message = `Tried to open a foreign host with url: ${url}`) {
    super('HW_ERR_HOST_CHANGED', message);
    this.url = url;
    this.retries = retries;
  }
}

/** A URL or host that cannot be used: missing host, bad port, bad scheme. */
export class LocationValueError extends HyperwireError {
  constructor(message: string, code = 'HW_ERR_LOCATION_VALUE', options: HyperwireErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A URL that cannot be parsed. `location` is the text as given. */
export class LocationParseError extends LocationValueError {
  readonly location: string;
  constructor(location: string, detail?: string) {
    super(`Failed to parse: ${location}${detail === undefined ? '' : ` (${detail})`}`, 'HW_ERR_LOCATION_PARSE');
    this.location = location;
  }
}

/**
 * Used as a {@link MaxRetryError}'s reason when the retries ran out on
 * responses, not on errors: too many redirects, or too many responses with
 * a status in `statusForcelist`.
 */
export class ResponseError extends HyperwireError {
  /** The last status received. */
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super('HW_ERR_RESPONSE', message, { scope: 'stream' });
    this.status = status;
  }

  static readonly GENERIC_ERROR = 'too many error responses';
  static readonly SPECIFIC_ERROR = 'too many {status_code} error responses';
}
