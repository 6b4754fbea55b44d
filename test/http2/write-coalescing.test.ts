/**
 * Frames queued in one turn of the event loop leave together: in one socket
 * write, or for a large burst in writes of at least 512 octets each, so the
 * server starts on the first while the rest are made. A lone request still
 * leaves in the tick it was made. Against Node's own http2 server in
 * cleartext (prior knowledge), where every write is a syscall of its own.
 */

import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HTTP20Connection } from '../../lib/index.js';

let server: http2.Http2Server;
let port = 0;

beforeAll(async () => {
  server = http2.createServer();
  server.on('stream', (stream, headers) => {
    if (headers[':method'] === 'POST') {
      let n = 0;
      stream.on('data', (c: Buffer) => (n += c.length));
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end(String(n));
      });
      return;
    }
    stream.respond({ ':status': 200 });
    stream.end(String(headers[':path']));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Counts the writes the client's sockets hand to the kernel: a corked burst is one. */
type WriteGeneric = (this: net.Socket, ...args: unknown[]) => unknown;
const proto = net.Socket.prototype as unknown as { _writeGeneric: WriteGeneric };
const original = proto._writeGeneric;
let writes: number[] = [];
/** The octets of each write counted. */
let sizes: number[] = [];
let t0 = 0;

function countWrites(): void {
  writes = [];
  sizes = [];
  t0 = performance.now();
  proto._writeGeneric = function (this: net.Socket, ...args: unknown[]) {
    if (this.remotePort === port) {
      writes.push(performance.now() - t0);
      // (writev, data, encoding, cb): data is a chunk, or a list of them.
      const data = args[1] as Buffer | Array<{ chunk: Buffer }>;
      sizes.push(Array.isArray(data) ? data.reduce((n, c) => n + c.chunk.length, 0) : data.length);
    }
    return original.apply(this, args);
  };
}

afterEach(() => {
  proto._writeGeneric = original;
});

function connect(): HTTP20Connection {
  return new HTTP20Connection(`127.0.0.1:${port}`, { secure: false, timeout: 10_000 });
}

describe('write coalescing', () => {
  it('sends a few requests started in one tick in one write, at the end of the tick', async () => {
    await using conn = connect();
    await conn.connect();
    await conn.ping();
    countWrites();
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => conn.request('GET', `/r${i}`)));
    // The IDs are known before the tick ends; the write follows at its end.
    expect(writes).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    const bodies = await Promise.all(ids.map(async (id) => (await (await conn.getResponse(id)).read()).toString()));
    expect(bodies).toEqual(ids.map((_, i) => `/r${i}`));
  });

  it('sends a burst of 100 requests started in one tick in a few writes of at least 512 octets, the rest at the end of the tick', async () => {
    await using conn = connect();
    await conn.connect();
    await conn.ping();
    countWrites();
    const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => conn.request('GET', `/r${i}`)));
    // The first requests are on the wire before the burst is complete.
    const during = writes.length;
    expect(during).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes.length - during).toBeLessThanOrEqual(1);
    // Far fewer writes than requests, and none of them small but the last.
    expect(writes.length).toBeLessThanOrEqual(10);
    for (const n of sizes.slice(0, -1)) expect(n).toBeGreaterThanOrEqual(512);
    const bodies = await Promise.all(ids.map(async (id) => (await (await conn.getResponse(id)).read()).toString()));
    expect(bodies).toEqual(ids.map((_, i) => `/r${i}`));
  });

  it('sends the requests that responses set off, in a steady loop, at far less than one write each', async () => {
    await using conn = connect();
    await conn.connect();
    await conn.ping();
    countWrites();
    let left = 1000;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (left-- > 0) {
          const r = await conn.getResponse(await conn.request('GET', '/loop'));
          expect((await r.read()).toString()).toBe('/loop');
        }
      }),
    );
    // One write per request, as before, would be 1000 and more (with
    // the WINDOW_UPDATEs of the reads).
    expect(writes.length).toBeLessThan(250);
  });

  it('sends a lone request in the tick it was made, before the event loop moves on', async () => {
    await using conn = connect();
    await conn.connect();
    await conn.ping();
    // Made from a timer callback: the write must happen before an
    // immediate queued right after it runs.
    const seen = await new Promise<number>((resolve, reject) => {
      setTimeout(() => {
        countWrites();
        conn.request('GET', '/lone').then((id) => {
          conn.getResponse(id).then((r) => r.read(), reject);
        }, reject);
        setImmediate(() => resolve(writes.length));
      }, 5);
    });
    expect(seen).toBe(1);
  });

  it('sends a large streamed body, written past the coalescing limit, intact', async () => {
    await using conn = connect();
    const size = 8 * 1024 * 1024;
    async function* body(): AsyncGenerator<Buffer> {
      for (let sent = 0; sent < size; sent += 65_536) yield Buffer.alloc(65_536, 0x61);
    }
    const id = await conn.request('POST', '/upload', { body: body() });
    const r = await conn.getResponse(id);
    expect((await r.read()).toString()).toBe(String(size));
  });
});
