/**
 * A warm HTTP/2 pool: once the origin is known to speak h2 and a stream is
 * free, a request opens its stream at once and its outcome goes straight to
 * the retry and redirect rules (HTTPConnectionPool.attemptNow). These tests
 * warm the pool first, so the request under test takes that path, and
 * check that every rule of the general path still holds on it, against
 * Node's http2 server.
 */

import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HTTPConnectionPool, HTTPSConnectionPool, MaxRetryError, PoolManager, Retry } from '../../lib/index.js';

const cert = readFileSync(new URL('../helpers/certs/cert.pem', import.meta.url));
const key = readFileSync(new URL('../helpers/certs/key.pem', import.meta.url));
const tls = { ca: cert };

/** What the server saw of one request. */
interface Seen {
  method: string;
  path: string;
  body: string;
}

let server: http2.Http2SecureServer;
let port: number;
let sessions = 0;
const seen: Seen[] = [];
/** Per path: how many times it has been asked for. */
const calls = new Map<string, number>();
const url = (path: string): string => `https://127.0.0.1:${port}${path}`;

function respond(stream: http2.ServerHttp2Stream, path: string, method: string, body: string): void {
  const n = (calls.get(path) ?? 0) + 1;
  calls.set(path, n);
  switch (path) {
    case '/redirect':
      stream.respond({ ':status': 302, location: '/landed' });
      stream.end();
      return;
    case '/busy-once':
      if (n === 1) {
        stream.respond({ ':status': 503, 'retry-after': '0' });
        stream.end('busy');
        return;
      }
      break;
    case '/refused-once':
      if (n === 1) {
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      break;
    case '/short-body':
      // Fewer octets than content-length says: a malformed response (RFC
      // 9113 §8.1.1), which fails its body.
      stream.respond({ ':status': 200, 'content-length': '100' });
      stream.end('part');
      return;
    case '/gzip':
      stream.respond({ ':status': 200, 'content-encoding': 'gzip' });
      stream.end(gzipSync('decoded on the way'));
      return;
    case '/stall-once':
      // The first never answers: its read timeout fires.
      if (n === 1) return;
      break;
    case '/stall-body-once':
      // The first sends its head and part of its body, then nothing.
      if (n === 1) {
        stream.respond({ ':status': 200 });
        stream.write('part');
        return;
      }
      break;
    case '/late-body':
      // The head now, the body later: it is not there when the head is.
      stream.respond({ ':status': 200 });
      setTimeout(() => stream.end('came later'), 30);
      return;
  }
  stream.respond({ ':status': 200, 'content-type': 'text/plain' });
  stream.end(`${method} ${path} ${body}`);
}

beforeAll(async () => {
  // One stream at a time: a request that did not give its stream back would
  // make the next one wait, or open a second connection.
  server = http2.createSecureServer({ key, cert, settings: { maxConcurrentStreams: 1 } });
  server.on('session', () => sessions++);
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => {
      const method = String(headers[':method']);
      const path = String(headers[':path']);
      seen.push({ method, path, body });
      respond(stream, path, method, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

afterEach(() => {
  vi.restoreAllMocks();
  seen.length = 0;
  calls.clear();
});

/** A PoolManager that has made one request, so the origin is known to speak h2; and a spy on the general path. */
async function warm(options: ConstructorParameters<typeof PoolManager>[0] = {}) {
  const http = new PoolManager({ tls, ...options });
  expect((await http.request('GET', url('/warm'))).protocol).toBe('h2');
  seen.length = 0;
  const attempt = vi.spyOn(HTTPConnectionPool.prototype, 'attempt');
  return { http, attempt };
}

/** On a warm pool, `path` fails once with `errorName`, is retried, and the history shows that one error. */
async function retriedOnce(path: string, errorName: string, options: Parameters<PoolManager['request']>[2] = {}): Promise<void> {
  const { http } = await warm();
  await using _ = http;
  const r = await http.request('GET', url(path), options);
  expect(r.data!.toString()).toBe(`GET ${path} `);
  expect(r.retries!.history).toHaveLength(1);
  expect(r.retries!.history[0]!.error!.name).toBe(errorName);
}

describe('a warm HTTP/2 pool', () => {
  it('a GET goes at once: preloaded data, status, headers, url and Retry, counted, and its stream given back', async () => {
    const before = sessions;
    const { http, attempt } = await warm();
    await using _ = http;
    for (let i = 0; i < 5; i++) {
      const r = await http.request('GET', url(`/r${i}?q=${i}`));
      expect(r.status).toBe(200);
      expect(r.headers.first('content-type')).toBe('text/plain');
      expect(r.data!.toString()).toBe(`GET /r${i}?q=${i} `);
      expect(r.url).toBe(url(`/r${i}?q=${i}`));
      expect(r.retries).toBeInstanceOf(Retry);
      expect(r.isReleased).toBe(true);
    }
    // None went the general way; all went on the one connection, one stream
    // at a time, so each gave its stream back.
    expect(attempt).not.toHaveBeenCalled();
    expect(sessions - before).toBe(1);
    expect(http.connectionFromUrl(url('/')).numRequests).toBe(6);
  });

  it('a 302 is followed, and shows in the history', async () => {
    const { http } = await warm();
    await using _ = http;
    const r = await http.request('GET', url('/redirect'));
    expect(r.data!.toString()).toBe('GET /landed ');
    expect(r.url).toBe(url('/landed'));
    expect(r.retries!.history).toHaveLength(1);
    expect(r.retries!.history[0]).toMatchObject({ status: 302, redirectLocation: '/landed' });
    expect(seen.map((s) => s.path)).toEqual(['/redirect', '/landed']);
  });

  it('redirect: false returns the 302 as it is', async () => {
    const { http } = await warm();
    await using _ = http;
    const r = await http.request('GET', url('/redirect'), { redirect: false });
    expect(r.status).toBe(302);
    expect(r.headers.first('location')).toBe('/landed');
  });

  it('a 503 with Retry-After is retried until it succeeds', async () => {
    const { http } = await warm();
    await using _ = http;
    const r = await http.request('GET', url('/busy-once'));
    expect(r.status).toBe(200);
    expect(r.retries!.history.map((h) => h.status)).toEqual([503]);
  });

  it('a statusForcelist status with no retries left is MaxRetryError', async () => {
    const { http } = await warm();
    await using _ = http;
    const err = await http.request('GET', url('/busy-once'), { retries: new Retry({ total: 0, statusForcelist: [503] }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaxRetryError);
  });

  it('REFUSED_STREAM: retried, and the error shows in the history', async () => {
    await retriedOnce('/refused-once', 'StreamRefusedError');
  });

  it('a body shorter than its content-length: the error, unwrapped with retries: false, and the connection still serves', async () => {
    const before = sessions;
    const { http } = await warm();
    await using _ = http;
    const err = await http.request('GET', url('/short-body'), { retries: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toMatch(/^HW_ERR_/);
    const r = await http.request('GET', url('/after'));
    expect(r.data!.toString()).toBe('GET /after ');
    expect(sessions - before).toBe(1);
  });

  it('a body shorter than its content-length, with retries: tried again, then MaxRetryError with the cause', async () => {
    const { http } = await warm();
    await using _ = http;
    const err = await http.request('GET', url('/short-body'), { retries: new Retry({ total: 1 }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaxRetryError);
    expect(calls.get('/short-body')).toBe(2);
  });

  it('CR/LF in a header value: TypeError, nothing sent, and the pool goes on', async () => {
    const before = sessions;
    const { http } = await warm();
    await using _ = http;
    await expect(http.request('GET', url('/bad'), { headers: { 'x-bad': 'a\r\nb' } })).rejects.toBeInstanceOf(TypeError);
    await expect(http.request('GET', url('/bad'), { headers: { 'bad name': 'v' } })).rejects.toBeInstanceOf(TypeError);
    expect(seen).toHaveLength(0);
    // Its stream slot was given back: the next request, on the same
    // connection with room for one stream, goes through.
    const r = await http.request('GET', url('/good'));
    expect(r.data!.toString()).toBe('GET /good ');
    expect(sessions - before).toBe(1);
  });

  it('a gzip body is decoded; with decodeContent: false it is not', async () => {
    const { http } = await warm();
    await using _ = http;
    expect((await http.request('GET', url('/gzip'))).data!.toString()).toBe('decoded on the way');
    const raw = await http.request('GET', url('/gzip'), { decodeContent: false });
    expect(raw.data!.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  it('a body that comes after the head is waited for', async () => {
    const { http } = await warm();
    await using _ = http;
    expect((await http.request('GET', url('/late-body'))).data!.toString()).toBe('came later');
  });

  it('what the fast way does not take goes the general way: a body, a signal, preloadContent: false', async () => {
    const { http, attempt } = await warm();
    await using _ = http;
    expect((await http.request('POST', url('/post'), { body: 'payload' })).data!.toString()).toBe('POST /post payload');
    expect((await http.request('GET', url('/signal'), { signal: new AbortController().signal })).status).toBe(200);
    const streamed = await http.request('GET', url('/streamed'), { preloadContent: false });
    expect((await streamed.read()).toString()).toBe('GET /streamed ');
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it('a head that does not come within the read timeout: ReadTimeoutError, retried, and the history says so', async () => {
    await retriedOnce('/stall-once', 'ReadTimeoutError', { timeout: { read: 200 } });
  });

  it('a body that stalls past the read timeout: ReadTimeoutError unwrapped with retries: false, and the connection serves on', async () => {
    const before = sessions;
    const { http } = await warm();
    await using _ = http;
    const err = await http.request('GET', url('/stall-body-once'), { timeout: { read: 200 }, retries: false }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('ReadTimeoutError');
    // Its stream was given up (one stream at a time on this server): the next request goes through.
    expect((await http.request('GET', url('/next'))).data!.toString()).toBe('GET /next ');
    expect(sessions - before).toBe(1);
  });

  it('a URL object changed in place between two requests is read again', async () => {
    const { http } = await warm();
    await using _ = http;
    // A URL object, as plain JavaScript may hand one (the types ask for a string).
    const target = new URL(url('/first?a=1'));
    const asString = target as unknown as string;
    expect((await http.urlopen('GET', asString)).data!.toString()).toBe('GET /first?a=1 ');
    target.pathname = '/second';
    target.searchParams.set('a', '2');
    const r = await http.urlopen('GET', asString);
    expect(r.data!.toString()).toBe('GET /second?a=2 ');
    expect(r.url).toBe(url('/second?a=2'));
  });

  it('a pool of its own takes the same way, and keeps to its origin', async () => {
    await using pool = new HTTPSConnectionPool('127.0.0.1', { port, tls });
    await pool.request('GET', '/warm');
    const attempt = vi.spyOn(HTTPConnectionPool.prototype, 'attempt');
    expect((await pool.request('GET', '/own')).data!.toString()).toBe('GET /own ');
    expect(attempt).not.toHaveBeenCalled();
    await expect(pool.request('GET', 'https://example.invalid/')).rejects.toMatchObject({ name: 'HostChangedError' });
  });
});
