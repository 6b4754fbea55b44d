/**
 * Local servers for the fetch tests, all on 127.0.0.1: two cleartext
 * HTTP/1.1 origins (for cross-origin redirects), an HTTPS origin that
 * speaks only HTTP/1.1, an HTTPS origin that speaks HTTP/2 (and HTTP/1.1
 * by ALPN), and a raw TCP server that answers each path with scripted
 * octets (malformed and truncated responses no real server sends).
 *
 * Every HTTP origin runs the same handler, so a request can be sent to any
 * of them. Routes:
 *
 * - `/echo...`: the request as JSON: method, target, header fields
 *   (lower-cased, sorted, without those that depend on the connection or
 *   the client's name, and with any multipart boundary replaced by
 *   `BOUNDARY`) and the body (latin1); the User-Agent in the response
 *   field `x-echo-user-agent`.
 * - `/status/:code[?reason=..]`: that status, with a body unless the
 *   status has none.
 * - `/redirect/:code?to=<url>`: a redirect (no Location without `to`);
 *   `&policy=` adds a Referrer-Policy.
 * - `/chain/:n`: n redirects in a row, then `/echo`; `/loop`: a redirect to itself.
 * - `/encoded?codings=a,b&as=<header value>`: "hello, encoded world" with
 *   the codings applied in order (gzip, x-gzip, deflate, deflate-raw, br;
 *   others leave the octets as they are), Content-Encoding `as` (default
 *   the codings); `&corrupt=1` sends octets that do not decode, `&empty=1` none.
 * - `/large/:bytes`: that many octets of a fixed pattern.
 * - `/headers`: many fields, repeated fields and three Set-Cookie fields.
 * - `/chunks`: a body written in pieces, without Content-Length.
 * - `/slow-head?ms=`: the head after a delay.
 * - `/slow-body`: the head and a first chunk, then nothing until the client goes.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CA = readFileSync(path.join(here, '..', 'helpers', 'certs', 'cert.pem'));
const KEY = readFileSync(path.join(here, '..', 'helpers', 'certs', 'key.pem'));

/** Request fields the echo leaves out: the connection's, and the client's name (compared on its own). */
const ECHO_SKIP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'http2-settings', 'te', 'user-agent']);

/** The body `/encoded` sends. */
export const ENCODED_TEXT = 'hello, encoded world';

/** The octets of `/large/:n`. */
export function largeBody(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}

function encode(data: Buffer, coding: string): Buffer {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gzipSync(data);
    case 'deflate':
      return zlib.deflateSync(data);
    case 'deflate-raw':
      return zlib.deflateRawSync(data);
    case 'br':
      return zlib.brotliCompressSync(data);
    default:
      return data;
  }
}

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/** What the echo returns. */
export interface Echo {
  method: string;
  target: string;
  headers: Array<[string, string]>;
  body: string;
}

/** The response field in which the echo reports the request's User-Agent (left out of the echo itself). */
export const ECHO_USER_AGENT = 'x-echo-user-agent';

/** Response fields every route adds: the Host (or :authority) and the HTTP version the server saw. */
export const ECHO_HOST = 'x-echo-host';
export const ECHO_VERSION = 'x-echo-http-version';

