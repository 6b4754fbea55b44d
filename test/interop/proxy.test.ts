/**
 * HTTPConnection through a real HTTP proxy (squid): https targets through a
 * CONNECT tunnel (TLS and ALPN end to end, so h2 or http/1.1 as the origin
 * chooses), http targets in absolute form, Basic proxy authentication, a
 * CONNECT the proxy refuses, and a proxy that is not there. Last, the
 * tunnel's own failure modes against a fake proxy.
 */

import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, HTTPConnection, ProxyError, TimeoutError, TLSError, type HTTPConnectionOptions, type ConnectionResponse } from '../../lib/index.js';
import {
  CERT_FILE,
  freePort,
  have,
  KEY_FILE,
  makeTempDir,
  startNghttpd,
  startNginx,
  startSquid,
  writePatternFile,
  type ServedFile,
  type ServerHandle,
} from '../helpers/servers.js';
import { CA, closeWithin, eventually, facadeConnections, hashBody, tcpSockets } from './verify.js';

const USER = 'hyperwire';
const PASSWORD = 'tunnel-pass';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

const SMALL_BODY = 'Through the proxy and back.\n';
const MEDIUM_SIZE = 2 * 1024 * 1024;

/** Connections made by a test, closed (bounded) after it. */
const conn = facadeConnections();

/** What a Node origin server saw of a request. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** A node:http or node:https origin that answers `METHOD URL` and remembers each request. */
async function startOrigin(secure: boolean, host = '127.0.0.1'): Promise<{ server: http.Server | https.Server; port: number; seen: Seen[]; connections: () => number; stop: () => Promise<void> }> {
  const seen: Seen[] = [];
  let connections = 0;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const body = `${req.method} ${req.url}`;
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) };
    // The server ends the connection after this response.
    if (req.url === '/close') headers['connection'] = 'close';
    res.writeHead(200, headers);
    res.end(body);
  };
  let server: http.Server | https.Server;
  if (secure) {
    const [key, cert] = await Promise.all([readFile(KEY_FILE), readFile(CERT_FILE)]);
    server = https.createServer({ key, cert }, handler);
    server.on('secureConnection', () => connections++);
  } else {
    server = http.createServer(handler);
    server.on('connection', () => connections++);
  }
  // Every socket, TLS or not, so that stop() can end them all at once.
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  let stopped: Promise<void> | null = null;
  return {
    server,
    port,
    seen,
    connections: () => connections,
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return stopped;
    },
  };
}

type Origin = Awaited<ReturnType<typeof startOrigin>>;

