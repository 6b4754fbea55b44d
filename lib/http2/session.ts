/**
 * The client side of an HTTP/2 connection as a sans-IO engine (RFC 9113).
 *
 * Bytes from the socket go in through {@link ClientSession.receive}, which
 * returns what happened as events; commands (open a stream, send data,
 * reset, ping, close) queue frames, which {@link ClientSession.takeOutput}
 * hands to whoever owns the socket. No sockets, no timers, no Promises:
 * every rule can be tested frame by frame.
 */

import {
  ConnectionError,
  ErrorCode,
  errorCodeName,
  HyperwireError,
  ProtocolError,
  StreamRefusedError,
  StreamResetError,
} from '../common/errors.js';
import {
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  Flag,
  FrameType,
  frameTypeName,
  MAX_FRAME_SIZE_LIMIT,
  MAX_STREAM_ID,
  MAX_WINDOW_SIZE,
  SettingId,
} from '../frame/constants.js';
import { encodeDataFrameHeader, encodeFrame } from '../frame/encode.js';
import { connectionProtocolError } from '../frame/frame-errors.js';
import { CONTENT_LENGTH_ABSENT, CONTENT_LENGTH_CONFLICTING, CONTENT_LENGTH_INVALID, parseContentLength } from '../common/field-syntax.js';
import { integerIn } from '../common/range.js';
import { FrameReader } from '../frame/reader.js';
import type { Frame, SettingsEntry } from '../frame/types.js';
import { builtinHeaderCodec, type HeaderCodec, type HeaderCodecFactory } from '../hpack/header-codec.js';
import type { HeaderInput } from '../hpack/encoder.js';
import type { HTTPHeaderMap } from '../common/headers.js';
import { checkPushedRequest, checkResponseHead, checkTrailers, malformedResponse, type PushedRequest } from './header-rules.js';
import { ClosedStreams, type ClosedHow } from './closed-streams.js';
import { FlowControlManager, type BaseFlowControlManager, type WindowManagerClass } from './window.js';

/** The protocol's initial window size, for the connection and for streams (§6.9.2). */
export const DEFAULT_WINDOW = 65_535;

/** Options of {@link ClientSession}; every limit has a safe default. */
export interface SessionOptions {
  /** Accept server push (SETTINGS_ENABLE_PUSH). Default false. */
  enablePush?: boolean;
  /** Our SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window. Default 4 MiB. */
  initialWindowSize?: number;
  /** The connection's receive window, raised at start-up with WINDOW_UPDATE. Default 16 MiB. */
  connectionWindowSize?: number;
  /** Our SETTINGS_MAX_FRAME_SIZE. Default 16384. */
  maxFrameSize?: number;
  /** Our SETTINGS_MAX_HEADER_LIST_SIZE, also the decoder's limit. Default 64 KiB. */
  maxHeaderListSize?: number;
  /** Our SETTINGS_HEADER_TABLE_SIZE for the decoder. Default 4096. */
  headerTableSize?: number;
  /** Our SETTINGS_MAX_CONCURRENT_STREAMS: how many pushes may be open. Default 100. */
  maxConcurrentPushes?: number;
  /** The largest header block (HEADERS + CONTINUATION octets) accepted. Default 256 KiB. */
  maxHeaderBlockSize?: number;
  /** The most CONTINUATION frames in one block. Default 128. */
  maxContinuationFrames?: number;
  /** Control-frame replies (PING and SETTINGS ACKs) allowed to wait unsent. Default 1000. */
  maxQueuedControlFrames?: number;
  /** Window manager class; one instance for the connection, one per stream. */
  windowManager?: WindowManagerClass;
  /** Header compression backend. Default: the built-in HPACK. */
  headerCodec?: HeaderCodecFactory;
  /** Called with every frame received, before it is processed (debug logging). */
  onFrame?: ((frame: Frame) => void) | undefined;
}

/** The states of RFC 9113 §5.1 that a stream we know of can be in. */
export type StreamState = 'open' | 'half-closed-local' | 'half-closed-remote' | 'reserved-remote' | 'closed';

/** Events {@link ClientSession.receive} reports. */
export type SessionEvent =
  | { type: 'informational'; streamId: number; status: number; headers: HTTPHeaderMap }
  | { type: 'response'; streamId: number; status: number; headers: HTTPHeaderMap; endStream: boolean }
  | { type: 'data'; streamId: number; data: Uint8Array; flowSize: number; endStream: boolean }
  | { type: 'trailers'; streamId: number; headers: HTTPHeaderMap }
  | { type: 'streamEnd'; streamId: number }
  /** The stream failed: reset by the peer, refused by GOAWAY, or malformed (then we reset it). */
  | { type: 'streamError'; streamId: number; error: HyperwireError }
  | { type: 'push'; parentStreamId: number; promisedStreamId: number; request: PushedRequest }
  | { type: 'settings'; settings: ReadonlyMap<number, number> }
  | { type: 'settingsAck' }
  | { type: 'pingAck'; data: Uint8Array }
  | { type: 'goaway'; lastStreamId: number; errorCode: number; debugData: Uint8Array }
  /** A stream can take more DATA: its queue drained or a window opened. */
  | { type: 'writable'; streamId: number }
  /** Streams can be opened again (one closed, or the peer raised its limit). */
  | { type: 'capacity' }
  /** The connection is over: we sent GOAWAY for this error. Nothing more will happen. */
  | { type: 'connectionError'; error: HyperwireError };

interface Stream {
  id: number;
  state: StreamState;
  /** Our receive window policy. */
  recv: BaseFlowControlManager;
  /** The peer's window for what we send. */
  sendWindow: number;
  /** DATA waiting for window: chunks and whether the last one ends the stream. */
  outQueue: Uint8Array[];
  outQueued: number;
  outEnd: boolean;
  /** The request was HEAD: a body length in content-length is not a body. */
  head: boolean;
  /** Final response headers seen. */
  responded: boolean;
  /** content-length of the response, or -1. */
  expectedLength: number;
  received: number;
  /** A pushed stream (even id). */
  pushed: boolean;
  /** END_STREAM has gone out on a DATA frame. */
  endSent: boolean;
}

const NO_EVENTS: readonly SessionEvent[] = Object.freeze([]);

