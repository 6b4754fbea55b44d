/**
 * URLs as the pool sees them: urllib3 1.25's `parse_url` / `Url` /
 * `get_host`, in camelCase.
 *
 * The parser splits by the generic syntax of RFC 3986 (§3: scheme,
 * authority, path, query, fragment), then normalises what is safe to
 * normalise for http and https (and for URLs without a scheme, which
 * urllib3 takes for http): the scheme and host are lower-cased (§6.2.2.1),
 * dot segments are removed from the path (§5.2.4, §6.2.2.3), and characters
 * a component may not hold are percent-encoded as UTF-8 (§2.1, §2.5), while
 * existing `%XX` escapes are kept (only their hex digits are upper-cased,
 * §6.2.2.1). URLs of other schemes are split but otherwise left as given.
 *
 * It never throws for "odd but harmless": it throws {@link LocationParseError}
 * where the URL cannot say where to connect (a bad port, a malformed IPv6
 * literal, a host with whitespace or control characters, an IDN that does
 * not convert).
 */

import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { LocationParseError } from './errors.js';

/** The parts of a {@link Url}; any may be absent. */
export interface UrlParts {
  scheme?: string | null | undefined;
  auth?: string | null | undefined;
  host?: string | null | undefined;
  port?: number | null | undefined;
  path?: string | null | undefined;
  query?: string | null | undefined;
  fragment?: string | null | undefined;
}

/**
 * An HTTP URL in parts, as returned by {@link parseUrl} (urllib3's `Url`).
 * A part that the URL does not have is `null`, not an empty string: `''`
 * means "present but empty" (`http://host/?` has query `''`).
 *
 * Immutable; {@link Url.replace} gives a copy with some parts changed.
 */
export class Url {
  /** Lower-cased, without `://`, e.g. `'https'`. */
  readonly scheme: string | null;
  /** The userinfo before `@`, e.g. `'user:pass'`, percent-encoded as parsed. */
  readonly auth: string | null;
  /** Host name, IPv4 address, or IPv6 literal in brackets (`'[::1]'`). */
  readonly host: string | null;
  /** The port given in the URL; `null` when none was (the scheme's default applies). */
  readonly port: number | null;
  /** Starts with `/` whenever it is not empty. */
  readonly path: string | null;
  /** Without the `?`. */
  readonly query: string | null;
  /** Without the `#`. */
  readonly fragment: string | null;

  /**
   * Builds a URL from parts as given, with urllib3's two adjustments: the
   * scheme is lower-cased, and a non-empty path gets a leading `/`.
   * Nothing is validated; use {@link parseUrl} for text from outside.
   */
  constructor(parts: UrlParts = {}) {
    const { scheme = null, auth = null, host = null, port = null, query = null, fragment = null } = parts;
    let path = parts.path ?? null;
    if (path !== null && path !== '' && !path.startsWith('/')) path = `/${path}`;
    this.scheme = scheme === null ? null : scheme.toLowerCase();
    this.auth = auth;
    this.host = host;
    this.port = port;
    this.path = path;
    this.query = query;
    this.fragment = fragment;
  }

  /** The same as {@link host} (urllib3 keeps it for urlparse compatibility). */
  get hostname(): string | null {
    return this.host;
  }

  /** The request target in origin-form (RFC 9112 §3.2.1): path and query, `'/'` when the path is empty. */
  get requestUri(): string {
    const path = this.path === null || this.path === '' ? '/' : this.path;
    return this.query === null ? path : `${path}?${this.query}`;
  }

  /**
   * `host:port`, or the host alone when no port was given. Port 0 is kept
   * (urllib3 drops it as falsy, which would make `:0` read as the default).
   */
  get netloc(): string | null {
    if (this.port !== null && this.host !== null) return `${this.host}:${this.port}`;
    return this.host;
  }

