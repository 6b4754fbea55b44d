/**
 * Timeout: how long one attempt at a request may wait, per phase and in
 * all.
 *
 * The semantics are urllib3 1.25's `urllib3.util.timeout.Timeout`, with
 * names in camelCase and every duration in milliseconds. A pool keeps one
 * `Timeout` as its default and takes a fresh copy for each attempt
 * ({@link Timeout.resolve} or {@link Timeout.clone}), since the copy carries
 * the attempt's start time:
 *
 * ```ts
 * const timeout = Timeout.resolve(requestOptions.timeout, pool.timeout);
 * timeout.startConnect();                       // the attempt begins
 * await dial({ timeout: timeout.connectTimeout }); // undefined: no limit
 * // before each wait for response data (head, then every body read):
 * const wait = timeout.readTimeout;             // shrinks as `total` runs down
 * if (wait === 0) throw new ReadTimeoutError('...'); // the budget is spent
 * ```
 *
 * Note that a computed timeout of 0 means "the time is up", whereas the
 * connection layers read a `timeout` of 0 as "no timeout": a pool must fail
 * at once on 0, not pass it down.
 */

import { HyperwireError } from '../common/errors.js';

/**
 * The longest wait Node's timers can make (2^31 - 1 ms, about 24.8 days);
 * a longer delay fires after 1 ms, so a longer timeout is refused.
 */
const MAX_TIMEOUT = 2_147_483_647;

/**
 * A {@link Timeout} used out of order: its clock started twice, read
 * before it started, or started on a shared instance (urllib3's
 * `TimeoutStateError`).
 */
export class TimeoutStateError extends HyperwireError {
  constructor(message: string) {
    super('HW_ERR_TIMEOUT_STATE', message);
  }
}

/**
 * Timeouts in ms. `undefined` (or absent) and `null` both mean "no limit"
 * to the constructor; {@link Timeout.resolve} reads an absent or
 * `undefined` field as "the fallback's value" and `null` as "no limit".
 */
export interface TimeoutOptions {
  /**
   * The longest a connection attempt may take (TCP, a proxy's CONNECT and
   * the TLS handshake).
   */
  connect?: number | null | undefined;
  /**
   * The longest the server may stay silent while a response (its head or
   * its body) is awaited: each wait for data, not the whole response.
   */
  read?: number | null | undefined;
  /**
   * The longest the whole attempt may take, connect and reads together;
   * where `connect` or `read` is also set, the shorter one applies.
   */
  total?: number | null | undefined;
}

/** What a pool or a request accepts as its `timeout` option. */
export type TimeoutValue = number | Timeout | TimeoutOptions | null | undefined;

/**
 * `value` as a timeout in ms, or undefined for no limit; as urllib3's
 * `_validate_timeout`, a boolean, a non-number and a value ≤ 0 are refused.
 */
function validate(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === Infinity) return undefined;
  if (typeof value === 'boolean') throw new TypeError('Timeout cannot be a boolean value. It must be a number of milliseconds or null.');
  if (typeof value !== 'number') throw new TypeError(`Timeout value ${name} was ${typeof value}, but it must be a number of milliseconds or null.`);
  if (Number.isNaN(value)) throw new RangeError(`Timeout value ${name} was NaN, but it must be a number of milliseconds or null.`);
  if (value <= 0) {
    throw new RangeError(`Attempted to set ${name} timeout to ${value}, but the timeout cannot be set to a value less than or equal to 0.`);
  }
  if (value > MAX_TIMEOUT) throw new RangeError(`Attempted to set ${name} timeout to ${value} ms, over the ${MAX_TIMEOUT} ms a timer can wait; use null for no limit.`);
  return value;
}

/** The current time on a monotonic clock, in ms: wall-clock steps must not shorten or stretch a timeout. */
function now(): number {
  return performance.now();
}

/**
 * Timeout configuration for one attempt, as urllib3 1.25's `Timeout`
 * (durations in ms).
 *
 * ```ts
 * new Timeout({ connect: 2000, read: 7000 });
 * Timeout.fromNumber(10_000);       // connect and read 10 s each
 * new Timeout({ total: 30_000 });   // the whole attempt in 30 s
 * new Timeout();                    // no limits at all
 * ```
 */
export class Timeout {
  /**
   * The timeouts a pool uses when told nothing: connect 10 s, read 300 s,
   * no total. urllib3's default is the socket default, usually no limit at
   * all; here a dead server cannot hang a request for ever. Frozen: take
   * a {@link clone} to use it.
   */
  static readonly DEFAULT: Timeout = new Timeout({ connect: 10_000, read: 300_000 });
  static {
    Object.freeze(Timeout.DEFAULT);
  }

  /** The connect timeout as set, in ms; undefined: no limit. See {@link connectTimeout}. */
  readonly connect: number | undefined;
  /** The read timeout as set, in ms; undefined: no limit. See {@link readTimeout}. */
  readonly read: number | undefined;
  /** The limit on the whole attempt, in ms; undefined: none. */
  readonly total: number | undefined;
  private startedAt: number | undefined = undefined;

