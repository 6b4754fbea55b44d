/**
 * fetch() on its own: the Response it makes (a global Response whose url,
 * type and redirected survive clone()), createFetch and fetch.with, TLS
 * trust, HTTP/2 sharing and push, aborts, the errors it rejects with, and
 * the pieces (content codings, Location, referrer, integrity, forms,
 * per-hop fields, port blocking) one by one. The differential test
 * compares the whole against undici.
 */

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodeError, NewConnectionError, ProxyError, TLSError } from '../../lib/common/errors.js';
import { codingsToUndo, MAX_CONTENT_CODINGS } from '../../lib/fetch/content-coding.js';
import { createFetch, fetch, type Fetch } from '../../lib/fetch/fetch.js';
import { IntegrityError, InvalidRequestError, RedirectError, RequestBlockedError } from '../../lib/fetch/fetch-errors.js';
import { FetchResponse } from '../../lib/fetch/fetch-response.js';
import { boundaryOf, encodeForm } from '../../lib/fetch/form-data.js';
import { bytesMatch } from '../../lib/fetch/integrity.js';
import { isBadPort } from '../../lib/fetch/port-blocking.js';
import { checkLocation, locationURL, MAX_REDIRECTS, redirectRequest } from '../../lib/fetch/redirect.js';
import { determineReferrer, parseReferrerPolicy, referrerOf } from '../../lib/fetch/referrer.js';
import { requestBody } from '../../lib/fetch/request-body.js';
import { addFetchDefaults, DEFAULT_USER_AGENT, hopHeaders } from '../../lib/fetch/request-headers.js';
import { PoolManager } from '../../lib/pool/pool-manager.js';
import { BodyNotReplayableError } from '../../lib/pool/urlopen.js';
import { CA, ECHO_VERSION, startFetchServers, type Echo, type FetchServers } from './fetch-servers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const KEY = readFileSync(path.join(here, '..', 'helpers', 'certs', 'key.pem'));

let s: FetchServers;
let f: Fetch;

beforeAll(async () => {
  s = await startFetchServers();
  f = createFetch({ tls: { ca: CA } });
});

afterAll(async () => {
  await f.close();
  await fetch.close();
  await s.close();
});

/** The cause of a rejection that must be TypeError('fetch failed'). */
async function causeOf(p: Promise<unknown>): Promise<unknown> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TypeError);
  expect((err as Error).message).toBe('fetch failed');
  return (err as Error).cause;
}

describe('fetch: a plain GET or HEAD, sent without a Request object', () => {
  /** The error a call rejects with (it must reject). */
  async function rejection(p: Promise<unknown>): Promise<Error> {
    return p.then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: Error) => e,
    );
  }

  const field = (e: Echo, name: string): string | undefined => e.headers.find(([n]) => n.toLowerCase() === name)?.[1];

  it('sends the method, the caller\'s fields and the defaults, from a string, a URL or with an init of only those', async () => {
    const a = (await (await f(`${s.httpA}/echo`)).json()) as Echo;
    expect(a.method).toBe('GET');
    expect(field(a, 'accept')).toBe('*/*');
    const b = (await (await f(new URL(`${s.httpA}/echo?q=1`), { headers: { 'X-One': 'a', accept: 'text/plain' } })).json()) as Echo;
    expect(b.target).toBe('/echo?q=1');
    expect(field(b, 'x-one')).toBe('a');
    expect(field(b, 'accept')).toBe('text/plain');
    const head = await f(`${s.httpA}/echo`, { method: 'HEAD', headers: [['x-two', 'b']] });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('rejects what the Request constructor refuses with the constructor\'s own errors', async () => {
    const cases: Array<[string | URL, RequestInit | undefined]> = [
      ['/relative', undefined],
      ['http://user:pass@127.0.0.1/', undefined],
      [new URL('http://user@127.0.0.1/'), undefined],
      [`${s.httpA}/echo`, { headers: { 'bad name': 'x' } }],
      [`${s.httpA}/echo`, { headers: { 'x-a': 'line\nbreak' } }],
      [`${s.httpA}/echo`, { method: 'CONNECT' }],
    ];
    for (const [input, init] of cases) {
      let expected: Error | undefined;
      try {
        new Request(input, init);
      } catch (err) {
        expected = err as Error;
      }
      const got = await rejection(f(input, init));
      expect(got, String(input)).toBeInstanceOf(TypeError);
      expect(got.message, String(input)).toBe(expected!.message);
    }
  });

  it('treats a lowercase method, a signal or a body as the general case would', async () => {
    const lower = (await (await f(`${s.httpA}/echo`, { method: 'get' })).json()) as Echo;
    expect(lower.method).toBe('GET');
    const controller = new AbortController();
    const pending = f(`${s.httpA}/slow-head?ms=2000`, { signal: controller.signal });
    controller.abort(new Error('stop'));
    expect((await rejection(pending)).message).toBe('stop');
    const posted = (await (await f(`${s.httpA}/echo`, { method: 'POST', body: 'x=1' })).json()) as Echo;
    expect(posted.method).toBe('POST');
  });
});

