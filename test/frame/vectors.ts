/**
 * Frames written out by hand from the layouts of RFC 9113 §4.1 and §6, with
 * the value each decodes to. `ROUND_TRIP` vectors are byte-exact both ways;
 * `DECODE_ONLY` ones decode to a frame that re-encodes differently (reserved
 * bits, non-zero padding), with `reencoded` giving the canonical bytes.
 */

import { FrameType } from '../../lib/frame/index.js';
import type { ExtensionFrameType, Frame } from '../../lib/frame/index.js';
import { hex } from './helpers.js';

export interface Vector {
  readonly name: string;
  /** Header fields separated by spaces: length(3) type(1) flags(1) stream(4) | payload. */
  readonly hex: string;
  readonly frame: Frame;
}

export interface DecodeOnlyVector extends Vector {
  readonly reencoded: string;
}

const b = (text: string): Uint8Array => hex(text);
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

export const ROUND_TRIP: readonly Vector[] = [
  // --- DATA (§6.1)
  {
    name: 'DATA, no flags',
    hex: '000005 00 00 00000001  68656c6c6f',
    frame: { type: FrameType.DATA, flags: 0, streamId: 1, padding: 0, data: ascii('hello') },
  },
  {
    name: 'DATA, END_STREAM, empty',
    hex: '000000 00 01 00000003',
    frame: { type: FrameType.DATA, flags: 0x1, streamId: 3, padding: 0, data: b('') },
  },
  {
    name: 'DATA, PADDED + END_STREAM, 3 octets of padding',
    hex: '000006 00 09 00000001  03 6869 000000',
    frame: { type: FrameType.DATA, flags: 0x9, streamId: 1, padding: 3, data: ascii('hi') },
  },
  {
    name: 'DATA, PADDED with Pad Length 0',
    hex: '000003 00 08 00000001  00 6869',
    frame: { type: FrameType.DATA, flags: 0x8, streamId: 1, padding: 0, data: ascii('hi') },
  },
  {
    name: 'DATA, PADDED, padding fills the frame (empty data)',
    hex: '000003 00 08 00000001  02 0000',
    frame: { type: FrameType.DATA, flags: 0x8, streamId: 1, padding: 2, data: b('') },
  },
  {
    name: 'DATA, undefined flag bits kept',
    hex: '000001 00 f6 00000005  ff',
    frame: { type: FrameType.DATA, flags: 0xf6, streamId: 5, padding: 0, data: b('ff') },
  },
  {
    name: 'DATA, largest stream id',
    hex: '000001 00 00 7fffffff  2a',
    frame: { type: FrameType.DATA, flags: 0, streamId: 0x7fffffff, padding: 0, data: b('2a') },
  },
  // --- HEADERS (§6.2)
  {
    name: 'HEADERS, END_HEADERS',
    hex: '000003 01 04 00000001  828684',
    frame: {
      type: FrameType.HEADERS, flags: 0x4, streamId: 1, padding: 0,
      exclusive: false, streamDependency: 0, weight: 16, headerBlockFragment: b('828684'),
    },
  },
  {
    name: 'HEADERS, END_STREAM only (CONTINUATION follows)',
    hex: '000002 01 01 00000003  8286',
    frame: {
      type: FrameType.HEADERS, flags: 0x1, streamId: 3, padding: 0,
      exclusive: false, streamDependency: 0, weight: 16, headerBlockFragment: b('8286'),
    },
  },
  {
    name: 'HEADERS, PRIORITY + END_HEADERS + END_STREAM, exclusive, weight 256',
    hex: '000008 01 25 00000005  80000003 ff 828684',
    frame: {
      type: FrameType.HEADERS, flags: 0x25, streamId: 5, padding: 0,
      exclusive: true, streamDependency: 3, weight: 256, headerBlockFragment: b('828684'),
    },
  },
  {
    name: 'HEADERS, PADDED + PRIORITY + END_HEADERS, weight 16',
    hex: '000009 01 2c 00000007  02 00000000 0f 82 0000',
    frame: {
      type: FrameType.HEADERS, flags: 0x2c, streamId: 7, padding: 2,
      exclusive: false, streamDependency: 0, weight: 16, headerBlockFragment: b('82'),
    },
  },
  {
    name: 'HEADERS, PADDED, no PRIORITY',
    hex: '000004 01 0c 00000009  01 8286 00',
    frame: {
      type: FrameType.HEADERS, flags: 0x0c, streamId: 9, padding: 1,
      exclusive: false, streamDependency: 0, weight: 16, headerBlockFragment: b('8286'),
    },
  },
  // --- PRIORITY (§6.3)
  {
    name: 'PRIORITY, exclusive on 7, weight 1',
    hex: '000005 02 00 00000009  80000007 00',
    frame: { type: FrameType.PRIORITY, flags: 0, streamId: 9, exclusive: true, streamDependency: 7, weight: 1 },
  },
  {
    name: 'PRIORITY, non-exclusive, largest dependency, weight 200',
    hex: '000005 02 00 0000000b  7fffffff c7',
    frame: { type: FrameType.PRIORITY, flags: 0, streamId: 11, exclusive: false, streamDependency: 0x7fffffff, weight: 200 },
  },
  // --- RST_STREAM (§6.4)
  {
    name: 'RST_STREAM, CANCEL',
    hex: '000004 03 00 00000001  00000008',
    frame: { type: FrameType.RST_STREAM, flags: 0, streamId: 1, errorCode: 0x8 },
  },
  {
    name: 'RST_STREAM, unknown 32-bit error code',
    hex: '000004 03 00 00000003  deadbeef',
    frame: { type: FrameType.RST_STREAM, flags: 0, streamId: 3, errorCode: 0xdeadbeef },
  },
  // --- SETTINGS (§6.5)
  {
    name: 'SETTINGS, several entries and an unknown id, in wire order',
    hex: '000018 04 00 00000000  0001 00001000  0002 00000000  0004 0000ffff  00ff ffffffff',
    frame: {
      type: FrameType.SETTINGS, flags: 0, streamId: 0, ack: false,
      settings: [[0x1, 4096], [0x2, 0], [0x4, 65535], [0xff, 0xffffffff]],
    },
  },
  {
    name: 'SETTINGS, duplicate ids and ENABLE_CONNECT_PROTOCOL kept',
    hex: '00000c 04 00 00000000  0008 00000001  0008 00000000',
    frame: { type: FrameType.SETTINGS, flags: 0, streamId: 0, ack: false, settings: [[0x8, 1], [0x8, 0]] },
  },
  {
    name: 'SETTINGS, empty',
    hex: '000000 04 00 00000000',
    frame: { type: FrameType.SETTINGS, flags: 0, streamId: 0, ack: false, settings: [] },
  },
  {
    name: 'SETTINGS, ACK',
    hex: '000000 04 01 00000000',
    frame: { type: FrameType.SETTINGS, flags: 0x1, streamId: 0, ack: true, settings: [] },
  },
  // --- PUSH_PROMISE (§6.6)
  {
    name: 'PUSH_PROMISE, END_HEADERS',
    hex: '000006 05 04 00000001  00000002 8287',
    frame: {
      type: FrameType.PUSH_PROMISE, flags: 0x4, streamId: 1, padding: 0,
      promisedStreamId: 2, headerBlockFragment: b('8287'),
    },
  },
  {
    name: 'PUSH_PROMISE, PADDED + END_HEADERS',
    hex: '000008 05 0c 00000003  01 00000004 8287 00',
    frame: {
      type: FrameType.PUSH_PROMISE, flags: 0x0c, streamId: 3, padding: 1,
      promisedStreamId: 4, headerBlockFragment: b('8287'),
    },
  },
  // --- PING (§6.7)
  {
    name: 'PING',
    hex: '000008 06 00 00000000  0102030405060708',
    frame: { type: FrameType.PING, flags: 0, streamId: 0, ack: false, opaqueData: b('0102030405060708') },
  },
  {
    name: 'PING, ACK',
    hex: '000008 06 01 00000000  0102030405060708',
    frame: { type: FrameType.PING, flags: 0x1, streamId: 0, ack: true, opaqueData: b('0102030405060708') },
  },
  {
    name: 'PING, undefined flags (PADDED and PRIORITY bits mean nothing here)',
    hex: '000008 06 fe 00000000  ffffffffffffffff',
    frame: { type: FrameType.PING, flags: 0xfe, streamId: 0, ack: false, opaqueData: b('ffffffffffffffff') },
  },
  // --- GOAWAY (§6.8)
  {
    name: 'GOAWAY, NO_ERROR, no debug data',
    hex: '000008 07 00 00000000  00000005 00000000',
    frame: { type: FrameType.GOAWAY, flags: 0, streamId: 0, lastStreamId: 5, errorCode: 0, debugData: b('') },
  },
  {
    name: 'GOAWAY, PROTOCOL_ERROR with debug data',
    hex: '00000b 07 00 00000000  00000007 00000001 627965',
    frame: { type: FrameType.GOAWAY, flags: 0, streamId: 0, lastStreamId: 7, errorCode: 1, debugData: ascii('bye') },
  },
  // --- WINDOW_UPDATE (§6.9)
  {
    name: 'WINDOW_UPDATE, connection',
    hex: '000004 08 00 00000000  0000ffff',
    frame: { type: FrameType.WINDOW_UPDATE, flags: 0, streamId: 0, windowSizeIncrement: 65535 },
  },
  {
    name: 'WINDOW_UPDATE, stream, largest increment',
    hex: '000004 08 00 00000001  7fffffff',
    frame: { type: FrameType.WINDOW_UPDATE, flags: 0, streamId: 1, windowSizeIncrement: 0x7fffffff },
  },
  {
    name: 'WINDOW_UPDATE, increment 0 (the engine, not the codec, rejects it)',
    hex: '000004 08 00 00000003  00000000',
    frame: { type: FrameType.WINDOW_UPDATE, flags: 0, streamId: 3, windowSizeIncrement: 0 },
  },
  // --- CONTINUATION (§6.10)
  {
    name: 'CONTINUATION, END_HEADERS',
    hex: '000002 09 04 00000001  8485',
    frame: { type: FrameType.CONTINUATION, flags: 0x4, streamId: 1, headerBlockFragment: b('8485') },
  },
  {
    name: 'CONTINUATION, no flags',
    hex: '000003 09 00 00000001  414243',
    frame: { type: FrameType.CONTINUATION, flags: 0, streamId: 1, headerBlockFragment: b('414243') },
  },
  // --- Unknown types (§4.1, §5.5)
  {
    name: 'unknown type 0xfa, every flag, stream 0',
    hex: '000002 fa ff 00000000  abcd',
    frame: { type: 0xfa as ExtensionFrameType, flags: 0xff, streamId: 0, payload: b('abcd') },
  },
  {
    name: 'unknown type 0x0a (ALTSVC), stream 5, empty',
    hex: '000000 0a 00 00000005',
    frame: { type: 0x0a as ExtensionFrameType, flags: 0, streamId: 5, payload: b('') },
  },
];

