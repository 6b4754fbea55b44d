/**
 * HyperwireAgent: an undici Dispatcher over hyperwire's pool, so that code
 * written for fetch gets HTTP/2 without changing (the Node counterpart of
 * hyper's `HTTP20Adapter` for requests):
 *
 * ```ts
 * const agent = new HyperwireAgent({ tls: { ca } });
 * await fetch('https://example.com/', { dispatcher: agent });      // Node's global fetch
 * await undici.request('https://example.com/', { dispatcher: agent });
 * undici.setGlobalDispatcher(agent);                               // every fetch and request
 * ```
 *
 * The Dispatcher contract is implemented structurally: an EventEmitter with
 * `dispatch(opts, handler)`, `close()`, `destroy()` and `compose()`.
 * undici is not imported (it is only a development dependency): undici's
 * own `Dispatcher` class would make it a runtime one.
 *
 * Each dispatch is one `PoolManager.urlopen()` with `preloadContent:
 * false` (the body is handed over as it arrives), `decodeContent: false`
 * (fetch and request decode Content-Encoding themselves: decoding here
 * would decode twice), `redirect: false` (in the Dispatcher contract
 * redirects are the caller's: fetch follows its own, request() has a
 * redirect interceptor) and no pool retries: the agent sends a request
 * again only when the server cannot have seen it (see
 * {@link HyperwireAgentOptions.retries}).
 */

import { EventEmitter } from 'node:events';
import { stringify as stringifyQuery, type ParsedUrlQueryInput } from 'node:querystring';
import { Readable } from 'node:stream';
import type * as tls from 'node:tls';
import type { RequestBody } from '../common/body.js';
import { ConnectionError, NewConnectionError, RequestAbortedError, StreamRefusedError } from '../common/errors.js';
import { poolChannels, type HTTPConnectionPool } from '../pool/connection-pool.js';
import { PoolManager, type PoolManagerOptions } from '../pool/pool-manager.js';
import { encodeRequest, type EncodedRequest } from '../pool/request-encoding.js';
import type { HTTPResponse } from '../pool/response.js';
import { Timeout } from '../pool/timeout.js';
import { rawFields, sinkFor, wrapForInterceptor, type ControlledRequest, type DispatchHandler, type HandlerSink, type RequestController } from './dispatch-handler.js';
import {
  BodyTimeoutError,
  DispatchArgumentError,
  DispatcherClosedError,
  DispatcherDestroyedError,
  DispatchNotSupportedError,
  HeadersTimeoutError,
} from './dispatcher-errors.js';

export type { DispatchController, DispatchHandler, DispatchHeaderRecord } from './dispatch-handler.js';

/** Request header fields as undici takes them: a record, a flat `[name, value, name, value]` array, or an iterable of pairs (a `Headers`, a `Map`). */
export type DispatchHeaders =
  | Record<string, string | readonly string[] | number | null | undefined>
  | ReadonlyArray<string | readonly string[]>
  | Iterable<readonly [string, string | readonly string[] | undefined]>;

/** A request body as undici takes it. Streams and iterables are sent as they are read and cannot be sent twice. */
export type DispatchBody =
  | string
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Readable
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>
  | Blob
  | FormData
  | URLSearchParams;