describe('fetch: the Response', () => {
  it('is an instance of the global Response, with a web ReadableStream body', async () => {
    const r = await f(`${s.httpA}/echo`);
    expect(r).toBeInstanceOf(Response);
    expect(r.body).toBeInstanceOf(ReadableStream);
    expect(Object.prototype.toString.call(r)).toBe('[object Response]');
    expect(r.status).toBe(200);
    expect(r.ok).toBe(true);
    expect(r.statusText).toBe('OK');
    expect(r.url).toBe(`${s.httpA}/echo`);
    expect(r.redirected).toBe(false);
    expect(r.type).toBe('basic');
    expect(((await r.json()) as Echo).method).toBe('GET');
  });

  it('keeps url, type, redirected and status through clone(), and through a clone of a clone', async () => {
    const r = await f(`${s.httpA}/redirect/302?to=${encodeURIComponent(`${s.httpB}/echo/x#frag`)}`);
    const c1 = r.clone();
    const c2 = c1.clone();
    for (const x of [r, c1, c2]) {
      expect(x).toBeInstanceOf(Response);
      expect(x.url).toBe(`${s.httpB}/echo/x`);
      expect(x.type).toBe('cors');
      expect(x.redirected).toBe(true);
      expect(x.status).toBe(200);
      expect(x.statusText).toBe('OK');
      expect(x.headers.get('content-type')).toBe('application/json');
    }
    const [a, b, c] = await Promise.all([r.text(), c1.text(), c2.text()]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(JSON.parse(a).target).toBe('/echo/x');
  });

  it('refuses clone() once the body is used, as the platform does', async () => {
    const r = await f(`${s.httpA}/echo`);
    await r.arrayBuffer();
    expect(r.bodyUsed).toBe(true);
    expect(() => r.clone()).toThrow(TypeError);
  });

  it('has immutable headers, in every clone', async () => {
    const r = await f(`${s.httpA}/headers`);
    for (const x of [r, r.clone()]) {
      expect(() => x.headers.set('x', 'y')).toThrow(new TypeError('immutable'));
      expect(() => x.headers.append('x', 'y')).toThrow(TypeError);
      expect(() => x.headers.delete('x-dup')).toThrow(TypeError);
      expect(x.headers.get('x-dup')).toBe('one, two, three');
      expect(x.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; HttpOnly', 'c=3, d=4']);
    }
    await r.arrayBuffer();
  });

  it('can be copied into a new Response', async () => {
    const r = await f(`${s.httpA}/echo`);
    const copy = new Response(r.body, r);
    expect(copy.status).toBe(200);
    expect(copy.headers.get('content-type')).toBe('application/json');
    expect(((await copy.json()) as Echo).target).toBe('/echo');
  });

  it('has a null body for HEAD, 204, 205 and 304', async () => {
    for (const [url, init] of [[`${s.httpA}/echo`, { method: 'HEAD' }], [`${s.httpA}/status/204`], [`${s.httpA}/status/205`], [`${s.httpA}/status/304`]] as const) {
      const r = await f(url, init);
      expect(r.body).toBeNull();
      expect(await r.text()).toBe('');
    }
  });

  it('decodes content codings and keeps Content-Encoding and Content-Length', async () => {
    const r = await f(`${s.httpA}/encoded?codings=deflate,br`);
    expect(r.headers.get('content-encoding')).toBe('deflate, br');
    expect(Number(r.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await r.text()).toBe('hello, encoded world');
  });

  it('answers the status and reason as received where the Response constructor would refuse them', () => {
    const r = new FetchResponse(null, [['x', '1']], { url: 'http://a/', type: 'basic', redirected: false, status: 200, statusText: 'O\x01K' });
    expect(r.statusText).toBe('O\x01K');
    const o = new FetchResponse(null, null, { url: '', type: 'opaque', redirected: false, status: 0, statusText: '' });
    expect(o.status).toBe(0);
    expect(o.ok).toBe(false);
    expect(o.type).toBe('opaque');
    expect(o.clone().status).toBe(0);
    expect([...o.headers]).toEqual([]);
  });

  it('gives an opaque response in no-cors mode across origins', async () => {
    const r = await f(`${s.httpA}/redirect/302?to=${encodeURIComponent(`${s.httpB}/echo`)}`, { mode: 'no-cors' });
    expect(r.type).toBe('opaque');
    expect(r.status).toBe(0);
    expect(r.url).toBe('');
    expect(r.body).toBeNull();
  });

  it("answers data: URLs through the platform's fetch", async () => {
    const r = await f('data:text/plain,hello%20there');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('hello there');
  });

  it('reads with a BYOB reader into the caller buffer', async () => {
    const r = await f(`${s.httpA}/large/5000`);
    const reader = r.body!.getReader({ mode: 'byob' });
    const buf = new Uint8Array(8192);
    let total = 0;
    for (let view = buf.subarray(0); ; ) {
      const { done, value } = await reader.read(view);
      if (done) break;
      total += value.byteLength;
      view = new Uint8Array(value.buffer, 0, 8192);
    }
    expect(total).toBe(5000);
  });
});

describe('fetch: createFetch, fetch.with, close', () => {
  it('makes its pool on first use, and a new one after close()', async () => {
    const g = createFetch();
    const first = g.pool;
    expect(first).toBeInstanceOf(PoolManager);
    expect(g.pool).toBe(first);
    expect((await g(`${s.httpA}/echo`)).status).toBe(200);
    await g.close();
    expect(g.pool).not.toBe(first);
    expect((await g(`${s.httpA}/echo`)).status).toBe(200);
    await g.close();
  });

  it('uses a pool it is given, and leaves it open on close()', async () => {
    const pool = new PoolManager({ tls: { ca: CA } });
    const g = createFetch(pool);
    expect(g.pool).toBe(pool);
    expect((await g(`${s.h2}/echo`)).headers.get(ECHO_VERSION)).toBe('2.0');
    await g.close();
    expect((await g(`${s.h2}/echo`)).status).toBe(200);
    await pool.close();
  });

  it('fetch.with(options) is a fetch over a pool of its own with those options', async () => {
    const g = fetch.with({ tls: { ca: CA } });
    expect(g.pool).not.toBe(fetch.pool);
    const r = await g(`${s.https1}/echo`);
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    const h = g.with({ http2: false });
    expect((await h(`${s.h2}/echo`)).headers.get(ECHO_VERSION)).toBe('1.1');
    await Promise.all([g.close(), h.close()]);
  });

  it('the module fetch shares one lazily made pool', async () => {
    const r = await fetch(`${s.httpA}/echo`);
    expect(r).toBeInstanceOf(Response);
    expect(fetch.pool).toBe(fetch.pool);
    await r.arrayBuffer();
  });
});

describe('fetch: TLS trust is Node\u2019s default store', () => {
  it('refuses a certificate no trusted CA signed, with the TLS error as the cause', async () => {
    const cause = await causeOf(fetch(`${s.https1}/echo`));
    expect(cause).toBeInstanceOf(TLSError);
  });

  it('trusts NODE_EXTRA_CA_CERTS: no ca is passed unless the caller gives TLS options', async () => {
    const child = `
      const { fetch } = await import(${JSON.stringify(path.join(here, '..', '..', 'lib', 'fetch', 'fetch.ts'))});
      const r = await fetch(${JSON.stringify(`${s.https1}/echo/extra-ca`)});
      const echo = await r.json();
      console.log(r.status + ' ' + echo.target);
      await fetch.close();
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(here, '..', 'helpers', 'certs', 'cert.pem') },
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('200 /echo/extra-ca');
  });
});

describe('fetch: HTTP/2', () => {
  let server: http2.Http2SecureServer;
  let origin: string;
  let sessions = 0;
  let resets = 0;
  const seen: string[] = [];
  beforeAll(async () => {
    server = http2.createSecureServer({ key: KEY, cert: CA });
    server.on('session', () => sessions++);
    server.on('stream', (stream, headers) => {
      const p = headers[':path'] as string;
      seen.push(`${headers[':method']} ${p}`);
      if (p === '/refuse-once' && !seen.slice(0, -1).includes(`${headers[':method']} ${p}`)) {
        stream.on('error', () => {});
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      if (p === '/big') {
        // A body that does not end: the stream stays open until it is read to the end, or reset.
        stream.on('close', () => {
          if (stream.rstCode === http2.constants.NGHTTP2_CANCEL) resets++;
        });
        stream.respond({ ':status': 200 });
        stream.write(Buffer.alloc(1024));
        return;
      }
      if (p === '/page') {
        stream.pushStream({ ':path': '/pushed.css' }, (err, push) => {
          if (err) return;
          push.respond({ ':status': 200, 'content-type': 'text/css' });
          push.end('body { }');
        });
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' });
        stream.end(`${headers[':method']} ${p} ${Buffer.concat(chunks).toString()}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('carries concurrent fetches on one connection, with an empty statusText', async () => {
    const g = createFetch({ tls: { ca: CA } });
    const before = sessions;
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => g(`${origin}/n/${i}`)));
    expect(rs.map((r) => r.statusText)).toEqual(Array(20).fill(''));
    expect(await Promise.all(rs.map((r) => r.text()))).toEqual(Array.from({ length: 20 }, (_, i) => `GET /n/${i} `));
    expect(sessions - before).toBe(1);
    await g.close();
  });

  it('sends a request refused with REFUSED_STREAM again (RFC 9113 §8.7)', async () => {
    const g = createFetch({ tls: { ca: CA } });
    const r = await g(`${origin}/refuse-once`, { method: 'POST', body: 'again' });
    expect(await r.text()).toBe('POST /refuse-once again');
    expect(seen.filter((x) => x === 'POST /refuse-once')).toHaveLength(2);
    await g.close();
  });

  it('gives the stream back when a response nobody read is collected', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const g = createFetch({ tls: { ca: CA } });
    const before = resets;
    // In a function of its own, so that no frame of the test holds the Response.
    await (async () => {
      const r = await g(`${origin}/big`);
      expect(r.status).toBe(200);
    })();
    for (let i = 0; i < 100 && resets === before; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(resets).toBe(before + 1);
    await g.close();
  });

  it('serves a pushed resource from the push, with enablePush', async () => {
    const g = createFetch({ tls: { ca: CA }, enablePush: true });
    expect(await (await g(`${origin}/page`)).text()).toBe('GET /page ');
    // The push arrives with the page; give its frames a moment.
    await new Promise((r) => setTimeout(r, 100));
    const css = await g(`${origin}/pushed.css`);
    expect(css.headers.get('content-type')).toBe('text/css');
    expect(await css.text()).toBe('body { }');
    expect(seen).not.toContain('GET /pushed.css');
    await g.close();
  });
});

describe('fetch: aborts', () => {
  it('rejects at once with the reason of an aborted signal, sending nothing', async () => {
    const reason = new Error('stop');
    await expect(f(`${s.httpA}/echo`, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it('rejects with a DOMException AbortError by default, TimeoutError from AbortSignal.timeout', async () => {
    const ac = new AbortController();
    const p = f(`${s.httpA}/slow-head?ms=2000`, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DOMException);
    expect((e as DOMException).name).toBe('AbortError');
    const t = await f(`${s.httpA}/slow-head?ms=2000`, { signal: AbortSignal.timeout(50) }).catch((x: unknown) => x);
    expect((t as DOMException).name).toBe('TimeoutError');
  });

  it('errors the body with the reason mid-body, and the origin still serves the next request', async () => {
    const ac = new AbortController();
    const r = await f(`${s.httpA}/slow-body`, { signal: ac.signal });
    const reader = r.body!.getReader();
    expect((await reader.read()).value!.byteLength).toBe(1024);
    const reason = new Error('enough');
    ac.abort(reason);
    await expect(reader.read()).rejects.toBe(reason);
    expect((await f(`${s.httpA}/echo`)).status).toBe(200);
  });

  it('an abort after the body was read leaves the response as it was', async () => {
    const ac = new AbortController();
    const r = await f(`${s.httpA}/echo`, { signal: ac.signal });
    const text = await r.text();
    ac.abort();
    expect(JSON.parse(text).target).toBe('/echo');
    expect(r.bodyUsed).toBe(true);
  });

  it('cancels the response body stream when the caller cancels it', async () => {
    const r = await f(`${s.httpA}/slow-body`);
    const reader = r.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect((await f(`${s.httpA}/echo`)).status).toBe(200);
  });
});

describe('fetch: a body read without a stream unless one is asked for', () => {
  it('after text(): bodyUsed, a body that is a closed and locked stream, and a second read refused as the platform refuses it', async () => {
    const r = await f(`${s.httpA}/echo`);
    expect(r.bodyUsed).toBe(false);
    expect(JSON.parse(await r.text()).target).toBe('/echo');
    expect(r.bodyUsed).toBe(true);
    expect(r.body).toBeInstanceOf(ReadableStream);
    expect(r.body!.locked).toBe(true);
    const platform = new Response('x');
    await platform.text();
    const theirs = (await platform.text().catch((e: unknown) => e)) as TypeError;
    for (const read of [() => r.text(), () => r.arrayBuffer(), () => r.json(), () => r.blob(), () => r.formData()]) {
      const ours = (await read().catch((e: unknown) => e)) as TypeError;
      expect(ours).toBeInstanceOf(TypeError);
      expect(ours.message).toBe(theirs.message);
    }
    expect(() => r.clone()).toThrow(new TypeError('Response.clone: Body has already been consumed.'));
  });

  it('arrayBuffer() is a buffer of its own, of exactly the body', async () => {
    const small = await (await f(`${s.httpA}/echo`)).arrayBuffer();
    const text = Buffer.from(small).toString();
    expect(JSON.parse(text).target).toBe('/echo');
    expect(small.byteLength).toBe(Buffer.byteLength(text));
    const big = await (await f(`${s.httpA}/large/100000`)).arrayBuffer();
    expect(big.byteLength).toBe(100_000);
  });

  it('once body is asked for, the readers read that stream, and a stream that was read makes them refuse', async () => {
    const r = await f(`${s.httpA}/echo`);
    const stream = r.body!;
    expect(r.body).toBe(stream);
    expect(JSON.parse(new TextDecoder().decode(await r.arrayBuffer())).target).toBe('/echo');
    expect(r.bodyUsed).toBe(true);
    const read = await f(`${s.httpA}/slow-body`);
    const reader = read.body!.getReader();
    await reader.read();
    reader.releaseLock();
    expect(read.bodyUsed).toBe(true);
    await expect(read.text()).rejects.toThrow(new TypeError('Body is unusable: Body has already been read'));
    await read.body!.cancel();
  });

  it('clone() of an unread response tees it: both read the whole body', async () => {
    const r = await f(`${s.httpA}/echo/tee`);
    const c = r.clone();
    expect(c).toBeInstanceOf(Response);
    expect(c.url).toBe(r.url);
    const [a, b] = await Promise.all([r.text(), c.text()]);
    expect(a).toBe(b);
    expect(JSON.parse(a).target).toBe('/echo/tee');
  });

  it('blob() takes its type from Content-Type, and a decoded body reads whole', async () => {
    const blob = await (await f(`${s.httpA}/echo`)).blob();
    expect(blob.type).toBe('application/json');
    expect(JSON.parse(await blob.text()).target).toBe('/echo');
    const decoded = await (await f(`${s.httpA}/encoded?codings=gzip,br`)).text();
    expect(decoded.length).toBeGreaterThan(0);
    expect(decoded).toBe(await (await f(`${s.httpA}/encoded?codings=`)).text());
  });

  it('an abort while text() waits rejects it with the reason, and the origin serves the next request', async () => {
    const ac = new AbortController();
    const r = await f(`${s.httpA}/slow-body`, { signal: ac.signal });
    const reading = r.text();
    const reason = new Error('stop reading');
    ac.abort(reason);
    await expect(reading).rejects.toBe(reason);
    expect(r.bodyUsed).toBe(true);
    expect((await f(`${s.httpA}/echo`)).status).toBe(200);
  });

  it('an abort before anything was read errors the body asked for afterwards', async () => {
    const ac = new AbortController();
    const r = await f(`${s.httpA}/slow-body`, { signal: ac.signal });
    const reason = new Error('gone');
    ac.abort(reason);
    await expect(r.text()).rejects.toBe(reason);
    const again = await f(`${s.httpA}/slow-body`, { signal: ac.signal }).catch((e: unknown) => e);
    expect(again).toBe(reason);
  });
});

describe('fetch: errors', () => {
  it('redirect: error rejects with a RedirectError', async () => {
    const cause = await causeOf(f(`${s.httpA}/redirect/301?to=/echo`, { redirect: 'error' }));
    expect(cause).toBeInstanceOf(RedirectError);
    expect((cause as RedirectError).code).toBe('HW_ERR_UNEXPECTED_REDIRECT');
    expect((cause as RedirectError).status).toBe(301);
    expect((cause as RedirectError).location).toBe('/echo');
  });

  it('too many redirects', async () => {
    const cause = await causeOf(f(`${s.httpA}/loop`));
    expect((cause as RedirectError).code).toBe('HW_ERR_TOO_MANY_REDIRECTS');
  });

  it('a streamed body that a 307 would need again', async () => {
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array([1]));
        c.close();
      },
    });
    const cause = await causeOf(f(`${s.httpA}/redirect/307?to=/echo`, { method: 'POST', body, duplex: 'half' } as RequestInit));
    expect(cause).toBeInstanceOf(BodyNotReplayableError);
  });

  it('fields undici refuses at dispatch', async () => {
    for (const [name, value, code] of [
      ['transfer-encoding', 'chunked', 'HW_ERR_INVALID_HEADER'],
      ['keep-alive', '1', 'HW_ERR_INVALID_HEADER'],
      ['upgrade', 'h2c', 'HW_ERR_INVALID_HEADER'],
      ['expect', '100-continue', 'HW_ERR_UNSUPPORTED_HEADER'],
      ['connection', 'a b', 'HW_ERR_INVALID_HEADER'],
      ['content-length', '99', 'HW_ERR_CONTENT_LENGTH'],
      ['content-length', '-1', 'HW_ERR_CONTENT_LENGTH'],
    ] as const) {
      const cause = await causeOf(f(`${s.httpA}/echo`, { method: 'POST', body: 'x', headers: { [name]: value } }));
      expect(cause).toBeInstanceOf(InvalidRequestError);
      expect((cause as InvalidRequestError).code).toBe(code);
      expect((cause as InvalidRequestError).field).toBe(name);
    }
  });

  it('blocked ports and schemes', async () => {
    const port = (await causeOf(f('http://127.0.0.1:25/'))) as RequestBlockedError;
    expect(port).toBeInstanceOf(RequestBlockedError);
    expect(port.code).toBe('HW_ERR_BAD_PORT');
    const scheme = (await causeOf(f('ftp://127.0.0.1/'))) as RequestBlockedError;
    expect(scheme.code).toBe('HW_ERR_UNSUPPORTED_SCHEME');
    const mode = (await causeOf(f(`${s.httpA}/redirect/302?to=${encodeURIComponent(`${s.httpB}/echo`)}`, { mode: 'same-origin' }))) as RequestBlockedError;
    expect(mode.code).toBe('HW_ERR_CROSS_ORIGIN');
  });

  it('a refused connection, too many codings, a corrupt body, integrity', async () => {
    expect(await causeOf(f(`http://127.0.0.1:${s.closedPort}/`))).toBeInstanceOf(NewConnectionError);
    expect(await causeOf(f(`${s.httpA}/encoded?codings=&as=a,b,c,d,e,f`))).toBeInstanceOf(DecodeError);
    const r = await f(`${s.httpA}/encoded?codings=br&corrupt=1`);
    const e = (await r.text().catch((x: unknown) => x)) as TypeError;
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('terminated');
    expect(e.cause).toBeInstanceOf(DecodeError);
    expect(await causeOf(f(`${s.httpA}/echo`, { integrity: 'sha512-AAAA' }))).toBeInstanceOf(IntegrityError);
  });

  it('407 is a network error, 421 is sent once more', async () => {
    let n = 0;
    const server = http.createServer((req, res) => {
      n++;
      if (req.url === '/proxy') res.writeHead(407).end();
      else if (req.url === '/misdirected' && n % 2 === 1) res.writeHead(421).end();
      else res.end(`ok ${req.method}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const cause = await causeOf(f(`${base}/proxy`));
      expect(cause).toBeInstanceOf(ProxyError);
      expect((cause as ProxyError).status).toBe(407);
      n = 0;
      const r = await f(`${base}/misdirected`, { method: 'POST', body: 'x' });
      expect(await r.text()).toBe('ok POST');
      expect(n).toBe(2);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('invalid arguments reject with the Request constructor TypeError, not fetch failed', async () => {
    for (const init of [{ method: 'CONNECT' }, { method: 'GET', body: 'x' }, { headers: { 'a b': 'c' } }, { body: new ReadableStream(), method: 'POST' }] as RequestInit[]) {
      const e = (await f(`${s.httpA}/echo`, init).catch((x: unknown) => x)) as TypeError;
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).not.toBe('fetch failed');
    }
  });
});

describe('fetch: the pieces', () => {
  it('content codings: last applied first, nothing for an unknown one, at most five', () => {
    expect(codingsToUndo([])).toEqual([]);
    expect(codingsToUndo(['gzip'])).toEqual(['gzip']);
    expect(codingsToUndo(['deflate, br'])).toEqual(['br', 'deflate']);
    expect(codingsToUndo(['gzip', 'br'])).toEqual(['br', 'gzip']);
    expect(codingsToUndo(['X-GZIP'])).toEqual(['x-gzip']);
    expect(codingsToUndo(['gzip, identity'])).toEqual([]);
    expect(codingsToUndo(['gzip,'])).toEqual([]);
    expect(codingsToUndo(['compress'])).toEqual([]);
    expect(codingsToUndo([Array(MAX_CONTENT_CODINGS).fill('gzip').join(',')])).toHaveLength(MAX_CONTENT_CODINGS);
    expect(() => codingsToUndo([Array(MAX_CONTENT_CODINGS + 1).fill('gzip').join(',')])).toThrow(DecodeError);
  });

  it('Location: resolved against the URL, the fragment inherited, UTF-8 octets read as UTF-8', () => {
    const base = new URL('http://a.example/x/y?q#f');
    expect(locationURL(302, [], base)).toBeNull();
    expect(locationURL(302, ['../z'], base)!.href).toBe('http://a.example/z#f');
    expect(locationURL(302, ['/z#g'], base)!.href).toBe('http://a.example/z#g');
    expect(locationURL(302, [Buffer.from('/caf\u00e9', 'utf8').toString('latin1')], base)!.pathname).toBe('/caf%C3%A9');
    expect(() => locationURL(302, ['http://[x'], base)).toThrow(RedirectError);
  });

  it('redirect checks and rewrites (HTTP-redirect fetch steps 6-13)', () => {
    const a = new URL('http://a.example/');
    expect(() => checkLocation(302, new URL('ftp://a.example/'), 0, 'cors', 'basic')).toThrow(/only http and https/);
    expect(() => checkLocation(302, a, MAX_REDIRECTS, 'cors', 'basic')).toThrow(/redirect count exceeded/);
    expect(() => checkLocation(302, new URL('http://u@a.example/'), 0, 'cors', 'basic')).toThrow(RedirectError);
    expect(() => checkLocation(302, new URL('http://u@a.example/'), 0, 'same-origin', 'basic')).not.toThrow();
    const req = () => ({ method: 'POST', headers: new Headers({ 'content-type': 'text/plain', 'content-language': 'en', authorization: 'x', cookie: 'c', 'x-k': '1' }), body: requestBody(new Request('http://a/', { method: 'POST', body: 'b' }), 'b', null) });
    const r302 = req();
    redirectRequest(r302, 302, a, new URL('http://a.example/next'));
    expect(r302.method).toBe('GET');
    expect(r302.body).toBeNull();
    expect([...r302.headers.keys()]).toEqual(['authorization', 'cookie', 'x-k']);
    const r307 = req();
    redirectRequest(r307, 307, a, new URL('http://b.example/'));
    expect(r307.method).toBe('POST');
    expect(r307.body).not.toBeNull();
    expect([...r307.headers.keys()]).toEqual(['content-language', 'content-type', 'x-k']);
    const put = req();
    put.method = 'PUT';
    redirectRequest(put, 301, a, a);
    expect(put.method).toBe('PUT');
  });

  it('referrer: stripped, and filtered by the policy', () => {
    const ref = referrerOf('https://u:p@a.example/page?q=1#f');
    const same = new URL('https://a.example/other');
    const cross = new URL('https://b.example/');
    const down = new URL('http://b.example/');
    expect(referrerOf('')).toBe('no-referrer');
    expect(referrerOf('about:client')).toBe('client');
    expect(determineReferrer('client', '', same)).toBe('no-referrer');
    expect(String(determineReferrer(ref, '', same))).toBe('https://a.example/page?q=1');
    expect(String(determineReferrer(ref, '', cross))).toBe('https://a.example/');
    expect(determineReferrer(ref, '', down)).toBe('no-referrer');
    expect(String(determineReferrer(ref, 'unsafe-url', down))).toBe('https://a.example/page?q=1');
    expect(String(determineReferrer(ref, 'origin', same))).toBe('https://a.example/');
    expect(determineReferrer(ref, 'same-origin', cross)).toBe('no-referrer');
    expect(String(determineReferrer(ref, 'no-referrer-when-downgrade', cross))).toBe('https://a.example/page?q=1');
    expect(determineReferrer(ref, 'no-referrer', same)).toBe('no-referrer');
    expect(parseReferrerPolicy(['unsafe-url, bogus', 'origin'])).toBe('origin');
    expect(parseReferrerPolicy(['bogus'])).toBe('');
  });

  it('integrity: the strongest algorithm decides, base64url and padding accepted', () => {
    const bytes = Buffer.from('alert(1)');
    const d = (alg: string): string => createHash(alg).update(bytes).digest('base64');
    expect(bytesMatch(bytes, `sha256-${d('sha256')}`)).toBe(true);
    expect(bytesMatch(bytes, `sha256-${d('sha256').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')}`)).toBe(true);
    expect(bytesMatch(bytes, `sha256-${d('sha256')} sha512-AAAA`)).toBe(false);
    expect(bytesMatch(bytes, `sha256-AAAA sha384-${d('sha384')}`)).toBe(true);
    expect(bytesMatch(bytes, 'md5-xxxx')).toBe(true);
    expect(bytesMatch(bytes, `sha384-${d('sha384')}?opt`)).toBe(true);
  });

  it('forms: the same octets as the platform encodes, with its boundary', async () => {
    const form = new FormData();
    form.append('a', 'line\r\nbreak\nand\rmore');
    form.append('q"n\n', 'x');
    form.append('f', new File(['file'], 'n"a\nme.txt', { type: 'text/x' }));
    form.append('b', new Blob([new Uint8Array([0, 255])]));
    form.append('e', new File([], ''));
    const platform = new Response(form);
    const boundary = boundaryOf(platform.headers.get('content-type'))!;
    expect(boundary).toMatch(/^----formdata-undici-0\d{11}$/);
    const expected = Buffer.from(await platform.arrayBuffer());
    const encoded = encodeForm(form, boundary);
    const parts: Buffer[] = [];
    for (const p of encoded.parts) parts.push(p instanceof Blob ? Buffer.from(await p.arrayBuffer()) : Buffer.from(p));
    const got = Buffer.concat(parts);
    expect(got.toString('latin1')).toBe(expected.toString('latin1'));
    expect(encoded.length).toBe(got.length);
    expect(encoded.contentType).toBe(`multipart/form-data; boundary=${boundary}`);
    expect(boundaryOf('text/plain')).toBeNull();
  });

  it('request bodies: sources are copied and replayable, streams are not', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const b = requestBody(new Request('http://a/', { method: 'POST', body: bytes }), bytes, null)!;
    bytes[0] = 9;
    expect(b.take()).toEqual(new Uint8Array([1, 2, 3]));
    expect(b.replayable).toBe(true);
    expect(b.length).toBe(3);
    const stream = new ReadableStream();
    const req = new Request('http://a/', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    const sb = requestBody(req, stream, null)!;
    expect(sb.replayable).toBe(false);
    expect(sb.length).toBeNull();
    expect(requestBody(new Request('http://a/'), undefined, null)).toBeNull();
    const blob = new Blob(['abc']);
    const bb = requestBody(new Request('http://a/', { method: 'POST', body: blob }), blob, null)!;
    expect(bb.length).toBe(3);
  });

  it('per-hop fields: the defaults, the cache modes, and what is refused', () => {
    const base = { method: 'GET', url: new URL('https://a.example/'), body: null, mode: 'cors', cache: 'default', referrer: 'no-referrer' as const };
    const h = new Headers({ host: 'elsewhere' });
    addFetchDefaults(h);
    const fields = Object.fromEntries(hopHeaders({ ...base, headers: h }));
    expect(fields).toEqual({ accept: '*/*', 'accept-encoding': 'br, gzip, deflate', 'accept-language': '*', 'sec-fetch-mode': 'cors', 'user-agent': DEFAULT_USER_AGENT });
    expect(Object.fromEntries(hopHeaders({ ...base, method: 'POST', headers: new Headers() }))['content-length']).toBe('0');
    expect(Object.fromEntries(hopHeaders({ ...base, method: 'PATCH', headers: new Headers() }))['content-length']).toBeUndefined();
    const noStore = Object.fromEntries(hopHeaders({ ...base, cache: 'no-store', headers: new Headers() }));
    expect([noStore['pragma'], noStore['cache-control']]).toEqual(['no-cache', 'no-cache']);
    expect(Object.fromEntries(hopHeaders({ ...base, cache: 'no-cache', headers: new Headers() }))['cache-control']).toBe('max-age=0');
    expect(Object.fromEntries(hopHeaders({ ...base, headers: new Headers({ range: 'bytes=0-1' }) }))['accept-encoding']).toBe('identity');
    expect(hopHeaders({ ...base, headers: new Headers({ connection: 'keep-alive, close' }) })).toContainEqual(['connection', 'close']);
    expect(hopHeaders({ ...base, headers: new Headers({ connection: 'keep-alive' }) }).find(([n]) => n === 'connection')).toBeUndefined();
    expect(() => hopHeaders({ ...base, headers: new Headers({ te: 'trailers', upgrade: 'x' }) })).toThrow(InvalidRequestError);
    expect(Object.fromEntries(hopHeaders({ ...base, referrer: new URL('https://r.example/'), headers: new Headers() }))['referer']).toBe('https://r.example/');
  });

  it('bad ports', () => {
    for (const p of [1, 25, 6000, 10080]) expect(isBadPort(new URL(`http://a:${p}/`))).toBe(true);
    for (const p of [80, 443, 8080, 6001]) expect(isBadPort(new URL(`http://a:${p}/`))).toBe(false);
    expect(isBadPort(new URL('ftp://a:25/'))).toBe(false);
  });
});
