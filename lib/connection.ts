/**
 * HTTPConnection: one connection that speaks HTTP/2 when the server does
 * and HTTP/1.1 when it must, behind the same calls.
 *
 * - Over TLS, ALPN offers `h2` and `http/1.1`; the server's choice picks
 *   HTTP20Connection or HTTP11Connection, on the same socket.
 * - In cleartext, the first request carries `Upgrade: h2c` (RFC 7540 §3.2);
 *   a 101 switches to HTTP/2 and that request's response arrives on stream
 *   1, otherwise the connection stays on HTTP/1.1. With `priorKnowledge`
 *   it speaks HTTP/2 from the first octet (RFC 9113 §3.3).
 */

import type * as net from 'node:net';
import type * as tls from 'node:tls';
import type { RequestBody } from './common/body.js';
import { checkRequestInput } from './common/field-syntax.js';
import { entriesOf, HTTPHeaderMap } from './common/headers.js';
import { waitAtMost, withTimeout } from './common/async.js';
import { Watchers } from './common/watchers.js';
import { ConnectionError, ReadTimeoutError, TLSError } from './common/errors.js';
import type { HeadersInit } from './common/headers.js';
import { alpnOf, closeWaitOf, type Dialer, dialOptionsOf, type EndpointOptions, hostPort, resolveEndpoint, resolveTimeouts } from './common/net.js';
import type { HeaderCodecFactory } from './hpack/header-codec.js';
import { HTTP11Connection } from './http1/connection.js';
import type { HTTP11Response } from './http1/response.js';
import { dialOrigin } from './http1/tunnel.js';
import { HTTP20Connection, type HTTP20ConnectionOptions } from './http2/connection.js';
import type { HTTP20Push } from './http2/push.js';
import type { HTTP20Response } from './http2/response.js';
import type { WindowManagerClass } from './http2/window.js';

/** The protocol a connection speaks. */
export type Protocol = 'h2' | 'http/1.1';

/** Options of {@link HTTPConnection}. */
export interface HTTPConnectionOptions extends EndpointOptions {
  /** Accept server push (HTTP/2 only). Default false. */
  enablePush?: boolean;
  /** HTTP/2 window manager class. */
  windowManager?: WindowManagerClass;
  /** HTTP/2 header compression backend (default: built-in HPACK). */
  headerCodec?: HeaderCodecFactory;
  /** Use this protocol without negotiating: over TLS ALPN offers only it; in cleartext `h2` means prior knowledge. */
  forceProto?: Protocol;
  /** Cleartext: speak HTTP/2 from the start (h2c with prior knowledge). Default false. */
  priorKnowledge?: boolean;
  /** Cleartext: try `Upgrade: h2c` on the first request. Default true. */
  upgrade?: boolean;
  /** An HTTP proxy. https targets (and cleartext h2) go through a CONNECT tunnel; http targets are sent to it in absolute form. */
  proxyHost?: string;
  /** The proxy's port. Default 8080. */
  proxyPort?: number;
  /** Fields for the proxy, e.g. `Proxy-Authorization`. */
  proxyHeaders?: HeadersInit;
  /** An https:// proxy: TLS to the proxy with these options. */
  proxyTls?: tls.ConnectionOptions;
  /** Another way to reach the origin (a SOCKS proxy, say): TLS and ALPN run over what it returns. */
  dialer?: Dialer;
  /**
   * The authority is a forward proxy's: HTTP/1.1 only, and each request
   * names its target as an absolute `http://` URL (see HTTP11Connection).
   */
  forwardProxy?: boolean;
  /** HTTP/2 session options passed through (initialWindowSize, maxHeaderListSize, ...). */
  http2?: Omit<HTTP20ConnectionOptions, 'socket' | 'upgraded' | 'secure' | 'port' | 'tls' | 'timeout'>;
  /** Most octets in an HTTP/1.1 response head. Default 64 KiB. */
  maxHeaderSize?: number;
  /** HTTP/1.1: send an idempotent request again, once, after a reused idle connection was found closed. Default true. */
  retryIdleReset?: boolean;
}

