/**
 * The sans-IO client engine, frame by frame: what it writes for each command
 * and each frame from the peer, and the events it reports. A scripted server
 * (./peer.ts) builds the peer's frames and decodes the client's.
 */

import { describe, expect, it } from 'vitest';
import {
  ConnectionError,
  ErrorCode,
  errorCodeName,
  HPACKEncodingError,
  HyperwireError,
  ProtocolError,
  StreamRefusedError,
  StreamResetError,
} from '../../lib/common/errors.js';
import { FrameType, SettingId, encodeFrame, type Frame } from '../../lib/frame/index.js';
import { Encoder, builtinHeaderCodec, hpackJsHeaderCodec } from '../../lib/hpack/index.js';
import { ClientSession, DEFAULT_WINDOW, type SessionEvent } from '../../lib/http2/session.js';
import { BaseFlowControlManager } from '../../lib/http2/window.js';
import { MAX_WINDOW_SIZE as MAX_WINDOW } from '../../lib/frame/constants.js';
import { everyByte, randomSplits } from '../frame/helpers.js';
import {
  Peer,
  connectionErrorOf,
  continuation,
  data,
  describeFrame,
  eventOf,
  getRequest,
  goaway,
  headersFrame,
  kinds,
  ping,
  priority,
  rstStream,
  settingsAck,
  settingsFrame,
  streamErrorOf,
  text,
  windowUpdate,
} from './peer.js';

const PREFACE_HEX = '505249202a20485454502f322e300d0a0d0a534d0d0a0d0a';

