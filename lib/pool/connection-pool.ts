/**
 * HTTPConnectionPool and HTTPSConnectionPool: the connections to one
 * origin, urllib3's pool made HTTP/2-aware.
 *
 * - An HTTP/2 connection is not taken by a request: every request to the
 *   origin shares it, up to the server's MAX_CONCURRENT_STREAMS; only
 *   beyond that does the pool open another (up to `maxsize`, else wait).
 *   An HTTP/1.1 connection serves one request at a time.
 * - Cold start: while the first connection is being made (or, in
 *   cleartext, while its first request finds out whether the server
 *   upgrades to h2c), other requests wait for it instead of dialling
 *   their own. If it turns out to speak HTTP/1.1, the pool opens more and
 *   remembers that the origin does.
 * - Every wait can be aborted and times out; when a connection dies,
 *   every request waiting on it hears of it.
 */

import * as diagnosticsChannel from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import type { RequestBody } from '../common/body.js';
import { Eventual } from '../common/async.js';
import { abortError, ReadTimeoutError } from '../common/errors.js';
import { cancelDeadline, startDeadline, type Deadline } from '../common/timers.js';
import type { HeadersInit } from '../common/headers.js';
import * as tls from 'node:tls';
import { type Dialer, hostPort, normaliseFingerprint } from '../common/net.js';
import { HTTPConnection, type ConnectionResponse, type HTTPConnectionOptions, type Protocol } from '../connection.js';
import { ClosedPoolError, EmptyPoolError, HostChangedError } from './errors.js';
import { encodeForPool, type PoolRequestOptions } from './pool-request.js';
import { PushCache, type PushCacheOptions } from './push-cache.js';
import { HTTPResponse } from './response.js';
import { Timeout } from './timeout.js';
import { Retry } from './retry.js';
import { urlopenDefaults, urlopenWithRetries, type AttemptOutcome, type RetryInput, type UrlopenDefaults, type UrlopenOptions } from './urlopen.js';

const debug = debuglog('hyperwire');

/** diagnostics_channel names published by the pools. Messages carry `pool` and `connection`. */
export const poolChannels = {
  connectionCreated: diagnosticsChannel.channel('hyperwire:pool:connection:created'),
  connectionReused: diagnosticsChannel.channel('hyperwire:pool:connection:reused'),
  connectionClosed: diagnosticsChannel.channel('hyperwire:pool:connection:closed'),
} as const;

/** What a pool takes for its timeouts: a Timeout, one number for connect and read, or the parts. */
export type TimeoutInput = Timeout | number | { connect?: number; read?: number; total?: number };

/** Options of the connection pools, and of the PoolManager's pools. */
export interface ConnectionPoolOptions
  extends Pick<HTTPConnectionOptions, 'tls' | 'enablePush' | 'windowManager' | 'headerCodec' | 'maxHeaderSize' | 'networkBufferSize' | 'closeTimeout'> {
  /** The port; default 443 for https, 80 for http. */
  port?: number;
  /** How many connections the pool keeps. Default 1 (one HTTP/2 connection carries every request). */
  maxsize?: number;
  /** With true, never more than `maxsize` connections: requests wait for one. Default false. */
  block?: boolean;
  /** Headers sent with every request that gives none of its own (as urllib3). */
  headers?: HeadersInit;
  /** Retries of each request; default `Retry.DEFAULT` (3). */
  retries?: RetryInput;
  /** Timeouts of each request; default `Timeout.DEFAULT`. */
  timeout?: TimeoutInput;
  /** How long a request waits for a connection of a full blocking pool (ms); default its connect timeout. */
  poolTimeout?: number;
  /** Offer HTTP/2 (ALPN h2; `Upgrade: h2c` in cleartext). Default true; false speaks HTTP/1.1 only. */
  http2?: boolean;
  /** HTTP/2 session options passed on (initialWindowSize, maxHeaderListSize, ...). */
  http2Options?: HTTPConnectionOptions['http2'];
  /** Cleartext only: speak HTTP/2 from the first octet (h2c with prior knowledge). Default false. */
  priorKnowledge?: boolean;
  /** With `enablePush`: how many pushed responses, of how many octets and how old, are kept per origin. */
  pushCache?: PushCacheOptions;
  /**
   * The server certificate's SHA-256 fingerprint (or SHA-1), hex, colons
   * optional: any other is a TLSError (`HW_ERR_FINGERPRINT`) before a
   * request is sent, whether or not the certificate is otherwise verified.
   */
  assertFingerprint?: string;
  /** Check the certificate against this name instead of the host's; `false` skips the name check (the chain is still verified). */
  assertHostname?: string | false;
  /** The name sent by SNI, instead of the host's. */
  serverHostname?: string;
  /** @internal How a ProxyManager's pools reach their origin: a CONNECT tunnel, or (`forward`) absolute-form requests to the proxy. */
  proxy?: PoolProxy;
  /** @internal How a SOCKSProxyManager's pools reach their origin. */
  dialer?: Dialer;
}

