/**
 * The Client's cookie jar: tough-cookie's RFC 6265 jar (domain and path
 * matching, expiry, Secure, HttpOnly, SameSite and the public suffix list),
 * with httpx's small API on top. Cookies given as a plain object are sent
 * to every host, as httpx sends cookies set without a domain.
 */

import { Cookie, CookieJar } from 'tough-cookie';

/** Where a cookie applies, for {@link Cookies.get} and {@link Cookies.delete}. */
export interface CookieScope {
  /** The cookie's domain (without a leading dot); any when not given. */
  domain?: string;
  /** The cookie's path; any when not given. */
  path?: string;
}

/**
 * How a request relates to the site whose cookies it may carry
 * (RFC 6265bis §5.2): the caller's own request is same-site; a redirect to
 * another site is a cross-site top-level navigation (`lax`) for GET and
 * HEAD, and cross-site (`none`) otherwise.
 */
export type SameSiteContext = 'strict' | 'lax' | 'none';

/** A cookie jar that persists across requests. */
export class Cookies implements Iterable<[string, string]> {
  /** The tough-cookie jar underneath. */
  readonly jar: CookieJar;
  /** Cookies sent to every host. */
  private readonly everywhere = new Map<string, string>();

  constructor(init?: Cookies | CookieJar | Record<string, string> | Iterable<readonly [string, string]>) {
    if (init instanceof CookieJar) {
      this.jar = init;
      return;
    }
    if (init instanceof Cookies) {
      // A copy: the two jars go their own ways from here.
      const serialized = init.jar.serializeSync();
      this.jar = serialized === undefined ? newJar() : CookieJar.deserializeSync(serialized);
      for (const [k, v] of init.everywhere) this.everywhere.set(k, v);
      return;
    }
    this.jar = newJar();
    if (init === undefined) return;
    const entries = Symbol.iterator in Object(init) ? (init as Iterable<readonly [string, string]>) : Object.entries(init as Record<string, string>);
    for (const [name, value] of entries) this.set(name, value);
  }

  /**
   * Sets a cookie: for `url` when given (as a server's Set-Cookie would be
   * taken for it), else for every host.
   */
  set(name: string, value: string, url?: string): void {
    if (typeof name !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new TypeError(`Invalid cookie name ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || /[\x00-\x1f\x7f;]/.test(value)) throw new TypeError(`Invalid value for cookie ${name}`);
    if (url === undefined) this.everywhere.set(name, value);
    else this.jar.setCookieSync(`${name}=${value}`, url);
  }

  /** The value of the cookie `name` (the first, where several match the scope). */
  get(name: string, scope: CookieScope = {}): string | undefined {
    if (scope.domain === undefined && this.everywhere.has(name)) return this.everywhere.get(name);
    return this.matching(name, scope)[0]?.value;
  }

  /** Removes the cookies called `name` within `scope`. */
  delete(name: string, scope: CookieScope = {}): void {
    if (scope.domain === undefined) this.everywhere.delete(name);
    const store = this.jar.store;
    for (const c of this.matching(name, scope)) {
      // The memory store removes synchronously; its callback form runs at once.
      void store.removeCookie(c.domain ?? '', c.path ?? '/', c.key);
    }
  }

  /** Removes every cookie. */
  clear(): void {
    this.everywhere.clear();
    this.jar.removeAllCookiesSync();
  }

  /** How many cookies there are. */
  get size(): number {
    return this.everywhere.size + this.all().length;
  }

  /** Every cookie of the jar (those sent everywhere are not tough-cookie cookies and are left out). */
  all(): Cookie[] {
    const out: Cookie[] = [];
    const serialized = this.jar.serializeSync();
    for (const raw of serialized?.cookies ?? []) {
      const c = Cookie.fromJSON(raw);
      if (c !== undefined) out.push(c);
    }
    return out;
  }

  /** [name, value] of every cookie. */
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (const [k, v] of this.everywhere) yield [k, v];
    for (const c of this.all()) yield [c.key, c.value];
  }

  /** name -> value (the last of a name wins). */
  toJSON(): Record<string, string> {
    return Object.fromEntries(this);
  }

  /** @internal The Cookie field for a request to `url`, or '' for none. */
  headerFor(url: string, sameSite: SameSiteContext): string {
    let fromJar: string;
    try {
      fromJar = this.jar.getCookieStringSync(url, { sameSiteContext: sameSite });
    } catch {
      // A host the jar will not hold cookies for has none to send.
      fromJar = '';
    }
    if (this.everywhere.size === 0) return fromJar;
    const names = new Set(fromJar === '' ? [] : fromJar.split('; ').map((p) => p.slice(0, p.indexOf('='))));
    const extra = [...this.everywhere].filter(([k]) => !names.has(k)).map(([k, v]) => `${k}=${v}`);
    return [fromJar, ...extra].filter((s) => s !== '').join('; ');
  }

  /**
   * @internal Takes the Set-Cookie fields of a response to `url`; returns
   * the cookies taken. Cookies the rules refuse (a foreign domain, a
   * public suffix) are ignored, as a browser ignores them.
   */
  store(setCookies: readonly string[], url: string, sameSite: SameSiteContext): Cookie[] {
    const taken: Cookie[] = [];
    for (const header of setCookies) {
      const c = this.jar.setCookieSync(header, url, { ignoreError: true, sameSiteContext: sameSite });
      if (c !== undefined) taken.push(c);
    }
    return taken;
  }

  private matching(name: string, scope: CookieScope): Cookie[] {
    const domain = scope.domain?.replace(/^\./, '').toLowerCase();
    return this.all().filter((c) => c.key === name && (domain === undefined || c.domain === domain) && (scope.path === undefined || c.path === scope.path));
  }
}

/**
 * A jar that keeps cookies for special-use names such as `localhost`
 * (RFC 6761; a local development server sets them), while still refusing
 * cookies for a public suffix such as `com`; and that sends Secure cookies
 * over https only (RFC 6265 §5.4), not to http loopback hosts, which
 * browsers count as secure.
 */
function newJar(): CookieJar {
  return new CookieJar(undefined, { allowSpecialUseDomain: true, rejectPublicSuffixes: true, allowSecureOnLocal: false });
}
