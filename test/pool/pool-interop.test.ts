/**
 * The pool against real servers: nginx (h2 over TLS, HTTP/1.1 over TLS and
 * in cleartext) and nghttpd (h2 over TLS, h2c with prior knowledge, a
 * small MAX_CONCURRENT_STREAMS). Connections are counted at the server:
 * nginx names each response's connection ($connection); for nghttpd the
 * kernel's table of established TCP connections to its port is read.
 */

import { readFileSync } from 'node:fs';
import { chmod, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTPResponse, PoolManager } from '../../lib/index.js';
import { establishedTo, have, makeDocRoot, makeTempDir, startApache, startNghttpd, startNginx, type DocRoot, type ServerHandle } from '../helpers/servers.js';

const tls = { ca: readFileSync(new URL('../helpers/certs/cert.pem', import.meta.url)) };

const connectionsOf = (responses: HTTPResponse[]): number => new Set(responses.map((r) => r.headers.first('x-connection'))).size;

let docs: DocRoot;
beforeAll(async () => {
  docs = await makeDocRoot(await makeTempDir('pool-docroot'));
}, 60_000);
afterAll(async () => {
  if (docs !== undefined) await rm(docs.dir, { recursive: true, force: true });
});

describe.skipIf(!have('nginx'))('the pool against nginx', () => {
  const servers: ServerHandle[] = [];
  const extraConfig = '    add_header X-Connection $connection always;\n    add_header X-Protocol $server_protocol always;';
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('h2 over TLS: 100 concurrent first requests share one connection', async () => {
    const server = await startNginx({ docRoot: docs.dir, extraConfig });
    servers.push(server);
    await using http = new PoolManager({ tls });
    const url = `https://localhost:${server.port}${docs.small.path}`;
    const responses = await Promise.all(Array.from({ length: 100 }, () => http.request('GET', url)));
    expect(responses.every((r) => r.status === 200 && r.data!.toString() === docs.small.body)).toBe(true);
    expect(responses.every((r) => r.protocol === 'h2' && r.headers.first('x-protocol') === 'HTTP/2.0')).toBe(true);
    expect(connectionsOf(responses)).toBe(1);
  });

  it('HTTP/1.1 over TLS: one dial learns the protocol, then maxsize connections serve the burst', async () => {
    const server = await startNginx({ docRoot: docs.dir, mode: 'h1-tls', extraConfig });
    servers.push(server);
    await using http = new PoolManager({ tls, maxsize: 4, block: true });
    const url = `https://localhost:${server.port}${docs.small.path}`;
    const responses = await Promise.all(Array.from({ length: 40 }, () => http.request('GET', url)));
    expect(responses.every((r) => r.status === 200 && r.protocol === 'http/1.1' && r.headers.first('x-protocol') === 'HTTP/1.1')).toBe(true);
    expect(connectionsOf(responses)).toBe(4);
  });

  it('HTTP/1.1 in cleartext: the h2c probe is answered in HTTP/1.1, then the pool spreads out', async () => {
    const server = await startNginx({ docRoot: docs.dir, mode: 'plain', extraConfig });
    servers.push(server);
    await using http = new PoolManager({ maxsize: 3, block: true });
    const url = `http://127.0.0.1:${server.port}${docs.small.path}`;
    const responses = await Promise.all(Array.from({ length: 30 }, () => http.request('GET', url)));
    expect(responses.every((r) => r.status === 200 && r.data!.toString() === docs.small.body)).toBe(true);
    expect(connectionsOf(responses)).toBe(3);
  });

  it('a streamed 64 MiB body through the pool, not preloaded, read in pieces', async () => {
    const server = await startNginx({ docRoot: docs.dir, extraConfig });
    servers.push(server);
    await using http = new PoolManager({ tls });
    const r = await http.request('GET', `https://localhost:${server.port}${docs.large.path}`, { preloadContent: false });
    let n = 0;
    for await (const chunk of r.stream(1 << 20)) {
      expect(chunk.length).toBeLessThanOrEqual(1 << 20);
      n += chunk.length;
    }
    expect(n).toBe(docs.large.size);
    expect(r.isReleased).toBe(true);
  }, 60_000);
});

