/**
 * Interop with nghttpd (nghttp2-server): files over h2 and h2c, a streamed
 * upload echoed back (--echo-upload), and server push (-p).
 */

import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HTTP20Push } from '../../lib/index.js';
import { have, makeDocRoot, makeTempDir, pattern, patternSha256, startNghttpd, type DocRoot, type ServerHandle } from '../helpers/servers.js';
import { closeWithin, collectPushes, expectBody, expectFile, h2Connections, readPushes, sha256 } from './verify.js';

const UPLOAD_SIZE = 16 * 1024 * 1024;

describe.skipIf(!have('nghttpd'))('nghttpd interop', () => {
  let docs: DocRoot;
  let h2: ServerHandle;
  let h2c: ServerHandle;
  const cancelPage = '/cancel.html';
  const conn = h2Connections();

  beforeAll(async () => {
    docs = await makeDocRoot(await makeTempDir('docroot'));
    await writeFile(path.join(docs.dir, cancelPage), '<p>the push of this page is cancelled</p>\n');
    h2 = await startNghttpd({
      docRoot: docs.dir,
      echoUpload: true,
      push: { [docs.index.path]: [docs.style.path, docs.script.path], [cancelPage]: [docs.large.path] },
    });
    h2c = await startNghttpd({ docRoot: docs.dir, tls: false });
  }, 60_000);

  afterAll(async () => {
    await h2?.stop();
    await h2c?.stop();
    if (docs !== undefined) await rm(docs.dir, { recursive: true, force: true });
  });

  it('GET a small file over TLS: exact body and headers', async () => {
    const c = conn(h2);
    const id = await c.request('GET', docs.small.path);
    expect(id).toBe(1);
    const r = await c.getResponse(id);
    expect(r.status).toBe(200);
    expect(r.streamId).toBe(id);
    expect(r.headers.get('content-type')).toEqual(['text/plain']);
    expect(r.headers.get('content-length')).toEqual([String(docs.small.size)]);
    expect(r.headers.get('server')[0]).toMatch(/^nghttpd/);
    expect((await r.read()).toString('utf8')).toBe(docs.small.body);
    expect(await r.read()).toHaveLength(0);
  });

  it('GET a missing file: 404 with a body', async () => {
    const c = conn(h2);
    const r = await c.getResponse(await c.request('GET', '/no-such-file'));
    expect(r.status).toBe(404);
    expect((await r.read()).toString('latin1')).toContain('404');
  });

  it('GET the 64 MiB file over TLS: length and SHA-256', async () => {
    const c = conn(h2);
    await expectFile(c, docs.large);
  }, 60_000);

  it('GET the 64 MiB file with read(amt) in 1 MiB pieces', async () => {
    const c = conn(h2);
    const r = await c.getResponse(await c.request('GET', docs.large.path));
    const hash = createHash('sha256');
    let total = 0;
    for (;;) {
      const piece = await r.read(1 << 20);
      if (piece.length === 0) break;
      // read(amt) returns fewer octets only at the end.
      if (total + piece.length < docs.large.size) expect(piece.length).toBe(1 << 20);
      hash.update(piece);
      total += piece.length;
    }
    expect(total).toBe(docs.large.size);
    expect(hash.digest('hex')).toBe(docs.large.sha256);
  }, 60_000);

  it('POST a 16 MiB body from a Node Readable: --echo-upload returns it intact', async () => {
    const c = conn(h2);
    const body = Readable.from(pattern(UPLOAD_SIZE, 'upload-readable', 64 * 1024), { objectMode: false });
    const id = await c.request('POST', '/echo', { headers: { 'content-type': 'application/octet-stream' }, body });
    const r = await c.getResponse(id);
    await expectBody(r, { size: UPLOAD_SIZE, sha256: await patternSha256(UPLOAD_SIZE, 'upload-readable') });
  }, 60_000);

  it('POST a 16 MiB body from an async generator of odd-sized chunks: echoed intact', async () => {
    const c = conn(h2);
    async function* body(): AsyncGenerator<Uint8Array> {
      // Re-slice the pattern into chunk sizes that straddle frame and window boundaries.
      const sizes = [1, 16_383, 16_384, 16_385, 65_535, 65_536, 100_000, 7];
      let i = 0;
      for await (const chunk of pattern(UPLOAD_SIZE, 'upload-generator')) {
        let off = 0;
        while (off < chunk.length) {
          const n = Math.min(sizes[i++ % sizes.length]!, chunk.length - off);
          yield chunk.subarray(off, off + n);
          off += n;
        }
      }
    }
    const id = await c.request('POST', '/echo', { body: body() });
    const r = await c.getResponse(id);
    await expectBody(r, { size: UPLOAD_SIZE, sha256: await patternSha256(UPLOAD_SIZE, 'upload-generator') });
  }, 60_000);

  it('POST a small in-memory body: echoed byte for byte', async () => {
    const c = conn(h2);
    const text = 'name=value&other=\u00e9\u2713';
    const r = await c.getResponse(await c.request('POST', '/echo', { body: text }));
    expect(r.status).toBe(200);
    expect((await r.read()).toString('utf8')).toBe(text);
  });

  describe('server push (-p)', () => {
    function checkPushes(pushes: HTTP20Push[], parent: number): void {
      expect(pushes.map((p) => p.path).sort()).toEqual([docs.script.path, docs.style.path].sort());
      for (const p of pushes) {
        expect(p.parentStreamId).toBe(parent);
        expect(p.promisedStreamId % 2).toBe(0);
        expect(p.method).toBe('GET');
        expect(p.scheme).toBe('https');
        expect(p.authority).toBe(h2.authority);
      }
    }

    it('getPushes() after the response headers, before the body is read', async () => {
      const c = conn(h2, { enablePush: true });
      const id = await c.request('GET', docs.index.path);
      const r = await c.getResponse(id);
      expect(r.status).toBe(200);
      // nghttpd sends PUSH_PROMISE before the response HEADERS (RFC 9113 §8.4).
      const pushes = await collectPushes(c, { streamId: id });
      checkPushes(pushes, id);
      await readPushes(pushes, docs);
      expect((await r.read()).toString('utf8')).toBe(docs.index.body);
    });

    it('getPushes() after the response body was read', async () => {
      const c = conn(h2, { enablePush: true });
      const id = await c.request('GET', docs.index.path);
      const r = await c.getResponse(id);
      expect((await r.read()).toString('utf8')).toBe(docs.index.body);
      const pushes = await collectPushes(c);
      checkPushes(pushes, id);
      await readPushes(pushes, docs);
      // Each push is handed out once.
      expect(await collectPushes(c)).toEqual([]);
    });

    it('getPushes({ streamId, captureAll: true }) straight after request(): waits for the promises', async () => {
      const c = conn(h2, { enablePush: true });
      const id = await c.request('GET', docs.index.path);
      const pushes = await collectPushes(c, { streamId: id, captureAll: true });
      checkPushes(pushes, id);
      await readPushes(pushes, docs);
      const r = await c.getResponse(id);
      expect((await r.read()).toString('utf8')).toBe(docs.index.body);
    });

    it('getPushes({ captureAll: true }) over two parents: every push, each once, from the right parent', async () => {
      const c = conn(h2, { enablePush: true });
      const a = await c.request('GET', docs.index.path);
      const b = await c.request('GET', docs.index.path);
      const pushes = await collectPushes(c, { captureAll: true });
      checkPushes(
        pushes.filter((p) => p.parentStreamId === a),
        a,
      );
      checkPushes(
        pushes.filter((p) => p.parentStreamId === b),
        b,
      );
      expect(pushes).toHaveLength(4);
      expect(new Set(pushes.map((p) => p.promisedStreamId)).size).toBe(4);
      await readPushes(pushes, docs);
      for (const id of [b, a]) expect((await (await c.getResponse(id)).read()).toString('utf8')).toBe(docs.index.body);
    });

    it('push.cancel() of a 64 MiB push: its stream is reset, the parent and the connection carry on', async () => {
      const c = conn(h2, { enablePush: true });
      const id = await c.request('GET', cancelPage);
      const r = await c.getResponse(id);
      const pushes = await collectPushes(c, { streamId: id });
      expect(pushes.map((p) => p.path)).toEqual([docs.large.path]);
      const push = pushes[0]!;
      push.cancel();
      // The pushed body cannot have arrived whole (the stream window is far below 64 MiB): reading it fails as cancelled.
      await expect(
        (async () => {
          const pr = await push.getResponse();
          await pr.read();
        })(),
      ).rejects.toMatchObject({ code: 'HW_ERR_STREAM_CANCELLED' });
      expect((await r.read()).toString('utf8')).toContain('cancelled');
      // The connection is still good, and a graceful close does not wait for the cancelled push.
      const r2 = await c.getResponse(await c.request('GET', docs.small.path));
      expect((await r2.read()).toString('utf8')).toBe(docs.small.body);
      expect(await c.ping()).toBeGreaterThanOrEqual(0);
      expect(await closeWithin(c, 10_000)).toBe('graceful');
    }, 60_000);

    it('push disabled (the default): no promises, getPushes() yields nothing', async () => {
      const c = conn(h2);
      const id = await c.request('GET', docs.index.path);
      const r = await c.getResponse(id);
      expect((await r.read()).toString('utf8')).toBe(docs.index.body);
      expect(await collectPushes(c, { captureAll: true })).toEqual([]);
    });
  });

  describe('h2c with prior knowledge (--no-tls)', () => {
    it('GET a small file', async () => {
      const c = conn(h2c, { secure: false });
      expect(c.secure).toBe(false);
      const r = await c.getResponse(await c.request('GET', docs.small.path));
      expect(r.status).toBe(200);
      expect((await r.read()).toString('utf8')).toBe(docs.small.body);
    });

    it('GET the 64 MiB file: length and SHA-256', async () => {
      const c = conn(h2c, { secure: false });
      await expectFile(c, docs.large, false);
    }, 60_000);

    it('several requests in flight, answered in reverse order', async () => {
      const c = conn(h2c, { secure: false });
      const files = [docs.small, docs.style, docs.script, docs.index];
      const ids = [];
      for (const f of files) ids.push(await c.request('GET', f.path));
      expect(ids).toEqual([1, 3, 5, 7]);
      for (let i = files.length - 1; i >= 0; i--) {
        const r = await c.getResponse(ids[i]!);
        expect(sha256(await r.read())).toBe(files[i]!.sha256);
      }
    });
  });
});
