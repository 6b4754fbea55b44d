/**
 * HTTP11Connection's backpressure: the socket is paused while enough of a
 * body waits unread, and the next response still arrives after a body
 * that ended while the socket was paused.
 */

import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HTTP11Connection } from '../../lib/http1/connection.js';

const BIG = 32 * 1024 * 1024;
let server: http.Server | null = null;

afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = null;
});

describe('HTTP11Connection backpressure', () => {
  it('buffers at most about networkBufferSize of an unread body, and the next response arrives after a slowly read one', async () => {
    let written = 0;
    server = http.createServer((req, res) => {
      if (req.url === '/big') {
        const body = Buffer.alloc(BIG, 0x61);
        res.setHeader('content-length', BIG);
        // Write in pieces and watch how far the client lets us get.
        let off = 0;
        const pump = (): void => {
          while (off < BIG) {
            const ok = res.write(body.subarray(off, off + 65536));
            off += 65536;
            written = off;
            if (!ok) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
        return;
      }
      res.end('next');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const conn = new HTTP11Connection(`127.0.0.1:${(server.address() as AddressInfo).port}`, { secure: false, networkBufferSize: 16 * 1024, timeout: 5000 });
    try {
      await conn.request('GET', '/big');
      const response = await conn.getResponse();
      // Unread for a while: the server must be held back (the socket
      // buffers fill), rather than the body piling up in the client.
      await new Promise((r) => setTimeout(r, 300));
      expect(written).toBeGreaterThan(0);
      expect(written).toBeLessThan(BIG / 2);
      let n = 0;
      for await (const chunk of response.readChunked()) {
        n += chunk.length;
        // A slow reader: the socket pauses and resumes many times.
        if (n % 8 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(n).toBe(BIG);
      for (let i = 0; i < 3; i++) {
        await conn.request('GET', '/next');
        expect((await (await conn.getResponse()).read()).toString()).toBe('next');
      }
    } finally {
      await conn.close();
    }
  });

  it('a body that ends in the read that pauses the socket does not stall the next response', async () => {
    // 40 KiB arrives in one read, over the 16 KiB limit: the socket pauses
    // as the body ends.
    server = http.createServer((req, res) => res.end(req.url === '/40k' ? Buffer.alloc(40 * 1024, 0x62) : 'after'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const conn = new HTTP11Connection(`127.0.0.1:${(server.address() as AddressInfo).port}`, { secure: false, networkBufferSize: 16 * 1024, timeout: 3000 });
    try {
      for (let i = 0; i < 5; i++) {
        await conn.request('GET', '/40k');
        const first = await conn.getResponse();
        await new Promise((r) => setTimeout(r, 20));
        expect((await first.read()).length).toBe(40 * 1024);
        await conn.request('GET', '/after');
        expect((await (await conn.getResponse()).read()).toString()).toBe('after');
      }
    } finally {
      await conn.close();
    }
  });
});
