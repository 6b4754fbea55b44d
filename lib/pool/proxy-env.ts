/**
 * The proxy for a request, read from the environment as curl reads it.
 *
 * Sources, and the reference where they disagree with other clients:
 * - curl(1), ENVIRONMENT (https://curl.se/docs/manpage.html#ENVIRONMENT):
 *   `[scheme]_proxy`, `ALL_PROXY` and `NO_PROXY`, lower case winning.
 * - libcurl-env(3) (https://curl.se/libcurl/c/libcurl-env.html) and
 *   curl's lib/url.c (`detect_proxy`): the order in which they are read.
 * - CURLOPT_NOPROXY(3) (https://curl.se/libcurl/c/CURLOPT_NOPROXY.html) and
 *   curl's lib/noproxy.c (`Curl_check_noproxy`): how `NO_PROXY` matches.
 * - httpoxy (https://httpoxy.org/, CVE-2016-5385 and kin): why the
 *   upper-case `HTTP_PROXY` cannot be trusted under CGI.
 *
 * Where the rules here are not curl's, each is marked where it is made:
 * `HTTP_PROXY` is read outside CGI (curl never reads it); `NO_PROXY`
 * entries may carry a `:port`, blanks separate them as commas do, and an
 * IPv4-mapped IPv6 host meets IPv4 entries; a CIDR prefix means what the
 * documentation says where curl's code differs (`/0`, IPv6 prefixes that
 * are not a multiple of 8).
 *
 * Only node:net (isIP, BlockList) and node:url (domainToASCII) are used.
 * Nothing here reads `process.env` unless no environment is passed, so the
 * PoolManager (`proxyFromEnv: true`) and the layers above (`trustEnv`)
 * decide when the environment counts, and all of them share these rules.
 */

