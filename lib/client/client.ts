/**
 * Client: the httpx/requests-style API over one shared PoolManager (one
 * HTTP/2 connection per origin, shared by every concurrent call). It adds
 * what a pool leaves to its caller: a base URL, default headers and query
 * parameters, forms, files and JSON, authentication (Basic, Digest, .netrc,
 * a hook), a cookie jar across requests and redirects, and redirects with
 * their history.
 */

import type * as tls from 'node:tls';
import type { RequestBody } from '../common/body.js';
import { HyperwireError } from '../common/errors.js';
import { HTTPHeaderMap, type HeadersInit } from '../common/headers.js';
import type { ConnectionPoolOptions, TimeoutInput } from '../pool/connection-pool.js';
import { MaxRetryError } from '../pool/errors.js';
import type { Fields, FieldValue } from '../pool/fields.js';
import { PoolManager } from '../pool/pool-manager.js';
import { ProxyManager, SOCKSProxyManager } from '../pool/proxy-manager.js';
import { requestEncodeBody } from '../pool/request-encoding.js';
import { Retry } from '../pool/retry.js';
import { Timeout } from '../pool/timeout.js';
import type { RetryInput } from '../pool/urlopen.js';
import { getPublicSuffix } from 'tough-cookie';
import { netrcAuth, toAuth, type Auth, type AuthInput, type AuthResponse } from './auth.js';
import { Cookies, type SameSiteContext } from './cookies.js';
import { ClientURL } from './origin.js';
import { Request } from './request.js';
import { Response } from './response.js';

/** Query parameters: an object (arrays repeat a key), pairs, or URLSearchParams. */
export type QueryParams = Record<string, string | number | boolean | readonly (string | number | boolean)[] | undefined> | Iterable<readonly [string, string]> | URLSearchParams;

/** A file to upload: its content, or `[filename, content, contentType?]`. */
export type FileInput = string | Uint8Array | readonly [filename: string, content: string | Uint8Array, contentType?: string];

/** httpx's Limits: how many connections the Client keeps per origin. */
export interface Limits {
  /** At most this many connections per origin; requests beyond wait (the pool's `maxsize` with `block`). */
  maxConnections?: number;
  /** How many connections per origin are kept open when idle (the pool's `maxsize` without `block`). */
  maxKeepaliveConnections?: number;
}

/** Options of {@link Client}. */
export interface ClientOptions {
  /** Relative URLs are joined to it (its path is a prefix). */
  baseURL?: string;
  /** Sent with every request; a request's own headers win. */
  headers?: HeadersInit;
  /** Merged into every request's query. */
  params?: QueryParams;
  /** ms for connect and each read (default 5,000, as httpx), or `{ connect, read, total }`; null for none. */
  timeout?: TimeoutInput | null;
  /** Retries of connect errors and refused streams (default 2). A Retry gives full control. */
  retries?: RetryInput;
  /** Follow redirects (default false, as httpx). */
  followRedirects?: boolean;
  /** At most this many redirects (default 20). */
  maxRedirects?: number;
  /** Offer HTTP/2 (default true). */
  http2?: boolean;
  /** Basic as `[user, password]`, DigestAuth, BasicAuth, or a function that changes each request. */
  auth?: AuthInput;
  /** A cookie jar to start from (shared, when a Cookies is given). */
  cookies?: Cookies | Record<string, string>;
  /**
   * Read the environment: proxies (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY,
   * NO_PROXY) and .netrc credentials. Default true.
   */
  trustEnv?: boolean;
  /** A proxy for every request: `http://`, `https://` or `socks5h://…`. */
  proxy?: string;
  /** tls.connect options (ca, cert, key, rejectUnauthorized, …); Node's CA store by default. */
  tls?: tls.ConnectionOptions;
  limits?: Limits;
  /** Accept server push; pushed responses answer later GETs. Default false. */
  enablePush?: boolean;
  /** More options for the pool underneath. */
  pool?: Omit<ConnectionPoolOptions, 'tls' | 'timeout' | 'retries' | 'headers' | 'http2' | 'enablePush'>;
}

