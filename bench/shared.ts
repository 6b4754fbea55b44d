/**
 * What the network benchmarks share: ports for the servers they start on
 * 127.0.0.1, timing, and the peer runs that are the same in each.
 */

import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import type { Client } from 'undici';

const certDir = new URL('../../test/helpers/certs/', import.meta.url);
/** The test certificate the servers present, and its files. */
export const CERT = {
  /** The certificate, as the clients' CA. */
  ca: readFileSync(new URL('cert.pem', certDir)),
  keyPath: new URL('key.pem', certDir).pathname,
  certPath: new URL('cert.pem', certDir).pathname,
};

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Waits (at most 5 s) until something accepts connections on the port. */
export async function waitForPort(port: number, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

/** Seconds `fn` takes. */
export async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

/** The upper median of `xs` (the middle value; of two middle ones, the upper). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Appends `v` to the figures recorded under `key`. */
export function record(results: Map<string, number[]>, key: string, v: number): void {
  const list = results.get(key);
  if (list === undefined) results.set(key, [v]);
  else list.push(v);
}

/**
 * Runs `one` `total` times, `concurrency` at a time (each worker starts the
 * next as soon as its last finished): seconds taken.
 */
export function concurrently(total: number, concurrency: number, one: () => Promise<void>): Promise<number> {
  let left = total;
  return timed(async () => {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) await one();
      }),
    );
  });
}

/** One download of `size` octets from `path` with an undici Client, which is then closed: MB/s. */
export async function undiciDownload(client: Client, path: string, size: number): Promise<number> {
  let n = 0;
  const s = await timed(async () => {
    const { body } = await client.request({ path, method: 'GET' });
    for await (const c of body) n += (c as Buffer).length;
  });
  await client.close();
  if (n !== size) throw new Error(`undici read ${n}`);
  return size / s / 1e6;
}
