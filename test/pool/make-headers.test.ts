import { describe, expect, it } from 'vitest';
import { ACCEPT_ENCODING, makeHeaders, type MakeHeadersOptions } from '../../lib/pool/make-headers.js';

describe('makeHeaders', () => {
  // urllib3 1.25's test_make_headers, with br offered as it is decoded here.
  it.each([
    [{ acceptEncoding: true }, { 'accept-encoding': 'gzip,deflate,br' }],
    [{ acceptEncoding: 'foo,bar' }, { 'accept-encoding': 'foo,bar' }],
    [{ acceptEncoding: ['foo', 'bar'] }, { 'accept-encoding': 'foo,bar' }],
    [{ acceptEncoding: true, userAgent: 'banana' }, { 'accept-encoding': 'gzip,deflate,br', 'user-agent': 'banana' }],
    [{ userAgent: 'banana' }, { 'user-agent': 'banana' }],
    [{ keepAlive: true }, { connection: 'keep-alive' }],
    [{ basicAuth: 'foo:bar' }, { authorization: 'Basic Zm9vOmJhcg==' }],
    [{ proxyBasicAuth: 'foo:bar' }, { 'proxy-authorization': 'Basic Zm9vOmJhcg==' }],
    [{ disableCache: true }, { 'cache-control': 'no-cache' }],
  ] as Array<[MakeHeadersOptions, Record<string, string>]>)('%j → %j', (options, expected) => {
    expect(makeHeaders(options)).toEqual(expected);
  });

  it('offers the codings the response decoder handles', () => {
    expect(ACCEPT_ENCODING).toBe('gzip,deflate,br');
  });

  it('adds nothing for no options, or options that are off or empty', () => {
    expect(makeHeaders()).toEqual({});
    expect(makeHeaders({})).toEqual({});
    expect(makeHeaders({ keepAlive: false, acceptEncoding: false, disableCache: false })).toEqual({});
    expect(makeHeaders({ acceptEncoding: '', userAgent: '', basicAuth: '', proxyBasicAuth: '' })).toEqual({});
    expect(makeHeaders({ acceptEncoding: [] })).toEqual({});
    expect(makeHeaders({ userAgent: undefined, basicAuth: undefined })).toEqual({});
  });

  it("puts every header in urllib3's order, with lower-case names", () => {
    const headers = makeHeaders({ disableCache: true, proxyBasicAuth: 'p:q', basicAuth: 'u:v', keepAlive: true, userAgent: 'ua/1', acceptEncoding: ['gzip'] });
    expect(Object.entries(headers)).toEqual([
      ['accept-encoding', 'gzip'],
      ['user-agent', 'ua/1'],
      ['connection', 'keep-alive'],
      ['authorization', 'Basic dTp2'],
      ['proxy-authorization', 'Basic cDpx'],
      ['cache-control', 'no-cache'],
    ]);
  });

  it('encodes credentials as UTF-8 (RFC 7617 §2.1)', () => {
    expect(makeHeaders({ basicAuth: 'J\u00fcrgen:p\u00e4ss\u2603' }).authorization).toBe(`Basic ${Buffer.from('J\u00fcrgen:p\u00e4ss\u2603', 'utf8').toString('base64')}`);
    expect(makeHeaders({ basicAuth: 'J\u00fcrgen:x' }).authorization).toBe('Basic SsO8cmdlbjp4');
    // a password may hold ':' (RFC 7617 §2: the user-id may not)
    expect(makeHeaders({ basicAuth: 'user:pa:ss' }).authorization).toBe('Basic dXNlcjpwYTpzcw==');
  });

  it('refuses options of the wrong type', () => {
    expect(() => makeHeaders({ acceptEncoding: 1 as unknown as string })).toThrow(TypeError);
    expect(() => makeHeaders({ acceptEncoding: ['gzip', 2] as unknown as string[] })).toThrow(TypeError);
    expect(() => makeHeaders({ userAgent: 5 as unknown as string })).toThrow(TypeError);
    expect(() => makeHeaders({ basicAuth: ['u', 'p'] as unknown as string })).toThrow(TypeError);
    expect(() => makeHeaders({ proxyBasicAuth: {} as unknown as string })).toThrow(TypeError);
  });

  it('returns a new object each time', () => {
    const a = makeHeaders({ keepAlive: true });
    a.extra = 'x';
    expect(makeHeaders({ keepAlive: true })).toEqual({ connection: 'keep-alive' });
  });
});
