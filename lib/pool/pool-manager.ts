/**
 * PoolManager: urllib3's entry point. Give it URLs; it keeps one pool per
 * origin (at most `numPools`, least recently used first out), and follows
 * redirects across origins.
 */

import { hostPort } from '../common/net.js';
import { HTTPConnectionPool, HTTPSConnectionPool, type ConnectionPoolOptions } from './connection-pool.js';
import { LocationValueError } from './errors.js';
import { getProxyEnv, proxyForUrl, type ProxyEnv } from './proxy-env.js';
import { ProxyRoute } from './proxy-route.js';
import { encodeForPool, type PoolRequestOptions } from './pool-request.js';
import type { HTTPResponse } from './response.js';
import { absoluteUrl, urlopenDefaults, urlopenWithRetries, type UrlopenDefaults, type UrlopenOptions } from './urlopen.js';

/** Options of {@link PoolManager}: the pools' options, and how many pools to keep. */
export interface PoolManagerOptions extends ConnectionPoolOptions {
  /** How many origins' pools to keep; the least recently used is closed when another is needed. Default 10. */
  numPools?: number;
  /**
   * Take the proxy for each request from the environment (HTTPS_PROXY,
   * HTTP_PROXY, ALL_PROXY and NO_PROXY, read as curl reads them, once, when
   * the manager is made). Default false, as urllib3.
   */
  proxyFromEnv?: boolean;
}

/**
 * Makes requests to any URL, keeping a pool of connections per origin. Over
 * HTTP/2 one connection per origin carries every request at once.
 *
 * ```ts
 * const http = new PoolManager();
 * const r = await http.request('GET', 'https://example.com/');
 * r.status; r.data;
 * ```
 */
export class PoolManager {
  protected readonly options: PoolManagerOptions;
  private readonly numPools: number;
  /** Pools by origin, least recently used first. */
  private readonly pools = new Map<string, HTTPConnectionPool>();
  private closed = false;
  private readonly defaults: UrlopenDefaults;
  /** The proxy settings of the environment, with `proxyFromEnv`. */
  private readonly proxyEnv: ProxyEnv | null;
  /** Routes through the proxies the environment named, by proxy URL. */
  private readonly routes = new Map<string, ProxyRoute>();
  /**
   * The last URL asked for, parsed, and the pool it went to: a run of
   * requests to one origin (the common case) skips the parse and the
   * lookup.
   */
  private lastUrl: string | undefined;
  private lastTarget: URL | undefined;
  private lastPool: HTTPConnectionPool | undefined;

  constructor(options: PoolManagerOptions = {}) {
    this.options = options;
    this.proxyEnv = options.proxyFromEnv === true ? getProxyEnv(process.env) : null;
    this.defaults = urlopenDefaults(options);
    this.numPools = options.numPools ?? 10;
    if (!Number.isInteger(this.numPools) || this.numPools < 1) throw new RangeError(`numPools must be a positive integer, got ${options.numPools}`);
  }

  /** How many origins have a pool now. */
  get size(): number {
    return this.pools.size;
  }

  /**
   * Sends a request, encoding `fields` (query string or form body), `json`
   * or a `FormData`/`Blob`/`URLSearchParams` body as urllib3's request()
   * does, and returns the response after retries and redirects.
   */
  request(method: string, url: string, options: PoolRequestOptions = NO_OPTIONS): Promise<HTTPResponse> {
    // Nothing to encode (the common case): no await in between.
    if (options.fields === undefined && options.json === undefined && isPlainBody(options.body)) return this.urlopen(method, url, options as UrlopenOptions);
    return encodeForPool(method, url, options).then((encoded) => this.urlopen(method, encoded.url, encoded.options));
  }

  /**
   * Sends a request to `url` (absolute) with the body as it is, following
   * redirects to any origin.
   */
  urlopen(method: string, url: string, options: UrlopenOptions = NO_OPTIONS): Promise<HTTPResponse> {
    let target: URL;
    if (url === this.lastUrl && this.lastTarget !== undefined) {
      target = this.lastTarget;
    } else {
      try {
        target = absoluteUrl(url);
      } catch (err) {
        // A bad URL is a rejection, as from any other failure.
        return Promise.reject(err as Error);
      }
      this.lastUrl = url;
      this.lastTarget = target;
      this.lastPool = undefined;
    }
    return urlopenWithRetries(this.toPool, method, target, options, this.defaults);
  }

  private readonly toPool = (url: URL): HTTPConnectionPool => this.poolFor(url);

  /** The pool for `url`'s origin, made if need be. */
  connectionFromUrl(url: string): HTTPConnectionPool {
    return this.poolFor(absoluteUrl(url));
  }

