/**
 * The pool layer against Node's own http2 and https servers, scripted to
 * stall, refuse, redirect and send GOAWAY, counting connections at the
 * server to prove the sharing and cold-start rules.
 */

import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ClosedPoolError,
  EmptyPoolError,
  HostChangedError,
  HTTPConnectionPool,
  HTTPSConnectionPool,
  MaxRetryError,
  NewConnectionError,
  PoolManager,
  ReadTimeoutError,
  RequestAbortedError,
  Retry,
} from '../../lib/index.js';
import { freePort } from '../helpers/servers.js';

const cert = readFileSync(new URL('../helpers/certs/cert.pem', import.meta.url));
const key = readFileSync(new URL('../helpers/certs/key.pem', import.meta.url));
const tls = { ca: cert };

type H2Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, session: http2.Http2Session) => void;

/** A TLS http2 server (h2 only, or h2 and http/1.1) that counts sessions and the most streams open at once. */
async function h2Server(handler: H2Handler, settings: http2.Settings = {}) {
  const sessions = new Set<http2.ServerHttp2Session>();
  let sessionCount = 0;
  let open = 0;
  let maxOpen = 0;
  const server = http2.createSecureServer({ key, cert, settings });
  server.on('session', (s) => {
    sessions.add(s);
    sessionCount++;
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    stream.on('close', () => open--);
    handler(stream, headers, stream.session!);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path: string) => `https://127.0.0.1:${port}${path}`,
    sessions: () => sessionCount,
    maxOpen: () => maxOpen,
    async close() {
      for (const s of sessions) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** An HTTP/1.1 server (TLS with ALPN http/1.1 only, or cleartext) that counts connections and the most requests at once. */
async function h1Server(handler: http.RequestListener, secure = true) {
  const sockets = new Set<Socket>();
  let connections = 0;
  let active = 0;
  let maxActive = 0;
  const listener: http.RequestListener = (req, res) => {
    active++;
    maxActive = Math.max(maxActive, active);
    res.on('close', () => active--);
    handler(req, res);
  };
  const server = secure ? https.createServer({ key, cert, ALPNProtocols: ['http/1.1'] }, listener) : http.createServer(listener);
  server.on(secure ? 'secureConnection' : 'connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path: string) => `${secure ? 'https' : 'http'}://127.0.0.1:${port}${path}`,
    connections: () => connections,
    maxActive: () => maxActive,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const ok: H2Handler = (stream, headers) => {
  stream.respond({ ':status': 200, 'content-type': 'text/plain' });
  stream.end(`${headers[':method']} ${headers[':path']}`);
};

describe('HTTP/2: one connection per origin', () => {
  let server: Awaited<ReturnType<typeof h2Server>>;
  beforeAll(async () => {
    server = await h2Server((stream, headers) => {
      if (headers[':path'] === '/slow') {
        setTimeout(() => ok(stream, headers, stream.session!), 100);
        return;
      }
      ok(stream, headers, stream.session!);
    });
  });
  afterAll(() => server.close());

  it('a cold burst of 100 concurrent first requests dials one connection and multiplexes on it', async () => {
    await using http = new PoolManager({ tls });
    const before = server.sessions();
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => http.request('GET', server.url(`/r${i}`))));
    expect(server.sessions() - before).toBe(1);
    expect(responses.map((r) => r.data!.toString())).toEqual(responses.map((_, i) => `GET /r${i}`));
    expect(responses.every((r) => r.protocol === 'h2')).toBe(true);
    expect(http.connectionFromUrl(server.url('/')).numConnections).toBe(1);
  });

  it('later requests reuse the connection: streams, not connections, are the unit', async () => {
    await using pool = new HTTPSConnectionPool('127.0.0.1', { port: server.port, tls, maxsize: 4 });
    const before = server.sessions();
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 20 }, () => pool.request('GET', '/slow')));
    }
    expect(server.sessions() - before).toBe(1);
    expect(pool.numConnections).toBe(1);
    expect(pool.numRequests).toBe(60);
  });

  it('preloaded responses carry data, status, headers, url and the Retry', async () => {
    await using http = new PoolManager({ tls });
    const r = await http.request('GET', server.url('/x?y=1'));
    expect(r.status).toBe(200);
    expect(r.headers.first('content-type')).toBe('text/plain');
    expect(r.data!.toString()).toBe('GET /x?y=1');
    expect(r.url).toBe(server.url('/x?y=1'));
    expect(r.retries).toBeInstanceOf(Retry);
    expect(await r.text()).toBe('GET /x?y=1');
  });
});

