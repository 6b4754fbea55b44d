/**
 * Interop of the HTTPConnection facade with real servers: the protocol it
 * settles on (ALPN over TLS, `Upgrade: h2c` or prior knowledge in
 * cleartext, forceProto), and that both protocols answer right behind the
 * same calls. Servers: nginx (h2 over TLS, HTTP/1.1 over TLS, cleartext
 * HTTP/1.1), h2o, nghttpd --no-tls, apache2 (h2c by Upgrade) and Node's
 * own http and https servers.
 */

import { chmod, readdir, readFile, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HTTP11Connection, HTTP20Connection, HTTPConnection, HyperwireError, TimeoutError, TLSError, type HTTPConnectionOptions } from '../../lib/index.js';
import {
  CERT_FILE,
  have,
  KEY_FILE,
  makeDocRoot,
  makeTempDir,
  patternBytes,
  startApache,
  startH2o,
  startNghttpd,
  startNginx,
  writePatternFile,
  type DocRoot,
  type ServedFile,
  type ServerHandle,
} from '../helpers/servers.js';
import { CA, closeWithin, collectPushes, eventually, expectBody, facadeConnections, hashBody, sha256, tcpSockets, within } from './verify.js';

/** A 3 MiB file: several reads' worth of body on either protocol. */
const MEDIUM_SIZE = 3 * 1024 * 1024;

/** A response body well over the network buffer, from Node's http server. */
const BIG = patternBytes(1024 * 1024, 'facade-big');

interface Docs extends DocRoot {
  medium: ServedFile;
}

/**
 * The document root, readable by everyone: apache2's workers run as
 * www-data when the tests run as root, and the temporary directories are
 * 0700.
 */
async function worldReadableDocRoot(): Promise<Docs> {
  const dir = await makeTempDir('facade-docroot');
  await chmod(dir, 0o755);
  const docs = await makeDocRoot(dir);
  const mediumSha = await writePatternFile(path.join(dir, 'medium.bin'), MEDIUM_SIZE, 'medium.bin');
  for (const name of await readdir(dir)) await chmod(path.join(dir, name), 0o644);
  return { ...docs, medium: { path: '/medium.bin', size: MEDIUM_SIZE, sha256: mediumSha } };
}

/** Connections made by a test, closed (bounded) after it. */
const conn = facadeConnections();

let docs: Docs | undefined;

async function docRoot(): Promise<Docs> {
  docs ??= await worldReadableDocRoot();
  return docs;
}