/** Options of one request. */
export interface ClientRequestOptions {
  params?: QueryParams;
  headers?: HeadersInit;
  /** Serialised as JSON, `content-type: application/json`. */
  json?: unknown;
  /** A form, sent urlencoded (or as multipart fields when `files` are given too). */
  data?: Record<string, string | number | readonly (string | number)[]>;
  /** Files, sent as multipart/form-data. */
  files?: Record<string, FileInput>;
  /** The body as it is: bytes, text, a Readable or an AsyncIterable (chunked when its length is unknown). */
  content?: RequestBody;
  timeout?: TimeoutInput | null;
  followRedirects?: boolean;
  /** This request's auth (`null`: none, not even the Client's). */
  auth?: AuthInput | null;
  signal?: AbortSignal;
}

/** Options of `send()`. */
export interface SendOptions {
  /** Return at once with the body unread (read it with iterBytes(), or read()). */
  stream?: boolean;
  followRedirects?: boolean;
  auth?: AuthInput | null;
  timeout?: TimeoutInput | null;
  signal?: AbortSignal;
}

/** More redirects than `maxRedirects`. */
export class TooManyRedirects extends HyperwireError {
  readonly request: Request;
  constructor(message: string, request: Request) {
    super('HW_ERR_TOO_MANY_REDIRECTS', message, { scope: 'stream' });
    this.request = request;
  }
}

const VERSION = '0.1.0';
const DEFAULT_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['accept', '*/*'],
  ['accept-encoding', 'gzip, deflate, br'],
  ['user-agent', `hyperwire/${VERSION}`],
];

/**
 * An HTTP client with connection pooling, HTTP/2, cookies, auth and
 * redirects.
 *
 * ```ts
 * await using client = new Client({ baseURL: 'https://api.example.com', headers: { authorization: 'Bearer …' } });
 * const r = await client.get('/users', { params: { page: 2 } });
 * r.raiseForStatus();
 * console.log(r.json());
 * ```
 */
export class Client {
  /** The cookie jar, kept across requests. */
  readonly cookies: Cookies;
  /** The pool every request goes through. */
  readonly pool: PoolManager;
  private readonly baseURL: string | undefined;
  private readonly headers: HTTPHeaderMap;
  private readonly params: QueryParams | undefined;
  private readonly timeout: TimeoutInput | null;
  private readonly retries: RetryInput;
  private readonly followRedirects: boolean;
  private readonly maxRedirects: number;
  private readonly auth: Auth | undefined;
  private readonly trustEnv: boolean;

  constructor(options: ClientOptions = {}) {
    if (options.baseURL !== undefined) new ClientURL(options.baseURL);
    this.baseURL = options.baseURL;
    this.headers = new HTTPHeaderMap(DEFAULT_HEADERS);
    if (options.headers !== undefined) for (const [name, value] of new HTTPHeaderMap(options.headers)) this.headers.set(name, value);
    this.params = options.params;
    this.timeout = options.timeout === undefined ? 5_000 : options.timeout;
    this.retries = options.retries ?? new Retry({ total: 2, read: false, redirect: false, status: 0 });
    this.followRedirects = options.followRedirects ?? false;
    this.maxRedirects = options.maxRedirects ?? 20;
    this.auth = toAuth(options.auth);
    this.trustEnv = options.trustEnv ?? true;
    this.cookies = options.cookies instanceof Cookies ? options.cookies : new Cookies(options.cookies);

    const limits = options.limits ?? {};
    const poolOptions: ConnectionPoolOptions & { proxyFromEnv?: boolean } = {
      ...options.pool,
      http2: options.http2 ?? true,
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      ...(options.enablePush !== undefined ? { enablePush: options.enablePush } : {}),
    };
    if (limits.maxConnections !== undefined) {
      poolOptions.maxsize = limits.maxConnections;
      poolOptions.block = true;
    } else if (limits.maxKeepaliveConnections !== undefined) {
      poolOptions.maxsize = Math.max(1, limits.maxKeepaliveConnections);
    }
    if (options.proxy !== undefined) {
      this.pool = /^socks/i.test(options.proxy) ? new SOCKSProxyManager(options.proxy, poolOptions) : new ProxyManager(options.proxy, poolOptions);
    } else {
      this.pool = new PoolManager({ ...poolOptions, proxyFromEnv: this.trustEnv });
    }
  }

