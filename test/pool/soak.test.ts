/**
 * A soak: 100,000 requests through one PoolManager, 100 at a time, against
 * an HTTP/2 server in another process. The client's heap after the run is
 * where it was after the warm-up: nothing accumulates per request.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolManager } from '../../lib/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let child: ChildProcess;
let port = 0;

beforeAll(async () => {
  child = fork(new URL('../helpers/h2-child-server.mjs', import.meta.url), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
});

afterAll(() => {
  child.disconnect();
});

async function run(http: PoolManager, url: string, total: number): Promise<void> {
  let left = total;
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (left-- > 0) {
        const r = await http.request('GET', url);
        if (r.data!.length !== 100) throw new Error('bad body');
      }
    }),
  );
}

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('soak', () => {
  it('100,000 requests through one PoolManager: one connection, and the heap stays flat', async () => {
    await using http = new PoolManager({ priorKnowledge: true });
    const url = `http://127.0.0.1:${port}/soak`;
    await run(http, url, 10_000);
    const before = settledHeap();
    await run(http, url, 100_000);
    const after = settledHeap();
    const grew = after - before;
    // Measured: a few hundred KiB either way; one leaked object of 100
    // octets per request would be 10 MB or more.
    expect(grew, `heap grew by ${(grew / 1024).toFixed(0)} KiB over 100,000 requests`).toBeLessThan(3 * 1024 * 1024);
    const pool = http.connectionFromUrl(url);
    expect(pool.numConnections).toBe(1);
    expect(pool.numRequests).toBe(110_000);
    console.log(`soak: heap ${(before / 1048576).toFixed(1)} MiB -> ${(after / 1048576).toFixed(1)} MiB after 100,000 requests`);
  }, 120_000);
});
