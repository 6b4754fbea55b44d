/**
 * FrameReader: an incremental HTTP/2 frame parser (RFC 9113 §4) that accepts
 * any chunking of its input.
 *
 * Shape (after websockets/ws lib/receiver.js): pushed chunks are queued as
 * they are; `read()` runs a numeric-state machine over the queue and parks
 * (returns null) when the bytes it needs have not arrived. A frame whose
 * payload lies wholly inside one chunk is decoded in place, its byte fields
 * being `subarray` views of that chunk; only a payload straddling chunks is
 * copied, once, into a Buffer of exactly its length, allocated after the
 * header has passed the SETTINGS_MAX_FRAME_SIZE check. A header straddling
 * chunks is gathered in a preallocated 9-octet scratch buffer.
 *
 * Only the syntax of one frame is checked (lengths, where stream id 0 is or
 * is not allowed, padding); what a frame means for stream or connection state
 * is the engine's business. A stream-scoped error consumes the frame and the
 * reader carries on with the next one; a connection-scoped error poisons the
 * reader: every later `read()` throws it again (§5.4.1: the connection is
 * over).
 */

import type { HyperwireError } from '../common/errors.js';
import { asBuffer } from '../common/latin1.js';
import { integerIn } from '../common/range.js';
import {
  DEFAULT_MAX_FRAME_SIZE,
  FRAME_HEADER_LENGTH,
  Flag,
  FrameType,
  MAX_FRAME_SIZE_LIMIT,
  SETTING_ENTRY_LENGTH,
  frameTypeName,
} from './constants.js';
import type { ExtensionFrameType } from './constants.js';
import { ERR_BAD_PADDING, ERR_STREAM_ID, connectionProtocolError, frameSizeError } from './frame-errors.js';
import type {
  ContinuationFrame,
  DataFrame,
  Frame,
  GoawayFrame,
  HeadersFrame,
  PingFrame,
  PriorityFrame,
  PushPromiseFrame,
  RstStreamFrame,
  SettingsEntry,
  SettingsFrame,
  UnknownFrame,
  WindowUpdateFrame,
} from './types.js';

/** Options for `FrameReader`. */
export interface FrameReaderOptions {
  /**
   * The largest frame payload accepted (§4.2): our SETTINGS_MAX_FRAME_SIZE.
   * 16384..2^24-1, default 16384. A larger Length is a connection error raised
   * from the 9 header octets alone, before any payload is buffered for it.
   */
  maxFrameSize?: number | undefined;
  /**
   * Deliver an unpadded DATA frame that straddles chunks as several DATA
   * frames, one per chunk piece, each a zero-copy view; only the last piece
   * keeps END_STREAM. The payload octets and their order are unchanged, so
   * flow control and length accounting come out the same, but no payload is
   * copied. Default false: every frame is delivered whole.
   */
  splitData?: boolean | undefined;
}

// Parser states.
const STATE_HEADER = 0; // waiting for the 9 header octets
const STATE_PAYLOAD = 1; // header parsed and checked; waiting for `length` payload octets
const STATE_SKIP = 2; // discarding the payload of a frame that raised a stream error

/** Compact the chunk queue once this many consumed slots sit at its front. */
const QUEUE_COMPACT_THRESHOLD = 1024;

const EMPTY: Buffer = Buffer.alloc(0);

// §6.2 default priority when HEADERS has no PRIORITY flag (RFC 7540 §5.3.5).
const DEFAULT_WEIGHT = 16;

function checkMaxFrameSize(n: number): void {
  integerIn(n, DEFAULT_MAX_FRAME_SIZE, MAX_FRAME_SIZE_LIMIT, 'maxFrameSize');
}

/** A 32-bit unsigned big-endian integer. */
function uint32(buf: Buffer, p: number): number {
  return (buf[p] as number) * 0x100_0000 + (((buf[p + 1] as number) << 16) | ((buf[p + 2] as number) << 8) | (buf[p + 3] as number));
}

/** A 31-bit stream identifier or increment, the reserved high bit masked off (§4.1, §6.9). */
function uint31(buf: Buffer, p: number): number {
  return (
    (((buf[p] as number) & 0x7f) << 24) |
    ((buf[p + 1] as number) << 16) |
    ((buf[p + 2] as number) << 8) |
    (buf[p + 3] as number)
  );
}

