/**
 * Per-request read timeouts and AbortSignals, on both protocols, against
 * Node's own http2 and http servers: an aborted or stalled request fails
 * alone, with a typed error, and the connection carries on.
 */

import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HTTP20Connection, HTTPConnection, ReadTimeoutError, RequestAbortedError, StreamRefusedError } from '../../lib/index.js';

let h2server: http2.Http2Server;
let h1server: http.Server;
let h2port = 0;
let h1port = 0;
const resets: number[] = [];

beforeAll(async () => {
  h2server = http2.createServer();
  h2server.on('stream', (stream, headers) => {
    stream.on('close', () => {
      if (stream.rstCode !== 0 && stream.rstCode !== undefined) resets.push(stream.rstCode);
    });
    if (headers[':path'] === '/stall') return; // never answers
    if (headers[':path'] === '/stall-body') {
      stream.respond({ ':status': 200 });
      stream.write('part');
      return;
    }
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  await new Promise<void>((resolve) => h2server.listen(0, '127.0.0.1', resolve));
  h2port = (h2server.address() as AddressInfo).port;

  h1server = http.createServer((req, res) => {
    if (req.url === '/stall') return;
    res.end('ok');
  });
  await new Promise<void>((resolve) => h1server.listen(0, '127.0.0.1', resolve));
  h1port = (h1server.address() as AddressInfo).port;
});

afterAll(async () => {
  h1server.closeAllConnections();
  await Promise.all([new Promise((r) => h2server.close(r)), new Promise((r) => h1server.close(r))]);
});

const h2 = (): HTTPConnection => new HTTPConnection(`127.0.0.1:${h2port}`, { secure: false, priorKnowledge: true, timeout: 10_000 });
const h1 = (): HTTPConnection => new HTTPConnection(`127.0.0.1:${h1port}`, { secure: false, upgrade: false, timeout: 10_000 });

describe('per-request read timeout', () => {
  for (const [name, open] of [['h2', h2], ['http/1.1', h1]] as const) {
    it(`${name}: a request's own timeout beats the connection's, and the next request works`, async () => {
      await using conn = open();
      const started = Date.now();
      await conn.request('GET', '/stall', { timeout: 150 });
      const err = await conn.getResponse().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReadTimeoutError);
      expect(Date.now() - started).toBeLessThan(5000);
      await conn.request('GET', '/ok');
      expect((await (await conn.getResponse()).read()).toString()).toBe('ok');
    });
  }

  it('h2: a long head timeout, timed by the connection\'s watch, never fires early and fires within two looks of it', async () => {
    await using conn = h2();
    // A request beside it, whose head the watch also waits for.
    const beside = new AbortController();
    const other = await conn.request('GET', '/stall', { timeout: 60_000, signal: beside.signal });
    const otherFailed = conn.getResponse(other).catch((e: unknown) => e);
    const started = Date.now();
    const id = await conn.request('GET', '/stall', { timeout: 1000 });
    const err = await conn.getResponse(id).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(ReadTimeoutError);
    expect((err as Error).message).toContain('1000 ms');
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(1000 + 2 * 250 + 500);
    beside.abort();
    expect(await otherFailed).toBeInstanceOf(RequestAbortedError);
  });

  it('h2: a body that stalls past the request timeout fails the read and resets the stream', async () => {
    await using conn = h2();
    const id = await conn.request('GET', '/stall-body', { timeout: 150 });
    const r = await conn.getResponse(id);
    const before = resets.length;
    await expect(r.read()).rejects.toBeInstanceOf(ReadTimeoutError);
    await vi.waitFor(() => expect(resets.length).toBeGreaterThan(before));
    expect(resets.at(-1)).toBe(http2.constants.NGHTTP2_CANCEL);
  });
});

describe('AbortSignal', () => {
  it('an HTTP20Connection not yet connected, given an aborted signal, neither dials nor waits', async () => {
    let dialled = 0;
    const count = (): void => {
      dialled++;
    };
    h2server.on('connection', count);
    try {
      await using conn = new HTTP20Connection(`127.0.0.1:${h2port}`, { secure: false });
      const ac = new AbortController();
      ac.abort(new Error('given up before sending'));
      const err = await conn.request('GET', '/ok', { signal: ac.signal }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RequestAbortedError);
      expect((err as Error).cause).toMatchObject({ message: 'given up before sending' });
      expect(dialled).toBe(0);
    } finally {
      h2server.off('connection', count);
    }
  });

  for (const [name, open] of [['h2', h2], ['http/1.1', h1]] as const) {
    it(`${name}: an already aborted signal sends nothing`, async () => {
      await using conn = open();
      const ac = new AbortController();
      ac.abort();
      await expect(conn.request('GET', '/ok', { signal: ac.signal })).rejects.toBeInstanceOf(RequestAbortedError);
    });

    it(`${name}: aborting a request waiting for its response fails it as an AbortError, and the connection carries on`, async () => {
      await using conn = open();
      const ac = new AbortController();
      await conn.request('GET', '/stall', { signal: ac.signal });
      const pending = conn.getResponse();
      setTimeout(() => ac.abort(new Error('user gave up')), 50);
      const err = await pending.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RequestAbortedError);
      expect((err as RequestAbortedError).name).toBe('AbortError');
      expect((err as RequestAbortedError).code).toBe('HW_ERR_ABORTED');
      expect(((err as RequestAbortedError).cause as Error).message).toBe('user gave up');
      await conn.request('GET', '/ok');
      expect((await (await conn.getResponse()).read()).toString()).toBe('ok');
    });
  }

  it('h2: an abort resets the stream with CANCEL', async () => {
    await using conn = h2();
    const ac = new AbortController();
    const before = resets.length;
    const id = await conn.request('GET', '/stall', { signal: ac.signal });
    ac.abort();
    await expect(conn.getResponse(id)).rejects.toBeInstanceOf(RequestAbortedError);
    await vi.waitFor(() => expect(resets.length).toBeGreaterThan(before));
    expect(resets.at(-1)).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it('http/1.1: aborting a request queued behind another drops it before it is sent', async () => {
    await using conn = h1();
    await conn.request('GET', '/ok');
    const ac = new AbortController();
    await conn.request('GET', '/ok', { signal: ac.signal });
    ac.abort();
    expect((await (await conn.getResponse()).read()).toString()).toBe('ok');
    await expect(conn.getResponse()).rejects.toBeInstanceOf(RequestAbortedError);
  });
});

describe('GOAWAY', () => {
  it('h2: requests queued for a stream slot when GOAWAY comes fail as refused (not processed, safe to retry)', async () => {
    const server = http2.createServer({ settings: { maxConcurrentStreams: 1 } });
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (s) => sessions.add(s));
    server.on('stream', (stream) => {
      // Answer the first stream only after GOAWAY, so the second stays queued.
      stream.session!.goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
      setTimeout(() => {
        stream.respond({ ':status': 200 });
        stream.end('first');
      }, 50);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await using conn = new HTTPConnection(`127.0.0.1:${(server.address() as AddressInfo).port}`, { secure: false, priorKnowledge: true, timeout: 5000 });
      await conn.connect();
      await conn.ping();
      const first = await conn.request('GET', '/1');
      const second = conn.request('GET', '/2');
      const err = await second.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StreamRefusedError);
      expect((err as StreamRefusedError).retryable).toBe(true);
      expect(conn.isAvailable).toBe(false);
      expect((await (await conn.getResponse(first)).read()).toString()).toBe('first');
    } finally {
      // A server session that sent GOAWAY lingers after the client left.
      for (const s of sessions) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('a failed h2c upgrade request', () => {
  it('leaves no response behind: the next request gets its own', async () => {
    const net = await import('node:net');
    const server = net.createServer((socket) => {
      let head = '';
      socket.on('data', (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        // Drops the connection on an Upgrade; answers anything else.
        if (/^upgrade:/im.test(head)) return void socket.destroy();
        head = '';
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await using conn = new HTTPConnection(`127.0.0.1:${(server.address() as AddressInfo).port}`, { secure: false, timeout: 5000 });
      await expect(conn.request('GET', '/first')).rejects.toMatchObject({ code: 'HW_ERR_CONNECTION_CLOSED' });
      await conn.request('GET', '/second');
      expect((await (await conn.getResponse()).read()).toString()).toBe('ok');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
