import { describe, expect, it } from 'vitest';
import * as hyperwire from '../lib/index.js';
import { Decoder, Encoder, FrameReader, FrameType, encodeFrame, HeaderListSizeError, HPACKDecodingError } from '../lib/index.js';

describe('the public surface', () => {
  it('exports the HPACK, frame and error names other layers build on', () => {
    for (const name of [
      'Decoder',
      'Encoder',
      'BuiltinHeaderCodec',
      'HpackJsHeaderCodec',
      'builtinHeaderCodec',
      'hpackJsHeaderCodec',
      'FrameReader',
      'encodeFrame',
      'FrameType',
      'Flag',
      'SettingId',
      'ErrorCode',
      'HyperwireError',
      'HTTP20Error',
      'ProtocolError',
      'FrameSizeError',
      'HPACKDecodingError',
      'HPACKEncodingError',
      'HeaderListSizeError',
      'HTTPConnection',
      'HTTP20Connection',
      'HTTP11Connection',
      'HTTP20Response',
      'HTTP11Response',
      'ResponseParser',
      'HTTP11Error',
      'ProxyError',
      'TLSError',
      'initContext',
      'openTunnel',
    ]) {
      expect(hyperwire, name).toHaveProperty(name);
    }
  });

  it('an Encoder block decodes with a Decoder, octets preserved', () => {
    const e = new Encoder({ maxTableSize: 4096, huffman: true });
    const d = new Decoder({ maxTableSize: 4096, maxHeaderListSize: 65536 });
    const headers: [string, string][] = [
      [':method', 'GET'],
      [':path', '/caf\xc3\xa9'],
      ['x-bytes', '\x00\x7f\x80\xff'],
    ];
    expect(d.decode(e.encode(headers))).toEqual(headers);
    expect(d.decode(e.encode(headers))).toEqual(headers);
  });

  it('a header list over the limit is a stream-scoped HPACKDecodingError', () => {
    const e = new Encoder();
    const d = new Decoder({ maxHeaderListSize: 100 });
    const err = (() => {
      try {
        d.decode(e.encode([['x-a', 'v'.repeat(100)]]));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(HPACKDecodingError);
    expect(err).toBeInstanceOf(HeaderListSizeError);
    expect((err as HeaderListSizeError).scope).toBe('stream');
  });

  it('a frame encoded through the surface reads back through it', () => {
    const reader = new FrameReader();
    reader.push(encodeFrame({ type: FrameType.PING, flags: 0, streamId: 0, ack: true, opaqueData: new Uint8Array(8).fill(7) }));
    const frame = reader.read();
    expect(frame?.type).toBe(FrameType.PING);
    if (frame?.type !== FrameType.PING) return;
    expect(frame.ack).toBe(true);
    expect([...frame.opaqueData]).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
    expect(reader.read()).toBeNull();
  });
});

describe('the error hierarchy', () => {
  it('puts ConnectionError directly under HyperwireError, and the urllib3 names where urllib3 has them', async () => {
    const e = await import('../lib/index.js');
    expect(Object.getPrototypeOf(e.ConnectionError)).toBe(e.HyperwireError);
    expect(new e.ConnectionError('HW_ERR_X', 'x')).not.toBeInstanceOf(e.HTTP20Error);
    expect(new e.NewConnectionError('x')).toBeInstanceOf(e.ConnectionError);
    expect(new e.NewConnectionError('x').code).toBe('HW_ERR_CONNECT');
    expect(new e.ConnectTimeoutError('x')).toBeInstanceOf(e.TimeoutError);
    expect(new e.ConnectTimeoutError('x').code).toBe('HW_ERR_CONNECT_TIMEOUT');
    expect(new e.ReadTimeoutError('x')).toBeInstanceOf(e.TimeoutError);
    expect(new e.ReadTimeoutError('x').code).toBe('HW_ERR_READ_TIMEOUT');
    expect(e.SSLError).toBe(e.TLSError);
    expect(new e.DecodeError('x')).toBeInstanceOf(e.HyperwireError);
    expect(new e.DecodeError('x').scope).toBe('stream');
  });
});
