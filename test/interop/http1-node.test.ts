/**
 * HTTP11Connection against Node's own HTTP/1.1 servers (node:http and
 * node:https, started here on 127.0.0.1), and against raw node:net servers
 * that write scripted bytes for what no well-behaved server sends:
 * keep-alive and reconnects, queued requests, request bodies of every kind,
 * response framing (chunked, trailers, close-delimited, HEAD, 204/304, 1xx,
 * 100-continue), content decoding, caller errors, malformed responses,
 * stalls, close() and TLS/ALPN.
 *
 * Every server and connection is closed in afterEach; every wait is bounded
 * by a connection timeout, by {@link within} or by the test timeout.
 */

import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { pipeline, Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  HTTP11Connection,
  HTTP11Error,
  type HTTP11ConnectionOptions,
  type HTTP11RequestOptions,
  type HTTP11Response,
  TimeoutError,
  TLSError,
} from '../../lib/index.js';
import { CERT_FILE, KEY_FILE, pattern, patternBytes, patternSha256 } from '../helpers/servers.js';
import { sha256, within } from './verify.js';

const cert = readFileSync(CERT_FILE);
const key = readFileSync(KEY_FILE);

// --- unhandled rejections ------------------------------------------------------

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
process.on('unhandledRejection', onUnhandled);

afterAll(async () => {
  // Let anything rejected late in the last test surface first.
  await sleep(50);
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled.map((r) => (r instanceof Error ? `${r.name}: ${r.message}` : String(r)))).toEqual([]);
});

// --- cleanup -------------------------------------------------------------------

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  const fns = cleanups.splice(0).reverse();
  for (const fn of fns) await fn();
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `predicate()` holds, checking every 10 ms, for at most `ms`. */
async function until(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

// --- the client ------------------------------------------------------------------

/** A cleartext connection to 127.0.0.1:port, closed after the test. */
function client(port: number, options: HTTP11ConnectionOptions = {}): HTTP11Connection {
  const conn = new HTTP11Connection(`127.0.0.1:${port}`, { secure: false, timeout: 10_000, closeTimeout: 1000, ...options });
  cleanups.push(() => within(conn.close(), 5000, 'conn.close()'));
  return conn;
}

async function fetchOn(conn: HTTP11Connection, method: string, path: string, options: HTTP11RequestOptions = {}): Promise<HTTP11Response> {
  await conn.request(method, path, options);
  return conn.getResponse();
}

async function text(res: HTTP11Response): Promise<string> {
  return (await res.read()).toString('utf8');
}

// --- node:http servers --------------------------------------------------------------

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Which accepted connection (index into `sockets`) carried it. */
  connection: number;
  remotePort: number | undefined;
}

interface AppServer {
  port: number;
  server: http.Server;
  /** Every connection accepted, in order. */
  sockets: net.Socket[];
  /** Every request seen (through 'request' or 'checkContinue'), in order. */
  requests: Seen[];
  /** Records a request that a 'checkContinue' handler took. */
  record(req: http.IncomingMessage): void;
  /** Requests the server could not parse ('clientError'). */
  clientErrors: Error[];
}

function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

const GZIP_TEXT = 'gzipped '.repeat(1000);
const DEFLATE_TEXT = 'deflated '.repeat(500);
const BR_TEXT = 'brotli '.repeat(1000);
const GZIPPED = zlib.gzipSync(Buffer.from(GZIP_TEXT));
const DEFLATED = zlib.deflateSync(Buffer.from(DEFLATE_TEXT));
const BROTLIED = zlib.brotliCompressSync(Buffer.from(BR_TEXT));

/** What /echo answers: what the server received. */
interface Echo {
  method: string;
  url: string;
  contentLength: string | null;
  transferEncoding: string | null;
  te: string | null;
  length: number;
  sha256: string;
  body: string;
}

/** The routes every node:http(s) server in this file serves. */
function app(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = url.pathname;
  if (route.startsWith('/path/')) {
    res.end(req.url);
    return;
  }
  switch (route) {
    case '/hello':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello world');
      return;
    case '/echo':
      readAll(req).then((body) => {
        const echo: Echo = {
          method: req.method ?? '',
          url: req.url ?? '',
          contentLength: req.headers['content-length'] ?? null,
          transferEncoding: req.headers['transfer-encoding'] ?? null,
          te: (req.headers['te'] as string | undefined) ?? null,
          length: body.length,
          sha256: sha256(body),
          body: body.length <= 4096 ? body.toString('latin1') : '',
        };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(echo));
      }, () => res.destroy());
      return;
    case '/slow':
      setTimeout(() => res.end(req.url), Number(url.searchParams.get('ms') ?? 100));
      return;
    case '/big': {
      const size = Number(url.searchParams.get('size'));
      res.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
      pipeline(Readable.from(pattern(size, 'big', 64 * 1024)), res, () => {});
      return;
    }
    case '/trailers':
      // No Content-Length: node sends it chunked, with the trailers at the end.
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum, x-count' });
      res.write('body before ');
      setTimeout(() => {
        res.write('trailers');
        res.addTrailers({ 'x-checksum': 'abc123', 'x-count': '2' });
        res.end();
      }, 10);
      return;
    case '/chunked':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('one ');
      res.write('two ');
      res.end('three');
      return;
    case '/head':
      res.writeHead(200, { 'content-length': '1000', 'content-type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'h'.repeat(1000));
      return;
    case '/204':
      res.writeHead(204, { 'x-kind': 'no content' });
      res.end();
      return;
    case '/304':
      // A 304 may say how long the selected representation is; there is still no body.
      res.writeHead(304, { 'content-length': '100', etag: '"v1"' });
      res.end();
      return;
    case '/early-hints':
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      setTimeout(() => res.end('after early hints'), 20);
      return;
    case '/gzip':
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(GZIPPED.length) });
      res.end(GZIPPED);
      return;
    case '/deflate':
      res.writeHead(200, { 'content-encoding': 'deflate' });
      // Chunked, in two pieces.
      res.write(DEFLATED.subarray(0, 10));
      res.end(DEFLATED.subarray(10));
      return;
    case '/br':
      res.writeHead(200, { 'content-encoding': 'br', 'content-length': String(BROTLIED.length) });
      res.end(BROTLIED);
      return;
    case '/close':
      res.writeHead(200, { connection: 'close', 'content-type': 'text/plain' });
      res.end(req.url);
      return;
    case '/stall':
      // Never answers.
      return;
    case '/stall-body':
      res.writeHead(200, { 'content-length': '100' });
      res.write('x');
      return;
    case '/respond-early':
      // Answers at once, without reading the request body.
      res.writeHead(413, { 'content-type': 'text/plain' });
      res.end('too large');
      return;
    default:
      res.writeHead(404);
      res.end('not found');
  }
}

