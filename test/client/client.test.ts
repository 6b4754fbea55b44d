/**
 * The Client against Node's own servers (http2 over TLS, and HTTP/1.1):
 * request building, responses and their text, streaming, redirects with
 * history, cookies across requests, redirects and origins, one shared
 * connection, timeouts.
 */

import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, ClientURL, Cookies, HTTPStatusError, Origin, ReadTimeoutError, ResponseNotRead, TooManyRedirects } from '../../lib/index.js';

const ca = readFileSync(new URL('../helpers/certs/cert.pem', import.meta.url));
const key = readFileSync(new URL('../helpers/certs/key.pem', import.meta.url));

interface Echo {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

type Route = (req: { method: string; path: string; headers: http.IncomingHttpHeaders; body: Buffer }, res: { status: number; headers: Record<string, string | string[]>; body: string | Buffer }) => void;

const routes: Record<string, Route> = {
  '/echo': (req, res) => {
    res.headers['content-type'] = 'application/json';
    res.body = JSON.stringify({ method: req.method, path: req.path, headers: req.headers, body: req.body.toString('latin1') } satisfies Echo);
  },
  '/status/418': (_req, res) => {
    res.status = 418;
    res.body = 'teapot';
  },
  '/latin2': (_req, res) => {
    res.headers['content-type'] = 'text/plain; charset=iso-8859-2';
    res.body = Buffer.from([0x50, 0xf8, 0xed, 0x6c, 0x69, 0xb9]); // "Příliš"
  },
  '/bytes-latin1': (_req, res) => {
    res.headers['content-type'] = 'text/plain';
    res.body = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in latin1, not valid UTF-8
  },
  '/utf8': (_req, res) => {
    res.headers['content-type'] = 'text/plain';
    res.body = Buffer.from('grüße ✓', 'utf8');
  },
  '/lines': (_req, res) => {
    res.body = 'one\ntwo\r\nthree\rfour';
  },
  '/set': (_req, res) => {
    res.headers['set-cookie'] = ['a=1; Path=/', 'strict=s; Path=/; SameSite=Strict', 'secure=x; Path=/; Secure'];
    res.body = 'set';
  },
  '/unset': (_req, res) => {
    res.headers['set-cookie'] = ['a=; Path=/; Max-Age=0'];
    res.body = 'unset';
  },
  '/scoped': (_req, res) => {
    res.headers['set-cookie'] = ['deep=1; Path=/only/here'];
    res.body = 'scoped';
  },
};

function handle(method: string, path: string, headers: http.IncomingHttpHeaders, body: Buffer): { status: number; headers: Record<string, string | string[]>; body: string | Buffer } {
  const res = { status: 200, headers: {} as Record<string, string | string[]>, body: '' as string | Buffer };
  const bare = path.split('?')[0]!;
  const redirect = /^\/redirect\/(\d{3})(?:\/(.*))?$/.exec(bare);
  if (redirect !== null) {
    res.status = Number(redirect[1]);
    res.headers.location = decodeURIComponent(redirect[2] ?? '/echo');
    return res;
  }
  if (bare === '/loop') {
    res.status = 302;
    res.headers.location = '/loop';
    return res;
  }
  if (bare === '/stall') {
    res.status = -1;
    return res;
  }
  (routes[bare] ?? routes['/echo']!)({ method, path, headers, body }, res);
  return res;
}

let h2: http2.Http2SecureServer;
let h1: http.Server;
let h2Base = '';
let h1Base = '';
let h2Sessions = 0;

beforeAll(async () => {
  h2 = http2.createSecureServer({ key, cert: ca });
  h2.on('session', () => h2Sessions++);
  h2.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const { ':method': method, ':path': path, ...rest } = headers;
      const out = handle(String(method), String(path), rest as http.IncomingHttpHeaders, Buffer.concat(chunks));
      if (out.status < 0) return;
      stream.respond({ ':status': out.status, ...out.headers });
      stream.end(out.body);
    });
  });
  await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
  h2Base = `https://localhost:${(h2.address() as AddressInfo).port}`;

  h1 = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const out = handle(req.method!, req.url!, req.headers, Buffer.concat(chunks));
      if (out.status < 0) return;
      res.writeHead(out.status, out.headers);
      res.end(out.body);
    });
  });
  await new Promise<void>((resolve) => h1.listen(0, '127.0.0.1', resolve));
  h1Base = `http://127.0.0.1:${(h1.address() as AddressInfo).port}`;
});