describe.skipIf(!have('squid'))('HTTPConnection through squid', () => {
  let squid: ServerHandle;
  let authSquid: ServerHandle;
  let refusingSquid: ServerHandle;
  let httpsOrigin: Origin;
  let httpOrigin: Origin;
  let docRoot: string;
  let small: ServedFile & { body: string };
  let medium: ServedFile;

  /** Options to go through `proxy`. */
  function via(proxy: ServerHandle, extra: HTTPConnectionOptions = {}): HTTPConnectionOptions {
    return { proxyHost: proxy.host, proxyPort: proxy.port, ...extra };
  }

  beforeAll(async () => {
    docRoot = await makeTempDir('proxy-docroot');
    await writeFile(path.join(docRoot, 'small.txt'), SMALL_BODY);
    small = { path: '/small.txt', size: Buffer.byteLength(SMALL_BODY), sha256: createHash('sha256').update(SMALL_BODY).digest('hex'), body: SMALL_BODY };
    medium = { path: '/medium.bin', size: MEDIUM_SIZE, sha256: await writePatternFile(path.join(docRoot, 'medium.bin'), MEDIUM_SIZE, 'proxy-medium') };
    httpsOrigin = await startOrigin(true);
    httpOrigin = await startOrigin(false);
    squid = await startSquid();
    authSquid = await startSquid({ auth: { user: USER, password: PASSWORD } });
    // CONNECT is allowed to a port none of the targets listens on.
    let other = await freePort();
    while (other === httpsOrigin.port || other === httpOrigin.port) other = await freePort();
    refusingSquid = await startSquid({ connectPorts: [other] });
  }, 120_000);

  afterAll(async () => {
    await squid?.stop();
    await authSquid?.stop();
    await refusingSquid?.stop();
    await httpsOrigin?.stop();
    await httpOrigin?.stop();
    if (docRoot !== undefined) await rm(docRoot, { recursive: true, force: true });
  }, 60_000);

  describe.skipIf(!have('nghttpd'))('an h2 origin (nghttpd)', () => {
    let tlsServer: ServerHandle;
    let h2cServer: ServerHandle;

    beforeAll(async () => {
      tlsServer = await startNghttpd({ docRoot });
      h2cServer = await startNghttpd({ docRoot, tls: false });
    }, 60_000);

    afterAll(async () => {
      await tlsServer?.stop();
      await h2cServer?.stop();
    }, 60_000);

    it('https through CONNECT: ALPN h2 end to end, streams 1 and 3, bodies right', async () => {
      const c = conn(`localhost:${tlsServer.port}`, via(squid));
      const a = await c.request('GET', medium.path);
      const b = await c.request('GET', small.path);
      expect(c.protocol).toBe('h2');
      expect([a, b]).toEqual([1, 3]);
      const rb = await c.getResponse(b);
      expect(rb.status).toBe(200);
      // The origin answered, not the proxy: a tunnel adds no Via.
      expect(rb.headers.get('server')[0]).toMatch(/^nghttpd/);
      expect(rb.headers.has('via')).toBe(false);
      expect((await rb.read()).toString('utf8')).toBe(small.body);
      expect(await hashBody(await c.getResponse(a))).toMatchObject({ length: medium.size, sha256: medium.sha256 });
      expect(await c.ping()).toBeGreaterThanOrEqual(0);
    });

    it('https through CONNECT with Proxy-Authorization: h2 through the authenticating squid', async () => {
      const c = conn(`localhost:${tlsServer.port}`, via(authSquid, { proxyHeaders: { 'Proxy-Authorization': BASIC } }));
      const id = await c.request('GET', small.path);
      expect(id).toBe(1);
      expect(c.protocol).toBe('h2');
      expect((await (await c.getResponse(id)).read()).toString('utf8')).toBe(small.body);
    });

    it('cleartext h2 with prior knowledge goes through a CONNECT tunnel too', async () => {
      const c = conn(`localhost:${h2cServer.port}`, via(squid, { secure: false, priorKnowledge: true }));
      const id = await c.request('GET', medium.path);
      expect(id).toBe(1);
      expect(c.protocol).toBe('h2');
      const r = await c.getResponse(id);
      expect(r.headers.get('server')[0]).toMatch(/^nghttpd/);
      expect(await hashBody(r)).toMatchObject({ length: medium.size, sha256: medium.sha256 });
    });
  });

  describe.skipIf(!have('nginx'))('an HTTP/1.1 origin over TLS (nginx h1-tls)', () => {
    let server: ServerHandle;

    beforeAll(async () => {
      server = await startNginx({ docRoot, mode: 'h1-tls' });
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
    }, 60_000);

    it('https through CONNECT: ALPN http/1.1 end to end, responses in order', async () => {
      const c = conn(`localhost:${server.port}`, via(squid));
      expect(await c.request('GET', small.path)).toBeNull();
      expect(await c.request('GET', medium.path)).toBeNull();
      expect(await c.request('HEAD', medium.path)).toBeNull();
      expect(c.protocol).toBe('http/1.1');
      const r1 = await c.getResponse();
      expect(r1.headers.get('server')[0]).toMatch(/^nginx/);
      expect(r1.headers.has('via')).toBe(false);
      expect((await r1.read()).toString('utf8')).toBe(small.body);
      expect(await hashBody(await c.getResponse())).toMatchObject({ length: medium.size, sha256: medium.sha256 });
      const head = await c.getResponse();
      expect(head.headers.get('content-length')).toEqual([String(medium.size)]);
      expect(await head.read()).toHaveLength(0);
    });

    it("forceProto: 'h2' through the tunnel to an HTTP/1.1-only origin: TLSError, no socket left", async () => {
      const before = tcpSockets();
      const c = conn(`localhost:${server.port}`, via(squid, { forceProto: 'h2' }));
      const err = await c.request('GET', small.path).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('HW_ERR_ALPN');
      expect(c.protocol).toBeNull();
      expect(await eventually(() => tcpSockets() <= before, 2_000)).toBe(true);
    });
  });

  it('an https origin through CONNECT: http/1.1 by ALPN; the proxy fields stay out of the tunnel', async () => {
    httpsOrigin.seen.length = 0;
    const c = conn(`localhost:${httpsOrigin.port}`, via(authSquid, { proxyHeaders: { 'Proxy-Authorization': BASIC } }));
    expect(await c.request('GET', '/tunnelled')).toBeNull();
    expect(c.protocol).toBe('http/1.1');
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /tunnelled');
    expect(httpsOrigin.seen).toHaveLength(1);
    const seen = httpsOrigin.seen[0]!;
    expect(seen.url).toBe('/tunnelled');
    expect(seen.headers.host).toBe(`localhost:${httpsOrigin.port}`);
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.headers.via).toBeUndefined();
    expect(seen.headers.upgrade).toBeUndefined();
  });

  it('the certificate is verified end to end through the tunnel: an untrusted one fails with TLSError', async () => {
    const c = conn(`localhost:${httpsOrigin.port}`, via(squid, { tls: {} }));
    const err = await c.request('GET', '/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TLSError);
    expect((err as TLSError).code).toBe('HW_ERR_TLS');
  });

  it('an IP-address target through the tunnel is checked against that address, not the proxy', async () => {
    // The test certificate names localhost and 127.0.0.1. An origin on
    // 127.0.0.2 presenting it must be refused, through a proxy as directly;
    // the proxy itself is on 127.0.0.1, which the certificate does name.
    const other = await startOrigin(true, '127.0.0.2');
    try {
      const direct = conn(`127.0.0.2:${other.port}`);
      const directErr = await direct.request('GET', '/').catch((e: unknown) => e);
      expect(directErr).toBeInstanceOf(TLSError);
      expect((directErr as TLSError).code).toBe('HW_ERR_TLS');
      const tunnelled = conn(`127.0.0.2:${other.port}`, via(squid));
      const err = await tunnelled.request('GET', '/').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TLSError);
      expect((err as TLSError).code).toBe('HW_ERR_TLS');
      expect(other.seen).toEqual([]);
    } finally {
      await other.stop();
    }
  });

  it('an https origin that closes the connection: the next request opens a new tunnel', async () => {
    httpsOrigin.seen.length = 0;
    const before = httpsOrigin.connections();
    const c = conn(`localhost:${httpsOrigin.port}`, via(squid));
    await c.request('GET', '/close');
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /close');
    await c.request('GET', '/after');
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /after');
    expect(httpsOrigin.seen.map((s) => s.url)).toEqual(['/close', '/after']);
    expect(httpsOrigin.connections() - before).toBe(2);
  });

  it('an http origin: requests in absolute form, forwarded by squid (Via), HTTP/1.1', async () => {
    httpOrigin.seen.length = 0;
    const c = conn(`127.0.0.1:${httpOrigin.port}`, via(squid, { secure: false }));
    expect(await c.request('GET', '/abs?x=1')).toBeNull();
    expect(await c.request('POST', '/form', { body: 'a=b' })).toBeNull();
    expect(c.protocol).toBe('http/1.1');
    const r1 = await c.getResponse();
    expect(r1.status).toBe(200);
    expect(r1.headers.get('via').join(',')).toMatch(/squid/);
    expect((await r1.read()).toString()).toBe('GET /abs?x=1');
    expect((await (await c.getResponse()).read()).toString()).toBe('POST /form');
    expect(httpOrigin.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /abs?x=1', 'POST /form']);
    for (const s of httpOrigin.seen) {
      // squid forwarded it: the origin sees origin-form, the Host we named, and squid's Via.
      expect(s.headers.host).toBe(`127.0.0.1:${httpOrigin.port}`);
      expect(s.headers.via).toMatch(/squid/);
      // No h2c upgrade is attempted through a proxy.
      expect(s.headers['http2-settings']).toBeUndefined();
    }
  });

  it('407 without credentials: CONNECT fails with ProxyError (status 407, HW_ERR_PROXY), no socket left', async () => {
    const before = tcpSockets();
    httpsOrigin.seen.length = 0;
    const c = conn(`localhost:${httpsOrigin.port}`, via(authSquid));
    const err = await c.request('GET', '/secret').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).status).toBe(407);
    expect((err as ProxyError).code).toBe('HW_ERR_PROXY');
    expect((err as ProxyError).message).toMatch(/407/);
    expect(c.protocol).toBeNull();
    expect(httpsOrigin.seen).toEqual([]);
    expect(await eventually(() => tcpSockets() <= before, 2_000)).toBe(true);
  });

  it('407 with the wrong password: ProxyError 407 too', async () => {
    const wrong = `Basic ${Buffer.from(`${USER}:not-${PASSWORD}`).toString('base64')}`;
    const c = conn(`localhost:${httpsOrigin.port}`, via(authSquid, { proxyHeaders: { 'Proxy-Authorization': wrong } }));
    const err = await c.request('GET', '/secret').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).status).toBe(407);
  });

  it('407 without credentials for an http origin: absolute form has no tunnel, so the 407 is the response', async () => {
    httpOrigin.seen.length = 0;
    const c = conn(`127.0.0.1:${httpOrigin.port}`, via(authSquid, { secure: false }));
    expect(await c.request('GET', '/secret')).toBeNull();
    const r = await c.getResponse();
    expect(r.status).toBe(407);
    expect(r.headers.first('proxy-authenticate')).toMatch(/^Basic realm="hyperwire-test"/);
    await r.read();
    expect(httpOrigin.seen).toEqual([]);
  });

  it('Proxy-Authorization in proxyHeaders: an http origin in absolute form', async () => {
    httpOrigin.seen.length = 0;
    const c = conn(`127.0.0.1:${httpOrigin.port}`, via(authSquid, { secure: false, proxyHeaders: { 'Proxy-Authorization': BASIC } }));
    expect(await c.request('GET', '/one')).toBeNull();
    expect(await c.request('GET', '/two')).toBeNull();
    expect(c.protocol).toBe('http/1.1');
    // Every request carries the credentials: each is authorised on its own.
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /one');
    expect((await (await c.getResponse()).read()).toString()).toBe('GET /two');
    expect(httpOrigin.seen.map((s) => s.url)).toEqual(['/one', '/two']);
    expect(httpOrigin.seen[0]!.headers.via).toMatch(/squid/);
  });

  it('a CONNECT the proxy refuses (port not allowed): ProxyError 403', async () => {
    httpsOrigin.seen.length = 0;
    const c = conn(`localhost:${httpsOrigin.port}`, via(refusingSquid));
    const err = await c.request('GET', '/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).status).toBe(403);
    expect((err as ProxyError).code).toBe('HW_ERR_PROXY');
    expect(httpsOrigin.seen).toEqual([]);
  });
});