/** An event with its header map as [name, value] pairs, to compare whole. */
function withPairs(event: SessionEvent): object {
  return 'headers' in event ? { ...event, headers: event.headers.raw() } : event;
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** A connection error must have queued exactly one GOAWAY with this code, and nothing else. */
function expectGoaway(peer: Peer, code: number, lastStreamId = 0): void {
  expect(peer.readDescribed()).toEqual([`GOAWAY last=${lastStreamId} ${errorCodeName(code)}`]);
  expect(peer.client.isDead).toBe(true);
  expect(peer.client.canOpenStream()).toBe(false);
}

/** A stream error must have been reported for `streamId` with this code, and exactly one RST_STREAM with it queued. */
function expectReset(peer: Peer, events: readonly SessionEvent[], streamId: number, code: number): void {
  expect(streamErrorOf(events, streamId).errorCode).toBe(code);
  expect(peer.readDescribed()).toEqual([`RST_STREAM ${streamId} ${errorCodeName(code)}`]);
}

/** Opens a stream and answers it with a 200 and a body: proves the connection still works. */
function roundTrip(peer: Peer, body = 'ok'): number {
  const id = peer.open('/again');
  const events = peer.receive(peer.response(id, 200), data(id, body, { endStream: true }));
  expect(kinds(events)).toEqual([`response ${id}`, `data ${id}`, `streamEnd ${id}`, 'capacity']);
  expect(text(eventOf(events, 'data').data)).toBe(body);
  return id;
}

/** Records what the session tells a window manager; gives back whatever was consumed at once. */
class EagerManager extends BaseFlowControlManager {
  static made: EagerManager[] = [];
  calls: number[] = [];
  constructor(initialWindowSize: number, documentSize?: number) {
    super(initialWindowSize, documentSize);
    EagerManager.made.push(this);
  }
  increaseWindowSize(frameSize: number): number {
    this.calls.push(frameSize);
    return frameSize;
  }
  blocked(): number {
    return 0;
  }
}

// ---------------------------------------------------------------------------

describe('start()', () => {
  it('writes the preface, SETTINGS and the connection window raise, byte for byte', () => {
    const client = new ClientSession();
    expect(client.pendingOutput).toBe(0);
    client.start();
    const expected =
      PREFACE_HEX +
      // SETTINGS, 18 octets: ENABLE_PUSH 0, INITIAL_WINDOW_SIZE 4 MiB, MAX_HEADER_LIST_SIZE 64 KiB
      '000012' + '04' + '00' + '00000000' + '0002' + '00000000' + '0004' + '00400000' + '0006' + '00010000' +
      // WINDOW_UPDATE on stream 0: 16 MiB - 65535 = 0xff0001
      '000004' + '08' + '00' + '00000000' + '00ff0001';
    expect(client.pendingOutput).toBe(expected.length / 2);
    expect(hexOf(Buffer.concat(client.takeOutput()))).toBe(expected);
    expect(client.pendingOutput).toBe(0);
  });

  it('announces every non-default option, and no WINDOW_UPDATE when the connection window stays at 65535', () => {
    const peer = new Peer({
      enablePush: true,
      initialWindowSize: 1000,
      maxHeaderListSize: 8000,
      headerTableSize: 0,
      maxFrameSize: 20_000,
      maxConcurrentPushes: 5,
      connectionWindowSize: DEFAULT_WINDOW,
    });
    peer.client.start();
    expect(peer.readDescribed()).toEqual(['SETTINGS 2=1,4=1000,6=8000,1=0,5=20000,3=5']);
  });

  it('rejects option values outside their ranges', () => {
    expect(() => new ClientSession({ initialWindowSize: MAX_WINDOW + 1 })).toThrow(RangeError);
    expect(() => new ClientSession({ connectionWindowSize: 1000 })).toThrow(RangeError);
    expect(() => new ClientSession({ maxFrameSize: 16_383 })).toThrow(RangeError);
    expect(() => new ClientSession({ maxQueuedControlFrames: 0 })).toThrow(RangeError);
    expect(() => new ClientSession({ maxHeaderBlockSize: 1.5 })).toThrow(RangeError);
  });
});

describe('header compression backends', () => {
  it.each([
    ['builtin', builtinHeaderCodec],
    ['hpack.js', hpackJsHeaderCodec],
  ] as const)('runs a request and response with the %s backend', (name, headerCodec) => {
    const peer = new Peer({ headerCodec });
    expect(peer.client.headerCodecName).toBe(name);
    peer.handshake();
    const id = peer.client.openStream([...getRequest('/codec'), ['x-req', 'r']], true);
    peer.read();
    expect(peer.sentFields(id)).toEqual([...getRequest('/codec'), ['x-req', 'r']]);
    const events = peer.receive(peer.response(id, 200, [['x-res', 'v']]), data(id, 'body', { endStream: true }));
    expect(eventOf(events, 'response').headers.raw()).toEqual([['x-res', 'v']]);
    // A second response reuses the dynamic table entries of the first.
    const again = peer.open('/codec2');
    expect(eventOf(peer.receive(peer.response(again, 200, [['x-res', 'v']], { endStream: true })), 'response').headers.raw()).toEqual([['x-res', 'v']]);
  });
});

describe('SETTINGS', () => {
  it('acknowledges the peer SETTINGS with the exact ACK frame and reports what it applied', () => {
    const peer = new Peer();
    peer.client.start();
    peer.read();
    const events = peer.receive(settingsFrame([[SettingId.MAX_CONCURRENT_STREAMS, 250], [SettingId.INITIAL_WINDOW_SIZE, 1 << 20]]));
    expect(hexOf(peer.takeBytes())).toBe('000000' + '04' + '01' + '00000000');
    expect(kinds(events)).toEqual(['settings', 'capacity']);
    expect([...eventOf(events, 'settings').settings]).toEqual([[SettingId.MAX_CONCURRENT_STREAMS, 250], [SettingId.INITIAL_WINDOW_SIZE, 1 << 20]]);
    expect(peer.client.peerMaxConcurrentStreams).toBe(250);
  });

  it('reports the ACK of its own SETTINGS and writes nothing for it', () => {
    const peer = new Peer();
    peer.client.start();
    peer.read();
    expect(kinds(peer.receive(settingsAck()))).toEqual(['settingsAck']);
    expect(peer.takeBytes()).toHaveLength(0);
  });

  it('ignores unknown settings (§6.5.2) but still acknowledges', () => {
    const peer = new Peer();
    peer.handshake();
    const events = peer.receive(settingsFrame([[0x99, 7], [SettingId.ENABLE_CONNECT_PROTOCOL, 1]]));
    expect(kinds(events)).toEqual(['settings', 'capacity']);
    expect(peer.readDescribed()).toEqual(['SETTINGS ACK']);
    roundTrip(peer);
  });

  it('records the peer MAX_HEADER_LIST_SIZE as advisory', () => {
    const peer = new Peer();
    peer.handshake([[SettingId.MAX_HEADER_LIST_SIZE, 1234]]);
    expect(peer.client.peerMaxHeaderListSize).toBe(1234);
  });

  it.each([
    ['ENABLE_PUSH 1 from a server', SettingId.ENABLE_PUSH, 1, ErrorCode.PROTOCOL_ERROR],
    ['ENABLE_PUSH 2', SettingId.ENABLE_PUSH, 2, ErrorCode.PROTOCOL_ERROR],
    ['INITIAL_WINDOW_SIZE above 2^31-1', SettingId.INITIAL_WINDOW_SIZE, 2 ** 31, ErrorCode.FLOW_CONTROL_ERROR],
    ['MAX_FRAME_SIZE below 16384', SettingId.MAX_FRAME_SIZE, 16_383, ErrorCode.PROTOCOL_ERROR],
    ['MAX_FRAME_SIZE above 2^24-1', SettingId.MAX_FRAME_SIZE, 2 ** 24, ErrorCode.PROTOCOL_ERROR],
  ])('%s is a connection error', (_name, id, value, code) => {
    const peer = new Peer();
    peer.client.start();
    peer.read();
    const error = connectionErrorOf(peer.receive(settingsFrame([[id, value]])));
    expect(error.errorCode).toBe(code);
    expectGoaway(peer, code);
  });

  it('accepts the extreme legal values', () => {
    const peer = new Peer();
    peer.handshake([[SettingId.MAX_FRAME_SIZE, 2 ** 24 - 1], [SettingId.INITIAL_WINDOW_SIZE, MAX_WINDOW], [SettingId.ENABLE_PUSH, 0]]);
    expect(peer.client.isDead).toBe(false);
  });

  it('applies an INITIAL_WINDOW_SIZE increase to open streams and sends what was waiting (§6.9.2)', () => {
    const peer = new Peer();
    peer.handshake();
    peer.receive(windowUpdate(0, 1_000_000));
    const id = peer.open('/upload', { method: 'POST', endStream: false });
    expect(peer.client.sendData(id, Buffer.alloc(70_000, 1), true)).toBe(70_000 - 65_535);
    expect(peer.readDescribed()).toEqual(['DATA 1 len=16384', 'DATA 1 len=16384', 'DATA 1 len=16384', 'DATA 1 len=16383']);
    const events = peer.receive(settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 70_000]]));
    // The ACK is queued first, then what the larger window lets go.
    expect(peer.readDescribed()).toEqual(['SETTINGS ACK', 'DATA 1 len=4465 END_STREAM']);
    expect(kinds(events)).toEqual(['settings', 'capacity']);
    expect(peer.client.queuedData(id)).toBe(0);
  });

  it('lets a decrease make a window negative: WINDOW_UPDATE must first bring it above zero', () => {
    const peer = new Peer();
    peer.handshake();
    peer.receive(windowUpdate(0, 1_000_000));
    const id = peer.open('/upload', { method: 'POST', endStream: false });
    peer.client.sendData(id, Buffer.alloc(65_535 + 10, 1), false);
    peer.read();
    // Window: 65535 - 65535 + (1000 - 65535) = -64535.
    peer.receive(settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 1000]]));
    expect(peer.readDescribed()).toEqual(['SETTINGS ACK']);
    peer.receive(windowUpdate(id, 64_535));
    expect(peer.readDescribed()).toEqual([]);
    peer.receive(windowUpdate(id, 3));
    expect(peer.readDescribed()).toEqual(['DATA 1 len=3']);
    expect(peer.client.queuedData(id)).toBe(7);
    // A stream opened now starts at the new initial window.
    const second = peer.open('/second', { method: 'POST', endStream: false });
    peer.client.sendData(second, Buffer.alloc(1500, 2), true);
    expect(peer.readDescribed()).toEqual(['DATA 3 len=1000']);
  });

  it('is a connection FLOW_CONTROL_ERROR when the change pushes a stream window past 2^31-1', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open('/', { endStream: false });
    peer.receive(windowUpdate(id, MAX_WINDOW - DEFAULT_WINDOW));
    expect(peer.client.isDead).toBe(false);
    const events = peer.receive(settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, DEFAULT_WINDOW + 1]]));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expect(streamErrorOf(events, id).errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expectGoaway(peer, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('splits DATA by the peer MAX_FRAME_SIZE', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open('/a', { method: 'POST', endStream: false });
    const body = Buffer.from(Array.from({ length: 40_000 }, (_, i) => i % 251));
    peer.client.sendData(id, body, false);
    const frames = peer.read();
    expect(frames.map(describeFrame)).toEqual(['DATA 1 len=16384', 'DATA 1 len=16384', 'DATA 1 len=7232']);
    expect(Buffer.concat(frames.map((f) => (f.type === FrameType.DATA ? f.data : new Uint8Array())))).toEqual(body);

    peer.receive(settingsFrame([[SettingId.MAX_FRAME_SIZE, 20_000]]));
    peer.read();
    peer.receive(windowUpdate(0, 100_000), windowUpdate(id, 100_000));
    peer.client.sendData(id, Buffer.alloc(45_000), true);
    expect(peer.readDescribed()).toEqual(['DATA 1 len=20000', 'DATA 1 len=20000', 'DATA 1 len=5000 END_STREAM']);
  });

  it('splits a header block by the peer MAX_FRAME_SIZE into HEADERS and CONTINUATION', () => {
    const peer = new Peer();
    peer.handshake();
    // Octets that Huffman cannot shorten, so the block is as long as the value.
    const big = String.fromCharCode(...Array.from({ length: 40_000 }, (_, i) => 0x80 + (i % 100)));
    const list = [...getRequest('/big'), ['x-big', big] as const];
    const expectedBlock = Buffer.from(new Encoder().encode(list));
    const id = peer.client.openStream(list, true);
    const frames = peer.read();
    const tail = expectedBlock.length - 2 * 16_384;
    expect(frames.map(describeFrame)).toEqual([
      `HEADERS 1 len=16384 END_STREAM`,
      `CONTINUATION 1 len=16384`,
      `CONTINUATION 1 len=${tail} END_HEADERS`,
    ]);
    expect(peer.blocks[0]!.block).toEqual(expectedBlock);
    expect(peer.sentFields(id)).toEqual(list);

    peer.receive(settingsFrame([[SettingId.MAX_FRAME_SIZE, 30_000]]));
    peer.read();
    peer.client.openStream([...getRequest('/big2'), ['x-big', big]], true);
    const second = peer.read().map(describeFrame);
    expect(second).toHaveLength(2);
    expect(second[0]).toBe('HEADERS 3 len=30000 END_STREAM');
    expect(second[1]).toMatch(/^CONTINUATION 3 len=\d+ END_HEADERS$/);
  });

  it('follows MAX_CONCURRENT_STREAMS: no stream beyond it, and capacity when one closes', () => {
    const peer = new Peer();
    peer.handshake([[SettingId.MAX_CONCURRENT_STREAMS, 1]]);
    expect(peer.client.canOpenStream()).toBe(true);
    const id = peer.open('/one');
    expect(peer.client.openStreams).toBe(1);
    expect(peer.client.canOpenStream()).toBe(false);
    expect(() => peer.client.openStream(getRequest('/two'), true)).toThrow(ConnectionError);
    expect(peer.readDescribed()).toEqual([]);

    const first = peer.receive(peer.response(id, 200));
    expect(kinds(first)).toEqual(['response 1']);
    const end = peer.receive(data(id, 'x', { endStream: true }));
    expect(kinds(end)).toEqual(['data 1', 'streamEnd 1', 'capacity']);
    expect(peer.client.canOpenStream()).toBe(true);
    expect(peer.client.openStream(getRequest('/two'), true)).toBe(3);
  });

  it('opens at most 100 streams before the peer SETTINGS; a SETTINGS without the limit lifts it', () => {
    const peer = new Peer();
    peer.client.start();
    peer.read();
    for (let i = 0; i < 100; i++) peer.client.openStream(getRequest(`/${i}`), true);
    expect(peer.client.openStreams).toBe(100);
    expect(peer.client.canOpenStream()).toBe(false);
    expect(() => peer.client.openStream(getRequest('/101'), true)).toThrow(ConnectionError);
    expect(peer.read()).toHaveLength(100);
    const events = peer.receive(settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 1 << 20]]));
    expect(kinds(events)).toEqual(['settings', 'capacity']);
    expect(peer.client.peerMaxConcurrentStreams).toBe(Infinity);
    for (let i = 0; i < 150; i++) peer.client.openStream(getRequest(`/more-${i}`), true);
    expect(peer.client.openStreams).toBe(250);
    expect(peer.client.canOpenStream()).toBe(true);
    // A later SETTINGS without the setting leaves the limit as it was.
    peer.receive(settingsFrame([[SettingId.MAX_CONCURRENT_STREAMS, 300]]), settingsFrame([]));
    expect(peer.client.peerMaxConcurrentStreams).toBe(300);
  });

  it('takes the limit from the first SETTINGS, above or below 100', () => {
    for (const limit of [7, 150]) {
      const peer = new Peer();
      peer.client.start();
      peer.read();
      peer.receive(settingsFrame([[SettingId.MAX_CONCURRENT_STREAMS, limit]]));
      for (let i = 0; i < limit; i++) peer.client.openStream(getRequest(), true);
      expect(peer.client.canOpenStream(), `limit ${limit}`).toBe(false);
    }
  });

  it('reports capacity when the peer raises MAX_CONCURRENT_STREAMS from 0', () => {
    const peer = new Peer();
    peer.handshake([[SettingId.MAX_CONCURRENT_STREAMS, 0]]);
    expect(peer.client.canOpenStream()).toBe(false);
    const events = peer.receive(settingsFrame([[SettingId.MAX_CONCURRENT_STREAMS, 2]]));
    expect(kinds(events)).toEqual(['settings', 'capacity']);
    expect(peer.client.canOpenStream()).toBe(true);
  });

  it('starts the next header block with a table size update after HEADER_TABLE_SIZE (RFC 7541 §4.2)', () => {
    const peer = new Peer();
    peer.handshake();
    const mirror = new Encoder();
    const list = [...getRequest('/x'), ['x-custom', 'value-one']] as const;
    peer.client.openStream(list, true);
    peer.read();
    expect(peer.blocks[0]!.block).toEqual(Buffer.from(mirror.encode(list)));
    expect(peer.blocks[0]!.block[0]! & 0xe0).not.toBe(0x20);

    peer.receive(settingsFrame([[SettingId.HEADER_TABLE_SIZE, 0]]));
    peer.read();
    // The server's decoder now insists on the update (RFC 7541 §4.2).
    peer.decoder.setMaxTableSize(0);
    mirror.setMaxTableSize(0);
    peer.client.openStream(list, true);
    peer.read();
    const block = peer.blocks[1]!.block;
    expect(block[0]).toBe(0x20);
    expect(block).toEqual(Buffer.from(mirror.encode(list)));
    expect(peer.sentFields(3)).toEqual(list);

    // Only the first block after the change carries the update.
    peer.client.openStream(list, true);
    peer.read();
    expect(peer.blocks[2]!.block[0]! & 0xe0).not.toBe(0x20);
    expect(peer.blocks[2]!.block).toEqual(Buffer.from(mirror.encode(list)));
  });

  it('caps a huge peer HEADER_TABLE_SIZE at 65536 in the size update', () => {
    const peer = new Peer();
    peer.handshake([[SettingId.HEADER_TABLE_SIZE, 1 << 30]]);
    // The server's decoder allows what the server announced.
    peer.decoder.setMaxTableSize(1 << 30);
    peer.client.openStream(getRequest(), true);
    peer.read();
    const mirror = new Encoder();
    mirror.setMaxTableSize(65_536);
    // 0x3f then 65536 - 31 = 65505 in 7-bit groups: e1 ff 03.
    expect(hexOf(peer.blocks[0]!.block.subarray(0, 4))).toBe('3fe1ff03');
    expect(peer.blocks[0]!.block).toEqual(Buffer.from(mirror.encode(getRequest())));
  });

  it('bounds unsent SETTINGS ACKs like PING replies (ENHANCE_YOUR_CALM)', () => {
    const peer = new Peer({ maxQueuedControlFrames: 3 });
    peer.client.start();
    peer.read();
    const frames = Array.from({ length: 3 }, () => settingsFrame([]));
    expect(kinds(peer.receive(...frames))).toEqual(['settings', 'capacity', 'settings', 'capacity', 'settings', 'capacity']);
    expect(peer.client.isDead).toBe(false);
    const error = connectionErrorOf(peer.receive(settingsFrame([])));
    expect(error.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(peer.readDescribed()).toEqual(['SETTINGS ACK', 'SETTINGS ACK', 'SETTINGS ACK', 'GOAWAY last=0 ENHANCE_YOUR_CALM']);
  });
});

