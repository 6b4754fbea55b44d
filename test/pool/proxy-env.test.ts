import { describe, expect, it } from 'vitest';
import { LocationParseError } from '../../lib/pool/errors.js';
import {
  getProxyEnv,
  normalizeProxyUrl,
  parseNoProxy,
  proxyForUrl,
  proxyFromEnvironment,
  shouldBypassProxy,
} from '../../lib/pool/proxy-env.js';

/**
 * Sources cited below:
 * - curl(1): curl's man page, ENVIRONMENT (https://curl.se/docs/manpage.html).
 * - libcurl-env(3): https://curl.se/libcurl/c/libcurl-env.html.
 * - NOPROXY(3): CURLOPT_NOPROXY(3), https://curl.se/libcurl/c/CURLOPT_NOPROXY.html.
 * - noproxy.c / url.c / getenv.c: curl's lib/ sources (Curl_check_noproxy,
 *   detect_proxy, GetEnv), where the pages leave a case open.
 * - "not curl": a rule of this project that curl does not have (see
 *   lib/pool/proxy-env.ts for why).
 */

const P = 'http://proxy.test:3128';
const Q = 'http://other-proxy.test:8080';

type Row = readonly [url: string, env: NodeJS.ProcessEnv, expected: string | null];

const TABLE: ReadonlyArray<Row> = [
  // --- Which variable, by scheme (curl(1) ENVIRONMENT; libcurl-env(3)) ---
  ['https://example.com/', { https_proxy: P }, P],
  ['https://example.com/', { HTTPS_PROXY: P }, P],
  // curl(1): "The lower case version has precedence."
  ['https://example.com/', { https_proxy: P, HTTPS_PROXY: Q }, P],
  ['http://example.com/', { http_proxy: P }, P],
  // not curl: curl never reads HTTP_PROXY (curl(1): "http_proxy is an
  // exception as it is only available in lower case"); read here outside CGI.
  ['http://example.com/', { HTTP_PROXY: P }, P],
  ['http://example.com/', { http_proxy: P, HTTP_PROXY: Q }, P],
  // httpoxy: under CGI (REQUEST_METHOD set) HTTP_PROXY may be a client's
  // "Proxy:" header (RFC 3875 §4.1.18); url.c's comment gives the reason.
  ['http://example.com/', { HTTP_PROXY: P, REQUEST_METHOD: 'GET' }, null],
  ['http://example.com/', { http_proxy: P, REQUEST_METHOD: 'GET' }, P],
  ['http://example.com/', { HTTP_PROXY: Q, ALL_PROXY: P, REQUEST_METHOD: 'POST' }, P],
  // CGI concerns HTTP_* names only: HTTPS_PROXY is no request header.
  ['https://example.com/', { HTTPS_PROXY: P, REQUEST_METHOD: 'GET' }, P],
  // A scheme's variable serves that scheme only (libcurl-env(3): "A URL
  // like https://example.com makes libcurl use the https_proxy variable").
  ['http://example.com/', { https_proxy: P }, null],
  ['https://example.com/', { http_proxy: P }, null],
  // ALL_PROXY: "Sets the proxy server to use if no protocol-specific proxy is set."
  ['https://example.com/', { ALL_PROXY: P }, P],
  ['http://example.com/', { all_proxy: P, ALL_PROXY: Q }, P],
  ['https://example.com/', { https_proxy: P, all_proxy: Q }, P],
  ['https://example.com/', { HTTPS_PROXY: P, all_proxy: Q }, P],
  // The pool speaks http and https only.
  ['ftp://example.com/', { ftp_proxy: Q, all_proxy: P }, null],
  ['https://example.com/', {}, null],

  // --- Empty values count as unset (getenv.c: `env[0] ? strdup(env) : NULL`) ---
  ['https://example.com/', { https_proxy: '', HTTPS_PROXY: P }, P],
  ['https://example.com/', { https_proxy: '' }, null],
  ['https://example.com/', { https_proxy: '', all_proxy: P }, P],
  ['https://example.com/', { https_proxy: P, no_proxy: '', NO_PROXY: 'example.com' }, null],

  // --- Values without a scheme are http proxies (CURLOPT_PROXY(3): http:// is
  // the default; url.c parses proxies with CURLU_GUESS_SCHEME) ---
  ['https://example.com/', { https_proxy: 'proxy.test:3128' }, 'http://proxy.test:3128'],
  ['https://example.com/', { https_proxy: 'user:pw@proxy.test:3128' }, 'http://user:pw@proxy.test:3128'],
  ['https://example.com/', { https_proxy: '[::1]:3128' }, 'http://[::1]:3128'],
  ['https://example.com/', { https_proxy: 'socks5h://proxy.test:1080' }, 'socks5h://proxy.test:1080'],
  ['http://example.com/', { http_proxy: 'https://proxy.test' }, 'https://proxy.test'],

  // --- NO_PROXY: names (NOPROXY(3): "matched as either a domain which
  // contains the hostname, or the hostname itself") ---
  ['https://example.com/', { https_proxy: P, no_proxy: 'example.com' }, null],
  ['https://www.example.com/', { https_proxy: P, no_proxy: 'example.com' }, null],
  ['https://a.b.example.com/', { https_proxy: P, NO_PROXY: 'example.com' }, null],
  // noproxy.c, case C: "nonexample.com DOES NOT match 'example.com'".
  ['https://badexample.com/', { https_proxy: P, no_proxy: 'example.com' }, P],
  // NOPROXY(3): "ample.com" does not match "ample.com.org".
  ['https://example.com.org/', { https_proxy: P, no_proxy: 'example.com' }, P],
  // noproxy.c drops a leading dot from an entry: ".example.com" also
  // matches example.com itself.
  ['https://example.com/', { https_proxy: P, no_proxy: '.example.com' }, null],
  ['https://www.example.com/', { https_proxy: P, no_proxy: '.example.com' }, null],
  ['https://badexample.com/', { https_proxy: P, no_proxy: '.example.com' }, P],
  // Lower case wins for no_proxy as well (url.c reads no_proxy, then NO_PROXY).
  ['https://example.com/', { https_proxy: P, no_proxy: 'other.test', NO_PROXY: 'example.com' }, P],
  // NO_PROXY applies whichever variable gave the proxy.
  ['http://example.com/', { ALL_PROXY: P, NO_PROXY: 'example.com' }, null],
  // Lists: commas, blanks around entries, empty entries.
  ['https://example.com/', { https_proxy: P, no_proxy: ' other.test , example.com ,,' }, null],
  // Case-insensitive (noproxy.c: strncasecompare), both sides.
  ['https://WWW.Example.COM/', { https_proxy: P, no_proxy: 'EXAMPLE.com' }, null],
  // Trailing dots (noproxy.c: "ignore trailing dots"), on the host and the entry.
  ['https://www.example.com./', { https_proxy: P, no_proxy: 'example.com' }, null],
  ['https://www.example.com/', { https_proxy: P, no_proxy: 'example.com.' }, null],

  // --- "*" (NOPROXY(3): "a single * character, which matches all hosts") ---
  ['https://example.com/', { https_proxy: P, no_proxy: '*' }, null],
  ['http://10.0.0.1/', { http_proxy: P, NO_PROXY: '*' }, null],
  // noproxy.c compares the whole value with "*": inside a list it is no
  // wildcard, and "*.example.com" is none either ("The only wildcard").
  ['https://example.com/', { https_proxy: P, no_proxy: 'other.test,*' }, P],
  ['https://www.example.com/', { https_proxy: P, no_proxy: '*.example.com' }, P],

  // --- Nothing implicit: localhost and 127.0.0.1 go through the proxy
  // unless listed (curl has no implicit entries) ---
  ['http://localhost:8080/', { http_proxy: P }, P],
  ['http://127.0.0.1:8080/', { http_proxy: P, no_proxy: 'example.com' }, P],
  ['http://localhost:8080/', { http_proxy: P, no_proxy: 'localhost' }, null],

  // --- IP addresses and CIDR (NOPROXY(3), since 7.86.0) ---
  ['http://127.0.0.1:8080/', { http_proxy: P, no_proxy: '127.0.0.1' }, null],
  // NOPROXY(3)'s own example: "192.168.0.0/16" matches "all addresses starting with 192.168".
  ['http://192.168.44.5/', { http_proxy: P, no_proxy: '192.168.0.0/16' }, null],
  ['http://192.169.0.1/', { http_proxy: P, no_proxy: '192.168.0.0/16' }, P],
  ['http://10.200.3.4/', { http_proxy: P, no_proxy: '10.0.0.0/8' }, null],
  // An IP-literal host is not suffix-matched (noproxy.c compares IPv4
  // hosts with inet_pton only): "0.0.1" is no domain of 10.0.0.1.
  ['http://10.0.0.1/', { http_proxy: P, no_proxy: '0.0.1' }, P],
  ['http://10.0.0.1/', { http_proxy: P, no_proxy: '1' }, P],
  // NOPROXY(3): IPv6 "without enclosing brackets"; brackets accepted too.
  ['http://[::1]:8080/', { http_proxy: P, no_proxy: '::1' }, null],
  ['http://[::1]:8080/', { http_proxy: P, no_proxy: '[::1]' }, null],
  ['http://[::1]:8080/', { http_proxy: P, no_proxy: '::1/128' }, null],
  // Compared as addresses, not strings (noproxy.c uses inet_pton since 7.86.0).
  ['http://[::1]/', { http_proxy: P, no_proxy: '0:0:0:0:0:0:0:1' }, null],
  ['http://[fe80::1234]/', { http_proxy: P, no_proxy: 'fe80::/10' }, null],
  ['http://[fec0::1]/', { http_proxy: P, no_proxy: 'fe80::/10' }, P],

  // --- Ports on entries (not curl: curl compares "example.com:8443" with
  // the host name and never matches) ---
  ['https://example.com:8443/', { https_proxy: P, no_proxy: 'example.com:8443' }, null],
  ['https://example.com/', { https_proxy: P, no_proxy: 'example.com:8443' }, P],
  // The scheme's default port counts as the URL's port.
  ['https://example.com/', { https_proxy: P, no_proxy: 'example.com:443' }, null],
  ['http://[::1]:8080/', { http_proxy: P, no_proxy: '[::1]:8080' }, null],
  ['http://[::1]:9090/', { http_proxy: P, no_proxy: '[::1]:8080' }, P],
];

