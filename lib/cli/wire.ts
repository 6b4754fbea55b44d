/**
 * What went over the wire, from the connections' diagnostics_channel
 * events: HTTP/2 frames both ways (header blocks decoded, see
 * hpack-trace.ts), HTTP/1.1 heads, and which request went on which
 * stream. The `--debug` log prints these events as they come; the output
 * of `-v` takes the request head from here, as it was sent (pseudo-header
 * fields, Host, Content-Length and the upgrade fields included, which
 * the Client's Request does not hold); and the push promises listed after
 * the response headers are read from here, decoded.
 *
 * The frame channels publish only for connections made while someone
 * listens, so {@link WireTrace.start} must come before the first request.
 */

import * as diagnosticsChannel from 'node:diagnostics_channel';
import { Flag, FrameType, type Frame } from '../frame/index.js';
import { HpackTrace, type TracedBlock } from './hpack-trace.js';

/** Which way a frame or head went. */
export type Direction = 'send' | 'recv';

/** An event of the trace. `time` is in ms since the trace's origin; `conn` numbers connections from 1. */
export type WireEvent =
  | { kind: 'connected'; time: number; conn: number; protocol: 'h2' | 'http/1.1'; host: string; port: number; secure: boolean; upgraded: boolean }
  | {
      kind: 'frame';
      time: number;
      conn: number;
      direction: Direction;
      frame: Frame;
      /** On the frame that ends a header block (END_HEADERS): the whole block, decoded, or why it could not be. */
      block: TracedBlock | { error: string } | null;
    }
  | { kind: 'head-sent'; time: number; conn: number; head: string }
  | { kind: 'head-received'; time: number; conn: number; version: string; status: number; reason: string; headers: ReadonlyArray<readonly [string, string]> };

/** A request as it went on the wire. */
export interface WireRequest {
  conn: number;
  /** The stream on HTTP/2; null on HTTP/1.1. */
  streamId: number | null;
  method: string;
  path: string;
  /** HTTP/2: the decoded header block (pseudo-header fields first); null until sent, or on HTTP/1.1. */
  fields: Array<[string, string]> | null;
  /** HTTP/1.1: the request head as sent (latin1, CRLFs kept); null until sent, or on HTTP/2. */
  head: string | null;
}

/** A server push as promised. */
export interface WirePush {
  conn: number;
  /** The stream the promise came on. */
  parentStreamId: number;
  promisedStreamId: number;
  /** The promised request's fields, decoded (null if the block could not be). */
  fields: Array<[string, string]> | null;
  /** The pushed response's status, once its HEADERS came. */
  status: number | null;
}

interface FrameMessage {
  connection: object;
  frame: Frame;
}
interface HeadSentMessage {
  connection: object;
  head: Uint8Array;
}
interface HeadReceivedMessage {
  connection: object;
  version: number | string;
  status: number;
  reason: string;
  headers: ReadonlyArray<readonly [string, string]>;
}
interface RequestStartMessage {
  connection: object;
  streamId: number | null;
  method: string;
  path: string;
}

/** What the trace keeps per connection object. */
interface ConnState {
  number: number;
  /** Decoders of the blocks we sent and of those we received (HTTP/2). */
  send: HpackTrace;
  recv: HpackTrace;
  /** A header block being carried by CONTINUATION frames, per direction. */
  pending: Record<Direction, { type: number; streamId: number; promised: number; parts: Buffer[] } | null>;
  /** HTTP/1.1: requests started whose head has not been seen yet. */
  awaitingHead: WireRequest[];
}

const CHANNELS = {
  frameSent: 'hyperwire:frame:sent',
  frameReceived: 'hyperwire:frame:received',
  headSent: 'hyperwire:http1:head:sent',
  headReceived: 'hyperwire:http1:head:received',
  requestStart: 'hyperwire:request:start',
} as const;

/**
 * Listens to the connections' channels between {@link start} and
 * {@link stop}, keeps the requests and pushes it saw, and hands each event
 * to the listener given (the `--debug` printer).
 */