describe('streams and responses', () => {
  it('uses odd, increasing stream ids and sends the request block byte for byte', () => {
    const peer = new Peer();
    peer.handshake();
    const mirror = new Encoder();
    const ids: number[] = [];
    for (const path of ['/a', '/b', '/c']) {
      const list = getRequest(path);
      ids.push(peer.client.openStream(list, true));
      const expectedBlock = Buffer.from(mirror.encode(list));
      expect(peer.readDescribed()).toEqual([`HEADERS ${ids.at(-1)} len=${expectedBlock.length} END_STREAM|END_HEADERS`]);
      expect(peer.blocks.at(-1)!.block).toEqual(expectedBlock);
      expect(peer.sentFields(ids.at(-1)!)).toEqual(list);
    }
    expect(ids).toEqual([1, 3, 5]);
    const post = peer.client.openStream(getRequest('/p', 'POST'), false);
    expect(post).toBe(7);
    expect(peer.readDescribed()).toEqual([expect.stringMatching(/^HEADERS 7 len=\d+ END_HEADERS$/)]);
  });

  it('uses no stream id when the request cannot be encoded', () => {
    const peer = new Peer();
    peer.handshake();
    expect(() => peer.client.openStream([...getRequest(), ['x', '\u0100']], true)).toThrow(HPACKEncodingError);
    expect(peer.readDescribed()).toEqual([]);
    expect(peer.client.openStreams).toBe(0);
    expect(peer.open()).toBe(1);
    expect(peer.sentFields(1)).toEqual(getRequest());
  });

  it('reports response, data, END_STREAM, and frees the stream', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const head = peer.receive(peer.response(id, 200, [['content-type', 'text/plain'], ['x-a', 'b']]));
    expect(head.map(withPairs)).toEqual([{ type: 'response', streamId: 1, status: 200, headers: [['content-type', 'text/plain'], ['x-a', 'b']], endStream: false }]);
    const body = peer.receive(data(id, 'hello'));
    expect(kinds(body)).toEqual(['data 1']);
    const d = eventOf(body, 'data');
    expect(text(d.data)).toBe('hello');
    expect(d.flowSize).toBe(5);
    expect(d.endStream).toBe(false);
    const end = peer.receive(data(id, '', { endStream: true }));
    expect(end).toEqual([
      { type: 'data', streamId: 1, data: expect.any(Uint8Array), flowSize: 0, endStream: true },
      { type: 'streamEnd', streamId: 1 },
      { type: 'capacity' },
    ]);
    expect(peer.client.openStreams).toBe(0);
    expect(peer.readDescribed()).toEqual([]);
  });

  it('reports a response that ends on its HEADERS', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(peer.response(id, 200, [], { endStream: true }));
    expect(kinds(events)).toEqual(['response 1', 'streamEnd 1', 'capacity']);
    expect(eventOf(events, 'response').endStream).toBe(true);
  });

  it('reports 1xx responses as informational, then the final response', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(peer.response(id, 100), peer.response(id, 103, [['link', '</s.css>; rel=preload']]), peer.response(id, 200, [], { endStream: true }));
    expect(events.slice(0, 2).map(withPairs)).toEqual([
      { type: 'informational', streamId: 1, status: 100, headers: [] },
      { type: 'informational', streamId: 1, status: 103, headers: [['link', '</s.css>; rel=preload']] },
    ]);
    expect(kinds(events.slice(2))).toEqual(['response 1', 'streamEnd 1', 'capacity']);
  });

  it.each([
    ['a 1xx with END_STREAM', 100, true],
    ['101, which HTTP/2 forbids (§8.6)', 101, false],
  ])('treats %s as a malformed response', (_name, status, endStream) => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(peer.response(id, status, [], { endStream }));
    expectReset(peer, events, id, ErrorCode.PROTOCOL_ERROR);
  });

  it('reports trailers, which end the stream', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(
      peer.response(id, 200, [['trailer', 'x-checksum']]),
      data(id, 'abc'),
      peer.headers(id, [['x-checksum', '900150983cd24fb0']], { endStream: true }),
    );
    expect(kinds(events)).toEqual(['response 1', 'data 1', 'trailers 1', 'streamEnd 1', 'capacity']);
    expect(eventOf(events, 'trailers').headers.raw()).toEqual([['x-checksum', '900150983cd24fb0']]);
  });

  it.each([
    ['trailers without END_STREAM', [['x-t', '1']], false],
    ['a pseudo-header in trailers', [[':status', '200']], true],
    ['uppercase in trailers', [['X-T', '1']], true],
  ] as const)('resets the stream for %s', (_name, fields, endStream) => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200));
    const events = peer.receive(peer.headers(id, fields, { endStream }));
    expectReset(peer, events, id, ErrorCode.PROTOCOL_ERROR);
    roundTrip(peer);
  });

  it('goes open -> half-closed (remote) -> closed when the response ends before the request body', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open('/up', { method: 'POST', endStream: false });
    const events = peer.receive(peer.response(id, 200, [], { endStream: true }));
    expect(kinds(events)).toEqual(['response 1', 'streamEnd 1']);
    expect(peer.client.openStreams).toBe(1);
    peer.client.sendData(id, Buffer.from('body'), true);
    expect(peer.readDescribed()).toEqual(['DATA 1 len=4 END_STREAM']);
    expect(peer.client.openStreams).toBe(0);
    expect(kinds(peer.client.takeEvents())).toEqual(['capacity']);
  });

  it('goes half-closed (local) -> closed when the request ended first', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open('/up', { method: 'POST', endStream: false });
    peer.client.sendData(id, Buffer.from('body'), true);
    expect(peer.readDescribed()).toEqual(['DATA 1 len=4 END_STREAM']);
    expect(() => peer.client.sendData(id, Buffer.from('more'), false)).toThrow(ConnectionError);
    expect(peer.client.openStreams).toBe(1);
    expect(kinds(peer.receive(peer.response(id, 204, [], { endStream: true })))).toEqual(['response 1', 'streamEnd 1', 'capacity']);
    expect(peer.client.openStreams).toBe(0);
    expect(() => peer.client.sendData(id, Buffer.from('x'), true)).toThrow(/closed/);
  });

  it('resets the stream when DATA follows the peer END_STREAM (§5.1 half-closed remote)', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open('/up', { method: 'POST', endStream: false });
    peer.receive(peer.response(id, 200, [], { endStream: true }));
    const events = peer.receive(data(id, 'late'));
    expectReset(peer, events, id, ErrorCode.STREAM_CLOSED);
    roundTrip(peer);
  });

  it('resets the stream when HEADERS follow the peer END_STREAM', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open('/up', { method: 'POST', endStream: false });
    peer.receive(peer.response(id, 200, [], { endStream: true }));
    const events = peer.receive(peer.headers(id, [['x', 'y']], { endStream: true }));
    expectReset(peer, events, id, ErrorCode.STREAM_CLOSED);
  });

  it('treats DATA on a stream closed by both END_STREAMs as a connection error STREAM_CLOSED', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200, [], { endStream: true }));
    const events = peer.receive(data(id, 'late'));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.STREAM_CLOSED);
    expectGoaway(peer, ErrorCode.STREAM_CLOSED);
  });

  it('remembers the last 1024 closed streams; older ones are dropped as if reset', () => {
    const peer = new Peer();
    peer.handshake();
    const block = (): Buffer => Buffer.from([0x88]); // :status 200, static index 8
    for (let i = 0; i < 1025; i++) {
      const id = peer.client.openStream(getRequest(), true);
      peer.receive(headersFrame(id, block(), { endStream: true }));
    }
    peer.read();
    // Stream 1 is forgotten: a late frame on it is dropped, not a connection error.
    expect(peer.receive(data(1, 'late'))).toEqual([]);
    expect(peer.client.isDead).toBe(false);
    // Stream 3 is remembered as closed normally: DATA on it is an error.
    expect(connectionErrorOf(peer.receive(data(3, 'late'))).errorCode).toBe(ErrorCode.STREAM_CLOSED);
  });

  it('ignores WINDOW_UPDATE and RST_STREAM that cross our END_STREAM (§5.1)', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200, [], { endStream: true }));
    expect(peer.receive(windowUpdate(id, 100), rstStream(id, ErrorCode.NO_ERROR))).toEqual([]);
    expect(peer.readDescribed()).toEqual([]);
    roundTrip(peer);
  });

  it('resets a stream whose DATA comes before the response headers', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(data(id, 'early'));
    expectReset(peer, events, id, ErrorCode.PROTOCOL_ERROR);
  });
});

describe('content-length (§8.1.1)', () => {
  function withLength(value: string | string[]): [Peer, number, readonly SessionEvent[]] {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const values = Array.isArray(value) ? value : [value];
    const events = peer.receive(peer.response(id, 200, values.map((v) => ['content-length', v] as const)));
    return [peer, id, events];
  }

  it('accepts a body of exactly the declared length', () => {
    const [peer, id, head] = withLength('5');
    expect(kinds(head)).toEqual(['response 1']);
    expect(kinds(peer.receive(data(id, 'hel'), data(id, 'lo', { endStream: true })))).toEqual(['data 1', 'data 1', 'streamEnd 1', 'capacity']);
    expect(peer.readDescribed()).toEqual([]);
  });

  it('resets the stream when the body ends short', () => {
    const [peer, id] = withLength('10');
    const events = peer.receive(data(id, 'hello', { endStream: true }));
    const error = streamErrorOf(events, id);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(error.scope).toBe('stream');
    expect(kinds(events)).toEqual(['streamError 1', 'capacity']);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 1 PROTOCOL_ERROR']);
    roundTrip(peer);
  });

  it('resets the stream as soon as the body runs long, and drops the rest', () => {
    const [peer, id] = withLength('3');
    const events = peer.receive(data(id, 'ab'), data(id, 'cd'), data(id, 'ef', { endStream: true }));
    expect(kinds(events)).toEqual(['data 1', 'streamError 1', 'capacity']);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 1 PROTOCOL_ERROR']);
  });

  it('resets the stream when the response ends on HEADERS with a non-zero length', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(peer.response(id, 200, [['content-length', '4']], { endStream: true }));
    expectReset(peer, events, id, ErrorCode.PROTOCOL_ERROR);
  });

  it('accepts content-length 0 with END_STREAM on HEADERS', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    expect(kinds(peer.receive(peer.response(id, 200, [['content-length', '0']], { endStream: true })))).toEqual(['response 1', 'streamEnd 1', 'capacity']);
  });

  it('resets the stream when trailers arrive before the declared length', () => {
    const [peer, id] = withLength('6');
    const events = peer.receive(data(id, 'abc'), peer.headers(id, [['x-t', '1']], { endStream: true }));
    expect(kinds(events)).toEqual(['data 1', 'streamError 1', 'capacity']);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 1 PROTOCOL_ERROR']);
  });

  it.each([['abc'], ['-1'], ['1.5'], ['']])('resets the stream for content-length %j', (value) => {
    const [peer, id, events] = withLength(value);
    expectReset(peer, events, id, ErrorCode.PROTOCOL_ERROR);
  });

  it('accepts repeated equal values and rejects conflicting ones (RFC 9110 §8.6)', () => {
    const [same, sameId, sameEvents] = withLength(['4', '4, 4']);
    expect(kinds(sameEvents)).toEqual(['response 1']);
    expect(kinds(same.receive(data(sameId, 'abcd', { endStream: true })))).toEqual(['data 1', 'streamEnd 1', 'capacity']);
    const [conflict, id, events] = withLength(['4', '5']);
    expectReset(conflict, events, id, ErrorCode.PROTOCOL_ERROR);
  });

  it('ignores content-length on a HEAD response', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open('/', { method: 'HEAD' });
    const events = peer.receive(peer.response(id, 200, [['content-length', '1000']], { endStream: true }));
    expect(kinds(events)).toEqual(['response 1', 'streamEnd 1', 'capacity']);
    expect(peer.readDescribed()).toEqual([]);
  });

  it.each([[204], [304]])('ignores content-length on a %i response', (status) => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(peer.response(id, status, [['content-length', '1000']], { endStream: true }));
    expect(kinds(events)).toEqual(['response 1', 'streamEnd 1', 'capacity']);
    expect(peer.readDescribed()).toEqual([]);
  });

  it('tells the window manager the expected document size', () => {
    EagerManager.made = [];
    const peer = new Peer({ windowManager: EagerManager });
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200, [['content-length', '12345']]));
    // [0] is the connection's manager, [1] the stream's.
    expect(EagerManager.made).toHaveLength(2);
    expect(EagerManager.made[1]!.documentSize).toBe(12_345);
    expect(EagerManager.made[0]!.documentSize).toBeUndefined();
  });
});

