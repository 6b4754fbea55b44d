/** Encoder entry points and caller mistakes (thrown before anything is written). */

import { describe, expect, it } from 'vitest';
import {
  Flag,
  FrameType,
  encodeDataFrameHeader,
  encodeFrame,
  encodeFrameInto,
  encodedFrameLength,
  writeFrameHeader,
  zeroPadding,
} from '../../lib/frame/index.js';
import type { Frame } from '../../lib/frame/index.js';
import { concat, hex, toHex } from './helpers.js';

const data = (overrides: Record<string, unknown>): Frame =>
  ({ type: FrameType.DATA, flags: 0, streamId: 1, padding: 0, data: hex('61'), ...overrides }) as unknown as Frame;
const headers = (overrides: Record<string, unknown>): Frame =>
  ({
    type: FrameType.HEADERS, flags: Flag.PRIORITY, streamId: 1, padding: 0,
    exclusive: false, streamDependency: 0, weight: 16, headerBlockFragment: hex('82'), ...overrides,
  }) as unknown as Frame;
const priority = (overrides: Record<string, unknown>): Frame =>
  ({ type: FrameType.PRIORITY, flags: 0, streamId: 1, exclusive: false, streamDependency: 0, weight: 16, ...overrides }) as unknown as Frame;
const settings = (overrides: Record<string, unknown>): Frame =>
  ({ type: FrameType.SETTINGS, flags: 0, streamId: 0, ack: false, settings: [], ...overrides }) as unknown as Frame;
const ping = (overrides: Record<string, unknown>): Frame =>
  ({ type: FrameType.PING, flags: 0, streamId: 0, ack: false, opaqueData: new Uint8Array(8), ...overrides }) as unknown as Frame;
const goaway = (overrides: Record<string, unknown>): Frame =>
  ({ type: FrameType.GOAWAY, flags: 0, streamId: 0, lastStreamId: 0, errorCode: 0, debugData: hex(''), ...overrides }) as unknown as Frame;
const other = (overrides: Record<string, unknown>): Frame =>
  ({ type: 0xfa, flags: 0, streamId: 0, payload: hex(''), ...overrides }) as unknown as Frame;