async function handle(req: Req, res: Res): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const target = req.url ?? '/';
  const url = new URL(target, 'http://x');
  const parts = url.pathname.split('/');
  const q = url.searchParams;
  res.setHeader(ECHO_HOST, String(req.headers.host ?? req.headers[':authority'] ?? ''));
  res.setHeader(ECHO_VERSION, req.httpVersion);
  const send = (status: number, headers: Record<string, string | string[]>, data?: Buffer | string): void => {
    res.writeHead(status, headers);
    if (data === undefined) res.end();
    else res.end(data);
  };
  switch (parts[1]) {
    case 'echo': {
      let boundary: string | null = null;
      const fields: Array<[string, string]> = [];
      const raw = req.rawHeaders;
      let userAgent: string | null = null;
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!.toLowerCase();
        let value = raw[i + 1]!;
        if (name.startsWith(':')) continue;
        if (name === 'user-agent') userAgent = value;
        if (ECHO_SKIP.has(name)) continue;
        // A first cleartext request asks to upgrade to h2c; its Connection
        // field is dropped above and so is what it lists.
        if (name === 'content-type') {
          const m = /boundary=([^;]+)/.exec(value);
          if (m !== null) {
            boundary = m[1]!;
            value = value.replace(boundary, 'BOUNDARY');
          }
        }
        fields.push([name, value]);
      }
      fields.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
      let text = body.toString('latin1');
      if (boundary !== null) text = text.split(boundary).join('BOUNDARY');
      const echo: Echo = { method: req.method ?? '', target, headers: fields, body: text };
      send(200, { 'content-type': 'application/json', [ECHO_USER_AGENT]: userAgent ?? '' }, JSON.stringify(echo));
      return;
    }
    case 'status': {
      const code = Number(parts[2]);
      const reason = q.get('reason');
      res.statusCode = code;
      if (reason !== null && 'statusMessage' in res && req.httpVersionMajor === 1) (res as http.ServerResponse).statusMessage = reason;
      if (q.get('gzip') !== null) res.setHeader('content-encoding', 'gzip');
      res.setHeader('content-type', 'text/plain');
      if (code === 204 || code === 304 || code === 205 || req.method === 'HEAD') res.end();
      else res.end(`body of ${code}`);
      return;
    }
    case 'redirect': {
      const code = Number(parts[2]);
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      const to = q.get('to');
      if (to !== null) headers['location'] = to;
      const policy = q.get('policy');
      if (policy !== null) headers['referrer-policy'] = policy;
      send(code, headers, `redirect ${code}`);
      return;
    }
    case 'raw-location': {
      // A Location with UTF-8 octets sent as they are (not percent-encoded):
      // Node writes header strings as latin1, one octet per character.
      send(302, { location: Buffer.from('/echo/caf\u00e9?q=\u00fc', 'utf8').toString('latin1') }, 'raw');
      return;
    }
    case 'chain': {
      const n = Number(parts[2]);
      send(302, { location: n <= 1 ? '/echo/end' : `/chain/${n - 1}` }, 'chain');
      return;
    }
    case 'loop':
      send(302, { location: '/loop' }, 'loop');
      return;
    case 'encoded': {
      const codings = (q.get('codings') ?? '').split(',').filter((c) => c !== '');
      let data: Buffer = Buffer.from(ENCODED_TEXT, 'utf8');
      for (const c of codings) data = encode(data, c);
      if (q.get('corrupt') !== null) data = Buffer.from('this is not compressed at all, not even a little');
      if (q.get('empty') !== null) data = Buffer.alloc(0);
      const as = q.get('as') ?? codings.map((c) => (c === 'deflate-raw' ? 'deflate' : c)).join(', ');
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (as !== '') headers['content-encoding'] = as;
      headers['content-length'] = String(data.length);
      res.writeHead(200, headers);
      if (req.method === 'HEAD') res.end();
      else res.end(data);
      return;
    }
    case 'large': {
      const data = largeBody(Number(parts[2]));
      send(200, { 'content-type': 'application/octet-stream', 'content-length': String(data.length) }, data);
      return;
    }
    case 'headers': {
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < 60; i++) headers.push([`x-field-${i}`, `value ${i}`]);
      headers.push(['x-dup', 'one'], ['x-dup', 'two'], ['x-dup', 'three']);
      headers.push(['set-cookie', 'a=1; Path=/'], ['set-cookie', 'b=2; HttpOnly'], ['set-cookie', 'c=3, d=4']);
      headers.push(['x-latin1', 'caf\u00e9'], ['x-spaces', 'inner   spaces']);
      const h: Record<string, string | string[]> = {};
      for (const [k, v] of headers) {
        const prev = h[k];
        h[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      send(200, h, 'headers');
      return;
    }
    case 'chunks': {
      // Several writes without a Content-Length: chunked on HTTP/1.1.
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 5; i++) (res as http.ServerResponse).write(`chunk ${i};`);
      res.end();
      return;
    }
    case 'slow-head': {
      const timer = setTimeout(() => send(200, { 'content-type': 'text/plain' }, 'slow'), Number(q.get('ms') ?? 1000));
      res.on('close', () => clearTimeout(timer));
      return;
    }
    case 'slow-body': {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      (res as http.ServerResponse).write(Buffer.alloc(1024, 0x61));
      const timer = setTimeout(() => res.end(), 10_000);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    default:
      send(404, { 'content-type': 'text/plain' }, 'not found');
  }
}