afterAll(async () => {
  if (docs !== undefined) await rm(docs.dir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!have('nginx'))('HTTPConnection with nginx', () => {
  let d: Docs;
  let h2: ServerHandle;
  let h1tls: ServerHandle;
  let plain: ServerHandle;

  beforeAll(async () => {
    d = await docRoot();
    h2 = await startNginx({ docRoot: d.dir, mode: 'h2' });
    h1tls = await startNginx({ docRoot: d.dir, mode: 'h1-tls', extraConfig: '    add_header X-Upgrade "$http_upgrade" always;' });
    // Echo what the request said about upgrading, to see that the first one asked.
    plain = await startNginx({
      docRoot: d.dir,
      mode: 'plain',
      extraConfig: ['    add_header X-Upgrade "$http_upgrade" always;', '    add_header X-HTTP2-Settings "$http_http2_settings" always;'].join('\n'),
    });
  }, 90_000);

  afterAll(async () => {
    await h2?.stop();
    await h1tls?.stop();
    await plain?.stop();
  }, 60_000);

  it("mode 'h2': ALPN picks h2, odd stream IDs, responses read out of order, bodies by SHA-256", async () => {
    const c = conn(h2.authority);
    expect(c.protocol).toBeNull();
    const large = await c.request('GET', d.large.path);
    const small = await c.request('GET', d.small.path);
    const medium = await c.request('GET', d.medium.path);
    expect(c.protocol).toBe('h2');
    expect(c.connection).toBeInstanceOf(HTTP20Connection);
    expect([large, small, medium]).toEqual([1, 3, 5]);
    const rMedium = await c.getResponse(medium);
    expect(rMedium.streamId).toBe(5);
    await expectBody(rMedium, d.medium);
    const rs = await c.getResponse(small);
    expect(rs.headers.get('server')[0]).toMatch(/^nginx/);
    expect((await rs.read()).toString('utf8')).toBe(d.small.body);
    await expectBody(await c.getResponse(large), d.large);
  }, 60_000);

  it("mode 'h1-tls': ALPN picks http/1.1, request() gives null, responses come in request order", async () => {
    const c = conn(h1tls.authority);
    const files = [d.small, d.medium, d.style, d.script, d.index];
    const ids: Array<number | null> = [];
    for (const f of files) ids.push(await c.request('GET', f.path));
    expect(ids).toEqual([null, null, null, null, null]);
    expect(c.protocol).toBe('http/1.1');
    expect(c.connection).toBeInstanceOf(HTTP11Connection);
    for (const f of files) {
      const r = await c.getResponse();
      expect(r.streamId).toBeNull();
      // No h2c upgrade over TLS (RFC 7540 §3.2): ALPN has spoken.
      expect(r.headers.has('x-upgrade')).toBe(false);
      expect(r.reason).toBe('OK');
      expect(r.headers.get('content-length')).toEqual([String(f.size)]);
      await expectBody(r, f);
    }
    // The keep-alive connection goes on after the queue has drained.
    expect(await c.request('GET', d.small.path)).toBeNull();
    expect((await (await c.getResponse(null)).read()).toString('utf8')).toBe(d.small.body);
  }, 60_000);

  it("mode 'h1-tls': a stream ID is an error on HTTP/1.1; no pushes; ping() rejects", async () => {
    const c = conn(h1tls.authority);
    await c.request('GET', d.small.path);
    await expect(c.getResponse(1)).rejects.toThrow(/HTTP\/1\.1/);
    // The response is still there for the right call.
    expect((await (await c.getResponse()).read()).toString('utf8')).toBe(d.small.body);
    expect(await collectPushes(c, { captureAll: true })).toEqual([]);
    await expect(c.ping()).rejects.toThrow(/HTTP\/2/);
  });

  it("forceProto: 'http/1.1' against mode 'h2' speaks HTTP/1.1", async () => {
    const c = conn(h2.authority, { forceProto: 'http/1.1' });
    expect(await c.request('GET', d.small.path)).toBeNull();
    expect(await c.request('GET', d.medium.path)).toBeNull();
    expect(c.protocol).toBe('http/1.1');
    const r = await c.getResponse();
    expect(r.version).toBe(11);
    expect((await r.read()).toString('utf8')).toBe(d.small.body);
    await expectBody(await c.getResponse(), d.medium);
  });

  it("forceProto: 'h2' against mode 'h1-tls' rejects with TLSError HW_ERR_ALPN", async () => {
    const c = conn(h1tls.authority, { forceProto: 'h2' });
    const err = await c.request('GET', d.small.path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TLSError);
    expect((err as TLSError).code).toBe('HW_ERR_ALPN');
    expect(c.protocol).toBeNull();
    // The failure is kept: a second request fails the same way, without hanging.
    await expect(c.request('GET', d.small.path)).rejects.toBe(err);
  });

  it("mode 'plain': the first request asks for h2c, nginx ignores it, HTTP/1.1 throughout", async () => {
    const c = conn(plain.authority, { secure: false });
    expect(await c.request('GET', d.small.path)).toBeNull();
    expect(c.protocol).toBe('http/1.1');
    expect(await c.request('GET', d.medium.path)).toBeNull();
    expect(await c.request('HEAD', d.large.path)).toBeNull();
    expect(await c.request('GET', d.style.path)).toBeNull();
    const first = await c.getResponse();
    expect(first.status).toBe(200);
    expect(first.headers.get('x-upgrade')).toEqual(['h2c']);
    // The HTTP2-Settings payload is base64url (RFC 7540 §3.2.1): no padding.
    expect(first.headers.first('x-http2-settings')).toMatch(/^[A-Za-z0-9_-]+$/);
    expect((await first.read()).toString('utf8')).toBe(d.small.body);
    const second = await c.getResponse();
    // Only the first request asks.
    expect(second.headers.has('x-upgrade')).toBe(false);
    await expectBody(second, d.medium);
    const head = await c.getResponse();
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toEqual([String(d.large.size)]);
    expect(await head.read()).toHaveLength(0);
    await expectBody(await c.getResponse(), d.style);
    expect(c.protocol).toBe('http/1.1');
  });

  it("mode 'plain': requests made together while the upgrade is pending keep their order when nginx declines", async () => {
    const c = conn(plain.authority, { secure: false });
    const files = [d.medium, d.small, d.style, d.script];
    const ids = await Promise.all(files.map((f) => c.request('GET', f.path)));
    expect(ids).toEqual([null, null, null, null]);
    expect(c.protocol).toBe('http/1.1');
    for (const [i, f] of files.entries()) {
      const r = await c.getResponse();
      expect(r.headers.has('x-upgrade')).toBe(i === 0);
      await expectBody(r, f);
    }
  });

  it('`await using` closes an h2 connection: no socket left behind', async () => {
    const before = tcpSockets();
    {
      await using c = new HTTPConnection(h2.authority, { tls: { ca: CA }, timeout: 20_000 });
      await expectBody(await c.getResponse(await c.request('GET', d.medium.path)), d.medium);
      expect(c.protocol).toBe('h2');
      expect(tcpSockets()).toBeGreaterThan(before);
    }
    expect(await eventually(() => tcpSockets() <= before, 2_000)).toBe(true);
  });

  it('close() of an HTTP/1.1 connection with a response unread finishes within the bound, no socket left', async () => {
    const before = tcpSockets();
    const c = new HTTPConnection(h1tls.authority, { tls: { ca: CA }, timeout: 20_000, closeTimeout: 2_000 });
    try {
      await c.request('GET', d.large.path);
      const r = await c.getResponse();
      expect(r.status).toBe(200);
      expect((await r.read(1024)).length).toBe(1024);
    } finally {
      const started = Date.now();
      expect(await closeWithin(c, 10_000)).toBe('graceful');
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    expect(await eventually(() => tcpSockets() <= before, 2_000)).toBe(true);
  }, 30_000);
});

describe.skipIf(!have('h2o'))('HTTPConnection with h2o', () => {
  let d: Docs;
  let server: ServerHandle;

  beforeAll(async () => {
    d = await docRoot();
    server = await startH2o({ docRoot: d.dir });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it('over TLS: ALPN picks h2; two files in flight, read in reverse', async () => {
    const c = conn(server.authority);
    const a = await c.request('GET', d.medium.path);
    const b = await c.request('GET', d.small.path);
    expect(c.protocol).toBe('h2');
    expect([a, b]).toEqual([1, 3]);
    const rb = await c.getResponse(b);
    expect(rb.headers.get('server')[0]).toMatch(/^h2o/);
    expect((await rb.read()).toString('utf8')).toBe(d.small.body);
    await expectBody(await c.getResponse(a), d.medium);
    const rtt = await c.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(rtt).toBeLessThan(20_000);
  });
});

describe.skipIf(!have('nghttpd'))('HTTPConnection with nghttpd --no-tls', () => {
  let d: Docs;
  let server: ServerHandle;

  beforeAll(async () => {
    d = await docRoot();
    server = await startNghttpd({ docRoot: d.dir, tls: false });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  for (const [label, options] of [
    ['priorKnowledge: true', { priorKnowledge: true }],
    ["forceProto: 'h2'", { forceProto: 'h2' }],
  ] as const) {
    it(`${label}: h2c from the first octet`, async () => {
      const c = conn(server.authority, { secure: false, ...options });
      await c.connect();
      // Known before any request: there is nothing to negotiate.
      expect(c.protocol).toBe('h2');
      const a = await c.request('GET', d.small.path);
      const b = await c.request('GET', d.medium.path);
      expect([a, b]).toEqual([1, 3]);
      await expectBody(await c.getResponse(b), d.medium);
      const ra = await c.getResponse(a);
      expect(ra.headers.get('server')[0]).toMatch(/^nghttpd/);
      expect((await ra.read()).toString('utf8')).toBe(d.small.body);
      expect(await c.ping()).toBeGreaterThanOrEqual(0);
    });
  }

  it('without prior knowledge the Upgrade request meets an h2-only server: a typed error, no hang', async () => {
    // nghttpd --no-tls answers an HTTP/1.1 request with SETTINGS and closes.
    const c = conn(server.authority, { secure: false, timeout: 5_000 });
    const err = await c.request('GET', d.small.path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HyperwireError);
    expect(c.protocol).toBe('http/1.1');
  });
});

describe.skipIf(!have('apache2'))('HTTPConnection with apache2 (h2c by Upgrade)', () => {
  let d: Docs;
  let server: ServerHandle;

  beforeAll(async () => {
    d = await docRoot();
    server = await startApache({ docRoot: d.dir });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it('a first GET upgrades by 101: its response is stream 1, the next request stream 3', async () => {
    const c = conn(server.authority, { secure: false });
    expect(c.protocol).toBeNull();
    const first = await c.request('GET', d.small.path);
    expect(first).toBe(1);
    expect(c.protocol).toBe('h2');
    expect(c.connection).toBeInstanceOf(HTTP20Connection);
    const second = await c.request('GET', d.medium.path);
    expect(second).toBe(3);
    // Out of order, too.
    const r2 = await c.getResponse(second);
    expect(r2.streamId).toBe(3);
    await expectBody(r2, d.medium);
    const r1 = await c.getResponse(first);
    expect(r1.streamId).toBe(1);
    expect(r1.status).toBe(200);
    expect(r1.headers.get('content-length')).toEqual([String(d.small.size)]);
    expect((await r1.read()).toString('utf8')).toBe(d.small.body);
    expect(await c.ping()).toBeGreaterThanOrEqual(0);
  });

  it('a first HEAD upgrades too: no body on stream 1; a GET follows on stream 3', async () => {
    const c = conn(server.authority, { secure: false });
    const head = await c.request('HEAD', d.medium.path);
    expect(head).toBe(1);
    expect(c.protocol).toBe('h2');
    const r1 = await c.getResponse(head);
    expect(r1.status).toBe(200);
    expect(r1.headers.get('content-length')).toEqual([String(d.medium.size)]);
    expect(await r1.read()).toHaveLength(0);
    const get = await c.request('GET', d.medium.path);
    expect(get).toBe(3);
    await expectBody(await c.getResponse(get), d.medium);
  });

  it('requests made together while the upgrade is pending wait for it and then use h2', async () => {
    const c = conn(server.authority, { secure: false });
    const ids = await Promise.all([c.request('GET', d.small.path), c.request('GET', d.style.path), c.request('GET', d.medium.path)]);
    expect(ids).toEqual([1, 3, 5]);
    expect(c.protocol).toBe('h2');
    expect((await (await c.getResponse(1)).read()).toString('utf8')).toBe(d.small.body);
    await expectBody(await c.getResponse(5), d.medium);
    await expectBody(await c.getResponse(3), d.style);
  });

  it('a first request with a streamed body goes without the upgrade, and the connection stays on HTTP/1.1', async () => {
    const c = conn(server.authority, { secure: false });
    async function* upload(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('a=1&');
      yield Buffer.from('b=2');
    }
    // A streamed body cannot be held back for a 101, and only the first request may ask.
    expect(await c.request('POST', d.small.path, { body: upload() })).toBeNull();
    expect(c.protocol).toBe('http/1.1');
    expect(await c.request('GET', d.medium.path)).toBeNull();
    expect(c.protocol).toBe('http/1.1');
    const r0 = await c.getResponse();
    expect(r0.status).toBe(200);
    expect((await r0.read()).toString('utf8')).toBe(d.small.body);
    await expectBody(await c.getResponse(), d.medium);
  });

  it('close() while the upgrade is pending settles both, within the bound', async () => {
    const before = tcpSockets();
    const c = new HTTPConnection(server.authority, { secure: false, timeout: 20_000, closeTimeout: 2_000 });
    const request = c.request('GET', d.small.path).then(
      (id) => ({ id }),
      (error: unknown) => ({ error }),
    );
    const started = Date.now();
    expect(await closeWithin(c, 10_000)).toBe('graceful');
    expect(Date.now() - started).toBeLessThan(5_000);
    const outcome = await request;
    // Either the upgrade finished first (stream 1) or the close failed it: never a hang.
    if ('id' in outcome) expect(outcome.id).toBe(1);
    else expect(outcome.error).toBeInstanceOf(HyperwireError);
    await expect(c.request('GET', d.small.path)).rejects.toBeInstanceOf(Error);
    expect(await eventually(() => tcpSockets() <= before, 2_000)).toBe(true);
  });

  it('upgrade: false stays on HTTP/1.1', async () => {
    const c = conn(server.authority, { secure: false, upgrade: false });
    expect(await c.request('GET', d.small.path)).toBeNull();
    expect(await c.request('GET', d.medium.path)).toBeNull();
    expect(c.protocol).toBe('http/1.1');
    const r1 = await c.getResponse();
    expect(r1.version).toBe(11);
    expect((await r1.read()).toString('utf8')).toBe(d.small.body);
    await expectBody(await c.getResponse(), d.medium);
    expect(c.protocol).toBe('http/1.1');
    await expect(c.ping()).rejects.toThrow(/HTTP\/2/);
  });

  it("forceProto: 'http/1.1' stays on HTTP/1.1 too", async () => {
    const c = conn(server.authority, { secure: false, forceProto: 'http/1.1' });
    expect(await c.request('GET', d.small.path)).toBeNull();
    expect(c.protocol).toBe('http/1.1');
    expect((await (await c.getResponse()).read()).toString('utf8')).toBe(d.small.body);
  });

  it('`await using` on an upgraded connection leaves no socket behind', async () => {
    const before = tcpSockets();
    {
      await using c = new HTTPConnection(server.authority, { secure: false, timeout: 20_000 });
      expect(await c.request('GET', d.small.path)).toBe(1);
      expect((await (await c.getResponse(1)).read()).toString('utf8')).toBe(d.small.body);
      expect(tcpSockets()).toBeGreaterThan(before);
    }
    expect(await eventually(() => tcpSockets() <= before, 2_000)).toBe(true);
  });
});

describe("HTTPConnection with Node's http and https servers", () => {
  let httpsServer: https.Server;
  let httpServer: http.Server;
  /** What the servers saw: path, Upgrade, and the ALPN protocol of the socket. */
  const seen: Array<{ url: string; upgrade: string | undefined; alpn: string | false | null }> = [];
  /** Server-side sockets still open. */
  const serverSockets = new Set<Socket>();

  function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
    const alpn = 'alpnProtocol' in req.socket ? (req.socket.alpnProtocol as string | false) : null;
    seen.push({ url: req.url ?? '', upgrade: req.headers.upgrade, alpn });
    req.resume();
    // Never answered: the client's timeouts and close() must cope.
    if (req.url === '/stall') return;
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG.length });
      res.end(BIG);
      return;
    }
    const body = `${req.method} ${req.url}`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  function track(server: http.Server | https.Server): void {
    server.on(server instanceof https.Server ? 'secureConnection' : 'connection', (s: Socket) => {
      serverSockets.add(s);
      s.once('close', () => serverSockets.delete(s));
    });
  }

  function listen(server: http.Server | https.Server): Promise<string> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`));
    });
  }

  let httpsAuthority: string;
  let httpAuthority: string;

  beforeAll(async () => {
    const [key, cert] = await Promise.all([readFile(KEY_FILE), readFile(CERT_FILE)]);
    httpsServer = https.createServer({ key, cert }, handler);
    httpServer = http.createServer(handler);
    track(httpsServer);
    track(httpServer);
    httpsAuthority = await listen(httpsServer);
    httpAuthority = await listen(httpServer);
  });

  afterAll(async () => {
    for (const server of [httpsServer, httpServer]) {
      if (server === undefined) continue;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of serverSockets) socket.destroy();
      await closed;
    }
  }, 60_000);

  it('https: ALPN settles on http/1.1; requests in order', async () => {
    seen.length = 0;
    const c = conn(httpsAuthority);
    expect(await c.request('GET', '/a')).toBeNull();
    expect(await c.request('GET', '/b?x=1')).toBeNull();
    expect(c.protocol).toBe('http/1.1');
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /a');
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /b?x=1');
    expect(seen.map((s) => s.url)).toEqual(['/a', '/b?x=1']);
    // Node's https server speaks http/1.1 or no ALPN at all: either way not h2.
    for (const s of seen) expect(s.alpn === 'http/1.1' || s.alpn === false).toBe(true);
    expect(seen.every((s) => s.upgrade === undefined)).toBe(true);
  });

  it('https: getPushes() yields nothing and ping() rejects on HTTP/1.1', async () => {
    const c = conn(httpsAuthority, { enablePush: true });
    await c.request('GET', '/push?');
    const r = await c.getResponse();
    const pushes = [...(await collectPushes(c, { captureAll: true })), ...(await collectPushes(c))];
    expect(pushes).toEqual([]);
    expect((await r.read()).toString()).toBe('GET /push?');
    await expect(c.ping()).rejects.toThrow(/HTTP\/2/);
  });

  it('http: the Upgrade to h2c is ignored; HTTP/1.1 throughout, on one connection', async () => {
    seen.length = 0;
    const c = conn(httpAuthority, { secure: false });
    expect(await c.request('GET', '/first')).toBeNull();
    expect(await c.request('HEAD', '/second')).toBeNull();
    expect(await c.request('POST', '/third', { body: 'x' })).toBeNull();
    expect(c.protocol).toBe('http/1.1');
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /first');
    const head = await c.getResponse();
    expect(head.headers.get('content-length')).toEqual([String('HEAD /second'.length)]);
    expect(await head.read()).toHaveLength(0);
    expect((await (await c.getResponse()).read()).toString()).toBe('POST /third');
    expect(seen).toEqual([
      { url: '/first', upgrade: 'h2c', alpn: null },
      { url: '/second', upgrade: undefined, alpn: null },
      { url: '/third', upgrade: undefined, alpn: null },
    ]);
    expect(c.protocol).toBe('http/1.1');
  });

  it('http: a first request with a streamed body carries no Upgrade, and no later request does', async () => {
    seen.length = 0;
    const c = conn(httpAuthority, { secure: false });
    async function* upload(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('streamed');
    }
    expect(await c.request('PUT', '/streamed', { body: upload() })).toBeNull();
    expect(await c.request('GET', '/after')).toBeNull();
    expect(await c.request('GET', '/last')).toBeNull();
    expect((await (await c.getResponse()).read()).toString()).toBe('PUT /streamed');
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /after');
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /last');
    expect(seen.map((s) => [s.url, s.upgrade])).toEqual([
      ['/streamed', undefined],
      ['/after', undefined],
      ['/last', undefined],
    ]);
    expect(c.protocol).toBe('http/1.1');
  });

  it('http: a second request does not wait behind the unread, larger-than-buffer response to a first streamed one', async () => {
    const c = conn(httpAuthority, { secure: false, networkBufferSize: 16_384 });
    async function* upload(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('x');
    }
    expect(await c.request('POST', '/big', { body: upload() })).toBeNull();
    // This used to ask for the upgrade and wait for its answer, queued
    // behind a body paused by backpressure: it never settled.
    expect(await within(c.request('GET', '/after-big'), 5_000, 'request()')).toBeNull();
    const big = await c.getResponse();
    expect(await hashBody(big)).toMatchObject({ length: BIG.length, sha256: sha256(BIG) });
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /after-big');
  });

  it('http: a server that never answers the upgrade request: TimeoutError by the read timeout; the next request works', async () => {
    seen.length = 0;
    const c = conn(httpAuthority, { secure: false, timeout: { connect: 5_000, read: 300 }, closeTimeout: 500 });
    const started = Date.now();
    const err = await within(c.request('GET', '/stall'), 5_000, 'request()').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe('HW_ERR_READ_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
    // A new connection, HTTP/1.1, no second attempt at upgrading.
    expect(await c.request('GET', '/next')).toBeNull();
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /next');
    expect(seen.map((s) => [s.url, s.upgrade])).toEqual([
      ['/stall', 'h2c'],
      ['/next', undefined],
    ]);
    expect(c.protocol).toBe('http/1.1');
  });

  it('http: close() while the upgrade request waits on a silent server settles within the grace period', async () => {
    const c = new HTTPConnection(httpAuthority, { secure: false, closeTimeout: 300 });
    const request = c.request('GET', '/stall').then(
      (id) => ({ id }),
      (error: unknown) => ({ error }),
    );
    // Let the request reach the server.
    expect(await eventually(() => seen.some((s) => s.url === '/stall'), 2_000)).toBe(true);
    const started = Date.now();
    expect(await closeWithin(c, 10_000)).toBe('graceful');
    expect(Date.now() - started).toBeLessThan(3_000);
    const outcome = await request;
    expect('error' in outcome && outcome.error instanceof HyperwireError).toBe(true);
    expect(await eventually(() => serverSockets.size === 0, 2_000)).toBe(true);
  });

  it('a request with its own Connection or Upgrade field is not made an upgrade', async () => {
    seen.length = 0;
    const c = conn(httpAuthority, { secure: false });
    expect(await c.request('GET', '/own', { headers: { Upgrade: 'websocket-ish' } })).toBeNull();
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /own');
    expect(seen.map((s) => s.upgrade)).toEqual(['websocket-ish']);
  });

  it('`await using` closes the connection: the server sees its socket go, no client socket is left', async () => {
    const before = tcpSockets();
    for (const [authority, secure] of [
      [httpAuthority, false],
      [httpsAuthority, true],
    ] as const) {
      await using c = new HTTPConnection(authority, { secure, tls: { ca: CA }, timeout: 20_000 });
      await c.request('GET', '/dispose');
      expect((await (await c.getResponse()).read()).toString()).toBe('GET /dispose');
      expect(serverSockets.size).toBeGreaterThan(0);
    }
    expect(await eventually(() => serverSockets.size === 0, 2_000)).toBe(true);
    expect(await eventually(() => tcpSockets() <= before, 2_000)).toBe(true);
  });
});
