/** Malformed frames: the error class, code, wire code and scope, when it is raised, and what the reader does next. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, FrameSizeError, ProtocolError } from '../../lib/common/errors.js';
import { ERR_BAD_PADDING, ERR_STREAM_ID, FrameReader, FrameType } from '../../lib/frame/index.js';
import type { Frame } from '../../lib/frame/index.js';
import { concat, everyByte, hex, normalize, randomSplits } from './helpers.js';

/** A valid frame to follow a bad one. */
const NEXT = hex('000008 06 00 00000000 0102030405060708');
const NEXT_FRAME: Frame = { type: FrameType.PING, flags: 0, streamId: 0, ack: false, opaqueData: hex('0102030405060708') };

function expectFrameSizeError(err: unknown, scope: 'connection' | 'stream', streamId?: number): void {
  expect(err).toBeInstanceOf(FrameSizeError);
  const e = err as FrameSizeError;
  expect(e.code).toBe('HW_ERR_FRAME_SIZE');
  expect(e.errorCode).toBe(ErrorCode.FRAME_SIZE_ERROR);
  expect(e.scope).toBe(scope);
  expect(e.streamId).toBe(streamId);
}

function expectProtocolError(err: unknown, code: string): void {
  expect(err).toBeInstanceOf(ProtocolError);
  expect(err).not.toBeInstanceOf(FrameSizeError);
  const e = err as ProtocolError;
  expect(e.code).toBe(code);
  expect(e.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  expect(e.scope).toBe('connection');
  expect(e.streamId).toBeUndefined();
}

/** Pushes `bytes` and returns what read() throws (failing if it does not). */
function errorFrom(bytes: Uint8Array, reader = new FrameReader()): unknown {
  reader.push(bytes);
  try {
    const frame = reader.read();
    throw new Error(`expected an error, got ${frame === null ? 'null' : JSON.stringify(normalize(frame))}`);
  } catch (err) {
    return err;
  }
}

/** After a connection error the reader is poisoned: the same error, forever, whatever arrives. */
function expectPoisoned(reader: FrameReader, err: unknown): void {
  expect(reader.bufferedBytes).toBe(0);
  reader.push(NEXT);
  expect(reader.bufferedBytes).toBe(0);
  for (let i = 0; i < 3; i++) {
    let thrown: unknown;
    try {
      reader.read();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBe(err);
  }
}

/** Cases raised from the 9 header octets alone, [name, header hex]. */
const HEADER_FRAME_SIZE: ReadonlyArray<readonly [string, string]> = [
  ['PING of 7 octets', '000007 06 00 00000000'],
  ['PING of 9 octets', '000009 06 00 00000000'],
  ['RST_STREAM of 3 octets', '000003 03 00 00000001'],
  ['RST_STREAM of 5 octets', '000005 03 00 00000001'],
  ['WINDOW_UPDATE of 3 octets (connection)', '000003 08 00 00000000'],
  ['WINDOW_UPDATE of 5 octets (stream)', '000005 08 00 00000001'],
  ['SETTINGS of 5 octets', '000005 04 00 00000000'],
  ['SETTINGS of 7 octets', '000007 04 00 00000000'],
  ['SETTINGS ACK with a payload', '000006 04 01 00000000'],
  ['GOAWAY of 7 octets', '000007 07 00 00000000'],
  ['GOAWAY of 0 octets', '000000 07 00 00000000'],
  ['PUSH_PROMISE too short for the promised id', '000003 05 04 00000001'],
  ['PUSH_PROMISE, PADDED, too short for pad length + promised id', '000004 05 0c 00000001'],
  ['HEADERS, PADDED, empty', '000000 01 08 00000001'],
  ['HEADERS, PRIORITY, 4 octets', '000004 01 20 00000001'],
  ['HEADERS, PADDED + PRIORITY, 5 octets', '000005 01 28 00000001'],
  ['DATA, PADDED, empty', '000000 00 08 00000001'],
];

/** Stream id 0 where a stream is needed, or non-zero where 0 is: [name, header hex]. */
const HEADER_STREAM_ID: ReadonlyArray<readonly [string, string]> = [
  ['DATA on stream 0', '000000 00 00 00000000'],
  ['DATA on stream 0 with only the reserved bit set', '000000 00 00 80000000'],
  ['HEADERS on stream 0', '000001 01 04 00000000'],
  ['PRIORITY on stream 0 (checked before its length)', '000004 02 00 00000000'],
  ['RST_STREAM on stream 0', '000004 03 00 00000000'],
  ['PUSH_PROMISE on stream 0', '000004 05 04 00000000'],
  ['CONTINUATION on stream 0', '000000 09 04 00000000'],
  ['SETTINGS on stream 1', '000000 04 00 00000001'],
  ['SETTINGS ACK on stream 3', '000000 04 01 00000003'],
  ['PING on stream 1', '000008 06 00 00000001'],
  ['GOAWAY on stream 5', '000008 07 00 00000005'],
];

describe('frame size (§4.2)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('an oversized length throws from the 9 header octets alone, allocating nothing', () => {
    const reader = new FrameReader();
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    const err = errorFrom(hex('ffffff 00 00 00000001'), reader);
    expectFrameSizeError(err, 'connection');
    expect((err as Error).message).toMatch(/16777215.*16384/);
    expect(alloc).not.toHaveBeenCalled();
    expectPoisoned(reader, err);
  });

  it('one octet over the limit, with the payload present', () => {
    const bytes = concat([hex('004001 00 00 00000001'), new Uint8Array(16385)]);
    const reader = new FrameReader();
    expectFrameSizeError(errorFrom(bytes, reader), 'connection');
    expect(reader.bufferedBytes).toBe(0);
  });

  it('applies to unknown frame types and to the limit set later', () => {
    expectFrameSizeError(errorFrom(hex('004001 fa 00 00000000')), 'connection');
    const reader = new FrameReader({ maxFrameSize: 20000 });
    reader.setMaxFrameSize(16384);
    expectFrameSizeError(errorFrom(hex('004e20 00 00 00000001'), reader), 'connection');
  });

  it('is checked before the stream id and type rules', () => {
    expectFrameSizeError(errorFrom(hex('004001 06 00 00000007')), 'connection');
  });

  it('is raised after a byte-at-a-time header, on its ninth octet', () => {
    const reader = new FrameReader();
    const header = everyByte(hex('010000 00 00 00000001'));
    for (const byte of header.slice(0, 8)) {
      reader.push(byte);
      expect(reader.read()).toBeNull();
    }
    expectFrameSizeError(errorFrom(header[8] as Uint8Array, reader), 'connection');
  });
});

