/**
 * HTTPConnection against Node's own servers: the protocol choice, one TLS
 * handshake whichever protocol is chosen, and the calls that differ
 * between HTTP/2 and HTTP/1.1.
 */

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { HTTPConnection } from '../lib/connection.js';
import { HTTP11Response } from '../lib/http1/response.js';
import { HTTP20Response } from '../lib/http2/response.js';
import { CERT_FILE, KEY_FILE } from './helpers/servers.js';

const key = readFileSync(KEY_FILE);
const cert = readFileSync(CERT_FILE);
const closers: Array<() => void> = [];

afterEach(() => {
  for (const close of closers.splice(0)) close();
});

interface Served {
  port: number;
  handshakes: () => number;
  /** Every request's method, path and the upgrade header it carried. */
  seen: Array<{ version: string; path: string; upgrade: string | undefined; xTest?: string | undefined }>;
}

async function listen(server: http.Server | https.Server | http2.Http2SecureServer, seen: Served['seen'], tlsEvent: string | null): Promise<Served> {
  let handshakes = 0;
  if (tlsEvent !== null) server.on(tlsEvent, () => handshakes++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, handshakes: () => handshakes, seen };
}

const answer =
  (seen: Served['seen']) =>
  (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    seen.push({ version: req.httpVersion, path: req.url ?? '', upgrade: req.headers['upgrade'] as string | undefined, xTest: req.headers['x-test'] as string | undefined });
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.end(`${req.url} ${n}`));
  };

/** TLS with h2 and http/1.1 by ALPN. */
function both(): Promise<Served> {
  const seen: Served['seen'] = [];
  return listen(http2.createSecureServer({ key, cert, allowHTTP1: true }, answer(seen)), seen, 'secureConnection');
}

/** TLS with HTTP/1.1 only. */
function h1tls(): Promise<Served> {
  const seen: Served['seen'] = [];
  return listen(https.createServer({ key, cert }, answer(seen)), seen, 'secureConnection');
}

/** Cleartext HTTP/1.1 (it ignores Upgrade: h2c). */
function plain(): Promise<Served> {
  const seen: Served['seen'] = [];
  return listen(http.createServer(answer(seen)), seen, null);
}

async function body(r: HTTP20Response | HTTP11Response): Promise<string> {
  return (await r.read()).toString();
}

