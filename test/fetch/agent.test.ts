/**
 * HyperwireAgent as an undici Dispatcher: Node's global fetch (undici 6,
 * old handler API), undici 7's request() and fetch(), and undici's global
 * dispatcher, against Node's own http2 server (and an HTTP/1.1-only https
 * server), counting sessions at the server to prove one multiplexed h2
 * connection; then both handler APIs driven directly, for backpressure,
 * aborts, trailers, errors, timeouts and close()/destroy().
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as undici from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, HyperwireError, NewConnectionError, RequestAbortedError, StreamRefusedError, StreamResetError } from '../../lib/common/errors.js';
import { HyperwireAgent, type DispatchController, type DispatchHandler, type DispatchOptions } from '../../lib/fetch/agent.js';
import {
  BodyTimeoutError,
  DispatchArgumentError,
  DispatcherClosedError,
  DispatcherDestroyedError,
  DispatchNotSupportedError,
  HeadersTimeoutError,
} from '../../lib/fetch/dispatcher-errors.js';
import { patternBytes } from '../helpers/servers.js';

const cert = readFileSync(new URL('../helpers/certs/cert.pem', import.meta.url));
const key = readFileSync(new URL('../helpers/certs/key.pem', import.meta.url));
const tls = { ca: cert };

/** undici's and Node's typings want their own Dispatcher class; the agent is one structurally. */
type UndiciDispatcher = undici.Dispatcher;
const asDispatcher = (agent: HyperwireAgent): UndiciDispatcher => agent as unknown as UndiciDispatcher;
/** Init for Node's global fetch, whose typings (undici-types 6) name yet another Dispatcher class. */
const nodeInit = (dispatcher: HyperwireAgent, init: RequestInit = {}): RequestInit => ({ ...init, dispatcher }) as unknown as RequestInit;

// --- the servers ------------------------------------------------------------------

/** What the h2 server saw of one stream. */
interface SeenStream {
  path: string;
  method: string;
  alpn: string | undefined;
  session: http2.ServerHttp2Session;
  headers: http2.IncomingHttpHeaders;
  /** Settles with the RST_STREAM code the stream closed with (0: closed normally). */
  closed: Promise<number>;
}

const seen: SeenStream[] = [];
const sessions = new Set<http2.ServerHttp2Session>();
let sessionCount = 0;
/** Octets of each /big response the server has handed to its stream so far, by id. */
const bigSent = new Map<string, number>();
/** Streams parked by /gather until enough have come. */
const gathering = new Map<string, Array<() => void>>();
const refusedOnce = new Set<string>();

function respondText(stream: http2.ServerHttp2Stream, text: string, status = 200): void {
  stream.respond({ ':status': status, 'content-type': 'text/plain' });
  stream.end(text);
}

function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => resolve(Buffer.concat(parts)));
    stream.on('error', reject);
  });
}

function h2Handler(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  const url = new URL(headers[':path'] ?? '/', 'https://x');
  const method = headers[':method'] ?? '';
  const session = stream.session as http2.ServerHttp2Session;
  seen.push({
    path: url.pathname + url.search,
    method,
    alpn: session.alpnProtocol,
    session,
    headers,
    closed: new Promise((resolve) => stream.once('close', () => resolve(stream.rstCode ?? 0))),
  });
  stream.on('error', () => {});
  const q = url.searchParams;
  switch (url.pathname) {
    case '/hello':
      respondText(stream, `hello ${url.search}`);
      return;
    case '/gather': {
      // Answers only once `n` requests of the group are open at once: passes
      // only if they are multiplexed on the connection.
      const group = q.get('group')!;
      const n = Number(q.get('n'));
      const parked = gathering.get(group) ?? [];
      gathering.set(group, parked);
      parked.push(() => respondText(stream, `gathered ${q.get('i')}`));
      const fallback = setTimeout(() => {
        if (!stream.closed) respondText(stream, 'not gathered', 503);
      }, 10_000);
      stream.once('close', () => clearTimeout(fallback));
      if (parked.length === n) for (const go of parked.splice(0)) go();
      return;
    }
    case '/echo':
      void readAll(stream).then((body) => {
        // A request whose body failed is reset: nobody to answer.
        if (stream.destroyed) return;
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end(
          JSON.stringify({
            method,
            contentType: headers['content-type'] ?? null,
            contentLength: headers['content-length'] ?? null,
            length: body.length,
            sha256: createHash('sha256').update(body).digest('hex'),
            text: body.length <= 4096 ? body.toString('latin1') : null,
            custom: headers['x-custom'] ?? null,
          }),
        );
      }, () => {});
      return;
    case '/big': {
      // Writes as fast as its stream takes data, counting what it took: with
      // a reader that does not read, the count stops at the windows.
      const id = q.get('id')!;
      const size = Number(q.get('size'));
      const body = patternBytes(size, id);
      bigSent.set(id, 0);
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': String(size) });
      let offset = 0;
      const write = (): void => {
        while (offset < size) {
          const chunk = body.subarray(offset, offset + 16 * 1024);
          offset += chunk.length;
          bigSent.set(id, offset);
          if (!stream.write(chunk)) {
            stream.once('drain', write);
            return;
          }
        }
        stream.end();
      };
      write();
      return;
    }
    case '/gzip': {
      const text = q.get('text')!.repeat(Number(q.get('times') ?? '1'));
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      stream.end(gzipSync(text));
      return;
    }
    case '/hang':
      // A head and a first chunk, then nothing: the body never ends.
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.write('first chunk;');
      return;
    case '/silent':
      return;
    case '/reset-before':
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    case '/reset-mid':
      stream.respond({ ':status': 200 });
      stream.write('partial');
      // destroy() sends RST_STREAM(INTERNAL_ERROR); close(code) after data would end the stream cleanly first.
      setTimeout(() => stream.destroy(new Error('reset mid-body')), 30);
      return;
    case '/kill-session':
      session.destroy();
      return;
    case '/refuse-once': {
      const id = q.get('id')!;
      if (!refusedOnce.has(id)) {
        refusedOnce.add(id);
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      void readAll(stream).then((body) => respondText(stream, `second try: ${body.toString()}`));
      return;
    }
    case '/trailers':
      stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc123', 'x-count': '2' }));
      stream.end('body with trailers');
      return;
    case '/delay':
      setTimeout(() => {
        if (!stream.closed) respondText(stream, `delayed ${q.get('ms')}`);
      }, Number(q.get('ms')));
      return;
    case '/redirect':
      stream.respond({ ':status': 302, location: '/hello?redirected' });
      stream.end();
      return;
    case '/headers': {
      stream.respond({ ':status': 200, 'set-cookie': ['a=1', 'b=2'], 'x-one': 'single' });
      stream.end('ok');
      return;
    }
    default:
      respondText(stream, 'not found', 404);
  }
}

let h2server: http2.Http2SecureServer;
let h2port = 0;
const h2url = (path: string): string => `https://127.0.0.1:${h2port}${path}`;
const h2origin = (): string => `https://127.0.0.1:${h2port}`;

/** An https server that offers only http/1.1 by ALPN. */
let h1server: https.Server;
let h1port = 0;
const h1sockets = new Set<Socket>();
let h1connections = 0;
const h1url = (path: string): string => `https://127.0.0.1:${h1port}${path}`;

beforeAll(async () => {
  h2server = http2.createSecureServer({ key, cert });
  h2server.on('session', (s) => {
    sessions.add(s);
    sessionCount++;
    s.on('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  h2server.on('stream', h2Handler);
  await new Promise<void>((resolve) => h2server.listen(0, '127.0.0.1', resolve));
  h2port = (h2server.address() as AddressInfo).port;

  h1server = https.createServer({ key, cert, ALPNProtocols: ['http/1.1'] }, (req, res) => {
    if (req.url === '/hang') {
      // A head and a first chunk of a body that never ends.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('h1 first chunk;');
      return;
    }
    void readAll(req).then((body) => {
      if (req.url?.startsWith('/gzip')) {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
        res.end(gzipSync('h1 gzip text'));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          httpVersion: req.httpVersion,
          alpn: (req.socket as unknown as { alpnProtocol?: string | false }).alpnProtocol,
          method: req.method,
          url: req.url,
          length: body.length,
          text: body.toString('latin1'),
          transferEncoding: req.headers['transfer-encoding'] ?? null,
        }),
      );
    });
  });
  h1server.on('secureConnection', (s: Socket) => {
    h1connections++;
    h1sockets.add(s);
    s.on('close', () => h1sockets.delete(s));
  });
  await new Promise<void>((resolve) => h1server.listen(0, '127.0.0.1', resolve));
  h1port = (h1server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of sessions) s.destroy();
  for (const s of h1sockets) s.destroy();
  await Promise.all([new Promise((r) => h2server.close(r)), new Promise((r) => h1server.close(r))]);
});

/** Agents made by a test, destroyed after it whatever happened. */
const agents: HyperwireAgent[] = [];
function newAgent(options: ConstructorParameters<typeof HyperwireAgent>[0] = {}): HyperwireAgent {
  const agent = new HyperwireAgent({ tls, ...options });
  agents.push(agent);
  return agent;
}
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => (a.destroyed ? undefined : a.destroy())));
});