async function startServer(server: http.Server): Promise<AppServer> {
  const sockets: net.Socket[] = [];
  const requests: Seen[] = [];
  const record = (req: http.IncomingMessage): void => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, connection: sockets.indexOf(req.socket), remotePort: req.socket.remotePort });
  };
  server.on('connection', (socket: net.Socket) => sockets.push(socket));
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    record(req);
    app(req, res);
  });
  const clientErrors: Error[] = [];
  server.on('clientError', (err: Error, socket: net.Socket) => {
    clientErrors.push(err);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    server.closeAllConnections();
    for (const s of sockets) s.destroy();
    await within(new Promise<void>((resolve) => server.close(() => resolve())), 5000, 'server.close()');
  });
  return { port, server, sockets, requests, record, clientErrors };
}

function httpServer(options: http.ServerOptions = {}): Promise<AppServer> {
  return startServer(http.createServer(options));
}

// --- raw node:net servers -------------------------------------------------------------

interface RawConn {
  index: number;
  socket: net.Socket;
  /** Everything the client sent on this connection. */
  received: Buffer;
  /** Request heads seen, in order. */
  heads: string[];
  closed: Promise<void>;
  isClosed: boolean;
}

interface RawRequest {
  method: string;
  path: string;
  head: string;
  conn: RawConn;
  /** The number of this request on its connection, from 0. */
  n: number;
}

interface RawServer {
  port: number;
  conns: RawConn[];
}

/**
 * A server that calls `onRequest` for each request head as soon as it is
 * complete (before any body), skipping a Content-Length body afterwards;
 * the handler writes whatever bytes it likes to `req.conn.socket`.
 */
async function rawServer(onRequest: (req: RawRequest) => void): Promise<RawServer> {
  const conns: RawConn[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let closed!: () => void;
    const conn: RawConn = { index: conns.length, socket, received: Buffer.alloc(0), heads: [], closed: new Promise<void>((r) => (closed = r)), isClosed: false };
    conns.push(conn);
    socket.on('close', () => {
      conn.isClosed = true;
      closed();
    });
    let pending = Buffer.alloc(0);
    let skip = 0;
    socket.on('data', (chunk: Buffer) => {
      conn.received = Buffer.concat([conn.received, chunk]);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, pending.length);
          skip -= n;
          pending = pending.subarray(n);
          if (skip > 0) return;
        }
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.subarray(0, end).toString('latin1');
        pending = pending.subarray(end + 4);
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        skip = cl === null ? 0 : Number(cl[1]);
        const [method = '', path = ''] = head.split('\r\n')[0]!.split(' ');
        conn.heads.push(head);
        onRequest({ method, path, head, conn, n: conn.heads.length - 1 });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    for (const c of conns) c.socket.destroy();
    await within(new Promise<void>((resolve) => server.close(() => resolve())), 5000, 'raw server close()');
  });
  return { port, conns };
}

function ok(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

// =====================================================================================

describe('keep-alive and queueing', () => {
  it('three sequential GETs reuse one socket', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    for (const path of ['/path/1', '/path/2', '/path/3']) {
      const r = await fetchOn(conn, 'GET', path);
      expect(r.status).toBe(200);
      expect(r.version).toBe(11);
      expect(r.streamId).toBeNull();
      expect(await text(r)).toBe(path);
    }
    expect(s.sockets).toHaveLength(1);
    expect(s.requests.map((r) => r.url)).toEqual(['/path/1', '/path/2', '/path/3']);
    expect(new Set(s.requests.map((r) => r.remotePort)).size).toBe(1);
    expect(s.requests.every((r) => r.connection === 0 && r.headers.host === `127.0.0.1:${s.port}`)).toBe(true);
  });

  it('request() three times, then getResponse() three times: each response matches its request, in order', async () => {
    // Requests are queued: one is on the wire at a time (no pipelining), the
    // next goes out once the previous response is complete. So awaiting
    // request() several times before asking for any response works.
    const s = await httpServer();
    const conn = client(s.port);
    expect(await conn.request('GET', '/slow?ms=60&n=1')).toBeNull();
    expect(await conn.request('POST', '/echo', { body: 'second' })).toBeNull();
    expect(await conn.request('GET', '/path/third')).toBeNull();
    const r1 = await conn.getResponse();
    const r2 = await conn.getResponse();
    const r3 = await conn.getResponse();
    expect(await text(r1)).toBe('/slow?ms=60&n=1');
    const echo = JSON.parse(await text(r2)) as Echo;
    expect([echo.method, echo.body]).toEqual(['POST', 'second']);
    expect(await text(r3)).toBe('/path/third');
    expect(s.sockets).toHaveLength(1);
    await expect(conn.getResponse()).rejects.toThrow(/No outstanding request/);
  });

  it('queued requests are not pipelined: the next request reaches the server only after the previous response', async () => {
    let inFlight = 0;
    let overlapped = false;
    const raw = await rawServer((req) => {
      if (inFlight > 0) overlapped = true;
      inFlight++;
      setTimeout(() => {
        inFlight--;
        req.conn.socket.write(ok(req.path));
      }, 80);
    });
    const conn = client(raw.port);
    for (const p of ['/a', '/b', '/c']) await conn.request('GET', p);
    const bodies = [];
    for (let i = 0; i < 3; i++) bodies.push(await text(await conn.getResponse()));
    expect(bodies).toEqual(['/a', '/b', '/c']);
    expect(overlapped).toBe(false);
    expect(raw.conns).toHaveLength(1);
    expect(raw.conns[0]!.heads.map((h) => h.split('\r\n')[0])).toEqual(['GET /a HTTP/1.1', 'GET /b HTTP/1.1', 'GET /c HTTP/1.1']);
  });

  it('getResponse() for the 2nd while the 1st body is unread: the 1st body is buffered and still readable', async () => {
    const size = 1024 * 1024;
    const s = await httpServer();
    const conn = client(s.port);
    await conn.request('GET', `/big?size=${size}`);
    await conn.request('GET', '/path/second');
    const first = await conn.getResponse();
    expect(first.status).toBe(200);
    expect(first.headers.first('content-length')).toBe(String(size));
    const second = await within(conn.getResponse(), 5000, 'the second response');
    expect(await text(second)).toBe('/path/second');
    const body = await first.read();
    expect(body.length).toBe(size);
    expect(sha256(body)).toBe(await patternSha256(size, 'big'));
    expect(s.sockets).toHaveLength(1);
  });

  it('read(amt) and readChunked() give the body in pieces', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    const r = await fetchOn(conn, 'GET', '/hello');
    expect((await r.read(5)).toString()).toBe('hello');
    expect((await r.read(100)).toString()).toBe(' world');
    expect((await r.read(10)).length).toBe(0);
    const c = await fetchOn(conn, 'GET', '/chunked');
    const parts: string[] = [];
    for await (const chunk of c.readChunked()) parts.push(chunk.toString());
    expect(parts.join('')).toBe('one two three');
  });
});

