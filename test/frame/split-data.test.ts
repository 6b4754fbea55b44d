import { describe, expect, it } from 'vitest';
import { encodeFrame, Flag, FrameReader, FrameType, type Frame } from '../../lib/index.js';

/** Feeds `bytes` in pieces of `size` and collects every frame. */
function readAll(bytes: Buffer, size: number, splitData: boolean): Frame[] {
  const reader = new FrameReader({ splitData });
  const out: Frame[] = [];
  for (let off = 0; off < bytes.length; off += size) {
    reader.push(bytes.subarray(off, Math.min(off + size, bytes.length)));
    for (let f = reader.read(); f !== null; f = reader.read()) out.push(f);
  }
  return out;
}

const payload = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff));
const stream = Buffer.concat([
  encodeFrame({ type: FrameType.DATA, flags: Flag.END_STREAM, streamId: 1, padding: 0, data: payload }),
  encodeFrame({ type: FrameType.PING, flags: 0, streamId: 0, ack: false, opaqueData: Buffer.alloc(8, 1) }),
  encodeFrame({ type: FrameType.DATA, flags: Flag.PADDED, streamId: 3, padding: 10, data: payload.subarray(0, 500) }),
]);

describe('FrameReader splitData', () => {
  for (const size of [1, 7, 1000, 4096, stream.length]) {
    it(`chunks of ${size}: pieces add up to the payload, END_STREAM on the last piece only, padded DATA whole`, () => {
      const frames = readAll(stream, size, true);
      const data1 = frames.filter((f) => f.type === FrameType.DATA && f.streamId === 1);
      const joined = Buffer.concat(data1.map((f) => (f.type === FrameType.DATA ? f.data : new Uint8Array(0))));
      expect(joined.equals(payload)).toBe(true);
      expect(data1.every((f) => f.type === FrameType.DATA && f.data.length > 0)).toBe(true);
      const ends = data1.map((f) => (f.flags & Flag.END_STREAM) !== 0);
      expect(ends.at(-1)).toBe(true);
      expect(ends.filter(Boolean)).toHaveLength(1);
      if (size >= stream.length) expect(data1).toHaveLength(1);
      else expect(data1.length).toBeGreaterThan(1);
      const padded = frames.filter((f) => f.streamId === 3);
      expect(padded).toHaveLength(1);
      expect(padded[0]).toMatchObject({ padding: 10 });
      expect(frames.filter((f) => f.type === FrameType.PING)).toHaveLength(1);
    });
  }

  it('without splitData the frame comes whole in any chunking', () => {
    const frames = readAll(stream, 7, false);
    expect(frames.map((f) => f.type)).toEqual([FrameType.DATA, FrameType.PING, FrameType.DATA]);
  });
});