/** The options of `dispatch()`, as undici 7's `Dispatcher.DispatchOptions`. */
export interface DispatchOptions {
  /** `https://host:port` (or http); with `path`, the URL. Required: the agent serves any origin. */
  origin?: string | URL;
  /** Origin-form path and query (`/a?b`), or an absolute URL. */
  path: string;
  /** The method, as it is sent (fetch and request() normalise it). CONNECT is not supported. */
  method: string;
  /** The request body; none for null or an empty string or buffer. */
  body?: DispatchBody | null;
  /** The header fields; `upgrade` is refused, `host` names the authority on HTTP/1.1 only (HTTP/2 takes it from the URL). */
  headers?: DispatchHeaders | null;
  /** Query fields appended to `path` (which must then have no `?`). */
  query?: Record<string, unknown> | null;
  /** Ignored: the agent never pipelines, and sends again only requests the server did not see, whatever the method. */
  idempotent?: boolean | null;
  /** Ignored: the agent never pipelines. */
  blocking?: boolean | null;
  /** Not supported: an upgrade fails with DispatchNotSupportedError. */
  upgrade?: boolean | string | null;
  /** ms from dispatch to the response head; 0 for no limit. Default: the agent's. */
  headersTimeout?: number | null;
  /** ms the body may go quiet while it is read; 0 for no limit. Default: the agent's. */
  bodyTimeout?: number | null;
  /** true: the connection is not reused after this request (HTTP/1.1 `Connection: close`; HTTP/2 connections are shared anyway). */
  reset?: boolean | null;
  /** Ignored: handled by the caller's handler in undici 6, refused by undici 7's core. */
  throwOnError?: boolean | null;
  /** Ignored: the body is sent at once. */
  expectContinue?: boolean | null;
  /** Only 0 (or none): redirects are the caller's. Anything else fails with DispatchNotSupportedError. */
  maxRedirections?: number | null;
  /** Ignored. */
  typeOfService?: number | null;
  /** Ignored: undici's request() and fetch abort through the handler's abort function / controller. */
  signal?: unknown;
}

/** A dispatch function: what `compose()` interceptors take and return. */
export type Dispatch = (opts: DispatchOptions, handler: DispatchHandler) => boolean;

/** An interceptor for {@link HyperwireAgent.compose} (undici's `interceptors.redirect()`, `.retry()`, ...). */
export type DispatchInterceptor = (dispatch: Dispatch) => Dispatch;

/** The callback of close() and destroy(): `(err, null)`. */
export type DispatcherCallback = (error: Error | null, data: null) => void;

/**
 * undici's `connect` options: TLS options for `tls.connect()` (`ca`,
 * `cert`, `key`, `rejectUnauthorized`, `servername`, ...), and `timeout`,
 * the connect timeout. What cannot be mapped onto the pool is refused.
 */
export interface HyperwireAgentConnectOptions extends tls.ConnectionOptions {
  /** The connect timeout in ms (TCP, proxy and TLS). */
  timeout?: number;
  /** Not supported (Unix sockets): a DispatchNotSupportedError. */
  socketPath?: string;
  /** Ignored: ALPN is the pool's (it offers h2 and http/1.1). */
  allowH2?: boolean;
  /** Ignored: connections are kept alive anyway. */
  keepAlive?: boolean;
  /** Ignored. */
  keepAliveInitialDelay?: number;
  /** Ignored. */
  maxCachedSessions?: number;
}

/** Options of {@link HyperwireAgent}: the PoolManager's, and undici's names for what they have in common. */
export interface HyperwireAgentOptions extends Omit<PoolManagerOptions, 'retries' | 'headers'> {
  /** undici's connect options, folded into `tls` (an explicit `tls` wins) and `connectTimeout`. */
  connect?: HyperwireAgentConnectOptions;
  /** Connect timeout in ms; default `connect.timeout`, else `timeout`'s connect part (10 s by default). 0: none. */
  connectTimeout?: number;
  /** Default headersTimeout of a request, in ms; default `timeout`'s read part (300 s by default). 0: none. */
  headersTimeout?: number;
  /** Default bodyTimeout of a request, in ms; default `timeout`'s read part (300 s by default). 0: none. */
  bodyTimeout?: number;
  /**
   * How many times a request is sent again when the server cannot have
   * seen it: the connection could not be made (NewConnectionError), or an
   * HTTP/2 stream was refused (REFUSED_STREAM, or above a GOAWAY's
   * last-stream-id, RFC 9113 §8.7). Safe for any method; a streamed body
   * that had started to go is not sent again. Nothing else is retried:
   * after the request may have been processed, retrying is the caller's
   * decision. Default 2.
   */
  retries?: number;
  /** Connections kept per origin: one carries every request over HTTP/2; HTTP/1.1 keeps this many idle. Default 10. */
  maxsize?: number;
}

/** A request checked and normalised once, at dispatch. */
interface PreparedRequest {
  method: string;
  url: string;
  /** Headers and body, or (for a Blob or FormData body) a promise of them. */
  encoded: EncodedRequest | Promise<EncodedRequest>;
  headersTimeout: number;
  bodyTimeout: number;
}

const CONNECTION_EVENTS: ReadonlySet<string | symbol> = new Set(['connect', 'disconnect', 'connectionError']);

