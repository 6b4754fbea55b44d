/**
 * fetch(): the WHATWG Fetch Standard's `fetch()` method over hyperwire's
 * pool, so that one HTTP/2 connection per origin carries every request.
 *
 * ```ts
 * import { fetch, createFetch } from 'hyperwire';
 *
 * const r = await fetch('https://example.com/data.json');   // a global Response
 * await r.json();
 *
 * const internal = createFetch({ tls: { ca }, timeout: 5_000 }); // a pool of its own
 * await internal('https://intranet.example/', { method: 'POST', body: form });
 * await internal.close();
 * ```
 *
 * It behaves as undici's fetch (Node's own) does: the same Request
 * validation (it is the platform's Request constructor that parses the
 * arguments, as §5.6 step 2 says), the same redirects, default fields,
 * content decoding and errors. What differs is below the Fetch Standard:
 * HTTP/2 by ALPN (or h2c) on one connection per origin, the pool's
 * timeouts, server push.
 *
 * The steps are the standard's, in the order it gives them: §5.6 The fetch
 * method (here: {@link fetchOver}), §4.1 Main fetch and §4.3 HTTP fetch
 * (`run`), §4.4 HTTP-redirect fetch (redirect.ts), §4.5 HTTP-network-or-cache
 * fetch (request-headers.ts and `network`), §4.6 HTTP-network fetch (the
 * pool, and response-body.ts).
 */

import { ProxyError, StreamRefusedError } from '../common/errors.js';
import { PoolManager, type PoolManagerOptions } from '../pool/pool-manager.js';
import type { HTTPResponse } from '../pool/response.js';
import { codingsToUndo, decodeBody } from './content-coding.js';
import { IntegrityError, RedirectError, RequestBlockedError } from './fetch-errors.js';
import { FetchResponse, type FetchResponseState } from './fetch-response.js';
import { bytesMatch } from './integrity.js';
import { isBadPort } from './port-blocking.js';
import { checkLocation, locationURL, REDIRECT_STATUSES, redirectRequest, sameOrigin } from './redirect.js';
import { determineReferrer, parseReferrerPolicy, referrerOf, type Referrer } from './referrer.js';
import { requestBody, type FetchBody } from './request-body.js';
import { addFetchDefaults, hopHeaders } from './request-headers.js';
import { ResponseBody } from './response-body.js';

/**
 * Options of {@link createFetch}: those of the {@link PoolManager} its
 * requests go through (`tls`, `timeout`, `enablePush`, `http2`,
 * `maxsize`, `proxyFromEnv`, ...). A pool's `retries` and `headers` have
 * no place here: fetch sends what the request says, and does not retry
 * (as undici's does not), except a request the server refused unprocessed.
 */
export type FetchOptions = Omit<PoolManagerOptions, 'retries' | 'headers'>;

/** What `fetch` accepts as its first argument. */
export type FetchInput = string | URL | Request;

/** A fetch function, bound to the pool it sends through. */
export interface Fetch {
  /**
   * Fetches a resource (Fetch Standard §5.6). Resolves with a global
   * `Response` once its head has arrived; rejects with the Request
   * constructor's TypeError for invalid arguments, with the signal's reason
   * when aborted, and with `TypeError('fetch failed')` for anything else,
   * its `cause` the error that stopped it (a `HyperwireError`).
   */
  (input: FetchInput, init?: RequestInit): Promise<Response>;
  /**
   * A fetch over a pool of its own, made with this fetch's options and
   * `options` over them (a fetch over a pool it was given has no options
   * of its own to pass on).
   */
  with(options: FetchOptions): Fetch;
  /** The pool this fetch sends through (made on first use). */
  readonly pool: PoolManager;
  /**
   * Closes the pool this fetch made (requests in flight fail); the next
   * call makes a new one. A pool given to {@link createFetch} is left open.
   */
  close(): Promise<void>;
}

/** Statuses whose responses have no body (§2.2.6 "null body status"). */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** A redirect's body is read to its end (to keep the connection) when it is at most this long; else the stream or connection is given up. */
const DRAIN_LIMIT = 64 * 1024;

/** How many times a request the server refused unprocessed (RFC 9113 §8.7) is sent again. */
const REFUSED_RETRIES = 2;

/**
 * Responses whose body nobody read or took: when one is collected, its
 * connection (HTTP/1.1) or stream (HTTP/2) is given back, as undici does,
 * instead of staying held until the server gives up on it. A body that is
 * being read (its stream locked or disturbed, by a reader or a clone's tee)
 * is left alone: someone still reads it.
 */
