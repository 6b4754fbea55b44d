/**
 * The Client's authentication: Digest through the Client against an RFC
 * 7616 server (answered once, then the nonce reused with a counted nc),
 * Basic from a tuple, a hook, and .netrc when no auth is given and the
 * environment is trusted.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, DigestAuth } from '../../lib/index.js';
import { digestServer, type DigestServer } from '../helpers/digest-server.js';

describe('Digest through the Client', () => {
  let server: DigestServer;
  beforeAll(async () => {
    server = await digestServer({ users: { Mufasa: 'Circle of Life' }, algorithms: ['SHA-256'] });
  });
  afterAll(() => server.close());

  it('one 401, answered; the next request goes straight through with nc=00000002', async () => {
    await using client = new Client({ auth: new DigestAuth('Mufasa', 'Circle of Life'), trustEnv: false, http2: false });
    const first = await client.get(server.url('/dir/index.html'));
    expect(first.status).toBe(200);
    expect(first.text).toBe('hello Mufasa');
    const second = await client.get(server.url('/dir/other.html'));
    expect(second.status).toBe(200);
    expect(server.log.map((e) => e.status)).toEqual([401, 200, 200]);
    expect(server.log[2]!.authorization!.nc).toBe('00000002');
  });

  it('a wrong password: the 401 comes back after one answer', async () => {
    await using client = new Client({ auth: new DigestAuth('Mufasa', 'wrong'), trustEnv: false, http2: false });
    const before = server.log.length;
    const r = await client.get(server.url('/dir/index.html'));
    expect(r.status).toBe(401);
    expect(server.log.length - before).toBe(2);
  });

  it('a POST body in memory is sent again with the answer', async () => {
    await using client = new Client({ auth: new DigestAuth('Mufasa', 'Circle of Life'), trustEnv: false, http2: false });
    const r = await client.post(server.url('/post'), { json: { a: 1 } });
    expect(r.status).toBe(200);
  });
});

describe('Basic, hooks and .netrc', () => {
  let server: http.Server;
  let base = '';
  const seen: Array<string | undefined> = [];
  let dir = '';
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'hyperwire-netrc-'));
    writeFileSync(join(dir, 'netrc'), 'machine 127.0.0.1 login netuser password netpass\n');
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('a [user, password] tuple is Basic; a function may set the header itself', async () => {
    await using c = new Client({ auth: ['user', 'pässword'], trustEnv: false });
    await c.get(`${base}/`);
    expect(seen.at(-1)).toBe(`Basic ${Buffer.from('user:pässword', 'utf8').toString('base64')}`);
    await c.get(`${base}/`, { auth: (req) => void req.headers.set('authorization', 'Token abc') });
    expect(seen.at(-1)).toBe('Token abc');
    await c.get(`${base}/`, { auth: null });
    expect(seen.at(-1)).toBeUndefined();
  });

  it('.netrc credentials are used when no auth is given and trustEnv is on, and not otherwise', async () => {
    const saved = process.env.NETRC;
    process.env.NETRC = join(dir, 'netrc');
    try {
      await using trusting = new Client();
      await trusting.get(`${base}/`);
      expect(seen.at(-1)).toBe(`Basic ${Buffer.from('netuser:netpass').toString('base64')}`);
      await using notTrusting = new Client({ trustEnv: false });
      await notTrusting.get(`${base}/`);
      expect(seen.at(-1)).toBeUndefined();
      await using explicit = new Client({ auth: ['other', 'x'] });
      await explicit.get(`${base}/`);
      expect(seen.at(-1)).toBe(`Basic ${Buffer.from('other:x').toString('base64')}`);
    } finally {
      if (saved === undefined) delete process.env.NETRC;
      else process.env.NETRC = saved;
    }
  });
});