/** @internal A proxy as a pool's connections use it. */
export interface PoolProxy {
  host: string;
  port: number;
  /** Sent to the proxy: on CONNECT, or on each absolute-form request. */
  headers: HeadersInit | undefined;
  /** TLS to the proxy itself (an https:// proxy). */
  tls: tls.ConnectionOptions | undefined;
  /** This pool's connections go to the proxy, and requests name their targets (http:// targets). */
  forward: boolean;
}

/** Pools whose verification is off have said so already: once per process, as urllib3 warns once. */
let warnedInsecure = false;

/** One connection of a pool and what the pool knows of it. */
interface Slot {
  readonly conn: HTTPConnection;
  /** Requests on it now: HTTP/2 streams, or the one HTTP/1.1 exchange. */
  inUse: number;
  /** Settles when the connection is up (rejects if it fails). */
  ready: Promise<void>;
  /** Being connected. */
  dialing: boolean;
  /** Up, but its protocol is decided by its first request (cleartext `Upgrade: h2c`). */
  probing: boolean;
  /** Taken out of the pool (dead, GOAWAY, surplus): closed once its requests are done. */
  retired: boolean;
  unwatch: () => void;
}

/**
 * A request queued for a connection. A class, and the listener on its
 * AbortSignal itself (`handleEvent`), so a wait makes no closures but the
 * one its deadline calls: a blocking pool queues most requests.
 */
class Waiter {
  /** The slot it gets, or why it gets none. */
  readonly slot = new Eventual<Slot>();
  deadline: Deadline | undefined = undefined;

  constructor(
    private readonly pool: { dropWaiter(waiter: Waiter, error: Error): void },
    readonly signal: AbortSignal | undefined,
    readonly connectTimeout: number,
  ) {}

  /** The signal aborted the wait. */
  handleEvent(): void {
    this.pool.dropWaiter(this, abortError(this.signal!));
  }

  cleanup(): void {
    if (this.deadline !== undefined) cancelDeadline(this.deadline);
    this.signal?.removeEventListener('abort', this);
  }
}

/** The parts of a request the pool sends as they are. */
export interface AttemptRequest {
  method: string;
  /** Origin-form path and query. */
  path: string;
  /** The full URL, for the response and the logs. */
  url: string;
  headers: HeadersInit | undefined;
  body: RequestBody;
  timeout: Timeout;
  signal: AbortSignal | undefined;
  preloadContent: boolean;
  decodeContent: boolean;
}

/**
 * The connections to one origin. `urlopen()` sends a request on a free
 * connection (or a free stream of an HTTP/2 one) and follows redirects and
 * retries on this origin; `request()` also encodes fields and JSON.
 */
