/**
 * HTTP20Connection: the Promise API and socket I/O over the sans-IO
 * {@link ClientSession}. Requests return stream IDs; responses are fetched
 * by ID in any order; pushed responses are consumed with getPushes().
 */

import type * as net from 'node:net';
import type * as tls from 'node:tls';
import { debuglog } from 'node:util';
import { deferred, type Deferred, Eventual, waitAtMost, wakeAll, withTimeout } from '../common/async.js';
import { BodyQueue, type BodyOwner } from '../common/body-queue.js';
import { channels } from '../common/diagnostics.js';
import { Watchers } from '../common/watchers.js';
import { startDeadline, type Deadline } from '../common/timers.js';
import { alpnOf, authorityOf, type DialOptions, dialOptionsOf, type EndpointOptions, closeWaitOf, openTCP, openTLS, resolveEndpoint, resolveTimeouts, waitConnected } from '../common/net.js';
import { bytesOf, normaliseBody, type NormalisedBody, type RequestBody } from '../common/body.js';
import { abortError, ConnectionError, ErrorCode, errorCodeName, HyperwireError, ReadTimeoutError, StreamRefusedError, TLSError } from '../common/errors.js';
import { HTTPHeaderMap, type HeadersInit } from '../common/headers.js';
import type { ResponseOwner } from '../common/response.js';
import { CONNECTION_PREFACE, FrameType, frameTypeName, MAX_FRAME_SIZE_LIMIT } from '../frame/constants.js';
import { FrameReader } from '../frame/reader.js';
import type { Frame } from '../frame/types.js';
import type { HeaderInput } from '../hpack/encoder.js';
import { requestHeaderList } from './header-rules.js';
import { HTTP20Push } from './push.js';
import { HTTP20Response } from './response.js';
import { ClientSession, type SessionEvent, type SessionOptions } from './session.js';

const debug = debuglog('hyperwire');

/**
 * Output below this many octets waits for the end of the current tick, so
 * the frames queued in that tick (the requests its callbacks start, their
 * WINDOW_UPDATEs, a SETTINGS ACK) leave together. Once this much has
 * gathered it is written at once. For a body that is what backpressure
 * needs; for a burst of requests it means the first few dozen are on their
 * way, and the server at work on them, while the application is still
 * making the rest. Waiting for the whole burst instead made client and
 * server take turns: with 100 streams in flight against nghttpd, 16 KiB
 * here gave ~165,000 req/s, 2 KiB ~170,000, 1 KiB ~260,000, 512 octets
 * (about 25 indexed request heads) ~316,000 and 256 ~230,000, where more
 * writes start to cost more than the overlap gains (bench/README.md).
 */
const COALESCE_LIMIT = 512;
/** A coalesced write up to this size is copied into one buffer; above, the socket is corked instead. */
const CONCAT_LIMIT = 65_536;

/** Options of {@link HTTP20Connection}. */
export interface HTTP20ConnectionOptions extends SessionOptions, EndpointOptions {
  /** An already connected socket to use instead of dialling (TLS with h2 negotiated, or cleartext). */
  socket?: net.Socket;
  /**
   * @internal The `socket` was upgraded from HTTP/1.1 by a 101 to `Upgrade: h2c`
   * (RFC 7540 §3.2): the request sent before is stream 1, and `rest` holds
   * what the server sent after the 101.
   */
  upgraded?: { method: string; rest: Buffer };
}

/** Options of a request. */
export interface RequestOptions {
  headers?: HeadersInit;
  body?: RequestBody;
  /**
   * This request's read timeout in ms (each wait for its response head or
   * body), instead of the connection's; 0 for none.
   */
  timeout?: number;
  /**
   * Aborts the request: one still queued for a stream slot is dropped, an
   * open stream is reset with CANCEL. Its calls then fail with a
   * RequestAbortedError (or the signal's reason, when that is one of ours).
   */
  signal?: AbortSignal;
}

/** What a stream's record asks of its connection (one object per connection). */
interface StreamHost {
  consumed(id: number, n: number): void;
  timedOut(record: StreamRecord, error: ReadTimeoutError): void;
  closeStream(record: StreamRecord): void;
}

/** A head deadline armed, whose time the head watch sets at its next look. */
const UNSTAMPED = -1;
/** Read timeouts below this (ms) are stamped when armed; longer ones by the head watch. */
const STAMP_NOW_BELOW = 1000;

/** No pushes: shared by every record until one is promised on it. */
const NO_PUSHES: HTTP20Push[] = Object.freeze([]) as unknown as HTTP20Push[];

/**
 * Per-stream bookkeeping of the connection. It is also its body queue's and
 * its response's owner, so a request makes no closures for them.
 */
class StreamRecord implements BodyOwner, ResponseOwner {
  /** The response (or pushed response) has been asked for. */
  taken = false;
  readonly response = new Eventual<HTTP20Response>();
  readonly body: BodyQueue;
  trailers: HTTPHeaderMap | null = null;
  ended = false;
  failed: HyperwireError | null = null;
  /** Pushes promised on this stream not yet handed out by getPushes(). */
  pushes: HTTP20Push[] = NO_PUSHES;
  writable: (() => void) | null = null;
  /** Removes the listener on the request's AbortSignal, if it has one. */
  unlisten: (() => void) | null = null;
  /**
   * When the wait for the response head times out (Date.now() ms); 0 when
   * no wait is armed, {@link UNSTAMPED} when it is armed and the head watch
   * has yet to set the time.
   */
  headDeadline = 0;

