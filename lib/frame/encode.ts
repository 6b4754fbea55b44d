/**
 * Frame encoders (RFC 9113 §4.1, §6). They write straight into Buffers at an
 * offset; `encodeFrame` is the allocating convenience on top.
 *
 * What the encoder accepts mirrors what `FrameReader` accepts: everything
 * that is syntactically a frame of its type. A caller mistake that would make
 * the peer reject the frame's syntax (a stream identifier on the wrong kind of
 * frame, a PING that is not 8 octets, an ACK SETTINGS with parameters) or that
 * cannot be represented (a 32-bit stream id, padding over 255, a payload over
 * 2^24-1) throws a TypeError (wrong JS type) or RangeError (value out of
 * range) before a single byte is written. Semantic rules that the engine
 * enforces on receipt are not checked here (a WINDOW_UPDATE increment of 0, a
 * SETTINGS value out of range, a stream depending on itself), so that tests of
 * the engine can build such frames with this encoder. The peer's
 * SETTINGS_MAX_FRAME_SIZE is the engine's business too: only the absolute
 * 2^24-1 limit of the Length field is checked.
 */

import {
  FRAME_HEADER_LENGTH,
  Flag,
  FrameType,
  MAX_FRAME_SIZE_LIMIT,
  MAX_PADDING,
  MAX_STREAM_ID,
  SETTING_ENTRY_LENGTH,
  frameTypeName,
} from './constants.js';
import type { Frame, SettingsEntry } from './types.js';

const MAX_UINT32 = 0xffff_ffff;
const MAX_UINT16 = 0xffff;
const PRIORITY_FIELDS_LENGTH = 5;
const PING_LENGTH = 8;

/** Shared zeroes for padding; only ever handed out as read-only views. */
const ZEROES = Buffer.alloc(MAX_PADDING);

// ---------------------------------------------------------------------------
// Argument checks: each throws before anything is written.

function checkInt(value: unknown, min: number, max: number, what: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${what} must be an integer, got ${typeof value === 'number' ? value : typeof value}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${what} must be in ${min}..${max}, got ${value}`);
  }
}

function checkBytes(value: unknown, what: string): void {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${what} must be a Uint8Array`);
  }
}

