import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocationParseError, LocationValueError } from '../../lib/pool/errors.js';
import { Url, getHost, parseUrl, removeDotSegments, type UrlParts } from '../../lib/pool/url.js';

const url = (parts: UrlParts): Url => new Url(parts);

/**
 * Inputs and the Url each must parse to. Most rows are urllib3 1.25's own
 * cases (test_util.py: parse_url_host_map, the non-round-tripping map,
 * url_vulnerabilities, the normalisation cases), translated; the rest are
 * the rules this parser adds or decides differently, marked so.
 */
const PARSE_TABLE: ReadonlyArray<readonly [string, UrlParts]> = [
  // Hosts and paths
  ['http://google.com/mail', { scheme: 'http', host: 'google.com', path: '/mail' }],
  ['http://google.com/mail/', { scheme: 'http', host: 'google.com', path: '/mail/' }],
  ['google.com/mail', { host: 'google.com', path: '/mail' }],
  ['http://google.com/', { scheme: 'http', host: 'google.com', path: '/' }],
  ['http://google.com', { scheme: 'http', host: 'google.com' }],
  ['http://google.com?foo', { scheme: 'http', host: 'google.com', path: '', query: 'foo' }],
  ['//google.com/a/b/c', { host: 'google.com', path: '/a/b/c' }],
  // Path, query, fragment without a host
  ['/', { path: '/' }],
  ['/foo', { path: '/foo' }],
  ['/foo?bar=baz', { path: '/foo', query: 'bar=baz' }],
  ['/foo?bar=baz#banana?apple/orange', { path: '/foo', query: 'bar=baz', fragment: 'banana?apple/orange' }],
  ['/redirect?target=http://localhost:61020/', { path: '/redirect', query: 'target=http://localhost:61020/' }],
  ['#?/!google.com/?foo', { path: '', fragment: '?/!google.com/?foo' }],
  ['?', { path: '', query: '' }],
  ['#', { path: '', fragment: '' }],
  ['/abc/../def', { path: '/def' }],
  ['http://h/a/./b/../../c/', { scheme: 'http', host: 'h', path: '/c/' }],
  ['http://h/../../..', { scheme: 'http', host: 'h', path: '/' }],
  // Ports
  ['http://google.com:80/', { scheme: 'http', host: 'google.com', port: 80, path: '/' }],
  ['http://google.com:80', { scheme: 'http', host: 'google.com', port: 80 }],
  ['http://google.com:', { scheme: 'http', host: 'google.com' }],
  ['http://host:/', { scheme: 'http', host: 'host', path: '/' }],
  ['google.com:80', { host: 'google.com', port: 80 }],
  ['http://host:0/', { scheme: 'http', host: 'host', port: 0, path: '/' }],
  ['http://host:65535/', { scheme: 'http', host: 'host', port: 65535, path: '/' }],
  ['https://example.com:0000000000080', { scheme: 'https', host: 'example.com', port: 80 }],
  // Decided here: `name:digits` is a host and port, not the scheme "localhost".
  ['localhost:8080', { host: 'localhost', port: 8080 }],
  ['localhost:8080/x?y', { host: 'localhost', port: 8080, path: '/x', query: 'y' }],
  // Userinfo: it ends at the last "@"; what it may not hold is encoded.
  ['http://foo:bar@localhost/', { scheme: 'http', auth: 'foo:bar', host: 'localhost', path: '/' }],
  ['http://foo@localhost/', { scheme: 'http', auth: 'foo', host: 'localhost', path: '/' }],
  ['http://foo:bar@baz@localhost/', { scheme: 'http', auth: 'foo:bar%40baz', host: 'localhost', path: '/' }],
  ['http://user@email.com:password@example.com/', { scheme: 'http', auth: 'user%40email.com:password', host: 'example.com', path: '/' }],
  ['http://user":quoted@example.com/', { scheme: 'http', auth: 'user%22:quoted', host: 'example.com', path: '/' }],
  ['http://@host/', { scheme: 'http', host: 'host', path: '/' }],
  ['http://google.com#@evil.com/', { scheme: 'http', host: 'google.com', path: '', fragment: '@evil.com/' }],
  [`https://user:${'@'.repeat(10_000)}example.com`, { scheme: 'https', auth: `user:${'%40'.repeat(9_999)}`, host: 'example.com' }],
  // IPv4 and IPv6 (RFC 2732's examples among them)
  ['173.194.35.7', { host: '173.194.35.7' }],
  ['http://173.194.35.7:80/test', { scheme: 'http', host: '173.194.35.7', port: 80, path: '/test' }],
  ['http://[::1]:80', { scheme: 'http', host: '[::1]', port: 80 }],
  ['[2a00:1450:4001:c01::67]', { host: '[2a00:1450:4001:c01::67]' }],
  ['HTTP://[FEDC:BA98:7654:3210:FEDC:BA98:7654:3210]:8000/index.html', { scheme: 'http', host: '[fedc:ba98:7654:3210:fedc:ba98:7654:3210]', port: 8000, path: '/index.html' }],
  ['http://[::ffff:129.144.52.38]:42/index.html', { scheme: 'http', host: '[::ffff:129.144.52.38]', port: 42, path: '/index.html' }],
  ['http://[::192.9.5.5]/ipng', { scheme: 'http', host: '[::192.9.5.5]', path: '/ipng' }],
  // IPv6 zone IDs (RFC 6874): "%25zone" or "%zone", kept as "%zone".
  ['http://[fe80::1%25eth0]:8080/', { scheme: 'http', host: '[fe80::1%eth0]', port: 8080, path: '/' }],
  ['[::Ff%etH0%Ff]/%ab%Af', { host: '[::ff%etH0%FF]', path: '/%AB%AF' }],
  ['http://user:pass@[AaAa::Ff%25etH0%Ff]/%ab%Af', { scheme: 'http', auth: 'user:pass', host: '[aaaa::ff%etH0%FF]', path: '/%AB%AF' }],
  ['[::1%25]', { host: '[::1%25]' }],
  // Case: scheme and host only, and only for http(s)
  ['HTTP://GoOgLe.CoM:8000/mail/', { scheme: 'http', host: 'google.com', port: 8000, path: '/mail/' }],
  ['HTTPS://Example.Com/?Key=Value', { scheme: 'https', host: 'example.com', path: '/', query: 'Key=Value' }],
  ['abOut://eXamPlE.com?info=1', { scheme: 'about', host: 'eXamPlE.com', path: '', query: 'info=1' }],
  ['http+UNIX://%2fvar%2frun%2fSOCKET/path', { scheme: 'http+unix', host: '%2fvar%2frun%2fSOCKET', path: '/path' }],
  ["javascript:a='@google.com:12345/';alert(0)", { scheme: 'javascript', path: "/a='@google.com:12345/';alert(0)" }],
  // Invalid characters percent-encoded; existing escapes kept and upper-cased
  ['http://google.com/p[]?parameter[]="hello"#fragment#', { scheme: 'http', host: 'google.com', path: '/p%5B%5D', query: 'parameter%5B%5D=%22hello%22', fragment: 'fragment%23' }],
  ['http://google.com/p%5B%5d?parameter%5b%5D=%22hello%22#fragment%23', { scheme: 'http', host: 'google.com', path: '/p%5B%5D', query: 'parameter%5B%5D=%22hello%22', fragment: 'fragment%23' }],
  ['http://h/a b\\c', { scheme: 'http', host: 'h', path: '/a%20b%5Cc' }],
  // Decided here: each "%" on its own (urllib3 re-encodes every "%" once one is stray).
  ['http://h/a%zz%20b', { scheme: 'http', host: 'h', path: '/a%25zz%20b' }],
  ['10.251.0.83:7777?a=1 HTTP/1.1\r\nX-injected: header', { host: '10.251.0.83', port: 7777, path: '', query: 'a=1%20HTTP/1.1%0D%0AX-injected:%20header' }],
  ['http://127.0.0.1:6379?\r\nSET test failure12\r\n:8080/test/?test=a', { scheme: 'http', host: '127.0.0.1', port: 6379, path: '', query: '%0D%0ASET%20test%20failure12%0D%0A:8080/test/?test=a' }],
  // Unicode: UTF-8 escapes in path, query, fragment and userinfo; punycode hosts
  ['http://google.com/\uff2e\uff2e/abc', { scheme: 'http', host: 'google.com', path: '/%EF%BC%AE%EF%BC%AE/abc' }],
  ['http://Königsgäßchen.de/straße', { scheme: 'http', host: 'xn--knigsgchen-b4a3dun.de', path: '/stra%C3%9Fe' }],
  ['http://ヒ:キ@ヒ.abc.ニ/ヒ?キ#ワ', { scheme: 'http', auth: '%E3%83%92:%E3%82%AD', host: 'xn--pdk.abc.xn--idk', path: '/%E3%83%92', query: '%E3%82%AD', fragment: '%E3%83%AF' }],
  // Decided here: a lone surrogate has no UTF-8 form; sent as U+FFFD (urllib3: surrogatepass).
  ['http://google.com/\ud800', { scheme: 'http', host: 'google.com', path: '/%EF%BF%BD' }],
  ['http://google.com?q=\udc00', { scheme: 'http', host: 'google.com', path: '', query: 'q=%EF%BF%BD' }],
];