  constructor(
    readonly id: number,
    readonly pushed: boolean,
    /** Its read timeout in ms (0: none). */
    readonly readTimeout: number,
    private readonly host: StreamHost,
  ) {
    this.body = new BodyQueue(this, readTimeout);
  }

  bodyConsumed(n: number): void {
    this.host.consumed(this.id, n);
  }

  bodyTimedOut(error: ReadTimeoutError): void {
    this.host.timedOut(this, error);
  }

  responseTrailers(): HTTPHeaderMap | null {
    return this.trailers;
  }

  closeResponse(): void {
    this.host.closeStream(this);
  }
}

interface QueuedRequest {
  headers: HeaderInput[];
  endStream: boolean;
  id: Deferred<number>;
  start: (id: number) => void;
  readTimeout: number;
  signal: AbortSignal | undefined;
}

/**
 * One HTTP/2 connection. It connects on the first request; requests are
 * multiplexed and each returns its stream ID; responses are fetched by ID
 * in any order.
 */
export class HTTP20Connection {
  /** The host connected to. */
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  private readonly options: HTTP20ConnectionOptions;
  private readonly session: ClientSession;
  private readonly readTimeout: number;
  private socket: net.Socket | null = null;
  private connecting: Promise<void> | null = null;
  /** The connection is up and the session started: requests can open streams at once. */
  private connected = false;
  private failure: HyperwireError | null = null;
  private closing = false;
  /**
   * The streams' records, in the order the streams opened. A request's
   * record stays until its response has been asked for and it has ended.
   */
  private readonly streams = new Map<number, StreamRecord>();
  private readonly queue: QueuedRequest[] = [];
  private readonly pings: Array<{ data: Uint8Array; done: Deferred<void> }> = [];
  private readonly pushWaiters = new Set<() => void>();
  private readonly idleWaiters = new Set<() => void>();
  private writeWaiter: (() => void) | null = null;
  /** A write of the session's output is due at the end of this tick. */
  private writeScheduled = false;
  /** Frames in and out are logged or published (see the constructor). */
  private readonly tracing: boolean;
  private readonly sendBuffer: number;
  private givenSocket: net.Socket | undefined;
  private upgraded: { method: string; rest: Buffer } | undefined;

  /**
   * @param authority `host`, `host:port` or `[v6]:port`.
   */
  constructor(authority: string, options: HTTP20ConnectionOptions = {}) {
    ({ host: this.host, port: this.port, secure: this.secure } = resolveEndpoint(authority, options));
    this.options = options;
    this.readTimeout = resolveTimeouts(options.timeout).read;
    const sessionOptions: SessionOptions = { ...options };
    // Frames are traced for a connection made while someone listens: the
    // outgoing ones are parsed back from the first octet.
    this.tracing = debug.enabled || channels.frameReceived.hasSubscribers || channels.frameSent.hasSubscribers;
    if (this.tracing) {
      sessionOptions.onFrame = (frame) => {
        if (debug.enabled) debug('frame in: %s', describeFrame(frame));
        if (channels.frameReceived.hasSubscribers) channels.frameReceived.publish({ connection: this, frame });
      };
    }
    this.session = new ClientSession(sessionOptions);
    this.sendBuffer = options.networkBufferSize ?? 65_536;
    this.givenSocket = options.socket;
    this.upgraded = options.upgraded;
  }

  /**
   * @internal The value of the HTTP2-Settings header for an HTTP/1.1
   * `Upgrade: h2c` request (RFC 7540 §3.2.1): our SETTINGS, base64url.
   */
  upgradeSettings(): string {
    return this.session.settingsPayload().toString('base64url');
  }

  /**
   * @internal Takes over a socket that a 101 switched to h2c: the upgraded
   * request is stream 1, and `rest` is what followed the 101.
   */
  adoptUpgraded(socket: net.Socket, upgraded: { method: string; rest: Buffer }): Promise<void> {
    if (this.connecting !== null) throw new Error('The connection is already connected');
    this.givenSocket = socket;
    this.upgraded = upgraded;
    return this.connect();
  }

  /** The value of :authority for requests. */
  get authority(): string {
    // Made once: host, port and scheme never change, and this is per request.
    return (this.authorityValue ??= authorityOf(this));
  }

  private authorityValue: string | undefined = undefined;

  /**
   * Whether new requests can go on this connection: it has not failed or
   * been closed, and the server has not sent GOAWAY.
   */
  get isAvailable(): boolean {
    return this.failure === null && !this.closing;
  }

  /** The connection has failed or been closed for good. */
  get isClosed(): boolean {
    return this.failure !== null;
  }

  /**
   * How many streams the server lets us open at once (its
   * SETTINGS_MAX_CONCURRENT_STREAMS; 100 until its SETTINGS arrive, and
   * Infinity if it sets no limit).
   */
  get maxConcurrentStreams(): number {
    return this.session.peerMaxConcurrentStreams;
  }

  /** Requests opened and not yet closed, plus those queued for a stream slot. */
  get activeStreams(): number {
    return this.session.openStreams + this.queue.length;
  }