export const DECODE_ONLY: readonly DecodeOnlyVector[] = [
  {
    name: 'DATA, reserved bit set on the stream id (masked off, §4.1)',
    hex: '000001 00 00 80000001  aa',
    frame: { type: FrameType.DATA, flags: 0, streamId: 1, padding: 0, data: b('aa') },
    reencoded: '000001 00 00 00000001  aa',
  },
  {
    name: 'WINDOW_UPDATE, reserved bits set on stream id and increment',
    hex: '000004 08 00 ffffffff  80000001',
    frame: { type: FrameType.WINDOW_UPDATE, flags: 0, streamId: 0x7fffffff, windowSizeIncrement: 1 },
    reencoded: '000004 08 00 7fffffff  00000001',
  },
  {
    name: 'PUSH_PROMISE, reserved bit set on the promised stream id',
    hex: '000005 05 04 00000001  80000002 82',
    frame: {
      type: FrameType.PUSH_PROMISE, flags: 0x4, streamId: 1, padding: 0,
      promisedStreamId: 2, headerBlockFragment: b('82'),
    },
    reencoded: '000005 05 04 00000001  00000002 82',
  },
  {
    name: 'GOAWAY, reserved bit set on the last stream id',
    hex: '000008 07 00 00000000  80000009 00000002',
    frame: { type: FrameType.GOAWAY, flags: 0, streamId: 0, lastStreamId: 9, errorCode: 2, debugData: b('') },
    reencoded: '000008 07 00 00000000  00000009 00000002',
  },
  {
    name: 'DATA, non-zero padding octets accepted (§6.1: a receiver is not obliged to check), re-encoded as zeroes',
    hex: '000004 00 08 00000001  02 61 ffff',
    frame: { type: FrameType.DATA, flags: 0x8, streamId: 1, padding: 2, data: ascii('a') },
    reencoded: '000004 00 08 00000001  02 61 0000',
  },
  {
    name: 'unknown type with the reserved bit on its stream id',
    hex: '000001 ff 00 80000000  00',
    frame: { type: 0xff as ExtensionFrameType, flags: 0, streamId: 0, payload: b('00') },
    reencoded: '000001 ff 00 00000000  00',
  },
];

