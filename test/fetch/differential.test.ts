/**
 * Differential test: hyperwire's fetch() and undici 7's fetch() (Node's
 * own fetch is undici) against the same local servers, case by case.
 *
 * Each case makes its request afresh for each implementation (streams and
 * forms cannot be shared; undici is given its own FormData and Request
 * classes, since it recognises only its own) and reduces what happens to
 * an Outcome:
 *
 * - a response: status, statusText, headers, body octets, url,
 *   redirected, type (and, where a case asks, more);
 * - or a rejection: its `name`, whether it is `TypeError('fetch failed')`,
 *   and the family of its `cause` (see `familyOf`: our causes are
 *   HyperwireErrors, undici's its own errors or Node's, so causes are
 *   compared by what went wrong, not by class);
 * - and, when reading the body failed, the same for that error.
 *
 * Normalisation of response headers: names lower-cased; `date`,
 * `connection`, `keep-alive` and `transfer-encoding` dropped (they depend
 * on the connection and the protocol, not on fetch); the rest compared in
 * order, repeated fields and Set-Cookie included. The echo route reports
 * the request the server saw in a normalised form too (see
 * fetch-servers.ts): without the fields of the connection (Host,
 * Connection, Upgrade and HTTP2-Settings of a cleartext h2c attempt, TE)
 * and User-Agent (compared in a case of its own), sorted by name (the
 * order of request fields on the wire is not compared), with multipart
 * boundaries replaced.
 *
 * A case whose outcomes differ on purpose carries `differs`: the reason,
 * and a check that asserts both outcomes exactly, so that the difference
 * stays documented and true. Every other case must agree.
 */

import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, FormData as UndiciFormData, Request as UndiciRequest, fetch as undiciFetch } from 'undici';
import { ConnectionError, DecodeError, HTTP11Error, NewConnectionError, ProtocolError, StreamResetError, TimeoutError } from '../../lib/common/errors.js';
import { BodyNotReplayableError } from '../../lib/pool/urlopen.js';
import { createFetch, type Fetch } from '../../lib/fetch/fetch.js';
import { IntegrityError, InvalidRequestError, RedirectError, RequestBlockedError } from '../../lib/fetch/fetch-errors.js';
import { CA, ECHO_USER_AGENT, ENCODED_TEXT, sha256, startFetchServers, type Echo, type FetchServers } from './fetch-servers.js';

type Impl = 'ours' | 'undici';

interface Env {
  s: FetchServers;
  impl: Impl;
  FormData: typeof FormData;
  Request: typeof Request;
}

/** What one implementation did with one case. */
interface Outcome {
  kind: 'response' | 'rejected';
  status?: number;
  statusText?: string;
  headers?: Array<[string, string]>;
  /** The body as latin1 text, or `sha256:<hex>:<length>` past 4 KiB; null for a null body. */
  body?: string | null;
  url?: string;
  redirected?: boolean;
  type?: string;
  /** Reading the body failed. */
  bodyError?: ErrorShape;
  /** The rejection. */
  error?: ErrorShape;
  /** Case-specific observations. */
  extra?: unknown;
}

interface ErrorShape {
  name: string;
  /** True for TypeError('fetch failed') and TypeError('terminated'): the network's errors. */
  network: boolean;
  family: string;
}

interface Case {
  name: string;
  req(env: Env): [string | URL | Request, RequestInit?];
  /** Reads the response (default: the whole body); may add `extra`. */
  consume?(res: Response, out: Outcome, env: Env): Promise<void>;
  differs?: { why: string; check(ours: Outcome, theirs: Outcome): void };
}

// --- error families ------------------------------------------------------------

/** What went wrong, from our cause. */
function ourFamily(c: unknown): string {
  if (c instanceof RedirectError) {
    return (
      {
        HW_ERR_UNEXPECTED_REDIRECT: 'redirect-mode',
        HW_ERR_TOO_MANY_REDIRECTS: 'redirect-count',
        HW_ERR_REDIRECT_LOCATION: 'redirect-location',
        HW_ERR_REDIRECT_SCHEME: 'redirect-scheme',
        HW_ERR_REDIRECT_CREDENTIALS: 'redirect-credentials',
      } as Record<string, string>
    )[c.code]!;
  }
  if (c instanceof BodyNotReplayableError) return 'redirect-body';
  if (c instanceof RequestBlockedError) {
    return ({ HW_ERR_BAD_PORT: 'bad-port', HW_ERR_UNSUPPORTED_SCHEME: 'scheme', HW_ERR_CROSS_ORIGIN: 'mode' } as Record<string, string>)[c.code]!;
  }
  if (c instanceof InvalidRequestError) return 'request-header';
  if (c instanceof IntegrityError) return 'integrity';
  if (c instanceof DecodeError) return 'decode';
  if (c instanceof NewConnectionError) return 'connect';
  if (c instanceof TimeoutError) return 'timeout';
  if (c instanceof HTTP11Error) return c.code === 'HW_ERR_H1_INCOMPLETE' ? 'closed' : 'malformed';
  if (c instanceof ConnectionError) return 'closed';
  if (c instanceof ProtocolError || c instanceof StreamResetError) return 'protocol';
  return `unknown:${(c as Error)?.name}:${(c as Error)?.message}`;
}

