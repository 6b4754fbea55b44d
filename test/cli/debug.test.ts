/**
 * The --debug lines for each kind of frame and head, in nghttp -v's form.
 */

import { describe, expect, it } from 'vitest';
import { DebugFormatter, errorCodeName, timestamp } from '../../lib/cli/debug.js';
import { HpackTrace } from '../../lib/cli/hpack-trace.js';
import { createPalette } from '../../lib/cli/palette.js';
import type { WireEvent } from '../../lib/cli/wire.js';
import { Encoder } from '../../lib/hpack/index.js';
import type { Frame } from '../../lib/frame/index.js';

const frame = (f: Frame, direction: 'send' | 'recv' = 'recv', time = 12): WireEvent => ({ kind: 'frame', time, conn: 1, direction, frame: f, block: null });

describe('DebugFormatter', () => {
  const fmt = (event: WireEvent): string => new DebugFormatter(createPalette(false)).format(event);

  it('writes times as nghttp: seconds with three decimals in a fixed width', () => {
    expect(timestamp(12)).toBe('[  0.012]');
    expect(timestamp(61_234.9)).toBe('[ 61.235]');
  });

  it('names SETTINGS parameters, with their values', () => {
    const f: Frame = { type: 0x4, flags: 0, streamId: 0, ack: false, settings: [[0x1, 4096], [0x3, 100], [0x4, 65535], [0x2, 0], [0x99, 7]] };
    expect(fmt(frame(f, 'send'))).toBe(
      [
        '[  0.012] send SETTINGS frame <length=30, flags=0x00, stream_id=0>',
        '          (niv=5)',
        '          [SETTINGS_HEADER_TABLE_SIZE(0x01):4096]',
        '          [SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100]',
        '          [SETTINGS_INITIAL_WINDOW_SIZE(0x04):65535]',
        '          [SETTINGS_ENABLE_PUSH(0x02):0]',
        '          [UNKNOWN(0x99):7]',
        '',
      ].join('\n'),
    );
    expect(fmt(frame({ type: 0x4, flags: 1, streamId: 0, ack: true, settings: [] }))).toBe('[  0.012] recv SETTINGS frame <length=0, flags=0x01, stream_id=0>\n          ; ACK\n');
  });

  it('shows the fields of control frames, error codes by name', () => {
    expect(fmt(frame({ type: 0x8, flags: 0, streamId: 0, windowSizeIncrement: 1000 }))).toContain('(window_size_increment=1000)');
    expect(fmt(frame({ type: 0x3, flags: 0, streamId: 3, errorCode: 8 }))).toBe('[  0.012] recv RST_STREAM frame <length=4, flags=0x00, stream_id=3>\n          (error_code=CANCEL(0x08))\n');
    expect(fmt(frame({ type: 0x6, flags: 1, streamId: 0, ack: true, opaqueData: Buffer.from('0102030405060708', 'hex') }))).toContain('; ACK\n          (opaque_data=0102030405060708)');
    expect(fmt(frame({ type: 0x7, flags: 0, streamId: 0, lastStreamId: 5, errorCode: 0, debugData: Buffer.from('bye') }))).toContain('(last_stream_id=5, error_code=NO_ERROR(0x00), opaque_data(3)=[bye])');
    expect(fmt(frame({ type: 0x2, flags: 0, streamId: 3, exclusive: true, streamDependency: 1, weight: 16 }))).toContain('(dep_stream_id=1, weight=16, exclusive=1)');
    expect(fmt(frame({ type: 0x0, flags: 0x9, streamId: 1, padding: 3, data: Buffer.alloc(10) }))).toBe('[  0.012] recv DATA frame <length=14, flags=0x09, stream_id=1>\n          ; END_STREAM | PADDED\n          (padlen=3)\n');
    expect(fmt(frame({ type: 0xa, flags: 0, streamId: 0, payload: Buffer.alloc(6) }))).toBe('[  0.012] recv ALTSVC frame <length=6, flags=0x00, stream_id=0>\n');
    expect(errorCodeName(0xd)).toBe('HTTP_1_1_REQUIRED(0x0d)');
    expect(errorCodeName(0x42)).toBe('UNKNOWN(0x42)');
  });

  it('decodes a header block, marks each field, and sums up the table', () => {
    const block = new Encoder({ huffman: false }).encode([
      [':method', 'GET'],
      [':path', '/a'],
      ['x-custom', 'v'],
    ]);
    const traced = new HpackTrace().decode(block);
    const event: WireEvent = {
      kind: 'frame',
      time: 3,
      conn: 1,
      direction: 'send',
      frame: { type: 0x1, flags: 0x5, streamId: 1, padding: 0, exclusive: false, streamDependency: 0, weight: 16, headerBlockFragment: block },
      block: traced,
    };
    const lines = fmt(event).split('\n');
    expect(lines[0]).toBe(`[  0.003] send HEADERS frame <length=${block.length}, flags=0x05, stream_id=1>`);
    expect(lines[1]).toBe('          ; END_STREAM | END_HEADERS');
    expect(lines[2]).toBe('          :method: GET [indexed static 2]');
    expect(lines[3]).toMatch(/^ {10}:path: \/a \[literal(, added)?, name static 4\]$/);
    expect(lines[4]).toMatch(/^ {10}x-custom: v \[literal, added\]$/);
    expect(lines[5]).toMatch(/^ {10}; HPACK: \+\d added, -0 evicted; dynamic table \d entr(y|ies), \d+\/4096 octets$/);
  });

  it('says when a block could not be decoded', () => {
    const event: WireEvent = { kind: 'frame', time: 3, conn: 1, direction: 'recv', frame: { type: 0x9, flags: 0x4, streamId: 1, headerBlockFragment: Buffer.alloc(1) }, block: { error: 'bad index' } };
    expect(fmt(event)).toContain('; header block not decoded: bad index');
  });

  it('shows HTTP/1.1 heads line by line, and connections', () => {
    expect(fmt({ kind: 'head-sent', time: 1, conn: 1, head: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' })).toBe('[  0.001] send HTTP/1.1 request head <length=27>\n          GET / HTTP/1.1\n          Host: x\n');
    expect(fmt({ kind: 'head-received', time: 2, conn: 1, version: '1.1', status: 101, reason: 'Switching Protocols', headers: [['Upgrade', 'h2c']] })).toBe(
      '[  0.002] recv HTTP/1.1 response head\n          HTTP/1.1 101 Switching Protocols\n          Upgrade: h2c\n',
    );
    expect(fmt({ kind: 'connected', time: 0, conn: 1, protocol: 'h2', host: 'a', port: 443, secure: true, upgraded: false })).toBe('[  0.000] HTTP/2 connection to a:443 (TLS, ALPN h2)\n');
  });

  it('numbers the connections once there is more than one', () => {
    const f = new DebugFormatter(createPalette(false));
    const ping = (conn: number): WireEvent => ({ kind: 'frame', time: 1, conn, direction: 'recv', frame: { type: 0x6, flags: 0, streamId: 0, ack: false, opaqueData: Buffer.alloc(8) }, block: null });
    expect(f.format(ping(1))).toMatch(/^\[  0\.001\] recv PING/);
    expect(f.format(ping(2))).toMatch(/^\[  0\.001\] #2 recv PING/);
    expect(f.format(ping(1))).toMatch(/^\[  0\.001\] #1 recv PING/);
  });
});