/** The field order every decoded frame of a type has (one hidden class per type). */
export const FIELD_ORDER: Readonly<Record<number, readonly string[]>> = {
  [FrameType.DATA]: ['type', 'flags', 'streamId', 'padding', 'data'],
  [FrameType.HEADERS]: ['type', 'flags', 'streamId', 'padding', 'exclusive', 'streamDependency', 'weight', 'headerBlockFragment'],
  [FrameType.PRIORITY]: ['type', 'flags', 'streamId', 'exclusive', 'streamDependency', 'weight'],
  [FrameType.RST_STREAM]: ['type', 'flags', 'streamId', 'errorCode'],
  [FrameType.SETTINGS]: ['type', 'flags', 'streamId', 'ack', 'settings'],
  [FrameType.PUSH_PROMISE]: ['type', 'flags', 'streamId', 'padding', 'promisedStreamId', 'headerBlockFragment'],
  [FrameType.PING]: ['type', 'flags', 'streamId', 'ack', 'opaqueData'],
  [FrameType.GOAWAY]: ['type', 'flags', 'streamId', 'lastStreamId', 'errorCode', 'debugData'],
  [FrameType.WINDOW_UPDATE]: ['type', 'flags', 'streamId', 'windowSizeIncrement'],
  [FrameType.CONTINUATION]: ['type', 'flags', 'streamId', 'headerBlockFragment'],
};
export const UNKNOWN_FIELD_ORDER: readonly string[] = ['type', 'flags', 'streamId', 'payload'];