/** What went wrong, from undici's cause. */
function undiciFamily(c: unknown): string {
  const e = c as (Error & { code?: string }) | undefined;
  const code = e?.code ?? '';
  const message = e?.message ?? '';
  if (message === 'unexpected redirect') return 'redirect-mode';
  if (message === 'redirect count exceeded') return 'redirect-count';
  if (code === 'ERR_INVALID_URL') return 'redirect-location';
  if (message === 'URL scheme must be a HTTP(S) scheme') return 'redirect-scheme';
  if (/credentials|cross origin not allowed/.test(message)) return 'redirect-credentials';
  if (message === 'bad port') return 'bad-port';
  if (message === 'unknown scheme' || message === 'about scheme is not supported' || message.startsWith('not implemented')) return 'scheme';
  if (/same-origin|no-cors/.test(message)) return 'mode';
  if (message === 'integrity mismatch') return 'integrity';
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return 'malformed';
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED' || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') return 'request-header';
  if (code === 'ECONNREFUSED') return 'connect';
  if (code.startsWith('Z_') || /content-encoding/.test(message) || code === 'ERR_BROTLI_DECOMPRESSION_FAILED' || /incorrect header check|invalid/.test(message) && e?.constructor?.name === 'Error' && 'errno' in (e as object)) return 'decode';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout';
  if (code.startsWith('HPE_') || e?.name === 'HTTPParserError') return code === 'HPE_INVALID_EOF_STATE' ? 'closed' : 'malformed';
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return 'closed';
  if (e?.name === 'Error' && message === '') return 'unspecified';
  return `unknown:${e?.name}:${code}:${message}`;
}

function shapeOf(err: unknown, impl: Impl): ErrorShape {
  const e = err as Error;
  const network = e instanceof TypeError && (e.message === 'fetch failed' || e.message === 'terminated');
  const family = network ? (impl === 'ours' ? ourFamily(e.cause) : undiciFamily(e.cause)) : e?.name === 'TypeError' ? 'argument' : 'reason';
  return { name: e?.name ?? String(err), network, family };
}

// --- outcomes --------------------------------------------------------------------

const DROP = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', ECHO_USER_AGENT]);

function describeBody(bytes: Uint8Array): string {
  return bytes.byteLength > 4096 ? `sha256:${sha256(bytes)}:${bytes.byteLength}` : Buffer.from(bytes).toString('latin1');
}

async function readAll(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

async function outcomeOf(c: Case, env: Env, fetchImpl: (input: string | URL | Request, init?: RequestInit) => Promise<Response>): Promise<Outcome> {
  let res: Response;
  try {
    const [input, init] = c.req(env);
    res = await fetchImpl(input, init);
  } catch (err) {
    return { kind: 'rejected', error: shapeOf(err, env.impl) };
  }
  const out: Outcome = {
    kind: 'response',
    status: res.status,
    statusText: res.statusText,
    headers: [...res.headers].filter(([n]) => !DROP.has(n)),
    url: res.url,
    redirected: res.redirected,
    type: res.type,
  };
  try {
    if (c.consume !== undefined) await c.consume(res, out, env);
    else out.body = res.body === null ? null : describeBody(await readAll(res));
  } catch (err) {
    out.bodyError = shapeOf(err, env.impl);
  }
  return out;
}

/** The echo a response carried. */
function echoOf(o: Outcome): Echo {
  return JSON.parse(o.body as string) as Echo;
}

// --- the cases ----------------------------------------------------------------------

const GET_FOLLOW_CODES = [301, 302, 303, 307, 308];

function streamOf(parts: string[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < parts.length) controller.enqueue(new TextEncoder().encode(parts[i++]!));
      else controller.close();
    },
  });
}

function abortAfter(ms: number, reason?: unknown): AbortSignal {
  const ac = new AbortController();
  setTimeout(() => ac.abort(reason), ms);
  return ac.signal;
}