describe.skipIf(!have('nghttpd'))('the pool against nghttpd', () => {
  const servers: ServerHandle[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('h2 over TLS: a cold burst makes one connection at the server', async () => {
    const server = await startNghttpd({ docRoot: docs.dir });
    servers.push(server);
    await using http = new PoolManager({ tls });
    const url = `https://localhost:${server.port}${docs.small.path}`;
    const responses = await Promise.all(Array.from({ length: 100 }, () => http.request('GET', url)));
    expect(responses.every((r) => r.status === 200 && r.protocol === 'h2' && r.data!.toString() === docs.small.body)).toBe(true);
    expect(establishedTo(server.port)).toBe(1);
  });

  it('h2c with prior knowledge: one connection', async () => {
    const server = await startNghttpd({ docRoot: docs.dir, tls: false });
    servers.push(server);
    await using http = new PoolManager({ priorKnowledge: true });
    const url = `http://127.0.0.1:${server.port}${docs.small.path}`;
    const responses = await Promise.all(Array.from({ length: 50 }, () => http.request('GET', url)));
    expect(responses.every((r) => r.protocol === 'h2' && r.data!.toString() === docs.small.body)).toBe(true);
    expect(establishedTo(server.port)).toBe(1);
  });

  it('server push: a later GET for a pushed URL is answered from the push, without a request', async () => {
    const server = await startNghttpd({ docRoot: docs.dir, push: { [docs.index.path]: [docs.style.path, docs.script.path] } });
    servers.push(server);
    await using http = new PoolManager({ tls, enablePush: true });
    const origin = `https://localhost:${server.port}`;
    const page = await http.request('GET', origin + docs.index.path);
    expect(page.fromPush).toBe(false);
    expect(page.data!.toString()).toBe(docs.index.body);
    const style = await http.request('GET', origin + docs.style.path);
    expect(style.fromPush).toBe(true);
    expect(style.data!.toString()).toBe(docs.style.body);
    const script = await http.request('GET', origin + docs.script.path, { preloadContent: false });
    expect(script.fromPush).toBe(true);
    expect((await script.read()).toString()).toBe(docs.script.body);
    // Used once: the next GET is a request.
    const again = await http.request('GET', origin + docs.style.path);
    expect(again.fromPush).toBe(false);
    expect(again.data!.toString()).toBe(docs.style.body);
    expect(http.connectionFromUrl(origin).numRequests).toBe(2);
  });

  it('server push without enablePush: nothing is pushed, every GET is a request', async () => {
    const server = await startNghttpd({ docRoot: docs.dir, push: { [docs.index.path]: [docs.style.path] } });
    servers.push(server);
    await using http = new PoolManager({ tls });
    const origin = `https://localhost:${server.port}`;
    await http.request('GET', origin + docs.index.path);
    const style = await http.request('GET', origin + docs.style.path);
    expect(style.fromPush).toBe(false);
    expect(http.connectionFromUrl(origin).numRequests).toBe(2);
  });

  it('MAX_CONCURRENT_STREAMS 4 and maxsize 3: three connections, no more', async () => {
    const server = await startNghttpd({ docRoot: docs.dir, maxConcurrentStreams: 4 });
    servers.push(server);
    await using http = new PoolManager({ tls, maxsize: 3, block: true });
    const url = `https://localhost:${server.port}${docs.large.path}`;
    // Learn the server's limit on a warm connection first.
    await http.request('GET', `https://localhost:${server.port}${docs.small.path}`);
    const responses = await Promise.all(Array.from({ length: 12 }, () => http.request('GET', url, { preloadContent: false })));
    expect(establishedTo(server.port)).toBe(3);
    for (const r of responses) r.releaseConn();
  }, 60_000);
});

describe.skipIf(!have('apache2'))('the pool against apache2 (h2c by Upgrade)', () => {
  let server: ServerHandle;
  afterAll(async () => {
    await server?.stop();
  });

  it('the first request upgrades; the burst waits for it, then multiplexes on the same connection', async () => {
    // Apache's workers run as www-data: the files must be readable to them.
    await chmod(docs.dir, 0o755);
    for (const name of await readdir(docs.dir)) await chmod(join(docs.dir, name), 0o644);
    server = await startApache({ docRoot: docs.dir });
    await using http = new PoolManager();
    const url = `http://127.0.0.1:${server.port}${docs.small.path}`;
    const responses = await Promise.all(Array.from({ length: 50 }, () => http.request('GET', url)));
    expect(responses.every((r) => r.status === 200 && r.data!.toString() === docs.small.body)).toBe(true);
    expect(responses.every((r) => r.protocol === 'h2')).toBe(true);
    expect(establishedTo(server.port)).toBe(1);
  });
});
