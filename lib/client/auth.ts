/**
 * Authentication for the Client, in httpx's shape: an {@link Auth} is an
 * auth flow that sees each request before it is sent and each response
 * after, and may answer a challenge by sending the request again.
 *
 * - {@link BasicAuth}: RFC 7617.
 * - {@link DigestAuth}: RFC 7616 (MD5, SHA-256, SHA-512-256 and their
 *   `-sess` forms; qop `auth` and the RFC 2069 form without qop; userhash;
 *   nonce reuse within a protection space; stale nonces; nextnonce).
 * - {@link FunctionAuth} and {@link toAuth}: a plain function as an Auth,
 *   and the shorthands the Client accepts (a `[user, password]` tuple is
 *   Basic, as in httpx).
 * - {@link netrcAuth}: Basic credentials from a .netrc file (see netrc.ts).
 * - {@link parseChallenges}: the WWW-Authenticate grammar of RFC 9110 §11.
 */

import { createHash, getHashes, randomBytes } from 'node:crypto';
import { HyperwireError } from '../common/errors.js';
import { TOKEN } from '../common/field-syntax.js';
import type { HTTPHeaderMap } from '../common/headers.js';
import { parseUrl } from '../pool/url.js';
import { findNetrcEntry, readNetrc } from './netrc.js';

// ---------------------------------------------------------------------------
// The contract between an Auth and the Client.

/** What an Auth sees of a request: it may change the headers (set/append/delete) before the request is sent. */
export interface AuthRequest {
  readonly method: string;
  /** absolute URL */
  readonly url: string;
  readonly headers: HTTPHeaderMap;
}

/** What an Auth sees of a response. */
export interface AuthResponse {
  readonly status: number;
  readonly headers: HTTPHeaderMap;
}

/**
 * httpx's auth flow: yields the request to send (usually the one it was given, with headers added);
 * receives its response; may yield another request (e.g. answering a 401 challenge), or return to accept the last response.
 */
export interface Auth {
  authFlow(request: AuthRequest): AsyncGenerator<AuthRequest, void, AuthResponse>;
}

/** A custom auth hook: changes the request's headers (or not) before it is sent. */
export type AuthFunction = (request: AuthRequest) => void | Promise<void>;

/** What the Client accepts as `auth`: an {@link Auth}, a `[user, password]` tuple (Basic), or an {@link AuthFunction}. */
export type AuthInput = Auth | readonly [username: string, password: string] | AuthFunction;

// ---------------------------------------------------------------------------
// Basic (RFC 7617).

/** Whether `s` holds a CTL (RFC 5234 B.1: %x00-1F / %x7F). */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * HTTP Basic authentication (RFC 7617): sends
 * `Authorization: Basic base64(user-id ":" password)` with every request,
 * without waiting for a challenge (as httpx and requests do).
 *
 * The credentials are encoded as UTF-8, the one charset RFC 7617 §2.1
 * defines, and the one servers that send `charset="UTF-8"` ask for.
 */
export class BasicAuth implements Auth {
  /** The user-id sent. */
  readonly username: string;
  // A private field keeps the credentials out of util.inspect and JSON.
  readonly #authorization: string;