describe.each(HEADER_FRAME_SIZE)('%s: FRAME_SIZE_ERROR on the connection', (_name, headerHex) => {
  it('throws from the header alone, then stays poisoned', () => {
    const reader = new FrameReader();
    const err = errorFrom(hex(headerHex), reader);
    expectFrameSizeError(err, 'connection');
    expectPoisoned(reader, err);
  });
});

describe.each(HEADER_STREAM_ID)('%s: PROTOCOL_ERROR on the connection', (_name, headerHex) => {
  it('throws from the header alone, then stays poisoned', () => {
    const reader = new FrameReader();
    const err = errorFrom(hex(headerHex), reader);
    expectProtocolError(err, ERR_STREAM_ID);
    expectPoisoned(reader, err);
  });
});

describe('WINDOW_UPDATE may be on stream 0 or not (§6.9)', () => {
  it.each(['000004 08 00 00000000 00000001', '000004 08 00 00000009 00000001'])('%s', (text) => {
    const reader = new FrameReader();
    reader.push(hex(text));
    expect(reader.read()?.type).toBe(FrameType.WINDOW_UPDATE);
  });
});

describe('PRIORITY of the wrong length: a stream error (§6.3)', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['4 octets', '000004 02 00 00000003 80000001'],
    ['6 octets', '000006 02 00 00000003 800000010f00'],
    ['0 octets', '000000 02 00 00000003'],
    ['reserved bit on the stream id', '000004 02 00 80000003 00000001'],
  ];

  it.each(cases)('%s: FrameSizeError with scope stream and the stream id, from the header', (_name, text) => {
    const bytes = hex(text);
    expectFrameSizeError(errorFrom(bytes.subarray(0, 9)), 'stream', 3);
  });

  it.each(cases)('%s: the frame is consumed and the reader carries on, in any chunking', (_name, text) => {
    const bytes = concat([hex(text), NEXT]);
    const chunkings = [[bytes], everyByte(bytes), randomSplits(bytes, 7, 2), randomSplits(bytes, 8, 5)];
    for (const chunks of chunkings) {
      const reader = new FrameReader();
      const got: Frame[] = [];
      let errors = 0;
      for (const chunk of chunks) {
        reader.push(chunk);
        for (;;) {
          try {
            const frame = reader.read();
            if (frame === null) break;
            got.push(frame);
          } catch (err) {
            expectFrameSizeError(err, 'stream', 3);
            errors++;
          }
        }
      }
      expect(errors).toBe(1);
      expect(got.map(normalize)).toEqual([normalize(NEXT_FRAME)]);
      expect(reader.bufferedBytes).toBe(0);
    }
  });
});