/** The streams the server saw on paths starting with `prefix`. */
function streamsOn(prefix: string): SeenStream[] {
  return seen.filter((s) => s.path.startsWith(prefix));
}

/** Sessions opened while `fn` ran. */
async function countingSessions<T>(fn: () => Promise<T>): Promise<{ result: T; sessions: number }> {
  const before = sessionCount;
  const result = await fn();
  return { result, sessions: sessionCount - before };
}

let groupSeq = 0;
/** 50 concurrent calls that the server answers only once all 50 are open; returns the bodies in order. */
async function fifty(call: (url: string) => Promise<{ status: number; text: string }>): Promise<{ sessions: number; group: string }> {
  const group = `g${++groupSeq}`;
  const { result, sessions: opened } = await countingSessions(() =>
    Promise.all(Array.from({ length: 50 }, (_, i) => call(h2url(`/gather?group=${group}&n=50&i=${i}`)))),
  );
  expect(result.map((r) => r.status)).toEqual(Array(50).fill(200));
  expect(result.map((r) => r.text)).toEqual(Array.from({ length: 50 }, (_, i) => `gathered ${i}`));
  const streams = streamsOn(`/gather?group=${group}&`);
  expect(streams).toHaveLength(50);
  expect(new Set(streams.map((s) => s.alpn))).toEqual(new Set(['h2']));
  expect(new Set(streams.map((s) => s.session)).size).toBe(1);
  return { sessions: opened, group };
}

/** Records everything a handler of the old API is told. */
function legacyRecorder(options: { pauseAfter?: number } = {}) {
  const events: string[] = [];
  const chunks: Buffer[] = [];
  let abort: ((reason?: Error) => void) | null = null;
  let resume: (() => void) | null = null;
  let status = 0;
  let rawHeaders: Buffer[] = [];
  let rawTrailers: Buffer[] | null = null;
  let resolveDone!: (v: { error: Error | null }) => void;
  const done = new Promise<{ error: Error | null }>((r) => (resolveDone = r));
  const handler: DispatchHandler = {
    onConnect(a) {
      events.push('connect');
      abort = a;
    },
    onResponseStarted() {
      events.push('responseStarted');
    },
    onHeaders(statusCode, headers, resumeFn) {
      events.push('headers');
      status = statusCode;
      rawHeaders = headers;
      resume = resumeFn;
      return true;
    },
    onData(chunk) {
      chunks.push(chunk);
      if (!events.includes('data')) events.push('data');
      return options.pauseAfter === undefined || chunks.length < options.pauseAfter;
    },
    onComplete(trailers) {
      events.push('complete');
      rawTrailers = trailers;
      resolveDone({ error: null });
    },
    onError(err) {
      events.push('error');
      resolveDone({ error: err });
    },
  };
  return {
    handler,
    events,
    chunks,
    done,
    get abort() {
      return abort!;
    },
    get resume() {
      return resume!;
    },
    get status() {
      return status;
    },
    get rawHeaders() {
      return rawHeaders;
    },
    get rawTrailers() {
      return rawTrailers;
    },
  };
}

