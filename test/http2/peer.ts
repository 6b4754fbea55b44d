/**
 * A scripted HTTP/2 server for the session tests: it builds frames with the
 * frame encoder and its own HPACK Encoder, feeds them to a ClientSession, and
 * reads back what the client wrote with a FrameReader and an HPACK Decoder,
 * after checking and stripping the 24-octet connection preface.
 *
 * Every header block the client sends is decoded as it is read, in order, so
 * the peer's decoder stays in step with the client's encoder whatever a test
 * chooses to look at.
 */

import { expect } from 'vitest';
import { errorCodeName, type HyperwireError } from '../../lib/common/errors.js';
import {
  CONNECTION_PREFACE,
  Flag,
  FrameReader,
  FrameType,
  MAX_FRAME_SIZE_LIMIT,
  encodeFrame,
  type Frame,
  type SettingsEntry,
} from '../../lib/frame/index.js';
import { Decoder, Encoder, type HeaderField, type HeaderInput } from '../../lib/hpack/index.js';
import { ClientSession, type SessionEvent, type SessionOptions } from '../../lib/http2/session.js';

/** A complete header block the client sent, decoded. */
export interface SentBlock {
  streamId: number;
  fields: HeaderField[];
  /** The raw block, fragments joined. */
  block: Buffer;
}

/** The request list most tests send. */
export function getRequest(path = '/', method = 'GET'): HeaderInput[] {
  return [
    [':method', method],
    [':scheme', 'https'],
    [':authority', 'example.com'],
    [':path', path],
  ];
}

export class Peer {
  readonly client: ClientSession;
  /** The server's encoder, for response and push blocks. */
  readonly encoder = new Encoder();
  /** The server's decoder, for the client's request blocks. */
  readonly decoder = new Decoder();
  /** Every header block the client has sent, in order. */
  readonly blocks: SentBlock[] = [];
  private readonly reader = new FrameReader({ maxFrameSize: MAX_FRAME_SIZE_LIMIT });
  private prefaceSeen = false;
  private pending: { streamId: number; parts: Uint8Array[] } | null = null;

  constructor(options: SessionOptions = {}) {
    this.client = new ClientSession(options);
  }

  /**
   * start(), the server's SETTINGS (answered with an ACK), and the server's
   * ACK of the client's SETTINGS; output and events up to here are drained.
   */
  handshake(settings: SettingsEntry[] = []): void {
    this.client.start();
    this.read();
    this.receive(settingsFrame(settings), settingsAck());
    expect(this.read().map(describeFrame)).toEqual(['SETTINGS ACK']);
  }

  /** The client's output since the last call, as bytes (preface included, if not yet read). */
  takeBytes(): Buffer {
    return Buffer.concat(this.client.takeOutput());
  }

  /** The client's frames since the last call, parsed; header blocks are decoded into {@link blocks}. */
  read(): Frame[] {
    let bytes = this.takeBytes();
    if (!this.prefaceSeen && bytes.length > 0) {
      expect(bytes.subarray(0, CONNECTION_PREFACE.length).toString('latin1')).toBe(CONNECTION_PREFACE.toString('latin1'));
      bytes = bytes.subarray(CONNECTION_PREFACE.length);
      this.prefaceSeen = true;
    }
    // Copy: the reader hands out views, and the client's buffers are its own.
    this.reader.push(Buffer.from(bytes));
    const frames: Frame[] = [];
    for (let f = this.reader.read(); f !== null; f = this.reader.read()) {
      frames.push(f);
      this.track(f);
    }
    expect(this.reader.bufferedBytes, 'the client wrote a partial frame').toBe(0);
    return frames;
  }

  /** {@link read}, described one line per frame. */
  readDescribed(): string[] {
    return this.read().map(describeFrame);
  }

  /** Encodes frames (or takes raw bytes) and feeds them to the client in one chunk. */
  receive(...frames: Array<Frame | Uint8Array>): readonly SessionEvent[] {
    return this.client.receive(Buffer.concat(frames.map((f) => (f instanceof Uint8Array ? f : encodeFrame(f)))));
  }

  /** A header block from the server's encoder (a copy: the encoder's blocks are views of its slab). */
  block(fields: readonly HeaderInput[]): Buffer {
    return Buffer.from(this.encoder.encode(fields));
  }

  /** A HEADERS frame with a block of `fields` from the server's encoder. */
  headers(streamId: number, fields: readonly HeaderInput[], opts: { endStream?: boolean; endHeaders?: boolean; priority?: number } = {}): Frame {
    return headersFrame(streamId, this.block(fields), opts);
  }