/** Inputs that must be refused with LocationParseError. */
const INVALID: readonly string[] = [
  '',
  '   ',
  '\t\r\n',
  'http://google.com:foo',
  'http://::1/',
  'http://::1:80/',
  'http://google.com:-80',
  'http://google.com:\u00b2\u00b2', // superscript digits are not DIGITs
  'http://host:65536/',
  'http://host:99999999999999999999/',
  'https://www.google.com:-80/',
  '[::1',
  'http://[::1]x/',
  'http://[::1]:8o/',
  'http://[not:v6]/',
  'http://[::1%]/',
  'http://[::1%25]]/',
  'http://[fe80::1%25eth 0]/',
  'http://h[o]st/',
  // hosts that are not names (urllib3: invalid IDNA labels, surrogates)
  'http://\ud7ff.com',
  'http://\ud800.com',
  'http://\udc00.com',
  // whitespace and control characters in the host, raw or escaped
  'http://host name/',
  'http://host\r\nX-Injected: 1/',
  'http://ho\tst/',
  'http://host\u0000/',
  'http://host\u007f/',
  ' http://host/',
  'http://127.0.0.1%0d%0aConnection%3a%20keep-alive', // decided here: urllib3 keeps it as a host
  'http://a%zz/',
  // "\" in the authority: RFC 3986 and WHATWG disagree on where the host is
  'http://evil.com\\@good.com/',
  'http://good.com\\evil.com/',
  // "#" or "?" in a password end the authority, leaving a port that is not one
  'http://user:pa#ss@host/',
  'http://user:pa?ss@host/',
  `https://${'@'.repeat(10_000)}[`,
];

