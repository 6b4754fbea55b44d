/**
 * What the network benchmarks share: ports for the servers they start on
 * 127.0.0.1, timing, and the peer runs that are the same in each.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * Starts nginx serving `docroot` on 127.0.0.1:`port` (one worker, sendfile,
 * keep-alive without a request limit): cleartext HTTP/1.1, or with `tls`
 * the test certificate offering h2 and http/1.1 by ALPN. Its config, logs
 * and temp files go in `dir`. The caller kills the process.
 */
export function spawnNginx(dir: string, docroot: string, port: number, tls = false): ChildProcess {
  const isRoot = process.getuid?.() === 0;
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      // Workers must be able to read the 0700 temp directory.
      isRoot ? 'user root;' : '',
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')};`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${join(dir, 'body')};`,
      `  proxy_temp_path ${join(dir, 'proxy')};`,
      `  fastcgi_temp_path ${join(dir, 'fastcgi')};`,
      `  uwsgi_temp_path ${join(dir, 'uwsgi')};`,
      `  scgi_temp_path ${join(dir, 'scgi')};`,
      '  default_type application/octet-stream;',
      '  sendfile on;',
      '  keepalive_requests 1000000;',
      tls
        ? `  server { listen 127.0.0.1:${port} ssl http2; ssl_certificate ${CERT.certPath}; ssl_certificate_key ${CERT.keyPath}; root ${docroot}; }`
        : `  server { listen 127.0.0.1:${port}; root ${docroot}; }`,
      '}',
      '',
    ].join('\n'),
  );
  return spawn('nginx', ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
}