/**
 * The engine. Construct, call {@link start}, then feed {@link receive} and
 * drain {@link takeOutput} after every call.
 */
export class ClientSession {
  private readonly reader: FrameReader;
  private readonly codec: HeaderCodec;
  private readonly windowManager: WindowManagerClass;
  private readonly enablePush: boolean;
  private readonly initialWindowSize: number;
  private readonly connectionWindowSize: number;
  private readonly maxFrameSizeOurs: number;
  private readonly maxHeaderListSize: number;
  private readonly headerTableSize: number;
  private readonly maxConcurrentPushes: number;
  private readonly maxHeaderBlockSize: number;
  private readonly maxContinuationFrames: number;
  private readonly maxQueuedControlFrames: number;

  // The peer's settings (§6.5.2 defaults until its SETTINGS arrives).
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  /**
   * The peer's limit on streams we open. The protocol's initial value is
   * unlimited (§6.5.2), but requests sent before the server's SETTINGS
   * arrive are refused beyond whatever limit it is about to announce; so
   * until then we assume 100, the least §6.5.2 recommends servers allow (as
   * nghttp2 and hyperium/h2 do). The first SETTINGS replaces the guess:
   * with its value, or with no limit if it has none.
   */
  peerMaxConcurrentStreams = 100;
  /** The peer's SETTINGS_MAX_HEADER_LIST_SIZE, advisory (§6.5.2). */
  peerMaxHeaderListSize = Infinity;
  private peerSettingsSeen = false;

  private readonly streams = new Map<number, Stream>();
  private readonly closed = new ClosedStreams();
  private nextStreamId = 1;
  private lastPromisedId = 0;
  /** Highest stream id the peer initiated and we processed (for our GOAWAY). */
  private lastPeerStreamId = 0;
  private openLocal = 0;
  private openPushes = 0;

  private connSendWindow = DEFAULT_WINDOW;
  private readonly connRecv: BaseFlowControlManager;

  /** Header block being assembled across CONTINUATION frames. */
  private continuation: {
    streamId: number;
    kind: 'headers' | 'push';
    endStream: boolean;
    promisedId: number;
    fragments: Uint8Array[];
    size: number;
    frames: number;
  } | null = null;

  private output: Uint8Array[] = [];
  private outputBytes = 0;
  private queuedControl = 0;
  /** Streams with DATA waiting for window, in order. */
  private readonly blocked = new Set<number>();

  private goawaySent = false;
  private goawayReceived = -1;
  private dead: HyperwireError | null = null;
  private events: SessionEvent[] = [];
  private readonly trace: ((frame: Frame) => void) | undefined;

  constructor(options: SessionOptions = {}) {
    this.enablePush = options.enablePush ?? false;
    this.initialWindowSize = integerIn(options.initialWindowSize ?? 4 * 1024 * 1024, 0, MAX_WINDOW_SIZE, 'initialWindowSize');
    this.connectionWindowSize = integerIn(options.connectionWindowSize ?? 16 * 1024 * 1024, DEFAULT_WINDOW, MAX_WINDOW_SIZE, 'connectionWindowSize');
    this.maxFrameSizeOurs = integerIn(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE, MAX_FRAME_SIZE_LIMIT, 'maxFrameSize');
    this.maxHeaderListSize = integerIn(options.maxHeaderListSize ?? 65_536, 0, 0xffffffff, 'maxHeaderListSize');
    this.headerTableSize = integerIn(options.headerTableSize ?? 4096, 0, 0xffffffff, 'headerTableSize');
    this.maxConcurrentPushes = integerIn(options.maxConcurrentPushes ?? 100, 0, 0xffffffff, 'maxConcurrentPushes');
    this.maxHeaderBlockSize = integerIn(options.maxHeaderBlockSize ?? 256 * 1024, 1024, 2 ** 30, 'maxHeaderBlockSize');
    this.maxContinuationFrames = integerIn(options.maxContinuationFrames ?? 128, 1, 1e6, 'maxContinuationFrames');
    this.maxQueuedControlFrames = integerIn(options.maxQueuedControlFrames ?? 1000, 1, 1e7, 'maxQueuedControlFrames');
    this.windowManager = options.windowManager ?? FlowControlManager;
    this.trace = options.onFrame;
    // DATA straddling socket chunks is delivered in pieces, without copying.
    this.reader = new FrameReader({ maxFrameSize: this.maxFrameSizeOurs, splitData: true });
    // Until our SETTINGS is acknowledged the peer assumes a 4096-octet table;
    // the decoder's limit is raised or lowered on the ACK.
    this.codec = (options.headerCodec ?? builtinHeaderCodec)({
      decoder: { maxTableSize: 4096, maxHeaderListSize: this.maxHeaderListSize },
    });
    this.connRecv = new this.windowManager(this.connectionWindowSize);
    this.connRecv.windowSize = DEFAULT_WINDOW;
  }

  /** The header compression backend in use. */
  get headerCodecName(): string {
    return this.codec.backend;
  }

  /** Our SETTINGS (§6.5.2), as sent in the preface and in HTTP2-Settings. */
  private localSettings(): SettingsEntry[] {
    const settings: SettingsEntry[] = [
      [SettingId.ENABLE_PUSH, this.enablePush ? 1 : 0],
      [SettingId.INITIAL_WINDOW_SIZE, this.initialWindowSize],
      [SettingId.MAX_HEADER_LIST_SIZE, this.maxHeaderListSize],
    ];
    if (this.headerTableSize !== 4096) settings.push([SettingId.HEADER_TABLE_SIZE, this.headerTableSize]);
    if (this.maxFrameSizeOurs !== DEFAULT_MAX_FRAME_SIZE) settings.push([SettingId.MAX_FRAME_SIZE, this.maxFrameSizeOurs]);
    if (this.enablePush) settings.push([SettingId.MAX_CONCURRENT_STREAMS, this.maxConcurrentPushes]);
    return settings;
  }

  /**
   * The payload of our SETTINGS frame, for the HTTP2-Settings header of an
   * HTTP/1.1 Upgrade request (RFC 7540 §3.2.1), before base64url.
   */
  settingsPayload(): Buffer {
    return encodeFrame({ type: FrameType.SETTINGS, flags: 0, streamId: 0, ack: false, settings: this.localSettings() }).subarray(9);
  }