describe('request bodies', () => {
  it('a string body is sent as UTF-8 with Content-Length', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    const body = 'h\u00e9llo w\u00f6rld \u2713';
    const echo = JSON.parse(await text(await fetchOn(conn, 'POST', '/echo', { body }))) as Echo;
    expect(echo.contentLength).toBe(String(Buffer.byteLength(body)));
    expect(echo.transferEncoding).toBeNull();
    expect(Buffer.from(echo.body, 'latin1').toString('utf8')).toBe(body);
  });

  it('a Uint8Array body is sent as is with Content-Length', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    const body = new Uint8Array([0, 1, 2, 13, 10, 127, 128, 255]);
    const echo = JSON.parse(await text(await fetchOn(conn, 'PUT', '/echo', { body }))) as Echo;
    expect(echo.method).toBe('PUT');
    expect(echo.contentLength).toBe('8');
    expect(echo.transferEncoding).toBeNull();
    expect([...Buffer.from(echo.body, 'latin1')]).toEqual([...body]);
  });

  it('a 5 MiB Readable body is sent chunked, every octet intact', async () => {
    const size = 5 * 1024 * 1024;
    const s = await httpServer();
    const conn = client(s.port);
    const r = await fetchOn(conn, 'POST', '/echo', { body: Readable.from(pattern(size, 'upload-readable', 100_000)) });
    const echo = JSON.parse(await text(r)) as Echo;
    expect(echo.transferEncoding).toBe('chunked');
    expect(echo.contentLength).toBeNull();
    expect(echo.length).toBe(size);
    expect(echo.sha256).toBe(await patternSha256(size, 'upload-readable'));
  });

  it('a 5 MiB async generator body is sent chunked, every octet intact; the connection is reused after', async () => {
    const size = 5 * 1024 * 1024;
    const s = await httpServer();
    const conn = client(s.port);
    const echo = JSON.parse(await text(await fetchOn(conn, 'POST', '/echo', { body: pattern(size, 'upload-gen', 333_333) }))) as Echo;
    expect(echo.transferEncoding).toBe('chunked');
    expect(echo.length).toBe(size);
    expect(echo.sha256).toBe(await patternSha256(size, 'upload-gen'));
    expect(await text(await fetchOn(conn, 'GET', '/path/after'))).toBe('/path/after');
    expect(s.sockets).toHaveLength(1);
  });

  it('a stream body with a Content-Length from the caller is sent raw, not chunked', async () => {
    const size = 300_000;
    const s = await httpServer();
    const conn = client(s.port);
    const r = await fetchOn(conn, 'POST', '/echo', { body: pattern(size, 'raw', 64 * 1024), headers: { 'content-length': String(size) } });
    const echo = JSON.parse(await text(r)) as Echo;
    expect(echo.contentLength).toBe(String(size));
    expect(echo.transferEncoding).toBeNull();
    expect(echo.length).toBe(size);
    expect(echo.sha256).toBe(sha256(patternBytes(size, 'raw')));
  });

  it('a Transfer-Encoding from the caller is ignored: framing is the client\'s', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    const echo = JSON.parse(await text(await fetchOn(conn, 'POST', '/echo', { body: 'abc', headers: { 'transfer-encoding': 'gzip, chunked' } }))) as Echo;
    expect(echo.transferEncoding).toBeNull();
    expect(echo.contentLength).toBe('3');
    expect(echo.body).toBe('abc');
  });

  it('POST and PUT with no body send Content-Length: 0; GET and DELETE send no framing at all', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    const seen: Echo[] = [];
    for (const method of ['POST', 'PUT', 'GET', 'DELETE']) seen.push(JSON.parse(await text(await fetchOn(conn, method, '/echo'))) as Echo);
    expect(seen.map((e) => [e.method, e.contentLength, e.transferEncoding, e.length])).toEqual([
      ['POST', '0', null, 0],
      ['PUT', '0', null, 0],
      ['GET', null, null, 0],
      ['DELETE', null, null, 0],
    ]);
    expect(s.sockets).toHaveLength(1);
  });

  it('a stream body that fails fails its request with HW_ERR_REQUEST_BODY; the next request works', async () => {
    const s = await httpServer();
    const conn = client(s.port, { timeout: 3000 });
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('part one');
      await sleep(20);
      throw new Error('the source broke');
    }
    await conn.request('POST', '/echo', { body: failing() });
    const err = await caught(conn.getResponse());
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe('HW_ERR_REQUEST_BODY');
    expect(((err as ConnectionError).cause as Error).message).toBe('the source broke');
    // The request's framing was lost, so that socket went; the next request gets a new one.
    expect(await text(await fetchOn(conn, 'GET', '/path/after'))).toBe('/path/after');
    expect(s.sockets).toHaveLength(2);
  });

  it('a stream body shorter than its Content-Length fails the request; the next request works', async () => {
    const s = await httpServer();
    const conn = client(s.port, { timeout: 3000 });
    await conn.request('POST', '/echo', { body: pattern(10, 'short'), headers: { 'content-length': '20' } });
    const err = await caught(conn.getResponse());
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe('HW_ERR_REQUEST_BODY');
    expect(await text(await fetchOn(conn, 'GET', '/path/after'))).toBe('/path/after');
  });
});