  /**
   * @throws TypeError for a boolean or a non-number; RangeError for NaN, a
   *   value ≤ 0, or one over 2^31 - 1 ms. `Infinity` means no limit.
   */
  constructor(options: TimeoutOptions = {}) {
    this.connect = validate(options.connect, 'connect');
    this.read = validate(options.read, 'read');
    this.total = validate(options.total, 'total');
  }

  /**
   * The same timeout for connect and for read (urllib3's `from_float`);
   * `null` gives no limits.
   */
  static fromNumber(ms: number | null): Timeout {
    return new Timeout({ connect: ms, read: ms });
  }

  /**
   * A fresh, unstarted `Timeout` from a `timeout` option:
   *
   * - `undefined`: a copy of `fallback` (default {@link Timeout.DEFAULT});
   * - `null`: no limits (urllib3's `timeout=None`);
   * - a number: {@link fromNumber};
   * - a `Timeout`: a copy of it, used as it is;
   * - an object of {@link TimeoutOptions}: its fields over `fallback`'s, so
   *   `{ total: 30_000 }` keeps the fallback's connect and read limits;
   *   a field set to `null` has no limit.
   *
   * @throws TypeError / RangeError for values the constructor refuses.
   */
  static resolve(value: TimeoutValue, fallback: Timeout = Timeout.DEFAULT): Timeout {
    if (value === undefined) return fallback.clone();
    if (value === null) return new Timeout();
    if (typeof value === 'number') return Timeout.fromNumber(value);
    if (value instanceof Timeout) return value.clone();
    if (typeof value !== 'object') throw new TypeError(`A timeout must be a number of milliseconds, a Timeout, an object or null, got ${typeof value}`);
    return new Timeout({
      connect: value.connect === undefined ? fallback.connect : value.connect,
      read: value.read === undefined ? fallback.read : value.read,
      total: value.total === undefined ? fallback.total : value.total,
    });
  }

  /** A copy with the same limits and an unstarted clock, for one attempt. */
  clone(): Timeout {
    return new Timeout({ connect: this.connect, read: this.read, total: this.total });
  }

  /**
   * Starts the attempt's clock (urllib3's `start_connect`); returns the
   * start time on the monotonic clock (`performance.now()`).
   *
   * @throws TimeoutStateError if it has already started, or if this
   *   instance is frozen (as {@link Timeout.DEFAULT} is).
   */
  startConnect(): number {
    if (this.startedAt !== undefined) throw new TimeoutStateError('Timeout timer has already been started.');
    if (Object.isFrozen(this)) throw new TimeoutStateError('This Timeout is shared and cannot be started; clone() it first.');
    this.startedAt = now();
    return this.startedAt;
  }

  /**
   * The ms elapsed since {@link startConnect}.
   *
   * @throws TimeoutStateError if the clock has not started.
   */
  getConnectDuration(): number {
    if (this.startedAt === undefined) throw new TimeoutStateError("Can't get connect duration for timer that has not started.");
    return now() - this.startedAt;
  }

  /**
   * The ms left of `total`: `total` before the clock starts, then
   * `max(0, total - elapsed)`; undefined when there is no total.
   */
  get remaining(): number | undefined {
    if (this.total === undefined) return undefined;
    if (this.startedAt === undefined) return this.total;
    return Math.max(0, this.total - this.getConnectDuration());
  }

  /**
   * The timeout for the connect, in ms; undefined: no limit. The shorter
   * of `connect` and `total`, as urllib3. Once the clock has started,
   * `total` counts what is left of it, so a connect made after some other
   * wait (for a free connection, say) gets no more than the attempt has
   * left. urllib3 starts the clock just before connecting, where this
   * reads the same. 0 means the time is up.
   */
  get connectTimeout(): number | undefined {
    const total = this.remaining;
    if (total === undefined) return this.connect;
    if (this.connect === undefined) return total;
    return Math.min(this.connect, total);
  }

  /**
   * The timeout for the next wait for response data, in ms; undefined: no
   * limit. With `total` set it is what is left of `total`, and at most
   * `read` when that is set: `max(0, min(total - elapsed, read))`, as
   * urllib3. Read it before every wait, so `total` caps the whole
   * attempt. 0 means the time is up: fail at once.
   *
   * Before the clock starts the elapsed time counts as 0, giving
   * `min(total, read)` (urllib3 gives `read`, or throws when only `total`
   * is set).
   */
  get readTimeout(): number | undefined {
    const total = this.remaining;
    if (total === undefined) return this.read;
    if (this.read === undefined) return total;
    return Math.min(total, this.read);
  }

  /** urllib3's str: `Timeout(connect=2000, read=7000, total=undefined)`. */
  toString(): string {
    return `${this.constructor.name}(connect=${this.connect}, read=${this.read}, total=${this.total})`;
  }
}