function badPadding(type: number, padLength: number, room: number): HyperwireError {
  // §6.1: "If the length of the padding is the length of the frame payload or
  // greater, the recipient MUST treat this as a connection error of type
  // PROTOCOL_ERROR." §6.2 and §6.6 say the same for the room left after the
  // fixed fields: padding may fill that room exactly (an empty fragment), no more.
  return connectionProtocolError(
    ERR_BAD_PADDING,
    `${frameTypeName(type)} Pad Length ${padLength} exceeds the ${room} octets left in the frame (RFC 9113 §6.1)`,
  );
}

export class FrameReader {
  /**
   * Pushed chunks: those in [#head, #tail) are unconsumed; the slots before
   * and after hold EMPTY. The array is reused, never truncated: setting an
   * array's length is a runtime call, and it would happen once per socket
   * read.
   */
  #chunks: Buffer[] = [];
  #head = 0;
  #tail = 0;
  /** Read position in `#chunks[#head]`. */
  #offset = 0;
  /** Unconsumed octets across the queue. */
  #buffered = 0;

  #state = STATE_HEADER;
  /** The current frame's header fields (valid in STATE_PAYLOAD). */
  #length = 0;
  #type = 0;
  #flags = 0;
  #streamId = 0;
  /** Octets still to discard in STATE_SKIP. */
  #skip = 0;

  #maxFrameSize: number;
  readonly #splitData: boolean;
  /** Set by a connection-scoped error; thrown by every later read(). */
  #error: HyperwireError | null = null;

  /** Where a header straddling chunks is gathered. */
  readonly #scratch: Buffer = Buffer.alloc(FRAME_HEADER_LENGTH);

