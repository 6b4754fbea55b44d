/**
 * What every connection needs from the network: authorities, timeouts and
 * typed connect errors.
 */

import * as net from 'node:net';
import * as tls from 'node:tls';
import { ConnectionError, ConnectTimeoutError, type HyperwireError, NewConnectionError, TLSError } from './errors.js';

/** Timeouts in milliseconds; 0 or undefined means none. */
export interface Timeouts {
  /** Connecting, TLS handshake included. */
  connect?: number;
  /** Each wait for response data (headers or body) while nothing arrives. */
  read?: number;
}

/** Reads the `timeout` option: one number for both phases, or per phase. */
export function resolveTimeouts(t: number | Timeouts | undefined): { connect: number; read: number } {
  return { connect: typeof t === 'number' ? t : (t?.connect ?? 0), read: typeof t === 'number' ? t : (t?.read ?? 0) };
}

/** How long a graceful close() waits for what is in flight: `closeTimeout`, else the read timeout, else 5 s. */
export function closeWaitOf(options: { closeTimeout?: number | undefined; timeout?: number | Timeouts | undefined }): number {
  const read = resolveTimeouts(options.timeout).read;
  return options.closeTimeout ?? (read > 0 ? read : 5000);
}

/** The typed error for a failed connect: TLS and ALPN failures apart. */
export function connectError(err: Error, host: string, port: number): HyperwireError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') {
    return new TLSError('HW_ERR_ALPN', `The server at ${host}:${port} has no protocol in common with us by ALPN`, { cause: err });
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME/.test(code)) {
    return new TLSError('HW_ERR_TLS', `TLS with ${host}:${port} failed: ${err.message}`, { cause: err });
  }
  return new NewConnectionError(`Connecting to ${host}:${port} failed: ${err.message}`, { cause: err });
}

/** Splits `host`, `host:port` or `[v6]:port`. */
export function splitAuthority(authority: string): { host: string; port: number | undefined } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(authority) ?? /^([^:]+)(?::(\d+))?$/.exec(authority);
  if (m === null) {
    if (net.isIPv6(authority)) return { host: authority, port: undefined };
    throw new TypeError(`Invalid authority ${JSON.stringify(authority)}`);
  }
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new RangeError(`Invalid port in ${authority}`);
  return { host: m[1]!, port };
}

/** Where and how to open a socket. */
export interface DialOptions {
  host: string;
  port: number;
  /** Socket read buffer size. */
  highWaterMark: number;
  /** ms for the TCP connect and TLS handshake; 0 for none. */
  timeout: number;
  /** Aborts the dial (the connection was closed meanwhile). */
  signal?: AbortSignal | undefined;
  /** TLS: the certificate's SHA-256 (or SHA-1) fingerprint the server must present. */
  assertFingerprint?: string | undefined;
}

/**
 * Opens a stream to `host:port` some other way than a direct TCP connect
 * (through a SOCKS proxy, say): TLS, when wanted, runs over what it returns.
 */
export type Dialer = (target: { host: string; port: number; timeout: number; signal?: AbortSignal | undefined }) => Promise<net.Socket>;

/**
 * Dial options for `host:port` from a connection's options: its socket
 * buffer size (`networkBufferSize`, default 64 KiB) and connect timeout.
 */
export function dialOptionsOf(host: string, port: number, options: Pick<EndpointOptions, 'networkBufferSize' | 'timeout' | 'assertFingerprint'>, signal?: AbortSignal): DialOptions {
  return { host, port, highWaterMark: options.networkBufferSize ?? 65_536, timeout: resolveTimeouts(options.timeout).connect, signal, assertFingerprint: options.assertFingerprint };
}

/** Starts a TCP connection (not yet connected). */
export function openTCP(options: DialOptions): net.Socket {
  return net.connect({ host: options.host, port: options.port, readableHighWaterMark: options.highWaterMark, writableHighWaterMark: options.highWaterMark } as net.NetConnectOpts);
}

/** Opens a TCP connection and waits for it. */
export async function dialTCP(options: DialOptions): Promise<net.Socket> {
  const socket = openTCP(options);
  await waitConnected(socket, 'connect', options);
  return socket;
}

/** What TLS needs beyond where to dial. */
export interface TLSDialOptions extends DialOptions {
  tls?: tls.ConnectionOptions | undefined;
  alpn: string[];
  /** A connected socket (a proxy tunnel) to run TLS over. */
  over?: net.Socket | undefined;
}

/**
 * Starts TLS (not yet handshaken), directly or over `over`, offering
 * `alpn`. SNI is sent for host names, not addresses.
 */
export function openTLS(options: TLSDialOptions): tls.TLSSocket {
  const { host, port } = options;
  return tls.connect({
    servername: net.isIP(host) === 0 ? host : undefined,
    minVersion: 'TLSv1.2',
    ...options.tls,
    // Through a tunnel, host still names the target: Node checks the
    // certificate against it (without it, against the proxy's address).
    ...(options.over === undefined ? { host, port } : { socket: options.over, host }),
    ALPNProtocols: options.alpn,
    highWaterMark: options.highWaterMark,
  } as unknown as tls.ConnectionOptions);
}

