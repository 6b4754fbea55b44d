/**
 * HTTP11Connection: HTTP/1.1 (RFC 9112) behind the same calls as
 * HTTP20Connection. `request()` resolves to null (there are no stream IDs);
 * `getResponse()` returns responses in request order.
 *
 * One request is on the wire at a time: requests made before the previous
 * response has arrived are queued and sent, in order, as soon as it has
 * (no pipelining, which many servers and proxies get wrong). So
 * `await request(); await request(); getResponse(); getResponse()` works as
 * on HTTP/2. The connection is kept alive and reused; when the server
 * closes it, the next request reconnects.
 */

import * as net from 'node:net';
import type * as tls from 'node:tls';
import { debuglog } from 'node:util';
import { deferred, type Deferred, Eventual, waitAtMost, wakeAll } from '../common/async.js';
import { BodyQueue, type BodyOwner } from '../common/body-queue.js';
import type { ResponseOwner } from '../common/response.js';
import { normaliseBody, type NormalisedBody, type RequestBody } from '../common/body.js';
import { channels } from '../common/diagnostics.js';
import { cancelDeadline, startDeadline, type Deadline } from '../common/timers.js';
import { abortError, ConnectionError, ConnectTimeoutError, HTTP11Error, HyperwireError, ProxyError, ReadTimeoutError, TLSError } from '../common/errors.js';
import { HTTPHeaderMap, type HeadersInit } from '../common/headers.js';
import { alpnOf, authorityOf, dialOptionsOf, dialTCP, dialTLS, type Dialer, type EndpointOptions, closeWaitOf, hostPort, resolveEndpoint, resolveTimeouts, waitConnected } from '../common/net.js';
import { ResponseParser, type ResponseHandler } from './parser.js';
import { serialiseRequestHead, type RequestHead } from './request.js';
import { HTTP11Response } from './response.js';
import { dialOrigin } from './tunnel.js';

const debug = debuglog('hyperwire');

/** Options of {@link HTTP11Connection}. */
export interface HTTP11ConnectionOptions extends EndpointOptions {
  /** Most octets in a response head or trailer section. Default 64 KiB. */
  maxHeaderSize?: number;
  /** An HTTP proxy: https targets go through a CONNECT tunnel, http targets are sent to it in absolute form. */
  proxyHost?: string;
  /** The proxy's port. Default 8080. */
  proxyPort?: number;
  /** Fields sent to the proxy (on CONNECT, or on every request in absolute form), e.g. Proxy-Authorization. */
  proxyHeaders?: HeadersInit;
  /** An https:// proxy: TLS to the proxy with these options. */
  proxyTls?: tls.ConnectionOptions;
  /** Another way to reach the origin (a SOCKS proxy, say): TLS runs over what it returns. */
  dialer?: Dialer;
  /**
   * This connection goes to a forward proxy (the authority is the
   * proxy's): each request names its target as an absolute `http://` URL,
   * sent in absolute form with Host from it (RFC 9112 §3.2.2), so one
   * connection carries requests to any origin. `proxyHeaders` go on each.
   */
  forwardProxy?: boolean;
  /** An already connected socket to use first (TLS with http/1.1 or no ALPN, or cleartext). */
  socket?: net.Socket;
  /**
   * Send an idempotent request again, once, when a reused keep-alive
   * connection turns out to have been closed by the server before it
   * answered (RFC 9112 §9.3.1). Default true; a pool that counts every
   * attempt itself turns it off.
   */
  retryIdleReset?: boolean;
}

/** Options of a request. */
export interface HTTP11RequestOptions {
  headers?: HeadersInit;
  body?: RequestBody;
  /** This request's read timeout in ms, instead of the connection's; 0 for none. */
  timeout?: number;
  /**
   * Aborts the request: one still queued is dropped; one on the wire
   * fails and its socket is closed (HTTP/1.1 cannot cancel otherwise).
   */
  signal?: AbortSignal;
}

/** @internal What a 101 to an Upgrade request hands over. */
export interface Switched {
  socket: net.Socket;
  /** What the server sent after the 101, which belongs to the new protocol. */
  rest: Buffer;
}

/** What an exchange's owner asks of its connection (one object per connection). */
interface ExchangeHost {
  maybeResume(ex: Exchange): void;
  stalled(ex: Exchange, error: HyperwireError): void;
  abandon(ex: Exchange): void;
}

/**
 * The owner of an exchange's body queue and response: one object, its
 * methods on the prototype, where closures for each would be four.
 */