  /** A response HEADERS frame: `:status` then `fields`. */
  response(streamId: number, status: number | string, fields: readonly HeaderInput[] = [], opts: { endStream?: boolean } = {}): Frame {
    return this.headers(streamId, [[':status', String(status)], ...fields], opts);
  }

  /** A PUSH_PROMISE frame with a request block from the server's encoder. */
  pushPromise(streamId: number, promisedStreamId: number, fields: readonly HeaderInput[], endHeaders = true): Frame {
    return {
      type: FrameType.PUSH_PROMISE,
      flags: endHeaders ? Flag.END_HEADERS : 0,
      streamId,
      padding: 0,
      promisedStreamId,
      headerBlockFragment: this.block(fields),
    };
  }

  /** Opens a stream with a request list and reads its frames back. */
  open(path = '/', opts: { method?: string; endStream?: boolean } = {}): number {
    const id = this.client.openStream(getRequest(path, opts.method), opts.endStream ?? true);
    this.read();
    return id;
  }

  /** The request fields the client sent on `streamId` (the last block there). */
  sentFields(streamId: number): HeaderField[] | undefined {
    for (let i = this.blocks.length - 1; i >= 0; i--) if (this.blocks[i]!.streamId === streamId) return this.blocks[i]!.fields;
    return undefined;
  }

  private track(f: Frame): void {
    if (f.type === FrameType.HEADERS) {
      expect(this.pending, 'HEADERS while a block is unfinished').toBeNull();
      this.pending = { streamId: f.streamId, parts: [f.headerBlockFragment] };
      if (f.flags & Flag.END_HEADERS) this.finishBlock();
    } else if (f.type === FrameType.CONTINUATION) {
      expect(this.pending?.streamId, 'CONTINUATION without a block on its stream').toBe(f.streamId);
      this.pending!.parts.push(f.headerBlockFragment);
      if (f.flags & Flag.END_HEADERS) this.finishBlock();
    } else {
      expect(this.pending, `${describeFrame(f)} in the middle of a header block`).toBeNull();
    }
  }

  private finishBlock(): void {
    const { streamId, parts } = this.pending!;
    this.pending = null;
    const block = Buffer.concat(parts);
    this.blocks.push({ streamId, fields: this.decoder.decode(block), block });
  }
}

// --- frame builders ------------------------------------------------------------

export function settingsFrame(settings: readonly SettingsEntry[]): Frame {
  return { type: FrameType.SETTINGS, flags: 0, streamId: 0, ack: false, settings };
}

export function settingsAck(): Frame {
  return { type: FrameType.SETTINGS, flags: Flag.ACK, streamId: 0, ack: true, settings: [] };
}

export function headersFrame(streamId: number, block: Uint8Array, opts: { endStream?: boolean; endHeaders?: boolean; priority?: number } = {}): Frame {
  let flags = opts.endHeaders === false ? 0 : Flag.END_HEADERS;
  if (opts.endStream) flags |= Flag.END_STREAM;
  if (opts.priority !== undefined) flags |= Flag.PRIORITY;
  return {
    type: FrameType.HEADERS,
    flags,
    streamId,
    padding: 0,
    exclusive: false,
    streamDependency: opts.priority ?? 0,
    weight: 16,
    headerBlockFragment: block,
  };
}

export function continuation(streamId: number, fragment: Uint8Array, endHeaders: boolean): Frame {
  return { type: FrameType.CONTINUATION, flags: endHeaders ? Flag.END_HEADERS : 0, streamId, headerBlockFragment: fragment };
}

export function data(streamId: number, payload: Uint8Array | string | number, opts: { endStream?: boolean; padding?: number } = {}): Frame {
  const bytes =
    typeof payload === 'number' ? Buffer.alloc(payload, 0x61) : typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const padding = opts.padding ?? 0;
  return {
    type: FrameType.DATA,
    flags: (opts.endStream ? Flag.END_STREAM : 0) | (padding > 0 ? Flag.PADDED : 0),
    streamId,
    padding,
    data: bytes,
  };
}

export function windowUpdate(streamId: number, increment: number): Frame {
  return { type: FrameType.WINDOW_UPDATE, flags: 0, streamId, windowSizeIncrement: increment };
}

export function rstStream(streamId: number, errorCode: number): Frame {
  return { type: FrameType.RST_STREAM, flags: 0, streamId, errorCode };
}