const unread = new FinalizationRegistry<ResponseBody>((body) => body.releaseIfUnread());

/** The platform's fetch, captured before anyone can replace it: it serves the schemes that need no network. */
const platformFetch = globalThis.fetch;

/** What a fetch carries from hop to hop: the Fetch Standard's request, as the algorithm changes it. */
interface FetchState {
  method: string;
  /** The request's header list (the per-hop fields are added to a copy). */
  readonly headers: Headers;
  body: FetchBody | null;
  /** The URL list: the request's URL, then every redirect's. */
  readonly urlList: URL[];
  readonly mode: string;
  readonly redirect: string;
  readonly cache: string;
  readonly integrity: string;
  tainting: 'basic' | 'cors' | 'opaque';
  referrer: Referrer;
  referrerPolicy: string;
  redirectCount: number;
}

/** What one fetch needs besides its request. */
interface FetchContext {
  readonly state: FetchState;
  readonly pool: PoolManager;
  /** The request's signal; undefined when nothing can abort it. */
  readonly signal: AbortSignal | undefined;
  /** The response body has ended, failed or been cancelled. */
  readonly bodyDone: () => void;
}

/** A fetch's outcome: the Response, and its body's stream controls (null for no body). */
interface FetchResult {
  response: FetchResponse;
  body: ResponseBody | null;
}

/**
 * The Fetch Standard's fetch() method (§5.6) over `pool`.
 */
function fetchOver(pool: PoolManager, input: FetchInput, init: RequestInit | undefined): Promise<Response> {
  const simple = simpleRequest(input, init);
  if (simple !== null) return fetchSimple(pool, simple);
  // Step 2: the platform's Request constructor parses and checks the
  // arguments, so that a fetch here refuses exactly what Node's refuses
  // (methods, headers, bodies without `duplex`, URLs with credentials, ...).
  let request: Request;
  let body: FetchBody | null;
  try {
    request = new Request(input, init);
    body = requestBody(request, init?.body, request.headers.get('content-type'));
  } catch (err) {
    return Promise.reject(err);
  }
  const signal = request.signal;
  const url = new URL(request.url);
  // data: and blob: URLs involve no network (§4.2 Scheme fetch): the
  // platform's fetch answers them as the standard says.
  if (url.protocol === 'data:' || url.protocol === 'blob:') return platformFetch(request);
  // Step 4.
  if (signal.aborted) {
    body?.cancel(signal.reason);
    return Promise.reject(signal.reason);
  }

  const headers = new Headers(request.headers);
  addFetchDefaults(headers);
  const state: FetchState = {
    method: request.method,
    headers,
    body,
    urlList: [url],
    mode: request.mode,
    redirect: request.redirect,
    cache: request.cache,
    integrity: request.integrity,
    tainting: 'basic',
    referrer: referrerOf(request.referrer),
    referrerPolicy: request.referrerPolicy,
    redirectCount: 0,
  };

  // Steps 11-12: an abort rejects at once with the signal's reason,
  // cancels a request body not yet sent, and errors a response body being
  // read ("abort the fetch() call"). The listener stays until the body has
  // ended; it holds the promise's settling functions only until the promise
  // settles, so that it keeps no Response alive (see `unread`).
  let settle: { resolve: (r: Response) => void; reject: (e: unknown) => void } | null = null;
  let abortBody: ((reason: unknown) => void) | null = null;
  const onAbort = (): void => {
    const reason: unknown = signal.reason;
    state.body?.cancel(reason);
    if (settle !== null) {
      const { reject } = settle;
      settle = null;
      reject(reason);
    } else if (abortBody !== null) {
      abortBody(reason);
    }
  };
  const unlisten = (): void => {
    abortBody = null;
    signal.removeEventListener('abort', onAbort);
  };
  const promise = new Promise<Response>((resolve, reject) => {
    settle = { resolve, reject };
  });
  signal.addEventListener('abort', onAbort, { once: true });
  run({ state, pool, signal, bodyDone: unlisten }).then(
    (result) => {
      if (settle === null) {
        // Aborted while the response was being made: nobody will read it.
        result.body?.abort(signal.reason);
        return;
      }
      const { resolve } = settle;
      settle = null;
      if (result.body === null) unlisten();
      else {
        const body = result.body;
        abortBody = (reason) => body.abort(reason);
      }
      resolve(result.response);
    },
    (err: unknown) => {
      if (settle === null) return;
      const { reject } = settle;
      settle = null;
      unlisten();
      // Step 13.3: a network error is a TypeError; what caused it is kept.
      reject(new TypeError('fetch failed', { cause: err }));
    },
  );
  return promise;
}