  /** Builds a request without sending it. */
  build(method: string, url: string, options: ClientRequestOptions = {}): Request {
    if (typeof method !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) throw new TypeError(`Invalid method ${JSON.stringify(method)}`);
    const full = withParams(this.join(url), this.params, options.params);
    const headers = new HTTPHeaderMap(this.headers);
    if (options.headers !== undefined) {
      const own = new HTTPHeaderMap(options.headers);
      for (const name of new Set([...own].map(([n]) => n.toLowerCase()))) headers.delete(name);
      for (const [name, value] of own) headers.append(name, value);
    }
    const given = [options.json !== undefined, options.data !== undefined || options.files !== undefined, options.content !== undefined].filter(Boolean).length;
    if (given > 1) throw new TypeError('Give one of json, data/files and content');
    let body: RequestBody = undefined;
    let replayable = true;
    let contentType: string | undefined;
    if (options.json !== undefined) {
      body = Buffer.from(JSON.stringify(options.json), 'utf8');
      contentType = 'application/json';
    } else if (options.data !== undefined || options.files !== undefined) {
      const multipart = options.files !== undefined && Object.keys(options.files).length > 0;
      const fields: Array<[string, FieldValue]> = [];
      for (const [name, value] of Object.entries(options.data ?? {})) {
        for (const v of Array.isArray(value) ? value : [value]) fields.push([name, String(v)]);
      }
      for (const [name, file] of Object.entries(options.files ?? {})) fields.push([name, fileField(name, file)]);
      const encoded = requestEncodeBody(method, full, fields as Fields, { encodeMultipart: multipart });
      if (encoded !== null) {
        body = encoded.body;
        contentType = encoded.contentType;
      }
    } else if (options.content !== undefined && options.content !== null) {
      body = options.content;
      replayable = typeof body === 'string' || body instanceof Uint8Array;
    }
    if (contentType !== undefined && !headers.has('content-type')) headers.set('content-type', contentType);
    return new Request({ method, url: full, headers, body, replayable });
  }

  /** Sends a built request. With `stream`, the body is left unread. */
  async send(request: Request, options: SendOptions = {}): Promise<Response> {
    const auth = options.auth === null ? undefined : (toAuth(options.auth) ?? this.auth ?? (this.trustEnv ? netrcAuth(request.url) : undefined));
    const follow = options.followRedirects ?? this.followRedirects;
    const history: Response[] = [];
    let current = request;
    let sameSite: SameSiteContext = 'strict';
    const firstSite = siteOf(request.url);
    for (;;) {
      const response = await this.sendWithAuth(current, auth, options, history, sameSite);
      if (!follow || !response.isRedirect) return response;
      if (history.length >= this.maxRedirects) {
        response.close();
        throw new TooManyRedirects(`Exceeded the maximum of ${this.maxRedirects} redirects`, current);
      }
      // The redirect's own body is not wanted; reading it frees the connection.
      await response.read().catch(() => response.close());
      history.push(response);
      current = this.redirectRequest(current, response);
      if (siteOf(current.url) !== firstSite) sameSite = current.method === 'GET' || current.method === 'HEAD' ? 'lax' : 'none';
    }
  }

  /** Builds and sends a request. */
  request(method: string, url: string, options: ClientRequestOptions = {}): Promise<Response> {
    return this.send(this.build(method, url, options), sendOptionsOf(options));
  }

  /** Sends a request and returns with the body unread: read it with `iterBytes()`/`iterText()`/`iterLines()` (or `read()`), and close it. */
  stream(method: string, url: string, options: ClientRequestOptions = {}): Promise<Response> {
    return this.send(this.build(method, url, options), { ...sendOptionsOf(options), stream: true });
  }