describe('response framing', () => {
  it('chunked with trailers (TE: trailers sent): trailers after the body', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    const r = await fetchOn(conn, 'GET', '/trailers', { headers: { te: 'trailers' } });
    expect(s.requests[0]!.headers['te']).toBe('trailers');
    expect(r.headers.first('transfer-encoding')).toBe('chunked');
    expect(r.trailers).toBeNull();
    expect(await text(r)).toBe('body before trailers');
    expect(r.trailers?.get('x-checksum')).toEqual(['abc123']);
    expect(r.trailers?.get('x-count')).toEqual(['2']);
    // A chunked body without trailers has none; the connection is reused.
    const c = await fetchOn(conn, 'GET', '/chunked');
    expect(await text(c)).toBe('one two three');
    expect(c.trailers).toBeNull();
    expect(s.sockets).toHaveLength(1);
  });

  it('a close-delimited body (HTTP/1.0, no Content-Length) ends at the close; the next request reconnects', async () => {
    const raw = await rawServer((req) => {
      const socket = req.conn.socket;
      socket.write('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n');
      socket.write(`first part of ${req.path}, `);
      setTimeout(() => socket.end('and the rest'), 20);
    });
    const conn = client(raw.port);
    const r = await fetchOn(conn, 'GET', '/one');
    expect(r.version).toBe(10);
    expect(await text(r)).toBe('first part of /one, and the rest');
    const again = await fetchOn(conn, 'GET', '/two');
    expect(await text(again)).toBe('first part of /two, and the rest');
    expect(raw.conns).toHaveLength(2);
  });

  it('HTTP/1.1 without Content-Length or chunked is close-delimited too', async () => {
    const raw = await rawServer((req) => {
      req.conn.socket.end(`HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n${'z'.repeat(100_000)}`);
    });
    const conn = client(raw.port);
    const r = await fetchOn(conn, 'GET', '/');
    expect(r.version).toBe(11);
    expect(await text(r)).toBe('z'.repeat(100_000));
  });

  it('HEAD with Content-Length: no body, and the connection is still reusable', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    const head = await fetchOn(conn, 'HEAD', '/head');
    expect(head.status).toBe(200);
    expect(head.headers.first('content-length')).toBe('1000');
    expect((await head.read()).length).toBe(0);
    const get = await fetchOn(conn, 'GET', '/head');
    expect(await text(get)).toBe('h'.repeat(1000));
    expect(s.sockets).toHaveLength(1);
  });

  it('204 and 304 (even with a Content-Length) have no body; the connection is reused', async () => {
    const s = await httpServer();
    const conn = client(s.port, { timeout: 3000 });
    const r204 = await fetchOn(conn, 'GET', '/204');
    expect(r204.status).toBe(204);
    expect(r204.headers.first('x-kind')).toBe('no content');
    expect((await r204.read()).length).toBe(0);
    const r304 = await fetchOn(conn, 'GET', '/304');
    expect(r304.status).toBe(304);
    expect(r304.headers.first('content-length')).toBe('100');
    expect((await r304.read()).length).toBe(0);
    expect(await text(await fetchOn(conn, 'GET', '/path/after'))).toBe('/path/after');
    expect(s.sockets).toHaveLength(1);
  });

  it('103 Early Hints before the 200 is skipped; the final response follows', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    const r = await fetchOn(conn, 'GET', '/early-hints');
    expect(r.status).toBe(200);
    expect(r.headers.has('link')).toBe(false);
    expect(await text(r)).toBe('after early hints');
    expect(await text(await fetchOn(conn, 'GET', '/path/after'))).toBe('/path/after');
    expect(s.sockets).toHaveLength(1);
  });

  it('several 1xx heads, split across writes, before the final response', async () => {
    const raw = await rawServer((req) => {
      const socket = req.conn.socket;
      socket.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 102 Proc');
      setTimeout(() => socket.write('essing\r\n\r\n'), 10);
      setTimeout(() => socket.write(ok('final')), 20);
    });
    const conn = client(raw.port);
    const r = await fetchOn(conn, 'GET', '/');
    expect(r.status).toBe(200);
    expect(await text(r)).toBe('final');
  });

  it('Expect: 100-continue: the body is sent only after the server\'s 100 Continue', async () => {
    const s = await httpServer();
    const info: Record<string, number> = {};
    s.server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
      s.record(req);
      const before = req.socket.bytesRead;
      info['bufferedAtStart'] = req.readableLength;
      setTimeout(() => {
        info['bytesWhileWaiting'] = req.socket.bytesRead - before;
        info['bufferedBeforeContinue'] = req.readableLength;
        const continuedAt = Date.now();
        res.writeContinue();
        req.once('data', () => (info['dataAfterContinue'] = Date.now() - continuedAt));
        readAll(req).then(
          (body) => res.end(body),
          () => res.destroy(),
        );
      }, 300);
    });
    const conn = client(s.port);
    const started = Date.now();
    const r = await fetchOn(conn, 'POST', '/continue', { headers: { expect: '100-continue' }, body: 'the payload' });
    expect(r.status).toBe(200);
    expect(await text(r)).toBe('the payload');
    expect(s.requests[0]!.headers['expect']).toBe('100-continue');
    expect(info).toMatchObject({ bufferedAtStart: 0, bytesWhileWaiting: 0, bufferedBeforeContinue: 0 });
    expect(info['dataAfterContinue']).toBeGreaterThanOrEqual(0);
    // Sent on the 100, not on the client's fallback timer (1 s).
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('Expect: 100-continue answered 417 without reading the body: the body is never sent; the next request works', async () => {
    const s = await httpServer();
    let bodyBytes = 0;
    s.server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
      s.record(req);
      req.on('data', (c: Buffer) => (bodyBytes += c.length));
      res.writeHead(417, { 'content-type': 'text/plain' });
      res.end('expectation failed');
    });
    const conn = client(s.port, { timeout: 3000 });
    await conn.request('POST', '/refuse', { headers: { expect: '100-continue' }, body: 'never sent' });
    await conn.request('GET', '/path/after');
    const refused = await conn.getResponse();
    expect(refused.status).toBe(417);
    expect(await text(refused)).toBe('expectation failed');
    const after = await conn.getResponse();
    expect(after.status).toBe(200);
    expect(await text(after)).toBe('/path/after');
    expect(bodyBytes).toBe(0);
  });

  it('a final status to Expect: 100-continue on a kept-alive connection: the next request goes on a new connection', async () => {
    // The server does not close, but the body announced by Content-Length
    // was never sent: the connection's framing is lost, so it must not
    // carry the queued request.
    const raw = await rawServer((req) => {
      if (req.method === 'POST') req.conn.socket.write('HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\n\r\nnope');
      else if (req.method === 'GET' && req.path === '/after') req.conn.socket.write(ok('after'));
      else req.conn.socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    const conn = client(raw.port, { timeout: 3000 });
    await conn.request('POST', '/upload', { headers: { expect: '100-continue' }, body: 'payload!' });
    await conn.request('GET', '/after');
    const refused = await conn.getResponse();
    expect(refused.status).toBe(417);
    expect(await text(refused)).toBe('nope');
    const after = await conn.getResponse();
    expect(after.status).toBe(200);
    expect(await text(after)).toBe('after');
    expect(raw.conns).toHaveLength(2);
    expect(raw.conns[0]!.received.toString('latin1')).not.toContain('payload!');
    expect(raw.conns[0]!.received.toString('latin1')).not.toContain('/after');
    expect(raw.conns[1]!.heads[0]!.split('\r\n')[0]).toBe('GET /after HTTP/1.1');
  });

  async function* slowBody(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 40; i++) {
      yield Buffer.alloc(16 * 1024, 0x61 + (i % 26));
      await sleep(10);
    }
  }

  it('a final response while a streamed body is still being sent: the next request is not sent behind the partial body', async () => {
    // Node answers 413 with keep-alive and discards the rest of the body; a
    // request head sent after a partial chunked body would be read as a
    // chunk size (a clientError). The follow-up is a POST, which a retry
    // on a new connection must not paper over.
    const s = await httpServer();
    const conn = client(s.port, { timeout: 3000 });
    await conn.request('POST', '/respond-early', { body: slowBody() });
    await conn.request('POST', '/echo', { body: 'after' });
    const early = await conn.getResponse();
    expect(early.status).toBe(413);
    expect(early.headers.first('connection')).toBe('keep-alive');
    expect(await text(early)).toBe('too large');
    const after = await conn.getResponse();
    expect(after.status).toBe(200);
    expect((JSON.parse(await text(after)) as Echo).body).toBe('after');
    // The client gave up the partial body by closing (Node sees an EOF
    // mid-body); it never sent a head where Node expected a chunk size.
    expect(s.clientErrors.map((e) => (e as NodeJS.ErrnoException).code).filter((c) => c !== 'HPE_INVALID_EOF_STATE')).toEqual([]);
    expect(s.requests.map((r) => [r.url, r.connection])).toEqual([
      ['/respond-early', 0],
      ['/echo', 1],
    ]);
  });

  it('the same against a raw server: the next request goes on a new connection', async () => {
    const raw = await rawServer((req) => {
      if (req.path === '/upload') req.conn.socket.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n\r\ntoo large');
      else if (req.path === '/after') req.conn.socket.write(ok('after'));
      else req.conn.socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    const conn = client(raw.port, { timeout: 3000 });
    await conn.request('POST', '/upload', { body: slowBody() });
    await conn.request('POST', '/after', { body: 'x' });
    expect((await conn.getResponse()).status).toBe(413);
    const after = await conn.getResponse();
    expect(after.status).toBe(200);
    expect(await text(after)).toBe('after');
    expect(raw.conns).toHaveLength(2);
    expect(raw.conns[0]!.received.toString('latin1')).not.toContain('/after');
  });

  it('gzip, deflate and br bodies are decoded by default, and raw with decodeContent: false', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    const g = await fetchOn(conn, 'GET', '/gzip');
    expect(g.headers.first('content-encoding')).toBe('gzip');
    expect(await text(g)).toBe(GZIP_TEXT);
    const d = await fetchOn(conn, 'GET', '/deflate');
    expect(await text(d)).toBe(DEFLATE_TEXT);
    const b = await fetchOn(conn, 'GET', '/br');
    const parts: Buffer[] = [];
    for await (const chunk of b.readChunked()) parts.push(chunk);
    expect(Buffer.concat(parts).toString()).toBe(BR_TEXT);
    for (const [route, encoded] of [
      ['/gzip', GZIPPED],
      ['/deflate', DEFLATED],
      ['/br', BROTLIED],
    ] as const) {
      const raw = await fetchOn(conn, 'GET', route);
      expect((await raw.read(undefined, { decodeContent: false })).equals(encoded)).toBe(true);
    }
    expect(s.sockets).toHaveLength(1);
  });
});

