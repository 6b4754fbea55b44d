/**
 * HTTP20Connection against a scripted raw-frame server (h2c): protocol
 * violations no real server commits on demand. Each must give a typed error
 * on the right call, the right frame to the peer, and no hang.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConnectionError,
  encodeFrame,
  ErrorCode,
  Flag,
  FrameType,
  HTTP20Connection,
  HyperwireError,
  type Frame,
} from '../../lib/index.js';
import { rawServer, type RawPeer, type RawServer } from '../helpers/raw-server.js';

let server: RawServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** Starts a scripted server and a client connection to it. */
async function setup(
  script: (peer: RawPeer) => Promise<void>,
  options: ConstructorParameters<typeof HTTP20Connection>[1] = {},
): Promise<HTTP20Connection> {
  server = await rawServer(async (peer) => {
    peer.settings();
    await script(peer);
  });
  return new HTTP20Connection(`127.0.0.1:${server.port}`, { secure: false, timeout: 5000, ...options });
}

/** The first frame of `type` the client sends. */
function ofType(type: number): (f: Frame) => boolean {
  return (f) => f.type === type;
}

function headersFrame(streamId: number, block: Uint8Array, flags: number = Flag.END_HEADERS): Buffer {
  return encodeFrame({ type: FrameType.HEADERS, flags, streamId, padding: 0, exclusive: false, streamDependency: 0, weight: 16, headerBlockFragment: block });
}

function dataFrame(streamId: number, data: Uint8Array, flags: number = 0): Buffer {
  return encodeFrame({ type: FrameType.DATA, flags, streamId, padding: 0, data });
}

async function rejection(p: Promise<unknown>): Promise<HyperwireError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HyperwireError);
  return err as HyperwireError;
}

/** vi.waitFor() bounds for a frame to reach the peer: up to 2 s (its view lags the client's by a hop). */
const PEER_LAG = { timeout: 2_000, interval: 20 };

