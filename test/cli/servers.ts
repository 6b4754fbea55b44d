/**
 * Local servers for the `hyper` tests, all on 127.0.0.1 with the same
 * routes: Node's http2 over TLS (h2 with push, HTTP/1.1 by ALPN for
 * --http1), Node's http/1.1 in cleartext, Node's http2 in cleartext (h2c
 * with prior knowledge), and a recording proxy in front of the h2c one
 * that parses every frame each way, so a test can hold `--debug` against
 * the frames the server actually saw.
 *
 * Routes:
 * - `/`            HTML; over h2 it pushes /style.css first
 * - `/json`        a JSON document (a number beyond double precision included)
 * - `/echo`        JSON: the method, path, query, headers and body received
 * - `/binary`      2048 octets with NULs in them
 * - `/status/N`    an empty response with status N
 * - `/redirect/N`  302 to /redirect/N-1; /redirect/0 answers 200
 * - `/slow`        never answers
 * - `/files/NAME`  FILE_SIZE pattern octets, Range honoured, in slow-ish chunks;
 *                  `?cd=1` adds a Content-Disposition naming `disposed.bin`
 * - `/basic`       401 unless Basic ann:secret
 * - `/digest`      401 unless Digest (MD5, qop=auth) for ann:secret
 *
 * And a forward proxy for http:// targets (absolute-form requests), which
 * counts what it carried.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { CONNECTION_PREFACE, FrameReader, type Frame } from '../../lib/index.js';
import { Decoder } from '../../lib/hpack/index.js';
import { CERT_FILE, KEY_FILE, patternBytes } from '../helpers/servers.js';

/** The size of the /files/ bodies. */
export const FILE_SIZE = 3 * 1024 * 1024;
/** The body of every /files/ URL. */
export const FILE_BODY = patternBytes(FILE_SIZE, 'hyper-download');
export const FILE_SHA256 = createHash('sha256').update(FILE_BODY).digest('hex');

