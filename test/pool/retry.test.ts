import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConnectionError,
  ConnectTimeoutError,
  DecodeError,
  HPACKDecodingError,
  HPACKEncodingError,
  HTTP11Error,
  NewConnectionError,
  ProtocolError,
  ProxyError,
  ReadTimeoutError,
  StreamRefusedError,
  StreamResetError,
  TimeoutError,
  TLSError,
} from '../../lib/common/errors.js';
import { HTTPHeaderMap } from '../../lib/common/headers.js';
import { MaxRetryError, ResponseError } from '../../lib/pool/errors.js';
import {
  BACKOFF_MAX,
  DEFAULT_ALLOWED_METHODS,
  DEFAULT_REMOVE_HEADERS_ON_REDIRECT,
  DEFAULT_RETRY_AFTER_MAX,
  InvalidHeader,
  isConnectError,
  isReadError,
  RETRY_AFTER_STATUS_CODES,
  Retry,
  type RetryResponse,
} from '../../lib/pool/retry.js';

/** A response with these header fields (names case-insensitive), as the pool's response offers them. */
function resp(status: number, fields: Record<string, string | string[]> = {}): RetryResponse {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) pairs.push([name, v]);
  return { status, headers: new HTTPHeaderMap(pairs) };
}

/** What increment threw (it must throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

const connectError = (): ConnectTimeoutError => new ConnectTimeoutError('conntimeout');
const readError = (): ReadTimeoutError => new ReadTimeoutError('read timed out');

afterEach(() => {
  vi.useRealTimers();
});

describe('Retry: constants and construction', () => {
  it('exports urllib3 1.25 constants, in ms', () => {
    expect([...RETRY_AFTER_STATUS_CODES]).toEqual([413, 429, 503]);
    expect([...DEFAULT_ALLOWED_METHODS].sort()).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PUT', 'TRACE']);
    expect([...DEFAULT_REMOVE_HEADERS_ON_REDIRECT]).toEqual(['authorization']);
    expect(BACKOFF_MAX).toBe(120_000);
    expect(Object.isFrozen(RETRY_AFTER_STATUS_CODES)).toBe(true);
    expect(Object.isFrozen(DEFAULT_ALLOWED_METHODS)).toBe(true);
  });

  it('has urllib3 defaults', () => {
    const r = new Retry();
    expect(r.total).toBe(10);
    expect([r.connect, r.read, r.redirect, r.status]).toEqual([null, null, null, null]);
    expect(r.allowedMethods).toEqual(new Set(DEFAULT_ALLOWED_METHODS));
    expect(r.statusForcelist.size).toBe(0);
    expect(r.backoffFactor).toBe(0);
    expect(r.backoffMax).toBe(120_000);
    expect(r.retryAfterMax).toBe(DEFAULT_RETRY_AFTER_MAX);
    expect(r.raiseOnRedirect).toBe(true);
    expect(r.raiseOnStatus).toBe(true);
    expect(r.history).toEqual([]);
    expect(r.respectRetryAfterHeader).toBe(true);
    expect(r.removeHeadersOnRedirect).toEqual(new Set(['authorization']));
  });

  it('Retry.DEFAULT is total 3, frozen', () => {
    expect(Retry.DEFAULT.total).toBe(3);
    expect(Retry.DEFAULT.toString()).toBe('Retry(total=3, connect=null, read=null, redirect=null, status=null)');
    expect(Object.isFrozen(Retry.DEFAULT)).toBe(true);
  });

  it('undefined and null counts mean no separate limit; null total lifts the overall one', () => {
    const r = new Retry({ total: null, connect: undefined, read: null });
    expect(r.total).toBeNull();
    expect(r.connect).toBeNull();
    expect(r.read).toBeNull();
  });

  it('total: false implies redirect 0 and raiseOnRedirect false', () => {
    const r = new Retry({ total: false, raiseOnRedirect: true });
    expect(r.total).toBe(false);
    expect(r.redirect).toBe(0);
    expect(r.raiseOnRedirect).toBe(false);
  });

  it('redirect: false is stored as 0 with raiseOnRedirect false', () => {
    const r = new Retry({ redirect: false });
    expect(r.redirect).toBe(0);
    expect(r.raiseOnRedirect).toBe(false);
    expect(r.total).toBe(10);
  });

  it('normalises methods to upper case and header names to lower case', () => {
    const r = new Retry({ allowedMethods: ['get', 'Post'], removeHeadersOnRedirect: ['X-API-Secret', 'Cookie'] });
    expect(r.allowedMethods).toEqual(new Set(['GET', 'POST']));
    expect(r.removeHeadersOnRedirect).toEqual(new Set(['x-api-secret', 'cookie']));
  });

  it('allowedMethods false or empty allows every method', () => {
    expect(new Retry({ allowedMethods: false }).allowedMethods).toBe(false);
    expect(new Retry({ allowedMethods: [] }).allowedMethods).toBe(false);
    expect(new Retry({ allowedMethods: [], statusForcelist: [500] }).isRetry('PATCH', 500)).toBe(true);
  });

  it('rejects counts that are not integers, false or null, and negative or NaN durations', () => {
    expect(() => new Retry({ total: 1.5 })).toThrow(RangeError);
    expect(() => new Retry({ connect: Number.NaN })).toThrow(RangeError);
    expect(() => new Retry({ read: '3' as unknown as number })).toThrow(TypeError);
    expect(() => new Retry({ status: false as unknown as number })).toThrow(TypeError);
    expect(() => new Retry({ backoffFactor: -1 })).toThrow(RangeError);
    expect(() => new Retry({ backoffMax: Number.NaN })).toThrow(RangeError);
    expect(() => new Retry({ retryAfterMax: '1' as unknown as number })).toThrow(TypeError);
    expect(new Retry({ total: -1 }).total).toBe(-1);
  });

  it('toString is urllib3 repr', () => {
    expect(new Retry({ total: false, connect: 2, read: false, status: 4 }).toString()).toBe(
      'Retry(total=false, connect=2, read=false, redirect=0, status=4)',
    );
  });
});

describe('Retry.fromInt', () => {
  it('undefined and null give Retry.DEFAULT, or the default given', () => {
    expect(Retry.fromInt(undefined)).toBe(Retry.DEFAULT);
    expect(Retry.fromInt(null)).toBe(Retry.DEFAULT);
    const mine = new Retry({ total: 7 });
    expect(Retry.fromInt(null, { default: mine })).toBe(mine);
    expect(Retry.fromInt(undefined, { default: 2 }).total).toBe(2);
    expect(Retry.fromInt(undefined, { default: false }).total).toBe(false);
  });

  it('a Retry is returned as it is, whatever redirect says', () => {
    const mine = new Retry({ redirect: 4 });
    expect(Retry.fromInt(mine, { redirect: false })).toBe(mine);
  });

  it('a number becomes total, redirects limited only by total', () => {
    const r = Retry.fromInt(5);
    expect(r).toBeInstanceOf(Retry);
    expect(r.total).toBe(5);
    expect(r.redirect).toBeNull();
    expect(r.raiseOnRedirect).toBe(true);
  });

  it('redirect is read for its truth, as bool(redirect)', () => {
    const off = Retry.fromInt(5, { redirect: false });
    expect(off.redirect).toBe(0);
    expect(off.raiseOnRedirect).toBe(false);
    expect(Retry.fromInt(5, { redirect: 0 }).redirect).toBe(0);
    expect(Retry.fromInt(5, { redirect: 3 }).redirect).toBeNull();
    expect(Retry.fromInt(5, { redirect: true }).redirect).toBeNull();
  });

  it('false disables retries', () => {
    const r = Retry.fromInt(false);
    expect(r.total).toBe(false);
    expect(r.raiseOnRedirect).toBe(false);
    const err = readError();
    expect(thrown(() => r.increment({ method: 'GET', url: '/', error: err }))).toBe(err);
  });
});

describe('Retry.clone / new', () => {
  it('copies every option and replaces the ones given', () => {
    const r = new Retry({
      total: 4,
      connect: 3,
      read: 2,
      redirect: 1,
      status: 5,
      allowedMethods: ['POST'],
      statusForcelist: [500],
      backoffFactor: 100,
      backoffMax: 1000,
      retryAfterMax: 5000,
      raiseOnRedirect: false,
      raiseOnStatus: false,
      respectRetryAfterHeader: false,
      removeHeadersOnRedirect: ['x-secret'],
    });
    const c = r.clone({ read: 9 });
    expect(c).not.toBe(r);
    expect(c.read).toBe(9);
    expect(r.read).toBe(2);
    expect([c.total, c.connect, c.redirect, c.status]).toEqual([4, 3, 1, 5]);
    expect(c.allowedMethods).toEqual(new Set(['POST']));
    expect(c.statusForcelist).toEqual(new Set([500]));
    expect([c.backoffFactor, c.backoffMax, c.retryAfterMax]).toEqual([100, 1000, 5000]);
    expect([c.raiseOnRedirect, c.raiseOnStatus, c.respectRetryAfterHeader]).toEqual([false, false, false]);
    expect(c.removeHeadersOnRedirect).toEqual(new Set(['x-secret']));
    expect(r.new({ status: 0 }).status).toBe(0);
  });

  it('an undefined override is ignored; null lifts a limit', () => {
    const r = new Retry({ total: 4, connect: 2 });
    expect(r.clone({ total: undefined, connect: undefined }).total).toBe(4);
    expect(r.clone({ total: undefined, connect: undefined }).connect).toBe(2);
    expect(r.clone({ total: null }).total).toBeNull();
  });

  it('keeps allowedMethods false (any method)', () => {
    expect(new Retry({ allowedMethods: false }).clone().allowedMethods).toBe(false);
  });

  it('clone and increment keep a subclass', () => {
    class MyRetry extends Retry {}
    const r = new MyRetry({ total: 3 });
    expect(r.clone()).toBeInstanceOf(MyRetry);
    const next = r.increment({ method: 'GET', url: '/', error: connectError() });
    expect(next).toBeInstanceOf(MyRetry);
    expect(next.toString()).toBe('MyRetry(total=2, connect=null, read=null, redirect=null, status=null)');
  });
});

describe('Retry.increment: counters', () => {
  it('returns a new Retry and leaves this one unchanged', () => {
    const r = new Retry({ total: 3, connect: 2 });
    const next = r.increment({ method: 'GET', url: '/a', error: connectError() });
    expect(next).not.toBe(r);
    expect([r.total, r.connect, r.history.length]).toEqual([3, 2, 0]);
    expect([next.total, next.connect, next.history.length]).toEqual([2, 1, 1]);
    expect(Object.isFrozen(next.history)).toBe(true);
  });

  it('total takes precedence: Retry(0) fails on the first retry', () => {
    const err = connectError();
    const e = thrown(() => new Retry({ total: 0 }).increment({ method: 'GET', url: 'http://h/x', error: err }));
    expect(e).toBeInstanceOf(MaxRetryError);
    expect((e as MaxRetryError).url).toBe('http://h/x');
    expect((e as MaxRetryError).reason).toBe(err);
    expect((e as MaxRetryError).cause).toBe(err);
  });

  it('Retry(1) allows exactly one retry', () => {
    const once = new Retry({ total: 1 }).increment({ method: 'GET', url: '/', error: connectError() });
    expect(once.total).toBe(0);
    expect(once.isExhausted()).toBe(false);
    expect(() => once.increment({ method: 'GET', url: '/', error: connectError() })).toThrow(MaxRetryError);
  });

  it('connect: the lower count wins over a higher total', () => {
    let r = new Retry({ total: 3, connect: 2 });
    r = r.increment({ method: 'GET', url: '/', error: connectError() });
    r = r.increment({ method: 'GET', url: '/', error: connectError() });
    expect([r.total, r.connect]).toEqual([1, 0]);
    expect(() => r.increment({ method: 'GET', url: '/', error: connectError() })).toThrow(MaxRetryError);
  });

  it('read: the lower count wins over a higher total', () => {
    let r = new Retry({ total: 3, read: 2 });
    r = r.increment({ method: 'GET', url: '/', error: readError() });
    r = r.increment({ method: 'GET', url: '/', error: readError() });
    expect([r.total, r.read]).toEqual([1, 0]);
    const e = thrown(() => r.increment({ method: 'GET', url: '/r', error: readError() }));
    expect(e).toBeInstanceOf(MaxRetryError);
    expect((e as MaxRetryError).reason).toBeInstanceOf(ReadTimeoutError);
  });

  it('total: null leaves the per-kind counts to decide', () => {
    let r = new Retry({ total: null, connect: 2, read: 0 });
    for (let i = 0; i < 2; i++) r = r.increment({ method: 'GET', url: '/', error: connectError() });
    expect(r.total).toBeNull();
    expect(r.connect).toBe(0);
    expect(() => r.increment({ method: 'GET', url: '/', error: connectError() })).toThrow(MaxRetryError);
    expect(() => r.increment({ method: 'GET', url: '/', error: readError() })).toThrow(MaxRetryError);
  });

  it('a connect error does not spend read, nor a read error connect', () => {
    const r = new Retry({ connect: 5, read: 5 });
    const a = r.increment({ method: 'GET', url: '/', error: connectError() });
    expect([a.connect, a.read]).toEqual([4, 5]);
    const b = r.increment({ method: 'GET', url: '/', error: readError() });
    expect([b.connect, b.read]).toEqual([5, 4]);
  });

  it('status: a response in the forcelist spends status; running out gives ResponseError with the status', () => {
    let r = new Retry({ total: null, status: 2, statusForcelist: [500] });
    r = r.increment({ method: 'GET', url: '/', response: resp(500) });
    r = r.increment({ method: 'GET', url: '/', response: resp(500) });
    expect(r.status).toBe(0);
    const e = thrown(() => r.increment({ method: 'GET', url: '/s', response: resp(503) })) as MaxRetryError;
    expect(e).toBeInstanceOf(MaxRetryError);
    expect(e.url).toBe('/s');
    expect(e.reason).toBeInstanceOf(ResponseError);
    expect(e.reason!.message).toBe('too many 503 error responses');
    expect((e.reason as ResponseError).status).toBe(503);
    expect(e.message).toContain('too many 503 error responses');
  });

  it('neither error nor response: GENERIC_ERROR, total only', () => {
    const r = new Retry({ total: 1, status: 5 });
    const next = r.increment({ method: 'POST', url: '/' });
    expect([next.total, next.status]).toEqual([0, 5]);
    expect(next.history[0]).toEqual({ method: 'POST', url: '/', error: null, status: null, redirectLocation: null });
    const e = thrown(() => next.increment({ method: 'POST', url: '/' })) as MaxRetryError;
    expect(e.reason).toBeInstanceOf(ResponseError);
    expect(e.reason!.message).toBe(ResponseError.GENERIC_ERROR);
    expect(e.reason!.message).toBe('too many error responses');
  });

  it('redirect: spends redirect, records the location, reason "too many redirects"', () => {
    let r = new Retry({ total: null, redirect: 1 });
    r = r.increment({ method: 'GET', url: '/a', response: resp(301, { Location: '/b' }) });
    expect(r.redirect).toBe(0);
    expect(r.history[0]).toEqual({ method: 'GET', url: '/a', error: null, status: 301, redirectLocation: '/b' });
    const e = thrown(() => r.increment({ method: 'GET', url: '/b', response: resp(302, { location: '/c' }) })) as MaxRetryError;
    expect(e).toBeInstanceOf(MaxRetryError);
    expect(e.reason!.message).toBe('too many redirects');
    expect((e.reason as ResponseError).status).toBe(302);
  });

  it('redirect: false fails on the first redirect (the pool then returns the 3xx)', () => {
    const r = new Retry({ redirect: false });
    const e = thrown(() => r.increment({ method: 'GET', url: '/', response: resp(307, { location: '/x' }) }));
    expect(e).toBeInstanceOf(MaxRetryError);
    expect(r.raiseOnRedirect).toBe(false);
  });

  it('total: false with a redirect response runs out at once (False - 1 in urllib3)', () => {
    const e = thrown(() => new Retry({ total: false }).increment({ method: 'GET', url: '/', response: resp(301, { location: '/x' }) }));
    expect(e).toBeInstanceOf(MaxRetryError);
  });

  it('a response uses its own getRedirectLocation when it has one', () => {
    const r = new Retry();
    const custom: RetryResponse = { status: 200, headers: { get: () => null }, getRedirectLocation: () => '/elsewhere' };
    expect(r.increment({ method: 'GET', url: '/', response: custom }).history[0]!.redirectLocation).toBe('/elsewhere');
    const notRedirect: RetryResponse = { status: 301, headers: { get: () => '/x' }, getRedirectLocation: () => false };
    const next = r.increment({ method: 'GET', url: '/', response: notRedirect });
    expect(next.history[0]!.redirectLocation).toBeNull();
    expect(next.redirect).toBeNull();
  });

  it('a 3xx without Location, or a 200 with one, is not a redirect', () => {
    const r = new Retry({ status: 3, redirect: 3 });
    const a = r.increment({ method: 'GET', url: '/', response: resp(301) });
    expect([a.redirect, a.status]).toEqual([3, 2]);
    expect(a.history[0]!.redirectLocation).toBeNull();
    const b = r.increment({ method: 'GET', url: '/', response: resp(200, { location: '/x' }) });
    expect([b.redirect, b.status]).toEqual([3, 2]);
    const c = r.increment({ method: 'GET', url: '/', response: resp(308, { location: '' }) });
    expect(c.redirect).toBe(3);
  });

  it('counters going negative on a fresh Retry are reported by isExhausted', () => {
    expect(new Retry({ total: 0 }).isExhausted()).toBe(false);
    expect(new Retry({ total: -1 }).isExhausted()).toBe(true);
    expect(new Retry({ total: null, redirect: -1 }).isExhausted()).toBe(true);
    expect(new Retry({ total: 5, status: -2 }).isExhausted()).toBe(true);
    expect(new Retry({ total: false }).isExhausted()).toBe(false);
    expect(new Retry({ total: null }).isExhausted()).toBe(false);
    expect(() => new Retry({ total: -1 }).increment({ method: 'GET', url: '/', error: connectError() })).toThrow(MaxRetryError);
  });
});

describe('Retry.increment: errors thrown as they are', () => {
  it('total: false re-throws any error unwrapped', () => {
    const r = new Retry({ total: false });
    for (const err of [connectError(), readError(), new TLSError('HW_ERR_TLS', 'bad cert'), new Error('other')]) {
      expect(thrown(() => r.increment({ method: 'GET', url: '/', error: err }))).toBe(err);
    }
  });

  it('a read error on a method that is not allowed is re-thrown unwrapped', () => {
    const err = readError();
    expect(thrown(() => new Retry().increment({ method: 'POST', url: '/', error: err }))).toBe(err);
    const patch = new ProtocolError('HW_ERR_PROTOCOL', 'bad frame');
    expect(thrown(() => new Retry().increment({ method: 'patch', url: '/', error: patch }))).toBe(patch);
  });

  it('a read error on an allowed method, in any case, is retried', () => {
    expect(new Retry().increment({ method: 'get', url: '/', error: readError() }).total).toBe(9);
    expect(new Retry({ allowedMethods: false }).increment({ method: 'POST', url: '/', error: readError() }).total).toBe(9);
    expect(new Retry({ allowedMethods: ['POST'] }).increment({ method: 'POST', url: '/', error: readError() }).total).toBe(9);
  });

  it('read: false re-throws read errors, not connect errors', () => {
    const r = new Retry({ read: false });
    const err = readError();
    expect(thrown(() => r.increment({ method: 'GET', url: '/', error: err }))).toBe(err);
    expect(r.increment({ method: 'GET', url: '/', error: connectError() }).read).toBe(false);
  });

  it('connect: false re-throws connect errors, not read errors', () => {
    const r = new Retry({ connect: false });
    const err = connectError();
    expect(thrown(() => r.increment({ method: 'GET', url: '/', error: err }))).toBe(err);
    expect(r.increment({ method: 'GET', url: '/', error: readError() }).connect).toBe(false);
  });

  it('a connect error is retried whatever the method', () => {
    const next = new Retry().increment({ method: 'POST', url: '/', error: new NewConnectionError('ECONNREFUSED') });
    expect(next.total).toBe(9);
  });

  it('a refused HTTP/2 stream counts as a connect error: a POST is retried (RFC 9113 §8.7)', () => {
    const refused = new StreamRefusedError('REFUSED_STREAM', { streamId: 1 });
    const next = new Retry({ connect: 1, read: 0 }).increment({ method: 'POST', url: '/', error: refused });
    expect([next.connect, next.read]).toEqual([0, 0]);
    expect(next.history[0]!.error).toBe(refused);
  });

  it('a TLS failure counts against total only, as urllib3 does with SSLError', () => {
    const tlsErr = new TLSError('HW_ERR_TLS', 'certificate has expired');
    const next = new Retry({ total: 2, connect: 5, read: 5 }).increment({ method: 'POST', url: '/', error: tlsErr });
    expect([next.total, next.connect, next.read]).toEqual([1, 5, 5]);
    const e = thrown(() => new Retry({ total: 0 }).increment({ method: 'POST', url: '/', error: tlsErr })) as MaxRetryError;
    expect(e.reason).toBe(tlsErr);
  });
});

describe('isConnectError / isReadError', () => {
  const cases: Array<[string, unknown, boolean, boolean]> = [
    ['NewConnectionError', new NewConnectionError('refused'), true, false],
    ['ConnectTimeoutError', new ConnectTimeoutError('slow'), true, false],
    ['ProxyError', new ProxyError('407', 407), true, false],
    ['StreamRefusedError', new StreamRefusedError('GOAWAY'), true, false],
    ['ReadTimeoutError', new ReadTimeoutError('slow'), false, true],
    ['TimeoutError', new TimeoutError('slow'), false, true],
    ['ConnectionError', new ConnectionError('HW_ERR_CONNECTION_CLOSED', 'closed'), false, true],
    ['ProtocolError', new ProtocolError('HW_ERR_PROTOCOL', 'bad'), false, true],
    ['HPACKDecodingError', new HPACKDecodingError('bad block'), false, true],
    ['StreamResetError', new StreamResetError('reset', { streamId: 3, errorCode: 2 }), false, true],
    ['HTTP11Error', new HTTP11Error('HW_ERR_H1_STATUS_LINE', 'bad'), false, true],
    ['TLSError', new TLSError('HW_ERR_TLS', 'bad cert'), false, false],
    ['DecodeError', new DecodeError('bad gzip'), false, false],
    ['HPACKEncodingError', new HPACKEncodingError('bad name'), false, false],
    ['Error', new Error('x'), false, false],
    ['a string', 'x', false, false],
    ['null', null, false, false],
  ];
  it.each(cases)('%s: connect %s, read %s', (_name, err, connect, read) => {
    expect(isConnectError(err)).toBe(connect);
    expect(isReadError(err)).toBe(read);
  });
});

describe('Retry.history', () => {
  it('records each attempt in order, as urllib3 test_retry_history', () => {
    let r = new Retry({ total: 10, allowedMethods: ['GET', 'POST'] });
    expect(r.history).toEqual([]);
    const conn = connectError();
    r = r.increment({ method: 'GET', url: '/test1', error: conn });
    expect(r.history).toEqual([{ method: 'GET', url: '/test1', error: conn, status: null, redirectLocation: null }]);
    const read = readError();
    r = r.increment({ method: 'POST', url: '/test2', error: read });
    r = r.increment({ method: 'GET', url: '/test3', response: resp(500) });
    r = r.increment({ method: 'GET', url: '/test4', response: resp(303, { location: '/test5' }) });
    expect(r.history).toEqual([
      { method: 'GET', url: '/test1', error: conn, status: null, redirectLocation: null },
      { method: 'POST', url: '/test2', error: read, status: null, redirectLocation: null },
      { method: 'GET', url: '/test3', error: null, status: 500, redirectLocation: null },
      { method: 'GET', url: '/test4', error: null, status: 303, redirectLocation: '/test5' },
    ]);
    expect(r.history[0]!.error).toBe(conn);
    expect(r.total).toBe(6);
  });

  it('history given to the constructor is copied', () => {
    const h = [{ method: 'GET', url: '/', error: null, status: 500, redirectLocation: null }];
    const r = new Retry({ history: h });
    h.push({ method: 'GET', url: '/2', error: null, status: 500, redirectLocation: null });
    expect(r.history.length).toBe(1);
  });
});

describe('Retry.isRetry', () => {
  it('statusForcelist, for allowed methods only', () => {
    const r = new Retry({ statusForcelist: Array.from({ length: 100 }, (_, i) => 500 + i) });
    expect(r.isRetry('GET', 200)).toBe(false);
    expect(r.isRetry('GET', 400)).toBe(false);
    expect(r.isRetry('GET', 500)).toBe(true);
    expect(r.isRetry('GET', 599)).toBe(true);
    expect(r.isRetry('POST', 500)).toBe(false);
    expect(new Retry({ total: 1, statusForcelist: [418] }).isRetry('GET', 418)).toBe(true);
  });

  it('allowedMethods with statusForcelist (urllib3 test_method_whitelist_with_status_forcelist)', () => {
    const any = new Retry({ statusForcelist: [500], allowedMethods: false });
    expect(any.isRetry('GET', 500)).toBe(true);
    expect(any.isRetry('POST', 500)).toBe(true);
    const postOnly = new Retry({ statusForcelist: [500], allowedMethods: ['POST'] });
    expect(postOnly.isRetry('GET', 500)).toBe(false);
    expect(postOnly.isRetry('POST', 500)).toBe(true);
  });

  it('413, 429 and 503 with Retry-After are retried without a forcelist', () => {
    const r = new Retry();
    for (const status of [413, 429, 503]) {
      expect(r.isRetry('GET', status, true)).toBe(true);
      expect(r.isRetry('GET', status, false)).toBe(false);
      expect(r.isRetry('GET', status)).toBe(false);
    }
    expect(r.isRetry('GET', 500, true)).toBe(false);
    expect(r.isRetry('POST', 503, true)).toBe(false);
  });

  it('not when Retry-After is not respected, or retries are off or spent', () => {
    expect(new Retry({ respectRetryAfterHeader: false }).isRetry('GET', 503, true)).toBe(false);
    expect(new Retry({ total: false }).isRetry('GET', 503, true)).toBe(false);
    expect(new Retry({ total: 0 }).isRetry('GET', 503, true)).toBe(false);
  });

  it('a null total does not shut the Retry-After path', () => {
    expect(new Retry({ total: null }).isRetry('GET', 429, true)).toBe(true);
  });
});

describe('Retry.getBackoffTime', () => {
  /** `r` after `n` failed attempts. */
  function failed(r: Retry, n: number): Retry {
    for (let i = 0; i < n; i++) r = r.increment({ method: 'GET', url: '/', error: connectError() });
    return r;
  }

  it('backoffFactor 100 ms (urllib3 0.1 s): 0, 0, 200, 400, 800 ...', () => {
    const r = new Retry({ total: 100, backoffFactor: 100 });
    expect([0, 1, 2, 3, 4, 5].map((n) => failed(r, n).getBackoffTime())).toEqual([0, 0, 200, 400, 800, 1600]);
  });

  it('backoffFactor 200 ms, capped at BACKOFF_MAX', () => {
    const r = new Retry({ total: 100, backoffFactor: 200 });
    expect(failed(r, 2).getBackoffTime()).toBe(400);
    expect(failed(r, 3).getBackoffTime()).toBe(800);
    expect(failed(r, 10).getBackoffTime()).toBe(102_400);
    expect(failed(r, 11).getBackoffTime()).toBe(BACKOFF_MAX);
    expect(failed(r, 30).getBackoffTime()).toBe(120_000);
  });

  it('backoffMax caps it', () => {
    expect(failed(new Retry({ backoffFactor: 1000, backoffMax: 3000 }), 4).getBackoffTime()).toBe(3000);
  });

  it('zero by default', () => {
    expect(failed(new Retry(), 5).getBackoffTime()).toBe(0);
  });

  it('counts only the errors since the last redirect', () => {
    let r = failed(new Retry({ backoffFactor: 100 }), 3);
    expect(r.getBackoffTime()).toBe(400);
    r = r.increment({ method: 'GET', url: '/', response: resp(302, { location: '/x' }) });
    expect(r.getBackoffTime()).toBe(0);
    r = failed(r, 1);
    expect(r.getBackoffTime()).toBe(0);
    r = failed(r, 1);
    expect(r.getBackoffTime()).toBe(200);
  });
});