/**
 * What a GET or HEAD of an http(s) URL with at most a method and headers
 * makes of the Request constructor's work, the most common fetch there is.
 * Its Request would be all defaults: no body, and a signal nothing can
 * abort, whose making (an AbortSignal is transferable, and costly to make
 * in Node 20) and listeners were a tenth of such a fetch.
 */
interface SimpleRequest {
  url: URL;
  method: 'GET' | 'HEAD';
  headers: Headers;
}

/**
 * `input` and `init` as a {@link SimpleRequest}, or null when they need the
 * Request constructor: any other member of RequestInit set, another method,
 * a URL it would refuse or another scheme. Null also for anything that
 * would throw, so the error is always the constructor's own.
 */
function simpleRequest(input: FetchInput, init: RequestInit | undefined): SimpleRequest | null {
  let method: 'GET' | 'HEAD' = 'GET';
  let headersInit: RequestInit['headers'];
  if (init !== undefined && init !== null) {
    if (typeof init !== 'object') return null;
    // Every other member of RequestInit (and undici's dispatcher) must be absent.
    if (
      init.body !== undefined ||
      init.signal !== undefined ||
      init.mode !== undefined ||
      init.credentials !== undefined ||
      (init as { cache?: unknown }).cache !== undefined ||
      init.redirect !== undefined ||
      init.referrer !== undefined ||
      init.referrerPolicy !== undefined ||
      init.integrity !== undefined ||
      init.keepalive !== undefined ||
      init.window !== undefined ||
      (init as { duplex?: unknown }).duplex !== undefined ||
      (init as { priority?: unknown }).priority !== undefined ||
      (init as { dispatcher?: unknown }).dispatcher !== undefined
    ) {
      return null;
    }
    const m = init.method;
    if (m !== undefined) {
      if (m !== 'GET' && m !== 'HEAD') return null;
      method = m;
    }
    headersInit = init.headers;
  }
  let url: URL;
  if (typeof input === 'string') {
    try {
      url = new URL(input);
    } catch {
      return null;
    }
  } else if (input instanceof URL) {
    url = new URL(input.href);
  } else {
    return null;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') return null;
  let headers: Headers;
  try {
    headers = new Headers(headersInit);
  } catch {
    return null;
  }
  return { url, method, headers };
}

/** {@link fetchOver} for a {@link SimpleRequest}: nothing to cancel, nothing to abort. */
function fetchSimple(pool: PoolManager, request: SimpleRequest): Promise<Response> {
  addFetchDefaults(request.headers);
  const state: FetchState = {
    method: request.method,
    headers: request.headers,
    body: null,
    urlList: [request.url],
    mode: 'cors',
    redirect: 'follow',
    cache: 'default',
    integrity: '',
    tainting: 'basic',
    referrer: 'client',
    referrerPolicy: '',
    redirectCount: 0,
  };
  return run({ state, pool, signal: undefined, bodyDone: nothing }).then(
    (result) => result.response,
    (err: unknown) => {
      // Step 13.3: a network error is a TypeError; what caused it is kept.
      throw new TypeError('fetch failed', { cause: err });
    },
  );
}

function nothing(): void {}

/**
 * §4.1 Main fetch, with §4.3 HTTP fetch and §4.4 HTTP-redirect fetch: one
 * hop after another until a response that is not followed, then the
 * response as the request's tainting filters it.
 */
async function run(ctx: FetchContext): Promise<FetchResult> {
  const state = ctx.state;
  const first = state.urlList[0]!;
  if (first.protocol !== 'http:' && first.protocol !== 'https:') {
    // §4.2 Scheme fetch: about:, file: and anything else are network errors here, as in undici.
    throw new RequestBlockedError('HW_ERR_UNSUPPORTED_SCHEME', `Cannot fetch ${first.protocol} URLs: only http, https, data and blob`, first.href);
  }
  for (;;) {
    const current = state.urlList[state.urlList.length - 1]!;
    // Main fetch step 6.
    if (isBadPort(current)) {
      throw new RequestBlockedError('HW_ERR_BAD_PORT', `Port ${current.port} is blocked (Fetch Standard §2.9)`, current.href);
    }
    // Step 8.
    if (state.referrer !== 'no-referrer') state.referrer = determineReferrer(state.referrer, state.referrerPolicy, current);
    // Step 12: once a hop has left the first URL's origin, the responses
    // are CORS-tainted (there is no CORS check to fail: with no document,
    // undici lets every response through), or opaque in "no-cors" mode.
    if (!(sameOrigin(current, first) && state.tainting === 'basic')) {
      if (state.mode === 'same-origin') {
        throw new RequestBlockedError('HW_ERR_CROSS_ORIGIN', `request mode "same-origin" does not allow ${current.origin}`, current.href);
      }
      if (state.mode === 'no-cors') {
        if (state.redirect !== 'follow') throw new RequestBlockedError('HW_ERR_CROSS_ORIGIN', 'redirect mode cannot be "follow" for "no-cors" request', current.href);
        state.tainting = 'opaque';
      } else {
        state.tainting = 'cors';
      }
    }

    const response = await network(ctx, current);

    // HTTP fetch step 8.
    if (REDIRECT_STATUSES.has(response.status) && state.redirect !== 'manual') {
      const status = response.status;
      if (state.redirect === 'error') {
        void discard(response);
        throw new RedirectError('HW_ERR_UNEXPECTED_REDIRECT', 'unexpected redirect', status, response.headers.first('location'));
      }
      let next: URL | null;
      try {
        next = locationURL(status, response.headers.get('location'), current);
        if (next !== null) {
          checkLocation(status, next, state.redirectCount, state.mode, state.tainting);
          redirectRequest(state, status, current, next);
        }
      } catch (err) {
        void discard(response);
        throw err;
      }
      // A redirect without a Location is the response (§4.4 step 4).
      if (next !== null) {
        state.redirectCount++;
        await discard(response);
        // Step 19: the redirect may change the referrer policy.
        const policy = parseReferrerPolicy(response.headers.get('referrer-policy'));
        if (policy !== '') state.referrerPolicy = policy;
        state.urlList.push(next);
        continue;
      }
    }
    return finish(ctx, response);
  }
}

/**
 * One exchange with the network (§4.5 HTTP-network-or-cache fetch, §4.6
 * HTTP-network fetch): the hop's fields, the request on the pool, its
 * response head. 407 and 421 are handled as §4.5 steps 15-16 say.
 */
async function network(ctx: FetchContext, url: URL): Promise<HTTPResponse> {
  const state = ctx.state;
  const headers = hopHeaders({
    method: state.method,
    url,
    headers: state.headers,
    body: state.body,
    mode: state.mode,
    cache: state.cache,
    referrer: state.referrer === 'client' ? 'no-referrer' : state.referrer,
  });
  let misdirected = false;
  for (let refused = 0; ; ) {
    let response: HTTPResponse;
    try {
      response = await ctx.pool.urlopen(state.method, url.href, {
        headers,
        body: state.body?.take(),
        // The redirects are fetch's own (§4.4); the pool makes one exchange.
        redirect: false,
        retries: false,
        preloadContent: false,
        decodeContent: false,
        signal: ctx.signal,
      });
    } catch (err) {
      // RFC 9113 §8.7: a stream refused (REFUSED_STREAM, or above a
      // GOAWAY's last stream) was not processed, and goes again on another
      // connection, if its body can be sent again.
      if (err instanceof StreamRefusedError && refused < REFUSED_RETRIES && replayable(state.body) && ctx.signal?.aborted !== true) {
        refused++;
        continue;
      }
      throw err;
    }
    // §4.5 step 15: no one can be asked for proxy credentials.
    if (response.status === 407) {
      void discard(response);
      throw new ProxyError(`${url.origin} asked for proxy authentication (407)`, 407, { code: 'HW_ERR_PROXY_AUTH' });
    }
    // §4.5 step 16: 421 Misdirected Request (RFC 9110 §15.5.20) is sent
    // once more, if the body can be.
    if (response.status === 421 && !misdirected && replayable(state.body)) {
      misdirected = true;
      await discard(response);
      continue;
    }
    return response;
  }
}

function replayable(body: FetchBody | null): boolean {
  return body === null || body.replayable;
}

/**
 * Main fetch steps 13-22: the response as the request's tainting shows it,
 * with no body for HEAD and the null body statuses, and checked against
 * `integrity`.
 */
async function finish(ctx: FetchContext, response: HTTPResponse): Promise<FetchResult> {
  const state = ctx.state;
  if (state.tainting === 'opaque') {
    // An opaque filtered response (§2.2.6): no URL, status 0, no fields, no body.
    void discard(response);
    if (state.integrity !== '') throw new IntegrityError('An opaque response cannot be checked against integrity metadata');
    return { response: new FetchResponse(null, null, { url: '', type: 'opaque', redirected: false, status: 0, statusText: '' }), body: null };
  }
  const current = new URL(state.urlList[state.urlList.length - 1]!.href);
  current.hash = '';
  const info: FetchResponseState = {
    url: current.href,
    type: state.tainting,
    redirected: state.urlList.length > 1,
    status: response.status,
    statusText: response.reason,
  };
  const headers = [...response.headers];
  // Step 19.
  if (state.method === 'HEAD' || state.method === 'CONNECT' || NULL_BODY_STATUSES.has(response.status)) {
    // The protocol says there is no body (whatever Content-Length says), so
    // reading to the end costs nothing and keeps the connection.
    void response.drainConn();
    if (state.integrity !== '') throw new IntegrityError('A response without a body cannot match integrity metadata');
    return { response: new FetchResponse(null, headers, info), body: null };
  }
  let codings: string[];
  try {
    codings = codingsToUndo(response.headers.get('content-encoding'));
  } catch (err) {
    response.releaseConn();
    throw err;
  }
  if (state.integrity !== '') {
    // Step 22: the whole body is read and checked before the response is given.
    const parts: Uint8Array[] = [];
    for await (const chunk of decodeBody(response.stream(), codings)) parts.push(chunk);
    const bytes = Buffer.concat(parts);
    if (!bytesMatch(bytes, state.integrity)) throw new IntegrityError(`The body of ${info.url} does not match the integrity metadata`);
    ctx.bodyDone();
    const stream = new ReadableStream({
      type: 'bytes',
      start(c) {
        if (bytes.byteLength > 0) c.enqueue(new Uint8Array(bytes));
        c.close();
      },
    });
    return { response: new FetchResponse(stream, headers, info), body: null };
  }
  // Once the body has ended, nothing is left to let go of: the registration
  // goes, and with it the strong hold on the body's machinery (kept, it
  // carried every response's objects into the old generation).
  const token = {};
  const body = new ResponseBody(response, codings, () => {
    unread.unregister(token);
    ctx.bodyDone();
  });
  const result = new FetchResponse(body, headers, info);
  unread.register(result, body, token);
  return { response: result, body };
}

/**
 * Lets go of a response nobody will read: a short body is read to its end
 * so that the connection can serve the next request; a long one (or one of
 * unknown length) is given up (the HTTP/2 stream reset, the HTTP/1.1
 * connection closed), as the standard allows for a redirect (HTTP fetch
 * step 8.1).
 */
async function discard(response: HTTPResponse): Promise<void> {
  const length = Number(response.headers.first('content-length') ?? Number.NaN);
  if (length <= DRAIN_LIMIT) await response.drainConn();
  else response.releaseConn();
}

/**
 * Makes a fetch function over a pool of its own, made with `options` on
 * first use (HTTP/2 by ALPN over TLS, or by `Upgrade: h2c` in cleartext;
 * TLS trusts Node's default store, so `NODE_EXTRA_CA_CERTS` applies,
 * unless `tls` says otherwise), or over the given pool.
 *
 * ```ts
 * const f = createFetch({ tls: { ca }, enablePush: true });
 * const r = await f('https://internal.example/');
 * await f.close();
 * ```
 */
export function createFetch(options: FetchOptions | PoolManager = {}): Fetch {
  const given = options instanceof PoolManager ? options : null;
  const poolOptions: FetchOptions = given === null ? { ...(options as FetchOptions) } : {};
  let pool: PoolManager | null = given;
  const current = (): PoolManager => (pool ??= new PoolManager(poolOptions));
  const f = ((input: FetchInput, init?: RequestInit): Promise<Response> => {
    let p: PoolManager;
    try {
      p = current();
    } catch (err) {
      return Promise.reject(err);
    }
    return fetchOver(p, input, init);
  }) as Fetch;
  Object.defineProperties(f, {
    with: { value: (more: FetchOptions): Fetch => createFetch({ ...poolOptions, ...more }), enumerable: true },
    pool: { get: current, enumerable: true },
    close: {
      value: async (): Promise<void> => {
        if (given !== null || pool === null) return;
        const closing = pool;
        pool = null;
        await closing.close();
      },
      enumerable: true,
    },
  });
  return f;
}

/**
 * The WHATWG `fetch()` over a pool shared by every caller of this module
 * (made on first use, with the PoolManager's defaults: HTTP/2 by ALPN, one
 * connection per origin, TLS trusting Node's default store). `fetch.with(options)`
 * makes a fetch over a pool of its own; see {@link createFetch}.
 *
 * The Response it resolves with is an instance of the global `Response`
 * whose `url`, `type`, `redirected` and status survive `clone()`.
 */
export const fetch: Fetch = createFetch();