/** Records everything a handler of the new API is told. */
function controllerRecorder() {
  const events: string[] = [];
  const chunks: Buffer[] = [];
  let controller: DispatchController | null = null;
  let status = 0;
  let headers: Record<string, string | string[]> = {};
  let trailers: Record<string, string | string[]> | null = null;
  let resolveDone!: (v: { error: Error | null }) => void;
  const done = new Promise<{ error: Error | null }>((r) => (resolveDone = r));
  const recorder = {
    events,
    chunks,
    done,
    /** Called with each chunk; may pause. */
    onChunk: (_c: DispatchController, _chunk: Buffer): void => {},
    get controller() {
      return controller!;
    },
    get status() {
      return status;
    },
    get headers() {
      return headers;
    },
    get trailers() {
      return trailers;
    },
    handler: {
      onRequestStart(c) {
        events.push('start');
        controller = c;
      },
      onResponseStart(c, statusCode, h) {
        events.push('responseStart');
        status = statusCode;
        headers = h;
      },
      onResponseData(c, chunk) {
        chunks.push(chunk);
        if (!events.includes('data')) events.push('data');
        recorder.onChunk(c, chunk);
      },
      onResponseEnd(_c, t) {
        events.push('end');
        trailers = t;
        resolveDone({ error: null });
      },
      onResponseError(_c, err) {
        events.push('error');
        resolveDone({ error: err });
      },
    } satisfies DispatchHandler,
  };
  return recorder;
}

function dispatchOpts(path: string, extra: Partial<DispatchOptions> = {}): DispatchOptions {
  return { origin: h2origin(), path, method: 'GET', ...extra };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `probe` holds (or fails the test after `ms`). */
async function until(probe: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

/** Waits until the server's count of /big octets for `id` has not moved for `quietMs`; returns it. */
async function settledSent(id: string, quietMs = 250): Promise<number> {
  let last = -1;
  for (;;) {
    const now = bigSent.get(id) ?? 0;
    if (now === last) return now;
    last = now;
    await sleep(quietMs);
  }
}

// --- fifty concurrent calls, one h2 connection -------------------------------------------

describe('50 concurrent calls share one HTTP/2 connection', () => {
  it("through Node's global fetch (undici 6, old handler API)", async () => {
    const agent = newAgent();
    const { sessions: opened } = await fifty(async (url) => {
      const r = await fetch(url, nodeInit(agent));
      return { status: r.status, text: await r.text() };
    });
    expect(opened).toBe(1);
  });

  it('through undici.request', async () => {
    const agent = newAgent();
    const { sessions: opened } = await fifty(async (url) => {
      const r = await undici.request(url, { dispatcher: asDispatcher(agent) });
      return { status: r.statusCode, text: await r.body.text() };
    });
    expect(opened).toBe(1);
  });

  it('through undici.fetch', async () => {
    const agent = newAgent();
    const { sessions: opened } = await fifty(async (url) => {
      const r = await undici.fetch(url, { dispatcher: asDispatcher(agent) });
      return { status: r.status, text: await r.text() };
    });
    expect(opened).toBe(1);
  });

  it("through undici's global dispatcher: undici.fetch, undici.request and Node's fetch with no dispatcher option", async () => {
    const agent = newAgent();
    const previous = undici.getGlobalDispatcher();
    undici.setGlobalDispatcher(asDispatcher(agent));
    try {
      const { sessions: opened } = await fifty(async (url) => {
        const i = Number(new URL(url).searchParams.get('i'));
        if (i % 3 === 0) {
          const r = await undici.fetch(url);
          return { status: r.status, text: await r.text() };
        }
        if (i % 3 === 1) {
          const r = await undici.request(url);
          return { status: r.statusCode, text: await r.body.text() };
        }
        // Node's own fetch reads the same global (Symbol.for('undici.globalDispatcher.1')).
        const r = await fetch(url);
        return { status: r.status, text: await r.text() };
      });
      expect(opened).toBe(1);
    } finally {
      undici.setGlobalDispatcher(previous);
    }
    expect(undici.getGlobalDispatcher()).toBe(previous);
  });

  it("emits 'connect' once for the connection, and 'disconnect' when it closes", async () => {
    const agent = newAgent();
    const connects: Array<{ origin: string; targets: unknown[] }> = [];
    const disconnects: string[] = [];
    agent.on('connect', (origin: URL, targets: unknown[]) => connects.push({ origin: origin.origin, targets }));
    agent.on('disconnect', (origin: URL, _targets: unknown[], err: Error) => disconnects.push(`${origin.origin} ${err instanceof ConnectionError}`));
    await Promise.all(Array.from({ length: 10 }, () => undici.request(h2url('/hello?ev'), { dispatcher: asDispatcher(agent) }).then((r) => r.body.text())));
    expect(connects).toEqual([{ origin: h2origin(), targets: [agent] }]);
    await agent.close();
    expect(disconnects).toEqual([`${h2origin()} true`]);
  });
});

// --- request bodies -----------------------------------------------------------------

describe('request bodies', () => {
  type Echo = { method: string; contentType: string | null; contentLength: string | null; length: number; sha256: string; text: string | null; custom: string | null };
  const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

  async function echoRequest(agent: HyperwireAgent, body: undici.Dispatcher.DispatchOptions['body'] | AsyncIterable<Uint8Array>, headers?: Record<string, string>): Promise<Echo> {
    const r = await undici.request(h2url('/echo'), { method: 'POST', body: body as undici.Dispatcher.DispatchOptions['body'], headers, dispatcher: asDispatcher(agent) });
    expect(r.statusCode).toBe(200);
    return (await r.body.json()) as Echo;
  }

  it('undici.request sends a string, a Buffer, a Uint8Array, a Readable, an async iterable and no body', async () => {
    const agent = newAgent();
    const big = patternBytes(300_000, 'post-body');

    const s = await echoRequest(agent, 'hé llo', { 'x-custom': 'yes' });
    expect(s).toMatchObject({ method: 'POST', text: Buffer.from('hé llo').toString('latin1'), contentLength: '7', custom: 'yes' });

    const b = await echoRequest(agent, big);
    expect(b).toMatchObject({ length: big.length, sha256: sha(big), contentLength: String(big.length) });

    const u = await echoRequest(agent, new Uint8Array([1, 2, 3, 250]));
    expect(u).toMatchObject({ length: 4, text: '\x01\x02\x03\xfa' });

    const readable = Readable.from([big.subarray(0, 100_000), big.subarray(100_000)], { objectMode: false });
    const r = await echoRequest(agent, readable);
    expect(r).toMatchObject({ length: big.length, sha256: sha(big), contentLength: null });

    async function* gen(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('one,');
      await sleep(5);
      yield Buffer.from('two');
    }
    const g = await echoRequest(agent, gen());
    expect(g).toMatchObject({ length: 7, text: 'one,two' });

    const none = await echoRequest(agent, null);
    expect(none).toMatchObject({ length: 0, method: 'POST' });
  });

  it("Node's fetch and undici.fetch send strings, bytes, Blobs, FormData, URLSearchParams and ReadableStreams", async () => {
    const agent = newAgent();
    const dispatcher = asDispatcher(agent);
    // Each fetch knows only its own realm's FormData.
    const fetches = [
      { doFetch: fetch as unknown as typeof undici.fetch, Form: FormData as unknown as typeof undici.FormData },
      { doFetch: undici.fetch, Form: undici.FormData },
    ];
    for (const { doFetch, Form } of fetches) {
      const post = async (body: unknown, extra: Record<string, unknown> = {}): Promise<Echo> => {
        const r = await doFetch(h2url('/echo'), { method: 'POST', body: body as string, dispatcher, ...extra } as undici.RequestInit);
        expect(r.status).toBe(200);
        return (await r.json()) as Echo;
      };
      expect(await post('text body')).toMatchObject({ text: 'text body', contentType: 'text/plain;charset=UTF-8', contentLength: '9' });
      expect(await post(new Uint8Array([0, 255]))).toMatchObject({ length: 2, text: '\x00\xff' });
      expect(await post(new Blob(['blob data'], { type: 'application/x-test' }))).toMatchObject({ text: 'blob data', contentType: 'application/x-test' });
      const form = new Form();
      form.append('field', 'value');
      const f = await post(form);
      expect(f.contentType).toMatch(/^multipart\/form-data; boundary=/);
      expect(f.text).toContain('name="field"');
      expect(f.text).toContain('value');
      expect(await post(new URLSearchParams({ a: '1', b: 'x y' }))).toMatchObject({ text: 'a=1&b=x+y', contentType: 'application/x-www-form-urlencoded;charset=UTF-8' });
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('streamed '));
          c.enqueue(new TextEncoder().encode('body'));
          c.close();
        },
      });
      expect(await post(stream, { duplex: 'half' })).toMatchObject({ text: 'streamed body', contentLength: null });
    }
    expect(streamsOn('/echo').every((s) => s.alpn === 'h2')).toBe(true);
  });

  it('dispatch takes an ArrayBuffer, a sync iterable of chunks, a Blob, FormData and URLSearchParams, with their content types', async () => {
    const agent = newAgent();
    const post = async (body: unknown, headers?: DispatchOptions['headers']): Promise<Echo> => {
      const rec = legacyRecorder();
      expect(agent.dispatch(dispatchOpts('/echo', { method: 'POST', body: body as DispatchOptions['body'], headers }), rec.handler)).toBe(true);
      const { error } = await rec.done;
      expect(error).toBeNull();
      return JSON.parse(Buffer.concat(rec.chunks).toString()) as Echo;
    };
    expect(await post(new Uint8Array([5, 6, 7]).buffer)).toMatchObject({ text: '\x05\x06\x07' });
    expect(await post([Buffer.from('a'), 'b', new Uint8Array([0x63])])).toMatchObject({ text: 'abc' });
    expect(await post(new Blob(['blob!'], { type: 'text/x-blob' }))).toMatchObject({ text: 'blob!', contentType: 'text/x-blob' });
    const form = new FormData();
    form.append('k', 'v');
    const f = await post(form);
    expect(f.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(f.text).toContain('name="k"');
    expect(await post(new URLSearchParams({ q: 'a b' }))).toMatchObject({ text: 'q=a+b', contentType: 'application/x-www-form-urlencoded;charset=UTF-8' });
    // Headers as a flat array, with a repeated name and an array value.
    expect(await post('x', ['x-custom', 'flat', 'content-type', 'text/x-flat'])).toMatchObject({ custom: 'flat', contentType: 'text/x-flat' });
    expect(await post('y', new Map([['x-custom', 'from map']]))).toMatchObject({ custom: 'from map' });
  });

  it('sends a POST again after REFUSED_STREAM (the server cannot have seen it), and not with retries: 0', async () => {
    const agent = newAgent();
    const r = await undici.request(h2url('/refuse-once?id=a'), { method: 'POST', body: 'payload', dispatcher: asDispatcher(agent) });
    expect(await r.body.text()).toBe('second try: payload');
    expect(streamsOn('/refuse-once?id=a')).toHaveLength(2);

    const strict = newAgent({ retries: 0 });
    const err = await undici.request(h2url('/refuse-once?id=b'), { method: 'POST', body: 'payload', dispatcher: asDispatcher(strict) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamRefusedError);
    expect(streamsOn('/refuse-once?id=b')).toHaveLength(1);
  });
});