  /**
   * The URL as text. It round-trips with {@link parseUrl} up to
   * normalisation: `parseUrl(u.url)` has the same parts as `u`.
   */
  get url(): string {
    let out = '';
    if (this.scheme !== null) out += `${this.scheme}://`;
    if (this.auth !== null) out += `${this.auth}@`;
    if (this.host !== null) out += this.host;
    if (this.port !== null) out += `:${this.port}`;
    if (this.path !== null) out += this.path;
    if (this.query !== null) out += `?${this.query}`;
    if (this.fragment !== null) out += `#${this.fragment}`;
    return out;
  }

  /** A copy with the given parts changed (urllib3's namedtuple `_replace`). */
  replace(changes: UrlParts): Url {
    return new Url({
      scheme: 'scheme' in changes ? changes.scheme : this.scheme,
      auth: 'auth' in changes ? changes.auth : this.auth,
      host: 'host' in changes ? changes.host : this.host,
      port: 'port' in changes ? changes.port : this.port,
      path: 'path' in changes ? changes.path : this.path,
      query: 'query' in changes ? changes.query : this.query,
      fragment: 'fragment' in changes ? changes.fragment : this.fragment,
    });
  }

  /** The same as {@link url}. */
  toString(): string {
    return this.url;
  }
}

// Character classes of RFC 3986, as lookup tables over ASCII.
// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" (§2.3)
// sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "=" (§2.2)
function table(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}
const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
const SUB_DELIMS = "!$&'()*+,;=";
/** userinfo = *( unreserved / pct-encoded / sub-delims / ":" ) (§3.2.1) */
const USERINFO_CHARS = table(`${UNRESERVED}${SUB_DELIMS}:`);
/** pchar plus "/" (§3.3): unreserved / pct-encoded / sub-delims / ":" / "@" */
const PATH_CHARS = table(`${UNRESERVED}${SUB_DELIMS}:@/`);
/** query and fragment = *( pchar / "/" / "?" ) (§3.4, §3.5) */
const QUERY_CHARS = table(`${UNRESERVED}${SUB_DELIMS}:@/?`);
/** A zone ID (RFC 6874 §2): 1*( unreserved / pct-encoded ) */
const ZONE_CHARS = table(UNRESERVED);

const HEX = '0123456789ABCDEF';

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Whether `s[i]` starts a `%XX` escape. */
function isEscape(s: string, i: number): boolean {
  return s.charCodeAt(i) === 0x25 && i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2));
}

/**
 * Percent-encodes every character of `component` that `allowed` does not
 * list, as the octets of its UTF-8 form (RFC 3986 §2.5). A `%` that starts
 * a `%XX` escape is kept and its hex digits are upper-cased (§6.2.2.1, so
 * nothing is encoded twice); any other `%` becomes `%25`. A lone surrogate,
 * which has no UTF-8 form, is sent as U+FFFD, as the WHATWG URL parser does.
 *
 * urllib3 decides "already encoded" for the whole component (every `%`
 * must start an escape, or all are re-encoded); deciding per `%` keeps the
 * escapes of a component that also holds a stray `%`.
 */
function encodeInvalidChars(component: string, allowed: Uint8Array): string {
  // Most components need nothing: return them without building a copy.
  let i = 0;
  while (i < component.length) {
    const c = component.charCodeAt(i);
    if (c < 0x80 && allowed[c] === 1) i++;
    else if (c === 0x25 && isEscape(component, i) && isUpperEscape(component, i)) i += 3;
    else break;
  }
  if (i === component.length) return component;
  let out = component.slice(0, i);
  while (i < component.length) {
    const c = component.charCodeAt(i);
    if (c < 0x80 && allowed[c] === 1) {
      out += component[i];
      i++;
    } else if (c === 0x25 && isEscape(component, i)) {
      out += `%${component[i + 1]!.toUpperCase()}${component[i + 2]!.toUpperCase()}`;
      i += 3;
    } else {
      // One code point: a surrogate pair, or one code unit.
      const cp = component.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      const text = cp >= 0xd800 && cp <= 0xdfff ? '\ufffd' : component.slice(i, i + width);
      const bytes = Buffer.from(text, 'utf8');
      for (let k = 0; k < bytes.length; k++) out += `%${HEX[bytes[k]! >> 4]}${HEX[bytes[k]! & 15]}`;
      i += width;
    }
  }
  return out;
}

