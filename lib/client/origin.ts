/**
 * httpcore's URL and Origin: a request target split into scheme, host,
 * port and target, and the origin that decides which connections a
 * request may share (RFC 6454 §4). Host names are IDNA-encoded (Node's
 * `url.domainToASCII`), so `https://BÜCHER.example` and
 * `https://xn--bcher-kva.example:443` are the same origin.
 */

import { domainToASCII } from 'node:url';
import { LocationParseError } from '../pool/errors.js';

/** The default port of a scheme; undefined for a scheme we do not speak. */
export function defaultPort(scheme: string): number | undefined {
  return scheme === 'https' ? 443 : scheme === 'http' ? 80 : undefined;
}

/** A host name in its ASCII form (IPv6 addresses without brackets, lower case). */
function asciiHost(host: string, original: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.includes(':')) return bare.toLowerCase();
  const ascii = domainToASCII(bare);
  if (ascii === '') throw new LocationParseError(original, `invalid host ${JSON.stringify(host)}`);
  return ascii;
}

/** The scheme, host and port that requests to a server share (RFC 6454 §4). */
export class Origin {
  readonly scheme: string;
  readonly host: string;
  readonly port: number;

  /** From a URL (`Origin('https://example.org')`), or from its parts. */
  constructor(schemeOrUrl: string, host?: string, port?: number) {
    if (host === undefined) {
      const url = new ClientURL(schemeOrUrl);
      this.scheme = url.scheme;
      this.host = url.host;
      this.port = url.port;
      return;
    }
    const scheme = schemeOrUrl.toLowerCase();
    const p = port ?? defaultPort(scheme);
    if (p === undefined) throw new LocationParseError(`${schemeOrUrl}://${host}`, 'no port for this scheme');
    this.scheme = scheme;
    this.host = asciiHost(host, host);
    this.port = p;
  }

  /** Same scheme, host and port. */
  equals(other: Origin): boolean {
    return this.scheme === other.scheme && this.host === other.host && this.port === other.port;
  }

  /** `scheme://host[:port]`, the port only where it is not the scheme's default. */
  toString(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return this.port === defaultPort(this.scheme) ? `${this.scheme}://${host}` : `${this.scheme}://${host}:${this.port}`;
  }
}

/**
 * An absolute http(s) URL as httpcore splits it: `scheme`, `host` (IDNA,
 * lower case), `port` (explicit or the scheme's), `target` (path and
 * query, as sent in the request line), and its `origin`.
 */
export class ClientURL {
  readonly scheme: string;
  readonly host: string;
  readonly port: number;
  /** Path and query. */
  readonly target: string;
  /** The fragment, without '#' (never sent). */
  readonly fragment: string;
  private readonly parsed: URL;

  constructor(url: string | URL | ClientURL) {
    const text = url instanceof ClientURL ? url.toString() : url.toString();
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      throw new LocationParseError(text);
    }
    const scheme = parsed.protocol.slice(0, -1);
    const port = defaultPort(scheme);
    if (port === undefined) throw new LocationParseError(text, `unsupported scheme ${JSON.stringify(scheme)}`);
    if (parsed.hostname === '') throw new LocationParseError(text, 'no host');
    this.parsed = parsed;
    this.scheme = scheme;
    this.host = asciiHost(parsed.hostname, text);
    this.port = parsed.port === '' ? port : Number(parsed.port);
    this.target = (parsed.pathname || '/') + parsed.search;
    this.fragment = parsed.hash.slice(1);
  }

  /** The origin requests to this URL share connections with. */
  get origin(): Origin {
    return new Origin(this.scheme, this.host, this.port);
  }

  /** The URL as text (normalised by the WHATWG URL parser). */
  toString(): string {
    return this.parsed.href;
  }

  /** A WHATWG URL of it. */
  toURL(): URL {
    return new URL(this.parsed.href);
  }
}