describe('proxyFromEnvironment: the table', () => {
  it('has at least 30 rows', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(30);
  });

  it.each(TABLE)('%s with %j -> %s', (url, env, expected) => {
    expect(proxyFromEnvironment(url, env)).toBe(expected);
    // A URL object gives the same answer as its text.
    expect(proxyFromEnvironment(new URL(url), env)).toBe(expected);
  });
});

describe('the CGI rule (httpoxy)', () => {
  it('ignores HTTP_PROXY whenever REQUEST_METHOD is present, even empty', () => {
    expect(proxyFromEnvironment('http://example.com/', { HTTP_PROXY: P, REQUEST_METHOD: '' })).toBeNull();
    expect(proxyFromEnvironment('http://example.com/', { HTTP_PROXY: P, REQUEST_METHOD: 'HEAD' })).toBeNull();
  });

  it('keeps the lower-case http_proxy and the other variables under CGI', () => {
    const env = { http_proxy: P, HTTPS_PROXY: Q, REQUEST_METHOD: 'GET' };
    expect(proxyFromEnvironment('http://example.com/', env)).toBe(P);
    expect(proxyFromEnvironment('https://example.com/', env)).toBe(Q);
  });

  it('looks names up by their exact case, so a case-insensitive environment cannot pass HTTP_PROXY off as http_proxy', () => {
    // Windows' process.env answers any case of a name; its keys keep the
    // case the variable was set with. This models it.
    const windowsLike = (vars: Record<string, string>): NodeJS.ProcessEnv =>
      new Proxy(vars, {
        get: (target, name) => {
          if (typeof name !== 'string') return undefined;
          const key = Object.keys(target).find((k) => k.toLowerCase() === name.toLowerCase());
          return key === undefined ? undefined : target[key];
        },
      });
    const env = windowsLike({ HTTP_PROXY: 'http://attacker.test', REQUEST_METHOD: 'GET' });
    expect(env['http_proxy']).toBe('http://attacker.test');
    expect(proxyFromEnvironment('http://example.com/', env)).toBeNull();
    // Outside CGI the same variable is read, by its own name.
    expect(proxyFromEnvironment('http://example.com/', windowsLike({ HTTP_PROXY: P }))).toBe(P);
  });
});