/** A PoolManager that knows which pools are its own, so the agent reports only its own connections. */
class AgentPoolManager extends PoolManager {
  readonly owned = new WeakSet<HTTPConnectionPool>();

  protected override pool(key: string, make: () => HTTPConnectionPool): HTTPConnectionPool {
    const pool = super.pool(key, make);
    this.owned.add(pool);
    return pool;
  }
}

/** What the connection channels publish (the connection is only asked when it is up). */
interface ConnectionMessage {
  pool: HTTPConnectionPool;
  connection: { connect(): Promise<void> };
}

/**
 * An undici Dispatcher (undici 6 and 7, and Node's global fetch) that sends
 * every request over hyperwire's pool: HTTP/2 where the server offers it,
 * one connection per origin carrying every request at once, HTTP/1.1
 * otherwise.
 *
 * - `dispatch(opts, handler)` takes either handler API (see
 *   dispatch-handler.ts). It returns true, or false when it failed the
 *   request at once (bad options, a closed agent) through the handler's
 *   error callback. The agent queues in the pool, so it never asks for
 *   `'drain'`.
 * - The body reaches the handler as it comes, still content-encoded; a
 *   handler that pauses (`onData` returning false, `controller.pause()`)
 *   stops the reading, and with it the HTTP/2 window (or the TCP window
 *   on HTTP/1.1), until it resumes.
 * - Aborting (the handler's abort function, `controller.abort()`) resets
 *   the stream (HTTP/2) or closes the connection (HTTP/1.1, mid-body) and
 *   fails the handler with the reason.
 * - Events: `'connect'` (origin, [agent]) when a connection is up,
 *   `'disconnect'` (origin, [agent], error) when it has closed, and
 *   `'connectionError'` (origin, [agent], error) when it could not be made.
 */
export class HyperwireAgent extends EventEmitter {
  private readonly manager: AgentPoolManager;
  private readonly retries: number;
  private readonly headersTimeout: number;
  private readonly bodyTimeout: number;
  /** The pool's timeout of each attempt: the connect part only; the agent times the head and the body itself. */
  private readonly attemptTimeout: Timeout;
  private readonly inflight = new Set<Exchange>();
  private readonly idleWaiters: Array<() => void> = [];
  private closedNow = false;
  private destroyedNow = false;
  private closing: Promise<void> | null = null;
  private destroying: Promise<void> | null = null;
  private watching = false;

  constructor(options: HyperwireAgentOptions = {}) {
    super();
    const { connect, connectTimeout, headersTimeout, bodyTimeout, retries, ...poolOptions } = options;
    let tlsOptions = poolOptions.tls;
    let connectFromConnect: number | undefined;
    if (connect !== undefined && connect !== null) {
      if (typeof connect !== 'object') throw new DispatchNotSupportedError('connect must be an object of TLS options; a connector function is not supported');
      const { timeout, socketPath, allowH2: _allowH2, keepAlive: _keepAlive, keepAliveInitialDelay: _delay, maxCachedSessions: _sessions, ALPNProtocols: _alpn, ...tlsPart } = connect;
      if (socketPath !== undefined) throw new DispatchNotSupportedError('connect.socketPath is not supported');
      tlsOptions = { ...tlsPart, ...poolOptions.tls };
      connectFromConnect = timeout;
    }
    const base = Timeout.resolve(poolOptions.timeout);
    const connectMs = duration(connectTimeout ?? connectFromConnect ?? base.connect ?? 0, 'connectTimeout');
    this.headersTimeout = duration(headersTimeout ?? base.read ?? 0, 'headersTimeout');
    this.bodyTimeout = duration(bodyTimeout ?? base.read ?? 0, 'bodyTimeout');
    this.retries = retries ?? 2;
    if (!Number.isInteger(this.retries) || this.retries < 0) throw new RangeError(`retries must be a non-negative integer, got ${retries}`);
    this.attemptTimeout = new Timeout({ connect: connectMs > 0 ? connectMs : null, read: null, total: base.total ?? null });
    this.manager = new AgentPoolManager({ maxsize: 10, ...poolOptions, tls: tlsOptions });
    // Connection events cost a diagnostics_channel subscription, which would
    // also keep the agent reachable: taken only once someone listens.
    this.on('newListener', (event: string | symbol) => {
      if (CONNECTION_EVENTS.has(event)) this.watchConnections();
    });
  }