describe('Retry-After parsing', () => {
  it('delay-seconds, in ms, around optional whitespace', () => {
    const r = new Retry();
    expect(r.parseRetryAfter('0')).toBe(0);
    expect(r.parseRetryAfter('1000')).toBe(1_000_000);
    expect(r.parseRetryAfter('\t42 ')).toBe(42_000);
  });

  it.each(['-1', '+1', '1.0', '\u00b2', '', ' ', '12 s', 'soon', '0x10', 'Fri, 31 Dec 1999 23:59:59 UTC'])(
    'rejects %j with InvalidHeader',
    (value) => {
      const e = thrown(() => new Retry().parseRetryAfter(value));
      expect(e).toBeInstanceOf(InvalidHeader);
      expect((e as InvalidHeader).code).toBe('HW_ERR_INVALID_HEADER');
      expect((e as InvalidHeader).value).toBe(value);
      expect((e as InvalidHeader).message).toBe(`Invalid Retry-After header: ${value}`);
    },
  );

  it('HTTP-date in all three forms of RFC 9110 §5.6.7, against the clock', () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(1994, 10, 6, 8, 49, 0));
    const r = new Retry();
    expect(r.parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(37_000);
    expect(r.parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(37_000);
    expect(r.parseRetryAfter('Sun Nov  6 08:49:37 1994')).toBe(37_000);
    expect(r.parseRetryAfter('  Sun, 06 Nov 1994 08:50:00 GMT\t')).toBe(60_000);
    expect(r.parseRetryAfter('sun, 06 nov 1994 08:49:37 gmt')).toBe(37_000);
    expect(r.parseRetryAfter('Sun Nov 06 08:49:37 1994')).toBe(37_000);
  });

  it('a date in the past gives 0', () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2024, 0, 1));
    expect(new Retry().parseRetryAfter('Fri, 31 Dec 1999 23:59:59 GMT')).toBe(0);
  });

  it('a two-digit year more than 50 years ahead is in the past century', () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2030, 0, 1));
    const r = new Retry({ retryAfterMax: Number.MAX_SAFE_INTEGER });
    // 81 would be 2081, more than 50 years ahead: it is 1981, in the past.
    expect(r.parseRetryAfter('Thursday, 01-Jan-81 00:00:00 GMT')).toBe(0);
    // 80 is 2080, exactly 50 years ahead: not more, so it stays.
    expect(r.parseRetryAfter('Monday, 01-Jan-80 00:00:00 GMT')).toBe(Date.UTC(2080, 0, 1) - Date.UTC(2030, 0, 1));
    // 31 is 2031.
    expect(r.parseRetryAfter('Wednesday, 01-Jan-31 00:00:00 GMT')).toBe(Date.UTC(2031, 0, 1) - Date.UTC(2030, 0, 1));
  });

  it('rejects impossible dates and times', () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2000, 0, 1));
    const r = new Retry({ retryAfterMax: Number.MAX_SAFE_INTEGER });
    for (const bad of ['Mon, 31 Feb 2000 00:00:00 GMT', 'Mon, 00 Jan 2000 00:00:00 GMT', 'Mon, 01 Jan 2000 24:00:00 GMT', 'Mon, 01 Jan 2000 00:60:00 GMT', 'Mon, 01 Jan 2000 00:00:61 GMT', 'Mon, 01 Foo 2000 00:00:00 GMT']) {
      expect(() => r.parseRetryAfter(bad)).toThrow(InvalidHeader);
    }
    // A leap second is allowed by the grammar.
    expect(r.parseRetryAfter('Sat, 01 Jan 2000 00:00:60 GMT')).toBe(60_000);
    // 29 Feb exists in 2000.
    expect(r.parseRetryAfter('Tue, 29 Feb 2000 00:00:00 GMT')).toBe(Date.UTC(2000, 1, 29) - Date.UTC(2000, 0, 1));
  });

  it('caps the wait at retryAfterMax', () => {
    expect(new Retry().parseRetryAfter('999999999')).toBe(DEFAULT_RETRY_AFTER_MAX);
    expect(new Retry({ retryAfterMax: 5000 }).parseRetryAfter('10')).toBe(5000);
  });

  it('getRetryAfter reads the field from any headers shape; null when absent', () => {
    const r = new Retry();
    expect(r.getRetryAfter(resp(503, { 'Retry-After': '5' }))).toBe(5000);
    expect(r.getRetryAfter(resp(503))).toBeNull();
    const whatwg: RetryResponse = { status: 503, headers: new Headers({ 'retry-after': '7' }) };
    expect(r.getRetryAfter(whatwg)).toBe(7000);
    expect(r.getRetryAfter({ status: 503, headers: new Headers() })).toBeNull();
    expect(r.getRetryAfter({ status: 503, headers: new Map([['retry-after', '2']]) })).toBe(2000);
  });

  it('two Retry-After field lines are invalid (a singleton field)', () => {
    expect(() => new Retry().getRetryAfter(resp(503, { 'retry-after': ['5', '5'] }))).toThrow(InvalidHeader);
  });
});