describe('lower-case precedence', () => {
  it('prefers each lower-case variable over its upper-case twin', () => {
    const env = {
      http_proxy: 'http://lower-http',
      HTTP_PROXY: 'http://upper-http',
      https_proxy: 'http://lower-https',
      HTTPS_PROXY: 'http://upper-https',
      all_proxy: 'http://lower-all',
      ALL_PROXY: 'http://upper-all',
      no_proxy: 'lower.test',
      NO_PROXY: 'upper.test',
    };
    expect(proxyFromEnvironment('http://example.com/', env)).toBe('http://lower-http');
    expect(proxyFromEnvironment('https://example.com/', env)).toBe('http://lower-https');
    expect(proxyFromEnvironment('https://lower.test/', env)).toBeNull();
    expect(proxyFromEnvironment('https://upper.test/', env)).toBe('http://lower-https');
    const allOnly = { all_proxy: 'http://lower-all', ALL_PROXY: 'http://upper-all' };
    expect(proxyFromEnvironment('https://example.com/', allOnly)).toBe('http://lower-all');
  });
});

describe('empty values', () => {
  it('treats an empty or blank variable as unset, falling through to the next', () => {
    expect(proxyFromEnvironment('http://example.com/', { http_proxy: '', HTTP_PROXY: P })).toBe(P);
    expect(proxyFromEnvironment('http://example.com/', { http_proxy: '  ', ALL_PROXY: P })).toBe(P);
    expect(proxyFromEnvironment('http://example.com/', { http_proxy: '', HTTP_PROXY: '', all_proxy: '', ALL_PROXY: '' })).toBeNull();
    expect(proxyFromEnvironment('https://example.com/', { https_proxy: P, no_proxy: ' ', NO_PROXY: 'example.com' })).toBeNull();
  });

  it('leaves the proxy on when NO_PROXY is empty', () => {
    expect(proxyFromEnvironment('https://example.com/', { https_proxy: P, no_proxy: '', NO_PROXY: '' })).toBe(P);
    expect(getProxyEnv({ NO_PROXY: '' }).noProxy).toBeNull();
  });
});