export const JSON_BODY = '{"name":"hyper","big":12345678901234567890,"list":[1,2.50,"x"],"ok":true,"nothing":null,"nested":{"a":{}}}';
export const HTML_BODY = '<!doctype html>\n<link rel="stylesheet" href="/style.css">\n<p>hello</p>\n';
export const BINARY_BODY = Buffer.from(Array.from({ length: 2048 }, (_, i) => i % 7 === 0 ? 0 : i & 0xff));

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/** The routes, over the compatibility API both servers share. */
function handle(req: Req, res: Res): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (path === '/') {
      const stream = 'stream' in res ? (res as http2.Http2ServerResponse).stream : null;
      if (stream !== null && stream.pushAllowed) {
        stream.pushStream({ ':path': '/style.css' }, (err, push) => {
          if (err) return;
          push.on('error', () => {});
          push.respond({ ':status': 200, 'content-type': 'text/css' });
          push.end('p { color: red }\n');
        });
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(HTML_BODY);
      return;
    }
    if (path === '/json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON_BODY);
      return;
    }
    if (path === '/echo') {
      const headers: Record<string, string | string[] | undefined> = { ...req.headers };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, path, query: Object.fromEntries(url.searchParams), headers, body: Buffer.concat(chunks).toString('utf8') }));
      return;
    }
    if (path === '/binary') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(BINARY_BODY);
      return;
    }
    const status = /^\/status\/(\d{3})$/.exec(path);
    if (status !== null) {
      res.writeHead(Number(status[1]));
      res.end();
      return;
    }
    const redirect = /^\/redirect\/(\d+)$/.exec(path);
    if (redirect !== null) {
      const n = Number(redirect[1]);
      if (n === 0) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('arrived\n');
      } else {
        res.writeHead(302, { location: `/redirect/${n - 1}` });
        res.end();
      }
      return;
    }
    if (path === '/slow') return;
    if (path === '/basic') {
      if (req.headers.authorization !== `Basic ${Buffer.from('ann:secret').toString('base64')}`) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('welcome ann\n');
      return;
    }
    if (path === '/digest') {
      if (!digestOk(req)) {
        res.writeHead(401, { 'www-authenticate': `Digest realm="${DIGEST_REALM}", qop="auth", nonce="${DIGEST_NONCE}", algorithm=MD5` });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('digest welcome ann\n');
      return;
    }
    if (path.startsWith('/files/')) {
      serveFile(req, res, url);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
}

const DIGEST_REALM = 'test';
const DIGEST_NONCE = 'dcd98b7102dd2f0e8b11d0f600bfb0c093';
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** Checks an Authorization: Digest for ann:secret (RFC 7616 §3.4.1, MD5, qop=auth). */
function digestOk(req: Req): boolean {
  const header = String(req.headers.authorization ?? '');
  if (!header.startsWith('Digest ')) return false;
  const params = new Map<string, string>();
  for (const m of header.slice(7).matchAll(/([a-z]+)=(?:"([^"]*)"|([^,\s]*))/gi)) params.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? '');
  const ha1 = md5(`ann:${DIGEST_REALM}:secret`);
  const ha2 = md5(`${req.method}:${params.get('uri')}`);
  const expected = md5(`${ha1}:${DIGEST_NONCE}:${params.get('nc')}:${params.get('cnonce')}:auth:${ha2}`);
  return params.get('username') === 'ann' && params.get('nonce') === DIGEST_NONCE && params.get('response') === expected;
}

/** A file with Range support (RFC 9110 §14), sent in 64 KiB pieces a few ms apart so a progress bar has something to show. */
function serveFile(req: Req, res: Res, url: URL): void {
  const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
  if (url.searchParams.get('cd') === '1') headers['content-disposition'] = 'attachment; filename="../disposed.bin"';
  let start = 0;
  let status = 200;
  const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
  if (range !== null) {
    start = Number(range[1]);
    if (start >= FILE_SIZE) {
      res.writeHead(416, { 'content-range': `bytes */${FILE_SIZE}` });
      res.end();
      return;
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${FILE_SIZE - 1}/${FILE_SIZE}`;
  }
  headers['content-length'] = FILE_SIZE - start;
  res.writeHead(status, headers);
  let at = start;
  const step = (): void => {
    if (at >= FILE_SIZE) {
      res.end();
      return;
    }
    const end = Math.min(FILE_SIZE, at + 64 * 1024);
    const chunk = FILE_BODY.subarray(at, end);
    at = end;
    (res as http.ServerResponse).write(chunk);
    setTimeout(step, 5);
  };
  step();
}

/** One frame as the proxy saw it. */
export interface SeenFrame {
  /** `send`: client to server; `recv`: server to client (the client's point of view, as --debug prints it). */
  direction: 'send' | 'recv';
  type: number;
  flags: number;
  streamId: number;
  length: number;
  /** HEADERS and PUSH_PROMISE (in one frame): the header block, decoded with the proxy's own decoder for that direction. */
  fields?: Array<[string, string]>;
}

/** The servers of a test file. */
export interface CliServers {
  /** TLS: h2 (with push) or http/1.1 by ALPN. */
  tlsPort: number;
  /** Cleartext HTTP/1.1. */
  h1Port: number;
  /** Cleartext HTTP/2, prior knowledge only. */
  h2cPort: number;
  /** The recording proxy in front of h2cPort. */
  proxyPort: number;
  /** Frames seen by the recording proxy, in order. */
  seen: SeenFrame[];
  /** A forward proxy for http:// URLs. */
  forwardProxyPort: number;
  /** The absolute-form targets the forward proxy carried. */
  proxied: string[];
  close(): Promise<void>;
}

/** Fixed ports to listen on (for a demonstration); any free port otherwise. */
export interface CliServerPorts {
  tls?: number;
  h1?: number;
  h2c?: number;
}

/** Starts the servers. */
export async function startCliServers(ports: CliServerPorts = {}): Promise<CliServers> {
  const tls = http2.createSecureServer({ key: readFileSync(KEY_FILE), cert: readFileSync(CERT_FILE), allowHTTP1: true }, handle);
  const h1 = http.createServer(handle);
  const h2c = http2.createServer(handle);
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  for (const server of [tls, h1, h2c]) server.on('connection', track);
  tls.on('secureConnection', track);
  const seen: SeenFrame[] = [];
  const proxy = net.createServer((client) => {
    track(client);
    const upstream = net.connect((h2c.address() as AddressInfo).port, '127.0.0.1');
    track(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    record(client, upstream, 'send', seen, CONNECTION_PREFACE.length);
    record(upstream, client, 'recv', seen, 0);
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.end());
  });
  const proxied: string[] = [];
  const forward = http.createServer((req, res) => {
    proxied.push(req.url ?? '');
    const target = new URL(req.url ?? '');
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: `${target.pathname}${target.search}`, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  forward.on('connection', track);
  const listen = (server: net.Server, port = 0): Promise<number> =>
    new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  const [tlsPort, h1Port, h2cPort, proxyPort, forwardProxyPort] = await Promise.all([listen(tls, ports.tls), listen(h1, ports.h1), listen(h2c, ports.h2c), listen(proxy), listen(forward)]);
  return {
    tlsPort,
    h1Port,
    h2cPort,
    proxyPort,
    seen,
    forwardProxyPort,
    proxied,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([tls, h1, h2c, proxy, forward].map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}

/** Forwards `from` to `to`, parsing the frames that pass (after `skip` octets: the client preface). */
function record(from: net.Socket, to: net.Socket, direction: 'send' | 'recv', seen: SeenFrame[], skip: number): void {
  const reader = new FrameReader({ maxFrameSize: (1 << 24) - 1 });
  const decoder = new Decoder();
  decoder.setMaxTableSize(0xffffffff);
  let left = skip;
  from.on('data', (chunk: Buffer) => {
    to.write(chunk);
    let data = chunk;
    if (left > 0) {
      const n = Math.min(left, data.length);
      left -= n;
      data = data.subarray(n);
    }
    if (data.length === 0) return;
    reader.push(Buffer.from(data));
    for (let f: Frame | null = reader.read(); f !== null; f = reader.read()) {
      const frame: SeenFrame = { direction, type: f.type, flags: f.flags, streamId: f.streamId, length: payloadLengthOf(f) };
      if ((f.type === 0x1 || f.type === 0x5) && (f.flags & 0x4) !== 0) frame.fields = decoder.decode(f.headerBlockFragment);
      seen.push(frame);
    }
  });
}

/** A frame's payload length as it was on the wire, from its parts (decode is byte-exact). */
function payloadLengthOf(f: Frame): number {
  switch (f.type) {
    case 0x0:
      return f.data.length + (f.flags & 0x8 ? f.padding + 1 : 0);
    case 0x1:
      return f.headerBlockFragment.length + (f.flags & 0x8 ? f.padding + 1 : 0) + (f.flags & 0x20 ? 5 : 0);
    case 0x2:
      return 5;
    case 0x3:
      return 4;
    case 0x4:
      return f.settings.length * 6;
    case 0x5:
      return 4 + f.headerBlockFragment.length + (f.flags & 0x8 ? f.padding + 1 : 0);
    case 0x6:
      return 8;
    case 0x7:
      return 8 + f.debugData.length;
    case 0x8:
      return 4;
    case 0x9:
      return f.headerBlockFragment.length;
    default:
      return f.payload.length;
  }
}
