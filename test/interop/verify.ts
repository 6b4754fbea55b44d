/**
 * Reading and checking response bodies in the interop tests.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ErrorCode, HTTP20Connection, type HTTP20ConnectionOptions, type HTTP20Push, HTTPConnection, type HTTPConnectionOptions } from '../../lib/index.js';
import { afterEach, expect } from 'vitest';
import { CERT_FILE, type DocRoot, type ServedFile, type ServerHandle } from '../helpers/servers.js';

/** The test CA (the self-signed certificate itself). */
export const CA = readFileSync(CERT_FILE);

/** A connection to a test server: TLS trusting the test certificate, bounded timeouts. */
export function connect(server: Pick<ServerHandle, 'authority'>, options: HTTP20ConnectionOptions = {}): HTTP20Connection {
  return new HTTP20Connection(server.authority, { tls: { ca: CA }, timeout: 20_000, ...options });
}

/** Reads a body chunk by chunk; returns its length and SHA-256 (hex) without holding it in memory. */
export async function hashBody(response: { readChunked(): AsyncIterable<Buffer> }): Promise<{ length: number; sha256: string; chunks: number }> {
  const hash = createHash('sha256');
  let length = 0;
  let chunks = 0;
  for await (const chunk of response.readChunked()) {
    hash.update(chunk);
    length += chunk.length;
    chunks++;
  }
  return { length, sha256: hash.digest('hex'), chunks };
}

/**
 * GETs a served file and checks it: status 200, its content-length (when
 * `checkLength`), and the length and SHA-256 of the body read chunk by chunk.
 */
export async function expectFile(conn: HTTP20Connection, file: ServedFile, checkLength = true): Promise<void> {
  const r = await conn.getResponse(await conn.request('GET', file.path));
  expect(r.status).toBe(200);
  if (checkLength) expect(r.headers.get('content-length')).toEqual([String(file.size)]);
  const got = await hashBody(r);
  expect(got.length).toBe(file.size);
  expect(got.sha256).toBe(file.sha256);
}

/** Checks a response: status 200, and the length and SHA-256 of its body read chunk by chunk. */
export async function expectBody(
  response: { status: number; readChunked(): AsyncIterable<Buffer> },
  file: Pick<ServedFile, 'size' | 'sha256'>,
): Promise<void> {
  expect(response.status).toBe(200);
  expect(await hashBody(response)).toMatchObject({ length: file.size, sha256: file.sha256 });
}

/** Every push `conn.getPushes(options)` yields, in order (Array.fromAsync is beyond ES2022). */
export async function collectPushes<P>(
  conn: { getPushes(options?: { streamId?: number; captureAll?: boolean }): AsyncIterable<P> },
  options: { streamId?: number; captureAll?: boolean } = {},
): Promise<P[]> {
  const pushes: P[] = [];
  for await (const p of conn.getPushes(options)) pushes.push(p);
  return pushes;
}

/** Reads each pushed response (of the style sheet or the script): status 200 and the file's exact body. */
export async function readPushes(pushes: readonly HTTP20Push[], docs: Pick<DocRoot, 'style' | 'script'>): Promise<void> {
  for (const p of pushes) {
    const r = await p.getResponse();
    expect(r.status).toBe(200);
    const file = p.path === docs.style.path ? docs.style : docs.script;
    expect((await r.read()).toString('utf8')).toBe(file.body);
  }
}

/** The SHA-256 (hex) of some octets. */
export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Closes a connection, but not for longer than `ms` (then aborts it with CANCEL); reports which it was. */
export async function closeWithin(conn: { close(errorCode?: number): Promise<void> }, ms = 10_000): Promise<'graceful' | 'forced'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'forced'>((resolve) => {
    timer = setTimeout(() => resolve('forced'), ms);
  });
  const result = await Promise.race([conn.close().then(() => 'graceful' as const), timedOut]);
  clearTimeout(timer);
  if (result === 'forced') await conn.close(ErrorCode.CANCEL).catch(() => {});
  return result;
}

/** `promise`, or a failure naming `what` if it has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** TCP sockets this process has open (client sockets; the servers under test are other processes). */
export function tcpSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

/** Polls `condition` every 10 ms for at most `ms`; returns whether it came true. */
export async function eventually(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/**
 * For a test file: makes HTTPConnections (TLS trusting the test
 * certificate, bounded timeouts) and closes each, bounded, after its test.
 */
export function facadeConnections(): (authority: string, options?: HTTPConnectionOptions) => HTTPConnection {
  const open: HTTPConnection[] = [];
  afterEach(async () => {
    for (const c of open.splice(0)) await closeWithin(c);
  });
  return (authority, options = {}) => {
    const c = new HTTPConnection(authority, { tls: { ca: CA }, timeout: 20_000, closeTimeout: 5_000, ...options });
    open.push(c);
    return c;
  };
}

/**
 * For a test file or describe block: makes HTTP20Connections with
 * {@link connect} and closes each, bounded by `closeMs`, after its test.
 */
export function h2Connections(closeMs = 5_000): (server: Pick<ServerHandle, 'authority'>, options?: HTTP20ConnectionOptions) => HTTP20Connection {
  const open: HTTP20Connection[] = [];
  afterEach(async () => {
    for (const c of open.splice(0)) await closeWithin(c, closeMs);
  });
  return (server, options = {}) => {
    const c = connect(server, options);
    open.push(c);
    return c;
  };
}