  /**
   * @throws TypeError when either argument is not a string, the user-id
   * holds a colon (RFC 7617 §2: such a user-id is invalid, since the server
   * splits at the first colon), or either holds a control character (§2).
   */
  constructor(username: string, password: string) {
    if (typeof username !== 'string' || typeof password !== 'string') throw new TypeError('BasicAuth needs a username and a password, both strings');
    if (username.includes(':')) throw new TypeError('A Basic user-id may not contain ":" (RFC 7617 §2)');
    if (hasControl(username) || hasControl(password)) throw new TypeError('Basic credentials may not contain control characters (RFC 7617 §2)');
    this.username = username;
    this.#authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  }

  /** Sets the Authorization header and accepts whatever comes back. */
  async *authFlow(request: AuthRequest): AsyncGenerator<AuthRequest, void, AuthResponse> {
    request.headers.set('Authorization', this.#authorization);
    yield request;
  }
}

// ---------------------------------------------------------------------------
// A function as an Auth.

/** An {@link Auth} from a function that may change each request's headers before it is sent. */
export class FunctionAuth implements Auth {
  readonly #fn: AuthFunction;

  /** @throws TypeError unless `fn` is a function. */
  constructor(fn: AuthFunction) {
    if (typeof fn !== 'function') throw new TypeError('FunctionAuth needs a function');
    this.#fn = fn;
  }

  /** Runs the function (awaiting it when it returns a promise), sends the request once and accepts the response. */
  async *authFlow(request: AuthRequest): AsyncGenerator<AuthRequest, void, AuthResponse> {
    await this.#fn(request);
    yield request;
  }
}

/**
 * Normalises what the Client accepts as `auth`: `undefined` stays
 * `undefined`; a `[user, password]` tuple becomes {@link BasicAuth} (as in
 * httpx); a function becomes {@link FunctionAuth}; an {@link Auth} is
 * returned as it is.
 *
 * @throws TypeError for anything else (including a tuple that is not two
 * strings), and whatever {@link BasicAuth} throws for its credentials.
 */
export function toAuth(x: AuthInput | undefined): Auth | undefined {
  if (x === undefined) return undefined;
  if (typeof x === 'function') return new FunctionAuth(x);
  if (Array.isArray(x)) {
    const pair = x as readonly unknown[];
    if (pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') throw new TypeError('auth as an array must be [username, password], both strings');
    return new BasicAuth(pair[0], pair[1]);
  }
  if (x !== null && typeof x === 'object' && typeof (x as Partial<Auth>).authFlow === 'function') return x as Auth;
  throw new TypeError('auth must be an Auth, a [username, password] pair or a function');
}

// ---------------------------------------------------------------------------
// .netrc.

/**
 * Basic credentials for `url` from a .netrc file (`NETRC`, else
 * `~/.netrc`; see netrc.ts for the format and the matching rules): the
 * entry for the URL's host name (case-insensitive; the port is ignored, as
 * curl and Python do), else the `default` entry.
 *
 * Returns `undefined`, never throws, when the URL has no host, there is no
 * file or it cannot be read, the file is malformed (it is then ignored as a
 * whole), no entry applies, the entry has no password (httpx's rule), or
 * its login cannot be a Basic user-id (it holds a colon or a control
 * character). A missing login is sent as an empty user-id.
 *
 * @param env Where `NETRC` is read; defaults to `process.env`.
 */
export function netrcAuth(url: string, env: NodeJS.ProcessEnv = process.env): BasicAuth | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined;
  }
  // An IPv6 literal is written in .netrc without the brackets a URL needs.
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') return undefined;
  const entries = readNetrc(env);
  if (entries === undefined) return undefined;
  const entry = findNetrcEntry(entries, host);
  if (entry === undefined || entry.password === undefined || entry.password === '') return undefined;
  try {
    return new BasicAuth(entry.login ?? '', entry.password);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// WWW-Authenticate (RFC 9110 §11.2, §11.6.1).

/** One challenge of a WWW-Authenticate (or Proxy-Authenticate) field. */
export interface AuthChallenge {
  /** The auth-scheme as sent; compare it case-insensitively (RFC 9110 §11.1). */
  readonly scheme: string;
  /** The token68, for a challenge that carries one instead of parameters. */
  readonly token68: string | undefined;
  /** The auth-params by lower-cased name (RFC 9110 §11.2), quoted-strings unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

const enum Char {
  TAB = 0x09,
  SP = 0x20,
  DQUOTE = 0x22,
  COMMA = 0x2c,
  EQUALS = 0x3d,
  BACKSLASH = 0x5c,
}

function isTchar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

/** token68 characters (RFC 9110 §11.2), without the trailing '='. */
function isToken68Char(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x7e || // ~
    c === 0x2b || // +
    c === 0x2f // /
  );
}

function skipWs(s: string, i: number): number {
  while (i < s.length && (s.charCodeAt(i) === Char.SP || s.charCodeAt(i) === Char.TAB)) i++;
  return i;
}

function scanToken(s: string, i: number): number {
  while (i < s.length && isTchar(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Reads a quoted-string starting at the DQUOTE at `i` (RFC 9110 §5.6.4):
 * qdtext is HTAB, SP, VCHAR except `"` and `\`, and obs-text; a
 * quoted-pair `\` escapes HTAB, SP, VCHAR or obs-text. Returns the value and
 * the index after the closing quote, `'invalid'` for a control character
 * inside, or `'unterminated'`.
 */
function readQuoted(s: string, i: number): [string, number] | 'invalid' | 'unterminated' {
  let out = '';
  let invalid = false;
  for (i++; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c === Char.DQUOTE) return invalid ? 'invalid' : [out, i + 1];
    if (c === Char.BACKSLASH) {
      if (++i >= s.length) break;
      c = s.charCodeAt(i);
    }
    if ((c < 0x20 && c !== Char.TAB) || c === 0x7f) invalid = true;
    out += s[i];
  }
  return 'unterminated';
}

/** The index of the next list separator (a comma outside quotes), or the end. */
function skipElement(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === Char.COMMA) return i;
    if (c === Char.DQUOTE) {
      // Skip the quoted-string whole, so a comma inside it does not end the element.
      for (i++; i < s.length && s.charCodeAt(i) !== Char.DQUOTE; i++) if (s.charCodeAt(i) === Char.BACKSLASH) i++;
    }
    i++;
  }
  return s.length;
}

interface ChallengeBuilder {
  scheme: string;
  token68: string | undefined;
  params: Map<string, string>;
  bad: boolean;
}

/**
 * Reads one auth-param list (`name=value` elements separated by commas)
 * starting at `i`, into `into`, stopping before an element that is not a
 * parameter (a new challenge's scheme) or at the end. Returns where it
 * stopped. A malformed parameter marks `into` bad and is skipped.
 */
function readParams(s: string, i: number, into: ChallengeBuilder): number {
  for (;;) {
    // #rule: empty elements and OWS around commas are allowed (RFC 9110 §5.6.1.2).
    while (i < s.length && (s.charCodeAt(i) === Char.COMMA || s.charCodeAt(i) === Char.SP || s.charCodeAt(i) === Char.TAB)) i++;
    if (i >= s.length) return i;
    const nameEnd = scanToken(s, i);
    if (nameEnd === i) {
      into.bad = true;
      i = skipElement(s, i);
      continue;
    }
    let j = skipWs(s, nameEnd);
    if (s.charCodeAt(j) !== Char.EQUALS) return i; // a token alone: the next challenge's scheme
    j = skipWs(s, j + 1);
    let value: string;
    if (s.charCodeAt(j) === Char.DQUOTE) {
      const quoted = readQuoted(s, j);
      if (quoted === 'unterminated') {
        into.bad = true;
        return s.length; // nothing after an unterminated quote can be placed
      }
      if (quoted === 'invalid') {
        into.bad = true;
        i = skipElement(s, j);
        continue;
      }
      [value, j] = quoted;
    } else {
      const end = scanToken(s, j);
      if (end === j) {
        into.bad = true;
        i = skipElement(s, j);
        continue;
      }
      value = s.slice(j, end);
      j = end;
    }
    const name = s.slice(i, nameEnd).toLowerCase();
    // RFC 9110 §11.2: each parameter name MUST only occur once per challenge.
    if (into.params.has(name) || into.token68 !== undefined) into.bad = true;
    else into.params.set(name, value);
    i = skipWs(s, j);
    if (i < s.length && s.charCodeAt(i) !== Char.COMMA) {
      into.bad = true;
      i = skipElement(s, i);
    }
  }
}

function parseChallengeLine(s: string, out: AuthChallenge[]): void {
  let i = 0;
  for (;;) {
    while (i < s.length && (s.charCodeAt(i) === Char.COMMA || s.charCodeAt(i) === Char.SP || s.charCodeAt(i) === Char.TAB)) i++;
    if (i >= s.length) return;
    const schemeEnd = scanToken(s, i);
    if (schemeEnd === i || s.charCodeAt(skipWs(s, schemeEnd)) === Char.EQUALS) {
      // Not a scheme: a stray parameter or stray characters with no challenge to belong to.
      i = skipElement(s, i);
      continue;
    }
    const challenge: ChallengeBuilder = { scheme: s.slice(i, schemeEnd), token68: undefined, params: new Map(), bad: false };
    let j = skipWs(s, schemeEnd);
    if (j < s.length && s.charCodeAt(j) !== Char.COMMA) {
      if (j === schemeEnd) {
        // RFC 9110 §11.2: 1*SP separates the scheme from what follows.
        challenge.bad = true;
        j = skipElement(s, j);
      } else {
        // token68 or the first auth-param: a token68 is followed by the end or a comma,
        // a parameter's '=' by its value.
        let k = j;
        while (k < s.length && isToken68Char(s.charCodeAt(k))) k++;
        if (k > j) {
          while (k < s.length && s.charCodeAt(k) === Char.EQUALS) k++;
          const after = skipWs(s, k);
          if (after >= s.length || s.charCodeAt(after) === Char.COMMA) {
            challenge.token68 = s.slice(j, k);
            j = after;
          }
        }
      }
    }
    i = readParams(s, j, challenge);
    if (!challenge.bad) out.push({ scheme: challenge.scheme, token68: challenge.token68, params: challenge.params });
  }
}

/**
 * Parses the values of a WWW-Authenticate (or Proxy-Authenticate) field
 * into challenges, in order (RFC 9110 §11.6.1: one field line may hold
 * several challenges, and a response may carry several field lines).
 *
 * Parameters are `token = (token / quoted-string)` with optional spaces
 * around `=`; quoted-strings are unescaped; commas inside them do not split.
 * A challenge that breaks the grammar (an unterminated quoted-string, a
 * parameter without a value, a repeated parameter name, characters where a
 * parameter belongs) is left out, and the parser resumes at the next comma,
 * so one bad challenge does not hide the others.
 *
 * @param fieldValues One field value, or every value of the field (e.g.
 * `headers.get('www-authenticate')`).
 */
export function parseChallenges(fieldValues: string | readonly string[]): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  for (const value of typeof fieldValues === 'string' ? [fieldValues] : fieldValues) parseChallengeLine(value, out);
  return out;
}

/** Parses a bare auth-param list such as an Authentication-Info value (RFC 7616 §3.5); undefined if malformed. */
function parseAuthParams(value: string): Map<string, string> | undefined {
  const into: ChallengeBuilder = { scheme: '', token68: undefined, params: new Map(), bad: false };
  const end = readParams(value, 0, into);
  return into.bad || end < value.length ? undefined : into.params;
}

// ---------------------------------------------------------------------------
// Digest (RFC 7616).

/** Node's crypto has SHA-512/256 in every OpenSSL it ships with since 1.1.1; checked rather than assumed. */
const HAS_SHA512_256 = getHashes().includes('sha512-256');

interface DigestAlgorithm {
  /** The node:crypto hash. */
  readonly hash: string;
  /** A `-sess` variant (RFC 7616 §3.4.2). */
  readonly sess: boolean;
}

// RFC 7616 §6.1 (the Hash Algorithms for HTTP Digest Authentication registry).
const DIGEST_ALGORITHMS = new Map<string, DigestAlgorithm>([
  ['MD5', { hash: 'md5', sess: false }],
  ['MD5-SESS', { hash: 'md5', sess: true }],
  ['SHA-256', { hash: 'sha256', sess: false }],
  ['SHA-256-SESS', { hash: 'sha256', sess: true }],
  ['SHA-512-256', { hash: 'sha512-256', sess: false }],
  ['SHA-512-256-SESS', { hash: 'sha512-256', sess: true }],
]);

/** A Digest challenge this client can answer. */
interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  /** The algorithm parameter as sent, echoed in the answer; undefined when absent (MD5 is then meant). */
  readonly algorithmParam: string | undefined;
  readonly algorithm: DigestAlgorithm;
  /** 'auth', or undefined for a challenge without qop (RFC 2069). */
  readonly qop: 'auth' | undefined;
  /** The userhash parameter: undefined when absent. */
  readonly userhash: boolean | undefined;
  readonly stale: boolean;
  readonly domain: string | undefined;
}

/** Why a Digest challenge cannot be answered, or the challenge itself. */
function readDigestChallenge(challenge: AuthChallenge): DigestChallenge | string {
  const p = challenge.params;
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  if (realm === undefined) return 'no realm';
  if (nonce === undefined) return 'no nonce';
  const algorithmParam = p.get('algorithm');
  // Absent means MD5 (RFC 7616 §3.3); names are compared case-insensitively, as curl and httpx do.
  const algorithmName = (algorithmParam ?? 'MD5').toUpperCase();
  const algorithm = DIGEST_ALGORITHMS.get(algorithmName);
  if (algorithm === undefined) return `algorithm ${algorithmParam} is not supported`;
  if (algorithm.hash === 'sha512-256' && !HAS_SHA512_256) return `algorithm ${algorithmParam} needs SHA-512/256, which this Node's crypto does not provide`;
  let qop: 'auth' | undefined;
  const qopParam = p.get('qop');
  if (qopParam !== undefined) {
    // A quoted list of tokens (RFC 7616 §3.3); "auth" is chosen whenever offered, since
    // "auth-int" needs a hash of the body, which the flow does not see (and may be a stream).
    const offered = qopParam.split(',').map((q) => q.trim().toLowerCase());
    if (!offered.includes('auth')) return `qop "${qopParam}" offers no "auth" (auth-int is not supported)`;
    qop = 'auth';
  } else if (algorithm.sess) {
    // A -sess session key needs a cnonce, and without qop no cnonce may be sent (RFC 2617
    // §3.2.2); RFC 2069, the only form without qop, has no -sess algorithms.
    return `algorithm ${algorithmParam} without qop cannot be answered`;
  }
  const userhash = p.get('userhash');
  return {
    realm,
    nonce,
    opaque: p.get('opaque'),
    algorithmParam,
    algorithm,
    qop,
    userhash: userhash === undefined ? undefined : userhash.toLowerCase() === 'true',
    stale: p.get('stale')?.toLowerCase() === 'true',
    domain: p.get('domain'),
  };
}

/**
 * The Digest challenge to answer: the first one this client supports, as
 * RFC 7616 §3.7 asks (a server lists one challenge per algorithm, most
 * preferred first). `null` when there is no Digest challenge at all; the
 * reasons when there are some but none can be answered.
 */
function chooseDigestChallenge(challenges: readonly AuthChallenge[]): DigestChallenge | string[] | null {
  const reasons: string[] = [];
  for (const challenge of challenges) {
    if (challenge.scheme.toLowerCase() !== 'digest') continue;
    const read = readDigestChallenge(challenge);
    if (typeof read !== 'string') return read;
    reasons.push(read);
  }
  return reasons.length === 0 ? null : reasons;
}

/** A 401 whose Digest challenges this client cannot answer (an algorithm or qop it lacks, or a malformed challenge). */
export class DigestAuthError extends HyperwireError {
  /** @param message Says why each Digest challenge was refused. */
  constructor(message: string) {
    super('HW_ERR_DIGEST_CHALLENGE', message, { scope: 'stream' });
  }
}

/** Options of {@link DigestAuth}. */
export interface DigestAuthOptions {
  /**
   * Makes the client nonce for each answer (RFC 7616 §3.4: an opaque,
   * quoted, ASCII-only string). Defaults to 16 random octets in hex; pass a
   * fixed one only to reproduce known values, such as RFC 7616's examples.
   */
  cnonce?: () => string;
  /**
   * How many protection spaces (origin and realm, or a `domain` list) are
   * remembered for answering without waiting for a 401; the least recently
   * challenged is forgotten first. Default 64.
   */
  maxProtectionSpaces?: number;
}

/** A path prefix on an origin: part of a protection space (RFC 7616 §3.3, `domain`). */
interface SpaceEntry {
  readonly origin: string;
  readonly path: string;
}

/** What is remembered of an answered challenge, to answer later requests in its protection space at once. */
interface DigestSession {
  readonly challenge: DigestChallenge;
  readonly spaces: readonly SpaceEntry[];
  nonce: string;
  /** The last nonce count sent with `nonce`. */
  nc: number;
  /** H(username ":" realm ":" password), per realm. */
  readonly ha1Base: string;
  /** For -sess: the cnonce of the first answer to `nonce`, and the session key it gave. */
  cnoncePrime: string | undefined;
  sessionKey: string | undefined;
}

/** The origin of a parsed URL with its port made explicit, and its path. */
function originAndPath(url: string): SpaceEntry & { readonly requestUri: string } {
  const parsed = parseUrl(url);
  const scheme = parsed.scheme ?? 'http';
  const port = parsed.port ?? (scheme === 'https' ? 443 : 80);
  const path = parsed.path === null || parsed.path === '' ? '/' : parsed.path;
  return { origin: `${scheme}://${parsed.host ?? ''}:${port}`, path, requestUri: parsed.requestUri };
}

/** Quotes a value as a quoted-string (RFC 7616 §3.4.5), escaping `"` and `\`. */
function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** RFC 8187 §3.2.1 attr-char: what may stand unencoded in an ext-value. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/** `UTF-8''…` (RFC 8187 §3.2), for the `username*` parameter (RFC 7616 §3.4). */
function extValue(value: string): string {
  let out = "UTF-8''";
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Whether `s` can go in a quoted-string as it is: printable ASCII only (RFC 7616 §3.4: else username*). */
function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function checkCnonce(cnonce: unknown): string {
  // Sent inside quotes and hashed as octets: ASCII without '"', '\' or spaces keeps both unambiguous.
  if (typeof cnonce !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(cnonce)) {
    throw new TypeError('A Digest cnonce must be a non-empty string of visible ASCII characters other than \'"\' and \'\\\'');
  }
  return cnonce;
}

/** At most this many stale re-answers per request, so a server that always says stale cannot loop the client. */
const MAX_STALE_ANSWERS = 3;

/**
 * HTTP Digest authentication (RFC 7616).
 *
 * The first request goes out without credentials. On a 401 whose
 * WWW-Authenticate holds a Digest challenge, the first challenge it
 * supports (RFC 7616 §3.7) is answered once: MD5, SHA-256 or SHA-512-256,
 * plain or `-sess`; qop `auth` (chosen when the server offers
 * `auth,auth-int`), or the RFC 2069 form when the challenge has no qop;
 * the user name hashed when the server asks for `userhash`, sent as
 * `username*` (RFC 8187) when it is not printable ASCII; `opaque` echoed;
 * `nc` as 8 hex digits; a fresh random cnonce.
 *
 * Later requests in the same protection space (the origin, or the URIs of
 * the challenge's `domain` parameter, RFC 7616 §3.3) are answered at once
 * with the same nonce and the next nonce count, without waiting for a 401
 * (RFC 7616 §3.6, and httpx). A 401 with `stale=true` and a new nonce is
 * answered again with that nonce without counting as a failure (at most 3
 * times per request); any other 401 after an answer is returned to the
 * caller, and the protection space is forgotten. An `Authentication-Info`
 * with `nextnonce` (§3.5) moves the protection space to that nonce.
 *
 * User name and password are hashed as UTF-8 (the charset §4 allows);
 * realm and nonce as the octets the server sent. A 401 with no Digest
 * challenge is returned as it is.
 *
 * One DigestAuth may serve concurrent requests: each takes its own nonce
 * count. It does not check the server's `rspauth`.
 */
export class DigestAuth implements Auth {
  /** The user name answered with. */
  readonly username: string;
  readonly #password: string;
  readonly #cnonce: () => string;
  readonly #maxSpaces: number;
  /** Least recently challenged first. */
  #sessions: DigestSession[] = [];

  /**
   * @throws TypeError when the user name or password is not a string, or an
   * option is of the wrong type.
   */
  constructor(username: string, password: string, options: DigestAuthOptions = {}) {
    if (typeof username !== 'string' || typeof password !== 'string') throw new TypeError('DigestAuth needs a username and a password, both strings');
    if (options.cnonce !== undefined && typeof options.cnonce !== 'function') throw new TypeError('DigestAuth cnonce must be a function');
    const maxSpaces = options.maxProtectionSpaces ?? 64;
    if (!Number.isInteger(maxSpaces) || maxSpaces < 0) throw new TypeError('DigestAuth maxProtectionSpaces must be a non-negative integer');
    this.username = username;
    this.#password = password;
    this.#cnonce = options.cnonce ?? (() => randomBytes(16).toString('hex'));
    this.#maxSpaces = maxSpaces;
  }

  /**
   * Answers in advance when the request is in a known protection space, and
   * answers a Digest challenge once (plus stale nonces).
   *
   * @throws DigestAuthError (from the flow's `next(response)`) when a 401
   * holds Digest challenges of which none can be answered.
   */
  async *authFlow(request: AuthRequest): AsyncGenerator<AuthRequest, void, AuthResponse> {
    const target = originAndPath(request.url);
    let session = this.#find(target);
    if (session !== undefined) this.#authorize(session, request, target.requestUri);
    let response = yield request;
    let answered = false;
    let staleAnswers = 0;
    while (response.status === 401) {
      const chosen = chooseDigestChallenge(parseChallenges(response.headers.get('www-authenticate')));
      if (chosen === null) {
        if (session !== undefined) this.#forget(session);
        return;
      }
      if (Array.isArray(chosen)) {
        if (session !== undefined) this.#forget(session);
        throw new DigestAuthError(`The server's Digest challenges cannot be answered: ${chosen.join('; ')}`);
      }
      if (answered) {
        // A stale nonce means the digest was right and only the nonce was old (RFC 7616 §3.3):
        // answer again with the new one. A repeated nonce would only loop.
        const retry = chosen.stale && session !== undefined && chosen.nonce !== session.nonce && staleAnswers < MAX_STALE_ANSWERS;
        if (!retry) {
          if (session !== undefined) this.#forget(session);
          return;
        }
        staleAnswers++;
      }
      // The first 401, whether the request went without credentials or with remembered ones
      // (the server may have forgotten the nonce without saying stale), is answered once.
      answered = true;
      if (session !== undefined) this.#forget(session);
      session = this.#remember(chosen, request.url, target);
      this.#authorize(session, request, target.requestUri);
      response = yield request;
    }
    if (session !== undefined) this.#nextNonce(session, response);
  }

  /** The newest session whose protection space holds the target. */
  #find(target: SpaceEntry): DigestSession | undefined {
    for (let i = this.#sessions.length - 1; i >= 0; i--) {
      const session = this.#sessions[i]!;
      if (session.spaces.some((space) => space.origin === target.origin && target.path.startsWith(space.path))) return session;
    }
    return undefined;
  }

  #forget(session: DigestSession): void {
    this.#sessions = this.#sessions.filter((s) => s !== session);
  }

  #remember(challenge: DigestChallenge, url: string, target: SpaceEntry): DigestSession {
    const spaces: SpaceEntry[] = [];
    // RFC 7616 §3.3: `domain` is a space-separated list of URIs, absolute or relative to the
    // challenged one, whose prefixes make the protection space; without it, the whole origin.
    for (const uri of (challenge.domain ?? '').split(/[ \t]+/)) {
      if (uri === '') continue;
      try {
        const space = originAndPath(new URL(uri, url).href);
        spaces.push({ origin: space.origin, path: space.path });
      } catch {
        // A URI that does not resolve widens nothing.
      }
    }
    if (spaces.length === 0) spaces.push({ origin: target.origin, path: '/' });
    const session: DigestSession = {
      challenge,
      spaces,
      nonce: challenge.nonce,
      nc: 0,
      ha1Base: this.#hash(challenge.algorithm, [Buffer.from(this.username, 'utf8'), Buffer.from(challenge.realm, 'latin1'), Buffer.from(this.#password, 'utf8')]),
      cnoncePrime: undefined,
      sessionKey: undefined,
    };
    // One session per origin and realm: a new challenge replaces the old one.
    this.#sessions = this.#sessions.filter((s) => !(s.challenge.realm === challenge.realm && s.spaces.some((space) => space.origin === target.origin)));
    this.#sessions.push(session);
    while (this.#sessions.length > this.#maxSpaces) this.#sessions.shift();
    return session;
  }

  /** Sets the Authorization header for the next use of the session's nonce (RFC 7616 §3.4). */
  #authorize(session: DigestSession, request: AuthRequest, uri: string): void {
    const { challenge } = session;
    const { algorithm } = challenge;
    if (session.nc >= 0xffffffff) session.nc = 0; // nc is 8 hex digits; a server will say stale long before
    const nc = ++session.nc;
    const ncHex = nc.toString(16).padStart(8, '0');
    const nonce = Buffer.from(session.nonce, 'latin1');

    let cnonce: string | undefined;
    let ha1 = session.ha1Base;
    if (algorithm.sess) {
      // RFC 7616 §3.4.2: the session key is made once, from the nonce and the cnonce of the
      // first request after the challenge. Later requests repeat that cnonce, so a server that
      // recomputes the key from each request's cnonce gets the same key as one that keeps it.
      if (session.cnoncePrime === undefined || session.sessionKey === undefined) {
        session.cnoncePrime = checkCnonce(this.#cnonce());
        session.sessionKey = this.#hash(algorithm, [Buffer.from(session.ha1Base, 'latin1'), nonce, Buffer.from(session.cnoncePrime, 'latin1')]);
      }
      cnonce = session.cnoncePrime;
      ha1 = session.sessionKey;
    } else if (challenge.qop !== undefined) {
      cnonce = checkCnonce(this.#cnonce());
    }

    // RFC 7616 §3.4.3: A2 = Method ":" request-uri, for qop=auth and for no qop.
    const ha2 = this.#hash(algorithm, [Buffer.from(request.method, 'latin1'), Buffer.from(uri, 'latin1')]);
    const response =
      challenge.qop === undefined
        ? // RFC 7616 §3.4.1 / RFC 2069: KD(H(A1), nonce ":" H(A2)).
          this.#hash(algorithm, [Buffer.from(ha1, 'latin1'), nonce, Buffer.from(ha2, 'latin1')])
        : // RFC 7616 §3.4.1: KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2)).
          this.#hash(algorithm, [
            Buffer.from(ha1, 'latin1'),
            nonce,
            Buffer.from(ncHex, 'latin1'),
            Buffer.from(cnonce!, 'latin1'),
            Buffer.from(challenge.qop, 'latin1'),
            Buffer.from(ha2, 'latin1'),
          ]);

    // RFC 7616 §3.4.4: with userhash=true the user name goes as H(username ":" realm);
    // otherwise as a quoted-string, or as username* (RFC 8187) when it is not printable ASCII.
    let username: string;
    if (challenge.userhash === true) {
      username = `username=${quote(this.#hash(algorithm, [Buffer.from(this.username, 'utf8'), Buffer.from(challenge.realm, 'latin1')]))}`;
    } else if (isPrintableAscii(this.username)) {
      username = `username=${quote(this.username)}`;
    } else {
      username = `username*=${extValue(this.username)}`;
    }
    // The order of RFC 7616 §3.9's examples.
    const parts = [username, `realm=${quote(challenge.realm)}`, `uri=${quote(uri)}`];
    if (challenge.algorithmParam !== undefined) parts.push(`algorithm=${challenge.algorithmParam}`);
    parts.push(`nonce=${quote(session.nonce)}`);
    if (cnonce !== undefined && challenge.qop !== undefined) parts.push(`nc=${ncHex}`, `cnonce=${quote(cnonce)}`, `qop=${challenge.qop}`);
    parts.push(`response=${quote(response)}`);
    if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
    if (challenge.userhash !== undefined) parts.push(`userhash=${challenge.userhash ? 'true' : 'false'}`);
    request.headers.set('Authorization', `Digest ${parts.join(', ')}`);
  }

  /** RFC 7616 §3.5: a `nextnonce` in Authentication-Info is the nonce to use next, counted from 1. */
  #nextNonce(session: DigestSession, response: AuthResponse): void {
    for (const value of response.headers.get('authentication-info')) {
      const next = parseAuthParams(value)?.get('nextnonce');
      if (next === undefined || next === session.nonce) continue;
      session.nonce = next;
      session.nc = 0;
      // A new nonce starts a new -sess session key (§3.4.2: made from the nonce it answers).
      session.cnoncePrime = undefined;
      session.sessionKey = undefined;
    }
  }

  /** H(part ":" part ":" …) in lower-case hex (RFC 7616 §3.2). */
  #hash(algorithm: DigestAlgorithm, parts: readonly Buffer[]): string {
    const h = createHash(algorithm.hash);
    parts.forEach((part, i) => {
      if (i > 0) h.update(':');
      h.update(part);
    });
    return h.digest('hex');
  }
}