/** [name, frame, error class] */
const MISTAKES: ReadonlyArray<readonly [string, Frame, typeof TypeError | typeof RangeError]> = [
  ['stream id 2^31', data({ streamId: 2 ** 31 }), RangeError],
  ['stream id -1', data({ streamId: -1 }), RangeError],
  ['stream id 1.5', data({ streamId: 1.5 }), TypeError],
  ['stream id as a string', data({ streamId: '1' }), TypeError],
  ['DATA on stream 0', data({ streamId: 0 }), RangeError],
  ['HEADERS on stream 0', headers({ streamId: 0 }), RangeError],
  ['PRIORITY on stream 0', priority({ streamId: 0 }), RangeError],
  ['RST_STREAM on stream 0', { type: FrameType.RST_STREAM, flags: 0, streamId: 0, errorCode: 0 }, RangeError],
  ['PUSH_PROMISE on stream 0', { type: FrameType.PUSH_PROMISE, flags: 4, streamId: 0, padding: 0, promisedStreamId: 2, headerBlockFragment: hex('') }, RangeError],
  ['CONTINUATION on stream 0', { type: FrameType.CONTINUATION, flags: 4, streamId: 0, headerBlockFragment: hex('') }, RangeError],
  ['SETTINGS on stream 1', settings({ streamId: 1 }), RangeError],
  ['PING on stream 1', ping({ streamId: 1 }), RangeError],
  ['GOAWAY on stream 3', goaway({ streamId: 3 }), RangeError],
  ['flags 256', data({ flags: 256 }), RangeError],
  ['padding 256', data({ padding: 256 }), RangeError],
  ['padding -1', data({ padding: -1 }), RangeError],
  ['HEADERS padding 300', headers({ padding: 300 }), RangeError],
  ['PUSH_PROMISE padding 256', { type: FrameType.PUSH_PROMISE, flags: 4, streamId: 1, padding: 256, promisedStreamId: 2, headerBlockFragment: hex('') }, RangeError],
  ['PUSH_PROMISE promised id 2^31', { type: FrameType.PUSH_PROMISE, flags: 4, streamId: 1, padding: 0, promisedStreamId: 2 ** 31, headerBlockFragment: hex('') }, RangeError],
  ['PING of 7 octets', ping({ opaqueData: new Uint8Array(7) }), RangeError],
  ['PING of 9 octets', ping({ opaqueData: new Uint8Array(9) }), RangeError],
  ['PING without opaqueData', ping({ opaqueData: undefined }), TypeError],
  ['HEADERS + PRIORITY, weight 0', headers({ weight: 0 }), RangeError],
  ['HEADERS + PRIORITY, weight 257', headers({ weight: 257 }), RangeError],
  ['HEADERS + PRIORITY, dependency 2^31', headers({ streamDependency: 2 ** 31 }), RangeError],
  ['HEADERS + PRIORITY, exclusive not a boolean', headers({ exclusive: 1 }), TypeError],
  ['PRIORITY, weight 0', priority({ weight: 0 }), RangeError],
  ['PRIORITY, weight 257', priority({ weight: 257 }), RangeError],
  ['RST_STREAM, error code 2^32', { type: FrameType.RST_STREAM, flags: 0, streamId: 1, errorCode: 2 ** 32 }, RangeError],
  ['SETTINGS ACK with parameters', settings({ ack: true, settings: [[1, 0]] }), RangeError],
  ['SETTINGS with the ACK flag and parameters', settings({ flags: Flag.ACK, settings: [[1, 0]] }), RangeError],
  ['SETTINGS id 0x10000', settings({ settings: [[0x10000, 0]] }), RangeError],
  ['SETTINGS value 2^32', settings({ settings: [[1, 2 ** 32]] }), RangeError],
  ['SETTINGS value -1', settings({ settings: [[1, -1]] }), RangeError],
  ['SETTINGS entry not a pair', settings({ settings: [[1, 2, 3]] }), TypeError],
  ['SETTINGS not an array', settings({ settings: 'x' }), TypeError],
  ['GOAWAY last stream id 2^31', goaway({ lastStreamId: 2 ** 31 }), RangeError],
  ['GOAWAY error code 2^32', goaway({ errorCode: 2 ** 32 }), RangeError],
  ['WINDOW_UPDATE increment 2^31', { type: FrameType.WINDOW_UPDATE, flags: 0, streamId: 0, windowSizeIncrement: 2 ** 31 }, RangeError],
  ['WINDOW_UPDATE increment -1', { type: FrameType.WINDOW_UPDATE, flags: 0, streamId: 0, windowSizeIncrement: -1 }, RangeError],
  ['data not bytes', data({ data: 'a' }), TypeError],
  ['payload over 2^24-1', data({ data: new Uint8Array(2 ** 24 - 1), padding: 1 }), RangeError],
  ['unknown frame type 256', other({ type: 256 }), RangeError],
  ['frame type -1', other({ type: -1 }), RangeError],
  ['unknown frame without payload', other({ payload: null }), TypeError],
  ['not an object', null as unknown as Frame, TypeError],
];

describe.each(MISTAKES)('caller mistake: %s', (_name, frame, errorClass) => {
  it('throws from encodeFrameInto, encodeFrame and encodedFrameLength, writing nothing', () => {
    const buf = new Uint8Array(64).fill(0xaa);
    expect(() => encodeFrameInto(frame, buf, 0)).toThrow(errorClass);
    expect(buf.every((b) => b === 0xaa)).toBe(true);
    expect(() => encodeFrame(frame)).toThrow(errorClass);
    expect(() => encodedFrameLength(frame)).toThrow(errorClass);
  });
});

describe('what the encoder deliberately allows (the engine checks it on receipt)', () => {
  it.each<readonly [string, Frame]>([
    ['WINDOW_UPDATE increment 0', { type: FrameType.WINDOW_UPDATE, flags: 0, streamId: 1, windowSizeIncrement: 0 }],
    ['SETTINGS ENABLE_PUSH = 7', settings({ settings: [[2, 7]] })],
    ['PRIORITY on itself', priority({ streamId: 5, streamDependency: 5 })],
    ['PUSH_PROMISE of stream 0', { type: FrameType.PUSH_PROMISE, flags: 4, streamId: 1, padding: 0, promisedStreamId: 0, headerBlockFragment: hex('') }],
    ['HEADERS without PRIORITY, nonsense priority fields', headers({ flags: 0, weight: -3, exclusive: 'x' })],
    ['largest payload', data({ data: new Uint8Array(2 ** 24 - 1) })],
  ])('%s', (_name, frame) => {
    expect(encodeFrame(frame).length).toBe(encodedFrameLength(frame));
  });
});

