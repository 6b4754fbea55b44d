/**
 * A Node HTTP server written to RFC 7616: it issues Digest challenges,
 * computes the answer it expects itself, tracks nc per nonce, and can make
 * nonces stale. For the auth and Client tests.
 */

import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';

/** The parameters of an Authorization header, read with a parser of the test's own (not the one under test). */
export function paramsOf(header: string | undefined): Record<string, string> {
  expect(header).toMatch(/^Digest /);
  const out: Record<string, string> = {};
  for (const m of header!.slice(7).matchAll(/([A-Za-z*]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    out[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  }
  return out;
}


export interface ServerOptions {
  users: Record<string, string>;
  algorithms?: string[];
  /** The qop parameter; null leaves it out (RFC 2069). */
  qop?: string | null;
  userhash?: boolean;
  /** Challenges of other schemes put before the Digest ones, in the first field line. */
  others?: string;
  /** Send Authentication-Info with a nextnonce on success. */
  nextnonce?: boolean;
  /** How many of the first nonces issued are stale from the start (so even their first answer gets stale=true). */
  bornStale?: number;
}

interface NonceState {
  algorithms: string[];
  lastNc: number;
  /** -sess: the session key, made from the first answer's cnonce (RFC 7616 §3.4.2). */
  sessionKey?: string;
  expired: boolean;
}

interface Exchange {
  method: string;
  url: string;
  authorization: Record<string, string> | undefined;
  status: number;
  stale: boolean;
}

export const REALM = 'digest-test@hyperwire';
const HASHES: Record<string, string> = { 'MD5': 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

export async function digestServer(options: ServerOptions) {
  const nonces = new Map<string, NonceState>();
  const log: Exchange[] = [];
  const algorithms = options.algorithms ?? ['MD5'];
  const qop = options.qop === undefined ? 'auth' : options.qop;
  let bornStale = options.bornStale ?? 0;

  const challenge = (res: http.ServerResponse, stale: boolean, record: Omit<Exchange, 'status' | 'stale'>) => {
    const nonce = randomBytes(12).toString('base64');
    nonces.set(nonce, { algorithms, lastNc: 0, expired: bornStale-- > 0 });
    const lines = algorithms.map((algorithm) => {
      const parts = [`realm="${REALM}"`, `nonce="${nonce}"`, `algorithm=${algorithm}`, 'opaque="0pa\\"que"'];
      if (qop !== null) parts.push(`qop="${qop}"`);
      if (options.userhash) parts.push('userhash=true', 'charset=UTF-8');
      if (stale) parts.push('stale=true');
      return `Digest ${parts.join(', ')}`;
    });
    if (options.others !== undefined) lines[0] = `${options.others}, ${lines[0]}`;
    res.writeHead(401, { 'WWW-Authenticate': lines, 'Content-Type': 'text/plain' });
    res.end('unauthorized');
    log.push({ ...record, status: 401, stale });
  };

  const server = http.createServer((req, res) => {
    const header = req.headers.authorization;
    const p = header === undefined ? undefined : paramsOf(header);
    const record = { method: req.method!, url: req.url!, authorization: p };
    if (p === undefined) return challenge(res, false, record);
    const state = nonces.get(p.nonce ?? '');
    const algorithm = p.algorithm ?? 'MD5';
    if (state === undefined || !state.algorithms.includes(algorithm) || p.opaque !== '0pa"que' || p.realm !== REALM) return challenge(res, false, record);
    const hash = HASHES[algorithm.replace(/-sess$/i, '')]!;
    const h = (text: string) => createHash(hash).update(text, 'utf8').digest('hex');

    // Who is it: a hashed name (§3.4.4), username* (RFC 8187), or a plain one.
    let user: string | undefined;
    if (p.userhash === 'true') user = Object.keys(options.users).find((u) => h(`${u}:${REALM}`) === p.username);
    else if (p['username*'] !== undefined) user = decodeURIComponent(p['username*'].replace(/^UTF-8''/i, ''));
    else user = p.username;
    const password = user === undefined ? undefined : options.users[user];
    if (password === undefined || p.uri !== req.url) return challenge(res, false, record);

    let ha1 = h(`${user}:${REALM}:${password}`);
    let nc = 0;
    if (qop !== null) {
      if (p.qop !== 'auth' || !/^[0-9a-f]{8}$/.test(p.nc ?? '') || !p.cnonce) return challenge(res, false, record);
      nc = parseInt(p.nc!, 16);
      if (nc <= state.lastNc) return challenge(res, false, record); // a replayed count
    } else if (p.qop !== undefined || p.nc !== undefined || p.cnonce !== undefined) {
      return challenge(res, false, record);
    }
    if (/-sess$/i.test(algorithm)) {
      state.sessionKey ??= h(`${ha1}:${p.nonce}:${p.cnonce}`);
      ha1 = state.sessionKey;
    }
    const ha2 = h(`${req.method}:${p.uri}`);
    const expected = qop === null ? h(`${ha1}:${p.nonce}:${ha2}`) : h(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
    if (p.response !== expected) return challenge(res, false, record);
    // Right digest, old nonce: stale (§3.3).
    if (state.expired) return challenge(res, true, record);
    state.lastNc = nc;
    const headers: Record<string, string> = { 'Content-Type': 'text/plain' };
    if (options.nextnonce) {
      const next = randomBytes(12).toString('base64');
      nonces.set(next, { algorithms, lastNc: 0, expired: false });
      headers['Authentication-Info'] = `nextnonce="${next}"`;
    }
    res.writeHead(200, headers);
    res.end(`hello ${user}`);
    log.push({ ...record, status: 200, stale: false });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    log,
    /** Makes every nonce issued so far stale. */
    expireNonces() {
      for (const state of nonces.values()) state.expired = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type DigestServer = Awaited<ReturnType<typeof digestServer>>;