  /** Queues the connection preface, our SETTINGS and the connection window raise (§3.4). */
  start(): void {
    this.emit(CONNECTION_PREFACE);
    this.emit(encodeFrame({ type: FrameType.SETTINGS, flags: 0, streamId: 0, ack: false, settings: this.localSettings() }));
    const raise = this.connectionWindowSize - DEFAULT_WINDOW;
    if (raise > 0) {
      this.connRecv.windowSize += raise;
      this.emit(windowUpdate(0, raise));
    }
  }

  /**
   * Starts the connection after an HTTP/1.1 `Upgrade: h2c` was answered with
   * 101 (RFC 7540 §3.2): the request already sent becomes stream 1,
   * half-closed (local), and its response arrives on it. Returns 1.
   *
   * @param method the upgraded request's method (a HEAD response has no body).
   */
  startUpgraded(method: string): number {
    if (this.nextStreamId !== 1) throw new Error('startUpgraded() must come before any stream is opened');
    this.start();
    this.nextStreamId = 3;
    this.streams.set(1, this.newStream(1, 'half-closed-local', method === 'HEAD', false));
    this.openLocal++;
    return 1;
  }

  /** Whether the connection is over (a connection error, or GOAWAY both ways and nothing open). */
  get isDead(): boolean {
    // With GOAWAY sent and received no stream can start (§6.8), so once the
    // last one has closed nothing more can happen on the connection.
    return this.dead !== null || (this.goawaySent && this.goawayReceived >= 0 && this.streams.size === 0);
  }

  /** Whether another stream may be opened now (the peer's MAX_CONCURRENT_STREAMS, GOAWAY). */
  canOpenStream(): boolean {
    return this.dead === null && !this.goawaySent && this.goawayReceived < 0 && this.openLocal < this.peerMaxConcurrentStreams && this.nextStreamId <= MAX_STREAM_ID;
  }

  /** Streams we opened that are not yet closed. */
  get openStreams(): number {
    return this.openLocal;
  }

  /** Octets of frames waiting in {@link takeOutput}. */
  get pendingOutput(): number {
    return this.outputBytes;
  }

  /**
   * Opens a stream with a request header list (already checked and cleaned,
   * see `requestHeaderList`). Returns its id. Call only when
   * {@link canOpenStream} is true.
   *
   * @throws HPACKEncodingError / TypeError if the list cannot be encoded;
   *   then nothing was sent and no id was used.
   */
  openStream(headers: readonly HeaderInput[], endStream: boolean): number {
    if (!this.canOpenStream()) throw new ConnectionError('HW_ERR_NO_CAPACITY', 'No stream can be opened on this connection now');
    const block = this.codec.encode(headers);
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    let head = false;
    for (const h of headers) if (h[0] === ':method') head = h[1] === 'HEAD';
    this.streams.set(id, this.newStream(id, endStream ? 'half-closed-local' : 'open', head, false));
    this.openLocal++;
    this.emitHeaderBlock(id, block, endStream);
    return id;
  }

  /**
   * Queues request body data on a stream; `endStream` ends it. Data goes out
   * as the windows allow; a `writable` event says when the queue has drained.
   * Returns the octets still queued on the stream. Data for a request the
   * server stopped after its complete response (RST_STREAM NO_ERROR, §8.1)
   * is discarded.
   */
  sendData(streamId: number, data: Uint8Array, endStream: boolean): number {
    const stream = this.streams.get(streamId);
    if (stream === undefined && this.closed.get(streamId) === 'request-stopped') return 0;
    if (stream === undefined) {
      throw new ConnectionError('HW_ERR_STREAM_CLOSED', `Stream ${streamId} is closed`, { scope: 'stream', streamId });
    }
    if (stream.outEnd || stream.state === 'half-closed-local' || stream.pushed) {
      throw new ConnectionError('HW_ERR_STREAM_ENDED', `Stream ${streamId} has already ended its request`, { scope: 'stream', streamId });
    }
    if (data.length > 0) {
      stream.outQueue.push(data);
      stream.outQueued += data.length;
    }
    if (endStream) stream.outEnd = true;
    this.flushStream(stream);
    return stream.outQueued;
  }

  /** Octets queued on a stream, not yet sent for lack of window. */
  queuedData(streamId: number): number {
    return this.streams.get(streamId)?.outQueued ?? 0;
  }

  /**
   * The application consumed `size` octets of DATA (the `flowSize` of a
   * data event) on a stream: give window back as the managers decide.
   */
  consumed(streamId: number, size: number): void {
    this.giveBack(this.streams.get(streamId), size);
  }