describe('HTTPConnection with a proxy that is not there, or does not answer', () => {
  it('nothing listens on the proxy port: ProxyError HW_ERR_PROXY_CONNECT (status 0, the connect error as cause), for a tunnel and for absolute form', async () => {
    const port = await freePort();
    for (const secure of [true, false]) {
      const c = conn(`localhost:${secure ? 443 : 80}`, { secure, proxyHost: '127.0.0.1', proxyPort: port });
      const err = await c.request('GET', '/').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProxyError);
      expect((err as ProxyError).code).toBe('HW_ERR_PROXY_CONNECT');
      expect((err as ProxyError).status).toBe(0);
      expect((err as ProxyError).cause).toBeInstanceOf(ConnectionError);
      expect((err as ProxyError).message).toContain(`127.0.0.1:${port}`);
      expect(c.protocol).toBeNull();
    }
  });

  /** A fake proxy that does `onSocket` with each connection. */
  async function fakeProxy(onSocket: (socket: net.Socket) => void): Promise<{ port: number; received: () => string; stop: () => Promise<void> }> {
    const sockets = new Set<net.Socket>();
    let received = '';
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
      });
      socket.on('error', () => {});
      socket.once('close', () => sockets.delete(socket));
      onSocket(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return {
      port: (server.address() as net.AddressInfo).port,
      received: () => received,
      stop: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  }

  it('a proxy that never answers CONNECT: TimeoutError after the connect timeout', async () => {
    const proxy = await fakeProxy(() => {});
    try {
      const c = conn('localhost:8443', { proxyHost: '127.0.0.1', proxyPort: proxy.port, timeout: { connect: 300, read: 5_000 } });
      const started = Date.now();
      const err = await c.request('GET', '/').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as TimeoutError).code).toBe('HW_ERR_CONNECT_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(proxy.received()).toMatch(/^CONNECT localhost:8443 HTTP\/1\.1\r\nHost: localhost:8443\r\n/);
    } finally {
      await proxy.stop();
    }
  });

  it('a proxy that hangs up during CONNECT: ConnectionError HW_ERR_PROXY_CLOSED', async () => {
    const proxy = await fakeProxy((socket) => socket.once('data', () => socket.end()));
    try {
      const c = conn('localhost:8443', { proxyHost: '127.0.0.1', proxyPort: proxy.port });
      const err = await c.request('GET', '/').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as ConnectionError).code).toBe('HW_ERR_PROXY_CLOSED');
    } finally {
      await proxy.stop();
    }
  });

  it('an HTTP/1.0 200 to CONNECT with the origin\'s first octets in the same packet: nothing is lost', async () => {
    // An h2c origin sends its SETTINGS first; this proxy holds its 200 back
    // until they have come, and writes both at once.
    const origin = http2.createServer();
    origin.on('stream', (stream, headers) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(`h2c ${headers[':path']}`);
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', () => resolve()));
    const originPort = (origin.address() as net.AddressInfo).port;
    const upstreams = new Set<net.Socket>();
    const proxy = await fakeProxy((socket) => {
      let head = '';
      const onHead = (chunk: Buffer): void => {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        socket.off('data', onHead);
        socket.pause();
        const upstream = net.connect({ host: '127.0.0.1', port: originPort });
        upstreams.add(upstream);
        upstream.on('error', () => socket.destroy());
        upstream.once('close', () => upstreams.delete(upstream));
        upstream.once('data', (first: Buffer) => {
          socket.write(Buffer.concat([Buffer.from('HTTP/1.0 200 Connection established\r\nProxy-Agent: fake\r\n\r\n'), first]));
          socket.pipe(upstream);
          upstream.pipe(socket);
          socket.resume();
        });
      };
      socket.on('data', onHead);
    });
    try {
      const c = conn(`localhost:${originPort}`, { secure: false, priorKnowledge: true, proxyHost: '127.0.0.1', proxyPort: proxy.port });
      const a = await c.request('GET', '/one');
      const b = await c.request('GET', '/two');
      expect([a, b]).toEqual([1, 3]);
      expect(c.protocol).toBe('h2');
      expect((await (await c.getResponse(b)).read()).toString()).toBe('h2c /two');
      expect((await (await c.getResponse(a)).read()).toString()).toBe('h2c /one');
      expect(proxy.received()).toMatch(new RegExp(`^CONNECT localhost:${originPort} HTTP/1\\.1\\r\\n`));
      await closeWithin(c);
    } finally {
      for (const u of upstreams) u.destroy();
      await proxy.stop();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        origin.close(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  });

  it('a refusal whose body arrives in pieces, and proxyHeaders sent on CONNECT: ProxyError with the status', async () => {
    const proxy = await fakeProxy((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 10\r\n');
        setTimeout(() => socket.write('\r\nabcde'), 20);
      });
    });
    try {
      const c = conn('localhost:8443', { proxyHost: '127.0.0.1', proxyPort: proxy.port, proxyHeaders: { 'Proxy-Authorization': BASIC } });
      const err = await c.request('GET', '/').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProxyError);
      expect((err as ProxyError).status).toBe(502);
      expect(proxy.received()).toContain(`\r\nProxy-Authorization: ${BASIC}\r\n`);
    } finally {
      await proxy.stop();
    }
  });
});