afterAll(async () => {
  h1.closeAllConnections();
  await Promise.all([new Promise((r) => h2.close(r)), new Promise((r) => h1.close(r))]);
});

const client = (options: ConstructorParameters<typeof Client>[0] = {}): Client => new Client({ tls: { ca }, trustEnv: false, ...options });

describe('building requests', () => {
  it('baseURL is a prefix; params merge with the client\'s; default and own headers', async () => {
    await using c = client({ baseURL: `${h2Base}/api/`, params: { a: '1', shared: 'client' }, headers: { 'x-client': 'c', 'user-agent': 'mine' } });
    const r = await c.get('echo', { params: { b: 2, shared: 'request', many: ['x', 'y'] }, headers: { 'x-own': 'o' } });
    const seen = r.json() as Echo;
    expect(seen.path).toBe('/api/echo?a=1&b=2&shared=request&many=x&many=y');
    expect(seen.headers['x-client']).toBe('c');
    expect(seen.headers['x-own']).toBe('o');
    expect(seen.headers['user-agent']).toBe('mine');
    expect(seen.headers.accept).toBe('*/*');
    expect(seen.headers['accept-encoding']).toBe('gzip, deflate, br');
    expect(r.request.url).toBe(`${h2Base}/api/echo?a=1&b=2&shared=request&many=x&many=y`);
  });

  it('json, data (urlencoded), files (multipart) and content', async () => {
    await using c = client();
    const j = (await c.post(`${h2Base}/echo`, { json: { k: ['v', 1] } })).json() as Echo;
    expect(j.headers['content-type']).toBe('application/json');
    expect(j.body).toBe('{"k":["v",1]}');
    const d = (await c.post(`${h2Base}/echo`, { data: { a: 'x y', b: ['1', '2'] } })).json() as Echo;
    expect(d.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(d.body).toBe('a=x+y&b=1&b=2');
    const f = (await c.post(`${h2Base}/echo`, { data: { field: 'value' }, files: { upload: ['notes.txt', 'file body', 'text/plain'] } })).json() as Echo;
    const form = await new globalThis.Response(Buffer.from(f.body, 'latin1'), { headers: { 'content-type': String(f.headers['content-type']) } }).formData();
    expect(form.get('field')).toBe('value');
    expect(await (form.get('upload') as File).text()).toBe('file body');
    async function* chunks(): AsyncGenerator<Buffer> {
      yield Buffer.from('stre');
      yield Buffer.from('amed');
    }
    const s = (await c.post(`${h1Base}/echo`, { content: chunks() })).json() as Echo;
    expect(s.body).toBe('streamed');
    expect(s.headers['transfer-encoding']).toBe('chunked');
  });

  it('bad input is refused before anything is sent', async () => {
    await using c = client();
    expect(() => c.build('GET', `${h2Base}/`, { headers: { 'bad name': 'x' } })).not.toThrow();
    await expect(c.get(`${h2Base}/`, { headers: { 'bad name': 'x' } })).rejects.toBeInstanceOf(TypeError);
    expect(() => c.build('GE T', `${h2Base}/`)).toThrow(TypeError);
    expect(() => c.build('POST', `${h2Base}/`, { json: 1, content: 'x' })).toThrow(TypeError);
    expect(() => c.build('GET', 'ftp://example.com/')).toThrow(/unsupported scheme/);
  });
});

describe('responses', () => {
  it('status, reasonPhrase, protocol, url, request, elapsed, and raiseForStatus', async () => {
    await using c = client();
    const r2 = await c.get(`${h2Base}/status/418`);
    expect(r2.status).toBe(418);
    expect(r2.protocol).toBe('HTTP/2');
    expect(r2.reasonPhrase).toBe('');
    expect(r2.isClientError).toBe(true);
    expect(r2.elapsed).toBeGreaterThan(0);
    const err = (() => {
      try {
        r2.raiseForStatus();
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(HTTPStatusError);
    expect((err as HTTPStatusError).response).toBe(r2);
    expect((err as HTTPStatusError).request.url).toBe(`${h2Base}/status/418`);
    const r1 = await c.get(`${h1Base}/echo`);
    expect(r1.protocol).toBe('HTTP/1.1');
    expect(r1.reasonPhrase).toBe('OK');
    expect(r1.raiseForStatus()).toBe(r1);
    expect(r1.isSuccess).toBe(true);
  });

  it('text by charset: declared, else UTF-8 when valid, else latin1 (TextDecoder)', async () => {
    await using c = client();
    const l2 = await c.get(`${h2Base}/latin2`);
    expect(l2.encoding).toBe('iso-8859-2');
    expect(l2.text).toBe('Příliš');
    const u = await c.get(`${h2Base}/utf8`);
    expect(u.encoding).toBe('utf-8');
    expect(u.text).toBe('grüße ✓');
    const l1 = await c.get(`${h2Base}/bytes-latin1`);
    expect(l1.encoding).toBe('latin1');
    expect(l1.text).toBe('café');
  });

  it('streamed: content before read() is an error; iterBytes, iterText and iterLines', async () => {
    await using c = client();
    const r = await c.stream('GET', `${h2Base}/lines`);
    expect(() => r.content).toThrow(ResponseNotRead);
    const lines: string[] = [];
    for await (const line of r.iterLines()) lines.push(line);
    expect(lines).toEqual(['one', 'two', 'three', 'four']);
    const b = await c.stream('GET', `${h2Base}/utf8`);
    const pieces: Buffer[] = [];
    for await (const piece of b.iterBytes(3)) pieces.push(piece);
    expect(pieces.every((p) => p.length <= 3)).toBe(true);
    expect(Buffer.concat(pieces).toString('utf8')).toBe('grüße ✓');
    const t = await c.stream('GET', `${h2Base}/utf8`);
    let text = '';
    for await (const s of t.iterText()) text += s;
    expect(text).toBe('grüße ✓');
  });

  it('every request to an origin shares one HTTP/2 connection', async () => {
    await using c = client();
    const before = h2Sessions;
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => c.get(`${h2Base}/echo?i=${i}`)));
    expect(rs.every((r) => r.status === 200 && r.protocol === 'HTTP/2')).toBe(true);
    expect(h2Sessions - before).toBe(1);
  });

  it('a stalled server: ReadTimeoutError (the typed error, not a retry wrapper)', async () => {
    await using c = client({ timeout: 150 });
    await expect(c.get(`${h2Base}/stall`)).rejects.toBeInstanceOf(ReadTimeoutError);
  });
});

describe('redirects', () => {
  it('not followed by default; followed with followRedirects, with the history', async () => {
    await using c = client();
    const plain = await c.get(`${h2Base}/redirect/302`);
    expect(plain.status).toBe(302);
    expect(plain.isRedirect).toBe(true);
    const followed = await c.get(`${h2Base}/redirect/301/${encodeURIComponent('/redirect/302/%2Fecho')}`, { followRedirects: true });
    expect(followed.status).toBe(200);
    expect(followed.url).toBe(`${h2Base}/echo`);
    expect(followed.history.map((h) => h.status)).toEqual([301, 302]);
  });

  it('303 and 301/302 turn POST into GET without the body; 307 keeps both', async () => {
    await using c = client({ followRedirects: true });
    const s303 = (await c.post(`${h2Base}/redirect/303`, { json: { a: 1 } })).json() as Echo;
    expect(s303).toMatchObject({ method: 'GET', body: '' });
    expect(s303.headers['content-type']).toBeUndefined();
    const s307 = (await c.post(`${h2Base}/redirect/307`, { json: { a: 1 } })).json() as Echo;
    expect(s307).toMatchObject({ method: 'POST', body: '{"a":1}' });
  });

  it('Authorization is dropped on a redirect to another origin', async () => {
    await using c = client({ followRedirects: true });
    const r = (await c.get(`${h2Base}/redirect/302/${encodeURIComponent(`${h1Base}/echo`)}`, { headers: { authorization: 'Bearer x' } })).json() as Echo;
    expect(r.headers.authorization).toBeUndefined();
    const same = (await c.get(`${h2Base}/redirect/302`, { headers: { authorization: 'Bearer x' } })).json() as Echo;
    expect(same.headers.authorization).toBe('Bearer x');
  });

  it('more than maxRedirects: TooManyRedirects', async () => {
    await using c = client({ followRedirects: true, maxRedirects: 3 });
    await expect(c.get(`${h2Base}/loop`)).rejects.toBeInstanceOf(TooManyRedirects);
  });
});

describe('cookies', () => {
  it('kept across requests; response.cookies holds what it set; Max-Age=0 removes; Secure only over https', async () => {
    await using c = client();
    const set = await c.get(`${h1Base}/set`);
    // A Secure cookie from an http response is refused (RFC 6265bis §5.6), loopback or not.
    expect([...set.cookies].map(([k]) => k).sort()).toEqual(['a', 'strict']);
    const next = (await c.get(`${h1Base}/echo`)).json() as Echo;
    expect(next.headers.cookie).toBe('a=1; strict=s');
    await c.get(`${h1Base}/unset`);
    expect(((await c.get(`${h1Base}/echo`)).json() as Echo).headers.cookie).toBe('strict=s');
    expect(c.cookies.get('strict')).toBe('s');
    await c.get(`${h2Base}/set`);
    const overTls = (await c.get(`${h2Base}/echo`)).json() as Echo;
    expect(String(overTls.headers.cookie).split('; ').sort()).toEqual(['a=1', 'secure=x', 'strict=s']);
  });

  it('a cookie stays with its host: not sent to another origin, even across a redirect; path rules hold', async () => {
    await using c = client({ followRedirects: true });
    await c.get(`${h2Base}/set`);
    await c.get(`${h2Base}/scoped`);
    // localhost's cookies do not go to 127.0.0.1.
    const other = (await c.get(`${h2Base}/redirect/302/${encodeURIComponent(`${h1Base}/echo`)}`)).json() as Echo;
    expect(other.headers.cookie).toBeUndefined();
    expect(((await c.get(`${h2Base}/echo`)).json() as Echo).headers.cookie).not.toContain('deep=1');
    expect(((await c.get(`${h2Base}/only/here/echo`)).json() as Echo).headers.cookie).toContain('deep=1');
  });

  it('cookies set by a redirect response are sent on the next hop', async () => {
    await using c = client({ followRedirects: true });
    const chain = await c.get(`${h1Base}/redirect/302/${encodeURIComponent('/set')}`);
    expect(chain.status).toBe(200);
    expect(((await c.get(`${h1Base}/echo`)).json() as Echo).headers.cookie).toContain('a=1');
  });

  it('SameSite=Strict cookies are not sent on a redirect from another site', async () => {
    await using c = client({ followRedirects: true });
    await c.get(`${h1Base}/set`);
    const fromOtherSite = (await c.get(`${h2Base}/redirect/302/${encodeURIComponent(`${h1Base}/echo`)}`)).json() as Echo;
    expect(fromOtherSite.headers.cookie).toBe('a=1');
  });

  it('a jar given to the Client is the one it uses; a plain object is sent everywhere', async () => {
    const jar = new Cookies({ everywhere: 'yes' });
    await using c = client({ cookies: jar });
    expect(((await c.get(`${h1Base}/echo`)).json() as Echo).headers.cookie).toBe('everywhere=yes');
    await c.get(`${h1Base}/set`);
    expect(jar.get('a')).toBe('1');
  });
});

describe('URL and Origin', () => {
  it('Origin equality with default ports, case and IDNA', () => {
    expect(new Origin('https://example.org').equals(new Origin('HTTPS://EXAMPLE.ORG:443'))).toBe(true);
    expect(new Origin('https://example.org').equals(new Origin('http://example.org'))).toBe(false);
    expect(new Origin('https://bücher.example').equals(new Origin('https', 'xn--bcher-kva.example', 443))).toBe(true);
    expect(new Origin('https', 'BÜCHER.example').toString()).toBe('https://xn--bcher-kva.example');
    expect(new Origin('http://[::1]:8080').toString()).toBe('http://[::1]:8080');
  });

  it('ClientURL splits scheme, host, port and target', () => {
    const u = new ClientURL('https://Example.org:8443/a/b?c=d#frag');
    expect([u.scheme, u.host, u.port, u.target, u.fragment]).toEqual(['https', 'example.org', 8443, '/a/b?c=d', 'frag']);
    expect(u.origin.toString()).toBe('https://example.org:8443');
    expect(() => new ClientURL('mailto:x@example.org')).toThrow();
  });
});