  /** Resets a stream (RST_STREAM, §6.4); CANCEL by default. */
  resetStream(streamId: number, errorCode: number = ErrorCode.CANCEL): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined || this.dead !== null) return;
    this.emit(rstStreamFrame(streamId, errorCode));
    this.closeStream(stream, 'reset-by-us');
  }

  /** Queues a PING (§6.7) with 8 octets of opaque data. */
  ping(data: Uint8Array): void {
    if (data.length !== 8) throw new RangeError('PING data must be exactly 8 octets');
    if (this.dead !== null) throw this.dead;
    this.emit(encodeFrame({ type: FrameType.PING, flags: 0, streamId: 0, ack: false, opaqueData: data }));
  }

  /**
   * Queues GOAWAY (§6.8): no new streams; those open may finish. With an
   * error code other than NO_ERROR the connection is over at once.
   */
  goaway(errorCode: number = ErrorCode.NO_ERROR, debug = ''): void {
    if (this.dead !== null) return;
    if (!this.goawaySent) {
      this.goawaySent = true;
      this.emit(goawayFrame(this.lastPeerStreamId, errorCode, debug));
    }
    if (errorCode !== ErrorCode.NO_ERROR) {
      this.dead = new ConnectionError('HW_ERR_CONNECTION_CLOSED', `Connection closed by us with ${errorCodeName(errorCode)}`, { errorCode });
    }
  }

  /** Events caused by commands (sendData, resetStream, ...) since the last call. */
  takeEvents(): readonly SessionEvent[] {
    if (this.events.length === 0) return NO_EVENTS;
    const events = this.events;
    this.events = [];
    return events;
  }

  /** Frames to write, in order, since the last call. */
  takeOutput(): Uint8Array[] {
    const out = this.output;
    this.output = [];
    this.outputBytes = 0;
    this.queuedControl = 0;
    return out;
  }

  /**
   * Feeds bytes from the socket. Returns the events they caused, in order.
   * A connection error appears as a final `connectionError` event (GOAWAY
   * queued); after it, input is ignored.
   */
  receive(chunk: Uint8Array): readonly SessionEvent[] {
    if (this.dead !== null) return NO_EVENTS;
    this.reader.push(chunk);
    try {
      for (;;) {
        let frame: Frame | null;
        try {
          frame = this.reader.read();
        } catch (err) {
          if (err instanceof HyperwireError && err.scope === 'stream' && err.streamId !== undefined) {
            // Between the frames of a header block nothing but CONTINUATION
            // may come, not even a frame that alone would be a stream error:
            // the connection must go (§6.10).
            if (this.continuation !== null) {
              throw protocolError(`${err.message}, while a header block on stream ${this.continuation.streamId} awaits CONTINUATION (§6.10)`);
            }
            this.streamError(err.streamId, err);
            continue;
          }
          throw err;
        }
        if (frame === null) break;
        if (this.trace !== undefined) this.trace(frame);
        this.onFrame(frame);
        if (this.dead !== null) break;
      }
    } catch (err) {
      this.connectionError(asConnectionError(err));
    }
    return this.takeEvents();
  }

  /**
   * The transport closed or failed: every open stream fails with `error`.
   * Returns the events for them.
   */
  terminate(error: HyperwireError): readonly SessionEvent[] {
    if (this.dead === null) this.dead = error;
    this.failStreams(() => error);
    return this.takeEvents();
  }

  // --- frames in ---------------------------------------------------------------

  private onFrame(frame: Frame): void {
    const cont = this.continuation;
    if (cont !== null && frame.type !== FrameType.CONTINUATION) {
      throw protocolError(`${frameTypeName(frame.type)} frame while a header block on stream ${cont.streamId} awaits CONTINUATION (§6.10)`);
    }
    switch (frame.type) {
      case FrameType.DATA:
        return this.onData(frame.streamId, frame.flags, frame.data, frame.data.length + (frame.flags & Flag.PADDED ? frame.padding + 1 : 0));
      case FrameType.HEADERS: {
        if (frame.flags & Flag.PRIORITY && frame.streamDependency === frame.streamId) {
          // §5.3.1: a stream cannot depend on itself.
          this.streamError(frame.streamId, malformedResponse(frame.streamId, 'HEADERS makes the stream depend on itself'));
        }
        return this.startBlock(frame.streamId, 'headers', (frame.flags & Flag.END_STREAM) !== 0, 0, frame.headerBlockFragment, (frame.flags & Flag.END_HEADERS) !== 0);
      }
      case FrameType.PRIORITY:
        // Deprecated (§5.3.2) and ignored, but a self-dependency is still an error.
        if (frame.streamDependency === frame.streamId) {
          this.streamError(frame.streamId, malformedResponse(frame.streamId, 'PRIORITY makes the stream depend on itself'));
        }
        return;
      case FrameType.RST_STREAM:
        return this.onRstStream(frame.streamId, frame.errorCode);
      case FrameType.SETTINGS:
        if (frame.ack) return this.onSettingsAck();
        return this.onSettings(frame.settings);
      case FrameType.PUSH_PROMISE:
        return this.onPushPromise(frame.streamId, frame.promisedStreamId, frame.headerBlockFragment, (frame.flags & Flag.END_HEADERS) !== 0);
      case FrameType.PING:
        if (frame.ack) {
          this.events.push({ type: 'pingAck', data: Uint8Array.from(frame.opaqueData) });
        } else {
          this.emitControl(encodeFrame({ type: FrameType.PING, flags: 0, streamId: 0, ack: true, opaqueData: frame.opaqueData }));
        }
        return;
      case FrameType.GOAWAY:
        return this.onGoaway(frame.lastStreamId, frame.errorCode, frame.debugData);
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(frame.streamId, frame.windowSizeIncrement);
      case FrameType.CONTINUATION:
        return this.onContinuation(frame.streamId, frame.headerBlockFragment, (frame.flags & Flag.END_HEADERS) !== 0);
      default:
        // Unknown frame types are ignored (§5.5).
        return;
    }
  }

  /**
   * Gives `size` octets of window back to the connection and, while it may
   * still send, to `stream` (undefined: the connection's alone), as the
   * managers decide.
   */
  private giveBack(stream: Stream | undefined, size: number): void {
    if (this.dead !== null || size <= 0) return;
    const conn = this.connRecv.consumed(size);
    if (conn > 0) this.emit(windowUpdate(0, conn));
    // A stream that has ended on the peer's side needs no more window.
    if (stream === undefined || stream.state === 'half-closed-remote') return;
    const inc = stream.recv.consumed(size);
    if (inc > 0) this.emit(windowUpdate(stream.id, inc));
  }

  private onData(streamId: number, flags: number, data: Uint8Array, flowSize: number): void {
    // Flow control applies to the whole frame, padding included (§6.9.1),
    // before anything else, whatever becomes of the stream.
    if (flowSize > this.connRecv.windowSize) {
      throw flowControlError(`DATA of ${flowSize} octets exceeds the connection window of ${this.connRecv.windowSize} (§6.9.1)`);
    }
    this.connRecv.received(flowSize);
    const stream = this.lookup(streamId, 'DATA');
    if (stream === undefined) {
      // A stream we closed: give the connection window back at once.
      this.giveBack(undefined, flowSize);
      return;
    }
    if (stream.state === 'half-closed-remote' || !stream.responded) {
      this.giveBack(undefined, flowSize);
      this.streamError(streamId, new ProtocolError(
        stream.responded ? 'HW_ERR_STREAM_CLOSED' : 'HW_ERR_MALFORMED_RESPONSE',
        stream.responded ? `DATA on stream ${streamId} after END_STREAM (§5.1)` : `DATA on stream ${streamId} before the response headers (§8.1)`,
        { errorCode: stream.responded ? ErrorCode.STREAM_CLOSED : ErrorCode.PROTOCOL_ERROR, scope: 'stream', streamId },
      ));
      return;
    }
    if (flowSize > stream.recv.windowSize) {
      this.giveBack(undefined, flowSize);
      this.streamError(streamId, flowControlError(`DATA of ${flowSize} octets exceeds stream ${streamId}'s window of ${stream.recv.windowSize} (§6.9.1)`, streamId));
      return;
    }
    stream.recv.received(flowSize);
    stream.received += data.length;
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (stream.expectedLength >= 0 && (stream.received > stream.expectedLength || (endStream && stream.received !== stream.expectedLength))) {
      this.giveBack(undefined, flowSize);
      this.streamError(streamId, malformedResponse(streamId, `content-length ${stream.expectedLength} disagrees with ${stream.received}+ octets of DATA`));
      return;
    }
    // Padding is consumed on arrival: only the payload waits for the reader.
    const padding = flowSize - data.length;
    if (padding > 0) this.giveBack(stream, padding);
    this.events.push({ type: 'data', streamId, data, flowSize: data.length, endStream });
    if (endStream) this.remoteEnded(stream);
  }

  private startBlock(streamId: number, kind: 'headers' | 'push', endStream: boolean, promisedId: number, fragment: Uint8Array, endHeaders: boolean): void {
    if (endHeaders) {
      this.onHeaderBlock(streamId, kind, endStream, promisedId, fragment);
      return;
    }
    this.checkBlockSize(fragment.length, streamId);
    // Copy: the fragment is a view of a socket chunk.
    this.continuation = { streamId, kind, endStream, promisedId, fragments: [Uint8Array.from(fragment)], size: fragment.length, frames: 0 };
  }

  private onContinuation(streamId: number, fragment: Uint8Array, endHeaders: boolean): void {
    const cont = this.continuation;
    if (cont === null || cont.streamId !== streamId) {
      throw protocolError(`CONTINUATION on stream ${streamId} without a header block in progress there (§6.10)`);
    }
    cont.size += fragment.length;
    cont.frames++;
    this.checkBlockSize(cont.size, streamId);
    if (cont.frames > this.maxContinuationFrames) {
      throw new ProtocolError('HW_ERR_CONTINUATION_FLOOD', `More than ${this.maxContinuationFrames} CONTINUATION frames in one header block`, {
        errorCode: ErrorCode.ENHANCE_YOUR_CALM,
      });
    }
    cont.fragments.push(Uint8Array.from(fragment));
    if (!endHeaders) return;
    this.continuation = null;
    this.onHeaderBlock(streamId, cont.kind, cont.endStream, cont.promisedId, Buffer.concat(cont.fragments, cont.size));
  }

  private checkBlockSize(size: number, streamId: number): void {
    if (size > this.maxHeaderBlockSize) {
      // The block cannot be skipped without desynchronising HPACK: the
      // connection must go (§4.3).
      throw new ProtocolError('HW_ERR_HEADER_BLOCK_TOO_LARGE', `Header block on stream ${streamId} exceeds ${this.maxHeaderBlockSize} octets`, {
        errorCode: ErrorCode.ENHANCE_YOUR_CALM,
      });
    }
  }

  private decodeBlock(block: Uint8Array): string[] | HyperwireError {
    try {
      return this.codec.decodeFlat(block);
    } catch (err) {
      // A list over our limit is the stream's problem (the table is in step);
      // anything else breaks the shared HPACK state: connection error (§4.3).
      if (err instanceof HyperwireError && err.scope === 'stream') return err;
      throw err;
    }
  }

  private onHeaderBlock(streamId: number, kind: 'headers' | 'push', endStream: boolean, promisedId: number, block: Uint8Array): void {
    // Decode first, always: the HPACK state must advance even for a stream
    // we no longer care about.
    const decoded = this.decodeBlock(block);
    if (kind === 'push') return this.onPushBlock(streamId, promisedId, decoded);
    const stream = this.lookup(streamId, 'HEADERS');
    if (stream === undefined) return;
    if (stream.state === 'half-closed-remote') {
      this.streamError(streamId, new ProtocolError('HW_ERR_STREAM_CLOSED', `HEADERS on stream ${streamId} after END_STREAM (§5.1)`, {
        errorCode: ErrorCode.STREAM_CLOSED,
        scope: 'stream',
        streamId,
      }));
      return;
    }
    if (decoded instanceof HyperwireError) {
      this.streamError(streamId, new ProtocolError(decoded.code, decoded.message, { errorCode: ErrorCode.PROTOCOL_ERROR, scope: 'stream', streamId }));
      return;
    }
    try {
      if (!stream.responded) {
        const head = checkResponseHead(decoded, streamId);
        if (head.status < 200) {
          // 1xx: informational; more HEADERS follow (§8.1). 101 is not allowed (§8.6).
          if (endStream || head.status === 101) throw malformedResponse(streamId, `status ${head.status} ${endStream ? 'with END_STREAM' : 'in HTTP/2'}`);
          this.events.push({ type: 'informational', streamId, status: head.status, headers: head.headers });
          return;
        }
        stream.responded = true;
        const noBody = stream.head || head.status === 204 || head.status === 304;
        if (!noBody) stream.expectedLength = contentLength(head.headers, streamId);
        if (endStream && stream.expectedLength > 0) {
          throw malformedResponse(streamId, `content-length ${stream.expectedLength} with no DATA`);
        }
        stream.recv.documentSize = stream.expectedLength >= 0 ? stream.expectedLength : undefined;
        this.events.push({ type: 'response', streamId, status: head.status, headers: head.headers, endStream });
      } else {
        // A second block after the final response: trailers, which must end the stream (§8.1).
        if (!endStream) throw malformedResponse(streamId, 'a header block after the response without END_STREAM');
        const trailers = checkTrailers(decoded, streamId);
        if (stream.expectedLength >= 0 && stream.received !== stream.expectedLength) {
          throw malformedResponse(streamId, `content-length ${stream.expectedLength} disagrees with ${stream.received} octets of DATA`);
        }
        this.events.push({ type: 'trailers', streamId, headers: trailers });
      }
    } catch (err) {
      if (err instanceof HyperwireError && err.scope === 'stream') {
        this.streamError(streamId, err);
        return;
      }
      throw err;
    }
    if (endStream) this.remoteEnded(stream);
  }

  private onPushPromise(streamId: number, promisedId: number, fragment: Uint8Array, endHeaders: boolean): void {
    if (!this.enablePush) {
      throw protocolError('PUSH_PROMISE received with push disabled (§6.6, §8.4)');
    }
    if (promisedId % 2 !== 0 || promisedId <= this.lastPromisedId || this.streams.has(promisedId) || this.closed.has(promisedId)) {
      throw protocolError(`PUSH_PROMISE promises stream ${promisedId}, which is not a new even stream id (§5.1.1, §6.6)`);
    }
    this.lastPromisedId = promisedId;
    this.lastPeerStreamId = promisedId;
    this.startBlock(streamId, 'push', false, promisedId, fragment, endHeaders);
  }

  /** Refuses a promised stream before it opens: RST_STREAM, and it counts as reset by us. */
  private refusePush(promisedId: number, errorCode: number): void {
    this.emit(rstStreamFrame(promisedId, errorCode));
    this.closed.set(promisedId, 'reset-by-us');
  }

  private onPushBlock(parentId: number, promisedId: number, decoded: string[] | HyperwireError): void {
    const parent = this.streams.get(parentId);
    const parentOk = parent !== undefined && !parent.pushed && (parent.state === 'open' || parent.state === 'half-closed-local');
    if (!parentOk) {
      if (parent === undefined && this.closed.get(parentId) === 'reset-by-us') {
        // We reset the parent; the promise crossed our RST_STREAM. Refuse it.
        this.refusePush(promisedId, ErrorCode.CANCEL);
        return;
      }
      throw protocolError(`PUSH_PROMISE on stream ${parentId}, which is not an open request stream (§8.4)`);
    }
    if (decoded instanceof HyperwireError) return this.refusePush(promisedId, ErrorCode.PROTOCOL_ERROR);
    let request: PushedRequest;
    try {
      request = checkPushedRequest(decoded, promisedId);
    } catch {
      return this.refusePush(promisedId, ErrorCode.PROTOCOL_ERROR);
    }
    if (this.openPushes >= this.maxConcurrentPushes) return this.refusePush(promisedId, ErrorCode.REFUSED_STREAM);
    this.streams.set(promisedId, this.newStream(promisedId, 'reserved-remote', request.method === 'HEAD', true));
    this.openPushes++;
    this.events.push({ type: 'push', parentStreamId: parentId, promisedStreamId: promisedId, request });
  }

  private onRstStream(streamId: number, errorCode: number): void {
    const stream = this.lookup(streamId, 'RST_STREAM');
    if (stream === undefined) return;
    if (errorCode === ErrorCode.NO_ERROR && stream.state === 'half-closed-remote' && !stream.pushed) {
      // The response is complete and the server asks us to stop sending the
      // request body "without error"; the response must not be discarded
      // (§8.1). The stream closes quietly, and a writer waiting for the
      // queue to drain is woken: what it sends now is dropped (see sendData).
      this.closeStream(stream, 'request-stopped');
      this.events.push({ type: 'writable', streamId });
      return;
    }
    const error =
      errorCode === ErrorCode.REFUSED_STREAM
        ? new StreamRefusedError(`Stream ${streamId} refused by the server (REFUSED_STREAM); the request was not processed`, { errorCode, streamId })
        : new StreamResetError(`Stream ${streamId} reset by the server with ${errorCodeName(errorCode)}`, { errorCode, streamId });
    this.events.push({ type: 'streamError', streamId, error });
    this.closeStream(stream);
  }

  private onSettings(entries: readonly SettingsEntry[]): void {
    const applied = new Map<number, number>();
    for (const [id, value] of entries) {
      switch (id) {
        case SettingId.ENABLE_PUSH:
          // A server never announces push for itself (§6.5.2, §8.4).
          if (value !== 0) throw protocolError(`SETTINGS_ENABLE_PUSH ${value} from a server`);
          break;
        case SettingId.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW_SIZE) {
            throw flowControlError(`SETTINGS_INITIAL_WINDOW_SIZE ${value} exceeds 2^31-1 (§6.5.2)`);
          }
          // The change applies to every open stream's send window (§6.9.2).
          const delta = value - this.peerInitialWindow;
          this.peerInitialWindow = value;
          for (const stream of this.streams.values()) {
            if (stream.pushed) continue;
            stream.sendWindow += delta;
            if (stream.sendWindow > MAX_WINDOW_SIZE) {
              throw flowControlError(`SETTINGS_INITIAL_WINDOW_SIZE pushes stream ${stream.id}'s window past 2^31-1 (§6.9.2)`);
            }
          }
          break;
        }
        case SettingId.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_FRAME_SIZE_LIMIT) {
            throw protocolError(`SETTINGS_MAX_FRAME_SIZE ${value} is outside 16384..2^24-1 (§6.5.2)`);
          }
          this.peerMaxFrameSize = value;
          break;
        case SettingId.MAX_CONCURRENT_STREAMS:
          this.peerMaxConcurrentStreams = value;
          break;
        case SettingId.HEADER_TABLE_SIZE:
          // Our encoder may use less than the peer allows (RFC 7541 §4.2);
          // capping bounds its memory.
          this.codec.setEncoderMaxTableSize(Math.min(value, 65_536));
          break;
        case SettingId.MAX_HEADER_LIST_SIZE:
          this.peerMaxHeaderListSize = value;
          break;
        default:
          // Unknown settings are ignored (§6.5.2).
          break;
      }
      applied.set(id, value);
    }
    if (!this.peerSettingsSeen && !applied.has(SettingId.MAX_CONCURRENT_STREAMS)) this.peerMaxConcurrentStreams = Infinity;
    this.peerSettingsSeen = true;
    this.emitControl(encodeFrame({ type: FrameType.SETTINGS, flags: Flag.ACK, streamId: 0, ack: true, settings: [] }));
    this.events.push({ type: 'settings', settings: applied });
    // A larger window or more streams may unblock senders.
    this.flushAll();
    if (this.canOpenStream()) this.events.push({ type: 'capacity' });
  }

  private onSettingsAck(): void {
    // Our settings are in force now: the decoder's table limit follows ours.
    this.codec.setDecoderMaxTableSize(this.headerTableSize);
    this.events.push({ type: 'settingsAck' });
  }

  private onGoaway(lastStreamId: number, errorCode: number, debugData: Uint8Array): void {
    if (this.goawayReceived >= 0 && lastStreamId > this.goawayReceived) {
      throw protocolError(`GOAWAY raised last-stream-id from ${this.goawayReceived} to ${lastStreamId} (§6.8)`);
    }
    this.goawayReceived = lastStreamId;
    const debug = Uint8Array.from(debugData);
    this.events.push({ type: 'goaway', lastStreamId, errorCode, debugData: debug });
    // Streams we opened above last-stream-id were not processed: retryable (§6.8).
    this.failStreams((stream) =>
      stream.pushed || stream.id <= lastStreamId
        ? null
        : new StreamRefusedError(`Stream ${stream.id} was not processed: the server sent GOAWAY with last-stream-id ${lastStreamId}`, {
            streamId: stream.id,
            errorCode,
          }),
    );
  }

  private onWindowUpdate(streamId: number, increment: number): void {
    if (streamId === 0) {
      if (increment === 0) throw protocolError('WINDOW_UPDATE with an increment of 0 on the connection (§6.9)');
      this.connSendWindow += increment;
      if (this.connSendWindow > MAX_WINDOW_SIZE) {
        throw flowControlError('WINDOW_UPDATE pushes the connection window past 2^31-1 (§6.9.1)');
      }
      this.flushAll();
      return;
    }
    const stream = this.lookup(streamId, 'WINDOW_UPDATE');
    if (stream === undefined) return;
    if (increment === 0) {
      this.streamError(streamId, malformedResponse(streamId, 'WINDOW_UPDATE with an increment of 0 (§6.9)'));
      return;
    }
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW_SIZE) {
      this.streamError(streamId, flowControlError(`WINDOW_UPDATE pushes stream ${streamId}'s window past 2^31-1 (§6.9.1)`, streamId));
      return;
    }
    this.flushStream(stream);
  }

  /**
   * The stream a frame names, or undefined if the frame is to be dropped (a
   * stream we closed). A frame on an idle stream is a connection error (§5.1).
   */
  private lookup(streamId: number, what: string): Stream | undefined {
    const stream = this.streams.get(streamId);
    if (stream !== undefined) {
      if (stream.state === 'reserved-remote' && what === 'HEADERS') {
        stream.state = 'half-closed-local';
      } else if (stream.state === 'reserved-remote' && what !== 'RST_STREAM' && what !== 'WINDOW_UPDATE') {
        throw protocolError(`${what} on reserved stream ${streamId} (§5.1)`);
      }
      return stream;
    }
    if (streamId === 0) throw protocolError(`${what} on stream 0`);
    const known = streamId % 2 === 1 ? streamId < this.nextStreamId : streamId <= this.lastPromisedId;
    if (!known) throw protocolError(`${what} on idle stream ${streamId} (§5.1)`);
    const how = this.closed.get(streamId);
    if (how === 'reset-by-us' || how === undefined) return undefined;
    // Closed normally: the peer should know better (§5.1, "closed").
    if (what === 'DATA' || what === 'HEADERS') {
      throw new ProtocolError('HW_ERR_STREAM_CLOSED', `${what} on closed stream ${streamId} (§5.1)`, { errorCode: ErrorCode.STREAM_CLOSED });
    }
    return undefined;
  }

  // --- stream lifecycle --------------------------------------------------------

  /**
   * A stream record. A pushed stream never carries our DATA (§8.4): its send
   * side starts ended, with no window.
   */
  private newStream(id: number, state: StreamState, head: boolean, pushed: boolean): Stream {
    return {
      id,
      state,
      recv: new this.windowManager(this.initialWindowSize),
      sendWindow: pushed ? 0 : this.peerInitialWindow,
      outQueue: [],
      outQueued: 0,
      outEnd: pushed,
      head,
      responded: false,
      expectedLength: -1,
      received: 0,
      pushed,
      endSent: pushed,
    };
  }

  private remoteEnded(stream: Stream): void {
    this.events.push({ type: 'streamEnd', streamId: stream.id });
    if (stream.state === 'open') stream.state = 'half-closed-remote';
    else this.closeStream(stream);
  }

  private localEnded(stream: Stream): void {
    if (stream.state === 'open') stream.state = 'half-closed-local';
    else if (stream.state === 'half-closed-remote') this.closeStream(stream);
  }

  private closeStream(stream: Stream, how: ClosedHow = 'ended'): void {
    if (stream.state === 'closed') return;
    stream.state = 'closed';
    stream.outQueue.length = 0;
    stream.outQueued = 0;
    this.streams.delete(stream.id);
    this.blocked.delete(stream.id);
    this.closed.set(stream.id, how);
    if (stream.pushed) {
      this.openPushes--;
    } else {
      this.openLocal--;
      if (this.canOpenStream()) this.events.push({ type: 'capacity' });
    }
  }

  /**
   * Fails and closes every open stream for which `errorOf` gives an error
   * (null keeps the stream). Only open streams are in the map: closing
   * deletes them, hence the copy.
   */
  private failStreams(errorOf: (stream: Stream) => HyperwireError | null): void {
    for (const stream of [...this.streams.values()]) {
      const error = errorOf(stream);
      if (error === null) continue;
      this.events.push({ type: 'streamError', streamId: stream.id, error });
      this.closeStream(stream);
    }
  }

  /** A stream error: RST_STREAM to the peer, a streamError event for the owner (§5.4.2). */
  private streamError(streamId: number, error: HyperwireError): void {
    const stream = this.streams.get(streamId);
    this.emit(rstStreamFrame(streamId, error.errorCode ?? ErrorCode.PROTOCOL_ERROR));
    if (stream === undefined) return;
    this.events.push({ type: 'streamError', streamId, error });
    this.closeStream(stream, 'reset-by-us');
  }

  /** A connection error: GOAWAY with its code, and every stream fails (§5.4.1). */
  private connectionError(error: HyperwireError): void {
    this.continuation = null;
    if (!this.goawaySent) {
      this.goawaySent = true;
      this.emit(goawayFrame(this.lastPeerStreamId, error.errorCode ?? ErrorCode.PROTOCOL_ERROR, error.message.slice(0, 256)));
    }
    this.dead = error;
    this.failStreams(() => error);
    this.events.push({ type: 'connectionError', error });
  }

  // --- frames out --------------------------------------------------------------

  private emit(bytes: Uint8Array): void {
    this.output.push(bytes);
    this.outputBytes += bytes.length;
  }

  /** Queues a reply the peer's frame asked for, within the bound (a PING or SETTINGS flood). */
  private emitControl(bytes: Uint8Array): void {
    if (++this.queuedControl > this.maxQueuedControlFrames) {
      throw new ProtocolError('HW_ERR_CONTROL_FLOOD', `More than ${this.maxQueuedControlFrames} control-frame replies queued unsent`, {
        errorCode: ErrorCode.ENHANCE_YOUR_CALM,
      });
    }
    this.emit(bytes);
  }

  private emitHeaderBlock(streamId: number, block: Uint8Array, endStream: boolean): void {
    const max = this.peerMaxFrameSize;
    const endFlag = endStream ? Flag.END_STREAM : 0;
    if (block.length <= max) {
      this.emit(encodeFrame({ type: FrameType.HEADERS, flags: Flag.END_HEADERS | endFlag, streamId, padding: 0, exclusive: false, streamDependency: 0, weight: 16, headerBlockFragment: block }));
      return;
    }
    this.emit(encodeFrame({ type: FrameType.HEADERS, flags: endFlag, streamId, padding: 0, exclusive: false, streamDependency: 0, weight: 16, headerBlockFragment: block.subarray(0, max) }));
    for (let off = max; off < block.length; off += max) {
      const end = Math.min(off + max, block.length);
      this.emit(encodeFrame({ type: FrameType.CONTINUATION, flags: end === block.length ? Flag.END_HEADERS : 0, streamId, headerBlockFragment: block.subarray(off, end) }));
    }
  }

  private flushAll(): void {
    if (this.blocked.size === 0) return;
    for (const id of [...this.blocked]) {
      const stream = this.streams.get(id);
      if (stream === undefined) this.blocked.delete(id);
      else this.flushStream(stream);
      if (this.connSendWindow <= 0) break;
    }
  }

  /** Sends what the windows allow of a stream's queue, split by the peer's MAX_FRAME_SIZE. */
  private flushStream(stream: Stream): void {
    if (stream.state === 'half-closed-local') return;
    while (stream.outQueue.length > 0) {
      const allowed = Math.min(stream.sendWindow, this.connSendWindow, this.peerMaxFrameSize);
      if (allowed <= 0) {
        this.blocked.add(stream.id);
        return;
      }
      const head = stream.outQueue[0]!;
      let chunk: Uint8Array;
      if (head.length <= allowed) {
        chunk = head;
        stream.outQueue.shift();
      } else {
        chunk = head.subarray(0, allowed);
        stream.outQueue[0] = head.subarray(allowed);
      }
      stream.outQueued -= chunk.length;
      stream.sendWindow -= chunk.length;
      this.connSendWindow -= chunk.length;
      const last = stream.outQueue.length === 0 && stream.outEnd;
      if (last) stream.endSent = true;
      this.emit(encodeDataFrameHeader(stream.id, chunk.length, last ? Flag.END_STREAM : 0));
      if (chunk.length > 0) this.emit(chunk);
    }
    this.blocked.delete(stream.id);
    if (stream.outEnd) {
      if (!stream.endSent) {
        // An end with nothing left to send: an empty DATA frame carries END_STREAM.
        this.emit(encodeDataFrameHeader(stream.id, 0, Flag.END_STREAM));
      }
      stream.endSent = true;
      this.localEnded(stream);
      return;
    }
    this.events.push({ type: 'writable', streamId: stream.id });
  }
}