describe('parseUrl', () => {
  it.each(PARSE_TABLE)('%j', (input, parts) => {
    expect(parseUrl(input)).toEqual(url(parts));
  });

  it('the table has at least 40 rows', () => {
    expect(PARSE_TABLE.length + INVALID.length).toBeGreaterThanOrEqual(40);
    expect(PARSE_TABLE.length).toBeGreaterThanOrEqual(40);
  });

  it.each(INVALID.map((s) => [s]))('refuses %j with LocationParseError', (input) => {
    let caught: unknown;
    try {
      parseUrl(input);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(LocationParseError);
    expect(caught).toBeInstanceOf(LocationValueError);
    const error = caught as LocationParseError;
    expect(error.location).toBe(input);
    expect(error.code).toBe('HW_ERR_LOCATION_PARSE');
  });

  it('refuses a value that is not a string with TypeError', () => {
    expect(() => parseUrl(undefined as unknown as string)).toThrow(TypeError);
    expect(() => parseUrl(null as unknown as string)).toThrow(TypeError);
    expect(() => parseUrl(80 as unknown as string)).toThrow(TypeError);
  });

  it('normalises the scheme and host, and only those (urllib3 test_parse_url_normalization)', () => {
    const cases: Array<[string, string]> = [
      ['HTTP://GOOGLE.COM/MAIL/', 'http://google.com/MAIL/'],
      ['HTTP://JeremyCline:Hunter2@Example.com:8080/', 'http://JeremyCline:Hunter2@example.com:8080/'],
      ['HTTPS://Example.Com/?Key=Value', 'https://example.com/?Key=Value'],
      ['Https://Example.Com/#Fragment', 'https://example.com/#Fragment'],
      ['http://user@domain.com:password@example.com/~tilde@?@', 'http://user%40domain.com:password@example.com/~tilde@?@'],
      ['[::1%25]', '[::1%25]'],
      ['[::Ff%etH0%Ff]/%ab%Af', '[::ff%etH0%FF]/%AB%AF'],
      ['http://user:pass@[AaAa::Ff%25etH0%Ff]/%ab%Af', 'http://user:pass@[aaaa::ff%etH0%FF]/%AB%AF'],
    ];
    for (const [input, expected] of cases) expect(parseUrl(input).url).toBe(expected);
  });

  it('leaves path, query and fragment of other schemes as given', () => {
    const u = parseUrl('ftp://Host/a/../b c?x y#z z');
    expect(u.host).toBe('Host');
    expect(u.path).toBe('/a/../b c');
    expect(u.query).toBe('x y');
    expect(u.fragment).toBe('z z');
  });

  it('still refuses control characters in the host of other schemes', () => {
    expect(() => parseUrl('ftp://ho st/')).toThrow(LocationParseError);
  });

  it('returns the same strings when nothing needs encoding', () => {
    const input = 'http://h/' + 'a'.repeat(100);
    expect(parseUrl(input).path).toBe(input.slice(8));
  });
});

describe('Url', () => {
  it('prefixes a path with "/" and lower-cases the scheme, as urllib3', () => {
    const u = new Url({ scheme: 'HTTP', host: 'google.com', path: 'mail' });
    expect(u.scheme).toBe('http');
    expect(u.path).toBe('/mail');
    expect(new Url({ path: '' }).path).toBe('');
    expect(new Url().path).toBeNull();
  });

  it('unparses its parts (urllib3 Url.url example)', () => {
    const u = new Url({ scheme: 'http', auth: 'username:password', host: 'host.com', port: 80, path: '/path', query: 'query', fragment: 'fragment' });
    expect(u.url).toBe('http://username:password@host.com:80/path?query#fragment');
    expect(String(u)).toBe(u.url);
    expect(`${new Url({ scheme: 'http', host: 'google.com' })}`).toBe('http://google.com');
  });

  // The rows of urllib3's parse_url_host_map that round-trip exactly.
  it.each([
    'http://google.com/mail',
    'http://google.com/mail/',
    'google.com/mail',
    'http://google.com/',
    'http://google.com',
    'http://google.com?foo',
    '/',
    '/foo',
    '/foo?bar=baz',
    '/foo?bar=baz#banana?apple/orange',
    'http://google.com:80/',
    'http://google.com:80',
    'http://foo:bar@localhost/',
    'http://foo@localhost/',
    'http://[::1]:80',
    'http://host:0/',
  ])('round-trips %j', (input) => {
    expect(parseUrl(input).url).toBe(input);
  });

  it.each([
    ['http://google.com/mail', '/mail'],
    ['http://google.com/mail/', '/mail/'],
    ['http://google.com/', '/'],
    ['http://google.com', '/'],
    ['/', '/'],
    ['?', '/?'],
    ['#', '/'],
    ['/foo?bar=baz', '/foo?bar=baz'],
    ['http://h?', '/?'],
    ['http://h/p?q#f', '/p?q'],
  ])('requestUri of %j is %j', (input, expected) => {
    expect(parseUrl(input).requestUri).toBe(expected);
  });

  it.each([
    ['http://google.com/mail', 'google.com'],
    ['http://google.com:80/mail', 'google.com:80'],
    ['google.com/foobar', 'google.com'],
    ['google.com:12345', 'google.com:12345'],
    ['http://[::1]:8080/', '[::1]:8080'],
    // Decided here: port 0 is kept (urllib3 drops it as falsy).
    ['http://h:0/', 'h:0'],
  ])('netloc of %j is %j', (input, expected) => {
    expect(parseUrl(input).netloc).toBe(expected);
  });

  it('has no netloc without a host', () => {
    expect(parseUrl('/path').netloc).toBeNull();
    expect(new Url({ port: 80 }).netloc).toBeNull();
  });

  it('hostname is the host', () => {
    expect(parseUrl('http://[::1]/').hostname).toBe('[::1]');
    expect(parseUrl('/x').hostname).toBeNull();
  });

  it('replace() changes only the parts given, and can clear one', () => {
    const u = parseUrl('http://u:p@h:1/a?b#c');
    const v = u.replace({ path: 'x', query: null });
    expect(v.url).toBe('http://u:p@h:1/x#c');
    expect(u.url).toBe('http://u:p@h:1/a?b#c');
    expect(v).not.toBe(u);
  });

  it('parsing a parsed URL again changes nothing (any web URL)', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withUserInfo: true, withPort: true, withIPv6: true, withIPv4: true } }), (input) => {
        const once = parseUrl(input);
        expect(parseUrl(once.url)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with the WHATWG parser on the host and port of plain http(s) URLs', () => {
    fc.assert(
      fc.property(fc.webUrl({ authoritySettings: { withPort: true, withIPv4: true } }), (input) => {
        const ours = parseUrl(input);
        const theirs = new URL(input);
        expect(ours.host).toBe(theirs.hostname);
        if (theirs.port !== '') expect(ours.port).toBe(Number(theirs.port));
      }),
      { numRuns: 300 },
    );
  });
});

