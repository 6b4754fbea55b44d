/**
 * Connections through a SOCKS proxy (SOCKS4, 4a, 5 and 5h), over the
 * `socks` package. TLS and ALPN run over what it returns, so HTTP/2 works
 * over SOCKS too.
 */

import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import { SocksClient, type SocksProxy } from 'socks';
import { abortError, ConnectTimeoutError, ProxyError } from '../common/errors.js';
import { hostPort, type Dialer } from '../common/net.js';

/** A SOCKS proxy taken apart (see `parseProxyUrl`). */
export interface SocksProxyAddress {
  /** `socks4`, `socks4a`, `socks5` or `socks5h`. */
  scheme: string;
  host: string;
  port: number;
  /** SOCKS5 user (SOCKS4: the user id). */
  username: string | undefined;
  password: string | undefined;
}

/**
 * A Dialer that reaches its target through the SOCKS proxy. `socks4` and
 * `socks5` resolve the target's name here and send the address; `socks4a`
 * and `socks5h` send the name for the proxy to resolve (as curl reads
 * them).
 */
export function socksDialer(proxy: SocksProxyAddress): Dialer {
  const version = proxy.scheme.startsWith('socks4') ? 4 : 5;
  const remoteDns = proxy.scheme === 'socks4a' || proxy.scheme === 'socks5h';
  const socksProxy: SocksProxy = { host: proxy.host, port: proxy.port, type: version };
  if (proxy.username !== undefined) socksProxy.userId = proxy.username;
  if (proxy.password !== undefined) socksProxy.password = proxy.password;
  const where = hostPort(proxy.host, proxy.port);

  return async ({ host, port, timeout, signal }) => {
    if (signal?.aborted === true) throw abortError(signal);
    let destination = host;
    if (!remoteDns && net.isIP(host) === 0) {
      // SOCKS4 carries only IPv4 addresses; SOCKS5 either family.
      try {
        destination = (await lookup(host, { family: version === 4 ? 4 : 0 })).address;
      } catch (err) {
        throw new ProxyError(`Cannot resolve ${host} for the SOCKS proxy ${where}: ${(err as Error).message}`, 0, { cause: err, code: 'HW_ERR_SOCKS' });
      }
    }
    const connecting = SocksClient.createConnection({
      proxy: socksProxy,
      command: 'connect',
      destination: { host: destination, port },
      ...(timeout > 0 ? { timeout } : {}),
      set_tcp_nodelay: true,
    });
    let onAbort: (() => void) | undefined;
    let gaveUp = false;
    const aborted =
      signal === undefined
        ? null
        : new Promise<never>((_, reject) => {
            onAbort = () => {
              gaveUp = true;
              // A connection that completes after all is not wanted.
              connecting.then((e) => e.socket.destroy(), () => {});
              reject(abortError(signal));
            };
            signal.addEventListener('abort', onAbort, { once: true });
          });
    try {
      const established = await (aborted === null ? connecting : Promise.race([connecting, aborted]));
      return established.socket;
    } catch (err) {
      if (gaveUp) throw err;
      const message = (err as Error).message;
      if (/timed? ?out/i.test(message)) throw new ConnectTimeoutError(`SOCKS connect to ${hostPort(host, port)} through ${where} took longer than ${timeout} ms`, { cause: err });
      throw new ProxyError(`The SOCKS proxy ${where} could not connect to ${hostPort(host, port)}: ${message}`, 0, { cause: err, code: 'HW_ERR_SOCKS' });
    } finally {
      if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
    }
  };
}