function handler(req: Req, res: Res): void {
  handle(req, res).catch(() => {
    try {
      res.destroy?.();
    } catch {
      // already gone
    }
  });
}

/** A raw response for each path of the raw server; a function gets the socket to do as it likes. */
const RAW: Record<string, string | ((socket: net.Socket) => void)> = {
  '/ok': 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok',
  '/bad-status-line': 'HTTP/1.1 abc Nope\r\ncontent-length: 0\r\n\r\n',
  '/not-http': 'this is not http at all\r\n\r\n',
  '/truncated': 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten..',
  '/close-early': (s) => s.destroy(),
  '/close-after-head': 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n',
  '/http10': 'HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nread until close',
  '/bad-chunk': 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n',
  '/reason': 'HTTP/1.1 299 Quite Fine, Thanks\r\ncontent-length: 0\r\n\r\n',
  '/empty-reason': 'HTTP/1.1 200 \r\ncontent-length: 2\r\n\r\nok',
  '/status-600': 'HTTP/1.1 600 Beyond\r\ncontent-length: 0\r\n\r\n',
  '/duplicate-cl': 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok!',
  '/obs-fold': 'HTTP/1.1 200 OK\r\nx-folded: one\r\n two\r\ncontent-length: 2\r\n\r\nok',
  '/ctl-reason': 'HTTP/1.1 200 O\x01K\r\ncontent-length: 2\r\n\r\nok',
  '/latin1-reason': 'HTTP/1.1 200 caf\xe9\r\ncontent-length: 2\r\n\r\nok',
  '/nul-value': 'HTTP/1.1 200 OK\r\nx-nul: a\x00b\r\ncontent-length: 2\r\n\r\nok',
  '/del-value': 'HTTP/1.1 200 OK\r\nx-del: a\x7fb\r\ncontent-length: 2\r\n\r\nok',
  '/switching': 'HTTP/1.1 101 Switching Protocols\r\nupgrade: other\r\nconnection: upgrade\r\n\r\n',
  '/early-hints': 'HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
  '/trailing-octets': 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nokEXTRA',
};

function rawHandler(socket: net.Socket): void {
  socket.on('error', () => {});
  let head = '';
  const onData = (chunk: Buffer): void => {
    head += chunk.toString('latin1');
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    socket.off('data', onData);
    const target = head.slice(0, head.indexOf('\r\n')).split(' ')[1] ?? '/';
    const script = RAW[target];
    if (script === undefined) socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    else if (typeof script === 'function') script(socket);
    else socket.end(Buffer.from(script, 'latin1'));
  };
  socket.on('data', onData);
}

/** The running servers. */
export interface FetchServers {
  /** http://127.0.0.1:port of the first and second cleartext origins. */
  httpA: string;
  httpB: string;
  /** https://127.0.0.1:port, HTTP/1.1 only. */
  https1: string;
  /** https://127.0.0.1:port, HTTP/2 (and HTTP/1.1 by ALPN). */
  h2: string;
  /** http://127.0.0.1:port of the raw server. */
  raw: string;
  /** A port nothing listens on. */
  closedPort: number;
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** Starts every server. */
export async function startFetchServers(): Promise<FetchServers> {
  const sockets = new Set<net.Socket | import('node:tls').TLSSocket>();
  const track = (server: net.Server): net.Server => {
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.on('secureConnection', (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    return server;
  };
  const a = track(http.createServer(handler));
  const b = track(http.createServer(handler));
  const s1 = track(https.createServer({ key: KEY, cert: CA, ALPNProtocols: ['http/1.1'] }, handler));
  const s2 = track(http2.createSecureServer({ key: KEY, cert: CA, allowHTTP1: true }, handler) as unknown as net.Server);
  const raw = track(net.createServer(rawHandler));
  const closed = net.createServer();
  const [pa, pb, p1, p2, pr, pc] = await Promise.all([listen(a), listen(b), listen(s1), listen(s2), listen(raw), listen(closed)]);
  await new Promise<void>((r) => closed.close(() => r()));
  return {
    httpA: `http://127.0.0.1:${pa}`,
    httpB: `http://127.0.0.1:${pb}`,
    https1: `https://127.0.0.1:${p1}`,
    h2: `https://127.0.0.1:${p2}`,
    raw: `http://127.0.0.1:${pr}`,
    closedPort: pc,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([a, b, s1, s2, raw].map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

/** SHA-256 of octets, hex. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