export class WireTrace {
  /** Requests in the order they were started. */
  readonly requests: WireRequest[] = [];
  /** Pushes in the order they were promised. */
  readonly pushes: WirePush[] = [];
  private readonly origin: number;
  private readonly listener: ((event: WireEvent) => void) | null;
  private readonly conns = new Map<object, ConnState>();
  /**
   * Request blocks sent, by `conn:stream`: an HTTP/2 connection may write
   * a request's HEADERS before it announces the request.
   */
  private readonly sentBlocks = new Map<string, Array<[string, string]> | null>();
  private count = 0;
  /** An HTTP/1.1 connection that answered 101 to `Upgrade: h2c`: the next HTTP/2 connection is the same one. */
  private upgradedFrom: number | null = null;
  private readonly handlers: Array<[string, (message: unknown) => void]>;

  /**
   * @param origin performance.now() at time 0 of the events.
   * @param listener Called with each event, synchronously, as it happens.
   */
  constructor(origin: number, listener: ((event: WireEvent) => void) | null = null) {
    this.origin = origin;
    this.listener = listener;
    this.handlers = [
      [CHANNELS.frameSent, (m) => this.onFrame(m as FrameMessage, 'send')],
      [CHANNELS.frameReceived, (m) => this.onFrame(m as FrameMessage, 'recv')],
      [CHANNELS.headSent, (m) => this.onHeadSent(m as HeadSentMessage)],
      [CHANNELS.headReceived, (m) => this.onHeadReceived(m as HeadReceivedMessage)],
      [CHANNELS.requestStart, (m) => this.onRequestStart(m as RequestStartMessage)],
    ];
  }

  /** Starts listening: before the Client makes its first connection. */
  start(): void {
    for (const [name, fn] of this.handlers) diagnosticsChannel.subscribe(name, fn);
  }

  stop(): void {
    for (const [name, fn] of this.handlers) diagnosticsChannel.unsubscribe(name, fn);
  }

  /** The last request sent on the wire (the one whose response the Client returned), or null. */
  get lastRequest(): WireRequest | null {
    return this.requests[this.requests.length - 1] ?? null;
  }

  private now(): number {
    return performance.now() - this.origin;
  }

  private emit(event: WireEvent): void {
    this.listener?.(event);
  }

  private state(connection: object, protocol: 'h2' | 'http/1.1'): ConnState {
    let s = this.conns.get(connection);
    if (s === undefined) {
      let number: number;
      let upgraded = false;
      if (protocol === 'h2' && this.upgradedFrom !== null) {
        number = this.upgradedFrom;
        this.upgradedFrom = null;
        upgraded = true;
      } else {
        number = ++this.count;
      }
      s = { number, send: new HpackTrace(), recv: new HpackTrace(), pending: { send: null, recv: null }, awaitingHead: [] };
      this.conns.set(connection, s);
      const { host, port, secure } = endpointOf(connection);
      this.emit({ kind: 'connected', time: this.now(), conn: number, protocol, host, port, secure, upgraded });
    }
    return s;
  }

  private onRequestStart(m: RequestStartMessage): void {
    const s = this.state(m.connection, m.streamId === null ? 'http/1.1' : 'h2');
    const fields = m.streamId === null ? null : (this.sentBlocks.get(`${s.number}:${m.streamId}`) ?? null);
    const request: WireRequest = { conn: s.number, streamId: m.streamId, method: m.method, path: m.path, fields, head: null };
    this.requests.push(request);
    if (m.streamId === null) s.awaitingHead.push(request);
  }

  private onHeadSent(m: HeadSentMessage): void {
    const s = this.state(m.connection, 'http/1.1');
    const head = Buffer.from(m.head.buffer, m.head.byteOffset, m.head.byteLength).toString('latin1');
    const request = s.awaitingHead.shift();
    if (request !== undefined) request.head = head;
    this.emit({ kind: 'head-sent', time: this.now(), conn: s.number, head });
  }