describe('malformed response headers (§8.2, §8.3.2)', () => {
  const cases: Array<[string, Array<readonly [string, string]>]> = [
    ['an uppercase field name', [[':status', '200'], ['Content-Type', 'text/plain']]],
    ['a connection header', [[':status', '200'], ['connection', 'keep-alive']]],
    ['transfer-encoding', [[':status', '200'], ['transfer-encoding', 'chunked']]],
    ['TE other than trailers', [[':status', '200'], ['te', 'gzip']]],
    ['no :status', [['content-type', 'text/plain']]],
    ['a pseudo-header after a regular field', [['content-type', 'text/plain'], [':status', '200']]],
    ['a request pseudo-header', [[':status', '200'], [':path', '/']]],
    ['two :status', [[':status', '200'], [':status', '204']]],
    ['a non-numeric :status', [[':status', '2xx']]],
    ['a 4-digit :status', [[':status', '2000']]],
    ['an invalid field name', [[':status', '200'], ['bad name', 'x']]],
    ['an empty field name', [[':status', '200'], ['', 'x']]],
    ['CR in a value', [[':status', '200'], ['x-a', 'a\rb']]],
    ['LF in a value', [[':status', '200'], ['x-a', 'a\nb']]],
    ['NUL in a value', [[':status', '200'], ['x-a', 'a\0b']]],
  ];

  it.each(cases)('resets the stream for %s, and the connection carries on', (_name, fields) => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const other = peer.open('/other');
    const events = peer.receive(peer.headers(id, fields));
    const error = streamErrorOf(events, id);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe('HW_ERR_MALFORMED_RESPONSE');
    expect(error.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(error.scope).toBe('stream');
    expect(error.streamId).toBe(id);
    expect(kinds(events)).toEqual(['streamError 1', 'capacity']);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 1 PROTOCOL_ERROR']);
    expect(peer.client.isDead).toBe(false);
    // The other stream is untouched, and so is the HPACK state.
    expect(kinds(peer.receive(peer.response(other, 200, [], { endStream: true })))).toEqual(['response 3', 'streamEnd 3', 'capacity']);
    // Late frames on the stream we reset are dropped quietly.
    expect(peer.receive(data(id, 'late', { endStream: true }))).toEqual([]);
    roundTrip(peer);
  });
});