class ExchangeOwner implements BodyOwner, ResponseOwner {
  constructor(
    private readonly host: ExchangeHost,
    private readonly ex: Exchange,
  ) {}

  bodyConsumed(): void {
    this.host.maybeResume(this.ex);
  }

  /** A body that stalls holds the wire: it fails, and the socket goes so that requests queued behind it can proceed on a new one. */
  bodyTimedOut(error: ReadTimeoutError): void {
    this.host.stalled(this.ex, error);
  }

  responseTrailers(): HTTPHeaderMap | null {
    return this.ex.trailers;
  }

  closeResponse(): void {
    this.host.abandon(this.ex);
  }
}

/** What request() resolves with once a request is in line: shared, it is the same for every one. */
const RESOLVED_NULL: Promise<null> = Promise.resolve(null);

/** One request and its response. */
interface Exchange {
  method: string;
  path: string;
  head: RequestHead;
  body: NormalisedBody | null;
  response: Eventual<HTTP11Response>;
  bodyQueue: BodyQueue;
  /** What its body queue and its response call back. */
  owner: ExchangeOwner;
  trailers: HTTPHeaderMap | null;
  /** The head went out. */
  sent: boolean;
  /** Sent on a connection that had carried requests before. */
  reused: boolean;
  /** Any part of the response arrived. */
  responded: boolean;
  /** The response is complete (or abandoned). */
  done: boolean;
  failed: HyperwireError | null;
  /** Its body may buffer without limit (a later response was asked for). */
  unbounded: boolean;
  retried: boolean;
  /** Waiting for 100 Continue before sending the body. */
  continueWaiter: (() => void) | null;
  /**
   * The whole body (if any) was written. A final response that ends before
   * that (after an Expect: 100-continue refusal, or while a stream is still
   * being sent) leaves the request's framing unfinished: the connection
   * cannot carry another request.
   */
  bodySent: boolean;
  /** Called once the head is on the wire (starts a read timeout). */
  onSent: (() => void) | null;
  /** Set for an Upgrade request: settles with the switch, or null if the server answered otherwise. */
  upgrade: Deferred<Switched | null> | null;
  /** Its read timeout in ms (0: none). */
  readTimeout: number;
  /** Removes the listener on the request's AbortSignal, if it has one. */
  unlisten: (() => void) | null;
  /** The read timeout of the wait for the response head, while armed. */
  headDeadline: Deadline | null;
}

/** Methods that may be sent again after a connection was lost before any response (RFC 9110 §9.2.2). */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Body pieces (chunks of a chunked body, socket reads) buffered unread before the socket is paused. */
const MAX_PIECES = 1024;

/** How long to wait for 100 Continue before sending the body anyway (RFC 9110 §10.1.1). */
const CONTINUE_TIMEOUT = 1000;

/**
 * One HTTP/1.1 connection to one origin, kept alive and reused. It connects
 * on the first request.
 */
export class HTTP11Connection {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  /** The value of Host for requests. */
  readonly authority: string;
  private readonly options: HTTP11ConnectionOptions;
  /** Requests go to an HTTP proxy in absolute form (a proxy, and an http target). */
  private readonly absoluteForm: boolean;
  /** Proxy fields added to every request in absolute form; else undefined. */
  private readonly proxyFields: ReadonlyArray<readonly [string, string]> | undefined;
  private readonly readTimeout: number;
  private readonly highWater: number;
  private socket: net.Socket | null = null;
  private parser: ResponseParser | null = null;
  private connecting: Promise<void> | null = null;
  /** Requests made that have not been sent yet, in order. */
  private readonly queue: Exchange[] = [];
  /** Requests whose response nobody has asked for yet, in order. */
  private readonly outstanding: Exchange[] = [];
  /** The request on the wire. */
  private current: Exchange | null = null;
  /** Requests carried by the present socket. */
  private carried = 0;
  /** What requests fail with once close() has stopped waiting for what was in flight (it is `closing` from its start). */
  private closed: HyperwireError | null = null;
  /** A 101 handed the socket to another protocol. */
  private switched = false;
  private givenSocket: net.Socket | undefined;
  private readonly idleWaiters = new Set<() => void>();
  private lastSocketError: Error | null = null;
  /** Aborted by close() (a dial in progress stops): nothing new starts. */
  private readonly dialAbort = new AbortController();
  /** The parser is inside execute(): the next request waits until it returns. */
  private executing = false;
  private pumpLater = false;