describe('the server closing connections', () => {
  it('Connection: close from the server: the next request reconnects transparently', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    const a = await fetchOn(conn, 'GET', '/close?n=1');
    expect(a.headers.first('connection')).toBe('close');
    expect(await text(a)).toBe('/close?n=1');
    const b = await fetchOn(conn, 'GET', '/close?n=2');
    expect(await text(b)).toBe('/close?n=2');
    expect(s.sockets).toHaveLength(2);
    expect(s.requests.map((r) => r.connection)).toEqual([0, 1]);
    expect(s.requests[0]!.remotePort).not.toBe(s.requests[1]!.remotePort);
  });

  it('a server that closes an idle keep-alive socket: the next GET still succeeds', async () => {
    const s = await httpServer();
    s.server.keepAliveTimeout = 100;
    const conn = client(s.port);
    expect(await text(await fetchOn(conn, 'GET', '/path/1'))).toBe('/path/1');
    await until(() => s.sockets[0]!.destroyed, 3000, 'the server closing the idle socket');
    await sleep(50);
    expect(await text(await fetchOn(conn, 'GET', '/path/2'))).toBe('/path/2');
    expect(s.sockets).toHaveLength(2);
  });

  it('a kept-alive socket closed as a GET is sent on it: the GET is retried on a new connection', async () => {
    const raw = await rawServer((req) => {
      // The first connection answers once, then closes as the second request arrives.
      if (req.conn.index === 0 && req.n === 1) req.conn.socket.end();
      else req.conn.socket.write(ok(`${req.path} on ${req.conn.index}`));
    });
    const conn = client(raw.port);
    expect(await text(await fetchOn(conn, 'GET', '/first'))).toBe('/first on 0');
    expect(await text(await fetchOn(conn, 'GET', '/second'))).toBe('/second on 1');
    expect(raw.conns).toHaveLength(2);
    expect(raw.conns[0]!.heads.map((h) => h.split('\r\n')[0])).toEqual(['GET /first HTTP/1.1', 'GET /second HTTP/1.1']);
  });

  it('... but a POST is not retried: it fails with ConnectionError', async () => {
    const raw = await rawServer((req) => {
      if (req.conn.index === 0 && req.n === 1) req.conn.socket.end();
      else req.conn.socket.write(ok(`${req.path} on ${req.conn.index}`));
    });
    const conn = client(raw.port);
    expect(await text(await fetchOn(conn, 'GET', '/first'))).toBe('/first on 0');
    await conn.request('POST', '/second', { body: 'side effect' });
    const err = await caught(conn.getResponse());
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe('HW_ERR_CONNECTION_CLOSED');
    expect(raw.conns).toHaveLength(1);
    expect(await text(await fetchOn(conn, 'GET', '/third'))).toBe('/third on 1');
  });

  it('a server that closes a fresh connection without answering: ConnectionError, not a retry', async () => {
    const raw = await rawServer((req) => {
      if (req.conn.index === 0) req.conn.socket.end();
      else req.conn.socket.write(ok('ok'));
    });
    const conn = client(raw.port);
    await conn.request('GET', '/');
    const err = await caught(conn.getResponse());
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe('HW_ERR_CONNECTION_CLOSED');
    expect(raw.conns).toHaveLength(1);
    expect(await text(await fetchOn(conn, 'GET', '/'))).toBe('ok');
  });

  it('connecting to a port nobody listens on is a ConnectionError (HW_ERR_CONNECT)', async () => {
    const raw = await rawServer(() => {});
    const port = raw.port;
    // Close it again: the port is now (very likely) unused.
    await cleanups.pop()!();
    const conn = client(port);
    const err = await caught(conn.request('GET', '/'));
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe('HW_ERR_CONNECT');
  });
});