describe('CONTINUATION (§6.10)', () => {
  it('assembles a response block from HEADERS and CONTINUATION frames', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const block = peer.block([[':status', '200'], ['x-long', 'v'.repeat(300)], ['x-other', 'w']]);
    const frames = [
      headersFrame(id, block.subarray(0, 10), { endHeaders: false, endStream: true }),
      continuation(id, block.subarray(10, 10), false),
      continuation(id, block.subarray(10, 200), false),
      continuation(id, block.subarray(200), true),
    ];
    expect(peer.receive(frames[0]!, frames[1]!)).toEqual([]);
    const events = peer.receive(frames[2]!, frames[3]!);
    expect(withPairs(events[0]!)).toEqual({ type: 'response', streamId: 1, status: 200, headers: [['x-long', 'v'.repeat(300)], ['x-other', 'w']], endStream: true });
    expect(kinds(events)).toEqual(['response 1', 'streamEnd 1', 'capacity']);
  });

  it.each([
    ['DATA', (id: number): Frame => data(id, 'x')],
    ['PING', (): Frame => ping(Buffer.alloc(8))],
    ['HEADERS', (id: number): Frame => headersFrame(id, Buffer.from([0x88]))],
    ['an unknown type', (): Frame => ({ type: 0xfa, flags: 0, streamId: 0, payload: new Uint8Array(0) })],
  ])('treats %s in the middle of a block as a connection error, failing every stream', (_name, make) => {
    const peer = new Peer();
    peer.handshake();
    const first = peer.open();
    const second = peer.open('/2');
    const block = peer.block([[':status', '200']]);
    expect(peer.receive(headersFrame(first, block, { endHeaders: false }))).toEqual([]);
    const events = peer.receive(make(first));
    const error = connectionErrorOf(events);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(error.scope).toBe('connection');
    expect(kinds(events)).toEqual(['streamError 1', 'streamError 3', 'connectionError']);
    expect(streamErrorOf(events, first)).toBe(error);
    expect(streamErrorOf(events, second)).toBe(error);
    expectGoaway(peer, ErrorCode.PROTOCOL_ERROR);
    // Nothing more happens once the connection is over.
    expect(peer.receive(continuation(first, block, true))).toEqual([]);
    expect(peer.client.openStreams).toBe(0);
  });

  it('treats a malformed frame in the middle of a block as a connection error, not a stream error', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    peer.receive(headersFrame(id, peer.block([[':status', '200']]), { endHeaders: false }));
    // PRIORITY of 4 octets: alone a stream FRAME_SIZE_ERROR (§6.3), but here it interrupts the block.
    const bad = Buffer.from('000004' + '02' + '00' + '00000001' + '00000000', 'hex');
    const events = peer.receive(bad);
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(kinds(events)).toEqual(['streamError 1', 'connectionError']);
    expectGoaway(peer, ErrorCode.PROTOCOL_ERROR);
  });

  it('treats CONTINUATION on another stream as a connection error', () => {
    const peer = new Peer();
    peer.handshake();
    const first = peer.open();
    const second = peer.open('/2');
    peer.receive(headersFrame(first, peer.block([[':status', '200']]), { endHeaders: false }));
    const events = peer.receive(continuation(second, Buffer.alloc(0), true));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expectGoaway(peer, ErrorCode.PROTOCOL_ERROR);
  });

  it('treats CONTINUATION with no block in progress as a connection error', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(continuation(id, Buffer.from([0x88]), true));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expectGoaway(peer, ErrorCode.PROTOCOL_ERROR);
  });

  it('accepts up to maxContinuationFrames frames and answers one more with ENHANCE_YOUR_CALM', () => {
    const ok = new Peer({ maxContinuationFrames: 3 });
    ok.handshake();
    const okId = ok.open();
    const block = ok.block([[':status', '200']]);
    const empties = [continuation(okId, Buffer.alloc(0), false), continuation(okId, Buffer.alloc(0), false)];
    const events = ok.receive(headersFrame(okId, block, { endHeaders: false, endStream: true }), ...empties, continuation(okId, Buffer.alloc(0), true));
    expect(kinds(events)).toEqual(['response 1', 'streamEnd 1', 'capacity']);

    const flood = new Peer({ maxContinuationFrames: 3 });
    flood.handshake();
    const id = flood.open();
    const frames = [headersFrame(id, flood.block([[':status', '200']]), { endHeaders: false })];
    for (let i = 0; i < 4; i++) frames.push(continuation(id, Buffer.alloc(0), false));
    const error = connectionErrorOf(flood.receive(...frames));
    expect(error.code).toBe('HW_ERR_CONTINUATION_FLOOD');
    expect(error.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expectGoaway(flood, ErrorCode.ENHANCE_YOUR_CALM);
  });

  it('stops a flood of empty CONTINUATION frames at the default limit of 128', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const frames = [headersFrame(id, peer.block([[':status', '200']]), { endHeaders: false })];
    for (let i = 0; i < 128; i++) frames.push(continuation(id, Buffer.alloc(0), false));
    expect(peer.receive(...frames)).toEqual([]);
    expect(peer.client.isDead).toBe(false);
    const error = connectionErrorOf(peer.receive(continuation(id, Buffer.alloc(0), false)));
    expect(error.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expectGoaway(peer, ErrorCode.ENHANCE_YOUR_CALM);
  });

  it('answers a block over maxHeaderBlockSize with ENHANCE_YOUR_CALM, before it is decoded', () => {
    const peer = new Peer({ maxHeaderBlockSize: 1024 });
    peer.handshake();
    const id = peer.open();
    expect(peer.receive(headersFrame(id, Buffer.alloc(1000, 0x88), { endHeaders: false }))).toEqual([]);
    const error = connectionErrorOf(peer.receive(continuation(id, Buffer.alloc(25, 0x88), false)));
    expect(error.code).toBe('HW_ERR_HEADER_BLOCK_TOO_LARGE');
    expect(error.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expectGoaway(peer, ErrorCode.ENHANCE_YOUR_CALM);
  });

  it('answers a first fragment over maxHeaderBlockSize with ENHANCE_YOUR_CALM', () => {
    const peer = new Peer({ maxHeaderBlockSize: 1024 });
    peer.handshake();
    const id = peer.open();
    const error = connectionErrorOf(peer.receive(headersFrame(id, Buffer.alloc(1025, 0x88), { endHeaders: false })));
    expect(error.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expectGoaway(peer, ErrorCode.ENHANCE_YOUR_CALM);
  });
});

describe('PING (§6.7)', () => {
  it('answers a PING with an ACK carrying the same data, byte for byte', () => {
    const peer = new Peer();
    peer.handshake();
    const payload = Buffer.from('0102030405060708', 'hex');
    expect(peer.receive(ping(payload))).toEqual([]);
    expect(hexOf(peer.takeBytes())).toBe('000008' + '06' + '01' + '00000000' + '0102030405060708');
  });

  it('sends our PING and reports its ACK with the data', () => {
    const peer = new Peer();
    peer.handshake();
    peer.client.ping(Buffer.from('deadbeefcafef00d', 'hex'));
    expect(hexOf(peer.takeBytes())).toBe('000008' + '06' + '00' + '00000000' + 'deadbeefcafef00d');
    const events = peer.receive(ping(Buffer.from('deadbeefcafef00d', 'hex'), true));
    expect(events).toEqual([{ type: 'pingAck', data: new Uint8Array(Buffer.from('deadbeefcafef00d', 'hex')) }]);
    expect(peer.takeBytes()).toHaveLength(0);
    expect(() => peer.client.ping(new Uint8Array(7))).toThrow(RangeError);
  });

  it('answers a PING flood beyond maxQueuedControlFrames with ENHANCE_YOUR_CALM', () => {
    const peer = new Peer({ maxQueuedControlFrames: 10 });
    peer.handshake();
    const pings = Array.from({ length: 10 }, (_, i) => ping(Buffer.alloc(8, i)));
    expect(peer.receive(...pings)).toEqual([]);
    // The replies were taken: the count starts again.
    expect(peer.readDescribed()).toHaveLength(10);
    expect(peer.receive(...pings)).toEqual([]);
    expect(peer.client.isDead).toBe(false);
    const error = connectionErrorOf(peer.receive(ping(Buffer.alloc(8, 0xff))));
    expect(error.code).toBe('HW_ERR_CONTROL_FLOOD');
    expect(error.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    const out = peer.readDescribed();
    expect(out).toHaveLength(11);
    expect(out.slice(0, 10).every((line) => line.startsWith('PING ACK'))).toBe(true);
    expect(out[10]).toBe('GOAWAY last=0 ENHANCE_YOUR_CALM');
  });

  it('counts the default bound of 1000 queued replies', () => {
    const peer = new Peer();
    peer.handshake();
    const frame = encodeFrame(ping(Buffer.alloc(8)));
    expect(peer.client.receive(Buffer.concat(Array.from({ length: 1000 }, () => frame)))).toEqual([]);
    expect(connectionErrorOf(peer.client.receive(frame)).errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
  });

  it('refuses ping() once the connection is dead', () => {
    const peer = new Peer();
    peer.handshake();
    peer.receive(windowUpdate(0, 0));
    expect(() => peer.client.ping(Buffer.alloc(8))).toThrow(ProtocolError);
  });
});

describe('GOAWAY received (§6.8)', () => {
  it('refuses the streams above last-stream-id as retryable and lets the others finish', () => {
    const peer = new Peer();
    peer.handshake();
    const [a, b, c] = [peer.open('/a'), peer.open('/b'), peer.open('/c')];
    const events = peer.receive(goaway(b, ErrorCode.NO_ERROR, 'bye'));
    expect(kinds(events)).toEqual(['goaway', 'streamError 5']);
    const g = eventOf(events, 'goaway');
    expect(g.lastStreamId).toBe(3);
    expect(g.errorCode).toBe(ErrorCode.NO_ERROR);
    expect(text(g.debugData)).toBe('bye');
    const refused = streamErrorOf(events, c);
    expect(refused).toBeInstanceOf(StreamRefusedError);
    expect((refused as StreamRefusedError).retryable).toBe(true);
    expect(refused.streamId).toBe(5);
    expect(peer.client.canOpenStream()).toBe(false);
    expect(() => peer.client.openStream(getRequest(), true)).toThrow(ConnectionError);
    expect(peer.readDescribed()).toEqual([]);

    // Streams 1 and 3 were processed and complete; no capacity event follows.
    expect(kinds(peer.receive(peer.response(a, 200), data(a, 'A', { endStream: true })))).toEqual(['response 1', 'data 1', 'streamEnd 1']);
    expect(kinds(peer.receive(peer.response(b, 200, [], { endStream: true })))).toEqual(['response 3', 'streamEnd 3']);
    expect(peer.client.openStreams).toBe(0);
    expect(peer.client.isDead).toBe(false);
  });

  it('carries the error code and debug data of an error GOAWAY', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(goaway(0, ErrorCode.INTERNAL_ERROR, 'oops'));
    expect(eventOf(events, 'goaway')).toEqual({ type: 'goaway', lastStreamId: 0, errorCode: ErrorCode.INTERNAL_ERROR, debugData: new Uint8Array(Buffer.from('oops')) });
    expect(streamErrorOf(events, id)).toBeInstanceOf(StreamRefusedError);
  });

  it('accepts a second GOAWAY that lowers last-stream-id, and rejects one that raises it', () => {
    const peer = new Peer();
    peer.handshake();
    const [a, b] = [peer.open('/a'), peer.open('/b')];
    expect(kinds(peer.receive(goaway(b, ErrorCode.NO_ERROR)))).toEqual(['goaway']);
    expect(kinds(peer.receive(goaway(a, ErrorCode.NO_ERROR)))).toEqual(['goaway', 'streamError 3']);
    const events = peer.receive(goaway(b, ErrorCode.NO_ERROR));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(kinds(events)).toEqual(['streamError 1', 'connectionError']);
  });
});

describe('RST_STREAM (§6.4)', () => {
  it('fails the stream with StreamResetError carrying the peer code', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(rstStream(id, ErrorCode.INTERNAL_ERROR));
    expect(kinds(events)).toEqual(['streamError 1', 'capacity']);
    const error = streamErrorOf(events, id);
    expect(error).toBeInstanceOf(StreamResetError);
    expect(error.errorCode).toBe(ErrorCode.INTERNAL_ERROR);
    expect(error.scope).toBe('stream');
    expect(error.streamId).toBe(1);
    expect(peer.readDescribed()).toEqual([]);
    expect(peer.client.openStreams).toBe(0);
    roundTrip(peer);
  });

  it('keeps an unknown error code as a number', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    expect(streamErrorOf(peer.receive(rstStream(id, 0x1234)), id).errorCode).toBe(0x1234);
  });

  it('fails a REFUSED_STREAM stream with the retryable StreamRefusedError', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const error = streamErrorOf(peer.receive(rstStream(id, ErrorCode.REFUSED_STREAM)), id);
    expect(error).toBeInstanceOf(StreamRefusedError);
    expect((error as StreamRefusedError).retryable).toBe(true);
    expect(error.errorCode).toBe(ErrorCode.REFUSED_STREAM);
  });

  it('keeps a complete response when the server stops the request body with NO_ERROR (§8.1)', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open('/upload', { method: 'POST', endStream: false });
    peer.client.takeEvents();
    peer.client.sendData(id, Buffer.alloc(70_000), false);
    expect(peer.read()).toHaveLength(4);
    const response = peer.receive(peer.response(id, 413, [['content-length', '3']]), data(id, 'big', { endStream: true }));
    expect(kinds(response)).toEqual(['response 1', 'data 1', 'streamEnd 1']);
    const events = peer.receive(rstStream(id, ErrorCode.NO_ERROR));
    // No error: the stream closes, and a writer waiting for window is woken.
    expect(kinds(events)).toEqual(['capacity', 'writable 1']);
    expect(peer.client.openStreams).toBe(0);
    expect(peer.client.queuedData(id)).toBe(0);
    // The rest of the body is dropped, not sent and not an error.
    expect(peer.client.sendData(id, Buffer.alloc(10), false)).toBe(0);
    expect(peer.client.sendData(id, new Uint8Array(0), true)).toBe(0);
    peer.receive(windowUpdate(0, 100_000), windowUpdate(id, 100_000));
    expect(peer.readDescribed()).toEqual([]);
    roundTrip(peer);
  });

  it('reports RST_STREAM NO_ERROR before the response is complete as a reset', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open('/upload', { method: 'POST', endStream: false });
    peer.receive(peer.response(id, 200));
    const error = streamErrorOf(peer.receive(rstStream(id, ErrorCode.NO_ERROR)), id);
    expect(error).toBeInstanceOf(StreamResetError);
    expect(error.errorCode).toBe(ErrorCode.NO_ERROR);
    expect(() => peer.client.sendData(id, Buffer.alloc(1), true)).toThrow(/closed/);
  });

  it('resetStream() sends RST_STREAM CANCEL byte for byte and drops late frames on the stream', () => {
    const peer = new Peer({ connectionWindowSize: DEFAULT_WINDOW });
    peer.handshake();
    const id = peer.open();
    peer.client.resetStream(id);
    expect(hexOf(peer.takeBytes())).toBe('000004' + '03' + '00' + '00000001' + '00000008');
    expect(kinds(peer.client.takeEvents())).toEqual(['capacity']);
    expect(peer.client.openStreams).toBe(0);
    // A second reset of the same stream writes nothing.
    peer.client.resetStream(id);
    expect(peer.takeBytes()).toHaveLength(0);

    // The response that crossed the RST: its block adds 'x-a: 1' to the
    // dynamic table, which must still be decoded for the next block to make sense.
    const late = [peer.response(id, 200, [['x-a', '1']]), data(id, 10_000), rstStream(id, ErrorCode.CANCEL), windowUpdate(id, 5)];
    expect(peer.receive(...late)).toEqual([]);
    // The default manager gives the connection window back once a quarter of
    // it (65535 / 4) has come back: 10000 is not enough, 20000 is.
    expect(peer.readDescribed()).toEqual([]);
    expect(peer.receive(data(id, 10_000, { endStream: true }))).toEqual([]);
    expect(peer.readDescribed()).toEqual(['WINDOW_UPDATE 0 +20000']);

    const next = peer.open('/next');
    const block = peer.block([[':status', '200'], ['x-a', '1']]);
    // 0xbe: index 62, the newest dynamic table entry, which only the dropped block defined.
    expect(block[block.length - 1]).toBe(0xbe);
    const events = peer.receive(headersFrame(next, block, { endStream: true }));
    expect(eventOf(events, 'response').headers.raw()).toEqual([['x-a', '1']]);
  });

  it('returns the connection window of dropped DATA at once with an eager manager', () => {
    const peer = new Peer({ windowManager: EagerManager });
    peer.handshake();
    const id = peer.open();
    peer.client.resetStream(id, ErrorCode.REFUSED_STREAM);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 1 REFUSED_STREAM']);
    peer.receive(peer.response(id, 200), data(id, 300, { padding: 20 }));
    expect(peer.readDescribed()).toEqual(['WINDOW_UPDATE 0 +321']);
  });

  it('resetStream() on an unknown or closed stream does nothing', () => {
    const peer = new Peer();
    peer.handshake();
    peer.client.resetStream(99);
    const id = peer.open();
    peer.receive(peer.response(id, 200, [], { endStream: true }));
    peer.client.resetStream(id);
    expect(peer.readDescribed()).toEqual([]);
  });
});