/** Whether the escape at `s[i]` already has upper-case hex digits. */
function isUpperEscape(s: string, i: number): boolean {
  return s.charCodeAt(i + 1) < 0x61 && s.charCodeAt(i + 2) < 0x61;
}

/**
 * Removes `.` and `..` segments (RFC 3986 §5.2.4), so that `/a/../b` and
 * `/b` name one resource and a path cannot climb above the root.
 */
export function removeDotSegments(path: string): string {
  if (!path.includes('.')) return path;
  const segments = path.split('/');
  const output: string[] = [];
  for (const segment of segments) {
    if (segment === '.') continue;
    if (segment !== '..') output.push(segment);
    else if (output.length > 1 || (output.length === 1 && output[0] !== '')) output.pop();
  }
  // An absolute path stays absolute: "/.." is "/", not "".
  if (path.startsWith('/') && (output.length === 0 || output[0] !== '')) output.unshift('');
  // A path that ended in a dot segment names a directory: keep its "/".
  if (path.endsWith('/.') || path.endsWith('/..')) output.push('');
  const result = output.join('/');
  return result === '' && path.startsWith('/') ? '/' : result;
}

/**
 * A scheme at the start (RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-"
 * / "." )), except that, as urllib3, a `.` is not taken as part of one, so
 * `google.com:80` is a host and port, not the scheme `google.com`.
 */
