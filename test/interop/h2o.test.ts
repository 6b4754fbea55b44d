/**
 * Interop with h2o: h2 over TLS, files small and large.
 */

import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { have, makeDocRoot, makeTempDir, startH2o, type DocRoot, type ServerHandle } from '../helpers/servers.js';
import { expectFile, h2Connections, hashBody, sha256 } from './verify.js';

describe.skipIf(!have('h2o'))('h2o interop', () => {
  let docs: DocRoot;
  let server: ServerHandle;
  const conn = h2Connections();

  beforeAll(async () => {
    docs = await makeDocRoot(await makeTempDir('docroot'));
    server = await startH2o({ docRoot: docs.dir });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (docs !== undefined) await rm(docs.dir, { recursive: true, force: true });
  });

  it('GET a small file: exact body and headers', async () => {
    const c = conn(server);
    const r = await c.getResponse(await c.request('GET', docs.small.path));
    expect(r.status).toBe(200);
    expect(r.headers.get('server')[0]).toMatch(/^h2o/);
    expect(r.headers.get('content-length')).toEqual([String(docs.small.size)]);
    expect((await r.read()).toString('utf8')).toBe(docs.small.body);
  });

  it('GET the 64 MiB file: length and SHA-256', async () => {
    const c = conn(server);
    await expectFile(c, docs.large);
  }, 60_000);

  it('small and large files in flight together, read in reverse order', async () => {
    const c = conn(server);
    const large = await c.request('GET', docs.large.path);
    const small = await c.request('GET', docs.small.path);
    const style = await c.request('GET', docs.style.path);
    expect(sha256(await (await c.getResponse(style)).read())).toBe(docs.style.sha256);
    expect((await (await c.getResponse(small)).read()).toString('utf8')).toBe(docs.small.body);
    const got = await hashBody(await c.getResponse(large));
    expect(got.length).toBe(docs.large.size);
    expect(got.sha256).toBe(docs.large.sha256);
  }, 60_000);
});