  /**
   * @param authority `host`, `host:port` or `[v6]:port`.
   */
  constructor(authority: string, options: HTTP11ConnectionOptions = {}) {
    ({ host: this.host, port: this.port, secure: this.secure } = resolveEndpoint(authority, options));
    this.authority = authorityOf(this);
    this.options = options;
    this.absoluteForm = options.proxyHost !== undefined && !this.secure;
    this.proxyFields = (this.absoluteForm || options.forwardProxy === true) && options.proxyHeaders !== undefined ? [...new HTTPHeaderMap(options.proxyHeaders)] : undefined;
    this.readTimeout = resolveTimeouts(options.timeout).read;
    this.highWater = options.networkBufferSize ?? 65_536;
    this.givenSocket = options.socket;
  }

  /**
   * close() was called: nothing new starts. A field, not the dial signal's
   * `aborted`: a pool asks every connection's isAvailable per request, and
   * AbortSignal's getter checks its receiver each time.
   */
  private closing = false;

  /** Connects now (requests do this on their own). */
  connect(): Promise<void> {
    if (this.closed !== null) return Promise.reject(this.closed);
    if (this.socket !== null && !this.socket.destroyed) return Promise.resolve();
    if (this.connecting === null) {
      this.connecting = this.dial().finally(() => {
        this.connecting = null;
      });
      this.connecting.catch(() => {});
    }
    return this.connecting;
  }

