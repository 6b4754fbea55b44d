/**
 * 1,000 requests multiplexed over one connection, against node:http2 and
 * nghttpd, with the responses fetched in a random order and every body
 * checked against what that request, and no other, should have received.
 */

import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HTTP20Connection } from '../../lib/index.js';
import { have, makeTempDir, patternBytes, startNghttpd, startNodeHttp2, type NodeHttp2Handle, type ServerHandle } from '../helpers/servers.js';
import { closeWithin, h2Connections, sha256 } from './verify.js';
import { rng } from '../frame/helpers.js';

const COUNT = 1_000;

/**
 * Body size of item `i`: 0 to ~20 KB, a few empty, some over one 16 KiB
 * frame. The sum (~10 MB) stays under the client's 16 MiB connection
 * window, so responses nobody has read yet cannot stall the ones being read.
 */
function sizeOf(i: number): number {
  return i % 97 === 0 ? 0 : (i * 7_919) % 20_011;
}

function bodyOf(i: number): Buffer {
  return patternBytes(sizeOf(i), `item-${i}`);
}

/** Shuffles with a seeded PRNG (mulberry32, {@link rng}), so that a failing order can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = rng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const expected = Array.from({ length: COUNT }, (_, i) => sha256(bodyOf(i)));

/** Sends COUNT requests at once; returns the stream ID of each item. */
async function sendAll(c: HTTP20Connection, pathOf: (i: number) => string): Promise<number[]> {
  const ids = await Promise.all(Array.from({ length: COUNT }, (_, i) => c.request('GET', pathOf(i))));
  expect(new Set(ids).size).toBe(COUNT);
  for (const id of ids) expect(id % 2).toBe(1);
  return ids;
}

/**
 * Fetches the responses one by one in a seeded random order and checks each
 * body; every problem is collected (not just the first) and summarised.
 */
async function checkInRandomOrder(c: HTTP20Connection, ids: number[], seed: number, itemHeader: boolean): Promise<void> {
  const order = shuffled(
    ids.map((id, i) => ({ id, i })),
    seed,
  );
  const wrong: string[] = [];
  for (const { id, i } of order) {
    try {
      const r = await c.getResponse(id);
      if (r.status !== 200) wrong.push(`item ${i} (stream ${id}): status ${r.status}`);
      if (itemHeader && r.headers.first('x-item') !== String(i)) wrong.push(`item ${i} (stream ${id}): x-item ${r.headers.first('x-item')}`);
      const body = await r.read();
      if (body.length !== sizeOf(i) || sha256(body) !== expected[i]) wrong.push(`item ${i} (stream ${id}): ${body.length} octets, expected ${sizeOf(i)}`);
    } catch (err) {
      wrong.push(`item ${i} (stream ${id}): ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`);
    }
  }
  expect(summary(wrong), `seed ${seed}`).toEqual({ failed: 0, first: [] });
}

function summary(problems: string[]): { failed: number; first: string[] } {
  return { failed: problems.length, first: [...problems].sort((a, b) => streamOf(a) - streamOf(b)).slice(0, 5) };
}

function streamOf(problem: string): number {
  return Number(/stream (\d+)/.exec(problem)?.[1] ?? 0);
}

/**
 * Waits for a PING round trip: the server's SETTINGS (its connection preface,
 * RFC 9113 §3.4) precede the ACK, so its MAX_CONCURRENT_STREAMS is known.
 */
async function settled(c: HTTP20Connection): Promise<void> {
  await c.ping();
}