describe('WINDOW_UPDATE (§6.9)', () => {
  it('treats an increment of 0 on the connection as a connection PROTOCOL_ERROR', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(windowUpdate(0, 0));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(streamErrorOf(events, id).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expectGoaway(peer, ErrorCode.PROTOCOL_ERROR);
  });

  it('treats an increment of 0 on a stream as a stream error', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(windowUpdate(id, 0));
    const error = streamErrorOf(events, id);
    expect(error.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(error.scope).toBe('stream');
    expect(peer.readDescribed()).toEqual(['RST_STREAM 1 PROTOCOL_ERROR']);
    roundTrip(peer);
  });

  it('allows the connection window to reach 2^31-1 exactly and not one more', () => {
    const peer = new Peer();
    peer.handshake();
    expect(peer.receive(windowUpdate(0, MAX_WINDOW - DEFAULT_WINDOW))).toEqual([]);
    const error = connectionErrorOf(peer.receive(windowUpdate(0, 1)));
    expect(error.errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expectGoaway(peer, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('resets a stream whose window passes 2^31-1 with FLOW_CONTROL_ERROR', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open('/', { endStream: false });
    peer.client.takeEvents();
    expect(kinds(peer.receive(windowUpdate(id, MAX_WINDOW - DEFAULT_WINDOW)))).toEqual(['writable 1']);
    const events = peer.receive(windowUpdate(id, 1));
    const error = streamErrorOf(events, id);
    expect(error.errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expect(error.scope).toBe('stream');
    expect(peer.readDescribed()).toEqual(['RST_STREAM 1 FLOW_CONTROL_ERROR']);
    expect(peer.client.isDead).toBe(false);
    roundTrip(peer);
  });

  it('treats DATA beyond the connection window as a connection FLOW_CONTROL_ERROR', () => {
    const peer = new Peer({ connectionWindowSize: DEFAULT_WINDOW, initialWindowSize: 1 << 20 });
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200));
    // 3 x 16384 + 16383 = 65535 fills the window exactly.
    const ok = peer.receive(data(id, 16_384), data(id, 16_384), data(id, 16_384), data(id, 16_383));
    expect(kinds(ok)).toEqual(['data 1', 'data 1', 'data 1', 'data 1']);
    const events = peer.receive(data(id, 1));
    const error = connectionErrorOf(events);
    expect(error.errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expect(error.scope).toBe('connection');
    expectGoaway(peer, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('counts padding against the windows (§6.9.1)', () => {
    const peer = new Peer({ initialWindowSize: 100 });
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200));
    // 50 octets + Pad Length octet + 49 padding = 100: fits.
    const ok = peer.receive(data(id, 50, { padding: 49 }));
    expect(kinds(ok)).toEqual(['data 1']);
    expect(eventOf(ok, 'data').flowSize).toBe(50);
    const second = new Peer({ initialWindowSize: 100 });
    second.handshake();
    const id2 = second.open();
    second.receive(second.response(id2, 200));
    const events = second.receive(data(id2, 50, { padding: 50 }));
    expectReset(second, events, id2, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('resets a stream that receives DATA beyond its window, and the connection carries on', () => {
    const peer = new Peer({ initialWindowSize: 100 });
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200));
    expect(kinds(peer.receive(data(id, 100)))).toEqual(['data 1']);
    const events = peer.receive(data(id, 1));
    const error = streamErrorOf(events, id);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe('HW_ERR_FLOW_CONTROL');
    expect(error.errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expect(error.scope).toBe('stream');
    expect(peer.readDescribed()).toEqual(['RST_STREAM 1 FLOW_CONTROL_ERROR']);
    roundTrip(peer);
  });
});

describe('sending DATA', () => {
  it('respects the stream and connection windows, queues the rest, and sends it as windows open', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open('/up', { method: 'POST', endStream: false });
    peer.client.takeEvents();
    const body = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256));
    expect(peer.client.sendData(id, body, false)).toBe(100_000 - 65_535);
    const sent: Buffer[] = [];
    const collect = (): string[] =>
      peer.read().map((f) => {
        if (f.type === FrameType.DATA) sent.push(Buffer.from(f.data));
        return describeFrame(f);
      });
    expect(collect()).toEqual(['DATA 1 len=16384', 'DATA 1 len=16384', 'DATA 1 len=16384', 'DATA 1 len=16383']);
    expect(peer.client.takeEvents()).toEqual([]);
    expect(peer.client.queuedData(id)).toBe(34_465);

    // The stream window opens, the connection's does not: nothing moves.
    expect(peer.receive(windowUpdate(id, 10_000))).toEqual([]);
    expect(collect()).toEqual([]);
    // The connection window opens by 5000: 5000 go.
    expect(peer.receive(windowUpdate(0, 5000))).toEqual([]);
    expect(collect()).toEqual(['DATA 1 len=5000']);
    // Plenty on the connection: the stream's remaining 5000 go.
    expect(peer.receive(windowUpdate(0, 1_000_000))).toEqual([]);
    expect(collect()).toEqual(['DATA 1 len=5000']);
    expect(peer.client.queuedData(id)).toBe(24_465);
    // The stream opens: the queue drains and the stream is writable again.
    expect(kinds(peer.receive(windowUpdate(id, 1_000_000)))).toEqual(['writable 1']);
    expect(collect()).toEqual(['DATA 1 len=16384', 'DATA 1 len=8081']);
    expect(peer.client.queuedData(id)).toBe(0);
    expect(Buffer.concat(sent)).toEqual(body);

    // Ending with no data left: one empty DATA frame with END_STREAM.
    expect(peer.client.sendData(id, new Uint8Array(0), true)).toBe(0);
    expect(hexOf(peer.takeBytes())).toBe('000000' + '00' + '01' + '00000001');
    expect(() => peer.client.sendData(id, Buffer.from('x'), true)).toThrow(ConnectionError);
  });

  it('sets END_STREAM on the last frame of a queued body', () => {
    const peer = new Peer();
    peer.handshake([[SettingId.INITIAL_WINDOW_SIZE, 10]]);
    const id = peer.open('/up', { method: 'POST', endStream: false });
    peer.client.sendData(id, Buffer.from('0123456789abcdef'), true);
    expect(peer.readDescribed()).toEqual(['DATA 1 len=10']);
    peer.receive(windowUpdate(id, 3));
    expect(peer.readDescribed()).toEqual(['DATA 1 len=3']);
    peer.receive(windowUpdate(id, 100));
    const frames = peer.read();
    expect(frames.map(describeFrame)).toEqual(['DATA 1 len=3 END_STREAM']);
    expect(hexOf(encodeFrame(frames[0]!))).toBe('000003' + '00' + '01' + '00000001' + Buffer.from('def').toString('hex'));
  });

  it('sends a body in several calls, with END_STREAM only on the end', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open('/up', { method: 'POST', endStream: false });
    peer.client.takeEvents();
    peer.client.sendData(id, Buffer.from('abc'), false);
    expect(kinds(peer.client.takeEvents())).toEqual(['writable 1']);
    peer.client.sendData(id, Buffer.from('de'), true);
    expect(peer.client.takeEvents()).toEqual([]);
    expect(peer.readDescribed()).toEqual(['DATA 1 len=3', 'DATA 1 len=2 END_STREAM']);
  });

  it('shares the connection window between streams and sends each queue when it opens', () => {
    const peer = new Peer();
    peer.handshake([[SettingId.INITIAL_WINDOW_SIZE, 1 << 20]]);
    const a = peer.open('/a', { method: 'POST', endStream: false });
    const b = peer.open('/b', { method: 'POST', endStream: false });
    peer.client.sendData(a, Buffer.alloc(60_000), true);
    peer.client.sendData(b, Buffer.alloc(10_000), true);
    expect(peer.readDescribed()).toEqual(['DATA 1 len=16384', 'DATA 1 len=16384', 'DATA 1 len=16384', 'DATA 1 len=10848 END_STREAM', 'DATA 3 len=5535']);
    expect(peer.client.queuedData(b)).toBe(4465);
    peer.receive(windowUpdate(0, 4465));
    expect(peer.readDescribed()).toEqual(['DATA 3 len=4465 END_STREAM']);
  });

  it('refuses sendData on a stream it does not know or that the peer reset', () => {
    const peer = new Peer();
    peer.handshake();
    expect(() => peer.client.sendData(1, Buffer.from('x'), true)).toThrow(ConnectionError);
    const id = peer.open('/up', { method: 'POST', endStream: false });
    peer.receive(rstStream(id, ErrorCode.CANCEL));
    expect(() => peer.client.sendData(id, Buffer.from('x'), true)).toThrow(/closed/);
  });

  it('drops the queue of a stream the peer resets, and the windows go to others', () => {
    const peer = new Peer();
    peer.handshake();
    const a = peer.open('/a', { method: 'POST', endStream: false });
    peer.client.sendData(a, Buffer.alloc(70_000), true);
    peer.read();
    peer.receive(rstStream(a, ErrorCode.CANCEL));
    peer.receive(windowUpdate(0, 10_000));
    expect(peer.readDescribed()).toEqual([]);
    const b = peer.open('/b', { method: 'POST', endStream: false });
    peer.client.sendData(b, Buffer.alloc(20_000), true);
    expect(peer.readDescribed()).toEqual(['DATA 3 len=10000']);
  });
});

describe('receive windows and consumed()', () => {
  it('gives window back once a quarter of the initial window is consumed', () => {
    const peer = new Peer({ initialWindowSize: 1000, connectionWindowSize: DEFAULT_WINDOW });
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200));
    const d = eventOf(peer.receive(data(id, 200)), 'data');
    peer.client.consumed(id, d.flowSize);
    // 200 * 4 < 1000: nothing yet.
    expect(peer.readDescribed()).toEqual([]);
    peer.receive(data(id, 50));
    peer.client.consumed(id, 50);
    expect(hexOf(peer.takeBytes())).toBe('000004' + '08' + '00' + '00000001' + '000000fa');
    // 750 more reach the quarter again on the stream; the connection's
    // quarter (16384 of 65535) is far off, so it waits.
    peer.receive(data(id, 750));
    peer.client.consumed(id, 750);
    expect(peer.readDescribed()).toEqual(['WINDOW_UPDATE 1 +750']);
  });

  it('gives the connection window back by the same rule', () => {
    const peer = new Peer({ initialWindowSize: 1 << 20, connectionWindowSize: DEFAULT_WINDOW });
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200), data(id, 16_383));
    peer.client.consumed(id, 16_383);
    expect(peer.readDescribed()).toEqual([]);
    peer.receive(data(id, 1));
    peer.client.consumed(id, 1);
    expect(peer.readDescribed()).toEqual(['WINDOW_UPDATE 0 +16384']);
  });

  it('bounds buffering: without consumed() the peer cannot send past the window', () => {
    const peer = new Peer({ initialWindowSize: 1000 });
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200));
    expect(kinds(peer.receive(data(id, 600), data(id, 400)))).toEqual(['data 1', 'data 1']);
    expect(peer.readDescribed()).toEqual([]);
    peer.client.consumed(id, 1000);
    expect(peer.readDescribed()).toEqual(['WINDOW_UPDATE 1 +1000']);
    expect(kinds(peer.receive(data(id, 1000)))).toEqual(['data 1']);
    expect(streamErrorOf(peer.receive(data(id, 1)), id).errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('gives back at once, below the quarter, when the window is exhausted (blocked)', () => {
    const peer = new Peer({ initialWindowSize: 1000 });
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200), data(id, 1000));
    peer.client.consumed(id, 100);
    expect(peer.readDescribed()).toEqual(['WINDOW_UPDATE 1 +100']);
    // The window is 100 now, not exhausted: back to the quarter rule.
    peer.client.consumed(id, 100);
    expect(peer.readDescribed()).toEqual([]);
  });

  it('sends no stream WINDOW_UPDATE once the peer has ended the stream, only the connection one', () => {
    const peer = new Peer({ windowManager: EagerManager });
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(peer.response(id, 200), data(id, 500, { endStream: true }));
    expect(kinds(events)).toEqual(['response 1', 'data 1', 'streamEnd 1', 'capacity']);
    peer.client.consumed(id, 500);
    expect(peer.readDescribed()).toEqual(['WINDOW_UPDATE 0 +500']);
  });

  it('sends no stream WINDOW_UPDATE on a half-closed (remote) stream whose request is still open', () => {
    const peer = new Peer({ windowManager: EagerManager });
    peer.handshake();
    const id = peer.open('/up', { method: 'POST', endStream: false });
    const events = peer.receive(peer.response(id, 200), data(id, 500, { endStream: true }));
    expect(kinds(events)).toEqual(['response 1', 'data 1', 'streamEnd 1']);
    expect(peer.client.openStreams).toBe(1);
    peer.client.consumed(id, 500);
    expect(peer.readDescribed()).toEqual(['WINDOW_UPDATE 0 +500']);
  });

  it('consumes padding on arrival: only the payload waits for the reader', () => {
    EagerManager.made = [];
    const peer = new Peer({ windowManager: EagerManager });
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(peer.response(id, 200), data(id, 'abc', { padding: 6 }));
    expect(eventOf(events, 'data').flowSize).toBe(3);
    // Pad Length octet + 6 padding octets.
    expect(peer.readDescribed()).toEqual(['WINDOW_UPDATE 0 +7', 'WINDOW_UPDATE 1 +7']);
    peer.client.consumed(id, 3);
    expect(peer.readDescribed()).toEqual(['WINDOW_UPDATE 0 +3', 'WINDOW_UPDATE 1 +3']);
    const [conn, stream] = EagerManager.made;
    expect(conn!.initialWindowSize).toBe(16 * 1024 * 1024);
    expect(stream!.initialWindowSize).toBe(4 * 1024 * 1024);
    expect(conn!.calls).toEqual([7, 3]);
    expect(stream!.calls).toEqual([7, 3]);
  });

  it('ignores consumed() of nothing and after the connection is dead', () => {
    const peer = new Peer({ windowManager: EagerManager });
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200), data(id, 10));
    peer.client.consumed(id, 0);
    expect(peer.readDescribed()).toEqual([]);
    peer.receive(windowUpdate(0, 0));
    peer.read();
    peer.client.consumed(id, 10);
    expect(peer.readDescribed()).toEqual([]);
  });
});