  private onHeadReceived(m: HeadReceivedMessage): void {
    const s = this.state(m.connection, 'http/1.1');
    // The parser reports 10 or 11.
    const version = typeof m.version === 'number' ? `${Math.floor(m.version / 10)}.${m.version % 10}` : m.version;
    if (m.status === 101 && m.headers.some(([n, v]) => n.toLowerCase() === 'upgrade' && v.trim().toLowerCase() === 'h2c')) this.upgradedFrom = s.number;
    this.emit({ kind: 'head-received', time: this.now(), conn: s.number, version, status: m.status, reason: m.reason, headers: m.headers });
  }

  private onFrame(m: FrameMessage, direction: Direction): void {
    const s = this.state(m.connection, 'h2');
    const frame = m.frame;
    let block: TracedBlock | { error: string } | null = null;
    let blockStream = 0;
    let blockType: number = frame.type;
    let promised = 0;
    if (frame.type === FrameType.HEADERS || frame.type === FrameType.PUSH_PROMISE) {
      promised = frame.type === FrameType.PUSH_PROMISE ? frame.promisedStreamId : 0;
      if ((frame.flags & Flag.END_HEADERS) !== 0) {
        block = decodeBlock(direction === 'send' ? s.send : s.recv, frame.headerBlockFragment);
        blockStream = frame.streamId;
      } else {
        // The fragment is a view of a buffer the reader may reuse: copied.
        s.pending[direction] = { type: frame.type, streamId: frame.streamId, promised, parts: [Buffer.from(frame.headerBlockFragment)] };
      }
    } else if (frame.type === FrameType.CONTINUATION) {
      const pending = s.pending[direction];
      if (pending !== null) {
        pending.parts.push(Buffer.from(frame.headerBlockFragment));
        if ((frame.flags & Flag.END_HEADERS) !== 0) {
          s.pending[direction] = null;
          block = decodeBlock(direction === 'send' ? s.send : s.recv, Buffer.concat(pending.parts));
          blockStream = pending.streamId;
          blockType = pending.type;
          promised = pending.promised;
        }
      }
    }
    if (block !== null) this.record(s, direction, blockType, blockStream, promised, block);
    this.emit({ kind: 'frame', time: this.now(), conn: s.number, direction, frame, block });
  }

  /** Keeps what a decoded block says about requests and pushes. */
  private record(s: ConnState, direction: Direction, type: number, streamId: number, promised: number, block: TracedBlock | { error: string }): void {
    const fields = 'fields' in block ? block.fields.map((f): [string, string] => [f.name, f.value]) : null;
    if (direction === 'send') {
      if (type !== FrameType.HEADERS) return;
      // The first block of a stream is the request head; a later one is its trailers.
      const key = `${s.number}:${streamId}`;
      if (this.sentBlocks.has(key)) return;
      this.sentBlocks.set(key, fields);
      const request = this.requests.find((r) => r.conn === s.number && r.streamId === streamId);
      if (request !== undefined) request.fields = fields;
      return;
    }
    if (type === FrameType.PUSH_PROMISE) {
      this.pushes.push({ conn: s.number, parentStreamId: streamId, promisedStreamId: promised, fields, status: null });
      return;
    }
    const push = this.pushes.find((p) => p.conn === s.number && p.promisedStreamId === streamId);
    if (push !== undefined && push.status === null && fields !== null) {
      const status = fields.find(([n]) => n === ':status');
      if (status !== undefined) push.status = Number(status[1]);
    }
  }
}

function decodeBlock(trace: HpackTrace, block: Uint8Array): TracedBlock | { error: string } {
  try {
    return trace.decode(block);
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** The host, port and TLS of a connection object, as far as it says. */
function endpointOf(connection: object): { host: string; port: number; secure: boolean } {
  const c = connection as { host?: unknown; port?: unknown; secure?: unknown };
  return {
    host: typeof c.host === 'string' ? c.host : '?',
    port: typeof c.port === 'number' ? c.port : 0,
    secure: c.secure === true,
  };
}