describe('1,000 multiplexed requests against node:http2', () => {
  let server: NodeHttp2Handle;
  const conn = h2Connections();

  beforeAll(async () => {
    server = await startNodeHttp2(
      (stream, headers) => {
        const m = /^\/item\/(\d+)$/.exec(String(headers[':path']));
        if (m === null) {
          stream.respond({ ':status': 404 });
          stream.end();
          return;
        }
        const i = Number(m[1]);
        const body = bodyOf(i);
        stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': body.length, 'x-item': String(i) });
        stream.end(body);
      },
      // Ten times fewer than the requests: the client must queue and open streams as others close.
      { maxConcurrentStreams: 100 },
    );
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('on a fresh connection: 1,000 requests at once stay within the server\'s MAX_CONCURRENT_STREAMS (none refused), random order, every body checked', async () => {
    // The requests are issued before the server's SETTINGS have been read.
    const c = conn(server);
    const ids = await sendAll(c, (i) => `/item/${i}`);
    await checkInRandomOrder(c, ids, 0x5eed_0001, true);
    expect(await closeWithin(c, 10_000)).toBe('graceful');
  }, 60_000);

  it('once the server\'s SETTINGS are in: 1,000 requests, responses fetched in random order, every body checked', async () => {
    const c = conn(server);
    await settled(c);
    const ids = await sendAll(c, (i) => `/item/${i}`);
    await checkInRandomOrder(c, ids, 0x5eed_0002, true);
    expect(await closeWithin(c, 10_000)).toBe('graceful');
  }, 60_000);

  it('responses read concurrently, all at once, in random order of asking', async () => {
    const c = conn(server);
    await settled(c);
    const ids = await sendAll(c, (i) => `/item/${i}`);
    const order = shuffled(
      ids.map((id, i) => ({ id, i })),
      0x5eed_0003,
    );
    const problems = await Promise.all(
      order.map(async ({ id, i }) => {
        try {
          const r = await c.getResponse(id);
          const body = await r.read();
          const ok = r.headers.first('x-item') === String(i) && body.length === sizeOf(i) && sha256(body) === expected[i];
          return ok ? null : `item ${i} (stream ${id}): x-item ${r.headers.first('x-item')}, ${body.length} octets`;
        } catch (err) {
          return `item ${i} (stream ${id}): ${(err as Error).message}`;
        }
      }),
    );
    expect(summary(problems.filter((p): p is string => p !== null))).toEqual({ failed: 0, first: [] });
  }, 60_000);

  it('getResponse() without an ID hands out the oldest outstanding response each time', async () => {
    const c = conn(server);
    await settled(c);
    const ids = await sendAll(c, (i) => `/item/${i}`);
    // Take a random tenth by ID first; the rest must then come oldest first.
    const taken = new Set(shuffled(ids, 0x5eed_0004).slice(0, COUNT / 10));
    for (const id of taken) await (await c.getResponse(id)).read();
    const rest = ids.filter((id) => !taken.has(id));
    for (const id of rest) {
      const r = await c.getResponse();
      expect(r.streamId).toBe(id);
      const i = ids.indexOf(id);
      expect(sha256(await r.read())).toBe(expected[i]);
    }
  }, 60_000);
});

describe.skipIf(!have('nghttpd'))('1,000 multiplexed requests against nghttpd', () => {
  let docRoot: string;
  let server: ServerHandle;
  const conn = h2Connections();

  beforeAll(async () => {
    docRoot = await makeTempDir('docroot');
    await mkdir(path.join(docRoot, 'item'));
    for (let i = 0; i < COUNT; i++) await writeFile(path.join(docRoot, 'item', `${i}.bin`), bodyOf(i));
    // nghttpd's default SETTINGS_MAX_CONCURRENT_STREAMS is 100.
    server = await startNghttpd({ docRoot });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (docRoot !== undefined) await rm(docRoot, { recursive: true, force: true });
  });

  it('on a fresh connection: 1,000 requests at once stay within the server\'s MAX_CONCURRENT_STREAMS (none refused), random order, every body checked', async () => {
    const c = conn(server);
    const ids = await sendAll(c, (i) => `/item/${i}.bin`);
    await checkInRandomOrder(c, ids, 0x5eed_0005, false);
    expect(await closeWithin(c, 10_000)).toBe('graceful');
  }, 60_000);

  it('once the server\'s SETTINGS are in: 1,000 requests, responses fetched in random order, every body checked', async () => {
    const c = conn(server);
    await settled(c);
    const ids = await sendAll(c, (i) => `/item/${i}.bin`);
    await checkInRandomOrder(c, ids, 0x5eed_0006, false);
    expect(await closeWithin(c, 10_000)).toBe('graceful');
  }, 60_000);
});