  constructor(options: FrameReaderOptions = {}) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    checkMaxFrameSize(max);
    this.#maxFrameSize = max;
    this.#splitData = options.splitData === true;
  }

  /** The payload limit in force. */
  get maxFrameSize(): number {
    return this.#maxFrameSize;
  }

  /**
   * Changes the payload limit: call it with our SETTINGS_MAX_FRAME_SIZE once
   * the peer has acknowledged it (§6.5.3). It applies from the next frame
   * header parsed. Throws RangeError outside 16384..2^24-1.
   */
  setMaxFrameSize(n: number): void {
    checkMaxFrameSize(n);
    this.#maxFrameSize = n;
  }

  /** Octets pushed but not yet consumed by `read()` (a parsed header is consumed). */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Queues `chunk`. It is not copied: decoded frames may hold views of it, so
   * do not modify it afterwards. Ignored once the reader is poisoned.
   */
  push(chunk: Uint8Array): void {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError('FrameReader.push expects a Uint8Array');
    }
    const n = chunk.byteLength;
    if (n === 0 || this.#error !== null) return;
    this.#chunks[this.#tail++] = asBuffer(chunk);
    this.#buffered += n;
  }

  /**
   * The next complete frame, or null if more bytes are needed. Throws a
   * `FrameSizeError` or `ProtocolError` for a malformed frame (see the class
   * comment for what happens next).
   */
  read(): Frame | null {
    if (this.#error !== null) throw this.#error;
    if (this.#state === STATE_SKIP && !this.#discard()) return null;
    if (this.#state === STATE_HEADER) {
      if (this.#buffered < FRAME_HEADER_LENGTH) return null;
      this.#readHeader();
    }
    const length = this.#length;
    if (this.#splitData && this.#type === FrameType.DATA && (this.#flags & Flag.PADDED) === 0 && length > 0) {
      // Straddling (or not yet complete): hand out what this chunk holds.
      if (this.#buffered === 0) return null;
      const chunk = this.#chunks[this.#head] as Buffer;
      if (chunk.length - this.#offset < length) return this.#dataPiece(chunk);
    }
    if (this.#buffered < length) return null;
    this.#state = STATE_HEADER;

    let buf: Buffer;
    let p: number;
    if (length === 0) {
      buf = EMPTY;
      p = 0;
    } else {
      const chunk = this.#chunks[this.#head] as Buffer;
      p = this.#offset;
      if (chunk.length - p >= length) {
        // Zero-copy: the payload lies inside this chunk.
        buf = chunk;
        this.#offset = p + length;
        this.#buffered -= length;
        if (this.#offset === chunk.length) this.#shift();
      } else {
        buf = Buffer.allocUnsafe(length);
        this.#copyOut(buf, length);
        p = 0;
      }
    }
    return this.#decode(buf, p, length);
  }

  /** The part of the current unpadded DATA payload that `chunk` holds, as a DATA frame of its own. */
  #dataPiece(chunk: Buffer): DataFrame {
    // Called only when the frame goes on past this chunk: the piece never
    // ends the frame, so it never carries END_STREAM, which belongs to the
    // frame's last octet (§6.1); the last piece takes the ordinary path.
    const data = chunk.subarray(this.#offset);
    this.#buffered -= data.length;
    this.#length -= data.length;
    this.#shift();
    return { type: FrameType.DATA, flags: this.#flags & ~Flag.END_STREAM, streamId: this.#streamId, padding: 0, data };
  }

  // -------------------------------------------------------------------------
  // Queue handling

  /** Drops the front chunk. */
  #shift(): void {
    const chunks = this.#chunks;
    chunks[this.#head++] = EMPTY; // let the chunk be collected
    this.#offset = 0;
    if (this.#head === this.#tail) {
      this.#head = 0;
      this.#tail = 0;
    } else if (this.#head >= QUEUE_COMPACT_THRESHOLD) {
      chunks.splice(0, this.#head);
      this.#tail -= this.#head;
      this.#head = 0;
    }
  }

  /** Copies the next `n` (buffered, spanning chunks) octets into `target` and consumes them. */
  #copyOut(target: Buffer, n: number): void {
    let written = 0;
    while (written < n) {
      const chunk = this.#chunks[this.#head] as Buffer;
      const start = this.#offset;
      const take = Math.min(chunk.length - start, n - written);
      chunk.copy(target, written, start, start + take);
      written += take;
      this.#offset = start + take;
      if (this.#offset === chunk.length) this.#shift();
    }
    this.#buffered -= n;
  }

  /** Discards skipped octets as they arrive; true once the whole frame is gone. */
  #discard(): boolean {
    while (this.#skip > 0 && this.#buffered > 0) {
      const chunk = this.#chunks[this.#head] as Buffer;
      const take = Math.min(chunk.length - this.#offset, this.#skip);
      this.#offset += take;
      this.#skip -= take;
      this.#buffered -= take;
      if (this.#offset === chunk.length) this.#shift();
    }
    if (this.#skip > 0) return false;
    this.#state = STATE_HEADER;
    return true;
  }

  // -------------------------------------------------------------------------
  // Header

  /** Parses and checks the 9 header octets (all buffered), then enters STATE_PAYLOAD. */
  #readHeader(): void {
    let buf = this.#chunks[this.#head] as Buffer;
    let p = this.#offset;
    if (buf.length - p >= FRAME_HEADER_LENGTH) {
      this.#offset = p + FRAME_HEADER_LENGTH;
      this.#buffered -= FRAME_HEADER_LENGTH;
      if (this.#offset === buf.length) this.#shift();
    } else {
      // Straddles chunks: gather it byte by byte (at most 9) in the scratch buffer.
      const scratch = this.#scratch;
      for (let i = 0; i < FRAME_HEADER_LENGTH; i++) {
        const chunk = this.#chunks[this.#head] as Buffer;
        scratch[i] = chunk[this.#offset++] as number;
        if (this.#offset === chunk.length) this.#shift();
      }
      this.#buffered -= FRAME_HEADER_LENGTH;
      buf = scratch;
      p = 0;
    }
    const length = ((buf[p] as number) << 16) | ((buf[p + 1] as number) << 8) | (buf[p + 2] as number);
    const type = buf[p + 3] as number;
    const flags = buf[p + 4] as number;
    const streamId = uint31(buf, p + 5);
    this.#length = length;
    this.#type = type;
    this.#flags = flags;
    this.#streamId = streamId;

    // §4.2: a frame larger than SETTINGS_MAX_FRAME_SIZE. Checked first, and
    // on the header alone, so an oversized Length never buffers a payload.
    if (length > this.#maxFrameSize) {
      throw this.#poison(
        frameSizeError(
          `${frameTypeName(type)} frame of ${length} octets exceeds SETTINGS_MAX_FRAME_SIZE ${this.#maxFrameSize} (RFC 9113 §4.2)`,
        ),
      );
    }
    switch (type) {
      case FrameType.DATA:
        this.#needStream();
        this.#minLength((flags & Flag.PADDED) !== 0 ? 1 : 0, '§6.1');
        break;
      case FrameType.HEADERS:
        this.#needStream();
        this.#minLength(((flags & Flag.PADDED) !== 0 ? 1 : 0) + ((flags & Flag.PRIORITY) !== 0 ? 5 : 0), '§6.2');
        break;
      case FrameType.PRIORITY:
        this.#needStream();
        if (length !== 5) {
          // §6.3: "a stream error (Section 5.4.2) of type FRAME_SIZE_ERROR".
          // The payload is skipped as it arrives; the next frame is fine.
          this.#state = STATE_SKIP;
          this.#skip = length;
          throw frameSizeError(`PRIORITY frame of ${length} octets, not 5, on stream ${streamId} (RFC 9113 §6.3)`, streamId);
        }
        break;
      case FrameType.RST_STREAM:
        this.#needStream();
        this.#exactLength(4, '§6.4');
        break;
      case FrameType.SETTINGS:
        this.#needConnection();
        if ((flags & Flag.ACK) !== 0) {
          // §6.5: "Receipt of a SETTINGS frame with the ACK flag set and a
          // length field value other than 0 MUST be treated as a connection
          // error of type FRAME_SIZE_ERROR."
          this.#exactLength(0, '§6.5');
        } else if (length % SETTING_ENTRY_LENGTH !== 0) {
          throw this.#poison(frameSizeError(`SETTINGS frame of ${length} octets, not a multiple of 6 (RFC 9113 §6.5)`));
        }
        break;
      case FrameType.PUSH_PROMISE:
        this.#needStream();
        this.#minLength(((flags & Flag.PADDED) !== 0 ? 1 : 0) + 4, '§6.6');
        break;
      case FrameType.PING:
        this.#needConnection();
        this.#exactLength(8, '§6.7');
        break;
      case FrameType.GOAWAY:
        this.#needConnection();
        this.#minLength(8, '§6.8');
        break;
      case FrameType.WINDOW_UPDATE:
        // Either stream id is valid (§6.9).
        this.#exactLength(4, '§6.9');
        break;
      case FrameType.CONTINUATION:
        this.#needStream();
        break;
      default:
        // Unknown types: anything goes (§4.1, §5.5).
        break;
    }
    this.#state = STATE_PAYLOAD;
  }

  /** Makes `err` sticky; returns it for `throw`. */
  #poison(err: HyperwireError): HyperwireError {
    this.#error = err;
    this.#chunks = [];
    this.#head = 0;
    this.#tail = 0;
    this.#offset = 0;
    this.#buffered = 0;
    return err;
  }

  /** §6: frames that belong to a stream; stream id 0 is a connection PROTOCOL_ERROR. */
  #needStream(): void {
    if (this.#streamId === 0) {
      throw this.#poison(
        connectionProtocolError(ERR_STREAM_ID, `${frameTypeName(this.#type)} frame on stream 0 (RFC 9113 §6)`),
      );
    }
  }

  /** §6.5, §6.7, §6.8: connection frames; any other stream id is a connection PROTOCOL_ERROR. */
  #needConnection(): void {
    if (this.#streamId !== 0) {
      throw this.#poison(
        connectionProtocolError(
          ERR_STREAM_ID,
          `${frameTypeName(this.#type)} frame on stream ${this.#streamId}, not 0 (RFC 9113 §6)`,
        ),
      );
    }
  }

  #exactLength(n: number, section: string): void {
    if (this.#length !== n) {
      throw this.#poison(
        frameSizeError(`${frameTypeName(this.#type)} frame of ${this.#length} octets, not ${n} (RFC 9113 ${section})`),
      );
    }
  }

  #minLength(n: number, section: string): void {
    if (this.#length < n) {
      throw this.#poison(
        frameSizeError(
          `${frameTypeName(this.#type)} frame of ${this.#length} octets, too short for its ${n} octets of fixed fields (RFC 9113 ${section})`,
        ),
      );
    }
  }

  // -------------------------------------------------------------------------
  // Payload

  /** Builds the frame from its payload `buf[p, p + length)`; the header fields are in `#type` etc. */
  #decode(buf: Buffer, p: number, length: number): Frame {
    const flags = this.#flags;
    const streamId = this.#streamId;
    const end = p + length;
    switch (this.#type) {
      case FrameType.DATA: {
        let padding = 0;
        if ((flags & Flag.PADDED) !== 0) {
          padding = buf[p++] as number;
          if (padding > end - p) throw this.#poison(badPadding(FrameType.DATA, padding, end - p));
        }
        const frame: DataFrame = { type: FrameType.DATA, flags, streamId, padding, data: buf.subarray(p, end - padding) };
        return frame;
      }
      case FrameType.HEADERS: {
        let padding = 0;
        if ((flags & Flag.PADDED) !== 0) padding = buf[p++] as number;
        let exclusive = false;
        let streamDependency = 0;
        let weight = DEFAULT_WEIGHT;
        if ((flags & Flag.PRIORITY) !== 0) {
          exclusive = ((buf[p] as number) & 0x80) !== 0;
          streamDependency = uint31(buf, p);
          weight = (buf[p + 4] as number) + 1;
          p += 5;
        }
        if (padding > end - p) throw this.#poison(badPadding(FrameType.HEADERS, padding, end - p));
        const frame: HeadersFrame = {
          type: FrameType.HEADERS,
          flags,
          streamId,
          padding,
          exclusive,
          streamDependency,
          weight,
          headerBlockFragment: buf.subarray(p, end - padding),
        };
        return frame;
      }
      case FrameType.PRIORITY: {
        const frame: PriorityFrame = {
          type: FrameType.PRIORITY,
          flags,
          streamId,
          exclusive: ((buf[p] as number) & 0x80) !== 0,
          streamDependency: uint31(buf, p),
          weight: (buf[p + 4] as number) + 1,
        };
        return frame;
      }
      case FrameType.RST_STREAM: {
        const frame: RstStreamFrame = { type: FrameType.RST_STREAM, flags, streamId, errorCode: uint32(buf, p) };
        return frame;
      }
      case FrameType.SETTINGS: {
        const settings: SettingsEntry[] = [];
        for (; p < end; p += SETTING_ENTRY_LENGTH) {
          settings.push([((buf[p] as number) << 8) | (buf[p + 1] as number), uint32(buf, p + 2)]);
        }
        const frame: SettingsFrame = {
          type: FrameType.SETTINGS,
          flags,
          streamId,
          ack: (flags & Flag.ACK) !== 0,
          settings,
        };
        return frame;
      }
      case FrameType.PUSH_PROMISE: {
        let padding = 0;
        if ((flags & Flag.PADDED) !== 0) padding = buf[p++] as number;
        const promisedStreamId = uint31(buf, p);
        p += 4;
        if (padding > end - p) throw this.#poison(badPadding(FrameType.PUSH_PROMISE, padding, end - p));
        const frame: PushPromiseFrame = {
          type: FrameType.PUSH_PROMISE,
          flags,
          streamId,
          padding,
          promisedStreamId,
          headerBlockFragment: buf.subarray(p, end - padding),
        };
        return frame;
      }
      case FrameType.PING: {
        const frame: PingFrame = {
          type: FrameType.PING,
          flags,
          streamId,
          ack: (flags & Flag.ACK) !== 0,
          opaqueData: buf.subarray(p, end),
        };
        return frame;
      }
      case FrameType.GOAWAY: {
        const frame: GoawayFrame = {
          type: FrameType.GOAWAY,
          flags,
          streamId,
          lastStreamId: uint31(buf, p),
          errorCode: uint32(buf, p + 4),
          debugData: buf.subarray(p + 8, end),
        };
        return frame;
      }
      case FrameType.WINDOW_UPDATE: {
        const frame: WindowUpdateFrame = {
          type: FrameType.WINDOW_UPDATE,
          flags,
          streamId,
          windowSizeIncrement: uint31(buf, p),
        };
        return frame;
      }
      case FrameType.CONTINUATION: {
        const frame: ContinuationFrame = {
          type: FrameType.CONTINUATION,
          flags,
          streamId,
          headerBlockFragment: buf.subarray(p, end),
        };
        return frame;
      }
      default: {
        const frame: UnknownFrame = {
          type: this.#type as ExtensionFrameType,
          flags,
          streamId,
          payload: buf.subarray(p, end),
        };
        return frame;
      }
    }
  }
}