const SCHEME_RE = /^([a-zA-Z][a-zA-Z0-9+-]*):/;
/** `name:digits` ending the authority: a host and port, not a scheme (`localhost:8080`). */
const HOST_PORT_RE = /^[a-zA-Z][a-zA-Z0-9+-]*:[0-9]+(?:[/?#]|$)/;

/** Schemes whose URLs are normalised; `null` is a URL without one, taken for http. */
function isNormalizable(scheme: string | null): boolean {
  return scheme === null || scheme === 'http' || scheme === 'https';
}

/**
 * Parses a URL into a {@link Url}, as urllib3 1.25's `parse_url`.
 *
 * - The scheme is optional: `google.com/mail` has host `google.com`, and
 *   `localhost:8080` is a host and port. A URL starting with `/` is a path.
 * - The host of an http(s) URL is lower-cased; an internationalised name
 *   is converted to its ASCII (punycode) form (RFC 5890); an IPv6 literal
 *   stays in brackets and keeps its zone ID (RFC 6874), written `%zone`.
 * - The port is digits from 0 to 65535 (leading zeros allowed); `host:`
 *   means no port (RFC 3986 §3.2.3).
 * - The userinfo ends at the last `@` of the authority, so a password may
 *   hold `@`; it, the path, the query and the fragment are percent-encoded
 *   where they hold characters RFC 3986 does not allow there.
 * - The path loses its dot segments (RFC 3986 §5.2.4). It is `''` rather
 *   than `null` when there is a query or fragment but no path (urllib3's
 *   backwards compatibility).
 *
 * @throws TypeError if `url` is not a string.
 * @throws LocationParseError for an empty or whitespace-only URL, a port
 *   that is not a number from 0 to 65535, a malformed IPv6 literal, a host
 *   holding whitespace, control characters or a stray `%`, an IDN that
 *   does not convert, or a `\` in the authority.
 */
export function parseUrl(url: string): Url {
  if (typeof url !== 'string') throw new TypeError(`A URL must be a string, not ${url === null ? 'null' : typeof url}`);
  if (url.trim() === '') throw new LocationParseError(url, 'empty URL');

  let scheme: string | null = null;
  let i = 0;
  let hasAuthority = false;
  const m = SCHEME_RE.exec(url);
  if (m !== null && !HOST_PORT_RE.test(url)) {
    scheme = m[1]!.toLowerCase();
    i = m[0].length;
    if (url.startsWith('//', i)) {
      hasAuthority = true;
      i += 2;
    }
  } else if (url.startsWith('//')) {
    hasAuthority = true;
    i = 2;
  } else if (!url.startsWith('/')) {
    // No scheme and no leading "/": the URL starts with its authority, as
    // urllib3 reads `google.com/mail` (RFC 3986 alone would call it a path).
    hasAuthority = true;
  }

  let auth: string | null = null;
  let host: string | null = null;
  let port: number | null = null;
  const normalize = isNormalizable(scheme);

  if (hasAuthority) {
    // The authority ends at the first "/", "?" or "#" (§3.2).
    let end = i;
    while (end < url.length) {
      const c = url.charCodeAt(end);
      if (c === 0x2f || c === 0x3f || c === 0x23) break;
      end++;
    }
    const authority = url.slice(i, end);
    i = end;
    if (authority !== '') {
      // RFC 3986 reads "\" as an ordinary character, the WHATWG URL
      // standard as a "/": in `http://a\@b/` one takes the host to be b,
      // the other a. A URL checked with one parser must not reach a
      // different host under the other, so neither reading is chosen.
      if (authority.includes('\\')) throw new LocationParseError(url, 'a "\\" in the authority');
      // The userinfo ends at the last "@": no "@" may appear in the host
      // (§3.2), while passwords may hold one unencoded in practice.
      const at = authority.lastIndexOf('@');
      if (at > 0) {
        auth = authority.slice(0, at);
        if (normalize) auth = encodeInvalidChars(auth, USERINFO_CHARS);
      }
      [host, port] = parseHostPort(authority.slice(at + 1), scheme, url);
    }
  }

  let path: string | null;
  let query: string | null = null;
  let fragment: string | null = null;
  const hash = url.indexOf('#', i);
  const pathAndQuery = hash === -1 ? url.slice(i) : url.slice(i, hash);
  if (hash !== -1) fragment = url.slice(hash + 1);
  const q = pathAndQuery.indexOf('?');
  if (q === -1) {
    path = pathAndQuery;
  } else {
    path = pathAndQuery.slice(0, q);
    query = pathAndQuery.slice(q + 1);
  }

  if (normalize) {
    if (path !== '') path = encodeInvalidChars(removeDotSegments(path), PATH_CHARS);
    if (query !== null && query !== '') query = encodeInvalidChars(query, QUERY_CHARS);
    if (fragment !== null && fragment !== '') fragment = encodeInvalidChars(fragment, QUERY_CHARS);
  }
  if (path === '' && query === null && fragment === null) path = null;

  return new Url({ scheme, auth, host, port, path, query, fragment });
}

/** Splits `host[:port]` and checks both. An empty host is `null`. */
function parseHostPort(hostPort: string, scheme: string | null, url: string): [string | null, number | null] {
  let host: string;
  let portText: string | null = null;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close === -1) throw new LocationParseError(url, 'an IPv6 address without "]"');
    host = hostPort.slice(0, close + 1);
    const after = hostPort.slice(close + 1);
    if (after !== '') {
      if (after.charCodeAt(0) !== 0x3a) throw new LocationParseError(url, 'text after an IPv6 address');
      portText = after.slice(1);
    }
    host = normalizeIPv6(host, scheme, url);
  } else {
    const colon = hostPort.indexOf(':');
    if (colon === -1) {
      host = hostPort;
    } else {
      host = hostPort.slice(0, colon);
      portText = hostPort.slice(colon + 1);
    }
    host = normalizeRegName(host, scheme, url);
  }
  return [host === '' ? null : host, parsePort(portText, url)];
}

/**
 * The port: DIGITs (RFC 3986 §3.2.3), within TCP's range. Leading zeros
 * are allowed (`:0080` is 80); an empty port is no port.
 */
function parsePort(text: string | null, url: string): number | null {
  if (text === null || text === '') return null;
  let value = 0;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c < 0x30 || c > 0x39) throw new LocationParseError(url, `port ${JSON.stringify(text)} is not a number`);
    value = value * 10 + (c - 0x30);
    if (value > 65535) throw new LocationParseError(url, `port ${text} is above 65535`);
  }
  return value;
}

