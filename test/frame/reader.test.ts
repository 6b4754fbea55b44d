/** FrameReader under every chunking; zero-copy views vs copies; buffering. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { Flag, FrameReader, FrameType, encodeFrame } from '../../lib/frame/index.js';
import type { DataFrame, Frame } from '../../lib/frame/index.js';
import {
  concat,
  everyByte,
  hex,
  normalize,
  randomSplits,
  readAllAfterPushing,
  readAllInterleaved,
  rng,
  splitAt,
} from './helpers.js';
import { ROUND_TRIP } from './vectors.js';

/** A long mixed sequence: every vector, in a seeded shuffle, several times over, plus a few large DATA frames. */
function mixedSequence(): { frames: Frame[]; bytes: Uint8Array } {
  const next = rng(0x5eed);
  const frames: Frame[] = [];
  for (let round = 0; round < 8; round++) {
    const batch = ROUND_TRIP.map((v) => v.frame);
    for (let i = batch.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [batch[i], batch[j]] = [batch[j] as Frame, batch[i] as Frame];
    }
    frames.push(...batch);
    const big = new Uint8Array(1000 + round * 1777).map((_, i) => (i * 31 + round) & 0xff);
    // Decoded frames carry PADDED whenever there is padding: build the expected value that way.
    const padding = round * 30;
    const flags = (round & 1) | (padding > 0 ? Flag.PADDED : 0);
    frames.push({ type: FrameType.DATA, flags, streamId: 2 * round + 1, padding, data: big });
  }
  return { frames, bytes: concat(frames.map((f) => encodeFrame(f))) };
}

const { frames: EXPECTED, bytes: STREAM } = mixedSequence();
const EXPECTED_NORMAL = EXPECTED.map(normalize);