/** Options of a request. */
export interface HTTPRequestOptions {
  headers?: HeadersInit;
  body?: RequestBody;
  /** This request's read timeout in ms, instead of the connection's; 0 for none. */
  timeout?: number;
  /** Aborts the request (HTTP/2: the stream is reset; HTTP/1.1: the socket is closed if it is on the wire). */
  signal?: AbortSignal;
}

/** Options that the facade hands to either connection as they are. */
const SHARED_OPTIONS = ['tls', 'timeout', 'networkBufferSize', 'closeTimeout', 'assertFingerprint'] as const;

/** The options among `keys` that are set (exactOptionalPropertyTypes forbids passing undefined on). */
function defined<T extends object, K extends keyof T>(options: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) if (options[key] !== undefined) out[key] = options[key];
  return out;
}

/** A pushed response's promise, as `getPushes()` yields it (HTTP/2 only). */
export type { HTTP20Push as Push } from './http2/push.js';

/** A response from either protocol: the same reading calls. */
export type ConnectionResponse = HTTP20Response | HTTP11Response;

/**
 * A connection to one origin over HTTP/2 or HTTP/1.1, chosen by ALPN (TLS)
 * or `Upgrade: h2c` (cleartext). It connects on the first request.
 *
 * On HTTP/2, `request()` resolves to the stream ID and responses can be
 * fetched in any order. On HTTP/1.1 it resolves to null, requests are sent
 * one at a time in order, and `getResponse()` returns them in that order;
 * `getPushes()` yields nothing and `ping()` rejects.
 */
export class HTTPConnection {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  private readonly options: HTTPConnectionOptions;
  private h2: HTTP20Connection | null = null;
  private h1: HTTP11Connection | null = null;
  private connecting: Promise<void> | null = null;
  /** Set while the first cleartext request asks to upgrade: others wait for the outcome. */
  private upgrading: Promise<unknown> | null = null;
  private upgradeTried = false;
  /** The cleartext HTTP/1.1 connection while it connects. */
  private dialingH1: HTTP11Connection | null = null;
  /** Aborted by close(), after which nothing new starts; aborts a dial in progress. */
  private readonly dialAbort = new AbortController();
  /** An HTTP/1.1 connection given up after a timed-out upgrade, still closing. */
  private discarded: Promise<void> | undefined;

  /**
   * @param authority `host`, `host:port` or `[v6]:port`.
   */
  constructor(authority: string, options: HTTPConnectionOptions = {}) {
    ({ host: this.host, port: this.port, secure: this.secure } = resolveEndpoint(authority, options));
    this.options = options;
    if (options.forceProto !== undefined && options.forceProto !== 'h2' && options.forceProto !== 'http/1.1') {
      throw new TypeError(`forceProto must be 'h2' or 'http/1.1', not ${JSON.stringify(options.forceProto)}`);
    }
  }

  /** The protocol in use: null until it is known (before the first connect, or during an upgrade). */
  get protocol(): Protocol | null {
    if (this.h2 !== null && this.upgrading === null) return 'h2';
    // In cleartext the first request may still upgrade: not known until then.
    if (this.h1 !== null && this.upgrading === null && this.upgradeTried) return 'http/1.1';
    return null;
  }

  /** The connection underneath, once chosen. */
  get connection(): HTTP20Connection | HTTP11Connection | null {
    return this.protocol === 'h2' ? this.h2 : this.protocol === 'http/1.1' ? this.h1 : null;
  }

  /**
   * Whether new requests can go on this connection: it has not been closed,
   * and on HTTP/2 it has not failed and the server has not sent GOAWAY.
   */
  get isAvailable(): boolean {
    if (this.dialAbort.signal.aborted) return false;
    if (this.h2 !== null) return this.h2.isAvailable;
    return this.h1?.isAvailable ?? true;
  }

  /**
   * How many requests may be in flight at once: the server's
   * MAX_CONCURRENT_STREAMS on HTTP/2, 1 on HTTP/1.1, and 1 while the
   * protocol is not known yet.
   */
  get maxConcurrentStreams(): number {
    return this.protocol === 'h2' ? this.h2!.maxConcurrentStreams : 1;
  }

  /**
   * Calls `listener` whenever what a pool sees of this connection may have
   * changed (HTTP/2: the server's limits, GOAWAY, the connection ending;
   * either protocol: close()). Returns a function that stops it.
   */
  watch(listener: () => void): () => void {
    return this.watchers.add(listener);
  }