const cases: Case[] = [
  // Redirects: each code, GET.
  ...GET_FOLLOW_CODES.map(
    (code): Case => ({
      name: `GET follows ${code}`,
      req: ({ s }) => [`${s.httpA}/redirect/${code}?to=/echo/after`],
    }),
  ),
  // Each code with a POST body: 301/302 turn POST into GET, 303 too, 307/308 keep it.
  ...GET_FOLLOW_CODES.map(
    (code): Case => ({
      name: `POST with a body follows ${code}`,
      req: ({ s }) => [`${s.httpA}/redirect/${code}?to=/echo/after`, { method: 'POST', body: 'payload', headers: { 'content-language': 'en', 'x-keep': 'yes' } }],
    }),
  ),
  { name: 'PUT follows 301 as PUT, with its body', req: ({ s }) => [`${s.httpA}/redirect/301?to=/echo`, { method: 'PUT', body: 'put body' }] },
  { name: 'PUT follows 303 as GET, without its body', req: ({ s }) => [`${s.httpA}/redirect/303?to=/echo`, { method: 'PUT', body: 'put body' }] },
  { name: 'HEAD follows 303 as HEAD', req: ({ s }) => [`${s.httpA}/redirect/303?to=/echo`, { method: 'HEAD' }] },
  { name: "redirect: 'error' on a 302", req: ({ s }) => [`${s.httpA}/redirect/302?to=/echo`, { redirect: 'error' }] },
  { name: "redirect: 'error' without a redirect", req: ({ s }) => [`${s.httpA}/echo`, { redirect: 'error' }] },
  { name: "redirect: 'manual' returns the 302 as it is", req: ({ s }) => [`${s.httpA}/redirect/302?to=/echo`, { redirect: 'manual' }] },
  { name: "redirect: 'manual' returns the 307 as it is", req: ({ s }) => [`${s.httpA}/redirect/307?to=/echo`, { method: 'POST', body: 'x', redirect: 'manual' }] },
  { name: "redirect: 'manual' on a cross-origin 301", req: ({ s }) => [`${s.httpA}/redirect/301?to=${encodeURIComponent(`${s.httpB}/echo`)}`, { redirect: 'manual' }] },
  { name: 'relative Location with dot segments', req: ({ s }) => [`${s.httpA}/redirect/302?to=${encodeURIComponent('../echo/rel?x=1')}`] },
  { name: 'Location without a fragment keeps the request fragment', req: ({ s }) => [`${s.httpA}/redirect/302?to=/echo/frag#kept`] },
  { name: 'a Location fragment replaces the request fragment', req: ({ s }) => [`${s.httpA}/redirect/302?to=${encodeURIComponent('/echo/frag#new')}#old`] },
  { name: 'http to https is a cross-origin redirect', req: ({ s }) => [`${s.httpA}/redirect/302?to=${encodeURIComponent(`${s.https1}/echo/up`)}`] },
  { name: '308 sends a Blob body again', req: ({ s }) => [`${s.httpA}/redirect/308?to=/echo`, { method: 'PUT', body: new Blob(['blob again'], { type: 'text/x' }) }] },
  { name: '301 turns a URLSearchParams POST into a GET without Content-Type', req: ({ s }) => [`${s.httpA}/redirect/301?to=/echo`, { method: 'POST', body: new URLSearchParams({ q: '1' }) }] },
  {
    name: '307 sends a FormData body again',
    req: ({ s, FormData: FD }) => {
      const form = new FD();
      form.append('field', 'value');
      return [`${s.httpA}/redirect/307?to=/echo`, { method: 'POST', body: form }];
    },
    differs: {
      why: 'undici extracts a FormData again for the new hop with a new boundary but keeps the Content-Type of the first, so the body no longer matches its header; we send the same boundary again',
      check(ours, theirs) {
        const o = echoOf(ours);
        const t = echoOf(theirs);
        expect(o.headers).toContainEqual(['content-type', 'multipart/form-data; boundary=BOUNDARY']);
        expect(o.body).toBe('--BOUNDARY\r\nContent-Disposition: form-data; name="field"\r\n\r\nvalue\r\n--BOUNDARY--\r\n');
        expect(t.headers).toContainEqual(['content-type', 'multipart/form-data; boundary=BOUNDARY']);
        expect(t.body).not.toContain('BOUNDARY');
        expect(t.body).toMatch(/^------formdata-undici-0\d{11}\r\nContent-Disposition: form-data; name="field"/);
      },
    },
  },
  {
    name: 'cross-origin redirect: type cors, url of the other origin, Authorization and Cookie dropped',
    req: ({ s }) => [`${s.httpA}/redirect/302?to=${encodeURIComponent(`${s.httpB}/echo/cross`)}`, { headers: { authorization: 'Bearer t', cookie: 'k=v', 'x-other': '1' } }],
  },
  {
    name: 'cross-origin and back: stays cors',
    req: ({ s }) => [`${s.httpA}/redirect/302?to=${encodeURIComponent(`${s.httpB}/redirect/302?to=${encodeURIComponent(`${s.httpA}/echo/back`)}`)}`],
  },
  { name: 'same-origin redirect keeps Authorization', req: ({ s }) => [`${s.httpA}/redirect/307?to=/echo/auth`, { headers: { authorization: 'Bearer t' } }] },
  { name: 'redirect loop fails after 20', req: ({ s }) => [`${s.httpA}/loop`] },
  { name: 'exactly 20 redirects are followed', req: ({ s }) => [`${s.httpA}/chain/20`] },
  { name: '21 redirects are too many', req: ({ s }) => [`${s.httpA}/chain/21`] },
  {
    name: '307 with a stream body cannot be followed',
    req: ({ s }) => [`${s.httpA}/redirect/307?to=/echo`, { method: 'POST', body: streamOf(['a', 'b']), duplex: 'half' } as RequestInit],
    differs: {
      why: 'undici gives an Error with no message as the cause (the standard\'s bare "network error"); ours is a BodyNotReplayableError saying why',
      check(ours, theirs) {
        expect(ours.error).toEqual({ name: 'TypeError', network: true, family: 'redirect-body' });
        expect(theirs.error).toEqual({ name: 'TypeError', network: true, family: 'unspecified' });
      },
    },
  },
  { name: '303 with a stream body becomes a GET', req: ({ s }) => [`${s.httpA}/redirect/303?to=/echo`, { method: 'POST', body: streamOf(['a', 'b']), duplex: 'half' } as RequestInit] },
  { name: 'Location with a non-http scheme', req: ({ s }) => [`${s.httpA}/redirect/302?to=${encodeURIComponent('ftp://127.0.0.1/x')}`] },
  { name: 'Location that is not a URL', req: ({ s }) => [`${s.httpA}/redirect/302?to=${encodeURIComponent('http://[::zz]/')}`] },
  { name: 'Location with credentials', req: ({ s }) => [`${s.httpA}/redirect/302?to=${encodeURIComponent(`http://u:p@127.0.0.1:${new URL(s.httpA).port}/echo`)}`] },
  { name: 'a 302 without Location is the response', req: ({ s }) => [`${s.httpA}/redirect/302`] },
  { name: 'Location with raw UTF-8 octets', req: ({ s }) => [`${s.httpA}/raw-location`] },
  { name: 'Referrer-Policy of a redirect applies to the next hop', req: ({ s }) => [`${s.httpA}/redirect/302?to=/echo/ref&policy=no-referrer`, { referrer: `${s.httpA}/page?secret=1` }] },
  { name: 'referrer URL is sent, stripped', req: ({ s }) => [`${s.httpA}/echo/ref`, { referrer: `${s.httpA}/page?q=1#frag` }] },
  { name: 'cross-origin referrer is sent as its origin', req: ({ s }) => [`${s.httpA}/echo/ref`, { referrer: `${s.httpB}/page?q=1` }] },

  // URLs.
  { name: 'a URL object as input', req: ({ s }) => [new URL(`${s.httpA}/echo/url?a=1&b=%20`)] },
  { name: 'a query with characters the URL parser encodes', req: ({ s }) => [`${s.httpA}/echo/q?x=a b|c"d'e<f>`] },
  { name: 'a URL ending in a bare ? keeps it', req: ({ s }) => [`${s.httpA}/echo/bare?`] },
  { name: 'a fragment is not sent', req: ({ s }) => [`${s.httpA}/echo/frag?x=1#not-sent`] },

  // Methods.
  { name: "method 'patch' is sent as it is (and Node's server refuses it)", req: ({ s }) => [`${s.httpA}/echo`, { method: 'patch', body: 'p' }] },
  { name: "method 'delete' is normalised", req: ({ s }) => [`${s.httpA}/echo`, { method: 'delete' }] },
  { name: "method 'get' is normalised", req: ({ s }) => [`${s.httpA}/echo`, { method: 'get' }] },
  { name: "method 'options' is normalised", req: ({ s }) => [`${s.httpA}/echo`, { method: 'options' }] },
  { name: 'custom method PURGE', req: ({ s }) => [`${s.httpA}/echo`, { method: 'PURGE' }] },
  { name: 'PATCH without a body', req: ({ s }) => [`${s.httpA}/echo`, { method: 'PATCH' }] },
  { name: 'CONNECT is refused', req: ({ s }) => [`${s.httpA}/echo`, { method: 'CONNECT' }] },
  { name: 'TRACE is refused', req: ({ s }) => [`${s.httpA}/echo`, { method: 'trace' }] },
  { name: 'an invalid method is refused', req: ({ s }) => [`${s.httpA}/echo`, { method: 'GE T' }] },

  // Bodies.
  { name: 'string body', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: 'caf\u00e9 \ud83d\ude00' }] },
  { name: 'ArrayBuffer body', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: new Uint8Array([0, 1, 2, 255]).buffer }] },
  { name: 'Uint8Array view body (offset)', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: new Uint8Array([9, 65, 66, 67, 9]).subarray(1, 4) }] },
  { name: 'DataView body', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: new DataView(new Uint8Array([68, 86]).buffer) }] },
  { name: 'Blob body with a type', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: new Blob(['blob ', 'data'], { type: 'text/x-blob' }) }] },
  { name: 'Blob body without a type', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: new Blob(['untyped']) }] },
  {
    name: 'FormData body (strings and a file)',
    req: ({ s, FormData: FD }) => {
      const form = new FD();
      form.append('name', 'value\nwith "quotes"');
      form.append('file', new Blob(['file contents'], { type: 'text/plain' }), 'a "b".txt');
      form.append('blob', new Blob(['raw']));
      return [`${s.httpA}/echo`, { method: 'POST', body: form }];
    },
  },
  { name: 'URLSearchParams body', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: new URLSearchParams({ a: '1', b: 'x y&z' }) }] },
  { name: 'ReadableStream body with duplex', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: streamOf(['chunk one, ', 'chunk two']), duplex: 'half' } as RequestInit] },
  { name: 'ReadableStream body without duplex is refused', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: streamOf(['x']) }] },
  {
    name: 'async iterable body with duplex',
    req: ({ s }) => [
      `${s.httpA}/echo`,
      {
        method: 'POST',
        body: (async function* () {
          yield new TextEncoder().encode('async ');
          yield new TextEncoder().encode('iterable');
        })(),
        duplex: 'half',
      } as unknown as RequestInit,
    ],
  },
  {
    name: 'Request input with a body',
    req: ({ s, Request: R }) => [new R(`${s.httpA}/echo/req`, { method: 'POST', body: 'from a request', headers: { 'x-from': 'request' } })],
    differs: {
      why: "a Request's body is read from its stream (a Request does not expose its source), so it is sent chunked on HTTP/1.1; undici knows the source and sends Content-Length",
      check(ours, theirs) {
        const o = echoOf(ours);
        const t = echoOf(theirs);
        expect(o.body).toBe('from a request');
        expect(t.body).toBe('from a request');
        expect(o.headers.find(([n]) => n === 'content-length')).toBeUndefined();
        expect(t.headers.find(([n]) => n === 'content-length')).toEqual(['content-length', '14']);
        expect(o.headers.filter(([n]) => n !== 'content-length')).toEqual(t.headers.filter(([n]) => n !== 'content-length'));
      },
    },
  },
  { name: 'Request input, init overrides the method and headers', req: ({ s, Request: R }) => [new R(`${s.httpA}/echo`, { headers: { 'x-a': '1' } }), { method: 'DELETE', headers: { 'x-b': '2' } }] },
  { name: 'GET with a body is refused', req: ({ s }) => [`${s.httpA}/echo`, { method: 'GET', body: 'x' }] },
  { name: 'HEAD with a body is refused', req: ({ s }) => [`${s.httpA}/echo`, { method: 'HEAD', body: 'x' }] },
  { name: 'POST with an empty string body', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: '' }] },
  { name: 'POST without a body sends Content-Length: 0', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST' }] },
  { name: 'a number as the body is its string', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: 12345 as unknown as string }] },

  // Request fields.
  { name: 'an invalid field name is refused', req: ({ s }) => [`${s.httpA}/echo`, { headers: { 'bad name': 'x' } }] },
  { name: 'an invalid field value is refused', req: ({ s }) => [`${s.httpA}/echo`, { headers: { 'x-bad': 'a\r\nb' } }] },
  { name: 'Transfer-Encoding is refused', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: 'x', headers: { 'transfer-encoding': 'chunked' } }] },
  { name: 'Keep-Alive is refused', req: ({ s }) => [`${s.httpA}/echo`, { headers: { 'keep-alive': 'timeout=5' } }] },
  { name: 'Upgrade is refused', req: ({ s }) => [`${s.httpA}/echo`, { headers: { upgrade: 'websocket' } }] },
  { name: 'Expect is refused', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: 'x', headers: { expect: '100-continue' } }] },
  { name: 'Connection: close is allowed', req: ({ s }) => [`${s.httpA}/echo`, { headers: { connection: 'close' } }] },
  { name: 'Connection with an invalid token is refused', req: ({ s }) => [`${s.httpA}/echo`, { headers: { connection: 'close, ' } }] },
  { name: "Host is the URL's", req: ({ s }) => [`${s.httpA}/echo/host`, { headers: { host: 'example.com' } }] },
  { name: 'a matching Content-Length is kept', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: 'abc', headers: { 'content-length': '3' } }] },
  { name: 'a Content-Length that does not match the body is refused', req: ({ s }) => [`${s.httpA}/echo`, { method: 'POST', body: 'abc', headers: { 'content-length': '5' } }] },
  { name: 'forbidden request fields are sent (Cookie, Origin, Referer, Date, Via)', req: ({ s }) => [`${s.httpA}/echo`, { headers: { cookie: 'a=b', origin: 'http://o.example', referer: 'http://r.example/', date: 'x', via: '1.1 p' } }] },
  { name: 'Range asks for identity', req: ({ s }) => [`${s.httpA}/echo`, { headers: { range: 'bytes=0-1' } }] },
  { name: "cache: 'no-store'", req: ({ s }) => [`${s.httpA}/echo`, { cache: 'no-store' } as RequestInit] },
  { name: "cache: 'no-cache'", req: ({ s }) => [`${s.httpA}/echo`, { cache: 'no-cache' } as RequestInit] },
  { name: 'a conditional request in default cache mode', req: ({ s }) => [`${s.httpA}/echo`, { headers: { 'if-none-match': '"x"' } }] },
  { name: "cache: 'only-if-cached' is a plain fetch (there is no cache)", req: ({ s }) => [`${s.httpA}/echo`, { cache: 'only-if-cached', mode: 'same-origin' } as RequestInit] },
  { name: 'caller Accept and Accept-Encoding are kept', req: ({ s }) => [`${s.httpA}/echo`, { headers: { accept: 'text/html', 'accept-encoding': 'br', 'Accept-Language': 'fr' } }] },
  { name: 'repeated and many request fields', req: ({ s }) => [`${s.httpA}/echo`, { headers: [['x-rep', 'a'], ['X-Rep', 'b'], ...Array.from({ length: 80 }, (_, i): [string, string] => [`x-n-${i}`, `v${i}`])] }] },
  {
    name: 'User-Agent',
    req: ({ s }) => [`${s.httpA}/echo`],
    consume: userAgentOf,
    differs: {
      why: 'each client names itself: "hyperwire" here, "undici" for the undici package ("node" for Node\'s bundled fetch)',
      check(ours, theirs) {
        expect(ours.extra).toBe('hyperwire');
        expect(theirs.extra).toBe('undici');
        expect({ ...ours, extra: null }).toEqual({ ...theirs, extra: null });
      },
    },
  },
  { name: 'a caller User-Agent is sent', req: ({ s }) => [`${s.httpA}/echo`, { headers: { 'user-agent': 'mine/1.0' } }], consume: userAgentOf },

  // Responses.
  { name: 'HEAD has a null body', req: ({ s }) => [`${s.httpA}/echo`, { method: 'HEAD' }] },
  { name: '204 has a null body', req: ({ s }) => [`${s.httpA}/status/204`] },
  { name: '205 has a null body', req: ({ s }) => [`${s.httpA}/status/205`] },
  { name: '304 has a null body', req: ({ s }) => [`${s.httpA}/status/304`] },
  { name: '404 with its reason phrase', req: ({ s }) => [`${s.httpA}/status/404`] },
  { name: 'a custom reason phrase', req: ({ s }) => [`${s.httpA}/status/200?reason=${encodeURIComponent('Very Good')}`] },
  { name: '500', req: ({ s }) => [`${s.httpA}/status/500`] },
  { name: 'many, repeated and Set-Cookie response fields', req: ({ s }) => [`${s.httpA}/headers`], consume: setCookies },
  { name: 'a chunked body', req: ({ s }) => [`${s.httpA}/chunks`] },
  { name: 'a large body (4 MiB)', req: ({ s }) => [`${s.httpA}/large/4194304`] },

  // Content codings.
  ...['gzip', 'x-gzip', 'deflate', 'deflate-raw', 'br', 'gzip,br', 'deflate,gzip'].map(
    (codings): Case => ({ name: `Content-Encoding ${codings}`, req: ({ s }) => [`${s.httpA}/encoded?codings=${codings}`] }),
  ),
  { name: 'Content-Encoding identity', req: ({ s }) => [`${s.httpA}/encoded?codings=&as=identity`] },
  { name: 'unknown Content-Encoding is left alone', req: ({ s }) => [`${s.httpA}/encoded?codings=gzip&as=${encodeURIComponent('gzip, compress')}`] },
  { name: 'Content-Encoding in upper case', req: ({ s }) => [`${s.httpA}/encoded?codings=gzip&as=GZIP`] },
  { name: 'a body that does not decode', req: ({ s }) => [`${s.httpA}/encoded?codings=gzip&corrupt=1`] },
  { name: 'six content codings are too many', req: ({ s }) => [`${s.httpA}/encoded?codings=&as=${encodeURIComponent('gzip, gzip, gzip, gzip, gzip, gzip')}`] },
  { name: 'an empty body with Content-Encoding gzip', req: ({ s }) => [`${s.httpA}/encoded?codings=&as=gzip&empty=1`] },
  { name: 'HEAD of an encoded body', req: ({ s }) => [`${s.httpA}/encoded?codings=gzip`, { method: 'HEAD' }] },
  { name: 'a 204 that names gzip has no body to decode', req: ({ s }) => [`${s.httpA}/status/204?gzip=1`] },

  // Aborts.
  { name: 'an aborted signal rejects at once with its reason', req: ({ s }) => [`${s.httpA}/echo`, { signal: AbortSignal.abort() }] },
  { name: 'an aborted signal with a custom reason', req: ({ s }) => [`${s.httpA}/echo`, { signal: AbortSignal.abort(new RangeError('mine')) }] },
  { name: 'abort while waiting for the head', req: ({ s }) => [`${s.httpA}/slow-head?ms=3000`, { signal: abortAfter(100) }] },
  { name: 'AbortSignal.timeout while waiting for the head', req: ({ s }) => [`${s.httpA}/slow-head?ms=3000`, { signal: AbortSignal.timeout(100) }] },
  {
    name: 'abort mid-body errors the body with the reason',
    req: ({ s }) => {
      const ac = new AbortController();
      controllers.push(ac);
      return [`${s.httpA}/slow-body`, { signal: ac.signal }];
    },
    consume: abortMidBody,
  },
  {
    name: 'abort while the request body is being sent',
    req: ({ s }) => {
      let n = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (n++ === 0) controller.enqueue(new TextEncoder().encode('first part'));
          else await new Promise((r) => setTimeout(r, 5000));
        },
      });
      return [`${s.httpA}/echo`, { method: 'POST', body, duplex: 'half', signal: abortAfter(150) } as RequestInit];
    },
  },
  { name: 'a Request input with an aborted signal', req: ({ s, Request: R }) => [new R(`${s.httpA}/echo`, { signal: AbortSignal.abort() })] },
  { name: "a Request input's signal aborts the fetch", req: ({ s, Request: R }) => [new R(`${s.httpA}/slow-head?ms=3000`, { signal: abortAfter(100) })] },
  { name: 'an abort after the body was read changes nothing', req: ({ s }) => [`${s.httpA}/echo`, { signal: abortAfter(2000) }] },

  // Malformed and failed responses.
  { name: 'a bad status line', req: ({ s }) => [`${s.raw}/bad-status-line`] },
  { name: 'not HTTP at all', req: ({ s }) => [`${s.raw}/not-http`] },
  { name: 'a body cut short of its Content-Length', req: ({ s }) => [`${s.raw}/truncated`] },
  { name: 'the server closes without answering', req: ({ s }) => [`${s.raw}/close-early`] },
  { name: 'the server closes after the head', req: ({ s }) => [`${s.raw}/close-after-head`] },
  { name: 'an HTTP/1.0 body read until close', req: ({ s }) => [`${s.raw}/http10`] },
  { name: 'a malformed chunk', req: ({ s }) => [`${s.raw}/bad-chunk`] },
  { name: 'an unusual status and reason (299)', req: ({ s }) => [`${s.raw}/reason`] },
  { name: 'an empty reason phrase', req: ({ s }) => [`${s.raw}/empty-reason`] },
  {
    name: 'status 600',
    req: ({ s }) => [`${s.raw}/status-600`],
    differs: {
      why: 'RFC 9110 §15 defines 100-599; our parser refuses the status line (HTTP11Error), undici accepts any three digits, and its Response then has status 600',
      check(ours, theirs) {
        expect(ours.error).toEqual({ name: 'TypeError', network: true, family: 'malformed' });
        expect(theirs.kind).toBe('response');
        expect(theirs.status).toBe(600);
      },
    },
  },
  { name: 'a control character in the reason phrase', req: ({ s }) => [`${s.raw}/ctl-reason`] },
  {
    name: 'a latin1 octet in the reason phrase',
    req: ({ s }) => [`${s.raw}/latin1-reason`],
    differs: {
      why: 'statusText is a ByteString of the status message octets (Fetch Standard §5.5), so 0xE9 is "\u00e9"; undici decodes the reason phrase as UTF-8, and an octet that is not UTF-8 becomes U+FFFD',
      check(ours, theirs) {
        expect(ours.statusText).toBe('caf\u00e9');
        expect(theirs.statusText).toBe('caf\ufffd');
        expect({ ...ours, statusText: '' }).toEqual({ ...theirs, statusText: '' });
      },
    },
  },
  { name: 'a NUL in a field value', req: ({ s }) => [`${s.raw}/nul-value`] },
  {
    name: 'a DEL in a field value',
    req: ({ s }) => [`${s.raw}/del-value`],
    differs: {
      why: 'RFC 9110 §5.5 makes only CR, LF and NUL in a field value something a recipient must reject (or replace); our HTTP/1.1 parser passes DEL on, and Headers accepts it; llhttp refuses the response',
      check(ours, theirs) {
        expect(ours.kind).toBe('response');
        expect(ours.headers).toContainEqual(['x-del', 'a\x7fb']);
        expect(theirs.error).toEqual({ name: 'TypeError', network: true, family: 'malformed' });
      },
    },
  },
  {
    name: 'a 101 to a request that did not ask to upgrade',
    req: ({ s }) => [`${s.raw}/switching`],
    differs: {
      why: 'both reject with TypeError("fetch failed"); ours names an unsolicited 101 (an HTTP11Error), undici fails an internal assertion and then sees the socket close',
      check(ours, theirs) {
        expect(ours.error).toEqual({ name: 'TypeError', network: true, family: 'malformed' });
        expect(theirs.error?.name).toBe('TypeError');
        expect(theirs.error?.network).toBe(true);
        expect(theirs.error?.family).not.toBe('malformed');
      },
    },
  },
  { name: 'a 103 before the response', req: ({ s }) => [`${s.raw}/early-hints`] },
  { name: 'octets after the body', req: ({ s }) => [`${s.raw}/trailing-octets`] },
  { name: 'conflicting Content-Length fields', req: ({ s }) => [`${s.raw}/duplicate-cl`] },
  {
    name: 'an obs-fold line',
    req: ({ s }) => [`${s.raw}/obs-fold`],
    differs: {
      why: 'RFC 9112 §5.2 says a user agent MUST replace an obs-fold in a response with SP and go on; our parser does, undici (llhttp) refuses the response',
      check(ours, theirs) {
        expect(ours.kind).toBe('response');
        expect(ours.headers).toContainEqual(['x-folded', 'one two']);
        expect(ours.body).toBe('ok');
        expect(theirs.error).toEqual({ name: 'TypeError', network: true, family: 'malformed' });
      },
    },
  },
  { name: 'connection refused', req: ({ s }) => [`http://127.0.0.1:${s.closedPort}/`] },
  { name: 'a bad port is blocked', req: () => ['http://127.0.0.1:6000/'] },
  { name: 'an unknown scheme', req: () => ['ftp://127.0.0.1/file'] },
  { name: 'a file: URL', req: () => ['file:///etc/hostname'] },
  { name: 'a relative URL is refused', req: () => ['/relative'] },
  { name: 'a URL with credentials is refused', req: ({ s }) => [`http://u:p@${new URL(s.httpA).host}/echo`] },
  { name: 'a data: URL', req: () => ['data:text/plain;base64,aGVsbG8='] },

  // TLS: HTTP/1.1, and HTTP/2 (undici with allowH2).
  { name: 'https (HTTP/1.1) GET', req: ({ s }) => [`${s.https1}/echo/tls`] },
  { name: 'https (HTTP/1.1) offers br', req: ({ s }) => [`${s.https1}/encoded?codings=br`] },
  { name: 'h2 GET', req: ({ s }) => [`${s.h2}/echo/h2`] },
  { name: 'h2 POST with a stream body', req: ({ s }) => [`${s.h2}/echo/h2`, { method: 'POST', body: streamOf(['h2 ', 'stream']), duplex: 'half' } as RequestInit] },
  { name: 'h2 POST FormData', req: ({ s, FormData: FD }) => { const f = new FD(); f.append('k', 'v'); return [`${s.h2}/echo`, { method: 'POST', body: f }]; } },
  { name: 'h2 redirect 303', req: ({ s }) => [`${s.h2}/redirect/303?to=/echo/h2`, { method: 'POST', body: 'x' }] },
  { name: 'h2 gzip', req: ({ s }) => [`${s.h2}/encoded?codings=gzip`] },
  { name: 'h2 statusText is empty', req: ({ s }) => [`${s.h2}/status/404`] },
  { name: 'h2 a chunked-style body', req: ({ s }) => [`${s.h2}/chunks`] },
  { name: 'h2 cross-origin redirect drops Authorization', req: ({ s }) => [`${s.h2}/redirect/307?to=${encodeURIComponent(`${s.httpA}/echo/from-h2`)}`, { headers: { authorization: 'x' } }] },
  { name: 'h2 HEAD', req: ({ s }) => [`${s.h2}/echo`, { method: 'HEAD' }] },
  { name: 'h2 large body (2 MiB)', req: ({ s }) => [`${s.h2}/large/2097152`] },
  {
    name: 'h2 many, repeated and Set-Cookie fields',
    req: ({ s }) => [`${s.h2}/headers`],
    consume: setCookies,
    differs: {
      why: "a field value with octets above 0x7F: we give each octet as one character (a ByteString, as Headers holds them, and as both clients do over HTTP/1.1); undici over HTTP/2 takes Node's latin1 text, encodes it as UTF-8 and reads that back as latin1, so the value grows mojibake",
      check(ours, theirs) {
        expect(ours.headers).toContainEqual(['x-latin1', 'caf\u00e9']);
        expect(theirs.headers).toContainEqual(['x-latin1', 'caf\u00c3\u00a9']);
        const other = (o: Outcome): Outcome => ({ ...o, headers: o.headers!.filter(([n]) => n !== 'x-latin1') });
        expect(other(ours)).toEqual(other(theirs));
      },
    },
  },
  {
    name: 'h2 abort mid-body',
    req: ({ s }) => {
      const ac = new AbortController();
      controllers.push(ac);
      return [`${s.h2}/slow-body`, { signal: ac.signal }];
    },
    consume: abortMidBody,
  },
  { name: 'cross-protocol redirect (h2 to http/1.1) is cors', req: ({ s }) => [`${s.h2}/redirect/302?to=${encodeURIComponent(`${s.https1}/echo/x`)}`] },

  // Integrity, modes, clone.
  { name: 'integrity that matches', req: ({ s }) => [`${s.httpA}/encoded?codings=gzip`, { integrity: `sha256-${Buffer.from(sha256(Buffer.from(ENCODED_TEXT)), 'hex').toString('base64')}` }] },
  { name: 'integrity that does not match', req: ({ s }) => [`${s.httpA}/encoded?codings=gzip`, { integrity: `sha256-${Buffer.alloc(32).toString('base64')}` }] },
  { name: "mode 'same-origin' refuses a cross-origin redirect", req: ({ s }) => [`${s.httpA}/redirect/302?to=${encodeURIComponent(`${s.httpB}/echo`)}`, { mode: 'same-origin' }] },
  { name: "mode 'same-origin' on its own origin", req: ({ s }) => [`${s.httpA}/redirect/302?to=/echo`, { mode: 'same-origin' }] },
  {
    name: "mode 'no-cors' across origins gives an opaque response",
    req: ({ s }) => [`${s.httpA}/redirect/302?to=${encodeURIComponent(`${s.httpB}/echo`)}`, { mode: 'no-cors' }],
    differs: {
      why: "an opaque filtered response has an empty URL list and header list (Fetch Standard §2.2.6); ours has, undici's still shows the internal response's URL, redirected flag and fields",
      check(ours, theirs) {
        const common = { kind: 'response', status: 0, statusText: '', type: 'opaque', body: null };
        expect(ours).toEqual({ ...common, headers: [], url: '', redirected: false });
        expect(theirs).toMatchObject({ ...common, redirected: true });
        expect(theirs.url).toMatch(/\/echo$/);
        expect(theirs.headers).toContainEqual(['content-type', 'application/json']);
      },
    },
  },
  {
    name: 'clone() keeps url, type, redirected and status',
    req: ({ s }) => [`${s.httpA}/redirect/302?to=${encodeURIComponent(`${s.httpB}/echo/clone`)}`],
    consume: async (res, out) => {
      const a = res.clone();
      const b = a.clone();
      out.extra = [a, b].map((r) => ({ url: r.url, type: r.type, redirected: r.redirected, status: r.status, statusText: r.statusText }));
      out.body = describeBody(await readAll(b));
      await res.arrayBuffer();
    },
  },
  {
    name: 'the response headers are immutable',
    req: ({ s }) => [`${s.httpA}/echo`],
    consume: async (res, out) => {
      const tries: string[] = [];
      for (const mutate of [() => res.headers.set('x', 'y'), () => res.headers.append('x', 'y'), () => res.headers.delete('content-type')]) {
        try {
          mutate();
          tries.push('allowed');
        } catch (err) {
          tries.push((err as Error).name);
        }
      }
      out.extra = tries;
      await res.arrayBuffer();
    },
  },
  {
    name: 'a BYOB reader reads the body',
    req: ({ s }) => [`${s.httpA}/large/10000`],
    consume: async (res, out) => {
      const reader = res.body!.getReader({ mode: 'byob' });
      let total = 0;
      for (;;) {
        const { done, value } = await reader.read(new Uint8Array(1000));
        if (done) break;
        total += value.byteLength;
      }
      out.extra = total;
    },
  },
];

