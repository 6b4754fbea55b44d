/** fast-check: random valid frames round-trip encode -> decode exactly, under random chunking. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Flag, FrameReader, FrameType, encodeFrame, encodedFrameLength } from '../../lib/frame/index.js';
import type { ExtensionFrameType, Frame } from '../../lib/frame/index.js';
import { concat, normalize, readAllAfterPushing, readAllInterleaved, splitAt, toHex } from './helpers.js';

const streamId = fc.integer({ min: 1, max: 2 ** 31 - 1 });
const anyStreamId = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const uint32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const flags = fc.integer({ min: 0, max: 0xff });
const bytes = (maxLength = 64): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1000, maxLength: 3000 }) },
  );
/** Padding as decoded: whenever it is non-zero, PADDED is in the flags. */
const padded = flags.chain((f) =>
  (f & Flag.PADDED) !== 0
    ? fc.integer({ min: 0, max: 255 }).map((padding) => ({ flags: f, padding }))
    : fc.constant({ flags: f, padding: 0 }),
);

/** Frames in the form FrameReader produces them (so that decode(encode(f)) deep-equals f). */
const frame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ p: padded, streamId, data: bytes() }).map(
    ({ p, streamId, data }): Frame => ({ type: FrameType.DATA, flags: p.flags, streamId, padding: p.padding, data }),
  ),
  fc
    .record({
      p: padded,
      streamId,
      exclusive: fc.boolean(),
      streamDependency: anyStreamId,
      weight: fc.integer({ min: 1, max: 256 }),
      fragment: bytes(),
    })
    .map(({ p, streamId, exclusive, streamDependency, weight, fragment }): Frame => {
      const hasPriority = (p.flags & Flag.PRIORITY) !== 0;
      return {
        type: FrameType.HEADERS, flags: p.flags, streamId, padding: p.padding,
        exclusive: hasPriority && exclusive,
        streamDependency: hasPriority ? streamDependency : 0,
        weight: hasPriority ? weight : 16,
        headerBlockFragment: fragment,
      };
    }),
  fc
    .record({ flags, streamId, exclusive: fc.boolean(), streamDependency: anyStreamId, weight: fc.integer({ min: 1, max: 256 }) })
    .map((r): Frame => ({ type: FrameType.PRIORITY, ...r })),
  fc.record({ flags, streamId, errorCode: uint32 }).map((r): Frame => ({ type: FrameType.RST_STREAM, ...r })),
  fc
    .record({
      flags,
      settings: fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffff }), uint32), { maxLength: 10 }),
    })
    .map(({ flags, settings }): Frame => {
      const ack = (flags & Flag.ACK) !== 0;
      return { type: FrameType.SETTINGS, flags, streamId: 0, ack, settings: ack ? [] : settings };
    }),
  fc.record({ p: padded, streamId, promisedStreamId: anyStreamId, fragment: bytes() }).map(
    ({ p, streamId, promisedStreamId, fragment }): Frame => ({
      type: FrameType.PUSH_PROMISE, flags: p.flags, streamId, padding: p.padding, promisedStreamId, headerBlockFragment: fragment,
    }),
  ),
  fc.record({ flags, opaqueData: fc.uint8Array({ minLength: 8, maxLength: 8 }) }).map(
    ({ flags, opaqueData }): Frame => ({ type: FrameType.PING, flags, streamId: 0, ack: (flags & Flag.ACK) !== 0, opaqueData }),
  ),
  fc.record({ flags, lastStreamId: anyStreamId, errorCode: uint32, debugData: bytes() }).map(
    (r): Frame => ({ type: FrameType.GOAWAY, flags: r.flags, streamId: 0, lastStreamId: r.lastStreamId, errorCode: r.errorCode, debugData: r.debugData }),
  ),
  fc.record({ flags, streamId: anyStreamId, windowSizeIncrement: anyStreamId }).map(
    (r): Frame => ({ type: FrameType.WINDOW_UPDATE, ...r }),
  ),
  fc.record({ flags, streamId, fragment: bytes() }).map(
    ({ flags, streamId, fragment }): Frame => ({ type: FrameType.CONTINUATION, flags, streamId, headerBlockFragment: fragment }),
  ),
  fc.record({ type: fc.integer({ min: 10, max: 255 }), flags, streamId: anyStreamId, payload: bytes() }).map(
    (r): Frame => ({ type: r.type as ExtensionFrameType, flags: r.flags, streamId: r.streamId, payload: r.payload }),
  ),
);

/** Cut points as fractions of the stream's length, so they scale with it. */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 });

/** Large enough for the biggest generated frame (3000 + 255 padding + 6). */
const READER_OPTIONS = { maxFrameSize: 16384 };

describe('properties', () => {
  it('decode(encode(frame)) equals frame, and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const encoded = encodeFrame(f);
        expect(encoded.length).toBe(encodedFrameLength(f));
        const reader = new FrameReader(READER_OPTIONS);
        reader.push(encoded);
        const decoded = reader.read();
        expect(decoded).not.toBeNull();
        expect(normalize(decoded as Frame)).toEqual(normalize(f));
        expect(toHex(encodeFrame(decoded as Frame))).toBe(toHex(encoded));
        expect(reader.read()).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it('a random sequence of frames under random chunking decodes to the same sequence', () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 25 }), cuts, fc.boolean(), (frames, fractions, interleave) => {
        const stream = concat(frames.map((f) => encodeFrame(f)));
        const chunks = splitAt(stream, fractions.map((x) => Math.floor(x * stream.length)));
        const reader = new FrameReader(READER_OPTIONS);
        const decoded = interleave ? readAllInterleaved(chunks, reader) : readAllAfterPushing(chunks, reader);
        expect(decoded.map(normalize)).toEqual(frames.map(normalize));
        expect(reader.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('a truncated stream yields exactly the complete frames and parks (never throws)', () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 10 }), fc.double({ min: 0, max: 1, noNaN: true }), (frames, at) => {
        const encoded = frames.map((f) => encodeFrame(f));
        const stream = concat(encoded);
        const cut = Math.floor(at * stream.length);
        let complete = 0;
        for (let end = 0; complete < encoded.length; complete++) {
          end += (encoded[complete] as Uint8Array).length;
          if (end > cut) break;
        }
        const reader = new FrameReader(READER_OPTIONS);
        const decoded = readAllInterleaved([stream.subarray(0, cut)], reader);
        expect(decoded.map(normalize)).toEqual(frames.slice(0, complete).map(normalize));
        expect(reader.read()).toBeNull();
      }),
      { numRuns: 300 },
    );
  });
});