  private readonly watchers = new Watchers();

  /** Takes `h2` as the connection in use, and passes on what it reports. */
  private adopt(h2: HTTP20Connection): HTTP20Connection {
    this.h2 = h2;
    if (!this.refd) h2.unref();
    h2.watch(() => this.watchers.notify());
    return h2;
  }

  /**
   * Lets the process exit while this connection is idle (`unref()`), or
   * not (`ref()`, the default). A pool unrefs connections with nothing in
   * flight, so an idle pool does not keep a script running.
   */
  ref(): void {
    this.refd = true;
    this.h2?.ref();
    this.h1?.ref();
    this.dialingH1?.ref();
  }

  unref(): void {
    this.refd = false;
    this.h2?.unref();
    this.h1?.unref();
    this.dialingH1?.unref();
  }

  private refd = true;

  /** Connects now and settles the protocol as far as it can be without a request. */
  connect(): Promise<void> {
    if (this.dialAbort.signal.aborted) return Promise.reject(new ConnectionError('HW_ERR_CONNECTION_CLOSED', 'Connection closed'));
    if (this.connecting === null) {
      this.connecting = this.dial();
      this.connecting.catch(() => {});
    }
    return this.connecting;
  }

  /**
   * @internal Whether this is an HTTP/2 connection, its protocol settled,
   * on which a request's stream can open at once (see
   * {@link HTTP20Connection.canOpenNow}): a pool's per-request fast path.
   */
  canOpenNow(): boolean {
    return this.upgrading === null && this.h2 !== null && this.h2.canOpenNow();
  }

  /**
   * @internal Opens a request's stream now and returns its ID, for a caller
   * that has checked {@link canOpenNow} (see
   * {@link HTTP20Connection.openWith}); no promise.
   */
  openWith(method: string, url: string, headers: HeadersInit | undefined, body: RequestBody, readTimeout: number, signal: AbortSignal | undefined): number {
    return this.h2!.openWith(method, url, headers, body, readTimeout, signal);
  }

  /**
   * Sends a request. Resolves to its stream ID on HTTP/2, or null on
   * HTTP/1.1. The first cleartext request may carry `Upgrade: h2c`: it
   * resolves once the server has answered that (1 if it switched).
   *
   * @throws TypeError for an illegal method, path, header name or value,
   *   before anything is sent.
   */
  request(method: string, url: string, options: HTTPRequestOptions = {}): Promise<number | null> {
    // Once settled, straight through: no extra await per request.
    if (this.upgrading === null) {
      if (this.h2 !== null) return this.h2.request(method, url, options);
      if (this.h1 !== null && this.upgradeTried) return this.h1.request(method, url, options);
    }
    return this.requestSlow(method, url, options);
  }

  private async requestSlow(method: string, url: string, options: HTTPRequestOptions): Promise<number | null> {
    // Headers are read here more than once: an iterable that can be read
    // only once (map.entries(), a generator) is copied first.
    const headers = options.headers;
    if (headers !== undefined && !(headers instanceof HTTPHeaderMap) && Symbol.iterator in Object(headers)) {
      options = { ...options, headers: [...entriesOf(headers)] };
    }
    // Bad input is refused before a connection is even made, by the rules
    // both protocols share (each connection then applies its own).
    if (this.connecting === null) checkRequestInput(method, url, options.headers);
    await this.connect();
    if (this.upgrading !== null) await this.upgrading.catch(() => {});
    if (this.h2 !== null) return this.h2.request(method, url, options);
    const h1 = this.h1!;
    // Only the first request may ask (RFC 7540 §3.2). Were a later one to
    // ask, its wait for the 101 could sit behind an earlier response whose
    // body nobody reads yet (paused by backpressure): request() never settled.
    const first = !this.upgradeTried;
    this.upgradeTried = true;
    if (first && this.wantsUpgrade(options)) {
      const attempt = this.upgradeWith(h1, method, url, options);
      this.upgrading = attempt;
      try {
        return await attempt;
      } finally {
        this.upgrading = null;
      }
    }
    return h1.request(method, url, options);
  }