/** Starts TLS and waits for the handshake. */
export async function dialTLS(options: TLSDialOptions): Promise<tls.TLSSocket> {
  const socket = openTLS(options);
  await waitConnected(socket, 'secureConnect', options);
  return socket;
}

/** Waits for `event` on a socket being connected, with a timeout and typed errors. */
export function waitConnected(socket: net.Socket, event: 'connect' | 'secureConnect', options: DialOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (err?: Error): void => {
      if (timer !== undefined) clearTimeout(timer);
      socket.off('error', onError);
      socket.off(event, onConnect);
      options.signal?.removeEventListener('abort', onAbort);
      if (err !== undefined) {
        socket.destroy();
        reject(err);
      } else resolve();
    };
    const onError = (err: Error): void => done(connectError(err, options.host, options.port));
    const onConnect = (): void => done(event === 'secureConnect' && options.assertFingerprint !== undefined ? fingerprintMismatch(socket as tls.TLSSocket, options.assertFingerprint, options.host, options.port) : undefined);
    const onAbort = (): void => done(new ConnectionError('HW_ERR_CONNECTION_CLOSED', `The connection was closed while connecting to ${options.host}:${options.port}`));
    if (options.signal?.aborted === true) return onAbort();
    options.signal?.addEventListener('abort', onAbort);
    socket.once('error', onError);
    socket.once(event, onConnect);
    if (options.timeout > 0) {
      timer = setTimeout(() => done(new ConnectTimeoutError(`Connecting to ${options.host}:${options.port} took longer than ${options.timeout} ms`)), options.timeout);
    }
  });
}

/**
 * Normalises a fingerprint given by a caller: hex, colons optional, any
 * case. 64 hex digits are SHA-256, 40 are SHA-1 (urllib3's form).
 *
 * @throws TypeError for anything else.
 */
export function normaliseFingerprint(fingerprint: string): string {
  if (typeof fingerprint !== 'string') throw new TypeError('assertFingerprint must be a hex string');
  const hex = fingerprint.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex) || (hex.length !== 64 && hex.length !== 40)) {
    throw new TypeError(`assertFingerprint must be a SHA-256 (64 hex digits) or SHA-1 (40) fingerprint, got ${JSON.stringify(fingerprint)}`);
  }
  return hex;
}

/** A TLSError if the server's certificate does not have the fingerprint expected, else undefined. */
function fingerprintMismatch(socket: tls.TLSSocket, expected: string, host: string, port: number): TLSError | undefined {
  const want = normaliseFingerprint(expected);
  const cert = socket.getPeerCertificate();
  const got = (want.length === 64 ? cert.fingerprint256 : cert.fingerprint)?.replace(/:/g, '').toLowerCase();
  if (got === want) return undefined;
  return new TLSError('HW_ERR_FINGERPRINT', `The certificate of ${host}:${port} has fingerprint ${got ?? 'none'}, not the ${want.length === 64 ? 'SHA-256' : 'SHA-1'} ${want} asserted`);
}

/** The ALPN protocol a TLS socket settled on, or null for none. */
export function alpnOf(socket: net.Socket): string | null {
  const alpn = (socket as tls.TLSSocket).alpnProtocol;
  return typeof alpn === 'string' ? alpn : null;
}

/** Options every connection takes. */
export interface EndpointOptions {
  /** The port; default from the authority, else 443 (secure) or 80. */
  port?: number;
  /** TLS or cleartext. Default: true unless port 80. */
  secure?: boolean;
  /** Extra TLS options (ca, cert, key, rejectUnauthorized, ...), e.g. from initContext(). */
  tls?: tls.ConnectionOptions;
  /** Timeouts: one number for both, or per phase. */
  timeout?: number | Timeouts;
  /**
   * Socket read buffer size, how much response body may wait unread, and
   * how much request body may wait unsent in the socket. Default 64 KiB.
   */
  networkBufferSize?: number;
  /** How long a graceful close() waits for what is in flight, in ms. Default: the read timeout, else 5000. */
  closeTimeout?: number;
  /**
   * TLS: the server certificate's SHA-256 fingerprint (or SHA-1, urllib3's
   * older form), hex, colons optional, any case. A certificate with
   * another is a TLSError (`HW_ERR_FINGERPRINT`) and no request is sent.
   * It is checked whether or not the certificate is otherwise verified.
   */
  assertFingerprint?: string;
}

/** Where a connection goes. */
export interface Endpoint {
  host: string;
  port: number;
  secure: boolean;
}

/** The host, port and security of a connection from its authority and options. */
export function resolveEndpoint(authority: string, options: EndpointOptions): Endpoint {
  const { host, port } = splitAuthority(authority);
  const resolved = options.port ?? port ?? (options.secure === false ? 80 : 443);
  return { host, port: resolved, secure: options.secure ?? resolved !== 80 };
}

/** `host:port`, with an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The authority for Host or :authority: the port only where it is not the scheme's default. */
export function authorityOf(endpoint: Endpoint): string {
  const full = hostPort(endpoint.host, endpoint.port);
  return endpoint.port === (endpoint.secure ? 443 : 80) ? full.slice(0, full.lastIndexOf(':')) : full;
}