describe('caller errors are TypeErrors, and nothing is sent', () => {
  const bad: Array<[string, (conn: HTTP11Connection) => Promise<unknown>]> = [
    ['CR LF in a header value', (c) => c.request('GET', '/path/x', { headers: { 'x-a': 'v\r\nInjected: 1' } })],
    ['LF in a header value', (c) => c.request('GET', '/path/x', { headers: { 'x-a': 'v\nInjected: 1' } })],
    ['NUL in a header value', (c) => c.request('GET', '/path/x', { headers: { 'x-a': 'v\0' } })],
    ['a header name with a space', (c) => c.request('GET', '/path/x', { headers: { 'bad name': 'v' } })],
    ['a header name with a colon', (c) => c.request('GET', '/path/x', { headers: [['x-a:', 'v']] })],
    ['an empty header name', (c) => c.request('GET', '/path/x', { headers: { '': 'v' } })],
    ['a space in the path', (c) => c.request('GET', '/a b')],
    ['CR LF in the path', (c) => c.request('GET', '/a\r\nHost: evil')],
    ['LF in the path', (c) => c.request('GET', '/a\nb')],
    ['a path not starting with /', (c) => c.request('GET', 'http://elsewhere/')],
    ['a method with a space', (c) => c.request('GE T', '/path/x')],
    ['a method with CR LF', (c) => c.request('GET /x HTTP/1.1\r\n', '/path/x')],
    ['an empty method', (c) => c.request('', '/path/x')],
    ['a boolean header value', (c) => c.request('GET', '/path/x', { headers: { 'x-a': true as unknown as string } })],
    ['a null header value', (c) => c.request('GET', '/path/x', { headers: { 'x-a': null as unknown as string } })],
    ['an object header value', (c) => c.request('GET', '/path/x', { headers: { 'x-a': {} as unknown as string } })],
    ['a number header value in pairs', (c) => c.request('GET', '/path/x', { headers: [['x-a', 5 as unknown as string]] })],
    ['Content-Length not matching a string body', (c) => c.request('POST', '/path/x', { body: 'hello', headers: { 'content-length': '3' } })],
    ['Content-Length on a request without a body', (c) => c.request('POST', '/path/x', { headers: { 'content-length': '3' } })],
    ['an invalid Content-Length', (c) => c.request('POST', '/path/x', { body: 'hello', headers: { 'content-length': '5, 5' } })],
    ['a body of the wrong type', (c) => c.request('POST', '/path/x', { body: 42 as unknown as string })],
  ];

  it.each(bad)('%s', async (_name, make) => {
    const s = await httpServer();
    const conn = client(s.port);
    // Before any connection exists: none is made.
    await expect(make(conn)).rejects.toBeInstanceOf(TypeError);
    expect(s.sockets).toHaveLength(0);
    // On a live connection: nothing is written, and the connection goes on.
    expect(await text(await fetchOn(conn, 'GET', '/path/1'))).toBe('/path/1');
    await expect(make(conn)).rejects.toBeInstanceOf(TypeError);
    expect(await text(await fetchOn(conn, 'GET', '/path/2'))).toBe('/path/2');
    expect(s.requests.map((r) => r.url)).toEqual(['/path/1', '/path/2']);
    expect(s.sockets).toHaveLength(1);
  });

  it('a number header value in an object is sent as its decimal string', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    expect(await text(await fetchOn(conn, 'GET', '/path/n', { headers: { 'x-n': 42 } }))).toBe('/path/n');
    expect(s.requests[0]!.headers['x-n']).toBe('42');
  });
});