  /**
   * A response: on HTTP/2 by stream ID (none: the oldest outstanding); on
   * HTTP/1.1 the next in request order (an ID other than null/undefined is
   * an error there).
   */
  getResponse(streamId?: number | null): Promise<ConnectionResponse> {
    if (this.upgrading === null) {
      if (this.h2 !== null) return this.h2.getResponse(streamId ?? undefined);
      if (this.h1 !== null && (streamId === undefined || streamId === null)) return this.h1.getResponse();
    }
    return this.getResponseSlow(streamId);
  }

  private async getResponseSlow(streamId?: number | null): Promise<ConnectionResponse> {
    if (this.upgrading !== null) await this.upgrading.catch(() => {});
    if (this.h2 !== null) return this.h2.getResponse(streamId ?? undefined);
    if (this.h1 !== null) {
      if (streamId !== undefined && streamId !== null) throw new Error(`No stream ${streamId}: this connection speaks HTTP/1.1`);
      return this.h1.getResponse();
    }
    throw new Error('No outstanding request to get a response for');
  }

  /** Server pushes (HTTP/2 with `enablePush`); on HTTP/1.1, nothing. */
  async *getPushes(options: { streamId?: number; captureAll?: boolean } = {}): AsyncGenerator<HTTP20Push> {
    if (this.h2 !== null) yield* this.h2.getPushes(options);
  }

  /** PING (HTTP/2 only): resolves with the round trip in ms. Rejects on HTTP/1.1. */
  async ping(data?: Uint8Array): Promise<number> {
    await this.connect();
    if (this.h2 === null) throw new Error('PING needs HTTP/2; this connection speaks HTTP/1.1');
    return this.h2.ping(data);
  }