describe('HTTPConnection', () => {
  it('h2 by ALPN: stream IDs, any order, one TLS handshake', async () => {
    const server = await both();
    await using conn = new HTTPConnection(`127.0.0.1:${server.port}`, { tls: { ca: cert }, timeout: 5000 });
    expect(conn.protocol).toBeNull();
    const a = await conn.request('GET', '/a');
    const b = await conn.request('POST', '/b', { body: 'xyz' });
    expect(conn.protocol).toBe('h2');
    expect([a, b]).toEqual([1, 3]);
    const rb = await conn.getResponse(b);
    expect(rb).toBeInstanceOf(HTTP20Response);
    expect(await body(rb)).toBe('/b 3');
    expect(await body(await conn.getResponse(a))).toBe('/a 0');
    expect(server.handshakes()).toBe(1);
    expect(server.seen.map((s) => s.version)).toEqual(['2.0', '2.0']);
  });

  it('http/1.1 by ALPN on the same socket: null IDs, responses in request order, one TLS handshake', async () => {
    const server = await h1tls();
    await using conn = new HTTPConnection(`127.0.0.1:${server.port}`, { tls: { ca: cert }, timeout: 5000 });
    const ids = [await conn.request('GET', '/1'), await conn.request('PUT', '/2', { body: 'ab' }), await conn.request('GET', '/3')];
    expect(ids).toEqual([null, null, null]);
    expect(conn.protocol).toBe('http/1.1');
    const texts = [];
    for (let i = 0; i < 3; i++) {
      const r = await conn.getResponse();
      expect(r).toBeInstanceOf(HTTP11Response);
      expect(r.reason).toBe('OK');
      texts.push(await body(r));
    }
    expect(texts).toEqual(['/1 0', '/2 2', '/3 0']);
    expect(server.handshakes()).toBe(1);
  });

  it('forceProto http/1.1 against an h2 server offers only http/1.1', async () => {
    const server = await both();
    await using conn = new HTTPConnection(`127.0.0.1:${server.port}`, { tls: { ca: cert }, forceProto: 'http/1.1', timeout: 5000 });
    expect(await conn.request('GET', '/x')).toBeNull();
    expect(await body(await conn.getResponse())).toBe('/x 0');
    expect(server.seen[0]!.version).toBe('1.1');
  });

  it('forceProto must be h2 or http/1.1', () => {
    expect(() => new HTTPConnection('127.0.0.1:1', { forceProto: 'spdy' as 'h2' })).toThrow(TypeError);
  });

  it('on HTTP/1.1, a stream ID, ping() and pushes behave as documented', async () => {
    const server = await h1tls();
    await using conn = new HTTPConnection(`127.0.0.1:${server.port}`, { tls: { ca: cert }, timeout: 5000 });
    await conn.request('GET', '/p');
    await expect(conn.getResponse(1)).rejects.toThrow(/HTTP\/1\.1/);
    await expect(conn.ping()).rejects.toThrow(/HTTP\/2/);
    const pushes = [];
    for await (const push of conn.getPushes({ captureAll: true })) pushes.push(push);
    expect(pushes).toEqual([]);
    expect(await body(await conn.getResponse())).toBe('/p 0');
  });

  it('cleartext: the first request offers Upgrade: h2c; a server that ignores it keeps HTTP/1.1', async () => {
    const server = await plain();
    await using conn = new HTTPConnection(`127.0.0.1:${server.port}`, { secure: false, timeout: 5000 });
    expect(await conn.request('GET', '/u')).toBeNull();
    expect(conn.protocol).toBe('http/1.1');
    await conn.request('GET', '/v');
    expect(await body(await conn.getResponse())).toBe('/u 0');
    expect(await body(await conn.getResponse())).toBe('/v 0');
    // Only the first request asks.
    expect(server.seen.map((s) => s.upgrade)).toEqual(['h2c', undefined]);
  });

  it('cleartext: no upgrade with upgrade: false, with a streamed body, or with a Connection header of the caller', async () => {
    for (const [options, request] of [
      [{ upgrade: false }, {}],
      [{}, { body: Readable.from([Buffer.from('s')]) }],
      [{}, { headers: { Connection: 'close' } }],
    ] as const) {
      const server = await plain();
      await using conn = new HTTPConnection(`127.0.0.1:${server.port}`, { secure: false, timeout: 5000, ...options });
      await conn.request('POST', '/n', request);
      await (await conn.getResponse()).read();
      expect(server.seen[0]!.upgrade).toBeUndefined();
    }
  });

  it('headers given as a one-shot iterable reach the server on the first request too', async () => {
    for (const options of [{ forceProto: 'http/1.1' as const }, {}]) {
      const server = await plain();
      await using conn = new HTTPConnection(`127.0.0.1:${server.port}`, { secure: false, timeout: 5000, ...options });
      await conn.request('GET', '/first', { headers: new Map([['x-test', 'one']]).entries() });
      await (await conn.getResponse()).read();
      await conn.request('GET', '/second', { headers: (function* () { yield ['x-test', 'two'] as [string, string]; })() });
      await (await conn.getResponse()).read();
      expect(server.seen.map((s) => s.path)).toEqual(['/first', '/second']);
      expect(server.seen.map((s) => s.xTest)).toEqual(['one', 'two']);
    }
  });

  it('rejects an illegal method, path or header before even connecting', async () => {
    const server = await plain();
    let connections = 0;
    const counted = http.createServer();
    counted.on('connection', () => connections++);
    counted.listen(0, '127.0.0.1');
    await once(counted, 'listening');
    closers.push(() => counted.close());
    const conn = new HTTPConnection(`127.0.0.1:${(counted.address() as AddressInfo).port}`, { secure: false, timeout: 5000 });
    await expect(conn.request('GET', '/', { headers: { 'x-a': 'b\r\nx-c: d' } })).rejects.toThrow(TypeError);
    await expect(conn.request('GET', '/a b')).rejects.toThrow(TypeError);
    await expect(conn.request('G ET', '/')).rejects.toThrow(TypeError);
    await expect(conn.request('GET', '/', { headers: { 'bad name': 'v' } })).rejects.toThrow(TypeError);
    await conn.close();
    expect(connections).toBe(0);
    expect(server.seen).toEqual([]);
  });
});