// --- response bodies: backpressure, content coding, trailers --------------------------------

describe('response bodies', () => {
  const SIZE = 8 * 1024 * 1024;
  /** A small stream window, so that an unread body holds the server back early. */
  const smallWindow = { http2Options: { initialWindowSize: 256 * 1024 } };

  it('old API: onData returning false stops reading (the server stalls at the window) until resume()', async () => {
    const agent = newAgent(smallWindow);
    const rec = legacyRecorder({ pauseAfter: 1 });
    agent.dispatch(dispatchOpts('/big?id=legacy&size=' + SIZE), rec.handler);
    await until(() => rec.chunks.length === 1);
    const stalled = await settledSent('legacy');
    // Nothing more reached the handler while it was paused...
    await sleep(200);
    expect(rec.chunks).toHaveLength(1);
    // ...and the server could not send more than the windows and buffers allow.
    expect(stalled).toBeLessThan(1024 * 1024);
    expect(bigSent.get('legacy')).toBe(stalled);
    // Resumed (and never paused again), the rest arrives, whole and in order.
    const resume = rec.resume;
    rec.handler.onData = (chunk: Buffer) => {
      rec.chunks.push(chunk);
      return true;
    };
    resume();
    const { error } = await rec.done;
    expect(error).toBeNull();
    expect(Buffer.concat(rec.chunks).equals(patternBytes(SIZE, 'legacy'))).toBe(true);
    expect(rec.events).toEqual(['connect', 'responseStarted', 'headers', 'data', 'complete']);
  });

  it('new API: controller.pause() holds the body and resume() lets it go on', async () => {
    const agent = newAgent(smallWindow);
    const rec = controllerRecorder();
    let paused = false;
    rec.onChunk = (c) => {
      if (!paused) {
        paused = true;
        c.pause();
      }
    };
    agent.dispatch(dispatchOpts('/big?id=ctrl&size=' + SIZE), rec.handler);
    await until(() => rec.chunks.length === 1);
    const stalled = await settledSent('ctrl');
    expect(rec.controller.paused).toBe(true);
    expect(rec.chunks).toHaveLength(1);
    expect(stalled).toBeLessThan(1024 * 1024);
    rec.controller.resume();
    const { error } = await rec.done;
    expect(error).toBeNull();
    expect(Buffer.concat(rec.chunks).equals(patternBytes(SIZE, 'ctrl'))).toBe(true);
    expect(rec.events).toEqual(['start', 'responseStart', 'data', 'end']);
  });

  it("Node's fetch: a slow reader holds the server back, and the body arrives whole and in order", async () => {
    const agent = newAgent(smallWindow);
    const res = await fetch(h2url('/big?id=fetch&size=' + SIZE), nodeInit(agent));
    const reader = res.body!.getReader();
    const parts: Uint8Array[] = [];
    const first = await reader.read();
    parts.push(first.value!);
    const stalled = await settledSent('fetch');
    expect(stalled).toBeLessThan(2 * 1024 * 1024);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    expect(Buffer.concat(parts).equals(patternBytes(SIZE, 'fetch'))).toBe(true);
    expect(bigSent.get('fetch')).toBe(SIZE);
  });

  it('undici.request: an unread body stream holds the server back; read, it is whole', async () => {
    const agent = newAgent(smallWindow);
    const { body } = await undici.request(h2url('/big?id=request&size=' + SIZE), { dispatcher: asDispatcher(agent) });
    const stalled = await settledSent('request');
    expect(stalled).toBeLessThan(2 * 1024 * 1024);
    const all = Buffer.from(await body.arrayBuffer());
    expect(all.equals(patternBytes(SIZE, 'request'))).toBe(true);
  });

  it('gzip bodies are decoded by fetch exactly once; request() and dispatch hand over the encoded octets', async () => {
    const agent = newAgent();
    const dispatcher = asDispatcher(agent);
    const text = 'compressible text '.repeat(500);
    const path = `/gzip?text=${encodeURIComponent('compressible text ')}&times=500`;
    expect(await (await fetch(h2url(path), nodeInit(agent))).text()).toBe(text);
    expect(await (await undici.fetch(h2url(path), { dispatcher })).text()).toBe(text);
    const r = await undici.request(h2url(path), { dispatcher });
    expect(r.headers['content-encoding']).toBe('gzip');
    const raw = Buffer.from(await r.body.arrayBuffer());
    expect(raw.length).toBeLessThan(text.length);
    expect(gunzipSync(raw).toString()).toBe(text);
    // Over HTTP/1.1 too.
    expect(await (await fetch(h1url('/gzip'), nodeInit(agent))).text()).toBe('h1 gzip text');
  });

  it('trailers reach onComplete (raw) and onResponseEnd (a record), and undici.request fills data.trailers', async () => {
    const agent = newAgent();
    const legacy = legacyRecorder();
    agent.dispatch(dispatchOpts('/trailers'), legacy.handler);
    expect((await legacy.done).error).toBeNull();
    expect(Buffer.concat(legacy.chunks).toString()).toBe('body with trailers');
    expect(legacy.rawTrailers!.map((b) => b.toString())).toEqual(['x-checksum', 'abc123', 'x-count', '2']);

    const modern = controllerRecorder();
    agent.dispatch(dispatchOpts('/trailers'), modern.handler);
    expect((await modern.done).error).toBeNull();
    expect(modern.trailers).toEqual({ 'x-checksum': 'abc123', 'x-count': '2' });
    expect(modern.controller.rawTrailers!.map((b) => b.toString())).toEqual(['x-checksum', 'abc123', 'x-count', '2']);

    const r = await undici.request(h2url('/trailers'), { dispatcher: asDispatcher(agent) });
    expect(await r.body.text()).toBe('body with trailers');
    expect(r.trailers).toEqual({ 'x-checksum': 'abc123', 'x-count': '2' });
  });

  it('headers: raw pairs for the old API, a record with repeated names as arrays for the new one', async () => {
    const agent = newAgent();
    const legacy = legacyRecorder();
    agent.dispatch(dispatchOpts('/headers'), legacy.handler);
    await legacy.done;
    const pairs = legacy.rawHeaders.map((b) => b.toString());
    expect(pairs).toEqual(expect.arrayContaining(['set-cookie', 'a=1', 'b=2', 'x-one', 'single']));
    expect(legacy.rawHeaders.every((b) => Buffer.isBuffer(b))).toBe(true);
    expect(legacy.status).toBe(200);

    const modern = controllerRecorder();
    agent.dispatch(dispatchOpts('/headers'), modern.handler);
    await modern.done;
    expect(modern.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(modern.headers['x-one']).toBe('single');
  });
});

// --- aborts and errors ---------------------------------------------------------------

describe('aborts and errors', () => {
  it("fetch aborted mid-response: the read rejects with AbortError and the server sees the stream reset (CANCEL)", async () => {
    const agent = newAgent();
    const ac = new AbortController();
    const res = await fetch(h2url('/hang?fetch-abort'), nodeInit(agent, { signal: ac.signal }));
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('first chunk;');
    ac.abort();
    const err = await reader.read().catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    const [stream] = streamsOn('/hang?fetch-abort');
    expect(await stream!.closed).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it('fetch aborted before the response head rejects with AbortError, and the stream is reset', async () => {
    const agent = newAgent();
    const ac = new AbortController();
    const pending = undici.fetch(h2url('/silent?abort-early'), { dispatcher: asDispatcher(agent), signal: ac.signal });
    await until(() => streamsOn('/silent?abort-early').length === 1);
    ac.abort();
    const err = await pending.catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(await streamsOn('/silent?abort-early')[0]!.closed).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it('undici.request with a signal: aborting rejects and resets the stream', async () => {
    const agent = newAgent();
    const ac = new AbortController();
    const pending = undici.request(h2url('/silent?request-abort'), { dispatcher: asDispatcher(agent), signal: ac.signal });
    await until(() => streamsOn('/silent?request-abort').length === 1);
    ac.abort(new Error('changed my mind'));
    await expect(pending).rejects.toThrow('changed my mind');
    expect(await streamsOn('/silent?request-abort')[0]!.closed).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it('controller.abort(reason) mid-body fails the handler with the reason and resets the stream', async () => {
    const agent = newAgent();
    const rec = controllerRecorder();
    const reason = new Error('enough');
    rec.onChunk = (c) => c.abort(reason);
    agent.dispatch(dispatchOpts('/hang?ctrl-abort'), rec.handler);
    const { error } = await rec.done;
    expect(error).toBe(reason);
    expect(rec.controller.aborted).toBe(true);
    expect(rec.controller.reason).toBe(reason);
    expect(rec.events).toEqual(['start', 'responseStart', 'data', 'error']);
    expect(await streamsOn('/hang?ctrl-abort')[0]!.closed).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it('abort() with no reason gives a RequestAbortedError (name AbortError); aborting inside onConnect sends nothing', async () => {
    const agent = newAgent();
    const rec = legacyRecorder();
    rec.handler.onConnect = (abort) => abort();
    agent.dispatch(dispatchOpts('/hello?never-sent'), rec.handler);
    const { error } = await rec.done;
    expect(error).toBeInstanceOf(RequestAbortedError);
    expect(error!.name).toBe('AbortError');
    await sleep(50);
    expect(streamsOn('/hello?never-sent')).toHaveLength(0);
  });

  it('a stream reset by the server: fetch rejects with a TypeError whose cause is the StreamResetError', async () => {
    const agent = newAgent();
    const err = await fetch(h2url('/reset-before'), nodeInit(agent)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    const cause = (err as Error).cause;
    expect(cause).toBeInstanceOf(StreamResetError);
    expect((cause as StreamResetError).errorCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);

    // Reset mid-body: the response came, reading it fails.
    const res = await fetch(h2url('/reset-mid'), nodeInit(agent));
    const bodyErr = await res.text().catch((e: unknown) => e);
    expect(bodyErr).toBeInstanceOf(TypeError);
    expect((bodyErr as Error).cause).toBeInstanceOf(StreamResetError);
  });

  it('a connection the server drops: fetch rejects with a TypeError whose cause is a hyperwire error', async () => {
    const agent = newAgent();
    const err = await undici.fetch(h2url('/kill-session'), { dispatcher: asDispatcher(agent) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).cause).toBeInstanceOf(HyperwireError);
    // The agent goes on with a new connection.
    const ok = await undici.fetch(h2url('/hello?after-kill'), { dispatcher: asDispatcher(agent) });
    expect(await ok.text()).toBe('hello ?after-kill');
  });

  it("a connection that cannot be made is tried 1 + retries times; fetch's cause is the NewConnectionError, and 'connectionError' is emitted", async () => {
    // Accepts TCP and drops it before TLS: a connect failure every time.
    let accepted = 0;
    const dropper = net.createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    const port = (dropper.address() as AddressInfo).port;
    try {
      const agent = newAgent();
      const errors: unknown[] = [];
      agent.on('connectionError', (origin: URL, _targets: unknown, err: unknown) => errors.push([origin.origin, err]));
      const err = await fetch(`https://127.0.0.1:${port}/`, nodeInit(agent)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TypeError);
      expect((err as Error).cause).toBeInstanceOf(NewConnectionError);
      expect(accepted).toBe(3);
      expect(errors).toHaveLength(3);
      expect(errors[0]).toEqual([`https://127.0.0.1:${port}`, expect.any(NewConnectionError)]);

      const once = newAgent({ retries: 0 });
      await expect(undici.request(`https://127.0.0.1:${port}/`, { dispatcher: asDispatcher(once) })).rejects.toBeInstanceOf(NewConnectionError);
      expect(accepted).toBe(4);
    } finally {
      await new Promise((r) => dropper.close(r));
    }
  });

  it('a request body stream that fails fails the request with its error as the cause, and resets the stream', async () => {
    const agent = newAgent();
    const body = new Readable({ read() {} });
    body.push('first part');
    const failure = new Error('source broke');
    setTimeout(() => body.destroy(failure), 50);
    const err = await undici.request(h2url('/echo?failing-body'), { method: 'POST', body, dispatcher: asDispatcher(agent) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HyperwireError);
    expect((err as Error).cause).toBe(failure);
    expect(await streamsOn('/echo?failing-body')[0]!.closed).not.toBe(0);
  });

  it('a handler that throws in onHeaders hears of its own error, and the stream is reset', async () => {
    const agent = newAgent();
    const rec = legacyRecorder();
    const boom = new Error('handler bug');
    rec.handler.onHeaders = () => {
      throw boom;
    };
    agent.dispatch(dispatchOpts('/hang?throws'), rec.handler);
    expect((await rec.done).error).toBe(boom);
    expect(await streamsOn('/hang?throws')[0]!.closed).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it('headersTimeout and bodyTimeout fail the request with their errors and reset the stream', async () => {
    const agent = newAgent();
    const head = legacyRecorder();
    agent.dispatch(dispatchOpts('/silent?head-timeout', { headersTimeout: 150 }), head.handler);
    expect((await head.done).error).toBeInstanceOf(HeadersTimeoutError);
    expect(await streamsOn('/silent?head-timeout')[0]!.closed).toBe(http2.constants.NGHTTP2_CANCEL);

    const body = legacyRecorder();
    agent.dispatch(dispatchOpts('/hang?body-timeout', { bodyTimeout: 150 }), body.handler);
    const { error } = await body.done;
    expect(error).toBeInstanceOf(BodyTimeoutError);
    expect(Buffer.concat(body.chunks).toString()).toBe('first chunk;');
    expect(await streamsOn('/hang?body-timeout')[0]!.closed).toBe(http2.constants.NGHTTP2_CANCEL);

    // The agent's own default applies to dispatches that give none.
    const quick = newAgent({ headersTimeout: 100 });
    const rec = legacyRecorder();
    quick.dispatch(dispatchOpts('/silent?agent-timeout'), rec.handler);
    expect((await rec.done).error).toBeInstanceOf(HeadersTimeoutError);
  });

  it('a paused body does not time out: bodyTimeout counts only while the handler reads', async () => {
    const agent = newAgent({ http2Options: { initialWindowSize: 65_535 } });
    const rec = legacyRecorder({ pauseAfter: 1 });
    agent.dispatch(dispatchOpts('/big?id=paused-timeout&size=1000000', { bodyTimeout: 100 }), rec.handler);
    await until(() => rec.chunks.length === 1);
    await sleep(300);
    expect(rec.events).not.toContain('error');
    rec.handler.onData = (chunk: Buffer) => {
      rec.chunks.push(chunk);
      return true;
    };
    rec.resume();
    expect((await rec.done).error).toBeNull();
    expect(Buffer.concat(rec.chunks).length).toBe(1_000_000);
  });
});

// --- options the Dispatcher contract has ------------------------------------------------

describe('dispatch options', () => {
  it('refuses upgrades, CONNECT and maxRedirections with DispatchNotSupportedError, through the handler, returning false', async () => {
    const agent = newAgent();
    for (const extra of [{ upgrade: 'websocket' }, { method: 'CONNECT' }, { maxRedirections: 3 }] as Array<Partial<DispatchOptions>>) {
      const rec = legacyRecorder();
      expect(agent.dispatch(dispatchOpts('/hello?unsupported', extra), rec.handler)).toBe(false);
      expect((await rec.done).error).toBeInstanceOf(DispatchNotSupportedError);
      expect(rec.events).toEqual(['error']);
    }
    // maxRedirections: 0 is what fetch passes: fine.
    const rec = legacyRecorder();
    expect(agent.dispatch(dispatchOpts('/hello?zero', { maxRedirections: 0 }), rec.handler)).toBe(true);
    expect((await rec.done).error).toBeNull();
    // undici.request with a websocket upgrade is refused too.
    await expect(undici.request(h2url('/hello'), { dispatcher: asDispatcher(agent), upgrade: 'websocket' } as unknown as Parameters<typeof undici.request>[1])).rejects.toBeInstanceOf(
      DispatchNotSupportedError,
    );
    await sleep(30);
    expect(streamsOn('/hello?unsupported')).toHaveLength(0);
  });

  it('refuses bad options with DispatchArgumentError, and a handler it cannot report to by throwing', () => {
    const agent = newAgent();
    const bad: unknown[] = [
      { path: '/x', method: 'GET' }, // no origin
      { origin: h2origin(), path: 'x', method: 'GET' },
      { origin: h2origin(), path: '/a b', method: 'GET' },
      { origin: 'ftp://x', path: '/', method: 'GET' },
      { origin: h2origin(), path: '/', method: 'GET', headers: ['odd'] },
      { origin: h2origin(), path: '/', method: 'GET', headers: { a: { no: 1 } } },
      { origin: h2origin(), path: '/', method: 'GET', headersTimeout: -1 },
      { origin: h2origin(), path: '/?q', method: 'GET', query: { a: 1 } },
      { origin: h2origin(), path: '/', method: 'POST', body: 42 },
      null,
    ];
    for (const opts of bad) {
      let error: unknown = null;
      const ok = agent.dispatch(opts as DispatchOptions, {
        onConnect() {},
        onHeaders: () => true,
        onData: () => true,
        onComplete() {},
        onError(e) {
          error = e;
        },
      });
      expect(ok).toBe(false);
      expect(error).toBeInstanceOf(DispatchArgumentError);
    }
    expect(() => agent.dispatch(dispatchOpts('/'), null as unknown as DispatchHandler)).toThrow(DispatchArgumentError);
    expect(() => agent.dispatch(dispatchOpts('/'), { onRequestStart() {} })).toThrow(DispatchArgumentError);
    // An old-API handler without onHeaders is told through its onError.
    let told: unknown = null;
    expect(agent.dispatch(dispatchOpts('/'), { onConnect() {}, onError: (e) => (told = e) })).toBe(false);
    expect(told).toBeInstanceOf(DispatchArgumentError);
  });

  it('query is appended to the path; reset: true asks an HTTP/1.1 server to close', async () => {
    const agent = newAgent();
    const rec = legacyRecorder();
    agent.dispatch(dispatchOpts('/hello', { query: { a: 1, b: ['x', 'y z'] } }), rec.handler);
    await rec.done;
    expect(Buffer.concat(rec.chunks).toString()).toBe('hello ?a=1&b=x&b=y%20z');

    const before = h1connections;
    for (let i = 0; i < 2; i++) {
      const r = await undici.request(h1url('/reset'), { dispatcher: asDispatcher(agent), reset: true });
      expect(((await r.body.json()) as { httpVersion: string }).httpVersion).toBe('1.1');
    }
    expect(h1connections - before).toBe(2);
  });

  it('compose() runs undici interceptors: undici.request follows a redirect through interceptors.redirect', async () => {
    const agent = newAgent();
    const composed = agent.compose(undici.interceptors.redirect({ maxRedirections: 2 }) as unknown as Parameters<HyperwireAgent['compose']>[0]);
    const r = await undici.request(h2url('/redirect'), { dispatcher: asDispatcher(composed) });
    expect(r.statusCode).toBe(200);
    expect(await r.body.text()).toBe('hello ?redirected');
    // Node's fetch (old handler API) through the same composed dispatcher.
    const f = await fetch(h2url('/hello?composed'), nodeInit(composed));
    expect(await f.text()).toBe('hello ?composed');
    // Without the interceptor the 302 is handed over as it is.
    const plain = await undici.request(h2url('/redirect'), { dispatcher: asDispatcher(agent) });
    expect(plain.statusCode).toBe(302);
    await plain.body.dump();
  });

  it('connect: { ca } is taken as the TLS options', async () => {
    const agent = new HyperwireAgent({ connect: { ca: cert, timeout: 5_000 } });
    agents.push(agent);
    const r = await undici.request(h2url('/hello?connect-opts'), { dispatcher: asDispatcher(agent) });
    expect(await r.body.text()).toBe('hello ?connect-opts');
    // Without the CA the certificate is refused, and the error is a typed one.
    const untrusting = newAgent({ tls: {} });
    const err = await undici.request(h2url('/hello'), { dispatcher: asDispatcher(untrusting) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HyperwireError);
  });
});

// --- HTTP/1.1 --------------------------------------------------------------------

describe('an HTTP/1.1-only https server', () => {
  type H1Echo = { httpVersion: string; alpn: string; method: string; url: string; length: number; text: string; transferEncoding: string | null };

  it("works through Node's fetch, undici.fetch and undici.request, with bodies", async () => {
    const agent = newAgent();
    const dispatcher = asDispatcher(agent);
    const a = (await (await fetch(h1url('/one'), nodeInit(agent))).json()) as H1Echo;
    expect(a).toMatchObject({ httpVersion: '1.1', alpn: 'http/1.1', method: 'GET', url: '/one' });
    const b = (await (await undici.fetch(h1url('/two'), { method: 'POST', body: 'fetch body', dispatcher })).json()) as H1Echo;
    expect(b).toMatchObject({ httpVersion: '1.1', method: 'POST', text: 'fetch body' });
    const c = await undici.request(h1url('/three'), { method: 'PUT', body: Readable.from([Buffer.from('str'), Buffer.from('eam')]), dispatcher });
    expect((await c.body.json()) as H1Echo).toMatchObject({ httpVersion: '1.1', method: 'PUT', text: 'stream', transferEncoding: 'chunked' });
    // Concurrent calls each get a connection of their own, and all succeed.
    const many = await Promise.all(Array.from({ length: 10 }, (_, i) => undici.request(h1url(`/many${i}`), { dispatcher }).then((r) => r.body.json())));
    expect((many as H1Echo[]).map((m) => m.url)).toEqual(Array.from({ length: 10 }, (_, i) => `/many${i}`));
  });

  it('abort mid-body closes the HTTP/1.1 connection', async () => {
    const agent = newAgent();
    const closed = new Promise<void>((resolve) => {
      h1server.once('request', (req) => req.socket.once('close', () => resolve()));
    });
    const rec = legacyRecorder();
    rec.handler.onData = (chunk) => {
      rec.chunks.push(chunk);
      rec.abort(new Error('stop'));
      return true;
    };
    agent.dispatch({ origin: `https://127.0.0.1:${h1port}`, path: '/hang', method: 'GET' }, rec.handler);
    expect((await rec.done).error!.message).toBe('stop');
    expect(Buffer.concat(rec.chunks).toString()).toBe('h1 first chunk;');
    // Well within the server's 5 s keep-alive timeout: the client closed it.
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

// --- close() and destroy() --------------------------------------------------------------

describe('close() and destroy()', () => {
  it('close() waits for requests in flight, then refuses new ones', async () => {
    const agent = newAgent();
    const pending = undici.request(h2url('/delay?ms=200'), { dispatcher: asDispatcher(agent) }).then((r) => r.body.text());
    await until(() => streamsOn('/delay?ms=200').length === 1);
    let closedAt = 0;
    const closing = agent.close().then(() => (closedAt = Date.now()));
    expect(agent.closed).toBe(true);
    const rec = legacyRecorder();
    expect(agent.dispatch(dispatchOpts('/hello?after-close'), rec.handler)).toBe(false);
    expect((await rec.done).error).toBeInstanceOf(DispatcherClosedError);
    const text = await pending;
    const doneAt = Date.now();
    await closing;
    expect(text).toBe('delayed 200');
    expect(closedAt).toBeGreaterThanOrEqual(doneAt - 5);
    expect(agent.destroyed).toBe(true);
    // A second close() resolves too; the callback form gets (null, null).
    await agent.close();
    const args = await new Promise<unknown[]>((resolve) => agent.destroy((...a: unknown[]) => resolve(a)));
    expect(args).toEqual([null, null]);
  });

  it('close(callback) calls back (null, null) once idle', async () => {
    const agent = newAgent();
    await undici.request(h2url('/hello?cb'), { dispatcher: asDispatcher(agent) }).then((r) => r.body.text());
    const args = await new Promise<unknown[]>((resolve) => agent.close((...a: unknown[]) => resolve(a)));
    expect(args).toEqual([null, null]);
  });

  it('destroy() fails pending requests at once and resets their streams', async () => {
    const agent = newAgent();
    const waiting = undici.request(h2url('/silent?destroy'), { dispatcher: asDispatcher(agent) }).catch((e: unknown) => e);
    const rec = controllerRecorder();
    agent.dispatch(dispatchOpts('/hang?destroy'), rec.handler);
    await until(() => streamsOn('/silent?destroy').length === 1 && rec.chunks.length === 1);
    await agent.destroy();
    expect(await waiting).toBeInstanceOf(DispatcherDestroyedError);
    expect((await rec.done).error).toBeInstanceOf(DispatcherDestroyedError);
    expect(rec.controller.aborted).toBe(true);
    expect(await streamsOn('/silent?destroy')[0]!.closed).not.toBe(0);
    expect(agent.destroyed).toBe(true);
    // Destroyed: close() fails, dispatch() fails through the handler.
    await expect(agent.close()).rejects.toBeInstanceOf(DispatcherDestroyedError);
    const late = legacyRecorder();
    expect(agent.dispatch(dispatchOpts('/hello'), late.handler)).toBe(false);
    expect((await late.done).error).toBeInstanceOf(DispatcherDestroyedError);
  });

  it('destroy(error) fails pending requests with that error', async () => {
    const agent = newAgent();
    const rec = legacyRecorder();
    agent.dispatch(dispatchOpts('/silent?destroy-err'), rec.handler);
    await until(() => streamsOn('/silent?destroy-err').length === 1);
    const why = new Error('shutting down');
    await new Promise<void>((resolve) => agent.destroy(why, () => resolve()));
    expect((await rec.done).error).toBe(why);
  });

  it('await using closes the agent', async () => {
    let kept: HyperwireAgent;
    {
      await using agent = new HyperwireAgent({ tls });
      kept = agent;
      const r = await undici.request(h2url('/hello?using'), { dispatcher: asDispatcher(agent) });
      expect(await r.body.text()).toBe('hello ?using');
    }
    expect(kept.destroyed).toBe(true);
  });
});
