/**
 * HTTP11Connection against scripted servers, for what a well-behaved
 * server never does: extra octets after a response, a reset inside a
 * close-delimited body, a close that the server does not announce; and the
 * client's own duties (Connection: close of its own, close() while busy).
 */

import { once } from 'node:events';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HTTP11Error } from '../../lib/common/errors.js';
import { openTunnel } from '../../lib/http1/tunnel.js';
import { HTTP11Connection } from '../../lib/http1/connection.js';
import { eventually } from '../interop/verify.js';

interface Script {
  port: number;
  /** Request lines received, per connection. */
  received: string[][];
}

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/**
 * A server that answers each request head with what `answer` says, given
 * the connection's index and the request line.
 */
async function scripted(answer: (conn: number, requestLine: string, socket: net.Socket) => void): Promise<Script> {
  const received: string[][] = [];
  const server = net.createServer((socket) => {
    const index = received.length;
    received.push([]);
    let buffered = '';
    socket.on('error', () => {});
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const line = head.split('\r\n')[0]!;
        received[index]!.push(line);
        // Bodies in these tests are small and sent with the head.
        const length = /content-length: (\d+)/i.exec(head);
        if (length !== null) buffered = buffered.slice(Number(length[1]));
        answer(index, line, socket);
      }
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, received };
}

function connect(port: number): HTTP11Connection {
  return new HTTP11Connection(`127.0.0.1:${port}`, { secure: false, timeout: 2000, closeTimeout: 2000 });
}