  /** The pool for an origin, made if need be. `scheme` defaults to http; `port` to the scheme's. */
  connectionFromHost(host: string, port?: number, scheme: string = 'http'): HTTPConnectionPool {
    if (typeof host !== 'string' || host.length === 0) throw new LocationValueError('No host specified.');
    const s = scheme.toLowerCase();
    if (s !== 'http' && s !== 'https') throw new LocationValueError(`Unsupported URL scheme ${JSON.stringify(scheme)}: only http and https`);
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    const p = port ?? (s === 'https' ? 443 : 80);
    return this.pool(`${s}://${hostPort(bare.toLowerCase(), p)}`, () => {
      const options = { ...this.poolOptions(s), port: p };
      return s === 'https' ? new HTTPSConnectionPool(bare, options) : new HTTPConnectionPool(bare, options);
    });
  }

  /** The options of a new pool for `scheme` targets (a proxy manager adds its proxy). */
  protected poolOptions(_scheme: 'http' | 'https'): ConnectionPoolOptions {
    const { numPools: _numPools, proxyFromEnv: _proxyFromEnv, ...poolOptions } = this.options;
    return poolOptions;
  }

  /** The proxy a request to `url` goes through, or null for none: with `proxyFromEnv`, the environment's. */
  protected routeFor(url: URL): ProxyRoute | null {
    if (this.proxyEnv === null) return null;
    const proxy = proxyForUrl(url, this.proxyEnv);
    if (proxy === null) return null;
    let route = this.routes.get(proxy);
    if (route === undefined) {
      route = new ProxyRoute(proxy, { tls: this.options.tls });
      this.routes.set(proxy, route);
    }
    return route;
  }

  /** The pool kept under `key`, or `make()`'s, kept from now on (least recently used first out). */
  protected pool(key: string, make: () => HTTPConnectionPool): HTTPConnectionPool {
    if (this.closed) throw new LocationValueError('The PoolManager is closed', 'HW_ERR_CLOSED_POOL');
    const pool = this.pools.get(key);
    if (pool === undefined) return this.keep(key, make());
    this.pools.delete(key);
    this.pools.set(key, pool);
    return pool;
  }

  private keep(key: string, pool: HTTPConnectionPool): HTTPConnectionPool {
    this.pools.set(key, pool);
    if (this.pools.size > this.numPools) {
      // The least recently used pool goes; requests still in flight on it
      // finish first (its connections close as they go idle).
      const [oldestKey, oldest] = this.pools.entries().next().value as [string, HTTPConnectionPool];
      this.pools.delete(oldestKey);
      oldest.retire();
    }
    return pool;
  }

  /**
   * Lets go of every pool: requests in flight finish, then their
   * connections close. The manager can still be used; new pools are made.
   */
  clear(): void {
    for (const pool of this.pools.values()) pool.retire();
    this.pools.clear();
    this.lastPool = undefined;
  }

  /** Closes every pool and refuses new requests. */
  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The pool a request to `url` goes through: its origin's, or its proxy's. */
  protected poolFor(url: URL): HTTPConnectionPool {
    if (url === this.lastTarget && this.lastPool !== undefined && !this.lastPool.isClosed) return this.lastPool;
    const pool = this.findPool(url);
    if (url === this.lastTarget) this.lastPool = pool;
    return pool;
  }

  private findPool(url: URL): HTTPConnectionPool {
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? undefined : Number(url.port);
    const scheme = url.protocol === 'https:' ? 'https' : 'http';
    const route = this.routeFor(url);
    if (route === null) return this.connectionFromHost(host, port, scheme);
    const p = port ?? (scheme === 'https' ? 443 : 80);
    return this.pool(route.poolKey(url, `${scheme}://${hostPort(host.toLowerCase(), p)}`), () => {
      const base = this.poolOptions(scheme);
      const forward = route.poolFor(url, base);
      if (forward !== null) return forward.https ? new HTTPSConnectionPool(forward.host, forward.options) : new HTTPConnectionPool(forward.host, forward.options);
      const options = { ...route.originOptions(base), port: p };
      return scheme === 'https' ? new HTTPSConnectionPool(host, options) : new HTTPConnectionPool(host, options);
    });
  }
}

/** The pool for `url`'s origin, on its own (urllib3's connection_from_url). */
export function connectionFromUrl(url: string, options: ConnectionPoolOptions = {}): HTTPConnectionPool {
  const u = absoluteUrl(url);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? undefined : Number(u.port);
  const withPort = port === undefined ? options : { ...options, port };
  return u.protocol === 'https:' ? new HTTPSConnectionPool(host, withPort) : new HTTPConnectionPool(host, withPort);
}

/** The options of a request given none: shared, never changed (no object per request). */
const NO_OPTIONS = Object.freeze({});

/** A body urlopen takes as it is. */
function isPlainBody(body: unknown): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
}