  /** close() has been called: new requests are refused. */
  get closed(): boolean {
    return this.closedNow;
  }

  /** destroy() has been called (close() ends with it too). */
  get destroyed(): boolean {
    return this.destroyedNow;
  }

  /**
   * Starts a request; the handler hears of everything that follows.
   * Returns false when the request failed at once (the handler's error
   * callback has been called), true otherwise.
   *
   * @throws DispatchArgumentError when `handler` is not an object, or has
   *   no way to hear of errors (no `onError`, no `onResponseError`).
   */
  dispatch(opts: DispatchOptions, handler: DispatchHandler): boolean {
    if (handler === null || typeof handler !== 'object') throw new DispatchArgumentError('handler must be an object');
    if (typeof handler.onRequestStart === 'function' && typeof handler.onResponseError !== 'function') {
      // Its failures would have nowhere to go, and its caller would wait for ever.
      throw new DispatchArgumentError('invalid onResponseError method');
    }
    let exchange: Exchange;
    try {
      exchange = new Exchange(this.host, handler);
    } catch (err) {
      // An old-API handler missing a callback: told through onError if it has one, as undici does.
      if (typeof handler.onError !== 'function') throw err;
      handler.onError(err as Error);
      return false;
    }
    let request: PreparedRequest;
    try {
      if (opts === null || typeof opts !== 'object') throw new DispatchArgumentError('opts must be an object');
      if (this.destroyedNow) throw new DispatcherDestroyedError();
      if (this.closedNow) throw new DispatcherClosedError();
      request = this.prepare(opts);
    } catch (err) {
      exchange.failEarly(err as Error);
      return false;
    }
    this.inflight.add(exchange);
    exchange.start(request);
    return true;
  }

  /**
   * A view of this agent whose `dispatch` runs through `interceptors`
   * (undici 7's `interceptors.redirect()`, `.retry()`, `.dump()`, ...):
   * undici's compose(). Old-API handlers are adapted for them.
   */
  compose(...interceptors: Array<DispatchInterceptor | null | undefined | ReadonlyArray<DispatchInterceptor | null | undefined>>): HyperwireAgent {
    const list = (Array.isArray(interceptors[0]) ? interceptors[0] : interceptors) as ReadonlyArray<DispatchInterceptor | null | undefined>;
    let dispatch: Dispatch = this.dispatch.bind(this);
    for (const interceptor of list) {
      if (interceptor === null || interceptor === undefined) continue;
      if (typeof interceptor !== 'function') throw new DispatchArgumentError(`invalid interceptor, expected function received ${typeof interceptor}`);
      const inner = interceptor(dispatch);
      if (typeof inner !== 'function' || inner.length !== 2) throw new DispatchArgumentError('invalid interceptor');
      dispatch = (opts, handler) => inner(opts, wrapForInterceptor(handler));
    }
    const composed = dispatch;
    return new Proxy(this, {
      get: (target, key) => (key === 'dispatch' ? composed : Reflect.get(target, key)),
    });
  }

  /**
   * Refuses new requests, waits for those in flight to finish (their
   * bodies read to the end or given up), then closes every connection.
   * With a callback, `callback(null, null)` then; without, a promise.
   * On a destroyed agent: a DispatcherDestroyedError.
   */
  close(): Promise<void>;
  close(callback: DispatcherCallback): void;
  close(callback?: DispatcherCallback): Promise<void> | void {
    if (callback !== undefined && typeof callback !== 'function') throw new DispatchArgumentError('invalid callback');
    let done: Promise<void>;
    if (this.destroyedNow && this.closing === null) {
      done = Promise.reject(new DispatcherDestroyedError());
    } else {
      if (this.closing === null) {
        this.closedNow = true;
        this.closing = this.whenIdle().then(() => this.destroyNow(null));
      }
      done = this.closing;
    }
    return settle(done, callback);
  }