describe('normalizeProxyUrl (scheme-less values)', () => {
  it.each([
    ['proxy:3128', 'http://proxy:3128'],
    ['proxy', 'http://proxy'],
    ['10.0.0.1:3128', 'http://10.0.0.1:3128'],
    ['[2001:db8::1]:3128', 'http://[2001:db8::1]:3128'],
    [' proxy:3128 ', 'http://proxy:3128'],
    ['http://proxy:3128', 'http://proxy:3128'],
    ['HTTP://proxy:3128', 'HTTP://proxy:3128'],
    ['https://proxy', 'https://proxy'],
    ['socks5://proxy:1080', 'socks5://proxy:1080'],
  ])('%j -> %j', (value, expected) => {
    expect(normalizeProxyUrl(value)).toBe(expected);
  });

  it('gives null for no value', () => {
    expect(normalizeProxyUrl(undefined)).toBeNull();
    expect(normalizeProxyUrl(null)).toBeNull();
    expect(normalizeProxyUrl('')).toBeNull();
    expect(normalizeProxyUrl(' \t')).toBeNull();
  });

  it('does not write in a port (the proxy layer picks the default)', () => {
    expect(proxyFromEnvironment('http://example.com/', { http_proxy: 'proxy.test' })).toBe('http://proxy.test');
  });
});