describe('malformed responses: HTTP11Error, and the next request reconnects', () => {
  interface Case {
    name: string;
    /** What the server writes for /bad; `end` closes the connection after it. */
    bytes: string;
    end?: boolean;
    code: string;
    /** Where the error shows: the response itself, or reading its body (the head was fine). */
    at: 'response' | 'body';
  }
  const cases: Case[] = [
    { name: 'a bad status line (letters in the code)', bytes: 'HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n', code: 'HW_ERR_H1_STATUS_LINE', at: 'response' },
    { name: 'a bad status line (not HTTP)', bytes: 'ICY 200 OK\r\nContent-Length: 0\r\n\r\n', code: 'HW_ERR_H1_STATUS_LINE', at: 'response' },
    { name: 'conflicting Content-Length', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', code: 'HW_ERR_H1_CONTENT_LENGTH', at: 'response' },
    { name: 'conflicting Content-Length in one list', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!', code: 'HW_ERR_H1_CONTENT_LENGTH', at: 'response' },
    { name: 'a bad chunk size', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', code: 'HW_ERR_H1_CHUNK', at: 'body' },
    { name: 'chunk data not followed by CRLF', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n', code: 'HW_ERR_H1_CHUNK', at: 'body' },
    { name: 'a head over the 64 KiB default limit', bytes: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\nContent-Length: 0\r\n\r\n`, code: 'HW_ERR_H1_HEADER_SIZE', at: 'response' },
    { name: 'a head over the limit in many fields', bytes: `HTTP/1.1 200 OK\r\n${'X-Many: 0123456789abcdef\r\n'.repeat(3000)}Content-Length: 0\r\n\r\n`, code: 'HW_ERR_H1_HEADER_SIZE', at: 'response' },
    { name: 'a body cut short by close', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this', end: true, code: 'HW_ERR_H1_INCOMPLETE', at: 'body' },
    { name: 'a chunked body cut short by close', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel', end: true, code: 'HW_ERR_H1_INCOMPLETE', at: 'body' },
    { name: 'a head cut short by close', bytes: 'HTTP/1.1 200 OK\r\nContent-Le', end: true, code: 'HW_ERR_H1_INCOMPLETE', at: 'response' },
    { name: 'a 101 nobody asked for', bytes: 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n', code: 'HW_ERR_H1_UPGRADE', at: 'response' },
  ];

  it.each(cases)('$name → $code', async ({ bytes, end, code, at }) => {
    const raw = await rawServer((req) => {
      if (req.path === '/bad') {
        if (end === true) req.conn.socket.end(bytes);
        else req.conn.socket.write(bytes);
      } else req.conn.socket.write(ok('good'));
    });
    const conn = client(raw.port, { timeout: 3000 });
    await conn.request('GET', '/bad');
    let err: unknown;
    if (at === 'response') err = await caught(conn.getResponse());
    else {
      const r = await conn.getResponse();
      expect(r.status).toBe(200);
      err = await caught(r.read());
    }
    expect(err).toBeInstanceOf(HTTP11Error);
    expect((err as HTTP11Error).code).toBe(code);
    // The connection is not trusted after that: the server sees it closed,
    // and the next request goes out on a new one.
    await within(raw.conns[0]!.closed, 3000, 'the bad connection closing');
    expect(await text(await fetchOn(conn, 'GET', '/good'))).toBe('good');
    expect(raw.conns).toHaveLength(2);
  });

  it('a larger maxHeaderSize admits a larger head', async () => {
    const raw = await rawServer((req) => req.conn.socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\nContent-Length: 2\r\n\r\nok`));
    const conn = client(raw.port, { maxHeaderSize: 128 * 1024 });
    const r = await fetchOn(conn, 'GET', '/');
    expect(r.headers.first('x-big')).toHaveLength(70_000);
    expect(await text(r)).toBe('ok');
  });
});

describe('stalls', () => {
  it('a server that accepts and never answers: getResponse rejects with TimeoutError, and nothing hangs', async () => {
    const raw = await rawServer(() => {});
    const conn = client(raw.port, { timeout: 300 });
    await conn.request('GET', '/never');
    const started = Date.now();
    const err = await caught(conn.getResponse());
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe('HW_ERR_READ_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(3000);
    // The stalled socket is given up.
    await within(raw.conns[0]!.closed, 2000, 'the stalled socket closing');
    await within(conn.close(), 2000, 'close()');
  });

  it('headers then a stalled body: read() rejects with TimeoutError; after close() the next request works', async () => {
    const s = await httpServer();
    const conn = client(s.port, { timeout: 300 });
    const r = await fetchOn(conn, 'GET', '/stall-body');
    expect(r.status).toBe(200);
    const err = await caught(r.read());
    expect(err).toBeInstanceOf(TimeoutError);
    r.close();
    expect(await text(await fetchOn(conn, 'GET', '/path/after'))).toBe('/path/after');
    expect(s.sockets).toHaveLength(2);
  });

  it('a stalled body gives up the wire by itself: a request queued behind it is answered without close()', async () => {
    const s = await httpServer();
    const conn = client(s.port, { timeout: 300 });
    await conn.request('GET', '/stall-body');
    await conn.request('GET', '/path/queued');
    const stalled = await conn.getResponse();
    expect(await caught(stalled.read())).toBeInstanceOf(TimeoutError);
    // Later reads of the stalled body keep failing; the queued request goes out on a new socket.
    expect(await caught(stalled.read())).toBeInstanceOf(TimeoutError);
    expect(await text(await conn.getResponse())).toBe('/path/queued');
    expect(s.sockets).toHaveLength(2);
  });

  it('a queued request is timed from when it is sent, not while it waits behind a stalled body', async () => {
    const s = await httpServer();
    const conn = client(s.port, { timeout: 300 });
    await conn.request('GET', '/stall-body');
    await conn.request('POST', '/echo', { body: 'sent after the stall' });
    const stalled = await conn.getResponse();
    const queued = conn.getResponse();
    // The stalled body times out and gives up the wire; only then does the
    // POST go out (on a new socket), and it is answered in time.
    await expect(stalled.read()).rejects.toBeInstanceOf(TimeoutError);
    expect(JSON.parse(await text(await queued))).toMatchObject({ method: 'POST', body: 'sent after the stall' });
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /stall-body', 'POST /echo']);
    expect(s.sockets).toHaveLength(2);
  });
});

describe('response.close()', () => {
  it('on an unfinished large body closes the connection; the next request works on a new one', async () => {
    const size = 16 * 1024 * 1024;
    const s = await httpServer();
    const conn = client(s.port);
    const r = await fetchOn(conn, 'GET', `/big?size=${size}`);
    const start = await r.read(1000);
    expect(start.equals(patternBytes(1000, 'big'))).toBe(true);
    r.close();
    const err = await caught(r.read());
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe('HW_ERR_STREAM_CANCELLED');
    await until(() => s.sockets[0]!.destroyed, 3000, 'the server seeing the abandoned socket close');
    expect(await text(await fetchOn(conn, 'GET', '/path/after'))).toBe('/path/after');
    expect(s.sockets).toHaveLength(2);
  });

  it('on a finished body keeps the connection', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    const r = await fetchOn(conn, 'GET', '/hello');
    expect(await text(r)).toBe('hello world');
    r.close();
    expect(await text(await fetchOn(conn, 'GET', '/path/after'))).toBe('/path/after');
    expect(s.sockets).toHaveLength(1);
  });
});

describe('TLS', () => {
  /** An https server recording the protocols each client offered by ALPN, and what was selected. */
  async function httpsServer(offered: string[][], selected: Array<string | false | null> = []): Promise<AppServer> {
    const server = https.createServer({
      key,
      cert,
      ALPNCallback: ({ protocols }) => {
        offered.push(protocols);
        return protocols.includes('http/1.1') ? 'http/1.1' : undefined;
      },
    });
    server.on('secureConnection', (socket) => selected.push(socket.alpnProtocol));
    return startServer(server);
  }

  it('over node:https with the test CA, offering http/1.1 by ALPN; keep-alive works', async () => {
    const offered: string[][] = [];
    const selected: Array<string | false | null> = [];
    const s = await httpsServer(offered, selected);
    const conn = new HTTP11Connection(`127.0.0.1:${s.port}`, { tls: { ca: cert }, timeout: 5000, closeTimeout: 1000 });
    cleanups.push(() => within(conn.close(), 5000, 'conn.close()'));
    expect(conn.secure).toBe(true);
    expect(await text(await fetchOn(conn, 'GET', '/path/1'))).toBe('/path/1');
    const echo = JSON.parse(await text(await fetchOn(conn, 'POST', '/echo', { body: 'over tls' }))) as Echo;
    expect(echo.body).toBe('over tls');
    expect(offered).toEqual([['http/1.1']]);
    expect(s.sockets).toHaveLength(1);
    expect(selected).toEqual(['http/1.1']);
    expect(s.requests[0]!.headers.host).toBe(`127.0.0.1:${s.port}`);
  });

  it('a certificate the client does not trust is a TLSError (HW_ERR_TLS)', async () => {
    const s = await httpsServer([]);
    const conn = new HTTP11Connection(`127.0.0.1:${s.port}`, { timeout: 5000 });
    cleanups.push(() => within(conn.close(), 5000, 'conn.close()'));
    const err = await caught(conn.request('GET', '/path/x'));
    expect(err).toBeInstanceOf(TLSError);
    expect((err as TLSError).code).toBe('HW_ERR_TLS');
    expect(s.requests).toHaveLength(0);
  });

  it('a server that selects only h2 by ALPN is a TLSError (HW_ERR_ALPN); no request is sent', async () => {
    const server = http2.createSecureServer({ key, cert, allowHTTP1: false });
    let streams = 0;
    server.on('stream', (stream) => {
      streams++;
      stream.respond({ ':status': 200 });
      stream.end('h2');
    });
    const sockets: net.Socket[] = [];
    server.on('connection', (socket: net.Socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await within(new Promise<void>((resolve) => server.close(() => resolve())), 5000, 'h2 server close()');
    });
    const conn = new HTTP11Connection(`127.0.0.1:${(server.address() as AddressInfo).port}`, { tls: { ca: cert }, timeout: 3000 });
    cleanups.push(() => within(conn.close(), 5000, 'conn.close()'));
    const err = await caught(conn.request('GET', '/'));
    expect(err).toBeInstanceOf(TLSError);
    expect((err as TLSError).code).toBe('HW_ERR_ALPN');
    expect(streams).toBe(0);
  });
});

describe('close()', () => {
  it('requests queued but not sent reject with ConnectionError; the one on the wire finishes; a closed connection rejects new requests', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    await conn.request('GET', '/slow?ms=150');
    await conn.request('GET', '/path/queued-1');
    await conn.request('POST', '/echo', { body: 'queued 2' });
    const first = conn.getResponse();
    await within(
      until(() => s.requests.length === 1, 2000, 'the first request reaching the server'),
      3000,
      'first request',
    );
    await within(conn.close(), 3000, 'close()');
    const r = await first;
    expect(await text(r)).toBe('/slow?ms=150');
    for (let i = 0; i < 2; i++) {
      const err = await caught(conn.getResponse());
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as ConnectionError).code).toBe('HW_ERR_CONNECTION_CLOSED');
    }
    const late = await caught(conn.request('GET', '/path/late'));
    expect(late).toBeInstanceOf(ConnectionError);
    expect((late as ConnectionError).code).toBe('HW_ERR_CONNECTION_CLOSED');
    await expect(conn.connect()).rejects.toBeInstanceOf(ConnectionError);
    expect(s.requests.map((q) => q.url)).toEqual(['/slow?ms=150']);
    await until(() => s.sockets[0]!.destroyed, 2000, 'the server seeing the socket close');
  });

  it('close() while the first request is still connecting: the request fails and nothing is sent', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    const pending = conn.request('GET', '/path/never');
    const closing = conn.close();
    const err = await caught(pending);
    await within(closing, 3000, 'close()');
    expect(err).toBeInstanceOf(ConnectionError);
    await sleep(100);
    expect(s.requests).toHaveLength(0);
    // No socket is left open behind the closed connection.
    await until(() => s.sockets.every((socket) => socket.destroyed), 2000, 'every server socket closing');
  });

  it('close() on an idle connection closes its socket', async () => {
    const s = await httpServer();
    const conn = client(s.port);
    expect(await text(await fetchOn(conn, 'GET', '/hello'))).toBe('hello world');
    await within(conn.close(), 3000, 'close()');
    await until(() => s.sockets[0]!.destroyed, 2000, 'the server seeing the socket close');
    await expect(conn.request('GET', '/hello')).rejects.toBeInstanceOf(ConnectionError);
  });
});
