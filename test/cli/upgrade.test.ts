/**
 * h2c by Upgrade (RFC 7540 §3.2) against a server that does it: Apache
 * with mod_http2. Node's http2 server cannot answer an upgraded request,
 * so this file needs apache2 and says so when it is missing.
 */

import { chmod, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { have, makeTempDir, startApache, type ServerHandle } from '../helpers/servers.js';
import { hyper } from './run.js';

const present = have('apache2');
let apache: ServerHandle;
let docRoot: string;

beforeAll(async () => {
  if (!present) return;
  docRoot = await makeTempDir('hyper-upgrade');
  // Apache's workers (www-data when run as root) must read it.
  await chmod(docRoot, 0o755);
  await writeFile(`${docRoot}/hello.txt`, 'hello over h2c\n', { mode: 0o644 });
  apache = await startApache({ docRoot });
});
afterAll(async () => {
  if (!present) return;
  await apache.stop();
  await rm(docRoot, { recursive: true, force: true });
});

describe.skipIf(!present)('h2c by Upgrade', () => {
  it('is what a plain http:// URL tries, and -v shows the upgrade request and the HTTP/2 response', async () => {
    const r = await hyper(['-v', `127.0.0.1:${apache.port}/hello.txt`]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^GET \/hello\.txt HTTP\/1\.1\n/);
    expect(r.out).toContain('\nConnection: Upgrade, HTTP2-Settings\nUpgrade: h2c\nHTTP2-Settings: ');
    expect(r.out).toMatch(/\n\nHTTP\/2 200\n/);
    expect(r.out.endsWith('\n\nhello over h2c\n')).toBe(true);
  });

  it('--upgrade succeeds when the server switches', async () => {
    const r = await hyper(['--upgrade', '-p', 'h', `127.0.0.1:${apache.port}/hello.txt`]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^HTTP\/2 200\n/);
  });

  it('--debug shows the 101, the connection becoming HTTP/2, and the response on stream 1', async () => {
    const r = await hyper(['--debug', `127.0.0.1:${apache.port}/hello.txt`]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('hello over h2c\n');
    const log = r.stderr;
    const order = [
      /HTTP\/1\.1 connection to 127\.0\.0\.1:\d+ \(cleartext\)/,
      /send HTTP\/1\.1 request head <length=\d+>\n {10}GET \/hello\.txt HTTP\/1\.1\n/,
      /recv HTTP\/1\.1 response head\n {10}HTTP\/1\.1 101 Switching Protocols\n/,
      /HTTP\/2 connection to 127\.0\.0\.1:\d+ \(upgraded from HTTP\/1\.1 \(101 Switching Protocols\)\)/,
      /recv HEADERS frame <length=\d+, flags=0x0[45], stream_id=1>\n {10}; END_HEADERS\n {10}:status: 200/,
    ].map((re) => log.search(re));
    for (const at of order) expect(at).toBeGreaterThanOrEqual(0);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // One connection throughout: no connection numbers.
    expect(log).not.toMatch(/\] #\d /);
  });

  it('--http1 does not ask', async () => {
    const r = await hyper(['--http1', '-p', 'Hh', `127.0.0.1:${apache.port}/hello.txt`]);
    expect(r.out).not.toContain('HTTP2-Settings');
    expect(r.out).toContain('\n\nHTTP/1.1 200 OK\n');
  });
});