describe('frames to ignore', () => {
  it('ignores unknown frame types on any stream (§5.5)', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const unknown = (streamId: number): Frame => ({ type: 0xfa, flags: 0xff, streamId, payload: Buffer.from('anything') });
    expect(peer.receive(unknown(0), unknown(id), unknown(99))).toEqual([]);
    expect(peer.readDescribed()).toEqual([]);
    expect(kinds(peer.receive(peer.response(id, 200), unknown(id), data(id, 'x', { endStream: true })))).toEqual(['response 1', 'data 1', 'streamEnd 1', 'capacity']);
  });

  it('ignores PRIORITY on open, closed and idle streams (§5.3.2)', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    expect(peer.receive(priority(id, 0), priority(101, 3), priority(2, 0))).toEqual([]);
    peer.receive(peer.response(id, 200, [], { endStream: true }));
    expect(peer.receive(priority(id, 7))).toEqual([]);
    expect(peer.readDescribed()).toEqual([]);
    expect(peer.client.isDead).toBe(false);
  });

  it('resets a stream that PRIORITY makes depend on itself (§5.3.1)', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(priority(id, id));
    expectReset(peer, events, id, ErrorCode.PROTOCOL_ERROR);
    roundTrip(peer);
  });

  it('resets a stream whose HEADERS make it depend on itself, and keeps HPACK in step', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(peer.headers(id, [[':status', '200'], ['x-seen', 'once']], { priority: id }));
    expect(kinds(events)).toEqual(['streamError 1', 'capacity']);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 1 PROTOCOL_ERROR']);
    const next = peer.open('/n');
    const ok = peer.receive(peer.response(next, 200, [['x-seen', 'once']], { endStream: true }));
    expect(eventOf(ok, 'response').headers.raw()).toEqual([['x-seen', 'once']]);
  });

  it('accepts HEADERS with a priority on another stream', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    expect(kinds(peer.receive(peer.headers(id, [[':status', '200']], { priority: 0, endStream: true })))).toEqual(['response 1', 'streamEnd 1', 'capacity']);
  });
});

describe('frames on idle streams (§5.1)', () => {
  it.each([
    ['HEADERS on an odd stream not yet opened', (p: Peer): Frame => p.response(3, 200)],
    ['HEADERS on an even stream never promised', (p: Peer): Frame => p.response(2, 200)],
    ['DATA', (): Frame => data(5, 'x')],
    ['RST_STREAM', (): Frame => rstStream(3, ErrorCode.CANCEL)],
    ['WINDOW_UPDATE', (): Frame => windowUpdate(3, 10)],
  ])('treats %s as a connection PROTOCOL_ERROR', (_name, make) => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(make(peer));
    const error = connectionErrorOf(events);
    expect(error.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(streamErrorOf(events, id)).toBe(error);
    expectGoaway(peer, ErrorCode.PROTOCOL_ERROR);
  });
});

describe('HPACK errors', () => {
  it('treats an undecodable response block as a connection COMPRESSION_ERROR (§4.3)', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    // Indexed field with index 0, which RFC 7541 §6.1 forbids.
    const events = peer.receive(headersFrame(id, Buffer.from([0x80])));
    const error = connectionErrorOf(events);
    expect(error.errorCode).toBe(ErrorCode.COMPRESSION_ERROR);
    expect(streamErrorOf(events, id)).toBe(error);
    expectGoaway(peer, ErrorCode.COMPRESSION_ERROR);
  });

  it('treats a header list over maxHeaderListSize as a stream error only, and keeps HPACK in step', () => {
    const peer = new Peer({ maxHeaderListSize: 200 });
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(peer.response(id, 200, [['x-big', 'v'.repeat(300)], ['x-small', 's']]));
    const error = streamErrorOf(events, id);
    expect(error.code).toBe('HW_ERR_HEADER_LIST_SIZE');
    expect(error.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(error.scope).toBe('stream');
    expect(error.streamId).toBe(1);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 1 PROTOCOL_ERROR']);
    // x-small went into both tables; the next block refers to it by index.
    const next = peer.open('/n');
    const ok = peer.receive(peer.response(next, 200, [['x-small', 's']], { endStream: true }));
    expect(eventOf(ok, 'response').headers.raw()).toEqual([['x-small', 's']]);
  });

  it('requires the size update our smaller HEADER_TABLE_SIZE calls for, once acknowledged', () => {
    const peer = new Peer({ headerTableSize: 0 });
    peer.client.start();
    peer.read();
    peer.receive(settingsFrame([]));
    peer.read();
    const id = peer.open();
    // Before the ACK the 4096-octet table is still in force.
    expect(kinds(peer.receive(peer.response(id, 200, [['x-a', 'b']])))).toEqual(['response 1']);
    expect(kinds(peer.receive(settingsAck()))).toEqual(['settingsAck']);
    // A block without the update is a compression error.
    const events = peer.receive(headersFrame(id, Buffer.from([0x88]), { endStream: true }));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.COMPRESSION_ERROR);
  });

  it('accepts a block that starts with the required size update', () => {
    const peer = new Peer({ headerTableSize: 0 });
    peer.client.start();
    peer.read();
    peer.receive(settingsFrame([]), settingsAck());
    peer.read();
    const id = peer.open();
    peer.encoder.setMaxTableSize(0);
    expect(kinds(peer.receive(peer.response(id, 200, [['x-a', 'b']], { endStream: true })))).toEqual(['response 1', 'streamEnd 1', 'capacity']);
  });
});