/** Controllers of the mid-body abort cases: the last one is the request being read (cases run one at a time). */
const controllers: AbortController[] = [];

async function userAgentOf(res: Response, out: Outcome): Promise<void> {
  out.extra = res.headers.get(ECHO_USER_AGENT);
  out.body = describeBody(await readAll(res));
}

async function setCookies(res: Response, out: Outcome): Promise<void> {
  out.extra = res.headers.getSetCookie();
  out.body = describeBody(await readAll(res));
}

async function abortMidBody(res: Response, out: Outcome, env: Env): Promise<void> {
  const reader = res.body!.getReader();
  const first = await reader.read();
  out.extra = { firstChunk: first.value?.byteLength };
  controllers[controllers.length - 1]!.abort();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
    }
    out.body = 'ended';
  } catch (err) {
    out.bodyError = shapeOf(err, env.impl);
  }
}

// --- running ---------------------------------------------------------------------------

let servers: FetchServers;
let ours: Fetch;
let agent: Agent;
const results: Array<{ name: string; agreed: boolean; documented: string | null; ours: Outcome; theirs: Outcome }> = [];

beforeAll(async () => {
  servers = await startFetchServers();
  ours = createFetch({ tls: { ca: CA } });
  agent = new Agent({ allowH2: true, connect: { ca: CA } });
});