  /**
   * Fails every request in flight with `error` (default a
   * DispatcherDestroyedError) at once, resetting their streams, and closes
   * every connection. With a callback, `callback(null, null)` once the
   * connections are closed; without, a promise.
   */
  destroy(): Promise<void>;
  destroy(error: Error | null): Promise<void>;
  destroy(callback: DispatcherCallback): void;
  destroy(error: Error | null, callback: DispatcherCallback): void;
  destroy(errorOrCallback?: Error | null | DispatcherCallback, callback?: DispatcherCallback): Promise<void> | void {
    if (typeof errorOrCallback === 'function') {
      callback = errorOrCallback;
      errorOrCallback = null;
    }
    if (callback !== undefined && typeof callback !== 'function') throw new DispatchArgumentError('invalid callback');
    return settle(this.destroyNow(errorOrCallback ?? null), callback);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.destroyedNow) await this.close();
  }

  // --- requests ---------------------------------------------------------------

  /** Checks and normalises the options of one request, once (nothing below checks them again). */
  private prepare(opts: DispatchOptions): PreparedRequest {
    const { method, path } = opts;
    if (typeof method !== 'string' || method.length === 0) throw new DispatchArgumentError('method must be a string');
    if (typeof path !== 'string') throw new DispatchArgumentError('path must be a string');
    if (method === 'CONNECT' || (opts.upgrade !== undefined && opts.upgrade !== null && opts.upgrade !== false)) {
      throw new DispatchNotSupportedError('Upgrades and CONNECT are not supported by HyperwireAgent');
    }
    if (opts.maxRedirections !== undefined && opts.maxRedirections !== null && opts.maxRedirections !== 0) {
      throw new DispatchNotSupportedError('maxRedirections is not supported: redirects are the caller\'s (fetch follows its own; compose a redirect interceptor for request())');
    }
    const url = targetUrl(opts.origin, path, opts.query);
    const headers = headerPairs(opts.headers);
    if (opts.reset === true && !headers.some(([name]) => name.toLowerCase() === 'connection')) headers.push(['connection', 'close']);
    const body = requestBody(opts.body);
    let encoded: EncodedRequest | Promise<EncodedRequest>;
    if (isWebBody(body)) {
      // These bring their Content-Type (and FormData its multipart
      // encoding): the pool's encoding does that, once.
      try {
        encoded = encodeRequest(method, url, { body, headers });
      } catch (err) {
        throw err instanceof TypeError ? new DispatchArgumentError(err.message) : err;
      }
    } else {
      encoded = { url, body, headers, replayable: body === null || typeof body === 'string' || body instanceof Uint8Array };
    }
    return {
      method,
      url,
      encoded,
      headersTimeout: opts.headersTimeout === undefined || opts.headersTimeout === null ? this.headersTimeout : duration(opts.headersTimeout, 'headersTimeout'),
      bodyTimeout: opts.bodyTimeout === undefined || opts.bodyTimeout === null ? this.bodyTimeout : duration(opts.bodyTimeout, 'bodyTimeout'),
    };
  }

  /** What an exchange asks of its agent. */
  private readonly host: ExchangeHost = {
    send: (request, encoded, streamed, signal) => this.send(request, encoded, streamed, signal),
    finished: (exchange) => this.finished(exchange),
  };

  /** Sends one request, again while the server cannot have seen it. */
  private async send(request: PreparedRequest, encoded: EncodedRequest, streamed: StreamWatch | null, signal: AbortSignal): Promise<HTTPResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.manager.urlopen(request.method, request.url, {
          headers: encoded.headers,
          body: streamed === null ? encoded.body : streamed.body,
          redirect: false,
          retries: false,
          timeout: this.attemptTimeout,
          preloadContent: false,
          decodeContent: false,
          signal,
        });
      } catch (err) {
        if (signal.aborted || attempt >= this.retries || !unprocessed(err) || streamed?.started === true) throw err;
      }
    }
  }

  /** A request is over (completed, failed or aborted). */
  private finished(exchange: Exchange): void {
    this.inflight.delete(exchange);
    if (this.inflight.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private whenIdle(): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private destroyNow(error: Error | null): Promise<void> {
    if (this.destroying !== null) return this.destroying;
    this.destroyedNow = true;
    this.closedNow = true;
    const reason = error ?? new DispatcherDestroyedError();
    for (const exchange of [...this.inflight]) exchange.controller.abort(reason);
    this.destroying = this.manager.close().finally(() => this.unwatchConnections());
    return this.destroying;
  }

  // --- connection events ----------------------------------------------------------

  private readonly onConnectionCreated = (message: unknown): void => {
    const { pool, connection } = message as ConnectionMessage;
    if (!this.manager.owned.has(pool)) return;
    const origin = new URL(pool.origin);
    connection.connect().then(
      () => {
        this.connected.add(connection);
        this.emit('connect', origin, [this]);
      },
      (err: Error) => this.emit('connectionError', origin, [this], err),
    );
  };

  private readonly onConnectionClosed = (message: unknown): void => {
    const { pool, connection } = message as ConnectionMessage;
    if (!this.manager.owned.has(pool) || !this.connected.delete(connection)) return;
    this.emit('disconnect', new URL(pool.origin), [this], new ConnectionError('HW_ERR_CONNECTION_CLOSED', `The connection to ${pool.origin} closed`));
  };

  /** Connections that came up, so that only those are reported as disconnected. */
  private readonly connected = new WeakSet<object>();

  private watchConnections(): void {
    if (this.watching || this.destroyedNow) return;
    this.watching = true;
    poolChannels.connectionCreated.subscribe(this.onConnectionCreated);
    poolChannels.connectionClosed.subscribe(this.onConnectionClosed);
  }

  private unwatchConnections(): void {
    if (!this.watching) return;
    this.watching = false;
    poolChannels.connectionCreated.unsubscribe(this.onConnectionCreated);
    poolChannels.connectionClosed.unsubscribe(this.onConnectionClosed);
  }
}

/** What an exchange needs of its agent. */
interface ExchangeHost {
  send(request: PreparedRequest, encoded: EncodedRequest, streamed: StreamWatch | null, signal: AbortSignal): Promise<HTTPResponse>;
  finished(exchange: Exchange): void;
}

/** A streamed body, watched for whether any of it has been taken (then it cannot be sent again). */
interface StreamWatch {
  body: AsyncIterable<Uint8Array>;
  started: boolean;
}

/**
 * One request from dispatch to its end: sends it, hands the response to
 * the handler, reads the body as fast as the handler takes it, and ends
 * in exactly one of complete and error.
 */
class Exchange implements ControlledRequest {
  readonly sink: HandlerSink;
  private readonly abortController = new AbortController();
  private settled = false;
  private response: HTTPResponse | null = null;
  private timer: NodeJS.Timeout | undefined = undefined;
  /** Wakes the body loop when the handler resumes (or the request ends while it waits). */
  private wake: (() => void) | null = null;
  /** The request body when it is a Node stream: destroyed if the request fails, as undici does. */
  private readable: Readable | null = null;

  constructor(
    private readonly agent: ExchangeHost,
    handler: DispatchHandler,
  ) {
    this.sink = sinkFor(handler, this);
  }

  get controller(): RequestController {
    return this.sink.controller;
  }

  /** Fails a request that never started (bad options, a closed agent). */
  failEarly(error: Error): void {
    this.settled = true;
    this.sink.error(error);
  }

  /** Tells the handler the request is starting (it may abort right there), then sends it. */
  start(request: PreparedRequest): void {
    try {
      this.sink.start();
    } catch (err) {
      this.controller.abort(err as Error);
      return;
    }
    if (this.settled) return;
    if (request.headersTimeout > 0) this.arm(request.headersTimeout, () => new HeadersTimeoutError(request.headersTimeout));
    void this.run(request);
  }

  // ControlledRequest: what the controller (and so both handler APIs) asks.

  abort(reason: Error | undefined): Error {
    const error = reason ?? new RequestAbortedError('The request was aborted');
    if (!this.settled) {
      // The pool hears it wherever the request is (waiting for a
      // connection, a stream slot, the head); a response already here is
      // closed by fail(), which resets its stream.
      this.abortController.abort(error);
      this.fail(error);
    }
    return error;
  }

  resumed(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async run(request: PreparedRequest): Promise<void> {
    let response: HTTPResponse;
    try {
      const encoded = await request.encoded;
      if (this.settled) return;
      const streamed = watchStream(encoded.body);
      if (encoded.body instanceof Readable) this.readable = encoded.body;
      response = await this.agent.send(request, encoded, streamed, this.abortController.signal);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (this.settled) {
      response.close();
      return;
    }
    this.response = response;
    this.disarm();
    try {
      this.sink.headers(response.status, rawFields(response.headers.raw()), response.reason);
    } catch (err) {
      this.controller.abort(err as Error);
      return;
    }
    if (this.settled) return;
    await this.pump(response, request.bodyTimeout);
  }

  /** Hands the body over chunk by chunk; while the handler is paused, nothing is read, so the sender's window stays shut. */
  private async pump(response: HTTPResponse, bodyTimeout: number): Promise<void> {
    const chunks = response.stream();
    for (;;) {
      if (this.controller.paused) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        if (this.settled) return;
        continue;
      }
      let next: IteratorResult<Buffer>;
      if (bodyTimeout > 0) this.arm(bodyTimeout, () => new BodyTimeoutError(bodyTimeout));
      try {
        next = await chunks.next();
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      this.disarm();
      if (this.settled) return;
      if (next.done === true) {
        this.complete(response);
        return;
      }
      try {
        this.sink.data(next.value);
      } catch (err) {
        this.controller.abort(err as Error);
        return;
      }
      if (this.settled) return;
    }
  }

  private complete(response: HTTPResponse): void {
    this.settle();
    const trailers = response.trailers;
    try {
      this.sink.complete(trailers === null ? [] : rawFields(trailers.raw()));
    } catch (err) {
      // As undici: a handler that throws in its completion hears of it as an error.
      this.report(err as Error);
    }
  }

  private fail(error: Error): void {
    if (this.settled) return;
    this.settle();
    // Unread, the stream is reset (HTTP/2) or the connection closed (HTTP/1.1).
    this.response?.close();
    if (this.readable !== null && !this.readable.destroyed) this.readable.destroy(error);
    this.report(error);
  }

  /** Tells the handler of an error; what its error callback throws is nobody's here, so it is thrown where it surfaces, as undici's would be. */
  private report(error: Error): void {
    try {
      this.sink.error(error);
    } catch (thrown) {
      queueMicrotask(() => {
        throw thrown;
      });
    }
  }

  private settle(): void {
    this.settled = true;
    this.disarm();
    this.resumed();
    this.agent.finished(this);
  }

  /** A timeout (headers or body) that aborts the request when it fires. */
  private arm(ms: number, make: () => Error): void {
    this.disarm();
    this.timer = setTimeout(() => this.controller.abort(make()), ms);
    // A pending request keeps the process alive through its socket, not its timer.
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}

// --- helpers ----------------------------------------------------------------

/** Settles `done` through `callback` (err, null) when given; returns the promise otherwise. */
function settle(done: Promise<void>, callback: DispatcherCallback | undefined): Promise<void> | void {
  if (callback === undefined) return done;
  done.then(
    () => callback(null, null),
    (err: Error) => callback(err, null),
  );
}

/** A timeout in ms: a finite number, 0 or more. */
function duration(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new DispatchArgumentError(`invalid ${name}`);
  return value;
}

/** Errors after which the server cannot have processed the request (RFC 9113 §8.7; a connect that failed). */
function unprocessed(err: unknown): boolean {
  return err instanceof StreamRefusedError || err instanceof NewConnectionError;
}

/** Characters a request target may not hold (undici's rule: controls, space, and beyond latin1). */
const INVALID_PATH = /[^\u0021-\u00ff]/;

/** The request's URL from `origin` and `path` (and `query`). */
function targetUrl(origin: string | URL | undefined, path: string, query: Record<string, unknown> | null | undefined): string {
  if (INVALID_PATH.test(path)) throw new DispatchArgumentError('invalid request path');
  if (query !== undefined && query !== null) {
    if (path.includes('?') || path.includes('#')) throw new DispatchArgumentError('Query params cannot be passed when path already contains "?" or "#"');
    const q = stringifyQuery(query as ParsedUrlQueryInput);
    if (q.length > 0) path = `${path}?${q}`;
  }
  if (/^https?:\/\//i.test(path)) return path;
  if (!path.startsWith('/')) throw new DispatchArgumentError('path must be an absolute URL or start with a slash');
  if (origin === undefined || origin === null) throw new DispatchArgumentError('origin is required');
  let base: URL;
  try {
    base = origin instanceof URL ? origin : new URL(String(origin));
  } catch {
    throw new DispatchArgumentError(`invalid origin ${JSON.stringify(String(origin))}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new DispatchArgumentError(`invalid origin protocol ${base.protocol}`);
  // Concatenated, not resolved: a path of `//other/x` stays a path on this origin.
  return base.origin + path;
}

/** Header fields as pairs, from any form undici takes; values are kept as given (the connection checks them). */
function headerPairs(headers: DispatchHeaders | null | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (headers === undefined || headers === null) return out;
  if (typeof headers !== 'object') throw new DispatchArgumentError('headers must be an object or an array');
  if (Array.isArray(headers)) {
    const flat = headers as ReadonlyArray<unknown>;
    if (flat.length % 2 !== 0) throw new DispatchArgumentError('headers array must be even');
    for (let i = 0; i < flat.length; i += 2) addField(out, flat[i], flat[i + 1]);
  } else if (typeof (headers as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
    for (const pair of headers as Iterable<unknown>) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new DispatchArgumentError('headers must be in key-value pair format');
      addField(out, pair[0], pair[1]);
    }
  } else {
    const record = headers as Record<string, unknown>;
    for (const name of Object.keys(record)) addField(out, name, record[name]);
  }
  return out;
}

function addField(out: Array<[string, string]>, name: unknown, value: unknown): void {
  if (typeof name !== 'string') throw new DispatchArgumentError('invalid header key');
  if (value === undefined) return;
  if (name.toLowerCase() === 'upgrade') throw new DispatchNotSupportedError('Upgrades are not supported by HyperwireAgent');
  if (Array.isArray(value)) {
    for (const v of value as unknown[]) out.push([name, fieldValue(name, v)]);
  } else {
    out.push([name, fieldValue(name, value)]);
  }
}

function fieldValue(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  throw new DispatchArgumentError(`invalid ${name} header`);
}

/** A Blob, FormData or URLSearchParams body: one the pool's encodeRequest turns into octets and a Content-Type. */
type WebBody = Blob | FormData | URLSearchParams;

/** undici's FormData and Node's are different classes: told apart by tag, as the pool does. */
function isWebBody(body: RequestBody | WebBody): body is WebBody {
  if (body === null || body === undefined || typeof body !== 'object' || body instanceof Uint8Array || body instanceof Readable) return false;
  if (body instanceof URLSearchParams) return true;
  const tag = (body as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  return tag === 'Blob' || tag === 'File' || tag === 'FormData';
}

/**
 * A body as the pool sends it: none for null or empty (as undici), octets
 * as a Uint8Array view (not copied), streams and async iterables as they
 * are, a sync iterable of chunks made async; Blob, FormData and
 * URLSearchParams are left for encodeRequest.
 */
function requestBody(body: DispatchBody | null | undefined): RequestBody | WebBody {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body.length === 0 ? null : body;
  if (typeof body !== 'object') throw new DispatchArgumentError('body must be a string, a Buffer, a Readable stream, an iterable, or an async iterable');
  if (body instanceof Uint8Array) return body.length === 0 ? null : body;
  if (ArrayBuffer.isView(body)) return body.byteLength === 0 ? null : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return body.byteLength === 0 ? null : new Uint8Array(body);
  if (isWebBody(body as RequestBody | WebBody)) return body as WebBody;
  if (body instanceof Readable || typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function') {
    return body as AsyncIterable<Uint8Array>;
  }
  if (typeof (body as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') return fromSync(body as Iterable<Uint8Array | string>);
  throw new DispatchArgumentError('body must be a string, a Buffer, a Readable stream, an iterable, or an async iterable');
}

async function* fromSync(chunks: Iterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

/** A streamed body wrapped so that whether any of it was taken is known; null for a body in memory. */
function watchStream(body: RequestBody): StreamWatch | null {
  if (body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array) return null;
  const source = body as AsyncIterable<Uint8Array>;
  const watch: StreamWatch = {
    started: false,
    body: {
      [Symbol.asyncIterator]: (): AsyncIterator<Uint8Array> => {
        watch.started = true;
        return source[Symbol.asyncIterator]();
      },
    },
  };
  return watch;
}