describe('HTTP11Connection at the edges', () => {
  it('octets after a response are not taken as the next queued response', async () => {
    const server = await scripted((conn, line, socket) => {
      // The first answer carries a forged second response in the same write.
      if (line.startsWith('GET /one')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged');
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal');
    });
    const conn = connect(server.port);
    try {
      await conn.request('GET', '/one');
      await conn.request('GET', '/two');
      expect((await (await conn.getResponse()).read()).toString()).toBe('ok');
      // The forged octets were unsolicited: that socket is dropped and /two
      // goes out on a new one.
      expect((await (await conn.getResponse()).read()).toString()).toBe('real');
      expect(server.received).toEqual([['GET /one HTTP/1.1'], ['GET /two HTTP/1.1']]);
    } finally {
      await conn.close();
    }
  });

  it('a close-delimited body cut by a reset is an incomplete response, not a complete one', async () => {
    const server = await scripted((conn, line, socket) => {
      socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npartial-bo');
      setTimeout(() => socket.resetAndDestroy(), 50);
    });
    const conn = connect(server.port);
    try {
      await conn.request('GET', '/');
      const response = await conn.getResponse();
      const error = await response.read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HTTP11Error);
      expect((error as HTTP11Error).code).toBe('HW_ERR_H1_INCOMPLETE');
    } finally {
      await conn.close();
    }
  });

  it('a close-delimited body ended by an orderly close is complete', async () => {
    const server = await scripted((conn, line, socket) => socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nwhole body'));
    const conn = connect(server.port);
    try {
      await conn.request('GET', '/');
      expect((await (await conn.getResponse()).read()).toString()).toBe('whole body');
    } finally {
      await conn.close();
    }
  });

  it('after a request with its own Connection: close, the next request goes on a new connection', async () => {
    // The server does not echo close (only a SHOULD), and reads nothing more.
    const server = await scripted((conn, line, socket) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${line.length}\r\n\r\n${line}`));
    const conn = connect(server.port);
    try {
      await conn.request('GET', '/a', { headers: { Connection: 'close' } });
      await conn.request('POST', '/b', { body: 'payload' });
      expect((await (await conn.getResponse()).read()).toString()).toBe('GET /a HTTP/1.1');
      expect((await (await conn.getResponse()).read()).toString()).toBe('POST /b HTTP/1.1');
      expect(server.received).toEqual([['GET /a HTTP/1.1'], ['POST /b HTTP/1.1']]);
    } finally {
      await conn.close();
    }
  });

  it('close() right after request() on an idle keep-alive connection does not send it', async () => {
    const server = await scripted((conn, line, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'));
    const conn = connect(server.port);
    await conn.request('GET', '/first');
    await (await conn.getResponse()).read();
    const late = conn.request('GET', '/late');
    const closing = conn.close();
    const outcome = await late.then(
      () => conn.getResponse().then(
        () => 'answered',
        () => 'failed',
      ),
      () => 'refused',
    );
    await closing;
    await new Promise((r) => setTimeout(r, 50));
    // Either refused at once or failed as never sent: never written after close().
    expect(['refused', 'failed']).toContain(outcome);
    expect(server.received.flat()).toEqual(['GET /first HTTP/1.1']);
  });

  it('close() does not wait out closeTimeout after the response in flight was abandoned', async () => {
    const server = await scripted((conn, line, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nstart'));
    const conn = connect(server.port);
    await conn.request('GET', '/');
    const response = await conn.getResponse();
    const started = Date.now();
    const closing = conn.close();
    setTimeout(() => response.close(), 50);
    await closing;
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('takes a tunnel from openTunnel() (a paused socket) into use', async () => {
    // A minimal proxy: answers CONNECT, then plays origin on the same socket.
    const server = await scripted((conn, line, socket) => {
      if (line.startsWith('CONNECT')) socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\ntunnel!');
    });
    const socket = await openTunnel({ proxyHost: '127.0.0.1', proxyPort: server.port, authority: 'origin.test:80', timeout: 2000 });
    expect(socket.isPaused()).toBe(true);
    const conn = new HTTP11Connection('origin.test:80', { secure: false, socket, timeout: 2000 });
    try {
      await conn.request('GET', '/through');
      expect((await (await conn.getResponse()).read()).toString()).toBe('tunnel!');
      expect(server.received[0]).toEqual(['CONNECT origin.test:80 HTTP/1.1', 'GET /through HTTP/1.1']);
    } finally {
      await conn.close();
    }
  });
});

describe('close() while connecting', () => {
  /** A TCP server that accepts and never says a word (a TLS handshake stalls on it). */
  async function silent(): Promise<{ port: number; open: () => number }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
      // Read (and drop) what comes, so that the client's close is seen.
      s.resume();
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as net.AddressInfo).port, open: () => sockets.size };
  }

  it('HTTPConnection: close() during a stalled TLS handshake returns and leaves no socket; later requests are refused', async () => {
    const server = await silent();
    const { HTTPConnection } = await import('../../lib/connection.js');
    const conn = new HTTPConnection(`127.0.0.1:${server.port}`);
    const request = conn.request('GET', '/').catch((e: unknown) => e);
    expect(await eventually(() => server.open() === 1, 2000)).toBe(true);
    await conn.close();
    expect(await request).toMatchObject({ code: 'HW_ERR_CONNECTION_CLOSED' });
    expect(await eventually(() => server.open() === 0, 2000)).toBe(true);
    await expect(conn.request('GET', '/')).rejects.toMatchObject({ code: 'HW_ERR_CONNECTION_CLOSED' });
  });

  it('HTTP11Connection: close() during a stalled TLS handshake leaves no socket open', async () => {
    const server = await silent();
    const conn = new HTTP11Connection(`127.0.0.1:${server.port}`, { secure: true });
    const request = conn.request('GET', '/').catch((e: unknown) => e);
    expect(await eventually(() => server.open() === 1, 2000)).toBe(true);
    await conn.close();
    expect(await request).toMatchObject({ code: 'HW_ERR_CONNECTION_CLOSED' });
    expect(await eventually(() => server.open() === 0, 2000)).toBe(true);
  });
});

describe('openTunnel', () => {
  it('a 101 to CONNECT is a ProxyError, not a tunnel', async () => {
    const server = await scripted((conn, line, socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n'));
    const error = await openTunnel({ proxyHost: '127.0.0.1', proxyPort: server.port, authority: 'origin.test:443', timeout: 2000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'HW_ERR_PROXY', status: 101 });
  });

  it('a 407 is a ProxyError carrying the status', async () => {
    const server = await scripted((conn, line, socket) => socket.write('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nnope'));
    const error = await openTunnel({ proxyHost: '127.0.0.1', proxyPort: server.port, authority: 'origin.test:443', timeout: 2000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'HW_ERR_PROXY', status: 407 });
  });
});