describe('NO_PROXY matching', () => {
  const bypass = (url: string, noProxy: string): boolean => shouldBypassProxy(url, noProxy);

  it('matches a suffix on label boundaries only, never a substring', () => {
    expect(bypass('http://example.com/', 'example.com')).toBe(true);
    expect(bypass('http://a.example.com/', 'example.com')).toBe(true);
    expect(bypass('http://badexample.com/', 'example.com')).toBe(false);
    expect(bypass('http://example.com.evil.test/', 'example.com')).toBe(false);
    expect(bypass('http://example.co/', 'example.com')).toBe(false);
    expect(bypass('http://xample.com/', 'example.com')).toBe(false);
    expect(bypass('http://com/', 'example.com')).toBe(false);
    // A top-level label matches everything under it, as in curl.
    expect(bypass('http://a.internal/', 'internal')).toBe(true);
  });

  it('ignores one trailing dot and upper case, on both sides', () => {
    expect(bypass('http://EXAMPLE.COM./', 'example.com')).toBe(true);
    expect(bypass('http://a.example.com/', '.EXAMPLE.COM.')).toBe(true);
    expect(bypass('http://example.com./', '.example.com')).toBe(true);
    expect(shouldBypassProxy(new URL('http://A.Example.Com./'), 'example.com')).toBe(true);
  });

  it('treats "*" alone, blanks around it allowed, as every host', () => {
    for (const value of ['*', ' * ']) {
      expect(bypass('http://example.com/', value)).toBe(true);
      expect(bypass('http://[::1]/', value)).toBe(true);
      expect(bypass('http://10.0.0.1:99/', value)).toBe(true);
    }
    expect(parseNoProxy('*').matchesAll).toBe(true);
    expect(parseNoProxy('*,example.com').matchesAll).toBe(false);
    expect(parseNoProxy('*,example.com').ignored).toEqual(['*']);
  });

  it('matches IPv4 addresses and CIDR ranges', () => {
    expect(bypass('http://10.1.2.3/', '10.0.0.0/8')).toBe(true);
    expect(bypass('http://11.0.0.0/', '10.0.0.0/8')).toBe(false);
    expect(bypass('http://172.16.0.1/', '172.16.0.0/12')).toBe(true);
    expect(bypass('http://172.31.255.255/', '172.16.0.0/12')).toBe(true);
    expect(bypass('http://172.32.0.0/', '172.16.0.0/12')).toBe(false);
    expect(bypass('http://192.168.1.1/', '192.168.1.1/32')).toBe(true);
    expect(bypass('http://192.168.1.2/', '192.168.1.1/32')).toBe(false);
    // /0 covers the family, as NOPROXY(3) describes the prefix (curl's
    // code reads /0 as an exact match); IPv6 hosts are not in it.
    expect(bypass('http://8.8.8.8/', '0.0.0.0/0')).toBe(true);
    expect(bypass('http://[2001:db8::1]/', '0.0.0.0/0')).toBe(false);
  });

  it('matches IPv6 addresses and CIDR ranges, with or without brackets', () => {
    expect(bypass('http://[::1]/', '::1')).toBe(true);
    expect(bypass('http://[::1]/', '[::1]')).toBe(true);
    expect(bypass('http://[::2]/', '::1')).toBe(false);
    expect(bypass('http://[::1]/', '::1/128')).toBe(true);
    expect(bypass('http://[::1]/', '[::1/128]')).toBe(true);
    expect(bypass('http://[::1]/', '[::1]/128')).toBe(true);
    expect(bypass('http://[2001:db8:1::5]/', '2001:db8::/32')).toBe(true);
    expect(bypass('http://[2001:db9::5]/', '2001:db8::/32')).toBe(false);
    // Prefixes that are not a multiple of 8 (fe80::/10 spans fe80-febf).
    expect(bypass('http://[febf:ffff::1]/', 'fe80::/10')).toBe(true);
    expect(bypass('http://[fec0::1]/', 'fe80::/10')).toBe(false);
    // Upper-case hex, and other spellings of the same address.
    expect(bypass('http://[2001:DB8::1]/', '2001:0db8:0:0:0:0:0:1')).toBe(true);
    // A zone ID on the host is ignored (parseUrl keeps it; RFC 6874).
    expect(bypass('http://[fe80::1%25eth0]/', 'fe80::/10')).toBe(true);
  });

  it('matches IPv4-mapped IPv6 hosts against IPv4 entries (not curl, which compares families apart)', () => {
    // RFC 4291 §2.5.5.2: ::ffff:a.b.c.d is the IPv4 host a.b.c.d.
    expect(bypass('http://[::ffff:10.0.0.1]/', '10.0.0.0/8')).toBe(true);
    expect(shouldBypassProxy(new URL('http://[::ffff:10.0.0.1]/'), '10.0.0.0/8')).toBe(true);
  });

  it('matches an IP-literal host against IP and CIDR entries only', () => {
    expect(bypass('http://10.0.0.1/', '0.0.1')).toBe(false);
    expect(bypass('http://10.0.0.1/', '.1')).toBe(false);
    expect(bypass('http://10.0.0.1/', '0.1')).toBe(false);
    expect(bypass('http://[::1]/', '1')).toBe(false);
    // ... and a domain host against domain entries only.
    expect(bypass('http://10.0.0.1.nip.test/', '10.0.0.1')).toBe(false);
  });

  it('reads numeric IPv4 shorthands as the address they connect to', () => {
    // WHATWG URL and inet_aton read 127.1 and 0x7f.1 as 127.0.0.1; curl's
    // URL parser normalises them too.
    expect(bypass('http://127.1/', '127.0.0.1')).toBe(true);
    expect(bypass('http://0x7f.1/', '127.0.0.0/8')).toBe(true);
    expect(bypass('http://127.0.0.1./', '127.0.0.1')).toBe(true);
  });

  it('limits an entry with a port to that port (the scheme default filling in)', () => {
    expect(bypass('http://example.com:8080/', 'example.com:8080')).toBe(true);
    expect(bypass('http://a.example.com:8080/', '.example.com:8080')).toBe(true);
    expect(bypass('http://example.com/', 'example.com:8080')).toBe(false);
    expect(bypass('http://example.com/', 'example.com:80')).toBe(true);
    expect(bypass('https://example.com/', 'example.com:80')).toBe(false);
    expect(bypass('http://10.0.0.1:80/', '10.0.0.1:80')).toBe(true);
    expect(bypass('http://10.0.0.1:81/', '10.0.0.1:80')).toBe(false);
    expect(bypass('http://10.9.9.9:81/', '10.0.0.0/8:81')).toBe(true);
    expect(bypass('http://[::1]:8080/', '[::1]:8080')).toBe(true);
    // Without brackets, "::1:8080" is an address (::0.1.128.128), not ::1 port 8080.
    expect(bypass('http://[::1]:8080/', '::1:8080')).toBe(false);
    expect(bypass('http://[::1:8080]/', '::1:8080')).toBe(true);
    // A port-less entry for the same name still matches every port.
    expect(bypass('http://example.com:9/', 'example.com:8080,example.com')).toBe(true);
    expect(bypass('http://example.com:9/', 'example.com,example.com:8080')).toBe(true);
    expect(bypass('http://example.com:9/', 'example.com:8080,example.com:9')).toBe(true);
  });

  it('covers internationalised names in their ASCII form', () => {
    expect(bypass('http://bücher.example/', 'bücher.example')).toBe(true);
    expect(bypass('http://www.xn--bcher-kva.example/', 'bücher.example')).toBe(true);
    expect(bypass('http://bücher.example/', 'xn--bcher-kva.example')).toBe(true);
  });

  it('separates entries by blanks too', () => {
    // curl stops at "a.test b.test" after a.test; both count here.
    expect(bypass('http://b.test/', 'a.test b.test')).toBe(true);
    expect(bypass('http://b.test/', 'a.test,\tb.test\n')).toBe(true);
  });

  it('never bypasses without a list, or for a URL without a host', () => {
    expect(shouldBypassProxy('http://example.com/', undefined)).toBe(false);
    expect(shouldBypassProxy('http://example.com/', null)).toBe(false);
    expect(shouldBypassProxy('http://example.com/', '')).toBe(false);
    expect(shouldBypassProxy('/just/a/path', 'example.com')).toBe(false);
  });

  it('accepts a list parsed before', () => {
    const list = parseNoProxy('example.com, 10.0.0.0/8');
    expect(shouldBypassProxy('https://a.example.com/', list)).toBe(true);
    expect(shouldBypassProxy(new URL('http://10.1.1.1:8080/'), list)).toBe(true);
    expect(shouldBypassProxy('http://11.1.1.1/', list)).toBe(false);
  });

  it('throws LocationParseError for a URL string the pool cannot parse', () => {
    expect(() => shouldBypassProxy('http://exa mple.com/', 'example.com')).toThrow(LocationParseError);
    expect(() => proxyFromEnvironment('http://[::1/', { http_proxy: P })).toThrow(LocationParseError);
  });
});

