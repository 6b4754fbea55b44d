/**
 * ProxyManager and SOCKSProxyManager: PoolManagers whose every request goes
 * through one proxy, as urllib3's. See proxy-route.ts for how each kind of
 * target is carried.
 */

import type * as tls from 'node:tls';
import type { HeadersInit } from '../common/headers.js';
import { PoolManager, type PoolManagerOptions } from './pool-manager.js';
import { HTTP_PROXY_SCHEMES, parseProxyUrl, ProxyRoute, SOCKS_PROXY_SCHEMES } from './proxy-route.js';

/** Options of {@link ProxyManager}. */
export interface ProxyManagerOptions extends Omit<PoolManagerOptions, 'proxyFromEnv'> {
  /** Fields for the proxy (on CONNECT, and on each absolute-form request); never sent to the origin. */
  proxyHeaders?: HeadersInit;
  /** For an https:// proxy: TLS options for the connection to the proxy. Default: the pool's `tls`. */
  proxyTls?: tls.ConnectionOptions;
}

/**
 * Makes requests through an HTTP or HTTPS proxy. http:// targets are sent
 * to the proxy in absolute form over connections pooled per proxy;
 * https:// targets go through one CONNECT tunnel per origin, with TLS and
 * ALPN end to end, so HTTP/2 runs through the proxy. Credentials in the
 * proxy URL (`http://user:pass@proxy:3128`) become `Proxy-Authorization:
 * Basic`, sent only to the proxy. A proxy that refuses (407, 403, …) or
 * cannot be reached is a ProxyError, retried as a connect error.
 *
 * ```ts
 * const http = new ProxyManager('http://proxy.internal:3128');
 * await http.request('GET', 'https://example.com/');   // CONNECT, then h2 end to end
 * ```
 */
export class ProxyManager extends PoolManager {
  /** The proxy, as given. */
  readonly proxyUrl: string;
  private readonly route: ProxyRoute;

  constructor(proxyUrl: string, options: ProxyManagerOptions = {}) {
    const { proxyHeaders, proxyTls, ...rest } = options;
    super(rest);
    parseProxyUrl(proxyUrl, HTTP_PROXY_SCHEMES);
    this.proxyUrl = proxyUrl;
    this.route = new ProxyRoute(proxyUrl, { proxyHeaders, proxyTls, tls: options.tls });
  }

  protected override routeFor(): ProxyRoute {
    return this.route;
  }
}

/** A ProxyManager for `proxyUrl` (urllib3's proxy_from_url). */
export function proxyFromUrl(proxyUrl: string, options: ProxyManagerOptions = {}): ProxyManager {
  return new ProxyManager(proxyUrl, options);
}

/**
 * Makes requests through a SOCKS proxy: `new SOCKSProxyManager(
 * 'socks5h://user:pass@proxy:1080')`, for `socks4`, `socks4a`, `socks5`
 * and `socks5h` (4 and 5 resolve names here, 4a and 5h at the proxy, as
 * curl). Each origin gets its pool as with a PoolManager; only the way its
 * connections are made differs.
 */
export class SOCKSProxyManager extends PoolManager {
  /** The proxy, as given. */
  readonly proxyUrl: string;
  private readonly route: ProxyRoute;

  constructor(proxyUrl: string, options: Omit<PoolManagerOptions, 'proxyFromEnv'> = {}) {
    super(options);
    parseProxyUrl(proxyUrl, SOCKS_PROXY_SCHEMES);
    this.proxyUrl = proxyUrl;
    this.route = new ProxyRoute(proxyUrl);
  }

  protected override routeFor(): ProxyRoute {
    return this.route;
  }
}
