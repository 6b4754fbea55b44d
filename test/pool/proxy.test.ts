/**
 * The pool through proxies, against real ones: squid (an HTTP proxy, with
 * and without Basic auth: CONNECT tunnels and absolute form), a Node TLS
 * front before squid (an https:// proxy), dante (SOCKS4 and SOCKS5, with
 * and without username/password), and a small scripted SOCKS4a server
 * (dante 1.4 has none). Origins: nghttpd (h2) and Node's http/https.
 * Each test checks what the origin saw (the protocol; no credentials meant
 * for the proxy) and how many tunnels a burst opened.
 */

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MaxRetryError, ProxyError, ProxyManager, SOCKSProxyManager, TLSError, PoolManager } from '../../lib/index.js';
import {
  CERT_FILE,
  freePort,
  have,
  KEY_FILE,
  makeDocRoot,
  makeTempDir,
  startDante,
  startNghttpd,
  startSquid,
  establishedTo,
  withSystemUser,
  type DocRoot,
  type ServerHandle,
} from '../helpers/servers.js';

const ca = readFileSync(CERT_FILE);
const key = readFileSync(KEY_FILE);
const tlsOptions = { ca };

/** What a Node origin saw. */
interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
  servername: string | undefined;
}

/** A node:http or node:https origin answering `METHOD URL`, counting connections. */
async function origin(secure: boolean) {
  const seen: Seen[] = [];
  let connections = 0;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    seen.push({ url: req.url ?? '', headers: req.headers, servername: (req.socket as tls.TLSSocket).servername || undefined });
    res.end(`${req.method} ${req.url}`);
  };
  const server = secure ? https.createServer({ key, cert: ca }, handler) : http.createServer(handler);
  server.on(secure ? 'secureConnection' : 'connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    seen,
    connections: () => connections,
    url: (p: string) => `${secure ? 'https' : 'http'}://localhost:${port}${p}`,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** CONNECT lines squid logged (its access log, written as it goes). */
async function connectsLogged(squid: ServerHandle): Promise<number> {
  const text = await readFile(path.join(squid.dir, 'access.log'), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => / CONNECT /.test(l)).length;
}

let docs: DocRoot;
let nghttpd: ServerHandle | undefined;
beforeAll(async () => {
  docs = await makeDocRoot(await makeTempDir('proxy-docroot'));
  if (have('nghttpd')) nghttpd = await startNghttpd({ docRoot: docs.dir });
}, 60_000);
afterAll(async () => {
  await nghttpd?.stop();
  if (docs !== undefined) await rm(docs.dir, { recursive: true, force: true });
});

const h2Url = (p: string): string => `https://localhost:${nghttpd!.port}${p}`;

describe.skipIf(!have('squid') || !have('nghttpd'))('ProxyManager through squid', () => {
  let squid: ServerHandle;
  let authSquid: ServerHandle;
  const USER = 'hw user';
  const PASSWORD = 'p@ss:w/rd%';
  const credentials = `${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}`;

  beforeAll(async () => {
    [squid, authSquid] = await Promise.all([startSquid(), startSquid({ auth: { user: USER, password: PASSWORD } })]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([squid?.stop(), authSquid?.stop()]);
  });

  it('https: 50 concurrent requests to an h2 origin go through one CONNECT tunnel, h2 end to end', async () => {
    await using http = new ProxyManager(`http://127.0.0.1:${squid.port}`, { tls: tlsOptions });
    const before = await connectsLogged(squid);
    const responses = await Promise.all(Array.from({ length: 50 }, () => http.request('GET', h2Url(docs.small.path))));
    expect(responses.every((r) => r.protocol === 'h2' && r.data!.toString() === docs.small.body)).toBe(true);
    await http.close();
    // squid logs a tunnel when it ends.
    await vi.waitFor(async () => expect((await connectsLogged(squid)) - before).toBe(1), { timeout: 5000 });
  });

  it('http: absolute-form requests, on connections pooled per proxy whatever the origin', async () => {
    const a = await origin(false);
    const b = await origin(false);
    try {
      await using http = new ProxyManager(`http://127.0.0.1:${squid.port}`);
      for (let i = 0; i < 3; i++) {
        expect((await http.request('GET', a.url(`/a${i}`))).data!.toString()).toBe(`GET /a${i}`);
        expect((await http.request('GET', b.url(`/b${i}`))).data!.toString()).toBe(`GET /b${i}`);
      }
      expect(a.seen[0]!.headers.via).toMatch(/squid/);
      const proxyPool = http.connectionFromUrl(a.url('/'));
      expect(proxyPool).toBe(http.connectionFromUrl(b.url('/')));
      expect(proxyPool.numConnections).toBe(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('credentials in the proxy URL: percent-decoded, sent to the proxy only (https and http targets)', async () => {
    const plain = await origin(false);
    try {
      await using http = new ProxyManager(`http://${credentials}@127.0.0.1:${authSquid.port}`, { tls: tlsOptions });
      const r = await http.request('GET', h2Url(docs.small.path));
      expect(r.protocol).toBe('h2');
      expect((await http.request('GET', plain.url('/x'))).data!.toString()).toBe('GET /x');
      expect(plain.seen[0]!.headers['proxy-authorization']).toBeUndefined();
      expect(plain.seen[0]!.headers.authorization).toBeUndefined();
    } finally {
      await plain.stop();
    }
  });

  it('no credentials: CONNECT refused with 407 as a ProxyError, retried as a connect error', async () => {
    await using http = new ProxyManager(`http://127.0.0.1:${authSquid.port}`, { tls: tlsOptions });
    const plain = await http.request('GET', h2Url('/'), { retries: false }).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(ProxyError);
    expect((plain as ProxyError).status).toBe(407);
    const retried = await http.request('GET', h2Url('/'), { retries: 2 }).catch((e: unknown) => e);
    expect(retried).toBeInstanceOf(MaxRetryError);
    expect((retried as MaxRetryError).reason).toBeInstanceOf(ProxyError);
  });

  it('proxyFromEnv: HTTPS_PROXY and HTTP_PROXY route through squid, NO_PROXY goes direct, and without the option the environment is not read', async () => {
    const plain = await origin(false);
    const saved = { ...process.env };
    try {
      for (const k of ['http_proxy', 'https_proxy', 'all_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY', 'REQUEST_METHOD']) delete process.env[k];
      process.env.HTTPS_PROXY = `127.0.0.1:${squid.port}`;
      process.env.http_proxy = `http://127.0.0.1:${squid.port}`;
      const before = await connectsLogged(squid);
      {
        await using http = new PoolManager({ tls: tlsOptions, proxyFromEnv: true });
        expect((await http.request('GET', h2Url(docs.small.path))).protocol).toBe('h2');
        await http.request('GET', plain.url('/via-env'));
      }
      expect(plain.seen.at(-1)!.headers.via).toMatch(/squid/);
      await vi.waitFor(async () => expect((await connectsLogged(squid)) - before).toBe(1), { timeout: 5000 });
      process.env.NO_PROXY = 'localhost';
      {
        await using http = new PoolManager({ tls: tlsOptions, proxyFromEnv: true });
        await http.request('GET', plain.url('/direct'));
        expect(plain.seen.at(-1)!.headers.via).toBeUndefined();
      }
      delete process.env.NO_PROXY;
      {
        await using http = new PoolManager({ tls: tlsOptions });
        await http.request('GET', plain.url('/not-read'));
        expect(plain.seen.at(-1)!.headers.via).toBeUndefined();
      }
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await plain.stop();
    }
  });

  it('an https:// proxy: TLS to the proxy (a Node TLS front before squid), then CONNECT and h2 inside', async () => {
    const front = tls.createServer({ key, cert: ca }, (client) => {
      const upstream = net.connect(squid.port, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const plain = await origin(false);
    try {
      await using http = new ProxyManager(`https://localhost:${(front.address() as net.AddressInfo).port}`, { tls: tlsOptions, proxyTls: { ca } });
      const r = await http.request('GET', h2Url(docs.small.path));
      expect(r.protocol).toBe('h2');
      expect(r.data!.toString()).toBe(docs.small.body);
      expect((await http.request('GET', plain.url('/through-tls'))).data!.toString()).toBe('GET /through-tls');
    } finally {
      await plain.stop();
      await new Promise((r) => front.close(r));
    }
  });
});

describe('ProxyManager with a proxy that is not there', () => {
  it('a ProxyError whose cause is the connect error, retried under Retry', async () => {
    const port = await freePort();
    await using http = new ProxyManager(`http://127.0.0.1:${port}`);
    const err = await http.request('GET', 'https://localhost:1/', { retries: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).code).toBe('HW_ERR_PROXY_CONNECT');
    expect(((err as ProxyError).cause as { code: string }).code).toBe('HW_ERR_CONNECT');
    const plain = await http.request('GET', 'http://localhost:1/', { retries: 1 }).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(MaxRetryError);
    expect((plain as MaxRetryError).reason).toBeInstanceOf(ProxyError);
  });

  it('a bad proxy URL is refused at once', () => {
    expect(() => new ProxyManager('ftp://proxy:21')).toThrow(/Unsupported proxy scheme/);
    expect(() => new ProxyManager('not a url')).toThrow();
    expect(() => new SOCKSProxyManager('http://proxy:1080')).toThrow(/Unsupported proxy scheme/);
  });
});

describe.skipIf(!have('danted') || !have('nghttpd'))('SOCKSProxyManager through dante', () => {
  let dante: ServerHandle;
  beforeAll(async () => {
    dante = await startDante();
  }, 60_000);
  afterAll(async () => {
    await dante?.stop();
  });

  for (const scheme of ['socks5', 'socks5h', 'socks4']) {
    it(`${scheme}: h2 over TLS through the SOCKS connection, one connection for a burst`, async () => {
      await using http = new SOCKSProxyManager(`${scheme}://127.0.0.1:${dante.port}`, { tls: tlsOptions });
      const responses = await Promise.all(Array.from({ length: 20 }, () => http.request('GET', h2Url(docs.small.path))));
      expect(responses.every((r) => r.protocol === 'h2' && r.data!.toString() === docs.small.body)).toBe(true);
      expect(http.connectionFromUrl(h2Url('/')).numConnections).toBe(1);
      // At the origin: one connection, dante's.
      expect(establishedTo(nghttpd!.port)).toBe(1);
    });
  }

  it('an http origin through SOCKS5: a direct request (not absolute form)', async () => {
    const plain = await origin(false);
    try {
      await using http = new SOCKSProxyManager(`socks5h://127.0.0.1:${dante.port}`);
      expect((await http.request('GET', plain.url('/s'))).data!.toString()).toBe('GET /s');
      expect(plain.seen[0]!.url).toBe('/s');
    } finally {
      await plain.stop();
    }
  });

  it('with username/password: a throwaway system user gets through; a wrong password is a ProxyError', async () => {
    const authDante = await startDante({ auth: true });
    try {
      await withSystemUser('hwsockstest', 'S0cks pass!', async () => {
        await using good = new SOCKSProxyManager(`socks5://hwsockstest:${encodeURIComponent('S0cks pass!')}@127.0.0.1:${authDante.port}`, { tls: tlsOptions });
        expect((await good.request('GET', h2Url(docs.small.path))).protocol).toBe('h2');
        await using bad = new SOCKSProxyManager(`socks5://hwsockstest:wrong@127.0.0.1:${authDante.port}`, { tls: tlsOptions });
        const err = await bad.request('GET', h2Url(docs.small.path), { retries: false }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ProxyError);
        expect((err as ProxyError).code).toBe('HW_ERR_SOCKS');
      });
    } finally {
      await authDante.stop();
    }
  });
});

/** A minimal SOCKS4/4a server: records what each CONNECT named, then relays. */
async function socks4Server() {
  const named: string[] = [];
  const server = net.createServer((client) => {
    client.once('data', (req: Buffer) => {
      // VN=4, CD=1, DSTPORT, DSTIP, USERID\0 [, HOST\0 for 4a]
      const port = req.readUInt16BE(2);
      const ip = [...req.subarray(4, 8)].join('.');
      const userEnd = req.indexOf(0, 8);
      let host = ip;
      if (ip.startsWith('0.0.0.') && ip !== '0.0.0.0') host = req.subarray(userEnd + 1, req.indexOf(0, userEnd + 1)).toString('latin1');
      named.push(host);
      const upstream = net.connect(port, host === 'localhost' ? '127.0.0.1' : host, () => {
        client.write(Buffer.from([0, 0x5a, 0, 0, 0, 0, 0, 0]));
        client.pipe(upstream).pipe(client);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, named, stop: () => new Promise((r) => server.close(r)) };
}

describe('SOCKS4a (a scripted server: dante 1.4 has none)', () => {
  it('socks4a sends the name for the proxy to resolve; socks4 resolves it here and sends the address', async () => {
    const socks = await socks4Server();
    const plain = await origin(true);
    try {
      await using a = new SOCKSProxyManager(`socks4a://127.0.0.1:${socks.port}`, { tls: tlsOptions });
      expect((await a.request('GET', plain.url('/4a'))).data!.toString()).toBe('GET /4a');
      await using b = new SOCKSProxyManager(`socks4://127.0.0.1:${socks.port}`, { tls: tlsOptions });
      expect((await b.request('GET', plain.url('/4'))).data!.toString()).toBe('GET /4');
      expect(socks.named).toEqual(['localhost', '127.0.0.1']);
    } finally {
      await plain.stop();
      await socks.stop();
    }
  });
});

describe('TLS options of the pools', () => {
  const sha256 = new X509Certificate(ca).fingerprint256;
  const sha1 = new X509Certificate(ca).fingerprint;

  it('assertFingerprint: the right SHA-256 (any case, colons or not) or SHA-1 passes, even with verification off', async () => {
    const server = await origin(true);
    try {
      for (const fp of [sha256, sha256.toLowerCase().replace(/:/g, ''), sha1]) {
        await using http = new PoolManager({ tls: { rejectUnauthorized: false }, assertFingerprint: fp });
        expect((await http.request('GET', server.url('/pinned'))).status).toBe(200);
      }
    } finally {
      await server.stop();
    }
  });

  it('a wrong fingerprint is a TLSError HW_ERR_FINGERPRINT, and no request is sent', async () => {
    const server = await origin(true);
    try {
      await using http = new PoolManager({ tls: tlsOptions, assertFingerprint: 'AB'.repeat(32) });
      const err = await http.request('GET', server.url('/never'), { retries: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TLSError);
      expect((err as TLSError).code).toBe('HW_ERR_FINGERPRINT');
      expect(server.seen).toEqual([]);
      expect(() => new PoolManager({ assertFingerprint: 'xyz' }).connectionFromUrl(server.url('/'))).toThrow(TypeError);
    } finally {
      await server.stop();
    }
  });

  it('serverHostname sets SNI; assertHostname checks the certificate against another name, or not at all', async () => {
    const server = await origin(true);
    try {
      const byIp = `https://127.0.0.1:${server.port}`;
      await using sni = new PoolManager({ tls: tlsOptions, serverHostname: 'localhost' });
      await sni.request('GET', `${byIp}/sni`);
      expect(server.seen.at(-1)!.servername).toBe('localhost');
      await using wrongName = new PoolManager({ tls: tlsOptions, assertHostname: 'example.org' });
      const err = await wrongName.request('GET', `${byIp}/x`, { retries: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TLSError);
      await using noName = new PoolManager({ tls: tlsOptions, assertHostname: false, serverHostname: 'other.invalid' });
      expect((await noName.request('GET', `${byIp}/y`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('a pool with verification off warns once (InsecureRequestWarning)', async () => {
    const { execFile } = await import('node:child_process');
    const script = `import { PoolManager } from ${JSON.stringify(new URL('../../lib/index.ts', import.meta.url).pathname)};
      const a = new PoolManager({ tls: { rejectUnauthorized: false } }); a.connectionFromUrl('https://a.invalid/'); a.connectionFromUrl('https://b.invalid/');`;
    const stderr = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 }, (err, _out, errOut) => (err ? reject(err) : resolve(errOut))),
    );
    expect(stderr.match(/InsecureRequestWarning/g)).toHaveLength(1);
  }, 30_000);
});