describe('parseNoProxy', () => {
  it('parses each kind of entry', () => {
    const list = parseNoProxy('.Example.COM., 10.0.0.0/8, ::1, [fe80::]/10, host.test:8443, [::1]:80, 192.0.2.1');
    expect(list.matchesAll).toBe(false);
    expect(list.ignored).toEqual([]);
    expect(list.entries).toEqual([
      { type: 'domain', name: 'example.com', port: null },
      { type: 'ip', family: 4, address: '10.0.0.0', prefix: 8, port: null },
      { type: 'ip', family: 6, address: '::1', prefix: 128, port: null },
      { type: 'ip', family: 6, address: 'fe80::', prefix: 10, port: null },
      { type: 'domain', name: 'host.test', port: 8443 },
      { type: 'ip', family: 6, address: '::1', prefix: 128, port: 80 },
      { type: 'ip', family: 4, address: '192.0.2.1', prefix: 32, port: null },
    ]);
  });

  it('lists the entries it cannot read, which match nothing', () => {
    const list = parseNoProxy('*.example.com, host:99999, host:http, 10.0.0.0/33, ::/129, 10.0.0.0/x, name/8, [::1, [10.0.0.1], fe80::1%eth0, ., ok.test');
    expect(list.entries).toEqual([{ type: 'domain', name: 'ok.test', port: null }]);
    expect(list.ignored).toEqual([
      '*.example.com',
      'host:99999',
      'host:http',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/x',
      'name/8',
      '[::1',
      '[10.0.0.1]',
      'fe80::1%eth0',
      '.',
    ]);
    expect(list.matches('www.example.com', 443)).toBe(false);
    expect(list.matches('host', 99)).toBe(false);
  });

  it('gives an empty list for nothing', () => {
    for (const value of [undefined, null, '', ' , ,']) {
      const list = parseNoProxy(value);
      expect(list.entries).toEqual([]);
      expect(list.matchesAll).toBe(false);
      expect(list.matches('example.com', 80)).toBe(false);
    }
  });

  it('matches hosts given as NoProxyList.matches takes them', () => {
    const list = parseNoProxy('example.com:8080, ::1, 10.0.0.0/8');
    expect(list.matches('example.com', 8080)).toBe(true);
    // Without a port, entries with one do not match.
    expect(list.matches('example.com')).toBe(false);
    expect(list.matches('[::1]')).toBe(true);
    expect(list.matches('::1')).toBe(true);
    expect(list.matches('10.2.3.4')).toBe(true);
    expect(list.matches('')).toBe(false);
    expect(list.matches('[not-an-address]')).toBe(false);
  });
});

