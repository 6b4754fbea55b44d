/**
 * Interop with Node's own http2 server (nghttp2 underneath), over TLS:
 * trailers, resets mid-body, GOAWAY mid-flight, 1xx, encoded bodies, stalls.
 */

import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  HTTP20Connection,
  StreamRefusedError,
  StreamResetError,
  TimeoutError,
  TLSError,
} from '../../lib/index.js';

const cert = readFileSync(new URL('../helpers/certs/cert.pem', import.meta.url));
const key = readFileSync(new URL('../helpers/certs/key.pem', import.meta.url));

type Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, session: http2.ServerHttp2Session) => void;

const routes = new Map<string, Handler>();
let server: http2.Http2SecureServer;
let port = 0;
const sessions = new Set<http2.ServerHttp2Session>();
const sessionTests = new Map<http2.ServerHttp2Session, string>();

function connect(options: ConstructorParameters<typeof HTTP20Connection>[1] = {}): HTTP20Connection {
  return new HTTP20Connection(`127.0.0.1:${port}`, { tls: { ca: cert }, timeout: 10_000, ...options });
}

beforeAll(async () => {
  server = http2.createSecureServer({ key, cert, allowHTTP1: false });
  server.on('session', (session) => {
    sessions.add(session);
    sessionTests.set(session, expect.getState().currentTestName ?? '?');
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    // Streams the client resets or refuses end in errors the server need not report.
    stream.on('error', () => {});
    const handler = routes.get(String(headers[':path']));
    if (handler === undefined) {
      stream.respond({ ':status': 404 });
      stream.end('not found');
      return;
    }
    handler(stream, headers, stream.session as http2.ServerHttp2Session);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;

  routes.set('/hello', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('hello world');
  });
  routes.set('/echo', (stream, headers) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'x-method': String(headers[':method']), 'x-te': String(headers['te'] ?? '') });
      stream.end(Buffer.concat(parts));
    });
  });
  routes.set('/trailers', (stream) => {
    stream.respond({ ':status': 200 }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc123', 'grpc-status': '0' }));
    stream.end('body before trailers');
  });
  routes.set('/reset-mid-body', (stream) => {
    stream.respond({ ':status': 200 });
    stream.on('error', () => {});
    stream.write('partial ');
    // destroy() with an error resets with INTERNAL_ERROR; close() would end
    // the stream cleanly first.
    setTimeout(() => stream.destroy(new Error('server gave up')), 20);
  });
  routes.set('/informational', (stream) => {
    stream.additionalHeaders({ ':status': 103, link: '</style.css>; rel=preload' });
    setTimeout(() => {
      stream.respond({ ':status': 200 });
      stream.end('after early hints');
    }, 10);
  });
  routes.set('/gzip', (stream) => {
    stream.respond({ ':status': 200, 'content-encoding': 'gzip' });
    stream.end(zlib.gzipSync(Buffer.from('gzipped '.repeat(1000))));
  });
  routes.set('/br', (stream) => {
    stream.respond({ ':status': 200, 'content-encoding': 'br' });
    stream.end(zlib.brotliCompressSync(Buffer.from('brotli '.repeat(1000))));
  });
  routes.set('/deflate', (stream) => {
    stream.respond({ ':status': 200, 'content-encoding': 'deflate' });
    stream.end(zlib.deflateSync(Buffer.from('deflated '.repeat(500))));
  });
  routes.set('/stall-headers', () => {
    // Not even headers.
  });
  routes.set('/slow', (stream) => {
    setTimeout(() => {
      if (stream.destroyed) return;
      stream.respond({ ':status': 200 });
      stream.end('slow');
    }, 150);
  });
  routes.set('/goaway', (stream, _headers, session) => {
    // Answer this stream, but tell the client no stream after it is processed.
    session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id);
    stream.respond({ ':status': 200 });
    stream.end('last one');
    // As a real server does: close once the streams it kept have finished.
    session.close();
  });
  routes.set('/big', (stream) => {
    stream.respond({ ':status': 200 });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const total = 8 * 1024 * 1024;
    const write = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!stream.write(chunk)) {
          stream.once('drain', write);
          return;
        }
      }
      stream.end();
    };
    write();
  });
});