  /**
   * Sends a request, or queues it behind the one on the wire. Resolves to
   * null (HTTP/1.1 has no stream IDs) once the connection is up. A body is
   * sent with Content-Length when its length is known, else chunked; with
   * `Expect: 100-continue` it waits for the server's go-ahead.
   *
   * @throws TypeError for an illegal method, path, header name or value
   *   (CR or LF included), before anything is sent.
   */
  request(method: string, url: string, options: HTTP11RequestOptions = {}): Promise<null> {
    let ex: Exchange;
    try {
      ex = this.prepare(method, url, options, undefined);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) return Promise.reject(abortError(signal));
      const onAbort = (): void => this.stalled(ex, abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      // Once the exchange is over (or failed) the listener has nothing to do.
      ex.unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    if (this.socket !== null && !this.socket.destroyed && this.closed === null && !this.closing && !this.switched) {
      // Connected: in line at once, with no wait (this runs per request).
      // The write waits for a microtask, as it did behind the wait for the
      // connection: a close() right after this call still finds it unsent.
      this.enqueue(ex, true);
      return RESOLVED_NULL;
    }
    return this.submit(ex).then(() => null);
  }

  /** Lets the process exit while this connection is idle (`unref()`), or not (`ref()`, the default); kept across reconnects. */
  ref(): void {
    this.refd = true;
    this.socket?.ref();
  }

  unref(): void {
    this.refd = false;
    this.socket?.unref();
  }

  private refd = true;

  /** Whether new requests can go on this connection: close() has not been called and no protocol switch took it. */
  get isAvailable(): boolean {
    return !this.closing && !this.switched;
  }

  /** close() has been called: the connection takes no more requests. */
  get isClosed(): boolean {
    return this.closing;
  }

  /** Requests made whose exchange is not over yet (queued, on the wire, or with a body still arriving). */
  get activeStreams(): number {
    return this.queue.length + (this.current === null ? 0 : 1);
  }

  /**
   * @internal Sends a request asking to switch protocols (`Upgrade`).
   * Resolves with the socket if the server answers 101, or null if it
   * answers otherwise (that response is then the request's response).
   */
  async requestUpgrade(method: string, url: string, options: HTTP11RequestOptions, extra: ReadonlyArray<readonly [string, string]>): Promise<Switched | null> {
    const ex = this.prepare(method, url, options, extra);
    ex.upgrade = deferred<Switched | null>();
    await this.submit(ex);
    try {
      return await ex.upgrade.promise;
    } catch (err) {
      // The request failed as a whole (its caller hears it here): its
      // response must not be handed to the next getResponse().
      const i = this.outstanding.indexOf(ex);
      if (i >= 0) this.outstanding.splice(i, 1);
      throw err;
    }
  }

  /**
   * The response to the oldest request whose response has not been asked
   * for. If an earlier response's body is still unread, it is read into
   * memory so this one can arrive.
   */
  getResponse(): Promise<HTTP11Response> {
    const ex = this.outstanding.shift();
    if (ex === undefined) return Promise.reject(new Error('No outstanding request to get a response for'));
    const cur = this.current;
    if (cur !== null && cur !== ex && !cur.unbounded) {
      cur.unbounded = true;
      this.socket?.resume();
    }
    if (ex.readTimeout > 0 && !ex.response.settled) {
      // The wait is timed from when the request is on the wire: time spent
      // queued behind an earlier response is not the server stalling.
      if (ex.sent) this.armHead(ex);
      else ex.onSent = () => this.armHead(ex);
    }
    return ex.response.promise;
  }

  /**
   * Starts the read timeout of `ex`'s response head: a deadline, not a
   * promise around the response (this runs per request, and the timeout
   * almost never fires).
   */
  private armHead(ex: Exchange): void {
    if (ex.done || ex.response.settled) return;
    const readTimeout = ex.readTimeout;
    ex.headDeadline = startDeadline(readTimeout, () => {
      ex.headDeadline = null;
      if (ex.response.settled) return;
      // A server that stalls holds the wire: the request fails, and the
      // socket goes so that requests queued behind it can proceed.
      this.stalled(ex, new ReadTimeoutError(`Timed out after ${readTimeout} ms waiting for the response to ${ex.method} ${ex.path}`));
    });
  }

  private disarmHead(ex: Exchange): void {
    if (ex.headDeadline !== null) {
      cancelDeadline(ex.headDeadline);
      ex.headDeadline = null;
    }
  }

  /** A wait on `ex` timed out: it fails, and if it holds the wire the socket goes. */
  private stalled(ex: Exchange, error: HyperwireError): void {
    if (ex.done) return;
    this.fail(ex, error);
    const i = this.queue.indexOf(ex);
    if (i >= 0) this.queue.splice(i, 1);
    this.dropWire(ex);
  }

  /** The wire is free: nothing is in flight (a close() waiting for that may go on). */
  private release(): void {
    this.current = null;
    wakeAll(this.idleWaiters);
  }

  /**
   * `ex` failed or was given up while on the wire: its framing is lost, so
   * the socket goes and the requests queued behind it move to a new one.
   */
  private dropWire(ex: Exchange): void {
    if (this.current !== ex) return;
    this.release();
    if (this.socket !== null) this.retire(this.socket, true);
    this.pump();
  }

  /** HTTP/1.1 has no server push: yields nothing. */
  async *getPushes(_options: { streamId?: number; captureAll?: boolean } = {}): AsyncGenerator<never> {
    return;
  }

  /**
   * Closes the connection. Requests not yet sent fail; the response on the
   * wire may finish (its body is buffered) for up to `closeTimeout`.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.dialAbort.abort();
    const error = new ConnectionError('HW_ERR_CONNECTION_CLOSED', 'Connection closed: request not sent');
    for (const ex of this.queue.splice(0)) this.fail(ex, error);
    const cur = this.current;
    if (cur !== null) {
      cur.unbounded = true;
      this.socket?.resume();
      await waitAtMost(new Promise<void>((resolve) => this.idleWaiters.add(resolve)), closeWaitOf(this.options));
    }
    this.closed = new ConnectionError('HW_ERR_CONNECTION_CLOSED', 'Connection closed');
    const socket = this.socket;
    if (this.current !== null) this.fail(this.current, new ConnectionError('HW_ERR_CONNECTION_CLOSED', 'Connection closed before the response was complete'));
    if (socket !== null && !socket.destroyed && !this.switched) {
      const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.end();
      await waitAtMost(gone, 1000);
      socket.destroy();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- internals ---------------------------------------------------------------

  private prepare(method: string, url: string, options: HTTP11RequestOptions, extra: ReadonlyArray<readonly [string, string]> | undefined): Exchange {
    const body = normaliseBody(options.body);
    let target = url;
    let extraFields = extra;
    let host = this.authority;
    if (this.absoluteForm && typeof url === 'string' && url.startsWith('/')) {
      // Through a proxy, an http request names its origin (RFC 9112 §3.2.2).
      target = `http://${this.authority}${url}`;
      if (this.proxyFields !== undefined) extraFields = extra === undefined ? this.proxyFields : [...extra, ...this.proxyFields];
    } else if (this.options.forwardProxy === true && typeof url === 'string' && /^http:\/\//i.test(url)) {
      // Host is the target's authority, which the absolute form names too (RFC 9112 §3.2.2).
      host = absoluteAuthority(url);
      if (this.proxyFields !== undefined) extraFields = extra === undefined ? this.proxyFields : [...extra, ...this.proxyFields];
    } else if (typeof url === 'string' && !url.startsWith('/') && !(url === '*' && method === 'OPTIONS')) {
      throw new TypeError(`Invalid path ${JSON.stringify(url)}: it must start with /`);
    }
    const head = serialiseRequestHead({
      method,
      target,
      host,
      headers: options.headers,
      bodyLength: body === null ? null : body.length,
      extra: extraFields,
    });
    const readTimeout = options.timeout ?? this.readTimeout;
    const ex: Exchange = {
      // Methods are case-sensitive (RFC 9110 §9.1): only HEAD is HEAD.
      method,
      path: url,
      head,
      body,
      response: new Eventual<HTTP11Response>(),
      bodyQueue: null!,
      owner: null!,
      trailers: null,
      sent: false,
      reused: false,
      responded: false,
      done: false,
      failed: null,
      unbounded: false,
      retried: false,
      continueWaiter: null,
      bodySent: body === null,
      onSent: null,
      upgrade: null,
      readTimeout,
      unlisten: null,
      headDeadline: null,
    };
    ex.owner = new ExchangeOwner(this.exchangeHost, ex);
    ex.bodyQueue = new BodyQueue(ex.owner, readTimeout);
    return ex;
  }

  /** Throws once close() has been called: nothing new starts. */
  private refuseIfClosing(): void {
    if (this.closing) throw this.closed ?? new ConnectionError('HW_ERR_CONNECTION_CLOSED', 'The connection is closing: no new requests');
  }

  private async submit(ex: Exchange): Promise<void> {
    this.refuseIfClosing();
    if (this.switched) throw new ConnectionError('HW_ERR_SWITCHED', 'The connection switched protocols');
    if (this.current === null && this.queue.length === 0) await this.connect();
    // close() may have come while connecting.
    this.refuseIfClosing();
    this.enqueue(ex);
  }

  /** Puts a request in line on a connection that is up; with `later`, it is sent from a microtask. */
  private enqueue(ex: Exchange, later = false): void {
    this.queue.push(ex);
    this.outstanding.push(ex);
    if (channels.requestStart.hasSubscribers) channels.requestStart.publish({ connection: this, streamId: null, method: ex.method, path: ex.path });
    if (!later) {
      this.pump();
    } else if (this.current === null && !this.pumpQueued) {
      this.pumpQueued = true;
      queueMicrotask(this.queuedPump);
    }
  }

  private pumpQueued = false;

  /** What every exchange's owner of this connection calls back. */
  private readonly exchangeHost: ExchangeHost = {
    maybeResume: (ex) => this.maybeResume(ex),
    stalled: (ex, error) => this.stalled(ex, error),
    abandon: (ex) => this.abandon(ex),
  };

  private readonly queuedPump = (): void => {
    this.pumpQueued = false;
    this.pump();
  };

  /** Sends the next queued request when the wire is free, reconnecting if need be. */
  private pump(): void {
    // An exchange that failed while queued (its getResponse() timed out) is
    // dropped, not sent: the caller was told it failed and may send it again.
    while (this.queue.length > 0 && this.queue[0]!.failed !== null) this.queue.shift();
    if (this.current !== null || this.queue.length === 0 || this.switched) return;
    const socket = this.socket;
    if (socket === null || socket.destroyed || this.parser === null) {
      if (this.connecting !== null) return;
      this.connect().then(
        () => this.pump(),
        (err: HyperwireError) => {
          for (const ex of this.queue.splice(0)) this.fail(ex, err);
        },
      );
      return;
    }
    const ex = this.queue.shift()!;
    this.current = ex;
    ex.sent = true;
    ex.reused = this.carried > 0;
    this.carried++;
    this.parser.expect(ex.method);
    ex.onSent?.();
    ex.onSent = null;
    if (debug.enabled) debug('http/1.1 %s %s', ex.method, ex.path);
    const bytes = ex.body?.bytes;
    if (bytes !== undefined && !ex.head.expectContinue) {
      // Head and body in one write when the body is in memory.
      socket.cork();
      socket.write(ex.head.bytes);
      if (channels.headSent.hasSubscribers) channels.headSent.publish({ connection: this, head: ex.head.bytes });
      if (bytes.length > 0) socket.write(bytes);
      socket.uncork();
      ex.bodySent = true;
      return;
    }
    socket.write(ex.head.bytes);
    if (channels.headSent.hasSubscribers) channels.headSent.publish({ connection: this, head: ex.head.bytes });
    if (ex.body !== null) void this.sendBody(ex, socket);
  }

  private async sendBody(ex: Exchange, socket: net.Socket): Promise<void> {
    const body = ex.body!;
    try {
      if (ex.head.expectContinue) {
        // RFC 9110 §10.1.1: wait for 100 (or a final status), but not forever.
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          ex.continueWaiter = resolve;
          timer = setTimeout(resolve, CONTINUE_TIMEOUT);
        });
        clearTimeout(timer);
        ex.continueWaiter = null;
        // Only a final response (not the 100 itself, which sets
        // `responded`) means the body is not wanted. The body is then not
        // sent; since bodySent stays false, the response's end retires the
        // socket (doing it here, a microtask after onEnd, was too late: a
        // queued request had already gone out on the socket).
        if (ex.response.settled || ex.done || socket.destroyed) return;
      }
      if (body.bytes !== undefined) {
        socket.write(body.bytes);
        ex.bodySent = true;
        return;
      }
      let sent = 0;
      for await (const chunk of body.stream!) {
        if (socket.destroyed || ex.done) return;
        if (chunk.length === 0) continue;
        sent += chunk.length;
        let ok: boolean;
        if (ex.head.chunked) {
          socket.cork();
          socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
          socket.write(chunk);
          ok = socket.write('\r\n', 'latin1');
          socket.uncork();
        } else {
          if (sent > ex.head.contentLength) throw new TypeError(`The body is longer than its Content-Length (${ex.head.contentLength})`);
          ok = socket.write(chunk);
        }
        if (!ok) await this.drained(socket);
      }
      if (ex.head.chunked) socket.write('0\r\n\r\n', 'latin1');
      else if (sent !== ex.head.contentLength) throw new TypeError(`The body is shorter than its Content-Length (${sent} of ${ex.head.contentLength})`);
      ex.bodySent = true;
    } catch (err) {
      // The request cannot be completed on this connection: its framing is lost.
      const error = err instanceof HyperwireError ? err : new ConnectionError('HW_ERR_REQUEST_BODY', `Sending the request body failed: ${(err as Error).message}`, { cause: err });
      this.fail(ex, error);
      // Free the wire too: left as `current`, the failed exchange blocked
      // every later request on this connection.
      this.retire(socket, true);
      this.dropWire(ex);
    }
  }

  private drained(socket: net.Socket): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  private async dial(): Promise<void> {
    const given = this.givenSocket;
    this.givenSocket = undefined;
    const socket = given ?? (await this.openSocket());
    if (given !== undefined && given.connecting) await waitConnected(given, 'connect', dialOptionsOf(this.host, this.port, this.options, this.dialAbort.signal));
    if (this.closing) {
      // close() was called while connecting: without this the request that
      // started the connect went out after close(), on a socket nobody closed.
      socket.destroy();
      this.refuseIfClosing();
    }
    if (this.secure && given === undefined) {
      const alpn = alpnOf(socket);
      if (alpn !== null && alpn !== 'http/1.1') {
        socket.destroy();
        throw new TLSError('HW_ERR_ALPN', `The server at ${this.host}:${this.port} selected ${alpn} by ALPN, not http/1.1`);
      }
    }
    this.attach(socket);
    debug('connected to %s:%d (http/1.1%s)', this.host, this.port, this.secure ? ' over TLS' : '');
  }

  /** A new socket: direct, to an HTTP proxy, or TLS through a proxy's tunnel. */
  private openSocket(): Promise<net.Socket> {
    const { proxyHost, proxyPort, proxyHeaders, proxyTls, dialer } = this.options;
    const signal = this.dialAbort.signal;
    if (this.absoluteForm) {
      const toProxy = dialOptionsOf(proxyHost!, proxyPort ?? 8080, this.options, signal);
      return asProxyFailure(proxyTls === undefined ? dialTCP(toProxy) : dialTLS({ ...toProxy, tls: proxyTls, alpn: ['http/1.1'] }), toProxy);
    }
    if (this.options.forwardProxy === true) {
      // This connection's own authority is the proxy.
      const toProxy = dialOptionsOf(this.host, this.port, this.options, signal);
      return asProxyFailure(this.secure ? dialTLS({ ...toProxy, tls: this.options.tls, alpn: ['http/1.1'] }) : dialTCP(toProxy), toProxy);
    }
    return dialOrigin({ ...dialOptionsOf(this.host, this.port, this.options, signal), proxyHost, proxyPort, proxyHeaders, proxyTls, dialer, tls: this.options.tls, alpn: this.secure ? ['http/1.1'] : undefined });
  }

  /** Takes a connected socket into use. */
  private attach(socket: net.Socket): void {
    socket.setNoDelay(true);
    if (!this.refd) socket.unref();
    const parser = new ResponseParser(this.handlerFor(socket), { maxHeaderSize: this.options.maxHeaderSize });
    this.socket = socket;
    this.parser = parser;
    this.carried = 0;
    this.lastSocketError = null;
    const onData = (chunk: Buffer): void => {
      if (this.parser !== parser) return;
      let offset: number;
      this.executing = true;
      try {
        offset = parser.execute(chunk);
      } catch (err) {
        this.executing = false;
        this.pumpLater = false;
        this.broken(socket, err as HyperwireError);
        return;
      }
      this.executing = false;
      if (offset >= 0) this.switchProtocols(socket, chunk.subarray(offset), listeners);
      if (this.pumpLater) {
        this.pumpLater = false;
        this.pump();
      }
    };
    const onError = (err: Error): void => {
      this.lastSocketError = err;
    };
    const onClose = (): void => this.socketClosed(socket, parser);
    const listeners = { onData, onError, onClose };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    // A socket handed in (a tunnel, say) may have been paused explicitly.
    socket.resume();
  }

  private handlerFor(socket: net.Socket): ResponseHandler {
    return {
      onHead: (status, reason, version, headers) => {
        if (channels.headReceived.hasSubscribers) channels.headReceived.publish({ connection: this, version, status, reason, headers });
        const ex = this.current;
        if (ex === null) return;
        ex.responded = true;
        if (status < 200) {
          if (status === 100) ex.continueWaiter?.();
          return;
        }
        if (status !== 101) this.respond(ex, status, reason, version, headers);
      },
      onData: (chunk) => {
        const ex = this.current;
        if (ex === null) return;
        ex.bodyQueue.push(chunk);
        // Many tiny pieces cost as much as many octets: both are bounded.
        if (!ex.unbounded && (ex.bodyQueue.buffered > this.highWater || ex.bodyQueue.pieces > MAX_PIECES)) socket.pause();
      },
      onTrailers: (headers) => {
        const ex = this.current;
        if (ex !== null) ex.trailers = new HTTPHeaderMap(headers);
      },
      onEnd: (keepAlive) => {
        const ex = this.current;
        if (ex === null) return;
        ex.done = true;
        ex.unlisten?.();
        ex.continueWaiter?.();
        this.release();
        ex.bodyQueue.end();
        // Paused for this body's sake: what follows is the next response's.
        if (socket.isPaused()) socket.resume();
        if (channels.requestEnd.hasSubscribers) channels.requestEnd.publish({ connection: this, streamId: null });
        // A body not (completely) sent leaves the request unframed: close at
        // once rather than send anything after it.
        if (!ex.bodySent) this.retire(socket, true);
        // RFC 9112 §9.6: after a request with Connection: close of its own,
        // nothing more goes on this connection, whatever the server says.
        else if (!keepAlive || ex.head.close) this.retire(socket, false);
        // Not while the parser is still in this read: octets after this
        // response were sent before the next request existed, so they must
        // not be parsed as its response (they are unsolicited, an error).
        if (this.executing) this.pumpLater = true;
        else this.pump();
      },
    };
  }

  private respond(ex: Exchange, status: number, reason: string, version: number, headers: Array<[string, string]>): void {
    const response = new HTTP11Response({
      status,
      reason,
      version,
      headers: new HTTPHeaderMap(headers),
      body: ex.bodyQueue,
      owner: ex.owner,
    });
    if (channels.responseHeaders.hasSubscribers) channels.responseHeaders.publish({ connection: this, streamId: null, status });
    this.disarmHead(ex);
    ex.upgrade?.resolve(null);
    ex.response.resolve(response);
  }

  /** A 101 or a tunnel: the socket now speaks another protocol. */
  private switchProtocols(socket: net.Socket, rest: Buffer, listeners: { onData: (c: Buffer) => void; onError: (e: Error) => void; onClose: () => void }): void {
    const ex = this.current;
    if (ex?.upgrade == null) {
      // A 101 nobody asked for is a protocol error like any other: the socket
      // goes and the next request reconnects. (It used to leave the whole
      // connection marked switched, failing every later request.)
      this.broken(socket, new HTTP11Error('HW_ERR_H1_UPGRADE', 'The server switched protocols unasked (101)'));
      return;
    }
    socket.off('data', listeners.onData);
    socket.off('close', listeners.onClose);
    // listeners.onError stays: until the new protocol's connection listens,
    // a socket error must not go unhandled (its 'close' follows anyway).
    socket.pause();
    this.switched = true;
    this.parser = null;
    this.release();
    const index = this.outstanding.indexOf(ex);
    if (index >= 0) this.outstanding.splice(index, 1);
    const error = new ConnectionError('HW_ERR_SWITCHED', 'The connection switched protocols');
    for (const q of this.queue.splice(0)) this.fail(q, error);
    ex.upgrade.resolve({ socket, rest: Buffer.from(rest) });
    // The response to the upgraded request arrives on the new protocol.
    ex.response.reject(error);
  }

  /** The body's reader took data: resume the socket once little is buffered. */
  private maybeResume(ex: Exchange): void {
    const socket = this.socket;
    if (socket !== null && socket.isPaused() && this.current === ex && ex.bodyQueue.buffered <= this.highWater / 2 && ex.bodyQueue.pieces <= MAX_PIECES / 2) socket.resume();
  }

  /** The caller is done with a response: an unfinished body costs the connection. */
  private abandon(ex: Exchange): void {
    if (ex.done) return;
    ex.done = true;
    ex.bodyQueue.fail(new ConnectionError('HW_ERR_STREAM_CANCELLED', 'The response was closed by the application'), true);
    this.dropWire(ex);
  }

  /** The server broke the protocol: the request on the wire fails, the socket goes. */
  private broken(socket: net.Socket, error: HyperwireError): void {
    debug('http/1.1 error: %s', error.message);
    const ex = this.current;
    this.release();
    if (ex !== null) this.fail(ex, error);
    this.retire(socket, true);
    this.pump();
  }

  /** Stops using a socket: gently after a complete response, at once otherwise. */
  private retire(socket: net.Socket, now: boolean): void {
    if (this.socket === socket) {
      this.socket = null;
      this.parser = null;
    }
    if (now) socket.destroy();
    else {
      socket.end();
      socket.destroySoon();
    }
  }

  private socketClosed(socket: net.Socket, parser: ResponseParser): void {
    // A socket retired earlier can close after its successor is carrying a
    // request: that exchange is not this socket's, so leave it alone (it
    // used to be failed, or wrongly retried, by this close).
    if (this.socket !== socket) return;
    this.socket = null;
    this.parser = null;
    const ex = this.current;
    if (ex === null || ex.done) return;
    // A close-delimited body ends here (unless a socket error closed it); a
    // cut-short response is an error.
    try {
      parser.finish(this.lastSocketError ?? undefined);
    } catch (err) {
      this.broken(socket, err as HyperwireError);
      return;
    }
    if (ex.done) return;
    this.release();
    const replayable = ex.body === null || ex.body.bytes !== undefined;
    if (!ex.responded && ex.reused && !ex.retried && IDEMPOTENT.has(ex.method) && replayable && !this.closing && this.options.retryIdleReset !== false) {
      // The server closed an idle keep-alive connection as we reused it
      // (RFC 9112 §9.3.1): nothing was processed, so send it again.
      debug('http/1.1 connection closed before a response: retrying %s %s', ex.method, ex.path);
      ex.retried = true;
      ex.sent = false;
      this.queue.unshift(ex);
    } else {
      const cause = this.lastSocketError;
      this.fail(
        ex,
        new ConnectionError('HW_ERR_CONNECTION_CLOSED', `The connection was closed before the response${ex.responded ? ' was complete' : ' arrived'}${cause !== null ? `: ${cause.message}` : ''}`, { cause: cause ?? undefined }),
      );
    }
    this.pump();
  }

  private fail(ex: Exchange, error: HyperwireError): void {
    if (ex.failed !== null) return;
    ex.failed = error;
    ex.done = true;
    ex.unlisten?.();
    this.disarmHead(ex);
    ex.continueWaiter?.();
    ex.upgrade?.reject(error);
    ex.response.reject(error);
    ex.bodyQueue.fail(error);
    if (channels.requestError.hasSubscribers) channels.requestError.publish({ connection: this, streamId: null, error });
  }
}

/** The authority (`host[:port]`) of an absolute http URL, as Host carries it. */
function absoluteAuthority(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`Invalid request URL ${JSON.stringify(url)}`);
  }
  if (parsed.host === '') throw new TypeError(`No host in ${JSON.stringify(url)}`);
  return parsed.host;
}

/**
 * A proxy that cannot be reached is a ProxyError (status 0) carrying why,
 * as a tunnel's is; a timeout stays a ConnectTimeoutError.
 */
async function asProxyFailure(dial: Promise<net.Socket>, proxy: { host: string; port: number }): Promise<net.Socket> {
  try {
    return await dial;
  } catch (err) {
    if (err instanceof ConnectTimeoutError || !(err instanceof HyperwireError) || err.code === 'HW_ERR_CONNECTION_CLOSED') throw err;
    throw new ProxyError(`Cannot reach the proxy ${hostPort(proxy.host, proxy.port)}: ${err.message}`, 0, { cause: err, code: 'HW_ERR_PROXY_CONNECT' });
  }
}