describe('any chunking decodes the same sequence', () => {
  it('is a long sequence', () => {
    expect(EXPECTED.length).toBeGreaterThan(250);
    expect(STREAM.length).toBeGreaterThan(40_000);
  });

  it('whole', () => {
    expect(readAllInterleaved([STREAM]).map(normalize)).toEqual(EXPECTED_NORMAL);
  });

  it('one byte at a time, reading after each byte', () => {
    const reader = new FrameReader();
    expect(readAllInterleaved(everyByte(STREAM), reader).map(normalize)).toEqual(EXPECTED_NORMAL);
    expect(reader.bufferedBytes).toBe(0);
  });

  it('one byte at a time, every chunk pushed before the first read', () => {
    const reader = new FrameReader();
    expect(readAllAfterPushing(everyByte(STREAM), reader).map(normalize)).toEqual(EXPECTED_NORMAL);
    expect(reader.bufferedBytes).toBe(0);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('random splits, seed %i', (seed) => {
    const mean = [3, 9, 40, 700][seed % 4] as number;
    const chunks = randomSplits(STREAM, seed, mean);
    expect(chunks.length).toBeGreaterThan(STREAM.length / (mean * 2 + 1) - 1);
    expect(readAllInterleaved(chunks).map(normalize)).toEqual(EXPECTED_NORMAL);
    expect(readAllAfterPushing(chunks).map(normalize)).toEqual(EXPECTED_NORMAL);
  });

  it('a split at every position of a frame, for every vector', () => {
    for (const vector of ROUND_TRIP) {
      const bytes = hex(vector.hex);
      for (let at = 1; at < bytes.length; at++) {
        const got = readAllInterleaved(splitAt(bytes, [at]));
        expect(got.map(normalize), `${vector.name} split at ${at}`).toEqual([normalize(vector.frame)]);
      }
    }
  });

  it('accepts plain Uint8Array views at an offset into a larger ArrayBuffer', () => {
    const backing = new Uint8Array(STREAM.length + 10);
    backing.set(STREAM, 5);
    const view = new Uint8Array(backing.buffer, 5, STREAM.length);
    expect(readAllInterleaved([view]).map(normalize)).toEqual(EXPECTED_NORMAL);
  });
});

describe('parking', () => {
  it('returns null (does not throw) until a frame is complete, and counts buffered bytes', () => {
    const bytes = hex('000005 00 01 00000001 68656c6c6f');
    const reader = new FrameReader();
    expect(reader.read()).toBeNull();
    reader.push(bytes.subarray(0, 4));
    expect(reader.read()).toBeNull();
    expect(reader.bufferedBytes).toBe(4);
    reader.push(bytes.subarray(4, 11));
    expect(reader.read()).toBeNull();
    // The header has been consumed; two payload octets wait.
    expect(reader.bufferedBytes).toBe(2);
    reader.push(new Uint8Array(0));
    expect(reader.read()).toBeNull();
    reader.push(bytes.subarray(11));
    const frame = reader.read() as DataFrame;
    expect(frame.type).toBe(FrameType.DATA);
    expect(Buffer.from(frame.data).toString()).toBe('hello');
    expect(reader.bufferedBytes).toBe(0);
    expect(reader.read()).toBeNull();
  });

  it('rejects a non-Uint8Array push', () => {
    expect(() => new FrameReader().push('abc' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('zero-copy views and copies', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const data = new Uint8Array(6000).map((_, i) => i & 0xff);
  const frameBytes = encodeFrame({ type: FrameType.DATA, flags: 0, streamId: 1, padding: 0, data });

  it('a frame inside one chunk is a view of that chunk', () => {
    const chunk = new Uint8Array(frameBytes.length + 20);
    chunk.set(frameBytes, 10);
    const reader = new FrameReader();
    reader.push(chunk.subarray(10));
    const frame = reader.read() as DataFrame;
    expect(frame.data.buffer).toBe(chunk.buffer);
    expect(frame.data.byteOffset).toBe(10 + 9);
    expect(frame.data.byteLength).toBe(6000);
  });

  it('a frame whose header straddles but whose payload is inside one chunk is still a view', () => {
    const [a, b] = splitAt(frameBytes, [4]) as [Uint8Array, Uint8Array];
    const reader = new FrameReader();
    reader.push(a);
    reader.push(b);
    const frame = reader.read() as DataFrame;
    expect(frame.data.buffer).toBe(b.buffer);
    expect(Buffer.from(frame.data).equals(Buffer.from(data))).toBe(true);
  });

  it('a payload straddling chunks is copied once, into a buffer of exactly its size', () => {
    const chunks = splitAt(frameBytes, [100, 3000, 5000]);
    const reader = new FrameReader();
    for (const chunk of chunks) reader.push(chunk);
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    const frame = reader.read() as DataFrame;
    expect(alloc).toHaveBeenCalledTimes(1);
    expect(alloc).toHaveBeenCalledWith(6000);
    for (const chunk of chunks) expect(frame.data.buffer).not.toBe(chunk.buffer);
    // 6000 octets is above Node's pool threshold, so the copy owns its ArrayBuffer.
    expect(frame.data.buffer.byteLength).toBe(6000);
    expect(Buffer.from(frame.data).equals(Buffer.from(data))).toBe(true);
  });

  it('small straddling payloads are copies too, and views of other fields stay consistent', () => {
    const bytes = encodeFrame({
      type: FrameType.GOAWAY, flags: 0, streamId: 0, lastStreamId: 3, errorCode: 2, debugData: hex('0102030405'),
    });
    const chunks = splitAt(bytes, [12]);
    const frame = readAllInterleaved(chunks)[0] as Frame;
    expect(frame.type).toBe(FrameType.GOAWAY);
    if (frame.type !== FrameType.GOAWAY) return;
    for (const chunk of chunks) expect(frame.debugData.buffer).not.toBe(chunk.buffer);
    expect(Buffer.from(frame.debugData).toString('hex')).toBe('0102030405');
    expect(frame.lastStreamId).toBe(3);
  });

  it('reading frames within one chunk allocates no payload buffers', () => {
    const reader = new FrameReader();
    reader.push(STREAM.slice());
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    const frames: Frame[] = [];
    for (let f = reader.read(); f !== null; f = reader.read()) frames.push(f);
    expect(frames.length).toBe(EXPECTED.length);
    expect(alloc).not.toHaveBeenCalled();
  });
});

describe('maxFrameSize', () => {
  const frameOf = (n: number): Uint8Array =>
    encodeFrame({ type: FrameType.DATA, flags: 0, streamId: 1, padding: 0, data: new Uint8Array(n) });

  it('accepts exactly the limit', () => {
    const reader = new FrameReader();
    expect(reader.maxFrameSize).toBe(16384);
    reader.push(frameOf(16384));
    expect((reader.read() as DataFrame).data.length).toBe(16384);
  });

  it('can be raised by option and by setMaxFrameSize', () => {
    const byOption = new FrameReader({ maxFrameSize: 20000 });
    byOption.push(frameOf(20000));
    expect((byOption.read() as DataFrame).data.length).toBe(20000);

    const bySetter = new FrameReader();
    bySetter.setMaxFrameSize(2 ** 24 - 1);
    expect(bySetter.maxFrameSize).toBe(2 ** 24 - 1);
    bySetter.push(frameOf(100_000));
    expect((bySetter.read() as DataFrame).data.length).toBe(100_000);
  });

  it.each([16383, 2 ** 24, 0, -1, 16384.5, Number.NaN])('rejects %d as a limit', (n) => {
    expect(() => new FrameReader({ maxFrameSize: n })).toThrow(RangeError);
    expect(() => new FrameReader().setMaxFrameSize(n)).toThrow(RangeError);
  });
});