describe('scripted server', () => {
  it('DATA beyond the stream window: RST_STREAM FLOW_CONTROL_ERROR, the stream fails, the connection goes on', async () => {
    let rst: Frame | undefined;
    const conn = await setup(
      async (peer) => {
        await peer.next(ofType(FrameType.HEADERS));
        peer.write(headersFrame(1, peer.headers([[':status', '200']])));
        // 5 x 16384 octets against a 65535-octet stream window.
        for (let i = 0; i < 5; i++) peer.write(dataFrame(1, new Uint8Array(16384)));
        rst = await peer.next(ofType(FrameType.RST_STREAM));
        await peer.next(ofType(FrameType.HEADERS));
        peer.write(headersFrame(3, peer.headers([[':status', '204']]), Flag.END_HEADERS | Flag.END_STREAM));
        await peer.closed;
      },
      { initialWindowSize: 65_535 },
    );
    const r = await conn.getResponse(await conn.request('GET', '/'));
    // Read nothing until the overrun: reading gives window back, and the
    // script ignores WINDOW_UPDATE.
    await vi.waitFor(() => expect(rst).toMatchObject({ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.FLOW_CONTROL_ERROR }), PEER_LAG);
    const err = await rejection(r.read());
    expect(err.errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expect(err.scope).toBe('stream');
    const ok = await conn.getResponse(await conn.request('GET', '/next'));
    expect(ok.status).toBe(204);
    await conn.close();
  });

  it('bad HPACK: GOAWAY COMPRESSION_ERROR and every call fails', async () => {
    let goaway: Frame | undefined;
    const conn = await setup(async (peer) => {
      await peer.next(ofType(FrameType.HEADERS));
      await peer.next(ofType(FrameType.HEADERS));
      // Indexed field 0 is never valid (RFC 7541 §6.1).
      peer.write(headersFrame(1, Uint8Array.of(0x80)));
      goaway = await peer.next(ofType(FrameType.GOAWAY));
    });
    const a = await conn.request('GET', '/a');
    const b = await conn.request('GET', '/b');
    const [ea, eb] = [await rejection(conn.getResponse(a)), await rejection(conn.getResponse(b))];
    expect(ea.errorCode).toBe(ErrorCode.COMPRESSION_ERROR);
    expect(ea.scope).toBe('connection');
    expect(eb.errorCode).toBe(ErrorCode.COMPRESSION_ERROR);
    await expect(conn.request('GET', '/c')).rejects.toBeInstanceOf(HyperwireError);
    await vi.waitFor(() => expect(goaway).toMatchObject({ type: FrameType.GOAWAY, errorCode: ErrorCode.COMPRESSION_ERROR }), PEER_LAG);
  });

  it('PUSH_PROMISE with push disabled: GOAWAY PROTOCOL_ERROR', async () => {
    let goaway: Frame | undefined;
    const conn = await setup(async (peer) => {
      await peer.next(ofType(FrameType.HEADERS));
      peer.write(
        encodeFrame({
          type: FrameType.PUSH_PROMISE,
          flags: Flag.END_HEADERS,
          streamId: 1,
          padding: 0,
          promisedStreamId: 2,
          headerBlockFragment: peer.headers([
            [':method', 'GET'],
            [':scheme', 'http'],
            [':authority', 'x'],
            [':path', '/p'],
          ]),
        }),
      );
      goaway = await peer.next(ofType(FrameType.GOAWAY));
    });
    const err = await rejection(conn.getResponse(await conn.request('GET', '/')));
    expect(err.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    await vi.waitFor(() => expect(goaway).toMatchObject({ errorCode: ErrorCode.PROTOCOL_ERROR }), PEER_LAG);
  });

  it('a CONTINUATION flood: GOAWAY ENHANCE_YOUR_CALM, quickly', async () => {
    let goaway: Frame | undefined;
    const conn = await setup(async (peer) => {
      await peer.next(ofType(FrameType.HEADERS));
      peer.write(headersFrame(1, peer.headers([[':status', '200']]).subarray(0, 0), 0));
      const empty = encodeFrame({ type: FrameType.CONTINUATION, flags: 0, streamId: 1, headerBlockFragment: new Uint8Array(0) });
      peer.write(Buffer.concat(Array.from({ length: 10_000 }, () => empty)));
      goaway = await peer.next(ofType(FrameType.GOAWAY));
    });
    const err = await rejection(conn.getResponse(await conn.request('GET', '/')));
    expect(err.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    await vi.waitFor(() => expect(goaway).toMatchObject({ errorCode: ErrorCode.ENHANCE_YOUR_CALM }), PEER_LAG);
  });

  it('PINGs are answered; a PING flood beyond the bound is ENHANCE_YOUR_CALM', async () => {
    const acks: Frame[] = [];
    let goaway: Frame | undefined;
    const ping = (i: number): Buffer => encodeFrame({ type: FrameType.PING, flags: 0, streamId: 0, ack: false, opaqueData: Buffer.from(`ping${String(i).padStart(4, '0')}`) });
    const conn = await setup(
      async (peer) => {
        await peer.next(ofType(FrameType.HEADERS));
        peer.write(Buffer.concat([ping(1), ping(2), ping(3)]));
        for (let i = 0; i < 3; i++) acks.push(await peer.next(ofType(FrameType.PING)));
        peer.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => ping(i))));
        goaway = await peer.next(ofType(FrameType.GOAWAY));
      },
      { maxQueuedControlFrames: 20 },
    );
    const err = await rejection(conn.getResponse(await conn.request('GET', '/')));
    expect(err.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(acks.map((f) => (f.type === FrameType.PING ? [f.ack, Buffer.from(f.opaqueData).toString()] : null))).toEqual([
      [true, 'ping0001'],
      [true, 'ping0002'],
      [true, 'ping0003'],
    ]);
    await vi.waitFor(() => expect(goaway).toBeDefined(), PEER_LAG);
  });

  it('WINDOW_UPDATE of 0: on a stream RST_STREAM PROTOCOL_ERROR, on the connection GOAWAY', async () => {
    let rst: Frame | undefined;
    let goaway: Frame | undefined;
    const conn = await setup(async (peer) => {
      await peer.next(ofType(FrameType.HEADERS));
      peer.write(encodeFrame({ type: FrameType.WINDOW_UPDATE, flags: 0, streamId: 1, windowSizeIncrement: 0 }));
      rst = await peer.next(ofType(FrameType.RST_STREAM));
      await peer.next(ofType(FrameType.HEADERS));
      peer.write(encodeFrame({ type: FrameType.WINDOW_UPDATE, flags: 0, streamId: 0, windowSizeIncrement: 0 }));
      goaway = await peer.next(ofType(FrameType.GOAWAY));
    });
    const e1 = await rejection(conn.getResponse(await conn.request('GET', '/1')));
    expect(e1.scope).toBe('stream');
    expect(e1.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    await vi.waitFor(() => expect(rst).toMatchObject({ streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR }), PEER_LAG);
    const e2 = await rejection(conn.getResponse(await conn.request('GET', '/2')));
    expect(e2.scope).toBe('connection');
    await vi.waitFor(() => expect(goaway).toMatchObject({ errorCode: ErrorCode.PROTOCOL_ERROR }), PEER_LAG);
  });

  it('early close mid-body: the read fails with ConnectionError, nothing hangs', async () => {
    const conn = await setup(async (peer) => {
      await peer.next(ofType(FrameType.HEADERS));
      peer.write(headersFrame(1, peer.headers([[':status', '200'], ['content-length', '1000']])));
      peer.write(dataFrame(1, new Uint8Array(100)));
      setTimeout(() => peer.close(), 20);
    });
    const r = await conn.getResponse(await conn.request('GET', '/'));
    const err = await rejection(r.read());
    expect(err).toBeInstanceOf(ConnectionError);
    await expect(conn.request('GET', '/again')).rejects.toBeInstanceOf(ConnectionError);
  });

  it('content-length that disagrees with DATA, and a malformed header, fail only their streams', async () => {
    const conn = await setup(async (peer) => {
      await peer.next(ofType(FrameType.HEADERS));
      await peer.next(ofType(FrameType.HEADERS));
      await peer.next(ofType(FrameType.HEADERS));
      peer.write(headersFrame(1, peer.headers([[':status', '200'], ['content-length', '10']])));
      peer.write(dataFrame(1, new Uint8Array(4), Flag.END_STREAM));
      peer.write(headersFrame(3, peer.headers([[':status', '200'], ['X-Upper', 'v']]), Flag.END_HEADERS | Flag.END_STREAM));
      peer.write(headersFrame(5, peer.headers([[':status', '200'], ['content-length', '2']])));
      peer.write(dataFrame(5, Buffer.from('ok'), Flag.END_STREAM));
      await peer.closed;
    });
    const ids = [await conn.request('GET', '/1'), await conn.request('GET', '/3'), await conn.request('GET', '/5')];
    const r1 = await conn.getResponse(ids[0]);
    const e1 = await rejection(r1.read());
    expect(e1.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(e1.scope).toBe('stream');
    const e3 = await rejection(conn.getResponse(ids[1]));
    expect(e3.code).toBe('HW_ERR_MALFORMED_RESPONSE');
    const r5 = await conn.getResponse(ids[2]);
    expect((await r5.read()).toString()).toBe('ok');
    await conn.close();
  });

  it('requests beyond MAX_CONCURRENT_STREAMS wait in a queue instead of failing', async () => {
    let opened = 0;
    const conn = await setup(async (peer) => {
      peer.settings([[0x3, 2]]);
      for (let i = 0; i < 5; i++) {
        const f = await peer.next(ofType(FrameType.HEADERS));
        opened++;
        peer.write(headersFrame(f.streamId, peer.headers([[':status', '200'], ['x-id', String(f.streamId)]]), Flag.END_HEADERS | Flag.END_STREAM));
      }
      await peer.closed;
    });
    const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => conn.request('GET', `/${i}`)));
    expect(ids).toEqual([1, 3, 5, 7, 9]);
    for (const id of ids) expect((await conn.getResponse(id)).headers.get('x-id')).toEqual([String(id)]);
    expect(opened).toBe(5);
    await conn.close();
  });
});