function checkBoolean(value: unknown, what: string): void {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${what} must be a boolean`);
  }
}

/** §6: DATA, HEADERS, PRIORITY, RST_STREAM, PUSH_PROMISE and CONTINUATION belong to a stream. */
function checkOnStream(type: number, streamId: number): void {
  if (streamId === 0) {
    throw new RangeError(`a ${frameTypeName(type)} frame needs a non-zero stream id`);
  }
}

/** §6.5, §6.7, §6.8: SETTINGS, PING and GOAWAY apply to the connection. */
function checkOnConnection(type: number, streamId: number): void {
  if (streamId !== 0) {
    throw new RangeError(`a ${frameTypeName(type)} frame must have stream id 0, got ${streamId}`);
  }
}

/** Octets taken by the Pad Length field and the padding (§6.1): 0 when unpadded. */
function paddedLength(flags: number, padding: number): number {
  checkInt(padding, 0, MAX_PADDING, 'padding');
  return padding > 0 || (flags & Flag.PADDED) !== 0 ? 1 + padding : 0;
}

function checkPriority(exclusive: unknown, streamDependency: unknown, weight: unknown): void {
  checkBoolean(exclusive, 'exclusive');
  checkInt(streamDependency, 0, MAX_STREAM_ID, 'streamDependency');
  checkInt(weight, 1, 256, 'weight');
}

function checkSettings(settings: readonly SettingsEntry[]): void {
  if (!Array.isArray(settings)) {
    throw new TypeError('settings must be an array of [id, value] pairs');
  }
  for (let i = 0; i < settings.length; i++) {
    const entry: unknown = settings[i];
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw new TypeError(`settings[${i}] must be an [id, value] pair`);
    }
    checkInt(entry[0], 0, MAX_UINT16, `settings[${i}] id`);
    checkInt(entry[1], 0, MAX_UINT32, `settings[${i}] value`);
  }
}

/**
 * Checks every field of `frame` and returns its payload length (without the
 * 9-octet header). Throws TypeError/RangeError on a caller mistake.
 */
function checkedPayloadLength(frame: Frame): number {
  if (frame === null || typeof frame !== 'object') {
    throw new TypeError('frame must be an object');
  }
  checkInt(frame.type, 0, 0xff, 'frame type');
  checkInt(frame.flags, 0, 0xff, 'flags');
  checkInt(frame.streamId, 0, MAX_STREAM_ID, 'streamId');
  let length: number;
  switch (frame.type) {
    case FrameType.DATA:
      checkOnStream(frame.type, frame.streamId);
      checkBytes(frame.data, 'data');
      length = frame.data.length + paddedLength(frame.flags, frame.padding);
      break;
    case FrameType.HEADERS:
      checkOnStream(frame.type, frame.streamId);
      checkBytes(frame.headerBlockFragment, 'headerBlockFragment');
      length = frame.headerBlockFragment.length + paddedLength(frame.flags, frame.padding);
      // Without PRIORITY the priority fields are not on the wire and are ignored.
      if ((frame.flags & Flag.PRIORITY) !== 0) {
        checkPriority(frame.exclusive, frame.streamDependency, frame.weight);
        length += PRIORITY_FIELDS_LENGTH;
      }
      break;
    case FrameType.PRIORITY:
      checkOnStream(frame.type, frame.streamId);
      checkPriority(frame.exclusive, frame.streamDependency, frame.weight);
      length = PRIORITY_FIELDS_LENGTH;
      break;
    case FrameType.RST_STREAM:
      checkOnStream(frame.type, frame.streamId);
      checkInt(frame.errorCode, 0, MAX_UINT32, 'errorCode');
      length = 4;
      break;
    case FrameType.SETTINGS:
      checkOnConnection(frame.type, frame.streamId);
      checkBoolean(frame.ack, 'ack');
      checkSettings(frame.settings);
      // §6.5: an ACK "MUST" have an empty payload.
      if ((frame.ack || (frame.flags & Flag.ACK) !== 0) && frame.settings.length !== 0) {
        throw new RangeError('a SETTINGS frame with ACK must carry no parameters');
      }
      length = frame.settings.length * SETTING_ENTRY_LENGTH;
      break;
    case FrameType.PUSH_PROMISE:
      checkOnStream(frame.type, frame.streamId);
      checkInt(frame.promisedStreamId, 0, MAX_STREAM_ID, 'promisedStreamId');
      checkBytes(frame.headerBlockFragment, 'headerBlockFragment');
      length = 4 + frame.headerBlockFragment.length + paddedLength(frame.flags, frame.padding);
      break;
    case FrameType.PING:
      checkOnConnection(frame.type, frame.streamId);
      checkBoolean(frame.ack, 'ack');
      checkBytes(frame.opaqueData, 'opaqueData');
      if (frame.opaqueData.length !== PING_LENGTH) {
        throw new RangeError(`PING opaqueData must be 8 octets, got ${frame.opaqueData.length}`);
      }
      length = PING_LENGTH;
      break;
    case FrameType.GOAWAY:
      checkOnConnection(frame.type, frame.streamId);
      checkInt(frame.lastStreamId, 0, MAX_STREAM_ID, 'lastStreamId');
      checkInt(frame.errorCode, 0, MAX_UINT32, 'errorCode');
      checkBytes(frame.debugData, 'debugData');
      length = 8 + frame.debugData.length;
      break;
    case FrameType.WINDOW_UPDATE:
      checkInt(frame.windowSizeIncrement, 0, MAX_STREAM_ID, 'windowSizeIncrement');
      length = 4;
      break;
    case FrameType.CONTINUATION:
      checkOnStream(frame.type, frame.streamId);
      checkBytes(frame.headerBlockFragment, 'headerBlockFragment');
      length = frame.headerBlockFragment.length;
      break;
    default:
      checkBytes(frame.payload, 'payload');
      length = frame.payload.length;
      break;
  }
  if (length > MAX_FRAME_SIZE_LIMIT) {
    throw new RangeError(`${frameTypeName(frame.type)} payload of ${length} octets exceeds the 2^24-1 limit (§4.1)`);
  }
  return length;
}

function checkTarget(buf: Uint8Array, offset: number, needed: number): void {
  checkBytes(buf, 'buf');
  checkInt(offset, 0, buf.length, 'offset');
  if (buf.length - offset < needed) {
    throw new RangeError(`buffer too small: ${needed} octets needed at offset ${offset}, ${buf.length - offset} available`);
  }
}

// ---------------------------------------------------------------------------
// Unchecked writers: every argument has been checked by the caller.

function putUint32(buf: Uint8Array, p: number, value: number): void {
  buf[p] = value >>> 24;
  buf[p + 1] = value >>> 16;
  buf[p + 2] = value >>> 8;
  buf[p + 3] = value;
}

function putHeader(buf: Uint8Array, p: number, length: number, type: number, flags: number, streamId: number): void {
  buf[p] = length >>> 16;
  buf[p + 1] = length >>> 8;
  buf[p + 2] = length;
  buf[p + 3] = type;
  buf[p + 4] = flags;
  putUint32(buf, p + 5, streamId);
}

/** Writes Exclusive + Stream Dependency + Weight (§6.3); returns the next offset. */
function putPriority(buf: Uint8Array, p: number, exclusive: boolean, streamDependency: number, weight: number): number {
  putUint32(buf, p, streamDependency);
  if (exclusive) buf[p] = (buf[p] as number) | 0x80;
  buf[p + 4] = weight - 1;
  return p + PRIORITY_FIELDS_LENGTH;
}

function putBytes(buf: Uint8Array, p: number, bytes: Uint8Array): number {
  buf.set(bytes, p);
  return p + bytes.length;
}

/** Writes the whole frame at `offset`; `length` is its checked payload length. */
function putFrame(frame: Frame, buf: Uint8Array, offset: number, length: number): void {
  let p = offset + FRAME_HEADER_LENGTH;
  let flags = frame.flags;
  // Padded frame types: where the padding goes, and whether there is any.
  let padding = 0;
  switch (frame.type) {
    case FrameType.DATA:
    case FrameType.HEADERS:
    case FrameType.PUSH_PROMISE:
      padding = frame.padding;
      if (padding > 0) flags |= Flag.PADDED;
      if ((flags & Flag.PADDED) !== 0) buf[p++] = padding;
      break;
    case FrameType.SETTINGS:
    case FrameType.PING:
      if (frame.ack) flags |= Flag.ACK;
      break;
    default:
      break;
  }
  putHeader(buf, offset, length, frame.type, flags, frame.streamId);

  switch (frame.type) {
    case FrameType.DATA:
      p = putBytes(buf, p, frame.data);
      break;
    case FrameType.HEADERS:
      if ((flags & Flag.PRIORITY) !== 0) {
        p = putPriority(buf, p, frame.exclusive, frame.streamDependency, frame.weight);
      }
      p = putBytes(buf, p, frame.headerBlockFragment);
      break;
    case FrameType.PRIORITY:
      p = putPriority(buf, p, frame.exclusive, frame.streamDependency, frame.weight);
      break;
    case FrameType.RST_STREAM:
      putUint32(buf, p, frame.errorCode);
      p += 4;
      break;
    case FrameType.SETTINGS: {
      const settings = frame.settings;
      for (let i = 0; i < settings.length; i++) {
        const [id, value] = settings[i] as SettingsEntry;
        buf[p] = id >>> 8;
        buf[p + 1] = id;
        putUint32(buf, p + 2, value);
        p += SETTING_ENTRY_LENGTH;
      }
      break;
    }
    case FrameType.PUSH_PROMISE:
      putUint32(buf, p, frame.promisedStreamId);
      p = putBytes(buf, p + 4, frame.headerBlockFragment);
      break;
    case FrameType.PING:
      p = putBytes(buf, p, frame.opaqueData);
      break;
    case FrameType.GOAWAY:
      putUint32(buf, p, frame.lastStreamId);
      putUint32(buf, p + 4, frame.errorCode);
      p = putBytes(buf, p + 8, frame.debugData);
      break;
    case FrameType.WINDOW_UPDATE:
      putUint32(buf, p, frame.windowSizeIncrement);
      p += 4;
      break;
    case FrameType.CONTINUATION:
      p = putBytes(buf, p, frame.headerBlockFragment);
      break;
    default:
      p = putBytes(buf, p, frame.payload);
      break;
  }
  // §6.1: "Padding octets MUST be set to zero when sending."
  if (padding > 0) buf.fill(0, p, p + padding);
}

// ---------------------------------------------------------------------------
// Public API

/**
 * Writes a 9-octet frame header (§4.1) at `offset` and returns the offset just
 * past it (like `Buffer#writeUInt32BE`). `length` is the payload length. No
 * rule of any frame type is applied: this is the escape hatch for writing
 * frames by hand, malformed ones included.
 */
export function writeFrameHeader(
  buf: Uint8Array,
  offset: number,
  length: number,
  type: number,
  flags: number,
  streamId: number,
): number {
  checkInt(length, 0, MAX_FRAME_SIZE_LIMIT, 'length');
  checkInt(type, 0, 0xff, 'type');
  checkInt(flags, 0, 0xff, 'flags');
  checkInt(streamId, 0, MAX_STREAM_ID, 'streamId');
  checkTarget(buf, offset, FRAME_HEADER_LENGTH);
  putHeader(buf, offset, length, type, flags, streamId);
  return offset + FRAME_HEADER_LENGTH;
}

/** The number of octets `encodeFrame(frame)` produces, header included. Checks the frame. */
export function encodedFrameLength(frame: Frame): number {
  return FRAME_HEADER_LENGTH + checkedPayloadLength(frame);
}

/**
 * Encodes `frame` into `buf` at `offset` and returns the number of octets
 * written. Throws (having written nothing) if the frame is invalid or does
 * not fit.
 */
export function encodeFrameInto(frame: Frame, buf: Uint8Array, offset: number): number {
  const length = checkedPayloadLength(frame);
  const total = FRAME_HEADER_LENGTH + length;
  checkTarget(buf, offset, total);
  putFrame(frame, buf, offset, length);
  return total;
}

/** Encodes `frame` into a new Buffer of exactly its size. */
export function encodeFrame(frame: Frame): Buffer {
  const length = checkedPayloadLength(frame);
  const buf = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + length);
  putFrame(frame, buf, 0, length);
  return buf;
}