/**
 * An IPv6 literal (RFC 3986 §3.2.2) with an optional zone ID (RFC 6874),
 * `[addr%25zone]` or urllib3's `[addr%zone]`. It comes back lower-cased
 * with the zone as `%zone`: the form node:net takes to connect.
 */
function normalizeIPv6(bracketed: string, scheme: string | null, url: string): string {
  const inner = bracketed.slice(1, -1);
  const percent = inner.indexOf('%');
  const address = percent === -1 ? inner : inner.slice(0, percent);
  if (!isIPv6(address)) throw new LocationParseError(url, `invalid IPv6 address ${JSON.stringify(address)}`);
  if (percent === -1) return isNormalizable(scheme) ? bracketed.toLowerCase() : bracketed;
  let zone = inner.slice(percent + 1);
  // "%25" is the escaped "%" that RFC 6874 puts before the zone; a bare "%" is accepted too.
  if (zone.startsWith('25') && zone.length > 2) zone = zone.slice(2);
  if (zone === '') throw new LocationParseError(url, 'an empty IPv6 zone ID');
  for (let k = 0; k < zone.length; k++) {
    const c = zone.charCodeAt(k);
    if (c === 0x25 && isEscape(zone, k)) {
      k += 2;
    } else if (c >= 0x80 || ZONE_CHARS[c] === 0) {
      throw new LocationParseError(url, `invalid IPv6 zone ID ${JSON.stringify(zone)}`);
    }
  }
  if (!isNormalizable(scheme)) return bracketed;
  return `[${address.toLowerCase()}%${encodeInvalidChars(zone, ZONE_CHARS)}]`;
}

/**
 * A host name or IPv4 address. Whitespace and control characters, raw or
 * percent-encoded, are refused for every scheme: a CR or LF in a host
 * would end the Host header early, and no DNS name holds a space. `%` may only start an escape
 * (reg-name, RFC 3986 §3.2.2). For http(s), the name is lower-cased
 * (§6.2.2.1) and an internationalised one converted to ASCII with UTS #46
 * (node:url's domainToASCII, as the WHATWG URL standard does).
 */
function normalizeRegName(host: string, scheme: string | null, url: string): string {
  let ascii = true;
  for (let k = 0; k < host.length; k++) {
    const c = host.charCodeAt(k);
    if (c <= 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f)) {
      throw new LocationParseError(url, 'whitespace or a control character in the host');
    }
    if (c === 0x5b || c === 0x5d) throw new LocationParseError(url, 'a "[" or "]" outside an IPv6 address');
    if (c === 0x25) {
      if (!isEscape(host, k)) throw new LocationParseError(url, 'a "%" in the host that is not an escape');
      // An escaped CR, LF or space is the same character once decoded
      // (RFC 3986 §2.1), and no resolver takes it: refuse it as the raw one.
      const octet = parseInt(host.slice(k + 1, k + 3), 16);
      if (octet <= 0x20 || octet === 0x7f) throw new LocationParseError(url, 'an escaped whitespace or control character in the host');
    }
    if (c >= 0x80) ascii = false;
  }
  if (!isNormalizable(scheme)) return host;
  if (ascii) return host.toLowerCase();
  const converted = domainToASCII(host.toLowerCase());
  if (converted === '') throw new LocationParseError(url, `${JSON.stringify(host)} is not a valid internationalised domain name`);
  return converted;
}

/**
 * `[scheme, host, port]` of a URL, the scheme defaulting to `'http'`
 * (urllib3's `get_host`). IPv6 hosts keep their brackets.
 *
 * @throws LocationParseError as {@link parseUrl}.
 */
export function getHost(url: string): [scheme: string, host: string | null, port: number | null] {
  const p = parseUrl(url);
  return [p.scheme ?? 'http', p.hostname, p.port];
}
