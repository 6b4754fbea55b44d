/**
 * CONNECT tunnels through an HTTP proxy (RFC 9110 §9.3.6): TLS, and so
 * ALPN and HTTP/2, run end to end through the proxy.
 */

import * as net from 'node:net';
import * as tls from 'node:tls';
import { ConnectionError, ConnectTimeoutError, type HyperwireError, ProxyError } from '../common/errors.js';
import type { HeadersInit } from '../common/headers.js';
import { connectError, dialTCP, dialTLS, type Dialer, type DialOptions, hostPort } from '../common/net.js';
import { ResponseParser } from './parser.js';
import { serialiseRequestHead } from './request.js';

/** Where to tunnel, and through what. */
export interface TunnelOptions {
  proxyHost: string;
  proxyPort: number;
  /** Fields for the CONNECT request, e.g. Proxy-Authorization. */
  proxyHeaders?: HeadersInit | undefined;
  /** `host:port` of the target. */
  authority: string;
  /** ms for the TCP connect and the proxy's answer; 0 for none. */
  timeout?: number;
  /** Aborts the tunnel being opened. */
  signal?: AbortSignal | undefined;
  /** An https:// proxy: TLS to the proxy with these options (its name is checked, as any server's), then CONNECT inside. */
  proxyTls?: tls.ConnectionOptions | undefined;
}

/**
 * Opens a tunnel: resolves with a socket connected, through the proxy, to
 * the target. A proxy that refuses is a {@link ProxyError} with its status.
 */
export function openTunnel(options: TunnelOptions): Promise<net.Socket> {
  const head = serialiseRequestHead({
    method: 'CONNECT',
    target: options.authority,
    host: options.authority,
    headers: options.proxyHeaders,
    bodyLength: null,
  });
  const proxyTls = options.proxyTls;
  const socket: net.Socket =
    proxyTls === undefined
      ? net.connect({ host: options.proxyHost, port: options.proxyPort })
      : tls.connect({
          servername: net.isIP(options.proxyHost) === 0 ? options.proxyHost : undefined,
          minVersion: 'TLSv1.2',
          ...proxyTls,
          host: options.proxyHost,
          port: options.proxyPort,
          ALPNProtocols: ['http/1.1'],
        });
  socket.setNoDelay(true);
  return new Promise<net.Socket>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let status = 0;
    let reason = '';
    // A refusal's head and end can come in one read: both finish it.
    let settled = false;
    const finish = (err: HyperwireError | null, rest?: Buffer): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('connect', onConnect);
      options.signal?.removeEventListener('abort', onAbort);
      if (err !== null) {
        socket.destroy();
        reject(err);
        return;
      }
      socket.pause();
      if (rest !== undefined && rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    /** Any final answer but a 2xx: a refusal (3xx and up), or a 101, which is no answer to CONNECT. */
    const refusal = (): ProxyError => {
      const how = status >= 300 ? `refused CONNECT ${options.authority}:` : `answered CONNECT ${options.authority} with`;
      return new ProxyError(`The proxy ${how} ${status} ${reason}`.trimEnd(), status);
    };
    const parser = new ResponseParser({
      onHead: (s, r) => {
        // 1xx heads other than 101 are interim; the final answer follows.
        if (s >= 200 || s === 101) {
          status = s;
          reason = r;
        }
      },
      onData: () => {},
      onTrailers: () => {},
      onEnd: () => {
        // Only a refusal has a body to end.
        finish(refusal());
      },
    });
    parser.expect('CONNECT');
    const onData = (chunk: Buffer): void => {
      let offset: number;
      try {
        offset = parser.execute(chunk);
      } catch (err) {
        finish(err as HyperwireError);
        return;
      }
      // Only a 2xx opens a tunnel (RFC 9110 §9.3.6); a 101 is no answer to CONNECT.
      if (offset >= 0 && status >= 200 && status < 300) finish(null, chunk.subarray(offset));
      // Any other final answer is a refusal: no need to read its body.
      else if (offset >= 0 || status >= 300) finish(refusal());
    };
    // The proxy itself could not be reached (or its TLS failed): a
    // ProxyError, with what went wrong as its cause.
    const onError = (err: Error): void => {
      const cause = connectError(err, options.proxyHost, options.proxyPort);
      finish(new ProxyError(`Cannot reach the proxy ${hostPort(options.proxyHost, options.proxyPort)}: ${cause.message}`, 0, { cause, code: 'HW_ERR_PROXY_CONNECT' }));
    };
    const onClose = (): void => finish(new ConnectionError('HW_ERR_PROXY_CLOSED', `The proxy closed the connection during CONNECT ${options.authority}`));
    const onConnect = (): void => {
      socket.write(head.bytes);
    };
    const onAbort = (): void => finish(new ConnectionError('HW_ERR_CONNECTION_CLOSED', `The connection was closed while opening a tunnel to ${options.authority}`));
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once(proxyTls === undefined ? 'connect' : 'secureConnect', onConnect);
    if (options.signal?.aborted === true) return onAbort();
    options.signal?.addEventListener('abort', onAbort);
    const ms = options.timeout ?? 0;
    if (ms > 0) timer = setTimeout(() => finish(new ConnectTimeoutError(`CONNECT ${options.authority} through ${options.proxyHost}:${options.proxyPort} took longer than ${ms} ms`)), ms);
  });
}

/** Where a connection to its origin goes: straight there, or through a proxy's tunnel. */
export interface OriginDialOptions extends DialOptions {
  /** Tunnel through this HTTP proxy. */
  proxyHost?: string | undefined;
  /** The proxy's port. Default 8080. */
  proxyPort?: number | undefined;
  /** Fields for the CONNECT request. */
  proxyHeaders?: HeadersInit | undefined;
  /** An https:// proxy: TLS to it with these options. */
  proxyTls?: tls.ConnectionOptions | undefined;
  /** Another way to reach the origin (a SOCKS proxy): used instead of a direct connect or a tunnel. */
  dialer?: Dialer | undefined;
  /** TLS, offering these protocols by ALPN; without it, cleartext. */
  alpn?: string[] | undefined;
  tls?: tls.ConnectionOptions | undefined;
}

/**
 * Connects to `host:port`: through a CONNECT tunnel when there is a proxy,
 * then TLS over it (or directly) when `alpn` is given, else the tunnel or
 * a TCP connection as it is. The tunnel has the connect timeout to itself,
 * and the TLS handshake over it the same again.
 */
export async function dialOrigin(options: OriginDialOptions): Promise<net.Socket> {
  const { proxyHost, alpn, dialer } = options;
  const over =
    dialer !== undefined
      ? await dialer({ host: options.host, port: options.port, timeout: options.timeout, signal: options.signal })
      : proxyHost === undefined
        ? undefined
        : await openTunnel({
            proxyHost,
            proxyPort: options.proxyPort ?? 8080,
            proxyHeaders: options.proxyHeaders,
            proxyTls: options.proxyTls,
            authority: hostPort(options.host, options.port),
            timeout: options.timeout,
            signal: options.signal,
          });
  if (alpn === undefined) return over ?? dialTCP(options);
  return dialTLS({ ...options, alpn, over });
}