describe('HTTP/2: the server\'s MAX_CONCURRENT_STREAMS', () => {
  it('beyond the limit the pool opens another connection (up to maxsize), and queues beyond that', async () => {
    const server = await h2Server((stream, headers) => setTimeout(() => ok(stream, headers, stream.session!), 80), { maxConcurrentStreams: 5 });
    try {
      await using pool = new HTTPSConnectionPool('127.0.0.1', { port: server.port, tls, maxsize: 2, block: true });
      // Learn the limit first (as any warm connection has).
      await pool.request('GET', '/warm');
      const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => pool.request('GET', `/b${i}`)));
      expect(responses.every((r) => r.status === 200)).toBe(true);
      expect(server.sessions()).toBe(2);
      expect(server.maxOpen()).toBeLessThanOrEqual(10);
      expect(server.maxOpen()).toBeGreaterThan(5);
    } finally {
      await server.close();
    }
  });
});

describe('HTTP/2: requests the server did not process are retried on a fresh connection, whatever the method', () => {
  it('streams above a GOAWAY\'s last-stream-id (POST included)', async () => {
    let first = true;
    const server = await h2Server((stream, headers, session) => {
      if (first) {
        // The first connection processes stream 1 only.
        first = false;
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
        setTimeout(() => ok(stream, headers, session), 30);
        return;
      }
      ok(stream, headers, session);
    });
    try {
      await using http = new PoolManager({ tls });
      await http.request('GET', server.url('/warm')).catch(() => {});
      const responses = await Promise.all(Array.from({ length: 6 }, (_, i) => http.request('POST', server.url(`/p${i}`), { body: 'x' })));
      expect(responses.map((r) => r.data!.toString())).toEqual(responses.map((_, i) => `POST /p${i}`));
      expect(server.sessions()).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('REFUSED_STREAM after a streamed body has started: not sent again (the stream cannot be replayed)', async () => {
    let streams = 0;
    const server = await h2Server((stream) => {
      streams++;
      stream.on('error', () => {});
      stream.once('data', () => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
    });
    try {
      await using http = new PoolManager({ tls });
      async function* body(): AsyncGenerator<Buffer> {
        yield Buffer.from('first part');
        await new Promise((r) => setTimeout(r, 50));
        yield Buffer.from('second part');
      }
      const err = await http.request('POST', server.url('/stream'), { body: body() }).catch((e: unknown) => e);
      expect((err as Error).name).toBe('StreamRefusedError');
      expect(streams).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('REFUSED_STREAM: a POST is sent again, and the retry shows in the history', async () => {
    let refused = 0;
    const server = await h2Server((stream, headers, session) => {
      if (refused === 0) {
        refused++;
        // The server's own stream reports the reset as an error.
        stream.on('error', () => {});
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      ok(stream, headers, session);
    });
    try {
      await using http = new PoolManager({ tls });
      const r = await http.request('POST', server.url('/once'), { body: 'payload' });
      expect(r.data!.toString()).toBe('POST /once');
      const history = r.retries!.history;
      expect(history).toHaveLength(1);
      expect(history[0]!.error!.name).toBe('StreamRefusedError');
    } finally {
      await server.close();
    }
  });
});

describe('HTTP/1.1 in the pool', () => {
  let server: Awaited<ReturnType<typeof h1Server>>;
  beforeAll(async () => {
    server = await h1Server((req, res) => setTimeout(() => res.end(`${req.method} ${req.url}`), 30));
  });
  afterAll(() => server.close());

  it('cold start over TLS: one dial learns http/1.1, then the pool opens up to maxsize (block) and no more', async () => {
    await using pool = new HTTPSConnectionPool('127.0.0.1', { port: server.port, tls, maxsize: 4, block: true });
    const before = server.connections();
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.request('GET', `/c${i}`)));
    expect(responses.map((r) => r.data!.toString())).toEqual(responses.map((_, i) => `GET /c${i}`));
    expect(responses.every((r) => r.protocol === 'http/1.1')).toBe(true);
    expect(server.connections() - before).toBe(4);
    expect(pool.connections).toBe(4);
  });

  it('block: false opens what it needs, and keeps only maxsize once idle', async () => {
    await using pool = new HTTPSConnectionPool('127.0.0.1', { port: server.port, tls, maxsize: 2 });
    const before = server.connections();
    await pool.request('GET', '/learn');
    await Promise.all(Array.from({ length: 8 }, () => pool.request('GET', '/burst')));
    expect(server.connections() - before).toBeGreaterThan(2);
    expect(pool.connections).toBe(2);
  });

  it('a body not preloaded holds its connection until it is read', async () => {
    await using pool = new HTTPSConnectionPool('127.0.0.1', { port: server.port, tls, maxsize: 1, block: true, poolTimeout: 5000 });
    const first = await pool.request('GET', '/held', { preloadContent: false });
    let second = false;
    const pending = pool.request('GET', '/next').then((r) => {
      second = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(second).toBe(false);
    expect((await first.read()).toString()).toBe('GET /held');
    expect((await pending).data!.toString()).toBe('GET /next');
  });

  it('a full blocking pool: EmptyPoolError after poolTimeout', async () => {
    await using pool = new HTTPSConnectionPool('127.0.0.1', { port: server.port, tls, maxsize: 1, block: true, poolTimeout: 100 });
    const held = await pool.request('GET', '/held', { preloadContent: false });
    const err = await pool.request('GET', '/waits', { retries: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmptyPoolError);
    held.releaseConn();
  });

  it('a request waiting for a connection can be aborted', async () => {
    await using pool = new HTTPSConnectionPool('127.0.0.1', { port: server.port, tls, maxsize: 1, block: true, poolTimeout: 10_000 });
    const held = await pool.request('GET', '/held', { preloadContent: false });
    const ac = new AbortController();
    const waiting = pool.request('GET', '/waits', { signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    await expect(waiting).rejects.toBeInstanceOf(RequestAbortedError);
    await held.drainConn();
    expect((await pool.request('GET', '/after')).status).toBe(200);
  });
});

describe('cleartext: the first request probes for h2c, the rest wait for its answer', () => {
  it('a server without h2c: one probe, then HTTP/1.1 connections in parallel', async () => {
    const server = await h1Server((req, res) => setTimeout(() => res.end('ok'), 30), false);
    try {
      await using pool = new HTTPConnectionPool('127.0.0.1', { port: server.port, maxsize: 3, block: true });
      const responses = await Promise.all(Array.from({ length: 9 }, () => pool.request('GET', '/')));
      expect(responses.every((r) => r.protocol === 'http/1.1' && r.data!.toString() === 'ok')).toBe(true);
      expect(server.connections()).toBe(3);
      expect(server.maxActive()).toBeGreaterThan(1);
    } finally {
      await server.close();
    }
  });
});

describe('cleartext: a server that drops the connection on an Upgrade', () => {
  it('the retry goes without asking to upgrade, and succeeds', async () => {
    const net = await import('node:net');
    let upgrades = 0;
    const server = net.createServer((socket) => {
      let head = '';
      socket.on('data', (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        if (/^upgrade:/im.test(head)) {
          upgrades++;
          socket.destroy();
          return;
        }
        head = '';
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await using pool = new HTTPConnectionPool('127.0.0.1', { port: (server.address() as AddressInfo).port });
      const r = await pool.request('GET', '/');
      expect(r.data!.toString()).toBe('ok');
      expect(upgrades).toBe(1);
      expect(r.retries!.history).toHaveLength(1);
      expect((await pool.request('GET', '/again')).data!.toString()).toBe('ok');
      expect(upgrades).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('server push: the pool keeps pushes, bounded', () => {
  let server: Awaited<ReturnType<typeof h2Server>>;
  beforeAll(async () => {
    server = await h2Server((stream, headers) => {
      const path = String(headers[':path']);
      if (path.startsWith('/page')) {
        const count = Number(new URL(path, 'https://x').searchParams.get('push') ?? '3');
        for (let i = 0; i < count; i++) {
          stream.pushStream({ ':path': `/asset${i}` }, (err, push) => {
            if (err !== null) return;
            push.on('error', () => {});
            push.respond({ ':status': 200, 'content-length': '6' });
            push.end(`asset${i}`);
          });
        }
      }
      ok(stream, headers, stream.session!);
    });
  });
  afterAll(() => server.close());
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

  it('at most maxPushes are kept: the oldest beyond it are dropped', async () => {
    await using http = new PoolManager({ tls, enablePush: true, pushCache: { maxPushes: 2 } });
    await http.request('GET', server.url('/page?push=4'));
    await settle();
    expect((await http.request('GET', server.url('/asset3'))).fromPush).toBe(true);
    expect((await http.request('GET', server.url('/asset2'))).fromPush).toBe(true);
    expect((await http.request('GET', server.url('/asset0'))).fromPush).toBe(false);
    expect((await http.request('GET', server.url('/asset1'))).fromPush).toBe(false);
  });

  it('a push older than maxPushAge is not used', async () => {
    await using http = new PoolManager({ tls, enablePush: true, pushCache: { maxPushAge: 100 } });
    await http.request('GET', server.url('/page?push=1'));
    await new Promise((r) => setTimeout(r, 150));
    const r = await http.request('GET', server.url('/asset0'));
    expect(r.fromPush).toBe(false);
    expect(r.data!.toString()).toBe('GET /asset0');
  });

  it('maxPushBytes bounds the declared lengths kept', async () => {
    await using http = new PoolManager({ tls, enablePush: true, pushCache: { maxPushBytes: 12 } });
    await http.request('GET', server.url('/page?push=3'));
    await settle();
    // Three pushes of 6 octets: only the two newest fit.
    expect((await http.request('GET', server.url('/asset0'))).fromPush).toBe(false);
    expect((await http.request('GET', server.url('/asset1'))).fromPush).toBe(true);
    expect((await http.request('GET', server.url('/asset2'))).fromPush).toBe(true);
  });
});

describe('redirects', () => {
  let server: Awaited<ReturnType<typeof h2Server>>;
  let other: Awaited<ReturnType<typeof h2Server>>;
  const seen: Array<{ path: string; method: string; auth: string | undefined; cookie: string | undefined; body: string }> = [];
  const record = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, then: (body: string) => void): void => {
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => {
      seen.push({ path: String(headers[':path']), method: String(headers[':method']), auth: headers.authorization, cookie: headers.cookie, body });
      then(body);
    });
  };
  beforeAll(async () => {
    other = await h2Server((stream, headers) => record(stream, headers, (body) => {
      stream.respond({ ':status': 200 });
      stream.end(`other ${headers[':method']} ${body}`);
    }));
    server = await h2Server((stream, headers) => {
      record(stream, headers, (body) => {
        const path = String(headers[':path']);
        const m = /^\/(\d{3})(\/.*)?$/.exec(path.split('?')[0]!);
        if (m !== null) {
          stream.respond({ ':status': Number(m[1]), location: m[2] === '/other' ? other.url('/landed') : (m[2] ?? '/landed') });
          stream.end();
          return;
        }
        if (path === '/loop') {
          stream.respond({ ':status': 302, location: '/loop' });
          stream.end();
          return;
        }
        if (path === '/relative') {
          stream.respond({ ':status': 301, location: 'landed?rel=1' });
          stream.end();
          return;
        }
        stream.respond({ ':status': 200 });
        stream.end(`${headers[':method']} ${path} ${body}`);
      });
    });
  });
  afterAll(async () => {
    await server.close();
    await other.close();
  });
  afterEach(() => {
    seen.length = 0;
  });

  for (const status of [301, 302, 303]) {
    it(`${status}: a POST becomes a GET without its body`, async () => {
      await using http = new PoolManager({ tls });
      const r = await http.request('POST', server.url(`/${status}`), { body: 'payload', headers: { 'content-type': 'text/plain' } });
      expect(r.data!.toString()).toBe('GET /landed ');
      expect(r.url).toBe(server.url('/landed'));
      expect(seen.at(-1)).toMatchObject({ method: 'GET', body: '' });
      const history = r.retries!.history;
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({ status, redirectLocation: '/landed', method: 'POST' });
    });
  }

  for (const status of [307, 308]) {
    it(`${status}: the method and body are kept`, async () => {
      await using http = new PoolManager({ tls });
      const r = await http.request('POST', server.url(`/${status}`), { body: 'payload' });
      expect(r.data!.toString()).toBe('POST /landed payload');
    });
  }

  it('a relative Location is resolved against the request URL', async () => {
    await using http = new PoolManager({ tls });
    const r = await http.request('GET', server.url('/relative'));
    expect(r.url).toBe(server.url('/landed?rel=1'));
    expect(r.data!.toString()).toBe('GET /landed?rel=1 ');
  });

  it('to another origin: authorization and cookie are dropped', async () => {
    await using http = new PoolManager({ tls });
    const r = await http.request('GET', server.url('/302/other'), { headers: { authorization: 'Bearer s3cret', cookie: 'a=b', 'x-keep': '1' } });
    expect(r.data!.toString()).toBe('other GET ');
    expect(seen[0]).toMatchObject({ auth: 'Bearer s3cret', cookie: 'a=b' });
    expect(seen[1]).toMatchObject({ auth: undefined, cookie: undefined });
  });

  it('on the same origin authorization stays', async () => {
    await using http = new PoolManager({ tls });
    await http.request('GET', server.url('/302'), { headers: { authorization: 'Bearer s3cret' } });
    expect(seen[1]).toMatchObject({ auth: 'Bearer s3cret' });
  });

  it('redirect: false returns the 3xx; retries: false does too', async () => {
    await using http = new PoolManager({ tls });
    expect((await http.request('GET', server.url('/302'), { redirect: false })).status).toBe(302);
    expect((await http.request('GET', server.url('/302'), { retries: false })).status).toBe(302);
  });

  it('a redirect loop ends in MaxRetryError', async () => {
    await using http = new PoolManager({ tls });
    const err = await http.request('GET', server.url('/loop'), { retries: new Retry({ total: 10, redirect: 3 }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaxRetryError);
    expect((err as MaxRetryError).url).toBe(server.url('/loop'));
    expect(seen).toHaveLength(4);
  });

  it('a streamed body cannot follow a 307', async () => {
    await using http = new PoolManager({ tls });
    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.from('streamed');
    }
    const err = await http.request('POST', server.url('/307'), { body: body() }).catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe('HW_ERR_BODY_NOT_REPLAYABLE');
  });

  it('a pool refuses a redirect to another origin (HostChangedError)', async () => {
    await using pool = new HTTPSConnectionPool('127.0.0.1', { port: server.port, tls });
    await expect(pool.request('GET', '/302/other')).rejects.toBeInstanceOf(HostChangedError);
  });
});

describe('retries and timeouts', () => {
  it('503 with Retry-After is retried (after the wait it asks for) until it succeeds', async () => {
    let calls = 0;
    const server = await h2Server((stream, headers) => {
      calls++;
      if (calls <= 2) {
        stream.respond({ ':status': 503, 'retry-after': '0' });
        stream.end('busy');
        return;
      }
      ok(stream, headers, stream.session!);
    });
    try {
      await using http = new PoolManager({ tls });
      const r = await http.request('GET', server.url('/busy'));
      expect(r.status).toBe(200);
      expect(r.retries!.history.map((h) => h.status)).toEqual([503, 503]);
    } finally {
      await server.close();
    }
  });

  it('statusForcelist with raiseOnStatus false returns the last response', async () => {
    const server = await h2Server((stream) => {
      stream.respond({ ':status': 500 });
      stream.end('no');
    });
    try {
      await using http = new PoolManager({ tls, retries: new Retry({ total: 2, statusForcelist: [500], raiseOnStatus: false }) });
      const r = await http.request('GET', server.url('/'));
      expect(r.status).toBe(500);
      expect(r.retries!.history).toHaveLength(2);
      const err = await http.request('GET', server.url('/'), { retries: new Retry({ total: 1, statusForcelist: [500] }) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MaxRetryError);
    } finally {
      await server.close();
    }
  });

  it('a stalled server: ReadTimeoutError, retried for GET, unwrapped with retries: false', async () => {
    let calls = 0;
    const server = await h2Server(() => {
      calls++;
    });
    try {
      await using http = new PoolManager({ tls, timeout: { connect: 2000, read: 100 } });
      const err = await http.request('GET', server.url('/stall'), { retries: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MaxRetryError);
      expect((err as MaxRetryError).reason).toBeInstanceOf(ReadTimeoutError);
      expect(calls).toBe(2);
      const plain = await http.request('POST', server.url('/stall'), { retries: false, body: 'x' }).catch((e: unknown) => e);
      expect(plain).toBeInstanceOf(ReadTimeoutError);
    } finally {
      await server.close();
    }
  });

  it('total caps the whole request', async () => {
    const server = await h2Server(() => {});
    try {
      await using http = new PoolManager({ tls });
      const started = Date.now();
      const err = await http.request('GET', server.url('/stall'), { retries: false, timeout: { total: 150, read: 10_000 } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReadTimeoutError);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await server.close();
    }
  });

  it('nothing listening: NewConnectionError, as MaxRetryError after the retries', async () => {
    const port = await freePort();
    await using http = new PoolManager();
    const err = await http.request('GET', `http://127.0.0.1:${port}/`, { retries: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaxRetryError);
    expect((err as MaxRetryError).reason).toBeInstanceOf(NewConnectionError);
    const plain = await http.request('GET', `http://127.0.0.1:${port}/`, { retries: false }).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(NewConnectionError);
  });
});

describe('the PoolManager', () => {
  it('keeps at most numPools origins, closing the least recently used without failing its requests', async () => {
    const servers = await Promise.all([0, 1, 2].map(() => h2Server((stream, headers) => setTimeout(() => ok(stream, headers, stream.session!), 50))));
    try {
      await using http = new PoolManager({ tls, numPools: 2 });
      const slow = http.request('GET', servers[0]!.url('/a'));
      await new Promise((r) => setTimeout(r, 10));
      await http.request('GET', servers[1]!.url('/b'));
      await http.request('GET', servers[2]!.url('/c'));
      expect(http.size).toBe(2);
      expect((await slow).data!.toString()).toBe('GET /a');
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  it('a closed pool refuses requests', async () => {
    const pool = new HTTPConnectionPool('127.0.0.1', { port: 9 });
    await pool.close();
    await expect(pool.request('GET', '/')).rejects.toBeInstanceOf(ClosedPoolError);
  });

  it('rejects a bad URL before anything is sent', async () => {
    await using http = new PoolManager();
    await expect(http.request('GET', 'not a url')).rejects.toMatchObject({ code: 'HW_ERR_LOCATION_PARSE' });
    await expect(http.request('GET', 'ftp://example.com/')).rejects.toMatchObject({ code: 'HW_ERR_LOCATION_VALUE' });
  });
});

describe('an idle pool does not keep the process alive', () => {
  it('a script that makes a request and never closes its PoolManager exits on its own', async () => {
    const server = await h2Server(ok);
    try {
      const { execFile } = await import('node:child_process');
      const lib = new URL('../../lib/index.ts', import.meta.url).pathname;
      const script = `import { PoolManager } from ${JSON.stringify(lib)};
        const http = new PoolManager({ tls: { ca: ${JSON.stringify(cert.toString())} } });
        const r = await http.request('GET', ${JSON.stringify(server.url('/script'))});
        process.stdout.write(r.data.toString());`;
      const started = Date.now();
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 15_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
      );
      expect(out).toBe('GET /script');
      // The server keeps the connection open: only an unref'd idle socket lets the child exit.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(server.sessions()).toBe(1);
    } finally {
      await server.close();
    }
  }, 30_000);
});