describe('getProxyEnv and proxyForUrl', () => {
  it('reads an environment once for many URLs', () => {
    const settings = getProxyEnv({ http_proxy: 'proxy.test:3128', HTTPS_PROXY: Q, no_proxy: 'internal.test' });
    expect(settings.httpProxy).toBe('http://proxy.test:3128');
    expect(settings.httpsProxy).toBe(Q);
    expect(settings.allProxy).toBeNull();
    expect(settings.noProxy?.entries).toEqual([{ type: 'domain', name: 'internal.test', port: null }]);
    expect(proxyForUrl('http://example.com/', settings)).toBe('http://proxy.test:3128');
    expect(proxyForUrl('https://example.com/', settings)).toBe(Q);
    expect(proxyForUrl('https://api.internal.test/', settings)).toBeNull();
    expect(proxyForUrl(new URL('wss://example.com/'), settings)).toBeNull();
  });

  it('takes a URL without a scheme as http, as the pool does', () => {
    const settings = getProxyEnv({ http_proxy: P, https_proxy: Q });
    expect(proxyForUrl('example.com/path', settings)).toBe(P);
    expect(proxyForUrl('example.com:8080', settings)).toBe(P);
  });

  it('reads process.env when no environment is given', () => {
    const saved = { ...process.env };
    try {
      for (const name of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY', 'REQUEST_METHOD']) {
        delete process.env[name];
      }
      process.env['HTTPS_PROXY'] = 'env-proxy.test:3128';
      expect(proxyFromEnvironment('https://example.com/')).toBe('http://env-proxy.test:3128');
      expect(getProxyEnv().httpsProxy).toBe('http://env-proxy.test:3128');
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });
});