export function ping(bytes: Uint8Array, ack = false): Frame {
  return { type: FrameType.PING, flags: ack ? Flag.ACK : 0, streamId: 0, ack, opaqueData: bytes };
}

export function goaway(lastStreamId: number, errorCode: number, debug = ''): Frame {
  return { type: FrameType.GOAWAY, flags: 0, streamId: 0, lastStreamId, errorCode, debugData: Buffer.from(debug, 'latin1') };
}

export function priority(streamId: number, dependsOn: number): Frame {
  return { type: FrameType.PRIORITY, flags: 0, streamId, exclusive: false, streamDependency: dependsOn, weight: 16 };
}

// --- descriptions ---------------------------------------------------------------

function flagNames(f: Frame): string {
  const names: string[] = [];
  if (f.type === FrameType.DATA || f.type === FrameType.HEADERS) {
    if (f.flags & Flag.END_STREAM) names.push('END_STREAM');
  }
  if (f.type === FrameType.HEADERS || f.type === FrameType.CONTINUATION || f.type === FrameType.PUSH_PROMISE) {
    if (f.flags & Flag.END_HEADERS) names.push('END_HEADERS');
  }
  return names.length === 0 ? '' : ` ${names.join('|')}`;
}

/**
 * One line that says everything a test asserts about a frame the client
 * wrote (GOAWAY's debug text aside), so expectations read like a trace.
 */
export function describeFrame(f: Frame): string {
  switch (f.type) {
    case FrameType.DATA:
      return `DATA ${f.streamId} len=${f.data.length}${flagNames(f)}`;
    case FrameType.HEADERS:
      return `HEADERS ${f.streamId} len=${f.headerBlockFragment.length}${flagNames(f)}`;
    case FrameType.CONTINUATION:
      return `CONTINUATION ${f.streamId} len=${f.headerBlockFragment.length}${flagNames(f)}`;
    case FrameType.PRIORITY:
      return `PRIORITY ${f.streamId}`;
    case FrameType.RST_STREAM:
      return `RST_STREAM ${f.streamId} ${errorCodeName(f.errorCode)}`;
    case FrameType.SETTINGS:
      return f.ack ? 'SETTINGS ACK' : `SETTINGS ${f.settings.map(([id, v]) => `${id}=${v}`).join(',')}`;
    case FrameType.PUSH_PROMISE:
      return `PUSH_PROMISE ${f.streamId} promised=${f.promisedStreamId}`;
    case FrameType.PING:
      return `PING${f.ack ? ' ACK' : ''} ${Buffer.from(f.opaqueData).toString('hex')}`;
    case FrameType.GOAWAY:
      return `GOAWAY last=${f.lastStreamId} ${errorCodeName(f.errorCode)}`;
    case FrameType.WINDOW_UPDATE:
      return `WINDOW_UPDATE ${f.streamId} +${f.windowSizeIncrement}`;
    default:
      return `UNKNOWN type=${f.type} stream=${f.streamId}`;
  }
}

// --- events -------------------------------------------------------------------------

/** Event types with their stream, e.g. `response 1`, `streamError 3`, `capacity`. */
export function kinds(events: readonly SessionEvent[]): string[] {
  return events.map((e) => ('streamId' in e ? `${e.type} ${e.streamId}` : e.type));
}

/** The error of the only streamError event for `streamId`. */
export function streamErrorOf(events: readonly SessionEvent[], streamId: number): HyperwireError {
  const found = events.filter((e): e is Extract<SessionEvent, { type: 'streamError' }> => e.type === 'streamError' && e.streamId === streamId);
  expect(found, `one streamError for stream ${streamId}`).toHaveLength(1);
  return found[0]!.error;
}

/** The error of the connectionError event, which must be the last event. */
export function connectionErrorOf(events: readonly SessionEvent[]): HyperwireError {
  const last = events[events.length - 1];
  expect(last?.type, 'the last event is connectionError').toBe('connectionError');
  return (last as Extract<SessionEvent, { type: 'connectionError' }>).error;
}

/** The one event of `type` (and stream), narrowed. */
export function eventOf<T extends SessionEvent['type']>(events: readonly SessionEvent[], type: T, streamId?: number): Extract<SessionEvent, { type: T }> {
  const found = events.filter((e) => e.type === type && (streamId === undefined || ('streamId' in e && e.streamId === streamId)));
  expect(found, `one ${type} event${streamId === undefined ? '' : ` on stream ${streamId}`}`).toHaveLength(1);
  return found[0] as Extract<SessionEvent, { type: T }>;
}

/** Bytes as latin1 text, for comparing bodies. */
export function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
