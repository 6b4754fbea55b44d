/**
 * Interop with nginx 1.22: h2 over TLS (`listen ... ssl http2`), files small
 * and large, and server push configured with `http2_push`.
 */

import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { have, makeDocRoot, makeTempDir, startNginx, type DocRoot, type ServerHandle } from '../helpers/servers.js';
import { collectPushes, expectFile, h2Connections, readPushes, sha256 } from './verify.js';

describe.skipIf(!have('nginx'))('nginx interop', () => {
  let docs: DocRoot;
  let server: ServerHandle;
  const conn = h2Connections();

  beforeAll(async () => {
    docs = await makeDocRoot(await makeTempDir('docroot'));
    server = await startNginx({ docRoot: docs.dir, push: { [docs.index.path]: [docs.style.path, docs.script.path] } });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (docs !== undefined) await rm(docs.dir, { recursive: true, force: true });
  });

  it('GET a small file: exact body and headers', async () => {
    const c = conn(server);
    const r = await c.getResponse(await c.request('GET', docs.small.path));
    expect(r.status).toBe(200);
    expect(r.headers.get('server')[0]).toMatch(/^nginx/);
    expect(r.headers.get('content-type')).toEqual(['text/plain']);
    expect(r.headers.get('content-length')).toEqual([String(docs.small.size)]);
    expect((await r.read()).toString('utf8')).toBe(docs.small.body);
  });

  it('GET the 64 MiB file: length and SHA-256', async () => {
    const c = conn(server);
    await expectFile(c, docs.large);
  }, 60_000);

  it('GET the 64 MiB file with read(): one Buffer', async () => {
    const c = conn(server);
    const r = await c.getResponse(await c.request('GET', docs.large.path));
    const body = await r.read();
    expect(body.length).toBe(docs.large.size);
    expect(sha256(body)).toBe(docs.large.sha256);
  }, 60_000);

  it('HEAD: headers only, no body', async () => {
    const c = conn(server);
    const r = await c.getResponse(await c.request('HEAD', docs.large.path));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toEqual([String(docs.large.size)]);
    expect(await r.read()).toHaveLength(0);
  });

  it('http2_push: the pushed responses arrive through getPushes()', async () => {
    const c = conn(server, { enablePush: true });
    const id = await c.request('GET', docs.index.path);
    const r = await c.getResponse(id);
    expect(r.status).toBe(200);
    const pushes = await collectPushes(c, { streamId: id, captureAll: true });
    expect(pushes.map((p) => p.path).sort()).toEqual([docs.script.path, docs.style.path].sort());
    for (const p of pushes) {
      expect(p.parentStreamId).toBe(id);
      expect(p.method).toBe('GET');
      expect(p.scheme).toBe('https');
    }
    await readPushes(pushes, docs);
    expect((await r.read()).toString('utf8')).toBe(docs.index.body);
  });

  it('http2_push with push disabled: nginx sends no promises', async () => {
    const c = conn(server);
    const id = await c.request('GET', docs.index.path);
    const r = await c.getResponse(id);
    expect((await r.read()).toString('utf8')).toBe(docs.index.body);
    expect(await collectPushes(c, { captureAll: true })).toEqual([]);
  });
});