afterAll(async () => {
  // Every client connection was closed by its test: no session may linger
  // (the server learns of the last close a moment later).
  for (let i = 0; i < 50 && sessions.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  const lingering = sessions.size;
  const from = [...sessions].map((s) => sessionTests.get(s));
  for (const s of sessions) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  expect(lingering, `sessions left open by: ${from.join(', ')}`).toBe(0);
});

describe('Node http2 server', () => {
  it('GET: status, headers and body; getResponse() with no ID gives the oldest', async () => {
    await using conn = connect();
    const a = await conn.request('GET', '/hello');
    const b = await conn.request('GET', '/missing');
    expect([a, b]).toEqual([1, 3]);
    const first = await conn.getResponse();
    expect(first.streamId).toBe(1);
    expect(first.status).toBe(200);
    expect(first.reason).toBe('');
    expect(first.headers.get('content-type')).toEqual(['text/plain']);
    expect((await first.read()).toString()).toBe('hello world');
    const second = await conn.getResponse();
    expect(second.status).toBe(404);
    expect((await second.read()).toString()).toBe('not found');
  });

  it('POST bodies of every kind; read(amt) in pieces; TE: trailers is kept', async () => {
    await using conn = connect();
    async function* gen(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('one,');
      yield Buffer.from('two');
    }
    const ids = [
      await conn.request('POST', '/echo', { body: 'text body', headers: { te: 'trailers' } }),
      await conn.request('POST', '/echo', { body: new Uint8Array([1, 2, 3]) }),
      await conn.request('PUT', '/echo', { body: gen() }),
    ];
    const r0 = await conn.getResponse(ids[0]);
    expect(r0.headers.get('x-te')).toEqual(['trailers']);
    expect((await r0.read(4)).toString()).toBe('text');
    expect((await r0.read(100)).toString()).toBe(' body');
    expect((await r0.read(10)).length).toBe(0);
    expect([...(await (await conn.getResponse(ids[1])).read())]).toEqual([1, 2, 3]);
    const r2 = await conn.getResponse(ids[2]);
    expect(r2.headers.get('x-method')).toEqual(['PUT']);
    expect((await r2.read()).toString()).toBe('one,two');
  });

  it('trailers arrive after the body', async () => {
    await using conn = connect();
    const r = await conn.getResponse(await conn.request('GET', '/trailers'));
    expect(r.trailers).toBeNull();
    expect((await r.read()).toString()).toBe('body before trailers');
    expect(r.trailers?.get('x-checksum')).toEqual(['abc123']);
    expect(r.trailers?.get('grpc-status')).toEqual(['0']);
  });

  it('RST_STREAM mid-body fails that response with StreamResetError; the connection goes on', async () => {
    await using conn = connect();
    const r = await conn.getResponse(await conn.request('GET', '/reset-mid-body'));
    const err = await r.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamResetError);
    expect((err as StreamResetError).errorCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
    expect((err as StreamResetError).scope).toBe('stream');
    const ok = await conn.getResponse(await conn.request('GET', '/hello'));
    expect((await ok.read()).toString()).toBe('hello world');
  });

  it('GOAWAY mid-flight: streams below last-stream-id finish, those above fail as retryable', async () => {
    await using conn = connect();
    const before = await conn.request('GET', '/slow');
    const marker = await conn.request('GET', '/goaway');
    const after = await conn.request('GET', '/slow');
    const last = await conn.getResponse(marker);
    expect((await last.read()).toString()).toBe('last one');
    const err = await conn.getResponse(after).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamRefusedError);
    expect((err as StreamRefusedError).retryable).toBe(true);
    const early = await conn.getResponse(before);
    expect((await early.read()).toString()).toBe('slow');
    await expect(conn.request('GET', '/hello')).rejects.toBeInstanceOf(ConnectionError);
  });

  it('1xx informational responses are skipped; the final response follows', async () => {
    await using conn = connect();
    const r = await conn.getResponse(await conn.request('GET', '/informational'));
    expect(r.status).toBe(200);
    expect((await r.read()).toString()).toBe('after early hints');
  });

  it('gzip, br and deflate bodies are decoded; decodeContent: false gives the raw octets', async () => {
    await using conn = connect();
    const g = await conn.getResponse(await conn.request('GET', '/gzip'));
    expect((await g.read()).toString()).toBe('gzipped '.repeat(1000));
    const b = await conn.getResponse(await conn.request('GET', '/br'));
    const parts: Buffer[] = [];
    for await (const chunk of b.readChunked()) parts.push(chunk);
    expect(Buffer.concat(parts).toString()).toBe('brotli '.repeat(1000));
    const d = await conn.getResponse(await conn.request('GET', '/deflate'));
    expect((await d.read()).toString()).toBe('deflated '.repeat(500));
    const raw = await conn.getResponse(await conn.request('GET', '/gzip'));
    const bytes = await raw.read(undefined, { decodeContent: false });
    expect(zlib.gunzipSync(bytes).toString()).toBe('gzipped '.repeat(1000));
  });

  it('a server that stalls mid-body times out the read, not the process; the stream is reset with CANCEL', async () => {
    const reset = new Promise<number>((resolve) => {
      routes.set('/stall-body-reset', (stream) => {
        stream.respond({ ':status': 200 });
        stream.write('x');
        stream.on('close', () => resolve(stream.rstCode));
      });
    });
    await using conn = connect({ timeout: { read: 200 } });
    const r = await conn.getResponse(await conn.request('GET', '/stall-body-reset'));
    const first = r.read();
    await expect(first).rejects.toBeInstanceOf(TimeoutError);
    expect(await reset).toBe(http2.constants.NGHTTP2_CANCEL);
    // The stream is given up: a later read fails with the same error at once.
    const again = await r.read().catch((e: unknown) => e);
    expect(again).toBe(await first.catch((e: unknown) => e));
    // The connection itself carries on.
    expect((await (await conn.getResponse(await conn.request('GET', '/hello'))).read()).toString()).toBe('hello world');
  });

  it('a server that never answers times out getResponse(), and the stream is reset with CANCEL', async () => {
    const reset = new Promise<number>((resolve) => {
      routes.set('/stall-headers-reset', (stream) => {
        stream.on('close', () => resolve(stream.rstCode));
      });
    });
    await using conn = connect({ timeout: { read: 200 } });
    const id = await conn.request('GET', '/stall-headers-reset');
    await expect(conn.getResponse(id)).rejects.toBeInstanceOf(TimeoutError);
    expect(await reset).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it('8 MiB download read in chunks, with the windows replenished as it is read', async () => {
    await using conn = connect({ initialWindowSize: 256 * 1024, connectionWindowSize: 512 * 1024 });
    const r = await conn.getResponse(await conn.request('GET', '/big'));
    let total = 0;
    for await (const chunk of r.readChunked()) {
      for (const byte of [chunk[0], chunk[chunk.length - 1]]) expect(byte).toBe(0x61);
      total += chunk.length;
    }
    expect(total).toBe(8 * 1024 * 1024);
  });

  it('close() on an unfinished response resets its stream with CANCEL', async () => {
    const cancelled = new Promise<number>((resolve) => {
      routes.set('/cancel-me', (stream) => {
        stream.respond({ ':status': 200 });
        stream.write('start');
        stream.on('close', () => resolve(stream.rstCode));
      });
    });
    await using conn = connect();
    const r = await conn.getResponse(await conn.request('GET', '/cancel-me'));
    r.close();
    expect(await cancelled).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it('putRequest / putHeader / endHeaders / send: the low-level form, ids in the order started', async () => {
    await using conn = connect();
    const a = conn.putRequest('POST', '/echo');
    const b = conn.putRequest('GET', '/hello');
    expect([a, b]).toEqual([1, 3]);
    conn.putHeader('x-custom', 'yes', a);
    // Ending b first still sends a first: stream ids must rise in send order.
    const sentB = conn.endHeaders(b, { final: true });
    expect(await conn.endHeaders(a)).toBe(1);
    expect(await sentB).toBe(3);
    await conn.send('part one, ', false, a);
    await conn.send(Buffer.from('part two'), true, a);
    expect((await (await conn.getResponse(a)).read()).toString()).toBe('part one, part two');
    expect((await (await conn.getResponse(b)).read()).toString()).toBe('hello world');
  });

  it('diagnostics_channel reports request start, response headers and end', async () => {
    const seen: string[] = [];
    const on = (name: string) => (message: unknown) => seen.push(`${name} ${(message as { streamId: number }).streamId}`);
    const handlers = [
      ['hyperwire:request:start', on('start')],
      ['hyperwire:response:headers', on('headers')],
      ['hyperwire:request:end', on('end')],
    ] as const;
    const dc = await import('node:diagnostics_channel');
    for (const [name, fn] of handlers) dc.subscribe(name, fn);
    try {
      await using conn = connect();
      const r = await conn.getResponse(await conn.request('GET', '/hello'));
      await r.read();
    } finally {
      for (const [name, fn] of handlers) dc.unsubscribe(name, fn);
    }
    expect(seen).toEqual(['start 1', 'headers 1', 'end 1']);
  });

  it('finished streams whose responses were handed out are not kept: no growth over many requests', async () => {
    await using conn = connect();
    const tracked = (): number => (conn as unknown as { streams: Map<number, unknown> }).streams.size;
    for (let i = 0; i < 200; i++) {
      const r = await conn.getResponse(await conn.request('GET', '/hello'));
      expect((await r.read()).toString()).toBe('hello world');
    }
    expect(tracked()).toBeLessThanOrEqual(1);
    // A response not yet asked for is kept until it is.
    const id = await conn.request('GET', '/hello');
    await conn.ping();
    expect(tracked()).toBeGreaterThanOrEqual(1);
    expect((await (await conn.getResponse(id)).read()).toString()).toBe('hello world');
  });

  it('ping() resolves on the ACK', async () => {
    await using conn = connect();
    const rtt = await conn.ping(Buffer.from('12345678'));
    expect(rtt).toBeGreaterThanOrEqual(0);
  });

  it('illegal headers are rejected before anything is sent', async () => {
    await using conn = connect();
    await expect(conn.request('GET', '/hello', { headers: { 'x-a': 'line\r\nInjected: 1' } })).rejects.toBeInstanceOf(TypeError);
    await expect(conn.request('GET', '/hello', { headers: { 'bad name': 'v' } })).rejects.toBeInstanceOf(TypeError);
    await expect(conn.request('GET', '/hello', { headers: { 'x-a': 'nul\0' } })).rejects.toBeInstanceOf(TypeError);
    await expect(conn.request('GE T', '/hello')).rejects.toBeInstanceOf(TypeError);
    // Nothing was sent: the first real request still gets stream 1.
    expect(await conn.request('GET', '/hello')).toBe(1);
  });

  it('a TLS handshake that never completes is a TimeoutError from the connect timeout', async () => {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const conn = new HTTP20Connection(`127.0.0.1:${(silent.address() as AddressInfo).port}`, { tls: { ca: cert }, timeout: { connect: 200 } });
      const started = Date.now();
      await expect(conn.request('GET', '/')).rejects.toBeInstanceOf(TimeoutError);
      expect(Date.now() - started).toBeLessThan(5000);
      await expect(conn.request('GET', '/')).rejects.toBeInstanceOf(TimeoutError);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('a server that does not offer h2 by ALPN is a TLSError', async () => {
    const { createServer } = await import('node:https');
    const h1 = createServer({ key, cert }, (_req, res) => res.end('h1'));
    await new Promise<void>((resolve) => h1.listen(0, '127.0.0.1', resolve));
    try {
      const conn = new HTTP20Connection(`127.0.0.1:${(h1.address() as AddressInfo).port}`, { tls: { ca: cert } });
      const err = await conn.request('GET', '/').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TLSError);
      expect((err as TLSError).code).toBe('HW_ERR_ALPN');
    } finally {
      h1.closeAllConnections();
      await new Promise<void>((resolve) => h1.close(() => resolve()));
    }
  });

  it('the server closing the connection rejects every outstanding call', async () => {
    routes.set('/kill', (_stream, _headers, session) => {
      session.destroy();
    });
    const conn = connect();
    const a = await conn.request('GET', '/stall-headers');
    const b = await conn.request('GET', '/kill');
    const [ea, eb] = await Promise.all([conn.getResponse(a).catch((e: unknown) => e), conn.getResponse(b).catch((e: unknown) => e)]);
    expect(ea).toBeInstanceOf(ConnectionError);
    expect(eb).toBeInstanceOf(ConnectionError);
    await expect(conn.request('GET', '/hello')).rejects.toBeInstanceOf(ConnectionError);
  });
});
