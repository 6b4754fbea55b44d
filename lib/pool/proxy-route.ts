/**
 * A proxy as the pools use it: which pool a request through it goes to,
 * and how that pool's connections reach the origin. Shared by the
 * ProxyManager and SOCKSProxyManager (one fixed proxy) and the PoolManager
 * reading the environment (a proxy per URL).
 *
 * - HTTP(S) proxy, http:// target: absolute-form requests to the proxy
 *   (RFC 9112 §3.2.2), one pool for the proxy whatever the origin.
 * - HTTP(S) proxy, https:// target: a CONNECT tunnel per origin (RFC 9110
 *   §9.3.6), TLS and ALPN end to end, so h2 runs through it.
 * - SOCKS proxy: a pool per origin whose connections are made through it.
 */

import type * as tls from 'node:tls';
import { HTTPHeaderMap, type HeadersInit } from '../common/headers.js';
import { hostPort } from '../common/net.js';
import type { ConnectionPoolOptions, PoolProxy } from './connection-pool.js';
import { LocationValueError } from './errors.js';
import { socksDialer } from './socks-dialer.js';

/** A proxy URL taken apart. */
export interface ParsedProxy {
  scheme: string;
  host: string;
  port: number;
  /** The user and password from the URL, percent-decoded. */
  username: string | undefined;
  password: string | undefined;
}

/** Proxy schemes and their default ports. */
export const HTTP_PROXY_SCHEMES: Readonly<Record<string, number>> = { http: 80, https: 443 };
/** SOCKS schemes (curl's names) and their default port. */
export const SOCKS_PROXY_SCHEMES: Readonly<Record<string, number>> = { socks4: 1080, socks4a: 1080, socks5: 1080, socks5h: 1080 };

/** Takes a proxy URL apart; `schemes` says which schemes are allowed and their default ports. */
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
  return {
    scheme,
    host,
    port: url.port === '' ? defaultPort : Number(url.port),
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.username === '' && url.password === '' ? undefined : decodeURIComponent(url.password),
  };
}

/** What a route needs beyond the proxy URL. */
export interface ProxyRouteOptions {
  /** Fields for an HTTP(S) proxy (on CONNECT, and on each absolute-form request). */
  proxyHeaders?: HeadersInit | undefined;
  /** TLS to an https:// proxy. Default: `tls`. */
  proxyTls?: tls.ConnectionOptions | undefined;
  /** The pools' TLS options. */
  tls?: tls.ConnectionOptions | undefined;
}

/** One proxy: the pool key and pool options for each target. */
export class ProxyRoute {
  readonly proxyUrl: string;
  private readonly proxy: PoolProxy | null;
  private readonly forward: PoolProxy | null;
  private readonly dialer: ConnectionPoolOptions['dialer'];
  private readonly where: string;

  constructor(proxyUrl: string, options: ProxyRouteOptions = {}) {
    this.proxyUrl = proxyUrl;
    const socks = /^socks/i.test(proxyUrl);
    const parsed = parseProxyUrl(proxyUrl, socks ? SOCKS_PROXY_SCHEMES : HTTP_PROXY_SCHEMES);
    this.where = `${parsed.scheme}://${hostPort(parsed.host, parsed.port)}`;
    if (socks) {
      this.dialer = socksDialer(parsed);
      this.proxy = this.forward = null;
      return;
    }
    const fields = new HTTPHeaderMap(options.proxyHeaders);
    // Credentials in the URL become Proxy-Authorization (RFC 9110 §11.7.2),
    // unless the caller set the field himself; never sent to the origin.
    if (parsed.username !== undefined && !fields.has('proxy-authorization')) {
      fields.append('proxy-authorization', `Basic ${Buffer.from(`${parsed.username}:${parsed.password ?? ''}`, 'utf8').toString('base64')}`);
    }
    const headers = fields.size === 0 ? undefined : [...fields];
    const proxyTls = parsed.scheme === 'https' ? (options.proxyTls ?? options.tls ?? {}) : undefined;
    this.proxy = { host: parsed.host, port: parsed.port, headers, tls: proxyTls, forward: false };
    this.forward = { ...this.proxy, forward: true };
    this.dialer = undefined;
  }

  /** The key of the pool a request to `url` goes to: the proxy's own for forwarded http, else per origin. */
  poolKey(url: URL, originKey: string): string {
    if (this.forward !== null && url.protocol === 'http:') return `forward ${this.where}`;
    return `${originKey} via ${this.where}`;
  }

  /**
   * The pool for a request to `url`: its host, port and options. A forwarded
   * http request's pool is the proxy's (HTTP/1.1 to the proxy, over TLS for
   * an https:// proxy).
   */
  poolFor(url: URL, base: ConnectionPoolOptions): { https: boolean; host: string; options: ConnectionPoolOptions } | null {
    if (this.forward !== null && url.protocol === 'http:') {
      const { tls: _tls, ...rest } = base;
      const options: ConnectionPoolOptions = { ...rest, port: this.forward.port, proxy: this.forward, http2: false };
      return { https: this.forward.tls !== undefined, host: this.forward.host, options };
    }
    return null;
  }

  /** Options of a per-origin pool through this proxy. */
  originOptions(base: ConnectionPoolOptions): ConnectionPoolOptions {
    return this.dialer !== undefined ? { ...base, dialer: this.dialer } : { ...base, proxy: this.proxy! };
  }
}