import { BlockList, isIP as netIsIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { parseUrl } from './url.js';

/**
 * The proxy settings of one environment, read once by {@link getProxyEnv}.
 * Each proxy is a URL with a scheme (see {@link normalizeProxyUrl}), or
 * `null` when no variable gives one.
 */
export interface ProxyEnv {
  /** For `http` URLs: `http_proxy`, else `HTTP_PROXY` outside CGI. */
  readonly httpProxy: string | null;
  /** For `https` URLs: `https_proxy`, else `HTTPS_PROXY`. */
  readonly httpsProxy: string | null;
  /** For either, when the scheme's own is unset: `all_proxy`, else `ALL_PROXY`. */
  readonly allProxy: string | null;
  /** `no_proxy`, else `NO_PROXY`, parsed; `null` when neither is set. */
  readonly noProxy: NoProxyList | null;
}

/**
 * One usable entry of a `NO_PROXY` list, as {@link parseNoProxy} read it.
 *
 * - `domain`: a host name, lower-case, ASCII (an IDN entry is converted to
 *   its punycode form, as URL hosts are), without a leading or trailing
 *   dot. It matches that host and every host below it.
 * - `ip`: an IPv4 or IPv6 network; a plain address is a network of one
 *   (`prefix` 32 or 128). It matches IP-literal hosts inside it.
 *
 * `port` is `null` when the entry names no port (any port matches).
 */
export type NoProxyEntry =
  | { readonly type: 'domain'; readonly name: string; readonly port: number | null }
  | {
      readonly type: 'ip';
      readonly family: 4 | 6;
      readonly address: string;
      readonly prefix: number;
      readonly port: number | null;
    };

/** A host as matching sees it: an IP address of a family, or a domain name. */
type HostKey = { readonly ip: true; readonly address: string; readonly family: 4 | 6 } | { readonly ip: false; readonly name: string };

/**
 * A parsed `NO_PROXY` value: which hosts go direct although a proxy is
 * set. Build it with {@link parseNoProxy}; it is immutable, so a pool can
 * parse the environment once and ask it for every request.
 */
export class NoProxyList {
  /** The value was `*` alone: no host uses a proxy. */
  readonly matchesAll: boolean;
  /** The entries that can match, in the order given. */
  readonly entries: readonly NoProxyEntry[];
  /**
   * Entries that were not understood and match nothing (a bad port or
   * prefix, a wildcard other than `*` alone), so that a caller can warn.
   * curl drops such entries silently; so does matching here.
   */
  readonly ignored: readonly string[];

  /** Domain name to the ports it is limited to, or `null` for any port. */
  readonly #domains = new Map<string, Set<number> | null>();
  /** IP networks by port; the `null` key holds those for any port. */
  readonly #networks = new Map<number | null, BlockList>();

  /** @internal Use {@link parseNoProxy}. */
  constructor(matchesAll: boolean, entries: readonly NoProxyEntry[], ignored: readonly string[]) {
    this.matchesAll = matchesAll;
    this.entries = Object.freeze([...entries]);
    this.ignored = Object.freeze([...ignored]);
    for (const entry of entries) {
      if (entry.type === 'domain') {
        const ports = this.#domains.get(entry.name);
        if (entry.port === null) this.#domains.set(entry.name, null);
        else if (ports === undefined) this.#domains.set(entry.name, new Set([entry.port]));
        else if (ports !== null) ports.add(entry.port);
      } else {
        let list = this.#networks.get(entry.port);
        if (list === undefined) {
          list = new BlockList();
          this.#networks.set(entry.port, list);
        }
        list.addSubnet(entry.address, entry.prefix, entry.family === 4 ? 'ipv4' : 'ipv6');
      }
    }
  }

  /**
   * Whether a request to `host` (on `port`, when known) goes direct.
   *
   * @param host A URL's host: a name (any case, a trailing dot allowed), an
   *   IPv4 address, or an IPv6 address with or without brackets (a zone ID
   *   is ignored).
   * @param port The request's port, the scheme's default filled in; `null`
   *   when unknown, in which case entries that name a port do not match.
   */
  matches(host: string, port: number | null = null): boolean {
    if (this.matchesAll) return true;
    const key = hostKey(host);
    if (key === null) return false;
    if (key.ip) {
      // BlockList compares an IPv4-mapped IPv6 address (::ffff:a.b.c.d,
      // RFC 4291 §2.5.5.2) with IPv4 rules and the reverse: the host
      // reached is the IPv4 one. Not curl's: it compares families apart.
      const family = key.family === 4 ? 'ipv4' : 'ipv6';
      if (this.#networks.get(null)?.check(key.address, family) === true) return true;
      return port !== null && this.#networks.get(port)?.check(key.address, family) === true;
    }
    // Walk the name's suffixes on label boundaries: "a.example.com", then
    // "example.com", then "com". This is curl's rule (lib/noproxy.c: an
    // exact match, or a tail match preceded by "."), so "example.com"
    // matches "a.example.com" but never "badexample.com".
    let name = key.name;
    for (;;) {
      const ports = this.#domains.get(name);
      if (ports === null || (ports !== undefined && port !== null && ports.has(port))) return true;
      const dot = name.indexOf('.');
      if (dot === -1) return false;
      name = name.slice(dot + 1);
    }
  }
}

/** The parsed lists of {@link shouldBypassProxy}'s string arguments, by value. */
const parsedLists = new Map<string, NoProxyList>();
const PARSED_LISTS_MAX = 16;

/**
 * Reads a `NO_PROXY` value as curl does (CURLOPT_NOPROXY(3), lib/noproxy.c),
 * with the one addition of ports.
 *
 * - `*` alone (spaces around it allowed) matches every host. `*` is the only
 *   wildcard: `*.example.com` is ignored, as curl matches it to nothing.
 * - Entries are separated by commas; blanks around them are ignored. curl
 *   also ends an entry at a blank and then stops reading the list at the
 *   first blank not followed by a comma, so `a.com b.com` covers `a.com`
 *   only; here blanks separate entries as commas do, so both are covered.
 * - A name matches itself and every host below it, case-insensitively.
 *   One leading and one trailing dot are dropped, as curl drops them, so
 *   `.example.com` also matches `example.com` itself.
 * - IPv4 and IPv6 addresses, with or without a CIDR prefix (`10.0.0.0/8`,
 *   `fe80::/10`); IPv6 with or without brackets (curl's documentation asks
 *   for none; `[::1]` is accepted as well). A prefix is what CURLOPT_NOPROXY
 *   documents, "the number of network bits ... to use in the comparison":
 *   `/0` covers the whole family (curl's code reads `/0` as "no prefix",
 *   an exact match), and prefixes that are not a multiple of 8 work for
 *   IPv6 (curl's Curl_cidr6_match, lib/noproxy.c, inverts the test of the
 *   partial byte, so fe80::/10 misses fe80::1 there).
 * - Not curl's: an entry may end in `:port` (`example.com:8443`,
 *   `10.0.0.1:80`, `[::1]:8080`); it then matches that port only. curl
 *   compares `example.com:8443` with the host name and so never matches.
 *   An IPv6 address takes a port only inside brackets, as `::1:80` is
 *   itself an address.
 * - Nothing is implicit: neither `localhost` nor `127.0.0.1` goes direct
 *   unless listed, as with curl (and unlike some clients).
 *
 * Never throws: an entry it cannot read is listed in
 * {@link NoProxyList.ignored} and matches nothing.
 *
 * @param value The variable's text; `null`, `undefined` or blank give a
 *   list that matches nothing.
 */
export function parseNoProxy(value: string | null | undefined): NoProxyList {
  if (value === null || value === undefined) return new NoProxyList(false, [], []);
  // curl compares the whole value with "*" (strcmp); blanks around it are
  // allowed here, as no host name can be blank-padded "*".
  if (value.trim() === '*') return new NoProxyList(true, [], []);
  const entries: NoProxyEntry[] = [];
  const ignored: string[] = [];
  for (const token of value.split(/[\s,]+/)) {
    if (token === '') continue;
    const entry = parseEntry(token);
    if (entry === null) ignored.push(token);
    else entries.push(entry);
  }
  return new NoProxyList(false, entries, ignored);
}

/** Up to five decimal digits: a TCP port, 0 to 65535. */
function parsePort(text: string): number | null {
  if (!/^[0-9]{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

/** One `NO_PROXY` entry, or `null` when it cannot match anything. */
function parseEntry(token: string): NoProxyEntry | null {
  let text = token.toLowerCase();
  let port: number | null = null;
  let bracketed = false;

  if (text.startsWith('[')) {
    // "[v6]", "[v6]:port", "[v6/bits]", "[v6]/bits" (RFC 3986 §3.2.2 brackets).
    const close = text.indexOf(']');
    if (close === -1) return null;
    const rest = text.slice(close + 1);
    text = text.slice(1, close);
    bracketed = true;
    if (rest.startsWith(':')) {
      port = parsePort(rest.slice(1));
      if (port === null) return null;
    } else if (rest.startsWith('/') && !text.includes('/')) {
      text += rest;
    } else if (rest !== '') {
      return null;
    }
  } else {
    // One colon is "host:port"; more make an IPv6 address, which cannot
    // carry a port outside brackets.
    const colon = text.indexOf(':');
    if (colon !== -1 && text.indexOf(':', colon + 1) === -1) {
      port = parsePort(text.slice(colon + 1));
      if (port === null) return null;
      text = text.slice(0, colon);
    }
  }

  const slash = text.indexOf('/');
  if (slash !== -1) {
    const address = text.slice(0, slash);
    const bits = text.slice(slash + 1);
    const family = isIP(address);
    if (family === 0 || (bracketed && family !== 6) || address.includes('%') || !/^[0-9]{1,3}$/.test(bits)) return null;
    const prefix = Number(bits);
    if (prefix > (family === 4 ? 32 : 128)) return null;
    return { type: 'ip', family, address, prefix, port };
  }

  // An address with a zone ID (fe80::1%eth0) is refused, as curl's
  // inet_pton refuses it: a zone names an interface of one machine.
  if (text.includes('%')) return null;
  // RFC 1034 §3.1: "example.com." is the same name as "example.com";
  // curl drops one trailing dot from entries and from the host.
  if (!bracketed && text.endsWith('.')) text = text.slice(0, -1);
  const family = isIP(text);
  if (bracketed) return family === 6 ? { type: 'ip', family, address: text, prefix: 128, port } : null;
  if (family !== 0) return { type: 'ip', family, address: text, prefix: family === 4 ? 32 : 128, port };

  // curl drops one leading dot, so ".example.com" matches what
  // "example.com" matches, the domain's own name included.
  if (text.startsWith('.')) text = text.slice(1);
  // "*" alone was handled by the caller; CURLOPT_NOPROXY(3): "The only
  // wildcard available is a single * character".
  if (text === '' || text.includes('*') || text.includes('/') || text.includes('[') || text.includes(']')) return null;
  if (!isAscii(text)) {
    // URL hosts reach us in punycode (parseUrl and the WHATWG parser both
    // convert, UTS #46), so an IDN entry must be compared in that form.
    const ascii = domainToASCII(text);
    if (ascii === '') return null;
    text = ascii;
  }
  return { type: 'domain', name: text, port };
}

/** node:net's isIP, typed by what it returns. */
function isIP(text: string): 0 | 4 | 6 {
  const family = netIsIP(text);
  return family === 4 || family === 6 ? family : 0;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** A last label that the WHATWG host parser reads as a number (0x7f, 0177, 127). */
const NUMERIC_LABEL = /(?:^|\.)(?:0x[0-9a-f]*|[0-9]+)$/;

/**
 * The host of a URL, ready for matching: brackets, zone ID and one
 * trailing dot removed, lower-cased; `null` for a host nothing matches.
 */
function hostKey(host: string): HostKey | null {
  let text = host.toLowerCase();
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) return null;
    text = text.slice(1, -1);
    const percent = text.indexOf('%');
    if (percent !== -1) text = text.slice(0, percent);
    return isIP(text) === 6 ? { ip: true, address: text, family: 6 } : null;
  }
  if (text.endsWith('.')) text = text.slice(0, -1);
  if (text === '') return null;
  const percent = text.indexOf('%');
  if (percent !== -1 && text.includes(':')) text = text.slice(0, percent);
  const family = isIP(text);
  if (family !== 0) return { ip: true, address: text, family };
  // "127.1" and "0x7f.0.0.1" are 127.0.0.1 to the resolver (inet_aton) and
  // to the WHATWG URL parser, and curl's URL parser normalises them too,
  // so they must meet IP entries in the form the connection will use.
  if (NUMERIC_LABEL.test(text)) {
    const normal = domainToASCII(text);
    if (isIP(normal) === 4) return { ip: true, address: normal, family: 4 };
  }
  return { ip: false, name: text };
}

/** What matching needs of a request URL. */
interface Target {
  readonly scheme: string;
  readonly host: string | null;
  readonly port: number | null;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 };

/**
 * Scheme, host and port of a request URL. A string is read with the pool's
 * {@link parseUrl} (a URL without a scheme is http, as urllib3 reads it), a
 * URL object as the WHATWG parser left it. The port is the scheme's
 * default when the URL gives none.
 */
function targetOf(url: string | URL): Target {
  let scheme: string;
  let host: string | null;
  let port: number | null;
  if (typeof url === 'string') {
    const parsed = parseUrl(url);
    scheme = parsed.scheme ?? 'http';
    host = parsed.host;
    port = parsed.port;
  } else {
    scheme = url.protocol.slice(0, -1).toLowerCase();
    host = url.hostname === '' ? null : url.hostname;
    port = url.port === '' ? null : Number(url.port);
  }
  return { scheme, host, port: port ?? DEFAULT_PORTS[scheme] ?? null };
}

/**
 * Whether a request to `url` goes direct, by the `NO_PROXY` rules of
 * {@link parseNoProxy}.
 *
 * A URL without a host matches nothing, as curl has "nothing to interrogate
 * the noproxy list with" (lib/noproxy.c). The port matched against entries
 * with a port is the URL's, or the scheme's default (80, 443).
 *
 * @param noProxy The variable's text, or a list parsed before; `null`,
 *   `undefined` or `''` bypass nothing.
 * @throws LocationParseError when `url` is a string {@link parseUrl} refuses.
 */
export function shouldBypassProxy(url: string | URL, noProxy: string | NoProxyList | null | undefined): boolean {
  if (noProxy === null || noProxy === undefined || noProxy === '') return false;
  const list = typeof noProxy === 'string' ? cachedList(noProxy) : noProxy;
  const target = targetOf(url);
  return target.host !== null && list.matches(target.host, target.port);
}

/** The list for a `NO_PROXY` text, kept for the next call with the same text. */
function cachedList(text: string): NoProxyList {
  let list = parsedLists.get(text);
  if (list === undefined) {
    list = parseNoProxy(text);
    // A bounded cache: the environment holds one or two values at a time.
    if (parsedLists.size >= PARSED_LISTS_MAX) parsedLists.clear();
    parsedLists.set(text, list);
  }
  return list;
}

/** `scheme://` at the start of a proxy value (RFC 3986 §3.1's scheme syntax). */
const HAS_SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;

/**
 * A proxy variable's value as a proxy URL: `null` when empty or blank (curl's
 * getenv treats an empty variable as unset), the value itself when it has a
 * scheme (`socks5h://…`, `https://…`), and `http://` put before it when it
 * has none, `http` being the default proxy type of CURLOPT_PROXY(3) and
 * curl guessing the scheme of a proxy URL without one (lib/url.c,
 * CURLU_GUESS_SCHEME). Blanks around the value are dropped.
 *
 * The port is left as given. A proxy URL without one is dialled on the
 * scheme's default port by the proxy layer, the same rule as for a proxy
 * passed in code; curl's own default is 1080 (CURLOPT_PROXY(3)), which
 * this deliberately does not write in.
 *
 * The value is not otherwise checked: the proxy layer parses it and
 * reports a value it cannot use, as curl fails a transfer with
 * CURLE_COULDNT_RESOLVE_PROXY rather than going direct.
 */
export function normalizeProxyUrl(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (text === '') return null;
  return HAS_SCHEME.test(text) ? text : `http://${text}`;
}

/** The variables read here, in the case that is looked up. */
const VARIABLES = new Set([
  'http_proxy',
  'HTTP_PROXY',
  'https_proxy',
  'HTTPS_PROXY',
  'all_proxy',
  'ALL_PROXY',
  'no_proxy',
  'NO_PROXY',
  'REQUEST_METHOD',
]);

/**
 * The proxy variables of `env`, each by its exact name.
 *
 * On Windows `process.env` answers `env.http_proxy` with the value of
 * `HTTP_PROXY` (its names are case-insensitive), which would let a CGI
 * server's `HTTP_PROXY` (a client's `Proxy:` header) in through the
 * lower-case name. Its keys keep the case they were set with, so the
 * names are taken from the keys, never looked up.
 */
function exactVariables(env: NodeJS.ProcessEnv): Map<string, string> {
  const found = new Map<string, string>();
  for (const name of Object.keys(env)) {
    if (!VARIABLES.has(name)) continue;
    const value = env[name];
    if (typeof value === 'string') found.set(name, value);
  }
  return found;
}

/**
 * Reads the proxy variables of an environment once, for
 * {@link proxyForUrl}. The rules, curl's except where marked:
 *
 * - For each of http, https, all: the lower-case variable, and the
 *   upper-case one only when the lower-case one is unset or empty (curl(1):
 *   "The lower case version has precedence"; curl's getenv returns no value
 *   for an empty variable, so an empty `https_proxy` lets `HTTPS_PROXY`
 *   through, and the same for `no_proxy` and `NO_PROXY`).
 * - `HTTP_PROXY` in upper case. curl never reads it ("http_proxy is an
 *   exception as it is only available in lower case"): under CGI (RFC 3875
 *   §4.1.18) a request's `Proxy:` header arrives as the variable
 *   `HTTP_PROXY`, so any client could choose the server's proxy (httpoxy).
 *   Not curl's rule, by this project's requirement: it is read, except
 *   when `REQUEST_METHOD` is present (set by every CGI server, RFC 3875
 *   §4.1.12), as Python's urllib and Go's net/http/httpproxy do. Present
 *   means present: an empty `REQUEST_METHOD` still marks CGI, erring on
 *   the side of not trusting `HTTP_PROXY`.
 * - `NO_PROXY` as {@link parseNoProxy} reads it.
 *
 * @param env Defaults to `process.env`, read when called.
 */
export function getProxyEnv(env: NodeJS.ProcessEnv = process.env): ProxyEnv {
  const vars = exactVariables(env);
  const pick = (lower: string, upper: string | null): string | null =>
    normalizeProxyUrl(vars.get(lower)) ?? (upper === null ? null : normalizeProxyUrl(vars.get(upper)));
  const cgi = vars.has('REQUEST_METHOD');
  // A blank no_proxy counts as unset, like an empty one: curl's getenv
  // gives no value for "", and a list of blanks holds no entry either.
  const lowerNoProxy = vars.get('no_proxy');
  const noProxyText = lowerNoProxy !== undefined && lowerNoProxy.trim() !== '' ? lowerNoProxy : vars.get('NO_PROXY');
  return {
    httpProxy: pick('http_proxy', cgi ? null : 'HTTP_PROXY'),
    httpsProxy: pick('https_proxy', 'HTTPS_PROXY'),
    allProxy: pick('all_proxy', 'ALL_PROXY'),
    noProxy: noProxyText === undefined || noProxyText.trim() === '' ? null : parseNoProxy(noProxyText),
  };
}

/**
 * The proxy for a request to `url` under settings read before with
 * {@link getProxyEnv}, or `null` to go direct.
 *
 * The scheme's variable wins over `ALL_PROXY` (curl(1): `ALL_PROXY` "Sets
 * the proxy server to use if no protocol-specific proxy is set"). Only
 * `http` and `https` URLs get a proxy: they are the schemes this client
 * speaks, and curl's `ws`/`wss` fallbacks belong to a WebSocket layer.
 * `NO_PROXY` is then checked against the URL's host and port, whichever
 * variable gave the proxy.
 *
 * @throws LocationParseError when `url` is a string {@link parseUrl} refuses.
 */
export function proxyForUrl(url: string | URL, proxyEnv: ProxyEnv): string | null {
  const target = targetOf(url);
  let proxy: string | null;
  if (target.scheme === 'https') proxy = proxyEnv.httpsProxy ?? proxyEnv.allProxy;
  else if (target.scheme === 'http') proxy = proxyEnv.httpProxy ?? proxyEnv.allProxy;
  else return null;
  if (proxy === null) return null;
  if (target.host !== null && proxyEnv.noProxy !== null && proxyEnv.noProxy.matches(target.host, target.port)) return null;
  return proxy;
}

/**
 * The proxy URL to use for a request to `url` according to `env`, or `null`
 * to go direct: {@link getProxyEnv} and {@link proxyForUrl} in one call.
 *
 * A caller asking for many URLs should call {@link getProxyEnv} once and
 * {@link proxyForUrl} per request, which reads and parses the environment
 * only once.
 *
 * @example
 * proxyFromEnvironment('https://example.com/', { https_proxy: 'proxy:3128' });
 * // 'http://proxy:3128'
 * proxyFromEnvironment('https://a.example.com/', { https_proxy: 'proxy:3128', no_proxy: 'example.com' });
 * // null
 *
 * @param env Defaults to `process.env`, read when called.
 * @throws LocationParseError when `url` is a string {@link parseUrl} refuses.
 */
export function proxyFromEnvironment(url: string | URL, env: NodeJS.ProcessEnv = process.env): string | null {
  return proxyForUrl(url, getProxyEnv(env));
}