  get(url: string, options?: Omit<ClientRequestOptions, 'json' | 'data' | 'files' | 'content'>): Promise<Response> {
    return this.request('GET', url, options);
  }
  head(url: string, options?: Omit<ClientRequestOptions, 'json' | 'data' | 'files' | 'content'>): Promise<Response> {
    return this.request('HEAD', url, options);
  }
  options(url: string, options?: ClientRequestOptions): Promise<Response> {
    return this.request('OPTIONS', url, options);
  }
  post(url: string, options?: ClientRequestOptions): Promise<Response> {
    return this.request('POST', url, options);
  }
  put(url: string, options?: ClientRequestOptions): Promise<Response> {
    return this.request('PUT', url, options);
  }
  patch(url: string, options?: ClientRequestOptions): Promise<Response> {
    return this.request('PATCH', url, options);
  }
  delete(url: string, options?: ClientRequestOptions): Promise<Response> {
    return this.request('DELETE', url, options);
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- internals ---------------------------------------------------------------

  /** `url` joined to the base URL: the base's path is a prefix (as httpx joins). */
  private join(url: string): string {
    if (typeof url !== 'string') throw new TypeError('url must be a string');
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) || this.baseURL === undefined) return new ClientURL(url).toString();
    const base = new URL(this.baseURL);
    const rel = new URL(url.replace(/^\/+/, ''), 'http://relative/');
    const path = (base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`) + rel.pathname.slice(1);
    base.pathname = path;
    base.search = rel.search !== '' ? rel.search : base.search;
    base.hash = rel.hash;
    return new ClientURL(base).toString();
  }

  /** One request through its auth flow: the flow may answer a challenge with another try. */
  private async sendWithAuth(request: Request, auth: Auth | undefined, options: SendOptions, history: Response[], sameSite: SameSiteContext): Promise<Response> {
    if (auth === undefined) return this.sendOnce(request, options, history, sameSite);
    const flow = auth.authFlow(request);
    let next = await flow.next();
    let response: Response | undefined;
    let sent = 0;
    while (next.done !== true) {
      const toSend = next.value instanceof Request ? next.value : request;
      if (sent > 0) {
        if (!toSend.replayable) throw new HyperwireError('HW_ERR_BODY_NOT_REPLAYABLE', 'The authentication needs the request sent again, and its body was a stream that has been sent', { scope: 'stream' });
        // The challenge's own body is not wanted.
        await response!.read().catch(() => response!.close());
      }
      response = await this.sendOnce(toSend, options, history, sameSite);
      sent++;
      const seen: AuthResponse = { status: response.status, headers: response.headers };
      next = await flow.next(seen);
    }
    if (response === undefined) throw new HyperwireError('HW_ERR_AUTH', 'The authentication flow sent no request', { scope: 'stream' });
    return response;
  }

  /** One exchange on the pool: cookies out and in, no redirects, no auth. */
  private async sendOnce(request: Request, options: SendOptions, history: Response[], sameSite: SameSiteContext): Promise<Response> {
    const headers = request.headers;
    // The jar's cookies, unless the caller wrote the field himself.
    if (!headers.has('cookie')) {
      const cookie = this.cookies.headerFor(request.url, sameSite);
      if (cookie !== '') headers.set('cookie', cookie);
    }
    const started = performance.now();
    let raw;
    try {
      raw = await this.pool.urlopen(request.method, request.url, {
        headers,
        body: request.content,
        redirect: false,
        retries: this.retries,
        // null: no timeouts at all, not the pool's defaults.
        timeout: timeoutOf(options.timeout === undefined ? this.timeout : options.timeout),
        preloadContent: options.stream !== true,
        decodeContent: true,
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      });
    } catch (err) {
      // The typed error that ran out the retries, not the wrapper.
      throw err instanceof MaxRetryError && err.reason !== null ? err.reason : err;
    }
    const taken = this.cookies.store(raw.headers.get('set-cookie'), request.url, sameSite);
    const own = new Cookies();
    for (const c of taken) own.jar.setCookieSync(c, request.url, { ignoreError: true });
    return new Response({ raw, request, history: [...history], cookies: own, started });
  }

  /** The request a redirect asks for (httpx's rules, after RFC 9110 §15.4). */
  private redirectRequest(request: Request, response: Response): Request {
    const location = response.headers.first('location')!;
    let url: string;
    try {
      url = new ClientURL(new URL(location, request.url)).toString();
    } catch (err) {
      throw err instanceof HyperwireError ? err : new HyperwireError('HW_ERR_LOCATION_PARSE', `Invalid redirect Location ${JSON.stringify(location)}`);
    }
    let method = request.method;
    // 303 turns anything but HEAD into GET; 301 and 302 turn POST into GET,
    // as every browser does (RFC 9110 §15.4.2-4).
    if ((response.status === 303 && method !== 'HEAD') || ((response.status === 301 || response.status === 302) && method === 'POST')) method = 'GET';
    const headers = new HTTPHeaderMap(request.headers);
    headers.delete('cookie');
    const from = new ClientURL(request.url);
    const to = new ClientURL(url);
    // Credentials stay with their origin; an upgrade of the same host to https keeps them (as httpx).
    const upgrade = from.scheme === 'http' && to.scheme === 'https' && from.host === to.host && from.port === 80 && to.port === 443;
    if (!from.origin.equals(to.origin) && !upgrade) headers.delete('authorization');
    let body = request.content;
    let replayable = request.replayable;
    if (method !== request.method) {
      for (const name of ['content-length', 'content-type', 'transfer-encoding']) headers.delete(name);
      body = undefined;
      replayable = true;
    } else if (!replayable && body !== undefined && body !== null) {
      throw new HyperwireError('HW_ERR_BODY_NOT_REPLAYABLE', `Cannot follow the ${response.status} redirect to ${url}: the request body was a stream, and it has been sent`, { scope: 'stream' });
    }
    return request.withChanges({ method, url, headers, body, replayable });
  }
}

/** The send options a request's options carry. */
function sendOptionsOf(options: ClientRequestOptions): SendOptions {
  const out: SendOptions = {};
  if (options.followRedirects !== undefined) out.followRedirects = options.followRedirects;
  if (options.auth !== undefined) out.auth = options.auth;
  if (options.timeout !== undefined) out.timeout = options.timeout;
  if (options.signal !== undefined) out.signal = options.signal;
  return out;
}

/** `url` with the client's and the request's parameters appended to its query (the request's win over the client's). */
function withParams(url: string, clientParams: QueryParams | undefined, params: QueryParams | undefined): string {
  if (clientParams === undefined && params === undefined) return url;
  const u = new URL(url);
  const merged = new URLSearchParams(u.search);
  const own = paramsOf(params);
  for (const [k, v] of paramsOf(clientParams)) if (!own.has(k)) merged.append(k, v);
  for (const [k, v] of own) merged.append(k, v);
  u.search = merged.toString();
  return u.href;
}

function paramsOf(params: QueryParams | undefined): URLSearchParams {
  const out = new URLSearchParams();
  if (params === undefined) return out;
  if (params instanceof URLSearchParams) return new URLSearchParams(params);
  if (Symbol.iterator in Object(params)) {
    for (const [k, v] of params as Iterable<readonly [string, string]>) out.append(k, v);
    return out;
  }
  for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) out.append(k, String(item));
  }
  return out;
}

function fileField(name: string, file: FileInput): FieldValue {
  if (typeof file === 'string' || file instanceof Uint8Array) return [name, file];
  const [filename, content, contentType] = file as readonly [string, string | Uint8Array, string?];
  return contentType === undefined ? [filename, content] : [filename, content, contentType];
}

/** The site of a URL (its registrable domain; the host for addresses and single labels), for SameSite. */
function siteOf(url: string): string {
  const host = new ClientURL(url).host;
  try {
    return getPublicSuffix(host, { allowSpecialUseDomain: true, ignoreError: true }) ?? host;
  } catch {
    return host;
  }
}

/** The pool's timeout for a Client's: null means none (a Timeout without limits). */
function timeoutOf(timeout: TimeoutInput | null): TimeoutInput {
  return timeout === null ? NO_TIMEOUT : timeout;
}

const NO_TIMEOUT = new Timeout();