describe('removeDotSegments (RFC 3986 §5.2.4 examples)', () => {
  it.each([
    ['/a/b/c/./../../g', '/a/g'],
    ['mid/content=5/../6', 'mid/6'],
    ['/a/b/c/../../../g', '/g'],
    ['/./g', '/g'],
    ['/g.', '/g.'],
    ['/.g', '/.g'],
    ['/..g', '/..g'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/..', '/'],
    ['/.', '/'],
    ['/', '/'],
  ])('%j → %j', (input, expected) => {
    expect(removeDotSegments(input)).toBe(expected);
  });
});

describe('getHost (urllib3 url_host_map)', () => {
  it.each([
    ['http://google.com/mail', ['http', 'google.com', null]],
    ['google.com/mail', ['http', 'google.com', null]],
    ['http://google.com:8000/mail/', ['http', 'google.com', 8000]],
    ['https://google.com:8000', ['https', 'google.com', 8000]],
    ['http://user:password@127.0.0.1:1234', ['http', '127.0.0.1', 1234]],
    ['http://google.com/foo=http://bar:42/baz', ['http', 'google.com', null]],
    ['http://google.com?foo=http://bar:42/baz', ['http', 'google.com', null]],
    ['http://google.com#foo=http://bar:42/baz', ['http', 'google.com', null]],
    ['173.194.35.7', ['http', '173.194.35.7', null]],
    ['http://[2a00:1450:4001:c01::67]:80/test', ['http', '[2a00:1450:4001:c01::67]', 80]],
    ['http://[1080:0:0:0:8:800:200c:417a]/index.html', ['http', '[1080:0:0:0:8:800:200c:417a]', null]],
    ['HTTPS://[1080:0:0:0:8:800:200c:417A]/index.html', ['https', '[1080:0:0:0:8:800:200c:417a]', null]],
    ['GOogle.COM/mail', ['http', 'google.com', null]],
    ['HTTP://user:password@EXAMPLE.COM:1234', ['http', 'example.com', 1234]],
    ['abOut://eXamPlE.com?info=1', ['about', 'eXamPlE.com', null]],
    ['http+UNIX://%2fvar%2frun%2fSOCKET/path', ['http+unix', '%2fvar%2frun%2fSOCKET', null]],
    ['/just/a/path', ['http', null, null]],
  ] as const)('%j → %j', (input, expected) => {
    expect(getHost(input)).toEqual(expected);
  });

  it('throws as parseUrl does', () => {
    expect(() => getHost('http://google.com:foo')).toThrow(LocationParseError);
  });
});