  /**
   * Lets the process exit while this connection is idle (`unref()`), or
   * not (`ref()`, the default), as a socket's own ref/unref: a pool unrefs
   * a connection that has nothing in flight.
   */
  ref(): void {
    this.refd = true;
    this.socket?.ref();
  }

  unref(): void {
    this.refd = false;
    this.socket?.unref();
  }

  private refd = true;

  /**
   * Calls `listener` whenever what a pool sees of this connection may have
   * changed: a stream slot freed, the server's limits changed, GOAWAY, or
   * the connection ended. Returns a function that stops it.
   */
  watch(listener: () => void): () => void {
    return this.watchers.add(listener);
  }

  private readonly watchers = new Watchers();

  /** Connects now (requests do this on their own). */
  connect(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.connecting === null) {
      this.connecting = this.dial();
      this.connecting.catch(() => {});
    }
    return this.connecting;
  }

  /**
   * Sends a request; resolves to its stream ID once its HEADERS are queued
   * (when the server's MAX_CONCURRENT_STREAMS allows). A body is sent in the
   * background, with backpressure; a failure there fails the response.
   *
   * @throws TypeError for an illegal method, path, header name or value,
   *   before anything is sent.
   */
  request(method: string, url: string, options: RequestOptions = {}): Promise<number> {
    let body: NormalisedBody | null;
    let headers: HeaderInput[];
    try {
      body = normaliseBody(options.body);
      headers = this.headerList(method, url, options.headers, body);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    const readTimeout = options.timeout ?? this.readTimeout;
    if (this.canOpenNow()) {
      // Connected, nothing queued before it and a stream slot free, as for
      // most requests on a busy connection: the stream opens now, with no
      // queue entry and no wait.
      try {
        return Promise.resolve(this.start(method, url, headers, body, readTimeout, signal));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    return this.requestLater(method, url, headers, body, readTimeout, signal);
  }

  /**
   * @internal Whether {@link openWith} can open a stream at once:
   * connected, nothing queued before it, and a stream slot free.
   */
  canOpenNow(): boolean {
    return this.connected && this.queue.length === 0 && this.failure === null && !this.closing && this.session.canOpenStream();
  }

  /**
   * @internal {@link request}, synchronously and with its options one by
   * one, for a caller that has checked {@link canOpenNow}: the stream opens
   * now and its ID is returned, with no promise and no object per request.
   * A pool's request on a busy connection takes this path.
   *
   * @throws TypeError for illegal input (nothing is sent), the abort
   *   reason if the signal has fired.
   */
  openWith(method: string, url: string, headers: HeadersInit | undefined, body: RequestBody, readTimeout: number, signal: AbortSignal | undefined): number {
    const bytes = normaliseBody(body);
    const list = this.headerList(method, url, headers, bytes);
    if (signal?.aborted === true) throw abortError(signal);
    return this.start(method, url, list, bytes, readTimeout, signal);
  }

  /** Opens a checked request's stream now, starts its body, and returns its ID. */
  private start(method: string, url: string, headers: HeaderInput[], body: NormalisedBody | null, readTimeout: number, signal: AbortSignal | undefined): number {
    const id = this.openRequest(headers, body === null, readTimeout, signal);
    if (body !== null) void this.sendBody(id, body.bytes, body.stream);
    this.flush();
    if (channels.requestStart.hasSubscribers) channels.requestStart.publish({ connection: this, streamId: id, method, path: url });
    return id;
  }

  /** A request's header list, checked; throws TypeError for illegal input. */
  private headerList(method: string, url: string, headers: HeadersInit | undefined, body: NormalisedBody | null): HeaderInput[] {
    const list = requestHeaderList({
      method,
      scheme: this.secure ? 'https' : 'http',
      authority: this.authority,
      path: url,
      headers,
    });
    if (body !== null && body.length !== undefined && !hasContentLength(list)) {
      list.push(['content-length', String(body.length)]);
    }
    return list;
  }

  /** {@link request} for one that must wait: for the connection, or for a stream slot. */
  private async requestLater(
    method: string,
    url: string,
    headers: HeaderInput[],
    body: NormalisedBody | null,
    readTimeout: number,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    await this.connect();
    const id = await this.enqueue(
      headers,
      body === null,
      (streamId) => {
        if (body !== null) void this.sendBody(streamId, body.bytes, body.stream);
      },
      readTimeout,
      signal,
    );
    if (channels.requestStart.hasSubscribers) channels.requestStart.publish({ connection: this, streamId: id, method, path: url });
    return id;
  }

  /** Opens a request's stream now, and the connection's record of it. */
  private openRequest(headers: HeaderInput[], endStream: boolean, readTimeout: number, signal: AbortSignal | undefined): number {
    const id = this.session.openStream(headers, endStream);
    const record = this.track(id, false, readTimeout);
    if (signal !== undefined) this.listenForAbort(record, signal);
    return id;
  }

  // hyper's low-level calls: putRequest, putHeader, endHeaders, send.
  private readonly building = new Map<number, { method: string; path: string; headers: Array<[string, string]>; ended: boolean; id: Deferred<number> }>();
  private nextBuildId = 1;

  /**
   * Starts a request without sending it; returns the stream ID it will have.
   * Requests started this way are sent in the order they were started.
   */
  putRequest(method: string, path: string): number {
    const provisional = this.nextBuildId;
    this.nextBuildId += 2;
    this.building.set(provisional, { method, path, headers: [], ended: false, id: deferred<number>() });
    return provisional;
  }

  /** Adds a header to a request started with {@link putRequest}. */
  putHeader(name: string, value: string, streamId: number): void {
    const b = this.building.get(streamId);
    if (b === undefined || b.ended) throw new Error(`No request being built with stream ID ${streamId}`);
    b.headers.push([name, value]);
  }

  /**
   * Sends the headers of a request started with {@link putRequest}; with
   * `final`, the request has no body. Returns the stream ID.
   */
  async endHeaders(streamId: number, options: { final?: boolean; body?: Uint8Array | string } = {}): Promise<number> {
    const b = this.building.get(streamId);
    if (b === undefined || b.ended) throw new Error(`No request being built with stream ID ${streamId}`);
    b.ended = true;
    const body = options.body;
    const final = options.final ?? false;
    const headers = requestHeaderList({ method: b.method, scheme: this.secure ? 'https' : 'http', authority: this.authority, path: b.path, headers: b.headers });
    await this.connect();
    // Streams must open in increasing order: wait for the ones built before.
    for (const [id, other] of this.building) {
      if (id >= streamId) break;
      await other.id.promise.catch(() => {});
    }
    try {
      const id = await this.enqueue(headers, final && (body === undefined || body.length === 0), (sid) => {
        if (body !== undefined && body.length > 0) {
          this.session.sendData(sid, bytesOf(body), final);
          this.flush();
        }
      });
      b.id.resolve(id);
      return id;
    } catch (err) {
      b.id.reject(err as Error);
      throw err;
    } finally {
      this.building.delete(streamId);
    }
  }

  /** Sends body data on a request whose headers went without `final`. */
  async send(data: Uint8Array | string, final: boolean, streamId: number): Promise<void> {
    const bytes = bytesOf(data);
    const record = this.streams.get(streamId);
    if (record === undefined) throw new ConnectionError('HW_ERR_STREAM_CLOSED', `Stream ${streamId} is not open`, { scope: 'stream', streamId });
    this.session.sendData(streamId, bytes, final);
    this.flush();
    await this.waitWritable(record);
  }

  /**
   * The response of a stream: with no ID, of the oldest request whose
   * response has not been asked for yet. Resolves when the final response
   * headers arrive (1xx are skipped).
   */
  getResponse(streamId?: number): Promise<HTTP20Response> {
    if (streamId === undefined) {
      const oldest = this.oldestOutstanding();
      if (oldest === undefined) return Promise.reject(new Error('No outstanding request to get a response for'));
      streamId = oldest;
    }
    const record = this.streams.get(streamId);
    if (record === undefined) return Promise.reject(new Error(`No stream ${streamId} on this connection`));
    record.taken = true;
    const promise = record.response.promise;
    this.maybeForget(record);
    const ms = record.readTimeout;
    if (ms > 0 && !record.response.settled && record.headDeadline === 0) {
      // A deadline on the record, checked by the connection's watch, rather
      // than a timer or a promise around the response: this runs per
      // request, and the timeout almost never fires.
      // A long timeout (the pools' default is minutes) is stamped by the
      // watch at its next look rather than here, so a request reads no
      // clock: it then fires at most two looks late, never early. A short
      // one, which a caller means more exactly, is stamped now.
      record.headDeadline = ms < STAMP_NOW_BELOW ? Date.now() + ms : UNSTAMPED;
      this.watchHeads(ms);
    }
    return promise;
  }

  /**
   * The oldest request whose response nobody has asked for yet. A scan
   * rather than a set kept per request: only getResponse() without an ID
   * needs it, and a request pays nothing for it.
   */
  private oldestOutstanding(): number | undefined {
    for (const record of this.streams.values()) if (!record.taken && !record.pushed) return record.id;
    return undefined;
  }

  /**
   * Drops the connection's own reference to a finished stream whose response
   * has been handed out (the response keeps what it needs), so a long-lived
   * connection does not accumulate one record per request.
   */
  private maybeForget(record: StreamRecord): void {
    if (record.taken && (record.ended || record.failed !== null) && record.pushes.length === 0 && record.writable === null) {
      this.streams.delete(record.id);
    }
  }

  /**
   * Pushed responses. With `streamId`, only those promised on that stream;
   * without, those on any stream. Yields what has been promised so far; with
   * `captureAll`, also waits for more until the stream (or, without
   * `streamId`, every open stream) has ended. Each push is yielded once.
   */
  async *getPushes(options: { streamId?: number; captureAll?: boolean } = {}): AsyncGenerator<HTTP20Push> {
    const { streamId, captureAll = false } = options;
    for (;;) {
      let yielded = false;
      for (const record of this.streams.values()) {
        if (streamId !== undefined && record.id !== streamId) continue;
        while (record.pushes.length > 0) {
          yielded = true;
          yield record.pushes.shift()!;
        }
        this.maybeForget(record);
      }
      if (!captureAll) return;
      if (yielded) continue;
      const waiting = streamId !== undefined ? this.streams.get(streamId) : undefined;
      const stillOpen =
        streamId !== undefined
          ? waiting !== undefined && !waiting.ended && waiting.failed === null
          : [...this.streams.values()].some((r) => !r.pushed && !r.ended && r.failed === null);
      if (!stillOpen || this.failure !== null) return;
      await new Promise<void>((resolve) => this.pushWaiters.add(resolve));
    }
  }

  /** Sends a PING; resolves with the round trip in ms when the ACK arrives. */
  async ping(data: Uint8Array = new Uint8Array(8)): Promise<number> {
    await this.connect();
    const done = deferred<void>();
    const copy = Uint8Array.from(data);
    this.session.ping(copy);
    this.pings.push({ data: copy, done });
    const start = performance.now();
    this.flush();
    await this.withReadTimeout(done.promise, 'PING ACK');
    return performance.now() - start;
  }

  /**
   * Closes the connection. Without an error code (or NO_ERROR) it is
   * graceful: GOAWAY, then wait for the streams in flight to finish. With an
   * error code, it is immediate.
   */
  async close(errorCode: number = ErrorCode.NO_ERROR): Promise<void> {
    if (this.socket === null) {
      this.failure ??= new ConnectionError('HW_ERR_CONNECTION_CLOSED', 'Connection closed');
      return;
    }
    this.closing = true;
    this.session.goaway(errorCode);
    this.flush();
    if (errorCode === ErrorCode.NO_ERROR) {
      this.failQueued(new ConnectionError('HW_ERR_CONNECTION_CLOSED', 'Connection closing: request not sent'));
      // Streams in flight may finish, but a stalled one must not hold the
      // close forever: after the grace period they are cancelled.
      await waitAtMost(this.waitIdle(), closeWaitOf(this.options));
    }
    const socket = this.socket;
    const closed = socket.closed ? Promise.resolve() : new Promise<void>((resolve) => socket.once('close', () => resolve()));
    this.shutdown(new ConnectionError('HW_ERR_CONNECTION_CLOSED', `Connection closed${errorCode ? ` with ${errorCodeName(errorCode)}` : ''}`, { errorCode }));
    // Resolve once the socket is really gone; a peer that never answers our
    // FIN is cut off after a second.
    await waitAtMost(closed, 1000);
    if (!socket.destroyed) socket.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- internals ---------------------------------------------------------------

  private async dial(): Promise<void> {
    const socket = this.givenSocket ?? this.openSocket();
    this.socket = socket;
    socket.setNoDelay(true);
    // A socket handed in may be connected already (for TLS: handshake done,
    // when alpnProtocol is no longer null).
    const ready = !socket.connecting && (!this.secure || (socket as tls.TLSSocket).alpnProtocol !== null);
    if (this.givenSocket === undefined || !ready) {
      await waitConnected(socket, this.secure ? 'secureConnect' : 'connect', this.dialOptions()).catch((err: HyperwireError) => {
        this.failure = err;
        throw err;
      });
    }
    if (this.secure) {
      const alpn = alpnOf(socket);
      if (alpn !== 'h2') {
        const err = new TLSError('HW_ERR_ALPN', `The server at ${this.host}:${this.port} did not select h2 by ALPN (got ${alpn ?? 'nothing'})`);
        this.failure = err;
        socket.destroy();
        throw err;
      }
    }
    if (!this.refd) socket.unref();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // A socket handed over after a 101 was paused so nothing was lost.
    socket.resume();
    socket.on('error', (err) => this.shutdown(new ConnectionError('HW_ERR_SOCKET', `Socket error: ${err.message}`, { cause: err })));
    socket.on('close', () => this.shutdown(new ConnectionError('HW_ERR_CONNECTION_CLOSED', 'The connection was closed by the peer')));
    socket.on('drain', () => this.wakeWriter());
    const upgraded = this.upgraded;
    if (upgraded === undefined) {
      this.session.start();
      this.flush();
    } else {
      const id = this.session.startUpgraded(upgraded.method);
      this.track(id, false);
      this.flush();
      if (upgraded.rest.length > 0) this.onData(upgraded.rest);
    }
    this.connected = true;
    debug('connected to %s:%d (%s)', this.host, this.port, this.secure ? 'h2' : 'h2c');
  }

  private openSocket(): net.Socket {
    const dial = this.dialOptions();
    return this.secure ? openTLS({ ...dial, tls: this.options.tls, alpn: ['h2'] }) : openTCP(dial);
  }

  private dialOptions(): DialOptions {
    return dialOptionsOf(this.host, this.port, this.options);
  }

  /** Wakes a body sender waiting for the socket to drain (or for the connection to end). */
  private wakeWriter(): void {
    const w = this.writeWaiter;
    this.writeWaiter = null;
    w?.();
  }

  private onData(chunk: Buffer): void {
    const events = this.session.receive(chunk);
    this.dispatch(events);
    this.flush();
  }

  /**
   * Sends what the session queued (at the end of this tick, or now when it
   * is large), then handles the events its commands caused.
   */
  private flush(): void {
    const pending = this.session.pendingOutput;
    if (pending >= COALESCE_LIMIT) {
      this.writeOut();
    } else if (pending > 0 && !this.writeScheduled) {
      this.writeScheduled = true;
      // A microtask that queues a tick callback runs that callback once the
      // whole microtask queue has drained: after every promise continuation
      // the current callback set off, and still before the event loop moves
      // on. So a lone request leaves in the tick it was made, and a burst
      // leaves in one write.
      queueMicrotask(this.afterMicrotasks);
    }
    const events = this.session.takeEvents();
    if (events.length > 0) this.dispatch(events);
  }

  private readonly afterMicrotasks = (): void => {
    process.nextTick(this.scheduledWrite);
  };

  private readonly scheduledWrite = (): void => {
    this.writeScheduled = false;
    this.writeOut();
  };

  /** Writes everything the session has queued, in one socket write where it can. */
  private writeOut(): void {
    const socket = this.socket;
    const total = this.session.pendingOutput;
    if (total === 0 || socket === null || socket.destroyed) return;
    const out = this.session.takeOutput();
    if (this.tracing) this.logOutgoing(out);
    if (out.length === 1) {
      socket.write(out[0]!);
    } else if (total <= CONCAT_LIMIT) {
      // One small buffer costs the stream layer far less than many tiny ones.
      socket.write(Buffer.concat(out, total));
    } else {
      socket.cork();
      for (const b of out) socket.write(b);
      socket.uncork();
    }
  }

  /** NODE_DEBUG=hyperwire: the frames we send, parsed back from the bytes. */
  private outLog: { reader: FrameReader; preface: number } | null = null;
  private logOutgoing(out: Uint8Array[]): void {
    this.outLog ??= { reader: new FrameReader({ maxFrameSize: MAX_FRAME_SIZE_LIMIT }), preface: CONNECTION_PREFACE.length };
    const log = this.outLog;
    for (let chunk of out) {
      if (log.preface > 0) {
        const skip = Math.min(log.preface, chunk.length);
        log.preface -= skip;
        chunk = chunk.subarray(skip);
      }
      if (chunk.length === 0) continue;
      log.reader.push(Buffer.from(chunk));
      try {
        for (let f = log.reader.read(); f !== null; f = log.reader.read()) {
          if (debug.enabled) debug('frame out: %s', describeFrame(f));
          if (channels.frameSent.hasSubscribers) channels.frameSent.publish({ connection: this, frame: f });
        }
      } catch {
        // Only a log: a frame it cannot parse is not worth more.
      }
    }
  }

  private dispatch(events: readonly SessionEvent[]): void {
    // An index loop: this runs per socket read, and an array iterator here
    // was not always optimised away.
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      switch (event.type) {
        case 'response': {
          const record = this.streams.get(event.streamId);
          if (record === undefined) break;
          const response = new HTTP20Response({
            streamId: event.streamId,
            status: event.status,
            headers: event.headers,
            body: record.body,
            owner: record,
          });
          if (event.endStream) record.body.end();
          if (channels.responseHeaders.hasSubscribers) channels.responseHeaders.publish({ connection: this, streamId: event.streamId, status: event.status });
          if (debug.enabled) debug('stream %d: response %d', event.streamId, event.status);
          this.clearHeadDeadline(record);
          record.response.resolve(response);
          break;
        }
        case 'informational':
          debug('stream %d: informational %d', event.streamId, event.status);
          break;
        case 'data':
          // An empty frame (often just END_STREAM) carries nothing to read.
          if (event.data.length > 0) this.streams.get(event.streamId)?.body.push(event.data);
          break;
        case 'trailers': {
          const record = this.streams.get(event.streamId);
          if (record !== undefined) record.trailers = event.headers;
          break;
        }
        case 'streamEnd': {
          const record = this.streams.get(event.streamId);
          if (record === undefined) break;
          record.ended = true;
          record.body.end();
          if (channels.requestEnd.hasSubscribers) channels.requestEnd.publish({ connection: this, streamId: event.streamId });
          this.streamOver(record);
          break;
        }
        case 'streamError': {
          const record = this.streams.get(event.streamId);
          if (record === undefined) break;
          this.failRecord(record, event.error);
          if (channels.requestError.hasSubscribers) channels.requestError.publish({ connection: this, streamId: event.streamId, error: event.error });
          debug('stream %d: %s', event.streamId, event.error.message);
          this.streamOver(record);
          break;
        }
        case 'push': {
          const parent = this.streams.get(event.parentStreamId);
          const record = this.track(event.promisedStreamId, true);
          const push = new HTTP20Push({
            parentStreamId: event.parentStreamId,
            promisedStreamId: event.promisedStreamId,
            request: event.request,
            response: () => {
              record.taken = true;
              this.maybeForget(record);
              return this.withReadTimeout(record.response.promise, `pushed response on stream ${event.promisedStreamId}`, record);
            },
            cancel: () => this.closeStream(record),
          });
          if (parent !== undefined) {
            if (parent.pushes === NO_PUSHES) parent.pushes = [];
            parent.pushes.push(push);
          }
          debug('stream %d: push promised on stream %d for %s', event.parentStreamId, event.promisedStreamId, event.request.path);
          wakeAll(this.pushWaiters);
          break;
        }
        case 'pingAck': {
          const i = this.pings.findIndex((p) => Buffer.compare(p.data, event.data) === 0);
          if (i >= 0) this.pings.splice(i, 1)[0]!.done.resolve();
          break;
        }
        case 'goaway':
          debug('GOAWAY: last stream %d, %s', event.lastStreamId, errorCodeName(event.errorCode));
          this.closing = true;
          // Never sent, so never processed: safe to send elsewhere (§6.8).
          this.failQueued(new StreamRefusedError(`The server sent GOAWAY (${errorCodeName(event.errorCode)}): request not sent`, { errorCode: event.errorCode }));
          this.maybeIdle();
          this.watchers.notify();
          break;
        case 'writable':
          this.streams.get(event.streamId)?.writable?.();
          break;
        case 'capacity':
          this.pump();
          if (this.queue.length === 0) this.watchers.notify();
          break;
        case 'connectionError':
          this.shutdown(event.error);
          break;
        case 'settings':
          // The server's MAX_CONCURRENT_STREAMS may have changed.
          this.watchers.notify();
          break;
        case 'settingsAck':
          break;
      }
    }
  }

  /** An abort of the request resets its stream with CANCEL and fails its calls. */
  private listenForAbort(record: StreamRecord, signal: AbortSignal): void {
    const onAbort = (): void => this.cancel(record, abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    record.unlisten = () => signal.removeEventListener('abort', onAbort);
  }

  /** A stream ended or failed: push waiters, close() and the record's memory hear of it. */
  private streamOver(record: StreamRecord): void {
    if (record.unlisten !== null) {
      record.unlisten();
      record.unlisten = null;
    }
    wakeAll(this.pushWaiters);
    this.maybeIdle();
    this.maybeForget(record);
  }

  private track(id: number, pushed: boolean, readTimeout = this.readTimeout): StreamRecord {
    const record = new StreamRecord(id, pushed, readTimeout, this.streamHost);
    this.streams.set(id, record);
    return record;
  }

  /** What every stream record of this connection calls back. */
  private readonly streamHost: StreamHost = {
    consumed: (id, n) => {
      this.session.consumed(id, n);
      this.flush();
    },
    timedOut: (record, error) => this.timedOut(record, error),
    closeStream: (record) => this.closeStream(record),
  };

  private enqueue(headers: HeaderInput[], endStream: boolean, start: (id: number) => void, readTimeout = this.readTimeout, signal?: AbortSignal): Promise<number> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new ConnectionError('HW_ERR_CONNECTION_CLOSED', 'The connection is closing: no new requests'));
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    const id = deferred<number>();
    const q: QueuedRequest = { headers, endStream, id, start, readTimeout, signal };
    this.queue.push(q);
    if (signal !== undefined) {
      // Still waiting for a stream slot: an abort takes it out of the queue.
      const onAbort = (): void => {
        const i = this.queue.indexOf(q);
        if (i >= 0) {
          this.queue.splice(i, 1);
          id.reject(abortError(signal));
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void id.promise.then(
        () => signal.removeEventListener('abort', onAbort),
        () => signal.removeEventListener('abort', onAbort),
      );
    }
    this.pump();
    return id.promise;
  }

  /** Opens queued requests while the server's stream limit allows, in order. */
  private pump(): void {
    while (this.queue.length > 0 && this.session.canOpenStream()) {
      const q = this.queue.shift()!;
      let id: number;
      try {
        id = this.openRequest(q.headers, q.endStream, q.readTimeout, q.signal);
      } catch (err) {
        q.id.reject(err as Error);
        continue;
      }
      q.id.resolve(id);
      q.start(id);
    }
    this.flush();
  }

  private async sendBody(streamId: number, bytes: Uint8Array | undefined, stream: AsyncIterable<Uint8Array> | undefined): Promise<void> {
    const record = this.streams.get(streamId);
    if (record === undefined) return;
    try {
      if (bytes !== undefined) {
        this.session.sendData(streamId, bytes, true);
        this.flush();
        return;
      }
      for await (const chunk of stream!) {
        if (record.failed !== null || this.failure !== null) return;
        this.session.sendData(streamId, chunk, false);
        this.flush();
        await this.waitWritable(record);
      }
      if (record.failed !== null || this.failure !== null) return;
      this.session.sendData(streamId, new Uint8Array(0), true);
      this.flush();
    } catch (err) {
      if (record.failed !== null || this.failure !== null) return;
      // The body source failed: the request cannot complete.
      const error = err instanceof HyperwireError ? err : new ConnectionError('HW_ERR_REQUEST_BODY', `Reading the request body failed: ${(err as Error)?.message}`, { scope: 'stream', streamId, cause: err });
      this.failRecord(record, error);
      this.session.resetStream(streamId, ErrorCode.CANCEL);
      this.flush();
    }
  }

  /** Waits until the stream's queued data has gone out and the socket can take more. */
  private async waitWritable(record: StreamRecord): Promise<void> {
    while (record.failed === null && this.failure === null && this.session.queuedData(record.id) > 0) {
      await new Promise<void>((resolve) => {
        record.writable = resolve;
      });
      record.writable = null;
    }
    const socket = this.socket;
    // The socket may hold up to networkBufferSize octets of body before the
    // sender waits for it to drain.
    if (socket !== null && socket.writableNeedDrain && socket.writableLength >= this.sendBuffer && this.failure === null) {
      await new Promise<void>((resolve) => {
        this.writeWaiter = resolve;
      });
    }
  }

  private closeStream(record: StreamRecord): void {
    if (!record.ended && record.failed === null) {
      this.session.resetStream(record.id, ErrorCode.CANCEL);
      const error = new ConnectionError('HW_ERR_STREAM_CANCELLED', `Stream ${record.id} was closed by the application`, { scope: 'stream', streamId: record.id, errorCode: ErrorCode.CANCEL });
      this.failRecord(record, error, true);
      this.flush();
      this.maybeIdle();
    }
    record.unlisten?.();
    record.unlisten = null;
    // Forget finished streams whose response was handed out, to bound memory.
    this.streams.delete(record.id);
  }

  /** `promise`, or a TimeoutError after the read timeout; a stream that stalled so is given up. */
  private withReadTimeout<T>(promise: Promise<T>, what: string, record?: StreamRecord): Promise<T> {
    const ms = record?.readTimeout ?? this.readTimeout;
    if (ms <= 0) return promise;
    return withTimeout(promise, ms, () => {
      const error = new ReadTimeoutError(`Timed out after ${ms} ms waiting for ${what}`);
      if (record !== undefined) this.timedOut(record, error);
      return error;
    });
  }

  /**
   * A stream went quiet past the read timeout: it is reset with CANCEL, so
   * it stops holding a slot of the server's stream limit and window, and
   * every later call on it fails with the same TimeoutError.
   */
  private timedOut(record: StreamRecord, error: ReadTimeoutError): void {
    this.cancel(record, error);
  }

  /** Gives up a stream: it is reset with CANCEL, and its calls fail with `error`. */
  private cancel(record: StreamRecord, error: HyperwireError): void {
    if (record.ended || record.failed !== null) return;
    this.session.resetStream(record.id, ErrorCode.CANCEL);
    this.failRecord(record, error);
    this.flush();
    this.streamOver(record);
  }

  private failQueued(error: HyperwireError): void {
    for (const q of this.queue.splice(0)) q.id.reject(error);
  }

  private waitIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  private isIdle(): boolean {
    return this.session.openStreams === 0 || this.failure !== null;
  }

  private maybeIdle(): void {
    if (this.isIdle()) wakeAll(this.idleWaiters);
  }

  private clearHeadDeadline(record: StreamRecord): void {
    record.headDeadline = 0;
  }

  /** The watch over the deadlines of response heads, while any is armed. */
  private headWatch: Deadline | null = null;

  /**
   * Looks at the armed head deadlines every quarter of the read timeout
   * it was started for (at most every 250 ms, at least every 10 ms): it
   * sets the time of those armed since its last look, and a stream whose
   * head is late is given up with a ReadTimeoutError.
   */
  private watchHeads(ms: number): void {
    if (this.headWatch !== null) return;
    const every = Math.min(250, Math.max(10, ms >> 2));
    const check = (): void => {
      this.headWatch = null;
      const now = Date.now();
      let armed = false;
      for (const record of this.streams.values()) {
        const at = record.headDeadline;
        if (at === 0) continue;
        if (at === UNSTAMPED) {
          record.headDeadline = now + record.readTimeout;
          armed = true;
          continue;
        }
        if (at <= now) {
          record.headDeadline = 0;
          this.timedOut(record, new ReadTimeoutError(`Timed out after ${record.readTimeout} ms waiting for response headers on stream ${record.id}`));
        } else {
          armed = true;
        }
      }
      if (armed) this.arm(every, check);
    };
    this.arm(every, check);
  }

  private arm(every: number, check: () => void): void {
    // The socket keeps the process alive while a request waits; the watch need not.
    this.headWatch = startDeadline(every, check);
    this.headWatch.timer?.unref();
  }

  /** Ends the connection: every outstanding call fails with `error`. */
  private shutdown(error: HyperwireError): void {
    if (this.failure === null) this.failure = error;
    const events = this.session.terminate(error);
    this.failQueued(error);
    this.dispatch(events);
    // Records the session no longer knew of (pushes not yet asked for, say).
    for (const record of this.streams.values()) this.failRecord(record, error);
    for (const p of this.pings.splice(0)) p.done.reject(error);
    wakeAll(this.pushWaiters);
    this.wakeWriter();
    const socket = this.socket;
    if (socket !== null && !socket.destroyed) {
      const rest = this.session.takeOutput();
      if (this.tracing) this.logOutgoing(rest);
      for (const b of rest) socket.write(b);
      socket.end();
      socket.destroySoon();
    }
    wakeAll(this.idleWaiters);
    this.watchers.notify();
  }

  /**
   * A stream failed: its response and body reject with `error` (the first
   * error wins), and a body sender waiting on it wakes up.
   */
  private failRecord(record: StreamRecord, error: HyperwireError, discardBody = false): void {
    this.clearHeadDeadline(record);
    record.failed ??= error;
    record.response.reject(error);
    record.body.fail(error, discardBody);
    record.writable?.();
  }
}

/** Whether a request's header list has a content-length (names are lowercase by now). */
function hasContentLength(headers: readonly HeaderInput[]): boolean {
  for (let i = 0; i < headers.length; i++) if (headers[i]![0] === 'content-length') return true;
  return false;
}

/** One line about a frame, for NODE_DEBUG=hyperwire. */
function describeFrame(frame: Frame): string {
  const name = frameTypeName(frame.type);
  const base = `${name} stream=${frame.streamId} flags=0x${frame.flags.toString(16)}`;
  switch (frame.type) {
    case FrameType.DATA:
      return `${base} length=${frame.data.length}`;
    case FrameType.RST_STREAM:
    case FrameType.GOAWAY:
      return `${base} error=${errorCodeName(frame.errorCode)}`;
    case FrameType.WINDOW_UPDATE:
      return `${base} increment=${frame.windowSizeIncrement}`;
    case FrameType.SETTINGS:
      return `${base} ${frame.settings.map(([id, v]) => `${id}=${v}`).join(' ')}`;
    default:
      return base;
  }
}