describe('Retry.sleep', () => {
  /** Whether `p` has settled after the pending microtasks ran. */
  async function settled(p: Promise<unknown>): Promise<boolean> {
    let done = false;
    p.then(
      () => (done = true),
      () => (done = true),
    );
    await vi.advanceTimersByTimeAsync(0);
    return done;
  }

  it('honours Retry-After on 503 (seconds)', async () => {
    vi.useFakeTimers();
    const p = new Retry().sleep(resp(503, { 'retry-after': '5' }));
    await vi.advanceTimersByTimeAsync(4999);
    expect(await settled(p)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(p)).toBe(true);
    await p;
  });

  it('honours Retry-After on 429 as an HTTP-date', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2020, 5, 1, 12, 0, 0));
    const p = new Retry().sleep(resp(429, { 'retry-after': 'Mon, 01 Jun 2020 12:00:03 GMT' }));
    await vi.advanceTimersByTimeAsync(2999);
    expect(await settled(p)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(p)).toBe(true);
  });

  it('413 is honoured too', async () => {
    vi.useFakeTimers();
    const p = new Retry().sleep(resp(413, { 'retry-after': '1' }));
    expect(await settled(p)).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await settled(p)).toBe(true);
  });

  it('Retry-After on another status is ignored: it backs off instead', async () => {
    vi.useFakeTimers();
    let r = new Retry({ backoffFactor: 100, statusForcelist: [500] });
    for (let i = 0; i < 2; i++) r = r.increment({ method: 'GET', url: '/', response: resp(500) });
    const p = r.sleep(resp(500, { 'retry-after': '60' }));
    await vi.advanceTimersByTimeAsync(199);
    expect(await settled(p)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(p)).toBe(true);
  });

  it('respectRetryAfterHeader: false backs off instead', async () => {
    vi.useFakeTimers();
    const p = new Retry({ respectRetryAfterHeader: false }).sleep(resp(503, { 'retry-after': '60' }));
    // No history: a backoff of 0 resolves at once, without a timer.
    expect(vi.getTimerCount()).toBe(0);
    expect(await settled(p)).toBe(true);
  });

  it('Retry-After: 0 falls back to the backoff', async () => {
    vi.useFakeTimers();
    let r = new Retry({ backoffFactor: 1000 });
    for (let i = 0; i < 3; i++) r = r.increment({ method: 'GET', url: '/', response: resp(503) });
    const p = r.sleep(resp(503, { 'retry-after': '0' }));
    await vi.advanceTimersByTimeAsync(3999);
    expect(await settled(p)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(p)).toBe(true);
  });

  it('backs off without a response; resolves at once when the backoff is 0', async () => {
    vi.useFakeTimers();
    expect(await settled(new Retry().sleep())).toBe(true);
    let r = new Retry({ backoffFactor: 50 });
    for (let i = 0; i < 2; i++) r = r.increment({ method: 'GET', url: '/', error: connectError() });
    const p = r.sleep();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(await settled(p)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(p)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an invalid Retry-After rejects with InvalidHeader', async () => {
    await expect(new Retry().sleep(resp(503, { 'retry-after': 'later' }))).rejects.toBeInstanceOf(InvalidHeader);
  });

  it('aborting rejects with the signal reason and clears the timer', async () => {
    vi.useFakeTimers();
    const ac = new AbortController();
    const p = new Retry().sleep(resp(503, { 'retry-after': '30' }), ac.signal);
    const outcome = p.catch((err: unknown) => err);
    expect(vi.getTimerCount()).toBe(1);
    const reason = new Error('caller gave up');
    ac.abort(reason);
    expect(await outcome).toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an already aborted signal rejects at once, without a timer, even with nothing to wait for', async () => {
    vi.useFakeTimers();
    const reason = new Error('gone');
    const signal = AbortSignal.abort(reason);
    await expect(new Retry().sleep(undefined, signal)).rejects.toBe(reason);
    await expect(new Retry().sleep(resp(503, { 'retry-after': '3' }), signal)).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a completed sleep removes its abort listener (a later abort changes nothing)', async () => {
    vi.useFakeTimers();
    const ac = new AbortController();
    const seen: string[] = [];
    const p = new Retry().sleep(resp(503, { 'retry-after': '1' }), ac.signal).then(
      () => seen.push('resolved'),
      () => seen.push('rejected'),
    );
    await vi.advanceTimersByTimeAsync(1000);
    await p;
    ac.abort(new Error('late'));
    await Promise.resolve();
    expect(seen).toEqual(['resolved']);
  });

  it('waits longer than one Node timer can', async () => {
    vi.useFakeTimers();
    let r = new Retry({ backoffFactor: 2 ** 31, backoffMax: Infinity });
    for (let i = 0; i < 2; i++) r = r.increment({ method: 'GET', url: '/', error: connectError() });
    expect(r.getBackoffTime()).toBe(2 ** 32);
    const p = r.sleep();
    await vi.advanceTimersByTimeAsync(2 ** 31);
    expect(await settled(p)).toBe(false);
    await vi.advanceTimersByTimeAsync(2 ** 32 - 2 ** 31 - 1);
    expect(await settled(p)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(p)).toBe(true);
  });
});

describe('Retry.sleepForRetry', () => {
  it('waits as Retry-After asks on any status (a redirect here) and says so', async () => {
    vi.useFakeTimers();
    const p = new Retry().sleepForRetry(resp(301, { location: '/x', 'retry-after': '2' }));
    let result: boolean | undefined;
    void p.then((v) => (result = v));
    await vi.advanceTimersByTimeAsync(1999);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(result).toBe(true);
  });

  it('resolves false at once when there is nothing to wait for', async () => {
    vi.useFakeTimers();
    expect(await new Retry().sleepForRetry(resp(503))).toBe(false);
    expect(await new Retry().sleepForRetry(resp(503, { 'retry-after': '0' }))).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('is abortable', async () => {
    vi.useFakeTimers();
    const ac = new AbortController();
    const p = new Retry().sleepForRetry(resp(503, { 'retry-after': '10' }), ac.signal);
    const outcome = p.catch((err: unknown) => err);
    ac.abort();
    const err = await outcome;
    expect(err).toBe(ac.signal.reason);
    expect((err as Error).name).toBe('AbortError');
    expect(vi.getTimerCount()).toBe(0);
  });
});