afterAll(async () => {
  await ours.close();
  await agent.close();
  await servers.close();
  const documented = results.filter((r) => r.documented !== null);
  console.log(`differential: ${results.length} cases, ${results.filter((r) => r.agreed).length} agree, ${documented.length} documented differences`);
  for (const d of documented) console.log(`  - ${d.name}: ${d.documented}`);
  // HW_FETCH_DIFF_DUMP=<file> keeps every outcome, to read what each case saw.
  const dump = process.env['HW_FETCH_DIFF_DUMP'];
  if (dump !== undefined && dump !== '') writeFileSync(dump, JSON.stringify(results, null, 1));
});

describe('fetch: differential against undici 7', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const oursOutcome = await outcomeOf(c, { s: servers, impl: 'ours', FormData, Request }, (i, init) => ours(i, init));
      const theirs = await outcomeOf(c, { s: servers, impl: 'undici', FormData: UndiciFormData as unknown as typeof FormData, Request: UndiciRequest as unknown as typeof Request }, (i, init) =>
        undiciFetch(i as Parameters<typeof undiciFetch>[0], { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>,
      );
      if (c.differs !== undefined) {
        c.differs.check(oursOutcome, theirs);
        expect(oursOutcome).not.toEqual(theirs);
        results.push({ name: c.name, agreed: false, documented: c.differs.why, ours: oursOutcome, theirs });
      } else {
        expect(oursOutcome).toEqual(theirs);
        results.push({ name: c.name, agreed: true, documented: null, ours: oursOutcome, theirs });
      }
    });
  }

  it('has at least 60 cases, every one agreeing or documented', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(results.length).toBe(cases.length);
  });
});