export class HTTPConnectionPool {
  /** The scheme of the pools of this class. */
  static readonly scheme: 'http' | 'https' = 'http';
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** Connections opened so far (urllib3's num_connections). */
  numConnections = 0;
  /** Requests sent so far (urllib3's num_requests). */
  numRequests = 0;
  readonly headers: HeadersInit | undefined;
  readonly retries: RetryInput;
  readonly timeout: Timeout;
  private readonly defaults: UrlopenDefaults;
  private readonly options: ConnectionPoolOptions;
  private readonly maxsize: number;
  private readonly block: boolean;
  private readonly slots: Slot[] = [];
  private readonly waiters: Waiter[] = [];
  /** The protocol the origin was last seen to speak. */
  private knownProtocol: Protocol | null = null;
  /**
   * A first request that asked to upgrade to h2c failed: some servers drop
   * the connection on an Upgrade they do not know. Later connections ask
   * no more, and speak HTTP/1.1.
   */
  private upgradeFailed = false;
  private closed = false;
  /** Connections being closed by close(). */
  private readonly closing = new Set<Promise<void>>();
  /** Pushed responses kept for later GETs (with `enablePush`). */
  private readonly pushes: PushCache | null;

  /**
   * @param host A host name or address (IPv6 with or without brackets).
   */
  constructor(host: string, options: ConnectionPoolOptions = {}) {
    if (typeof host !== 'string' || host.length === 0) throw new TypeError('A pool needs a host');
    this.host = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    this.scheme = new.target.scheme;
    const secure = this.scheme === 'https';
    this.port = options.port ?? (secure ? 443 : 80);
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) throw new RangeError(`Invalid port ${options.port}`);
    this.options = options;
    this.maxsize = options.maxsize ?? 1;
    if (!Number.isInteger(this.maxsize) || this.maxsize < 1) throw new RangeError(`maxsize must be a positive integer, got ${options.maxsize}`);
    this.block = options.block ?? false;
    this.headers = options.headers;
    this.retries = options.retries ?? Retry.DEFAULT;
    this.timeout = Timeout.resolve(options.timeout);
    this.defaults = urlopenDefaults({ headers: options.headers, retries: this.retries, timeout: this.timeout });
    this.pushes = options.enablePush === true ? new PushCache(options.pushCache) : null;
    // Refused here, before any connection: a typo in a pin must not wait for a server to show it.
    if (options.assertFingerprint !== undefined) normaliseFingerprint(options.assertFingerprint);
    this.tls = tlsOptionsOf(options);
    if (this.scheme === 'https' && this.tls?.rejectUnauthorized === false && !warnedInsecure) {
      warnedInsecure = true;
      process.emitWarning('TLS certificate verification is disabled for a pool: its connections can be intercepted. Use it only for testing.', {
        type: 'InsecureRequestWarning',
        code: 'HW_INSECURE_REQUEST',
      });
    }
  }

  /** The TLS options its connections use: the pool's `tls` with SNI and name checks as asked. */
  private readonly tls: tls.ConnectionOptions | undefined;

  /** `scheme://host:port` of this pool. */
  get origin(): string {
    return `${this.scheme}://${hostPort(this.host, this.port)}`;
  }

  /** The pool was closed or retired: it takes no new requests. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Connections the pool holds now (open, being opened, or winding down). */
  get connections(): number {
    return this.slots.length;
  }