function windowUpdate(streamId: number, increment: number): Buffer {
  return encodeFrame({ type: FrameType.WINDOW_UPDATE, flags: 0, streamId, windowSizeIncrement: increment });
}

function goawayFrame(lastStreamId: number, errorCode: number, debug: string): Buffer {
  return encodeFrame({ type: FrameType.GOAWAY, flags: 0, streamId: 0, lastStreamId, errorCode, debugData: Buffer.from(debug, 'utf8') });
}

function protocolError(message: string): ProtocolError {
  return connectionProtocolError('HW_ERR_PROTOCOL', message);
}

/** FLOW_CONTROL_ERROR (§6.9.1): the connection's, or with `streamId` one stream's. */
function flowControlError(message: string, streamId?: number): ProtocolError {
  return new ProtocolError('HW_ERR_FLOW_CONTROL', message, {
    errorCode: ErrorCode.FLOW_CONTROL_ERROR,
    ...(streamId === undefined ? {} : { scope: 'stream' as const, streamId }),
  });
}

function rstStreamFrame(streamId: number, errorCode: number): Buffer {
  return encodeFrame({ type: FrameType.RST_STREAM, flags: 0, streamId, errorCode });
}

function asConnectionError(err: unknown): HyperwireError {
  if (err instanceof HyperwireError) return err;
  return new ConnectionError('HW_ERR_INTERNAL', `Internal error while processing input: ${(err as Error)?.message ?? String(err)}`, {
    errorCode: ErrorCode.INTERNAL_ERROR,
    cause: err,
  });
}

/** The response's content-length, -1 if absent; several must agree (RFC 9110 §8.6). */
function contentLength(headers: HTTPHeaderMap, streamId: number): number {
  let length = CONTENT_LENGTH_ABSENT;
  for (let i = headers.indexOf('content-length', 0); i >= 0; i = headers.indexOf('content-length', i + 1)) {
    const value = headers.valueAt(i);
    const n = parseContentLength(value, length);
    if (n === CONTENT_LENGTH_INVALID) throw malformedResponse(streamId, `invalid content-length ${JSON.stringify(value)}`);
    if (n === CONTENT_LENGTH_CONFLICTING) throw malformedResponse(streamId, 'conflicting content-length values');
    length = n;
  }
  return length;
}