  /** Closes gracefully (GOAWAY on HTTP/2; `errorCode` is its code). */
  async close(errorCode?: number): Promise<void> {
    // No new requests, and a dial in progress (a handshake that stalls, say)
    // is abandoned rather than waited for.
    this.dialAbort.abort();
    this.watchers.notify();
    void this.dialingH1?.close();
    if (this.connecting !== null) await this.connecting.catch(() => {});
    // A pending upgrade may finish, but not hold close() forever (it did, on a
    // server that never answered): after the grace period, closing the
    // HTTP/1.1 connection fails the request.
    const upgrading = this.upgrading?.catch(() => {});
    if (upgrading !== undefined) await waitAtMost(upgrading, closeWaitOf(this.options));
    const h2 = this.h2;
    await Promise.all([h2?.close(errorCode), this.h1?.close(), this.discarded]);
    if (upgrading !== undefined) {
      // Settled by now; if it switched meanwhile, the HTTP/2 side is new.
      await upgrading;
      if (this.h2 !== null && this.h2 !== h2) await this.h2.close(errorCode);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- internals ---------------------------------------------------------------

  /** A socket to the origin (through a proxy's tunnel if there is one): TLS offering `alpn`, or cleartext without. */
  private dialOrigin(alpn?: string[]): Promise<net.Socket> {
    const { proxyHost, proxyPort, proxyHeaders, proxyTls, dialer } = this.options;
    return dialOrigin({ ...dialOptionsOf(this.host, this.port, this.options, this.dialAbort.signal), proxyHost, proxyPort, proxyHeaders, proxyTls, dialer, tls: this.options.tls, alpn });
  }

  private h2Options(socket: net.Socket | undefined): HTTP20ConnectionOptions {
    return {
      ...this.options.http2,
      ...defined(this.options, [...SHARED_OPTIONS, 'enablePush', 'windowManager', 'headerCodec']),
      port: this.port,
      secure: this.secure,
      ...(socket !== undefined ? { socket } : {}),
    };
  }

  private h1Connection(socket: net.Socket | undefined): HTTP11Connection {
    const h1 = new HTTP11Connection(hostPort(this.host, this.port), {
      ...defined(this.options, [...SHARED_OPTIONS, 'maxHeaderSize', 'proxyHost', 'proxyPort', 'proxyHeaders', 'proxyTls', 'dialer', 'forwardProxy', 'retryIdleReset']),
      port: this.port,
      secure: this.secure,
      ...(socket !== undefined ? { socket } : {}),
    });
    if (!this.refd) h1.unref();
    return h1;
  }

  private async dial(): Promise<void> {
    const { forceProto, proxyHost } = this.options;
    const authority = hostPort(this.host, this.port);
    if (this.secure) {
      const alpn = forceProto === undefined ? ['h2', 'http/1.1'] : [forceProto];
      const socket = await this.dialOrigin(alpn);
      const chosen = alpnOf(socket);
      if (chosen === 'h2') {
        await this.adopt(new HTTP20Connection(authority, this.h2Options(socket))).connect();
        return;
      }
      if (forceProto === 'h2') {
        socket.destroy();
        throw new TLSError('HW_ERR_ALPN', `The server at ${this.host}:${this.port} did not select h2 by ALPN (got ${chosen ?? 'nothing'})`);
      }
      // http/1.1, or no ALPN at all: HTTP/1.1 (RFC 7301 §3.2 leaves it to us).
      // No `Upgrade: h2c` over TLS: h2c is HTTP/2 over cleartext TCP only
      // (RFC 7540 §3.2-3.3); ALPN has already said no to h2. Without this the
      // first request over TLS carried the upgrade fields.
      this.upgradeTried = true;
      this.h1 = this.h1Connection(socket);
      await this.h1.connect();
      return;
    }
    if (forceProto === 'h2' || this.options.priorKnowledge === true) {
      const socket = await this.dialOrigin();
      await this.adopt(new HTTP20Connection(authority, this.h2Options(socket))).connect();
      return;
    }
    const h1 = this.h1Connection(undefined);
    // Nothing to upgrade through a proxy that reads our requests itself.
    if (forceProto === 'http/1.1' || this.options.upgrade === false || proxyHost !== undefined || this.options.forwardProxy === true) this.upgradeTried = true;
    // Kept only once connected: a failed connect left `protocol` saying
    // 'http/1.1' for a connection that never was (the TLS paths say null).
    // Until then close() must reach it: it dials with its own abort signal.
    this.dialingH1 = h1;
    try {
      await h1.connect();
    } finally {
      this.dialingH1 = null;
    }
    this.h1 = h1;
  }

  /** Whether this request can carry the upgrade: a body in memory or none, and no Connection or Upgrade of the caller's. */
  private wantsUpgrade(options: HTTPRequestOptions): boolean {
    const body = options.body;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) return false;
    if (options.headers === undefined) return true;
    // Expect: 100-continue would hold the body for a 100 that, after a 101,
    // never comes on HTTP/1.1.
    for (const [name] of entriesOf(options.headers)) if (/^(connection|upgrade|http2-settings|expect)$/i.test(name)) return false;
    return true;
  }

  /** Sends a request with `Upgrade: h2c` (RFC 7540 §3.2); switches on a 101. */
  private async upgradeWith(h1: HTTP11Connection, method: string, url: string, options: HTTPRequestOptions): Promise<number | null> {
    const h2 = new HTTP20Connection(hostPort(this.host, this.port), this.h2Options(undefined));
    const answer = h1.requestUpgrade(method, url, options, [
      ['Connection', 'Upgrade, HTTP2-Settings'],
      ['Upgrade', 'h2c'],
      ['HTTP2-Settings', h2.upgradeSettings()],
    ]);
    // This waits for the response head, so the read timeout applies (without
    // it request() never settled on a server that does not answer). As
    // HTTP11Connection does on a read timeout, the request fails and its
    // socket goes; later requests use a new connection.
    // The request's own timeout where it has one (a pool sets the
    // connection's to none and times each request).
    const readTimeout = options.timeout ?? resolveTimeouts(this.options.timeout).read;
    const switched =
      readTimeout <= 0
        ? await answer
        : await withTimeout(answer, readTimeout, () => {
            // A 101 that comes after all the same: nobody adopts that socket.
            answer.then((late) => late?.socket.destroy(), () => {});
            this.discarded = h1.close();
            this.h1 = this.h1Connection(undefined);
            return new ReadTimeoutError(`Timed out after ${readTimeout} ms waiting for the response to ${method} ${url}`);
          });
    if (switched === null) return null;
    await h2.adoptUpgraded(switched.socket, { method, rest: switched.rest });
    this.adopt(h2);
    this.h1 = null;
    return 1;
  }
}