/**
 * The engine's hot path for sending DATA without copying the data: returns the
 * frame header, plus the Pad Length octet when padded (that is, when
 * `padding > 0` or `flags` has PADDED; PADDED is then set). Send it followed
 * by the `dataLength` octets of data and then `zeroPadding(padding)`, e.g. with
 * `socket.writev` / cork + write.
 */
export function encodeDataFrameHeader(streamId: number, dataLength: number, flags = 0, padding = 0): Buffer {
  checkInt(streamId, 1, MAX_STREAM_ID, 'DATA streamId');
  checkInt(dataLength, 0, MAX_FRAME_SIZE_LIMIT, 'dataLength');
  checkInt(flags, 0, 0xff, 'flags');
  const padded = paddedLength(flags, padding);
  const length = dataLength + padded;
  if (length > MAX_FRAME_SIZE_LIMIT) {
    throw new RangeError(`DATA payload of ${length} octets exceeds the 2^24-1 limit (§4.1)`);
  }
  if (padded === 0) {
    const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
    putHeader(header, 0, length, FrameType.DATA, flags, streamId);
    return header;
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 1);
  putHeader(header, 0, length, FrameType.DATA, flags | Flag.PADDED, streamId);
  header[FRAME_HEADER_LENGTH] = padding;
  return header;
}

/**
 * `padding` zero octets (0..255) to follow padded data (§6.1). A view of a
 * shared zero-filled buffer: do not write to it.
 */
export function zeroPadding(padding: number): Buffer {
  checkInt(padding, 0, MAX_PADDING, 'padding');
  return ZEROES.subarray(0, padding);
}
