/** Byte-exact encode and decode of every frame type and flag, against hand-written hex. */

import { describe, expect, it } from 'vitest';
import {
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  FRAME_HEADER_LENGTH,
  Flag,
  FrameReader,
  FrameType,
  MAX_FRAME_SIZE_LIMIT,
  MAX_WINDOW_SIZE,
  SettingId,
  encodeFrame,
  encodeFrameInto,
  encodedFrameLength,
  frameTypeName,
} from '../../lib/frame/index.js';
import type { Frame } from '../../lib/frame/index.js';
import { hex, normalize, toHex } from './helpers.js';
import { DECODE_ONLY, FIELD_ORDER, ROUND_TRIP, UNKNOWN_FIELD_ORDER } from './vectors.js';

function decodeOne(bytes: Uint8Array): Frame {
  const reader = new FrameReader();
  reader.push(bytes);
  const frame = reader.read();
  expect(frame).not.toBeNull();
  expect(reader.read()).toBeNull();
  expect(reader.bufferedBytes).toBe(0);
  return frame as Frame;
}

describe('constants', () => {
  it('match RFC 9113', () => {
    expect(FrameType).toEqual({
      DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4,
      PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9,
    });
    expect(Flag).toEqual({ END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 });
    expect(SettingId).toEqual({
      HEADER_TABLE_SIZE: 1, ENABLE_PUSH: 2, MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4,
      MAX_FRAME_SIZE: 5, MAX_HEADER_LIST_SIZE: 6, ENABLE_CONNECT_PROTOCOL: 8,
    });
    expect([FRAME_HEADER_LENGTH, DEFAULT_MAX_FRAME_SIZE, MAX_FRAME_SIZE_LIMIT, MAX_WINDOW_SIZE]).toEqual([
      9, 16384, 16777215, 2147483647,
    ]);
  });

  it('has the 24-octet client preface (§3.4)', () => {
    expect(toHex(CONNECTION_PREFACE)).toBe('505249202a20485454502f322e300d0a0d0a534d0d0a0d0a');
    expect(CONNECTION_PREFACE.length).toBe(24);
  });

  it('names frame types', () => {
    expect(frameTypeName(FrameType.WINDOW_UPDATE)).toBe('WINDOW_UPDATE');
    expect(frameTypeName(0xfa)).toBe('UNKNOWN_0xfa');
  });
});

describe('every frame type and flag, byte-exact', () => {
  describe.each(ROUND_TRIP.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    const bytes = hex(vector.hex);

    it('encodes to the hand-written bytes', () => {
      expect(toHex(encodeFrame(vector.frame))).toBe(toHex(bytes));
      expect(encodedFrameLength(vector.frame)).toBe(bytes.length);
    });

    it('decodes from them', () => {
      expect(normalize(decodeOne(bytes))).toEqual(normalize(vector.frame));
    });

    it('decodes to the same hidden-class shape (every field, fixed order)', () => {
      const frame = decodeOne(bytes);
      expect(Object.keys(frame)).toEqual(FIELD_ORDER[frame.type] ?? UNKNOWN_FIELD_ORDER);
    });

    it('re-encodes the decoded frame to the same bytes', () => {
      expect(toHex(encodeFrame(decodeOne(bytes)))).toBe(toHex(bytes));
    });

    it('encodes into a buffer at an offset, touching nothing else', () => {
      const buf = new Uint8Array(bytes.length + 7).fill(0xaa);
      expect(encodeFrameInto(vector.frame, buf, 3)).toBe(bytes.length);
      expect(toHex(buf)).toBe(`aaaaaa${toHex(bytes)}aaaaaaaa`);
    });
  });

  describe.each(DECODE_ONLY.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    it('decodes, and re-encodes canonically', () => {
      const frame = decodeOne(hex(vector.hex));
      expect(normalize(frame)).toEqual(normalize(vector.frame));
      expect(toHex(encodeFrame(frame))).toBe(toHex(hex(vector.reencoded)));
    });
  });

  it('covers every frame type and every defined flag on each type that has it', () => {
    const seen = new Set(ROUND_TRIP.map((v) => `${v.frame.type}`));
    for (const type of Object.values(FrameType)) expect(seen.has(`${type}`)).toBe(true);
    const has = (type: number, flag: number): boolean =>
      ROUND_TRIP.some((v) => v.frame.type === type && (v.frame.flags & flag) !== 0);
    expect(has(FrameType.DATA, Flag.END_STREAM)).toBe(true);
    expect(has(FrameType.DATA, Flag.PADDED)).toBe(true);
    expect(has(FrameType.HEADERS, Flag.END_STREAM)).toBe(true);
    expect(has(FrameType.HEADERS, Flag.END_HEADERS)).toBe(true);
    expect(has(FrameType.HEADERS, Flag.PADDED)).toBe(true);
    expect(has(FrameType.HEADERS, Flag.PRIORITY)).toBe(true);
    expect(has(FrameType.SETTINGS, Flag.ACK)).toBe(true);
    expect(has(FrameType.PUSH_PROMISE, Flag.END_HEADERS)).toBe(true);
    expect(has(FrameType.PUSH_PROMISE, Flag.PADDED)).toBe(true);
    expect(has(FrameType.PING, Flag.ACK)).toBe(true);
    expect(has(FrameType.CONTINUATION, Flag.END_HEADERS)).toBe(true);
  });
});

describe('encoder conveniences', () => {
  it('sets PADDED when padding > 0 even if flags lack it', () => {
    const bytes = encodeFrame({ type: FrameType.DATA, flags: Flag.END_STREAM, streamId: 1, padding: 2, data: hex('61') });
    expect(toHex(bytes)).toBe(toHex(hex('000004 00 09 00000001 02 61 0000')));
  });

  it('sets ACK from `ack` on SETTINGS and PING', () => {
    expect(toHex(encodeFrame({ type: FrameType.SETTINGS, flags: 0, streamId: 0, ack: true, settings: [] }))).toBe(
      toHex(hex('000000 04 01 00000000')),
    );
    const ping = encodeFrame({ type: FrameType.PING, flags: 0, streamId: 0, ack: true, opaqueData: new Uint8Array(8) });
    expect(toHex(ping)).toBe(toHex(hex('000008 06 01 00000000 0000000000000000')));
  });

  it('ignores the priority fields of HEADERS without PRIORITY', () => {
    const bytes = encodeFrame({
      type: FrameType.HEADERS, flags: Flag.END_HEADERS, streamId: 1, padding: 0,
      exclusive: true, streamDependency: 9, weight: 0, headerBlockFragment: hex('82'),
    });
    expect(toHex(bytes)).toBe(toHex(hex('000001 01 04 00000001 82')));
  });

  it('writes zeroes into padding even over a dirty buffer', () => {
    const buf = new Uint8Array(32).fill(0xff);
    const n = encodeFrameInto(
      { type: FrameType.PUSH_PROMISE, flags: 0, streamId: 1, padding: 3, promisedStreamId: 2, headerBlockFragment: hex('82') },
      buf,
      0,
    );
    expect(toHex(buf.subarray(0, n))).toBe(toHex(hex('000009 05 08 00000001 03 00000002 82 000000')));
  });
});