  /**
   * Sends a request to this origin and returns its response, retrying and
   * following redirects (on this origin) as `retries` and `redirect` say.
   * `url` is a path, or a full URL of this origin.
   */
  urlopen(method: string, url: string, options: UrlopenOptions = {}): Promise<HTTPResponse> {
    let target: URL;
    try {
      target = this.absolute(url);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const route = options.assertSameHost === false ? this.anyHost : this.sameHost;
    return urlopenWithRetries(route, method, target, options, this.defaults);
  }

  /** Where a pool's own requests go: here, if the URL is on this origin. */
  private readonly sameHost = (target: URL): HTTPConnectionPool => {
    if (!this.isSameHost(target)) throw new HostChangedError(target.href, this.retries);
    return this;
  };

  private readonly anyHost = (): HTTPConnectionPool => this;

  /** `urlopen` after encoding `fields`, `json` or a web body type as urllib3's request() does. */
  async request(method: string, url: string, options: PoolRequestOptions = {}): Promise<HTTPResponse> {
    const encoded = await encodeForPool(method, url, options);
    return this.urlopen(method, encoded.url, encoded.options);
  }

  /** Whether `url` is on this pool's origin. */
  isSameHost(url: URL): boolean {
    // A forward proxy's pool carries requests to any http origin.
    if (this.options.proxy?.forward === true) return url.protocol === 'http:';
    const scheme = url.protocol.slice(0, -1);
    const port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    return scheme === this.scheme && host.toLowerCase() === this.host.toLowerCase() && port === this.port;
  }

  /**
   * Closes the pool: new requests fail with ClosedPoolError, requests
   * waiting for a connection fail, and every connection is closed
   * (gracefully: what is in flight may finish, for up to `closeTimeout`).
   */
  async close(): Promise<void> {
    this.closed = true;
    this.failWaiters(new ClosedPoolError(`Pool ${this.origin} is closed`));
    for (const slot of this.slots.splice(0)) this.closeSlot(slot);
    await Promise.all([...this.closing]);
  }

  /**
   * Takes no new requests, and closes each connection once the requests
   * on it are done (a pool the PoolManager let go of).
   */
  retire(): void {
    this.closed = true;
    this.failWaiters(new ClosedPoolError(`Pool ${this.origin} is closed`));
    for (const slot of this.slots.splice(0)) {
      slot.retired = true;
      if (slot.inUse === 0) this.closeSlot(slot);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** A path or a URL of this origin, as a URL. */
  private absolute(url: string): URL {
    if (typeof url !== 'string') throw new TypeError('url must be a string');
    if (url.startsWith('/') || url === '*') return new URL(url === '*' ? '/' : url, this.origin);
    return new URL(url);
  }

  // --- one attempt -----------------------------------------------------------

  /**
   * @internal One try of a request: a connection (or stream), the request,
   * the response head and, with `preloadContent`, its body. No retries.
   */
  async attempt(req: AttemptRequest): Promise<HTTPResponse> {
    if (req.signal?.aborted === true) throw abortError(req.signal);
    if (this.pushes !== null && req.method === 'GET' && (req.body === undefined || req.body === null)) {
      const pushed = await this.fromPush(req);
      if (pushed !== null) return pushed;
    }
    // Only a `total` needs a clock of this attempt's own; without one the
    // Timeout's values stand as they are (this runs per request).
    let timeout = req.timeout;
    if (timeout.total !== undefined) {
      timeout = timeout.clone();
      timeout.startConnect();
    }
    const acquired = this.acquire(req.signal, timeout.connectTimeout ?? 0);
    const slot = acquired instanceof Promise ? await acquired : acquired;
    // With `total`, a wait for a connection may have used up the time.
    const readTimeout = timeout.readTimeout;
    if (readTimeout === 0) {
      this.release(slot);
      throw new ReadTimeoutError(`${req.method} ${req.url}: the total timeout of ${timeout.total} ms ran out before the request was sent`);
    }
    let response: HTTPResponse;
    try {
      if (slot.dialing) await slot.ready;
      const conn = slot.conn;
      this.numRequests++;
      // A forward proxy is given the whole URL, less any fragment (RFC 9112 §3.2.2).
      const target = this.options.proxy?.forward === true ? req.url.replace(/#.*$/s, '') : req.path;
      const id = await conn.request(req.method, target, {
        headers: req.headers,
        body: req.body,
        timeout: readTimeout ?? 0,
        signal: req.signal,
      });
      if (slot.probing) this.settled(slot);
      const raw = await conn.getResponse(id);
      const pushes = this.pushes !== null && id !== null ? this.pushes : null;
      if (pushes !== null) this.collectPushes(conn, id!);
      response = new HTTPResponse({
        response: raw,
        url: req.url,
        protocol: conn.protocol ?? 'http/1.1',
        decodeContent: req.decodeContent,
        release:
          pushes === null
            ? () => this.release(slot)
            : () => {
                // Promises may also come while the body does.
                this.collectPushes(conn, id!);
                this.release(slot);
              },
      });
      if (debug.enabled) this.logResponse(req, conn.protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1', raw);
    } catch (err) {
      if (slot.probing) {
        this.upgradeFailed = true;
        this.settled(slot);
      }
      this.release(slot);
      throw err;
    }
    if (req.preloadContent) await response.preload();
    return response;
  }

  /**
   * @internal {@link attempt} without its waits, for the common case of a
   * busy HTTP/2 origin: when the origin is known to speak h2, nothing waits
   * for a connection, an h2 connection has a stream free, and the request
   * has no body, signal, total timeout or push to look for and preloads its
   * body. Then the stream opens now and the exchange costs one promise
   * before the response. Returns null, having done nothing, when it cannot
   * go so: use attempt().
   *
   * The outcome is handed on rather than returned, so the caller's checks
   * of it (redirects, retries) add no promise: `outcome.onResponse` gets
   * the preloaded response, `outcome.onError` whatever failed, and what
   * they return is what the promise settles to.
   */
  attemptNow<T>(req: AttemptRequest, outcome: AttemptOutcome<T>): Promise<T> | null {
    if (this.knownProtocol !== 'h2' || this.waiters.length > 0 || this.closed || this.pushes !== null) return null;
    if (req.body !== undefined && req.body !== null) return null;
    if (req.signal !== undefined || req.timeout.total !== undefined || !req.preloadContent) return null;
    // The first connection with a stream free, as freeSlot() picks; one
    // that has died or closed is left for attempt() to take out.
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot.dialing || slot.probing) continue;
      const conn = slot.conn;
      if (!conn.canOpenNow() || slot.inUse >= conn.maxConcurrentStreams) continue;
      this.reuse(slot);
      return this.exchangeNow(slot, conn, req, outcome);
    }
    return null;
  }

  private async exchangeNow<T>(
    slot: Slot,
    conn: HTTPConnection,
    req: AttemptRequest,
    outcome: AttemptOutcome<T>,
  ): Promise<T> {
    let raw: ConnectionResponse | null = null;
    let response: HTTPResponse;
    try {
      this.numRequests++;
      const id = conn.openWith(req.method, req.path, req.headers, undefined, req.timeout.readTimeout ?? 0, undefined);
      raw = await conn.getResponse(id);
      // Logged when the head arrives, as attempt() does, whatever the body does.
      if (debug.enabled) this.logResponse(req, 'HTTP/2', raw);
      const decodeContent = req.decodeContent;
      const body = raw.readNow(decodeContent) ?? (await raw.read(undefined, { decodeContent }));
      response = HTTPResponse.preloaded(raw, req.url, 'h2', decodeContent, body);
    } catch (err) {
      // As attempt() and preload(): a body that failed is given up.
      raw?.close();
      this.release(slot);
      return outcome.onError(err);
    }
    this.release(slot);
    return outcome.onResponse(response);
  }

  /** urllib3's request line: origin, method, path, version, status and length. */
  private logResponse(req: AttemptRequest, version: string, raw: ConnectionResponse): void {
    debug('%s "%s %s %s" %d %s', this.origin, req.method, req.path, version, raw.status, raw.headers.first('content-length') ?? '-');
  }

  /** The response to `req` from a kept push, or null if there is none (or it failed). */
  private async fromPush(req: AttemptRequest): Promise<HTTPResponse | null> {
    const push = this.pushes!.take(req.path);
    if (push === null) return null;
    let raw;
    try {
      raw = await push.getResponse();
    } catch {
      // The server reset it meanwhile: ask for it after all.
      return null;
    }
    debug('%s "%s %s HTTP/2" %d (pushed)', this.origin, req.method, req.path, raw.status);
    const response = new HTTPResponse({ response: raw, url: req.url, protocol: 'h2', decodeContent: req.decodeContent, release: () => {}, fromPush: true });
    if (req.preloadContent) await response.preload();
    return response;
  }

  /** Keeps the pushes promised on stream `id` so far: those for this origin; others are cancelled (RFC 9113 §8.4). */
  private collectPushes(conn: HTTPConnection, id: number): void {
    const pushes = this.pushes!;
    const authority = hostPort(this.host, this.port);
    const bare = this.port === (this.scheme === 'https' ? 443 : 80) ? authority.slice(0, authority.lastIndexOf(':')) : authority;
    void (async () => {
      for await (const push of conn.getPushes({ streamId: id })) {
        const a = push.authority.toLowerCase();
        if (push.scheme === this.scheme && (a === authority.toLowerCase() || a === bare.toLowerCase())) pushes.add(push);
        else push.cancel();
      }
    })().catch(() => {});
  }

  // --- connections -------------------------------------------------------------

  /** A connection with room for one more request: at once when there is one, else when one frees up or is made. */
  private acquire(signal: AbortSignal | undefined, connectTimeout: number): Slot | Promise<Slot> {
    if (this.closed) throw new ClosedPoolError(`Pool ${this.origin} is closed`);
    if (this.waiters.length === 0) {
      const free = this.freeSlot();
      if (free !== null) {
        this.reuse(free);
        return free;
      }
      if (this.mayOpen()) return this.open(connectTimeout);
    }
    return this.wait(signal, connectTimeout);
  }

  /** Queues for a connection: aborted by `signal`, and in a blocking pool given up after poolTimeout. */
  private wait(signal: AbortSignal | undefined, connectTimeout: number): Promise<Slot> {
    const waiter = new Waiter(this, signal, connectTimeout);
    const promise = waiter.slot.promise;
    if (signal !== undefined) signal.addEventListener('abort', waiter, { once: true });
    // A blocking pool at its size may wait for long: poolTimeout bounds it
    // (urllib3's pool_timeout). Otherwise the wait is for a dial in
    // progress, which its connect timeout bounds. A deadline, not a timer:
    // long ones share one coarse clock.
    const limit = this.options.poolTimeout ?? connectTimeout;
    if (limit > 0) {
      waiter.deadline = startDeadline(limit, () => {
        waiter.deadline = undefined;
        this.dropWaiter(waiter, new EmptyPoolError(`Pool ${this.origin} reached its maximum size and no connection was free within ${limit} ms`));
      });
    }
    this.waiters.push(waiter);
    // A slot may have freed up between the checks and now (an abort, say).
    this.dispatch();
    return promise;
  }

  /** @internal A waiter gives up (aborted, or out of time): out of the queue, and its wait fails. */
  dropWaiter(waiter: Waiter, error: Error): void {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    waiter.cleanup();
    waiter.slot.reject(error);
  }

  /** Hands free capacity (or new connections) to waiting requests, in order. */
  private dispatch(): void {
    while (this.waiters.length > 0) {
      let slot = this.freeSlot();
      if (slot !== null) this.take(slot);
      else if (this.mayOpen()) slot = this.open(this.waiters[0]!.connectTimeout);
      else return;
      const waiter = this.waiters.shift()!;
      waiter.cleanup();
      waiter.slot.resolve(slot);
    }
  }

  /** A connection with room for another request now, or null. HTTP/2 ones first: a request there costs no connection. */
  private freeSlot(): Slot | null {
    let h1: Slot | null = null;
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i]!;
      if (slot.dialing || slot.probing) continue;
      const conn = slot.conn;
      if (!conn.isAvailable) {
        this.retireSlot(slot);
        i--;
        continue;
      }
      if (conn.protocol === 'h2') {
        if (slot.inUse < conn.maxConcurrentStreams) return slot;
      } else if (slot.inUse === 0 && h1 === null) {
        h1 = slot;
      }
    }
    return h1;
  }

  /** Whether another connection may be opened for a request that found none free. */
  private mayOpen(): boolean {
    if (this.closed) return false;
    // Cold start: while a connection is being made or probed, its protocol
    // is not known; if it is h2 it will carry every waiting request, so
    // nobody dials beside it. Only an origin known to speak HTTP/1.1 dials
    // in parallel.
    if (this.knownProtocol !== 'http/1.1' && this.slots.some((s) => s.dialing || s.probing)) return false;
    return !this.block || this.slots.length < this.maxsize;
  }

  /** Opens a connection, with the request that asked for it counted on it. */
  private open(connectTimeout: number): Slot {
    const conn = new HTTPConnection(hostPort(this.host, this.port), this.connectionOptions(connectTimeout));
    this.numConnections++;
    debug('Starting new %s connection (%d): %s:%d', this.scheme.toUpperCase(), this.numConnections, this.host, this.port);
    const slot: Slot = {
      conn,
      inUse: 1,
      ready: conn.connect(),
      dialing: true,
      probing: false,
      retired: false,
      unwatch: () => {},
    };
    slot.unwatch = conn.watch(() => this.changed(slot));
    this.slots.push(slot);
    if (poolChannels.connectionCreated.hasSubscribers) poolChannels.connectionCreated.publish({ pool: this, connection: conn });
    slot.ready.then(
      () => {
        slot.dialing = false;
        if (conn.protocol === null) slot.probing = true;
        else this.knownProtocol = conn.protocol;
        this.dispatch();
      },
      (err: Error) => {
        slot.dialing = false;
        this.retireSlot(slot);
        // The requests that waited for this connection's protocol hear why it
        // failed (each retries under its own Retry); without this they would
        // dial one after another, each waiting out the same failure.
        if (!this.slots.some((s) => s.dialing || s.probing)) this.failWaiters(err);
        else this.dispatch();
      },
    );
    return slot;
  }

  /** The protocol of a probing connection is known now (its first request was answered, or failed). */
  private settled(slot: Slot): void {
    slot.probing = false;
    const protocol = slot.conn.protocol;
    if (protocol !== null) this.knownProtocol = protocol;
    this.dispatch();
  }

  /** Options of a new connection: the pool's, its request's connect timeout, and no retries of its own. */
  private connectionOptions(connectTimeout: number): HTTPConnectionOptions {
    const o = this.options;
    const options: HTTPConnectionOptions = {
      port: this.port,
      secure: this.scheme === 'https',
      // Read timeouts are per request; the pool owns every retry.
      timeout: { connect: connectTimeout, read: 0 },
      retryIdleReset: false,
    };
    if (this.tls !== undefined) options.tls = this.tls;
    if (o.assertFingerprint !== undefined) options.assertFingerprint = o.assertFingerprint;
    if (o.dialer !== undefined) options.dialer = o.dialer;
    const proxy = o.proxy;
    if (proxy !== undefined) {
      if (proxy.headers !== undefined) options.proxyHeaders = proxy.headers;
      if (proxy.forward) {
        // To the proxy itself, HTTP/1.1, requests in absolute form.
        options.forwardProxy = true;
        options.forceProto = 'http/1.1';
        if (proxy.tls !== undefined) options.tls = proxy.tls;
        return options;
      }
      options.proxyHost = proxy.host;
      options.proxyPort = proxy.port;
      if (proxy.tls !== undefined) options.proxyTls = proxy.tls;
    }
    if (o.enablePush !== undefined) options.enablePush = o.enablePush;
    if (o.windowManager !== undefined) options.windowManager = o.windowManager;
    if (o.headerCodec !== undefined) options.headerCodec = o.headerCodec;
    if (o.maxHeaderSize !== undefined) options.maxHeaderSize = o.maxHeaderSize;
    if (o.networkBufferSize !== undefined) options.networkBufferSize = o.networkBufferSize;
    if (o.closeTimeout !== undefined) options.closeTimeout = o.closeTimeout;
    if (o.http2Options !== undefined) options.http2 = o.http2Options;
    if (o.http2 === false) options.forceProto = 'http/1.1';
    else if (o.priorKnowledge === true) options.priorKnowledge = true;
    else if (this.upgradeFailed) options.upgrade = false;
    return options;
  }

  /** A request takes a connection the pool already has (and says so on the diagnostics channel). */
  private reuse(slot: Slot): void {
    this.take(slot);
    if (poolChannels.connectionReused.hasSubscribers) poolChannels.connectionReused.publish({ pool: this, connection: slot.conn });
  }

  /** One more request on a connection: a busy connection keeps the process alive. */
  private take(slot: Slot): void {
    if (slot.inUse++ === 0) slot.conn.ref();
  }

  /** A request is done with its connection (its body read, released, or failed). */
  private release(slot: Slot): void {
    // Idle, it does not keep the process alive (as undici's idle sockets).
    if (--slot.inUse === 0) slot.conn.unref();
    if (slot.retired) {
      if (slot.inUse === 0) this.closeSlot(slot);
      return;
    }
    // A non-blocking pool may have opened more than maxsize; the extra ones
    // go once idle (urllib3 discards them when the pool is full).
    if (slot.inUse === 0 && this.waiters.length === 0 && this.slots.length > this.maxsize) {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      this.closeSlot(slot);
      return;
    }
    this.dispatch();
  }

  /** The connection reported a change: dead or GOAWAY takes it out; a freed slot or new limits may serve a waiter. */
  private changed(slot: Slot): void {
    if (!slot.retired && !slot.dialing && !slot.conn.isAvailable) this.retireSlot(slot);
    this.dispatch();
  }

  /** Takes a connection out of the pool; it is closed once the requests on it are done. */
  private retireSlot(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (slot.retired) return;
    slot.retired = true;
    if (slot.inUse === 0) this.closeSlot(slot);
  }

  private closeSlot(slot: Slot): void {
    slot.retired = true;
    slot.unwatch();
    const done = slot.conn
      .close()
      .catch(() => {})
      .finally(() => {
        this.closing.delete(done);
        if (poolChannels.connectionClosed.hasSubscribers) poolChannels.connectionClosed.publish({ pool: this, connection: slot.conn });
      });
    this.closing.add(done);
  }

  private failWaiters(error: Error): void {
    for (const w of this.waiters.splice(0)) {
      w.cleanup();
      w.slot.reject(error);
    }
  }
}

/** A pool of TLS connections: HTTP/2 by ALPN where the server offers it. */
export class HTTPSConnectionPool extends HTTPConnectionPool {
  static override readonly scheme = 'https';
}

/** A pool's TLS options with `serverHostname` and `assertHostname` folded in. */
function tlsOptionsOf(options: ConnectionPoolOptions): tls.ConnectionOptions | undefined {
  const { serverHostname, assertHostname } = options;
  if (serverHostname === undefined && assertHostname === undefined) return options.tls;
  const out: tls.ConnectionOptions = { ...options.tls };
  if (serverHostname !== undefined) out.servername = serverHostname;
  if (assertHostname === false) out.checkServerIdentity = () => undefined;
  else if (assertHostname !== undefined) out.checkServerIdentity = (_host, cert) => tls.checkServerIdentity(assertHostname, cert);
  return out;
}