describe('PUSH_PROMISE (§6.6, §8.4)', () => {
  const pushed = getRequest('/style.css');

  function pushPeer(opts: { maxConcurrentPushes?: number } = {}): [Peer, number] {
    const peer = new Peer({ enablePush: true, ...opts });
    peer.handshake();
    return [peer, peer.open()];
  }

  it('is a connection PROTOCOL_ERROR with push disabled', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    const events = peer.receive(peer.pushPromise(id, 2, pushed));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expectGoaway(peer, ErrorCode.PROTOCOL_ERROR);
  });

  it('reports a valid push, then its response and body on the promised stream', () => {
    const [peer, id] = pushPeer();
    const events = peer.receive(peer.pushPromise(id, 2, [...pushed, ['accept', 'text/css']]));
    expect(events).toEqual([
      {
        type: 'push',
        parentStreamId: 1,
        promisedStreamId: 2,
        request: { method: 'GET', scheme: 'https', authority: 'example.com', path: '/style.css', fields: [['accept', 'text/css']] },
      },
    ]);
    expect(peer.readDescribed()).toEqual([]);
    const response = peer.receive(peer.response(2, 200, [['content-type', 'text/css']]), data(2, 'body{}'));
    expect(withPairs(response[0]!)).toEqual({ type: 'response', streamId: 2, status: 200, headers: [['content-type', 'text/css']], endStream: false });
    expect(kinds(response)).toEqual(['response 2', 'data 2']);
    expect(text(eventOf(response, 'data').data)).toBe('body{}');
    expect(kinds(peer.receive(data(2, '', { endStream: true })))).toEqual(['data 2', 'streamEnd 2']);
    // The parent stream is independent.
    expect(kinds(peer.receive(peer.response(id, 200, [], { endStream: true })))).toEqual(['response 1', 'streamEnd 1', 'capacity']);
    expect(peer.readDescribed()).toEqual([]);
  });

  it('accepts a promise split over CONTINUATION frames', () => {
    const [peer, id] = pushPeer();
    const block = peer.block(pushed);
    const promise: Frame = { type: FrameType.PUSH_PROMISE, flags: 0, streamId: id, padding: 0, promisedStreamId: 2, headerBlockFragment: block.subarray(0, 3) };
    expect(peer.receive(promise)).toEqual([]);
    expect(kinds(peer.receive(continuation(id, block.subarray(3), true)))).toEqual(['push']);
  });

  it.each([
    ['an odd promised id', 3],
    ['promised id 0', 0],
  ])('treats %s as a connection PROTOCOL_ERROR', (_name, promised) => {
    const [peer, id] = pushPeer();
    const events = peer.receive(peer.pushPromise(id, promised, pushed));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it.each([
    ['a reused promised id', 2, 2],
    ['a lower promised id', 4, 2],
  ])('treats %s as a connection PROTOCOL_ERROR', (_name, firstId, secondId) => {
    const [peer, id] = pushPeer();
    expect(kinds(peer.receive(peer.pushPromise(id, firstId, pushed)))).toEqual(['push']);
    const events = peer.receive(peer.pushPromise(id, secondId, getRequest('/other.css')));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(kinds(events)).toEqual(['streamError 1', `streamError ${firstId}`, 'connectionError']);
    // The GOAWAY names the last stream the peer initiated.
    expectGoaway(peer, ErrorCode.PROTOCOL_ERROR, firstId);
  });

  it('treats a promise on a stream that is not an open request stream as a connection error', () => {
    const [peer, id] = pushPeer();
    peer.receive(peer.response(id, 200, [], { endStream: true }));
    const events = peer.receive(peer.pushPromise(id, 2, pushed));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('refuses a push with an unsafe method on the promised stream only', () => {
    const [peer, id] = pushPeer();
    const events = peer.receive(peer.pushPromise(id, 2, getRequest('/form', 'POST')));
    expect(events).toEqual([]);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 2 PROTOCOL_ERROR']);
    // Frames that crossed the RST on the promised stream are dropped; the parent goes on.
    expect(peer.receive(peer.response(2, 200), data(2, 'x', { endStream: true }))).toEqual([]);
    expect(kinds(peer.receive(peer.response(id, 200, [], { endStream: true })))).toEqual(['response 1', 'streamEnd 1', 'capacity']);
    expect(peer.client.isDead).toBe(false);
  });

  it.each([
    ['no :path', [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com']]],
    ['a connection header', [...getRequest('/a'), ['connection', 'close']]],
    ['a :status', [...getRequest('/a'), [':status', '200']]],
  ] as Array<[string, Array<[string, string]>]>)('refuses a push with %s', (_name, fields) => {
    const [peer, id] = pushPeer();
    expect(peer.receive(peer.pushPromise(id, 2, fields))).toEqual([]);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 2 PROTOCOL_ERROR']);
  });

  it('refuses a promise whose request is over maxHeaderListSize, keeping HPACK in step', () => {
    const peer = new Peer({ enablePush: true, maxHeaderListSize: 300 });
    peer.handshake();
    const id = peer.open();
    expect(peer.receive(peer.pushPromise(id, 2, [...pushed, ['x-big', 'b'.repeat(300)], ['x-later', 'l']]))).toEqual([]);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 2 PROTOCOL_ERROR']);
    const events = peer.receive(peer.response(id, 200, [['x-later', 'l']], { endStream: true }));
    expect(eventOf(events, 'response').headers.raw()).toEqual([['x-later', 'l']]);
  });

  it('refuses pushes beyond maxConcurrentPushes with REFUSED_STREAM, and accepts again after one ends', () => {
    const [peer, id] = pushPeer({ maxConcurrentPushes: 1 });
    expect(kinds(peer.receive(peer.pushPromise(id, 2, pushed)))).toEqual(['push']);
    expect(peer.receive(peer.pushPromise(id, 4, getRequest('/b.css')))).toEqual([]);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 4 REFUSED_STREAM']);
    peer.receive(peer.response(2, 200, [], { endStream: true }));
    expect(kinds(peer.receive(peer.pushPromise(id, 6, getRequest('/c.css'))))).toEqual(['push']);
  });

  it('treats DATA on a promised stream before its HEADERS as a connection error', () => {
    const [peer, id] = pushPeer();
    peer.receive(peer.pushPromise(id, 2, pushed));
    const events = peer.receive(data(2, 'x'));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(kinds(events)).toEqual(['streamError 1', 'streamError 2', 'connectionError']);
  });

  it('lets a promised stream be reset by either side', () => {
    const [peer, id] = pushPeer({ maxConcurrentPushes: 1 });
    peer.receive(peer.pushPromise(id, 2, pushed));
    const events = peer.receive(rstStream(2, ErrorCode.CANCEL));
    expect(streamErrorOf(events, 2)).toBeInstanceOf(StreamResetError);
    // The slot is free again.
    expect(kinds(peer.receive(peer.pushPromise(id, 4, pushed)))).toEqual(['push']);
    peer.client.resetStream(4);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 4 CANCEL']);
    expect(kinds(peer.receive(peer.pushPromise(id, 6, pushed)))).toEqual(['push']);
  });

  it('cancels a promise that crossed our RST_STREAM of the parent', () => {
    const [peer, id] = pushPeer();
    peer.client.resetStream(id);
    expect(kinds(peer.client.takeEvents())).toEqual(['capacity']);
    peer.read();
    expect(peer.receive(peer.pushPromise(id, 2, pushed))).toEqual([]);
    expect(peer.readDescribed()).toEqual(['RST_STREAM 2 CANCEL']);
    expect(peer.receive(peer.response(2, 200, [], { endStream: true }))).toEqual([]);
  });

  it('fails pushed streams too on a connection error', () => {
    const [peer, id] = pushPeer();
    peer.receive(peer.pushPromise(id, 2, pushed), peer.response(2, 200));
    const events = peer.receive(windowUpdate(0, 0));
    expect(kinds(events)).toEqual(['streamError 1', 'streamError 2', 'connectionError']);
  });
});

describe('our GOAWAY and terminate()', () => {
  it('goaway() stops new streams and lets open ones finish', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    peer.client.goaway();
    expect(hexOf(peer.takeBytes())).toBe('000008' + '07' + '00' + '00000000' + '00000000' + '00000000');
    expect(peer.client.canOpenStream()).toBe(false);
    expect(peer.client.isDead).toBe(false);
    expect(kinds(peer.receive(peer.response(id, 200, [], { endStream: true })))).toEqual(['response 1', 'streamEnd 1']);
    // Only one GOAWAY goes out.
    peer.client.goaway();
    expect(peer.takeBytes()).toHaveLength(0);
  });

  it('is over once GOAWAY went both ways and the last stream closed', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    peer.client.goaway();
    peer.read();
    peer.receive(goaway(id, ErrorCode.NO_ERROR));
    expect(peer.client.isDead).toBe(false);
    peer.receive(peer.response(id, 200, [], { endStream: true }));
    expect(peer.client.isDead).toBe(true);
  });

  it('is not over after GOAWAY one way only, even with nothing open', () => {
    const peer = new Peer();
    peer.handshake();
    peer.receive(goaway(0, ErrorCode.NO_ERROR));
    expect(peer.client.isDead).toBe(false);
    const other = new Peer();
    other.handshake();
    other.client.goaway();
    expect(other.client.isDead).toBe(false);
  });

  it('goaway() with an error code ends the connection', () => {
    const peer = new Peer();
    peer.handshake();
    peer.client.goaway(ErrorCode.INTERNAL_ERROR, 'bye');
    const frames = peer.read();
    expect(frames.map(describeFrame)).toEqual(['GOAWAY last=0 INTERNAL_ERROR']);
    expect(frames[0]!.type === FrameType.GOAWAY && text(frames[0].debugData)).toBe('bye');
    expect(peer.client.isDead).toBe(true);
    expect(peer.receive(ping(Buffer.alloc(8)))).toEqual([]);
  });

  it('terminate() fails every open stream with the given error', () => {
    const peer = new Peer();
    peer.handshake();
    const [a, b] = [peer.open('/a'), peer.open('/b')];
    const error = new ConnectionError('HW_ERR_SOCKET', 'socket closed');
    const events = peer.client.terminate(error);
    expect(kinds(events)).toEqual([`streamError ${a}`, `streamError ${b}`]);
    expect(streamErrorOf(events, a)).toBe(error);
    expect(peer.client.isDead).toBe(true);
    expect(peer.client.terminate(error)).toEqual([]);
  });
});

describe('input in any chunking', () => {
  /** A conversation with a bit of everything, as the bytes the server writes. */
  function script(peer: Peer): Buffer {
    const block = peer.block([[':status', '200'], ['x-long', 'z'.repeat(100)]]);
    const frames: Frame[] = [
      settingsFrame([[SettingId.MAX_CONCURRENT_STREAMS, 10]]),
      settingsAck(),
      headersFrame(1, block.subarray(0, 7), { endHeaders: false }),
      continuation(1, block.subarray(7), true),
      data(1, 'first chunk'),
      ping(Buffer.from('0011223344556677', 'hex')),
      peer.response(3, 404, [['content-length', '4']]),
      data(1, 'second', { padding: 3 }),
      data(3, 'gone', { endStream: true }),
      { type: 0xfb, flags: 0, streamId: 0, payload: Buffer.from('ext') },
      peer.headers(1, [['x-trailer', 't']], { endStream: true }),
    ];
    return Buffer.concat(frames.map((f) => encodeFrame(f)));
  }

  // An unpadded DATA frame that straddles chunks arrives as several data
  // events (zero-copy pieces, END_STREAM on the last): consecutive data
  // events of one stream are joined, in every chunking alike, so that all
  // compare equal.
  function normalise(events: SessionEvent[]): unknown[] {
    const out: SessionEvent[] = [];
    for (const e of events) {
      const prev = out[out.length - 1];
      if (e.type === 'data' && prev !== undefined && prev.type === 'data' && prev.streamId === e.streamId && !prev.endStream) {
        out[out.length - 1] = { ...prev, data: Buffer.concat([prev.data, e.data]), flowSize: prev.flowSize + e.flowSize, endStream: e.endStream };
      } else {
        out.push(e);
      }
    }
    return out.map((e) => (e.type === 'data' ? { ...e, data: text(e.data) } : e));
  }

  function run(split: (bytes: Uint8Array) => Uint8Array[]): { events: unknown[]; out: string[] } {
    const peer = new Peer();
    peer.client.start();
    peer.read();
    peer.client.openStream(getRequest('/1'), true);
    peer.client.openStream(getRequest('/3'), true);
    peer.read();
    const events: SessionEvent[] = [];
    for (const chunk of split(script(peer))) events.push(...peer.client.receive(chunk));
    return { events: normalise(events), out: peer.readDescribed() };
  }

  it('reports the same events and writes the same frames whole, byte by byte, and in random splits', () => {
    const whole = run((b) => [b]);
    // The 4 octets of padding are consumed, but too few for the default manager to give back.
    expect(whole.out).toEqual(['SETTINGS ACK', 'PING ACK 0011223344556677']);
    expect(kinds(whole.events as SessionEvent[])).toEqual([
      'settings',
      'capacity',
      'settingsAck',
      'response 1',
      'data 1',
      'response 3',
      'data 1',
      'data 3',
      'streamEnd 3',
      'capacity',
      'trailers 1',
      'streamEnd 1',
      'capacity',
    ]);
    expect(run(everyByte)).toEqual(whole);
    for (let seed = 1; seed <= 20; seed++) expect(run((b) => randomSplits(b, seed))).toEqual(whole);
  });
});

describe('errors are HyperwireErrors with a code', () => {
  it('gives every connection error a stable code, a wire code and connection scope', () => {
    const peer = new Peer();
    peer.handshake();
    const error = connectionErrorOf(peer.receive(windowUpdate(0, 0)));
    expect(error).toBeInstanceOf(HyperwireError);
    expect(error.code).toBe('HW_ERR_PROTOCOL');
    expect(error.scope).toBe('connection');
    const goawayFrame = encodeFrame({ type: FrameType.GOAWAY, flags: 0, streamId: 0, lastStreamId: 0, errorCode: ErrorCode.PROTOCOL_ERROR, debugData: Buffer.from(error.message) });
    expect(hexOf(peer.takeBytes())).toBe(hexOf(goawayFrame));
  });

  it('reports a frame the reader rejects on one stream as a stream error', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    // PRIORITY of 4 octets instead of 5: a stream FRAME_SIZE_ERROR (§6.3).
    const bad = Buffer.from('000004' + '02' + '00' + '00000001' + '00000000', 'hex');
    const events = peer.receive(bad);
    expectReset(peer, events, id, ErrorCode.FRAME_SIZE_ERROR);
    roundTrip(peer);
  });

  it('reports a frame over our MAX_FRAME_SIZE as a connection FRAME_SIZE_ERROR', () => {
    const peer = new Peer();
    peer.handshake();
    const id = peer.open();
    peer.receive(peer.response(id, 200));
    const events = peer.receive(data(id, 16_385));
    expect(connectionErrorOf(events).errorCode).toBe(ErrorCode.FRAME_SIZE_ERROR);
    expectGoaway(peer, ErrorCode.FRAME_SIZE_ERROR);
  });
});
