/**
 * diagnostics_channel tracing: HTTP/2 frames both ways, and HTTP/1.1 heads,
 * for connections made while someone listens (what `hyper --debug` shows).
 */

import * as diagnosticsChannel from 'node:diagnostics_channel';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameType, HTTPConnection, type Frame } from '../../lib/index.js';

let h2: http2.Http2Server;
let h1: http.Server;
beforeAll(async () => {
  h2 = http2.createServer();
  h2.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.end('traced');
  });
  h1 = http.createServer((_req, res) => res.end('traced'));
  await Promise.all([new Promise<void>((r) => h2.listen(0, '127.0.0.1', r)), new Promise<void>((r) => h1.listen(0, '127.0.0.1', r))]);
});
afterAll(async () => {
  h1.closeAllConnections();
  await Promise.all([new Promise((r) => h2.close(r)), new Promise((r) => h1.close(r))]);
});

function listen<T>(name: string): { seen: T[]; stop: () => void } {
  const seen: T[] = [];
  const fn = (msg: unknown): void => {
    seen.push(msg as T);
  };
  diagnosticsChannel.subscribe(name, fn);
  return { seen, stop: () => diagnosticsChannel.unsubscribe(name, fn) };
}

describe('tracing channels', () => {
  it('HTTP/2: every frame sent and received, parsed, from the connection\'s start', async () => {
    const sent = listen<{ frame: Frame }>('hyperwire:frame:sent');
    const received = listen<{ frame: Frame }>('hyperwire:frame:received');
    try {
      await using conn = new HTTPConnection(`127.0.0.1:${(h2.address() as AddressInfo).port}`, { secure: false, priorKnowledge: true });
      const id = await conn.request('GET', '/');
      expect((await (await conn.getResponse(id)).read()).toString()).toBe('traced');
      const out = sent.seen.map((m) => m.frame.type);
      expect(out[0]).toBe(FrameType.SETTINGS);
      expect(out).toContain(FrameType.HEADERS);
      const headers = sent.seen.find((m) => m.frame.type === FrameType.HEADERS)!.frame;
      expect(headers.streamId).toBe(1);
      const inTypes = received.seen.map((m) => m.frame.type);
      expect(inTypes).toContain(FrameType.SETTINGS);
      expect(inTypes).toContain(FrameType.HEADERS);
      expect(inTypes).toContain(FrameType.DATA);
    } finally {
      sent.stop();
      received.stop();
    }
  });

  it('HTTP/1.1: the request head\'s octets and the response head', async () => {
    const sent = listen<{ head: Uint8Array }>('hyperwire:http1:head:sent');
    const received = listen<{ status: number; version: string; headers: Array<[string, string]> }>('hyperwire:http1:head:received');
    try {
      await using conn = new HTTPConnection(`127.0.0.1:${(h1.address() as AddressInfo).port}`, { secure: false, upgrade: false });
      await conn.request('GET', '/traced');
      await (await conn.getResponse()).read();
      expect(Buffer.from(sent.seen[0]!.head).toString('latin1')).toMatch(/^GET \/traced HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n/);
      expect(received.seen[0]!.status).toBe(200);
      expect(received.seen[0]!.headers.some(([n]) => n.toLowerCase() === 'content-length')).toBe(true);
    } finally {
      sent.stop();
      received.stop();
    }
  });
});