describe('padding (§6.1, §6.2, §6.6)', () => {
  const bad: ReadonlyArray<readonly [string, string]> = [
    ['DATA, Pad Length = payload length', '000003 00 08 00000001 03 0000'],
    ['DATA, Pad Length > payload length', '000001 00 08 00000001 ff'],
    ['DATA, Pad Length 1 in a 1-octet payload', '000001 00 08 00000001 01'],
    ['HEADERS, padding exceeds what follows the Pad Length', '000003 01 0c 00000001 03 0000'],
    ['HEADERS + PRIORITY, padding exceeds what follows the priority fields', '000008 01 2c 00000001 03 00000000 0f 0000'],
    ['PUSH_PROMISE, padding exceeds what follows the promised id', '000006 05 0c 00000001 02 00000002 00'],
  ];
  const good: ReadonlyArray<readonly [string, string, number]> = [
    ['DATA, padding fills the rest (empty data)', '000003 00 08 00000001 02 0000', FrameType.DATA],
    ['HEADERS + PRIORITY, padding fills the rest', '000008 01 2c 00000001 02 00000000 0f 0000', FrameType.HEADERS],
    ['PUSH_PROMISE, padding fills the rest', '000006 05 0c 00000001 01 00000002 00', FrameType.PUSH_PROMISE],
  ];

  it.each(bad)('%s: PROTOCOL_ERROR on the connection, then poisoned', (_name, text) => {
    const reader = new FrameReader();
    const err = errorFrom(hex(text), reader);
    expectProtocolError(err, ERR_BAD_PADDING);
    expectPoisoned(reader, err);
  });

  it.each(bad)('%s: not raised before the payload is complete', (_name, text) => {
    const bytes = hex(text);
    const reader = new FrameReader();
    reader.push(bytes.subarray(0, bytes.length - 1));
    expect(reader.read()).toBeNull();
    expectProtocolError(errorFrom(bytes.subarray(bytes.length - 1), reader), ERR_BAD_PADDING);
  });

  it.each(good)('%s: accepted', (_name, text, type) => {
    const reader = new FrameReader();
    reader.push(hex(text));
    expect(reader.read()?.type).toBe(type);
  });
});

describe('a connection error after good frames', () => {
  it('good frames before it are returned; nothing after it', () => {
    const bytes = concat([NEXT, NEXT, hex('000000 00 00 00000000'), NEXT]);
    for (const chunks of [[bytes], everyByte(bytes)]) {
      const reader = new FrameReader();
      const got: Frame[] = [];
      let err: unknown;
      for (const chunk of chunks) {
        reader.push(chunk);
        try {
          for (let f = reader.read(); f !== null; f = reader.read()) got.push(f);
        } catch (e) {
          err ??= e;
          expect(e).toBe(err);
        }
      }
      expect(got.length).toBe(2);
      expectProtocolError(err, ERR_STREAM_ID);
      expectPoisoned(reader, err);
    }
  });
});