describe('encodeFrameInto bounds', () => {
  const frame = data({ data: hex('6162') });

  it('throws RangeError when the frame does not fit, writing nothing', () => {
    const small = new Uint8Array(10).fill(0xaa);
    expect(() => encodeFrameInto(frame, small, 0)).toThrow(RangeError);
    const exact = new Uint8Array(11).fill(0xaa);
    expect(() => encodeFrameInto(frame, exact, 1)).toThrow(RangeError);
    expect(() => encodeFrameInto(frame, exact, 12)).toThrow(RangeError);
    expect(() => encodeFrameInto(frame, exact, -1)).toThrow(RangeError);
    expect(small.every((b) => b === 0xaa) && exact.every((b) => b === 0xaa)).toBe(true);
    expect(encodeFrameInto(frame, exact, 0)).toBe(11);
    expect(toHex(exact)).toBe(toHex(hex('000002 00 00 00000001 6162')));
  });
});

describe('writeFrameHeader', () => {
  it('writes any header, malformed ones included, and returns the next offset', () => {
    const buf = new Uint8Array(12).fill(0xaa);
    expect(writeFrameHeader(buf, 2, 0xabcdef, 0x06, 0xff, 0x7fffffff)).toBe(11);
    expect(toHex(buf)).toBe(toHex(hex('aaaa abcdef 06 ff 7fffffff aa')));
  });

  it.each<readonly [string, () => number, typeof RangeError | typeof TypeError]>([
    ['length 2^24', () => writeFrameHeader(new Uint8Array(9), 0, 2 ** 24, 0, 0, 1), RangeError],
    ['type 256', () => writeFrameHeader(new Uint8Array(9), 0, 0, 256, 0, 1), RangeError],
    ['flags -1', () => writeFrameHeader(new Uint8Array(9), 0, 0, 0, -1, 1), RangeError],
    ['stream id 2^31', () => writeFrameHeader(new Uint8Array(9), 0, 0, 0, 0, 2 ** 31), RangeError],
    ['stream id NaN', () => writeFrameHeader(new Uint8Array(9), 0, 0, 0, 0, Number.NaN), TypeError],
    ['buffer too small', () => writeFrameHeader(new Uint8Array(9), 1, 0, 0, 0, 1), RangeError],
  ])('rejects %s', (_name, call, errorClass) => {
    expect(call).toThrow(errorClass);
  });
});

describe('encodeDataFrameHeader + zeroPadding (writev path)', () => {
  it('plus the data equals encodeFrame, unpadded', () => {
    const payload = hex('68656c6c6f');
    const header = encodeDataFrameHeader(3, payload.length, Flag.END_STREAM);
    expect(toHex(header)).toBe(toHex(hex('000005 00 01 00000003')));
    const frame: Frame = { type: FrameType.DATA, flags: Flag.END_STREAM, streamId: 3, padding: 0, data: payload };
    expect(toHex(concat([header, payload]))).toBe(toHex(encodeFrame(frame)));
  });

  it('plus the data and zeroPadding equals encodeFrame, padded', () => {
    const payload = hex('6869');
    const header = encodeDataFrameHeader(1, payload.length, Flag.END_STREAM, 3);
    expect(toHex(header)).toBe(toHex(hex('000006 00 09 00000001 03')));
    const frame: Frame = { type: FrameType.DATA, flags: Flag.END_STREAM, streamId: 1, padding: 3, data: payload };
    expect(toHex(concat([header, payload, zeroPadding(3)]))).toBe(toHex(encodeFrame(frame)));
  });

  it('writes the Pad Length octet for PADDED with padding 0', () => {
    expect(toHex(encodeDataFrameHeader(1, 2, Flag.PADDED, 0))).toBe(toHex(hex('000003 00 08 00000001 00')));
  });

  it('zeroPadding gives zeroes of the asked length', () => {
    expect(zeroPadding(0).length).toBe(0);
    const pad = zeroPadding(255);
    expect(pad.length).toBe(255);
    expect(pad.every((b) => b === 0)).toBe(true);
    expect(() => zeroPadding(256)).toThrow(RangeError);
  });

  it.each<readonly [string, () => Buffer, typeof RangeError | typeof TypeError]>([
    ['stream 0', () => encodeDataFrameHeader(0, 1), RangeError],
    ['stream 2^31', () => encodeDataFrameHeader(2 ** 31, 1), RangeError],
    ['padding 256', () => encodeDataFrameHeader(1, 1, 0, 256), RangeError],
    ['data length 2^24', () => encodeDataFrameHeader(1, 2 ** 24), RangeError],
    ['data + padding over 2^24-1', () => encodeDataFrameHeader(1, 2 ** 24 - 1, 0, 1), RangeError],
    ['flags 0x100', () => encodeDataFrameHeader(1, 1, 0x100), RangeError],
    ['fractional length', () => encodeDataFrameHeader(1, 1.5), TypeError],
  ])('rejects %s', (_name, call, errorClass) => {
    expect(call).toThrow(errorClass);
  });
});
