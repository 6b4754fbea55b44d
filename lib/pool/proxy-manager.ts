/**
 * ProxyManager: a PoolManager whose requests go through an HTTP(S) proxy,
 * as urllib3's.
 *
 * - http:// targets are sent to the proxy in absolute form (RFC 9112
 *   §3.2.2), over connections pooled per proxy, whatever the origin.
 * - https:// targets go through a CONNECT tunnel per origin (RFC 9110
 *   §9.3.6), with TLS and ALPN end to end, so HTTP/2 runs through the
 *   proxy, and the pool's rules (one h2 connection per origin) hold inside
 *   the tunnel.
 */

import type * as tls from 'node:tls';
import { HTTPHeaderMap, type HeadersInit } from '../common/headers.js';
import { HTTPConnectionPool, HTTPSConnectionPool, type ConnectionPoolOptions, type PoolProxy } from './connection-pool.js';
import { LocationValueError } from './errors.js';
import { PoolManager, type PoolManagerOptions } from './pool-manager.js';

/** Options of {@link ProxyManager}. */
export interface ProxyManagerOptions extends PoolManagerOptions {
  /** Fields for the proxy (on CONNECT, and on each absolute-form request); never sent to the origin. */
  proxyHeaders?: HeadersInit;
  /** For an https:// proxy: TLS options for the connection to the proxy. Default: the pool's `tls`. */
  proxyTls?: tls.ConnectionOptions;
}

/** A proxy URL taken apart: where it is, and its credentials as a Proxy-Authorization field. */
export interface ParsedProxy {
  scheme: string;
  host: string;
  port: number;
  /** `Basic …` from the URL's user and password, percent-decoded; undefined without them. */
  authorization: string | undefined;
  username: string | undefined;
  password: string | undefined;
}

/** Takes a proxy URL apart. `defaultPorts` gives the port for a scheme when the URL has none. */
export function parseProxyUrl(proxyUrl: string, schemes: Readonly<Record<string, number>>): ParsedProxy {
  let url: URL;
  try {
    url = new URL(proxyUrl);
  } catch {
    throw new LocationValueError(`Not a proxy URL: ${JSON.stringify(proxyUrl)}`, 'HW_ERR_LOCATION_PARSE');
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const defaultPort = schemes[scheme];
  if (defaultPort === undefined) throw new LocationValueError(`Unsupported proxy scheme ${JSON.stringify(scheme)}: use ${Object.keys(schemes).join(', ')}`);
  if (url.hostname === '') throw new LocationValueError(`No host in the proxy URL ${JSON.stringify(proxyUrl)}`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const username = url.username === '' ? undefined : decodeURIComponent(url.username);
  const password = url.username === '' && url.password === '' ? undefined : decodeURIComponent(url.password);
  const authorization = username === undefined ? undefined : `Basic ${Buffer.from(`${username}:${password ?? ''}`, 'utf8').toString('base64')}`;
  return { scheme, host, port: url.port === '' ? defaultPort : Number(url.port), authorization, username, password };
}

/**
 * Makes requests through an HTTP or HTTPS proxy. Credentials in the proxy
 * URL (`http://user:pass@proxy:3128`) become `Proxy-Authorization: Basic`,
 * sent only to the proxy. A proxy that refuses (407, 403, …) or cannot be
 * reached is a ProxyError, retried as a connect error under Retry.
 *
 * ```ts
 * const http = new ProxyManager('http://proxy.internal:3128');
 * await http.request('GET', 'https://example.com/');   // CONNECT, then h2 end to end
 * ```
 */
export class ProxyManager extends PoolManager {
  /** The proxy, as given. */
  readonly proxyUrl: string;
  private readonly proxy: ParsedProxy;
  private readonly proxyFields: HeadersInit | undefined;
  private readonly proxyTlsOptions: tls.ConnectionOptions | undefined;

  constructor(proxyUrl: string, options: ProxyManagerOptions = {}) {
    super(options);
    this.proxyUrl = proxyUrl;
    this.proxy = parseProxyUrl(proxyUrl, { http: 80, https: 443 });
    const fields = new HTTPHeaderMap(options.proxyHeaders);
    // Credentials given in the URL, unless the caller set the field himself.
    if (this.proxy.authorization !== undefined && !fields.has('proxy-authorization')) fields.append('proxy-authorization', this.proxy.authorization);
    this.proxyFields = fields.size === 0 ? undefined : [...fields];
    this.proxyTlsOptions = this.proxy.scheme === 'https' ? (options.proxyTls ?? options.tls ?? {}) : undefined;
  }

  /** https targets: a tunnel per origin. */
  protected override poolOptions(scheme: 'http' | 'https'): ConnectionPoolOptions {
    const base = super.poolOptions(scheme);
    const { proxyHeaders: _h, proxyTls: _t, ...rest } = base as ProxyManagerOptions;
    return { ...rest, proxy: this.proxyFor(false) };
  }

  /** http targets share the proxy's pool; https targets get their own (tunnelled) pools. */
  protected override poolFor(url: URL): HTTPConnectionPool {
    if (url.protocol === 'https:') return super.poolFor(url);
    const { host, port, scheme } = this.proxy;
    return this.pool(`proxy:${this.proxyUrl}`, () => {
      const { proxyHeaders: _h, proxyTls: _t, numPools: _n, tls: _tls, ...rest } = this.options as ProxyManagerOptions;
      const options: ConnectionPoolOptions = { ...rest, port, proxy: this.proxyFor(true), http2: false };
      return scheme === 'https' ? new HTTPSConnectionPool(host, options) : new HTTPConnectionPool(host, options);
    });
  }

  private proxyFor(forward: boolean): PoolProxy {
    return { host: this.proxy.host, port: this.proxy.port, headers: this.proxyFields, tls: this.proxyTlsOptions, forward };
  }
}

/** A ProxyManager for `proxyUrl` (urllib3's proxy_from_url). */
export function proxyFromUrl(proxyUrl: string, options: ProxyManagerOptions = {}): ProxyManager {
  return new ProxyManager(proxyUrl, options);
}
