/**
 * The HTTP/2 header field rules (RFC 9113 §8.2, §8.3): building request
 * lists, and checking response heads, trailers and pushed requests.
 */

import { describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError } from '../../lib/common/errors.js';
import { HTTPHeaderMap } from '../../lib/common/headers.js';
import {
  checkPushedRequest,
  checkResponseHead,
  checkTrailers,
  isToken,
  isValidValue,
  requestHeaderList,
  type RequestTarget,
} from '../../lib/http2/header-rules.js';

/** A block as the decoder hands it to the engine: `[n0, v0, n1, v1, …]`. */
const flat = (fields: ReadonlyArray<readonly [string, string]>): string[] => fields.flat();

const base: RequestTarget = { method: 'GET', scheme: 'https', authority: 'example.com', path: '/index.html' };

function build(headers: RequestTarget['headers'], over: Partial<RequestTarget> = {}): Array<readonly [string, string] | readonly [string, string, boolean | undefined]> {
  return requestHeaderList({ ...base, ...over, headers });
}

/** The list a request with no extra fields produces. */
const PSEUDO = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'example.com'],
  [':path', '/index.html'],
];

describe('isToken and isValidValue', () => {
  it('accepts exactly the RFC 9110 token characters in names', () => {
    expect(isToken("!#$%&'*+-.^_`|~09azAZ")).toBe(true);
    for (const bad of ['', 'a b', 'a:b', ':path', 'a"b', 'a(b', 'a,b', 'a/b', 'a@b', 'é', 'a\u212a', 'a\tb', 'a\x7f']) {
      expect(isToken(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('accepts octets in values except NUL, CR, LF and surrounding whitespace', () => {
    for (const good of ['', 'a', 'a b', 'a\tb', '\x01\x7f\xff', '"quoted"']) expect(isValidValue(good), JSON.stringify(good)).toBe(true);
    for (const bad of ['a\0', 'a\rb', 'a\nb', ' a', 'a ', '\ta', 'a\t', 'a\u0100', '\u20ac']) expect(isValidValue(bad), JSON.stringify(bad)).toBe(false);
  });
});

describe('requestHeaderList', () => {
  it('puts the four pseudo-headers first, then the fields in order with names lowercased', () => {
    expect(build({ Accept: 'text/html', 'X-Custom-Thing': 'Value Kept As Is', 'accept-language': 'en' })).toEqual([
      ...PSEUDO,
      ['accept', 'text/html'],
      ['x-custom-thing', 'Value Kept As Is'],
      ['accept-language', 'en'],
    ]);
  });

  it('returns only the pseudo-headers when there are no fields', () => {
    expect(build(undefined)).toEqual(PSEUDO);
  });

  it('takes every HeadersInit form, keeping repeated names', () => {
    const expected = [...PSEUDO, ['cookie', 'a=1'], ['cookie', 'b=2'], ['x-n', '5']];
    expect(build({ cookie: ['a=1', 'b=2'], 'x-n': 5, skipped: undefined })).toEqual(expected);
    expect(build([['Cookie', 'a=1'], ['cookie', 'b=2'], ['X-N', '5']])).toEqual(expected);
    const map = new HTTPHeaderMap();
    map.append('Cookie', 'a=1');
    map.append('COOKIE', 'b=2');
    map.append('x-n', '5');
    expect(build(map)).toEqual(expected);
  });

  it.each(['connection', 'Connection', 'keep-alive', 'proxy-connection', 'Transfer-Encoding', 'upgrade', 'host', 'Host'])(
    'drops the connection-specific field %s (§8.2.2)',
    (name) => {
      expect(build([[name, 'x'], ['x-kept', '1']])).toEqual([...PSEUDO, ['x-kept', '1']]);
    },
  );

  it('keeps TE only as trailers, sent in lowercase (§8.2.2)', () => {
    expect(build({ te: 'trailers' })).toEqual([...PSEUDO, ['te', 'trailers']]);
    expect(build({ TE: 'Trailers' })).toEqual([...PSEUDO, ['te', 'trailers']]);
    expect(build({ te: 'gzip' })).toEqual(PSEUDO);
    expect(build({ te: 'trailers, deflate' })).toEqual(PSEUDO);
  });

  it('sends only :method and :authority for CONNECT (§8.5)', () => {
    expect(build({ 'x-a': 'b' }, { method: 'CONNECT', authority: 'proxy.example:443' })).toEqual([
      [':method', 'CONNECT'],
      [':authority', 'proxy.example:443'],
      ['x-a', 'b'],
    ]);
  });

  it.each([
    ['CR', 'a\rb'],
    ['LF', 'a\nb'],
    ['CRLF injection', 'x\r\nx-injected: 1'],
    ['NUL', 'a\0b'],
    ['a leading space', ' a'],
    ['a trailing tab', 'a\t'],
    ['a code unit above 0xff', 'caf\u00e9\u0100'],
  ])('rejects a value with %s with a TypeError', (_name, value) => {
    expect(() => build({ 'x-a': value })).toThrow(TypeError);
    expect(() => build({ 'x-a': value })).toThrow(/Invalid value for header "x-a"/);
  });

  it.each([
    ['empty', ''],
    ['with a space', 'x a'],
    ['with a colon', 'x:a'],
    ['a pseudo-header', ':path'],
    ['non-ASCII', 'x-\u00e9'],
    ['with a NUL', 'x\0'],
    ['the Kelvin sign, which lowercases to k', '\u212aey'],
  ])('rejects a name that is %s with a TypeError', (_name, name) => {
    expect(() => build([[name, 'v']])).toThrow(TypeError);
    expect(() => build([[name, 'v']])).toThrow(/Invalid header name/);
  });

  it('rejects names and values that are not strings', () => {
    expect(() => build([['x-a', 5 as unknown as string]])).toThrow(TypeError);
    expect(() => build([[Symbol('x') as unknown as string, 'v']])).toThrow(TypeError);
    expect(() => build([['x-a'] as unknown as [string, string]])).toThrow(TypeError);
  });

  it.each(['', 'G ET', 'GET\r\n', 'GÉT', 'GET:'])('rejects the method %j', (method) => {
    expect(() => requestHeaderList({ ...base, method })).toThrow(TypeError);
  });

  it.each(['', '/a b', '/a\r\n', '/a\0', '/\t'])('rejects the path %j', (path) => {
    expect(() => requestHeaderList({ ...base, path })).toThrow(TypeError);
  });

  it.each(['a b', 'host\r\n', 'h\0'])('rejects the authority %j', (authority) => {
    expect(() => requestHeaderList({ ...base, authority })).toThrow(TypeError);
  });

  it('checks every field before producing anything: a bad late field fails the whole list', () => {
    const headers: Array<[string, string]> = [['x-good', '1'], ['connection', 'close'], ['x-bad', 'a\nb']];
    expect(() => build(headers)).toThrow(TypeError);
    // A dropped connection-specific field is still checked.
    expect(() => build([['connection', 'a\r']])).toThrow(TypeError);
    expect(() => build([['host', 'a\0']])).toThrow(TypeError);
  });

  it('accepts the usual paths and methods', () => {
    expect(requestHeaderList({ ...base, method: 'OPTIONS', path: '*' })[3]).toEqual([':path', '*']);
    expect(requestHeaderList({ ...base, method: 'PROPFIND', path: '/a?b=c&d=%20#f' })).toEqual([
      [':method', 'PROPFIND'],
      [':scheme', 'https'],
      [':authority', 'example.com'],
      [':path', '/a?b=c&d=%20#f'],
    ]);
  });
});

function expectMalformed(fn: () => unknown, streamId: number): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  const error = caught as ProtocolError;
  expect(error.code).toBe('HW_ERR_MALFORMED_RESPONSE');
  expect(error.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  expect(error.scope).toBe('stream');
  expect(error.streamId).toBe(streamId);
}

describe('checkResponseHead', () => {
  it('returns the status and the regular fields in order', () => {
    const head = checkResponseHead(flat([[':status', '200'], ['content-type', 'text/plain'], ['set-cookie', 'a'], ['set-cookie', 'b']]), 1);
    expect(head.status).toBe(200);
    expect(head.headers.raw()).toEqual([['content-type', 'text/plain'], ['set-cookie', 'a'], ['set-cookie', 'b']]);
    expect(head.headers.get('Set-Cookie')).toEqual(['a', 'b']);
    expect(checkResponseHead(flat([[':status', '103']]), 3).status).toBe(103);
    expect(checkResponseHead(flat([[':status', '999']]), 3).status).toBe(999);
    expect(checkResponseHead(flat([[':status', '100']]), 3).status).toBe(100);
  });

  it('gives a map that stays correct when changed, though it shares its lists', () => {
    const headers = checkResponseHead(flat([[':status', '200'], ['x-a', '1'], ['x-b', '2']]), 1).headers;
    headers.append('X-C', '3');
    expect(headers.raw()).toEqual([['x-a', '1'], ['x-b', '2'], ['X-C', '3']]);
    expect([...headers]).toEqual([['x-a', '1'], ['x-b', '2'], ['x-c', '3']]);
    headers.delete('x-a');
    expect(headers.raw()).toEqual([['x-b', '2'], ['X-C', '3']]);
  });

  it('accepts TE: trailers and values with any other octets', () => {
    expect(checkResponseHead(flat([[':status', '200'], ['te', 'trailers'], ['x-a', '\x01\xff caf\xe9']]), 1).headers.raw()).toEqual([['te', 'trailers'], ['x-a', '\x01\xff caf\xe9']]);
  });

  it.each([
    ['no :status', [['content-type', 'text/plain']]],
    ['an empty list', []],
    ['two :status', [[':status', '200'], [':status', '200']]],
    [':status after a regular field', [['x-a', 'b'], [':status', '200']]],
    ['a request pseudo-header', [[':status', '200'], [':method', 'GET']]],
    ['an unknown pseudo-header', [[':status', '200'], [':foo', 'x']]],
    ['a two-digit :status', [[':status', '20']]],
    ['a :status with a leading zero', [[':status', '099']]],
    ['a :status with a sign', [[':status', '+20']]],
    ['a :status with a space', [[':status', '200 ']]],
    ['an uppercase name', [[':status', '200'], ['X-A', 'b']]],
    ['a name with a space', [[':status', '200'], ['x a', 'b']]],
    ['an empty name', [[':status', '200'], ['', 'b']]],
    ['connection', [[':status', '200'], ['connection', 'close']]],
    ['keep-alive', [[':status', '200'], ['keep-alive', 'timeout=5']]],
    ['proxy-connection', [[':status', '200'], ['proxy-connection', 'close']]],
    ['transfer-encoding', [[':status', '200'], ['transfer-encoding', 'chunked']]],
    ['upgrade', [[':status', '200'], ['upgrade', 'h2c']]],
    ['TE other than trailers', [[':status', '200'], ['te', 'gzip']]],
    ['NUL in a value', [[':status', '200'], ['x-a', '\0']]],
    ['CR in a value', [[':status', '200'], ['x-a', 'a\r']]],
    ['LF in a value', [[':status', '200'], ['x-a', '\nb']]],
  ] as Array<[string, Array<[string, string]>]>)('rejects %s as malformed, for that stream', (_name, fields) => {
    expectMalformed(() => checkResponseHead(flat(fields), 7), 7);
  });
});

describe('checkTrailers', () => {
  it('returns the fields', () => {
    expect(checkTrailers(flat([['grpc-status', '0'], ['x-checksum', 'abc']]), 1).raw()).toEqual([['grpc-status', '0'], ['x-checksum', 'abc']]);
    expect(checkTrailers([], 1).size).toBe(0);
  });

  it.each([
    ['a pseudo-header', [[':status', '200']]],
    ['uppercase', [['X-A', '1']]],
    ['a connection-specific field', [['transfer-encoding', 'chunked']]],
    ['LF in a value', [['x-a', 'a\nb']]],
  ] as Array<[string, Array<[string, string]>]>)('rejects %s', (_name, fields) => {
    expectMalformed(() => checkTrailers(flat(fields), 5), 5);
  });
});

describe('checkPushedRequest', () => {
  const request: Array<[string, string]> = [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':authority', 'example.com'],
    [':path', '/style.css'],
  ];

  it('returns the request, pseudo-headers in any order', () => {
    expect(checkPushedRequest(flat([...request, ['accept', '*/*']]), 2)).toEqual({
      method: 'GET',
      scheme: 'https',
      authority: 'example.com',
      path: '/style.css',
      fields: [['accept', '*/*']],
    });
    const reordered: Array<[string, string]> = [request[3]!, request[2]!, request[0]!, request[1]!];
    expect(checkPushedRequest(flat(reordered), 2).path).toBe('/style.css');
    expect(checkPushedRequest(flat([[':method', 'HEAD'], ...request.slice(1)]), 2).method).toBe('HEAD');
  });

  it.each([
    ['POST', [[':method', 'POST'], ...request.slice(1)]],
    ['PUT', [[':method', 'PUT'], ...request.slice(1)]],
    ['no :method', request.slice(1)],
    ['no :scheme', [request[0], request[2], request[3]]],
    ['no :authority', [request[0], request[1], request[3]]],
    ['no :path', request.slice(0, 3)],
    ['an empty :path', [...request.slice(0, 3), [':path', '']]],
    ['a duplicate :path', [...request, [':path', '/b']]],
    ['a :status', [...request, [':status', '200']]],
    ['a pseudo-header after a regular field', [...request.slice(0, 3), ['accept', '*/*'], request[3]]],
    ['an uppercase name', [...request, ['Accept', '*/*']]],
    ['a connection header', [...request, ['connection', 'close']]],
  ] as Array<[string, Array<[string, string]>]>)('rejects a pushed request with %s', (_name, fields) => {
    expectMalformed(() => checkPushedRequest(flat(fields), 4), 4);
  });
});
