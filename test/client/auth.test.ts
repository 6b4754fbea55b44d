/**
 * Authentication: the WWW-Authenticate parser, Basic (RFC 7617), function
 * hooks, toAuth, and Digest (RFC 7616) against the RFC's own examples and
 * against a Node HTTP server that issues and checks Digest challenges
 * itself, driven through hyperwire's PoolManager the way the Client drives
 * an auth flow.
 */

import { createHash, getHashes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BasicAuth,
  DigestAuth,
  DigestAuthError,
  FunctionAuth,
  parseChallenges,
  toAuth,
  type Auth,
  type AuthRequest,
  type AuthResponse,
} from '../../lib/client/auth.js';
import { HTTPHeaderMap } from '../../lib/common/headers.js';
import { PoolManager } from '../../lib/index.js';
import { digestServer, paramsOf, REALM, type DigestServer, type ServerOptions } from '../helpers/digest-server.js';

const HAS_SHA512_256 = getHashes().includes('sha512-256');

function request(url: string, method = 'GET', headers: Record<string, string> = {}): AuthRequest {
  return { method, url, headers: new HTTPHeaderMap(headers) };
}

function response(status: number, headers: Array<[string, string]> = []): AuthResponse {
  return { status, headers: new HTTPHeaderMap(headers) };
}

const unauthorized = (...challenges: string[]) => response(401, challenges.map((c): [string, string] => ['WWW-Authenticate', c]));

const H = (algorithm: string, text: string) => createHash(algorithm).update(text, 'utf8').digest('hex');

// ---------------------------------------------------------------------------

describe('parseChallenges', () => {
  it('reads the RFC 9110 §11.6.1 example: two challenges in one field line', () => {
    const challenges = parseChallenges('Basic realm="simple", Newauth realm="apps", type=1, title="Login to \\"apps\\""');
    expect(challenges.map((c) => [c.scheme, c.token68, Object.fromEntries(c.params)])).toEqual([
      ['Basic', undefined, { realm: 'simple' }],
      ['Newauth', undefined, { realm: 'apps', type: '1', title: 'Login to "apps"' }],
    ]);
  });

  it('reads several field lines, commas inside quotes, spaces around "=", empty elements, any case of names', () => {
    const challenges = parseChallenges([
      'Digest REALM = "a, b", , nonce=abc ,qop="auth,auth-int"',
      ', Bearer realm="x" ,, Basic Realm="y"',
    ]);
    expect(challenges.map((c) => c.scheme)).toEqual(['Digest', 'Bearer', 'Basic']);
    expect(Object.fromEntries(challenges[0]!.params)).toEqual({ realm: 'a, b', nonce: 'abc', qop: 'auth,auth-int' });
    expect(challenges[2]!.params.get('realm')).toBe('y');
  });

  it('tells token68 from parameters', () => {
    const challenges = parseChallenges('Negotiate YIIB+w==, Bearer, Basic realm="r", Foo a=b');
    expect(challenges.map((c) => [c.scheme, c.token68, c.params.size])).toEqual([
      ['Negotiate', 'YIIB+w==', 0],
      ['Bearer', undefined, 0],
      ['Basic', undefined, 1],
      ['Foo', undefined, 1],
    ]);
    // "name=" alone is a token68 by the grammar, not a parameter without a value.
    expect(parseChallenges('Digest realm=, Basic realm="x"').map((c) => [c.scheme, c.token68])).toEqual([
      ['Digest', 'realm='],
      ['Basic', undefined],
    ]);
  });

  it('keeps obs-text octets and escaped characters of quoted strings', () => {
    const [challenge] = parseChallenges('Digest realm="caf\u00c3\u00a9 \\\\ \\q", nonce="n"');
    expect(challenge!.params.get('realm')).toBe('caf\u00c3\u00a9 \\ q');
  });

  it('leaves out a malformed challenge and keeps the others', () => {
    const names = (v: string | string[]) => parseChallenges(v).map((c) => c.scheme);
    expect(names('Digest realm="a", realm="b", Basic realm="x"')).toEqual(['Basic']); // repeated parameter
    expect(names('Digest realm="a", nonce=, Basic realm="x"')).toEqual(['Basic']); // no value
    expect(names('Digest realm="a" junk, Basic realm="x"')).toEqual(['Basic']); // stray token after a value
    expect(names('Digest realm="a\u0001", Basic realm="x"')).toEqual(['Basic']); // control character in a quoted-string
    expect(names('Basic realm="x", Digest realm="unterminated')).toEqual(['Basic']);
    expect(names(['Digest realm="unterminated', 'Basic realm="x"'])).toEqual(['Basic']); // each line on its own
    expect(names('realm="orphan", Basic realm="x"')).toEqual(['Basic']); // a parameter with no scheme
    expect(names('Negotiate abc=, realm="x"')).toEqual([]); // token68 and parameters together
    expect(names('')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------

describe('BasicAuth', () => {
  async function headerFor(auth: Auth): Promise<string | undefined> {
    const req = request('http://example.com/');
    const flow = auth.authFlow(req);
    const first = await flow.next();
    expect(first).toEqual({ done: false, value: req });
    // Whatever comes back, Basic does not try again.
    expect(await flow.next(unauthorized('Basic realm="x"'))).toEqual({ done: true, value: undefined });
    return req.headers.first('authorization');
  }

  it('sends RFC 7617 §2\'s example', async () => {
    expect(await headerFor(new BasicAuth('Aladdin', 'open sesame'))).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  });

  it('encodes the credentials as UTF-8, as RFC 7617 §2.1\'s example', async () => {
    expect(await headerFor(new BasicAuth('test', '123\u00a3'))).toBe('Basic dGVzdDoxMjPCow==');
  });

  it('replaces an Authorization header already there, and allows a colon in the password', async () => {
    const req = request('http://example.com/', 'GET', { Authorization: 'Bearer old' });
    await new BasicAuth('u', 'p:w').authFlow(req).next();
    expect(req.headers.get('authorization')).toEqual([`Basic ${Buffer.from('u:p:w').toString('base64')}`]);
  });

  it('refuses a user-id with a colon, control characters and non-strings (RFC 7617 §2)', () => {
    expect(() => new BasicAuth('a:b', 'p')).toThrow(TypeError);
    expect(() => new BasicAuth('a', 'p\r\nX: y')).toThrow(TypeError);
    expect(() => new BasicAuth('a\u007f', 'p')).toThrow(TypeError);
    expect(() => new BasicAuth(1 as unknown as string, 'p')).toThrow(TypeError);
  });

  it('keeps the password out of inspect and JSON', () => {
    const auth = new BasicAuth('user', 'hunter2');
    expect(inspect(auth, { showHidden: true, depth: 5 })).not.toContain('aHVudGVyMg');
    expect(JSON.stringify(auth)).not.toContain('aHVudGVyMg');
    expect(auth.username).toBe('user');
  });
});

describe('FunctionAuth and toAuth', () => {
  it('runs a function on the request before it is sent, and sends it once', async () => {
    const seen: string[] = [];
    const auth = new FunctionAuth((req) => {
      seen.push(`${req.method} ${req.url}`);
      req.headers.set('X-Signature', 'sig');
      req.headers.delete('x-remove');
    });
    const req = request('https://api.example/v1', 'PUT', { 'x-remove': '1' });
    const flow = auth.authFlow(req);
    const step = await flow.next();
    expect(step.value).toBe(req);
    expect(req.headers.first('x-signature')).toBe('sig');
    expect(req.headers.has('x-remove')).toBe(false);
    expect(seen).toEqual(['PUT https://api.example/v1']);
    expect((await flow.next(unauthorized('Basic realm="x"'))).done).toBe(true);
  });

  it('awaits an async function before the request goes out', async () => {
    const auth = new FunctionAuth(async (req) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      req.headers.set('authorization', 'Bearer late');
    });
    const req = request('http://h/');
    await auth.authFlow(req).next();
    expect(req.headers.first('authorization')).toBe('Bearer late');
  });

  it('lets the function\'s error reach the caller', async () => {
    const auth = new FunctionAuth(() => {
      throw new Error('no token');
    });
    await expect(auth.authFlow(request('http://h/')).next()).rejects.toThrow('no token');
    expect(() => new FunctionAuth('nope' as unknown as () => void)).toThrow(TypeError);
  });

  it('turns a tuple into Basic, a function into FunctionAuth, and passes an Auth through', async () => {
    expect(toAuth(undefined)).toBeUndefined();
    const basic = toAuth(['user', 'pass']);
    expect(basic).toBeInstanceOf(BasicAuth);
    const req = request('http://h/');
    await basic!.authFlow(req).next();
    expect(req.headers.first('authorization')).toBe('Basic dXNlcjpwYXNz');
    expect(toAuth((r) => r.headers.set('x', '1'))).toBeInstanceOf(FunctionAuth);
    const digest = new DigestAuth('u', 'p');
    expect(toAuth(digest)).toBe(digest);
    const custom: Auth = {
      async *authFlow(r) {
        yield r;
      },
    };
    expect(toAuth(custom)).toBe(custom);
  });

  it('refuses what is not an auth', () => {
    for (const bad of [['only-user'], ['u', 'p', 'x'], ['u', 2], 'user:pass', 42, null, {}]) {
      expect(() => toAuth(bad as unknown as Auth), JSON.stringify(bad)).toThrow(TypeError);
    }
  });
});

// ---------------------------------------------------------------------------

/** Runs a Digest flow to the point where it answers `challenge`; returns the answer's header and the flow. */
async function answer(auth: DigestAuth, url: string, challenges: string[], method = 'GET') {
  const req = request(url, method);
  const flow = auth.authFlow(req);
  const first = await flow.next();
  expect(first.done).toBe(false);
  const sentBefore = req.headers.first('authorization');
  const second = await flow.next(unauthorized(...challenges));
  return { req, flow, sentBefore, second, header: req.headers.first('authorization') };
}

const RFC_NONCE = '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v';
const RFC_OPAQUE = 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS';
const RFC_CNONCE = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
const rfcChallenge = (algorithm: string) =>
  `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, nonce="${RFC_NONCE}", opaque="${RFC_OPAQUE}"`;

describe('DigestAuth: RFC 7616 §3.9 examples', () => {
  it('§3.9.1: answers the first challenge, SHA-256, with the RFC\'s exact Authorization', async () => {
    const auth = new DigestAuth('Mufasa', 'Circle of Life', { cnonce: () => RFC_CNONCE });
    const { sentBefore, second, header } = await answer(auth, 'http://www.example.org/dir/index.html', [rfcChallenge('SHA-256'), rfcChallenge('MD5')]);
    expect(sentBefore).toBeUndefined();
    expect(second.done).toBe(false);
    expect(header).toBe(
      'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, ' +
        `nonce="${RFC_NONCE}", nc=00000001, cnonce="${RFC_CNONCE}", qop=auth, ` +
        `response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="${RFC_OPAQUE}"`,
    );
  });

  it('§3.9.1: the MD5 answer has the RFC\'s response', async () => {
    const auth = new DigestAuth('Mufasa', 'Circle of Life', { cnonce: () => RFC_CNONCE });
    const { header } = await answer(auth, 'http://www.example.org/dir/index.html', [rfcChallenge('MD5')]);
    expect(paramsOf(header)).toEqual({
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      uri: '/dir/index.html',
      algorithm: 'MD5',
      nonce: RFC_NONCE,
      nc: '00000001',
      cnonce: RFC_CNONCE,
      qop: 'auth',
      response: '8ca523f5e9506fed4657c9700eebdbec',
      opaque: RFC_OPAQUE,
    });
  });

  // §3.9.2's printed username hash and response (488869477b…, ae66e67d…) come from a draft of
  // SHA-512/256; erratum 4897 gives the values the standard function yields, checked here.
  const challenge392 = (userhash: boolean) =>
    'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", ' +
    `opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=${userhash}`;
  const user392 = 'J\u00e4s\u00f8n Doe';
  const cnonce392 = 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v';

  it('§3.9.2: SHA-512-256 with userhash and a UTF-8 user name (erratum 4897 values)', async () => {
    const auth = new DigestAuth(user392, 'Secret, or not?', { cnonce: () => cnonce392 });
    if (!HAS_SHA512_256) {
      await expect(answer(auth, 'http://api.example.org/doe.json', [challenge392(true)])).rejects.toThrow(/SHA-512\/256/);
      return;
    }
    const { header } = await answer(auth, 'http://api.example.org/doe.json', [challenge392(true)]);
    expect(header).toBe(
      'Digest username="793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b", realm="api@example.org", ' +
        'uri="/doe.json", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", nc=00000001, ' +
        `cnonce="${cnonce392}", qop=auth, response="3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5", ` +
        'opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", userhash=true',
    );
  });

  it('§3.9.2: without userhash the name goes as username* (RFC 8187) and the response is the same', async () => {
    const auth = new DigestAuth(user392, 'Secret, or not?', { cnonce: () => cnonce392 });
    if (!HAS_SHA512_256) {
      await expect(answer(auth, 'http://api.example.org/doe.json', [challenge392(false)])).rejects.toBeInstanceOf(DigestAuthError);
      return;
    }
    const { header } = await answer(auth, 'http://api.example.org/doe.json', [challenge392(false)]);
    expect(header).toMatch(/^Digest username\*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm="api@example.org", /);
    expect(header).toMatch(/, userhash=false$/);
    expect(paramsOf(header).response).toBe('3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5');
  });
});

describe('DigestAuth: the flow', () => {
  it('sends the first request bare and accepts a response that is not a 401', async () => {
    const auth = new DigestAuth('u', 'p');
    const req = request('http://h/');
    const flow = auth.authFlow(req);
    await flow.next();
    expect(req.headers.has('authorization')).toBe(false);
    expect(await flow.next(response(200))).toEqual({ done: true, value: undefined });
  });

  it('returns a 401 without a Digest challenge to the caller', async () => {
    const { second, header } = await answer(new DigestAuth('u', 'p'), 'http://h/', ['Basic realm="x"', 'Bearer']);
    expect(second.done).toBe(true);
    expect(header).toBeUndefined();
  });

  it('skips Digest challenges it cannot answer and takes the first it can, beside other schemes', async () => {
    const auth = new DigestAuth('u', 'p');
    const { header } = await answer(auth, 'http://h/', [
      'Basic realm="b", Digest realm="r", nonce="n1", algorithm=SHA3-256, qop="auth"',
      'Digest realm="r", nonce="n2", qop="auth-int"',
      'Newauth foo=bar, Digest realm="r", nonce="n3", algorithm=sha-256-SESS, qop="auth-int, auth"',
      'Digest realm="r", nonce="n4", algorithm=MD5, qop="auth"',
    ]);
    const p = paramsOf(header);
    expect([p.nonce, p.algorithm, p.qop]).toEqual(['n3', 'sha-256-SESS', 'auth']);
  });

  it('throws DigestAuthError, with the reasons, when no Digest challenge can be answered', async () => {
    const attempt = answer(new DigestAuth('u', 'p'), 'http://h/', [
      'Digest realm="r", nonce="n", qop="auth-int"',
      'Digest realm="r", nonce="n", algorithm=SHA-1, qop="auth"',
      'Digest realm="r", nonce="n", algorithm=MD5-sess',
      'Digest realm="r", qop="auth"',
    ]);
    const error = await attempt.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DigestAuthError);
    expect((error as DigestAuthError).code).toBe('HW_ERR_DIGEST_CHALLENGE');
    expect((error as Error).message).toMatch(/auth-int is not supported.*SHA-1 is not supported.*MD5-sess without qop.*no nonce/);
  });

  it('answers a challenge without qop in the RFC 2069 form', async () => {
    const auth = new DigestAuth('Mufasa', 'Circle Of Life');
    const { header } = await answer(auth, 'http://h/dir/index.html?a=b', ['Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'], 'POST');
    const p = paramsOf(header);
    expect(Object.keys(p).sort()).toEqual(['nonce', 'opaque', 'realm', 'response', 'uri', 'username']);
    const ha1 = H('md5', 'Mufasa:testrealm@host.com:Circle Of Life');
    const ha2 = H('md5', 'POST:/dir/index.html?a=b');
    expect(p.uri).toBe('/dir/index.html?a=b');
    expect(p.response).toBe(H('md5', `${ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:${ha2}`));
  });

  it('quotes what needs quoting and echoes the realm as received', async () => {
    const auth = new DigestAuth('a "quoted\\" user', 'p', { cnonce: () => 'c' });
    const { header } = await answer(auth, 'http://h/', ['Digest realm="r\\"1, 2", nonce="n", qop=auth, opaque="o,p"']);
    expect(header).toContain('username="a \\"quoted\\\\\\" user", realm="r\\"1, 2"');
    const p = paramsOf(header);
    expect([p.username, p.realm, p.opaque]).toEqual(['a "quoted\\" user', 'r"1, 2', 'o,p']);
    const ha1 = H('md5', 'a "quoted\\" user:r"1, 2:p');
    expect(p.response).toBe(H('md5', `${ha1}:n:00000001:c:auth:${H('md5', 'GET:/')}`));
  });

  it('answers later requests in the protection space at once, counting nc up; not other origins', async () => {
    let count = 0;
    const auth = new DigestAuth('u', 'p', { cnonce: () => `c${++count}` });
    const first = await answer(auth, 'http://h:8080/a', ['Digest realm="r", nonce="N", qop="auth"']);
    expect(paramsOf(first.header).nc).toBe('00000001');
    expect((await first.flow.next(response(200))).done).toBe(true);

    for (const [url, nc, cnonce] of [['http://h:8080/b?x', '00000002', 'c2'], ['http://H:8080/a/deeper', '00000003', 'c3']] as const) {
      const req = request(url);
      const flow = auth.authFlow(req);
      await flow.next();
      const p = paramsOf(req.headers.first('authorization'));
      expect([p.nonce, p.nc, p.cnonce]).toEqual(['N', nc, cnonce]);
      expect((await flow.next(response(200))).done).toBe(true);
    }
    for (const other of ['http://h:8081/a', 'https://h:8080/a', 'http://g:8080/a']) {
      const req = request(other);
      await auth.authFlow(req).next();
      expect(req.headers.has('authorization'), other).toBe(false);
    }
  });

  it('limits the protection space to the domain parameter\'s URIs', async () => {
    const auth = new DigestAuth('u', 'p');
    const first = await answer(auth, 'http://h/api/v1/x', ['Digest realm="r", nonce="N", qop="auth", domain="/api/ http://other/files/"']);
    await first.flow.next(response(200));
    const sends = async (url: string) => {
      const req = request(url);
      await auth.authFlow(req).next();
      return req.headers.has('authorization');
    };
    expect(await sends('http://h/api/v2')).toBe(true);
    expect(await sends('http://other/files/a.txt')).toBe(true);
    expect(await sends('http://h/public')).toBe(false);
    expect(await sends('http://other/')).toBe(false);
  });

  it('re-answers a stale nonce, but not the same nonce again, and forgets a space whose credentials fail', async () => {
    const auth = new DigestAuth('u', 'p');
    const { flow, req } = await answer(auth, 'http://h/', ['Digest realm="r", nonce="N1", qop="auth"']);
    let step = await flow.next(unauthorized('Digest realm="r", nonce="N2", qop="auth", stale=true'));
    expect(step.done).toBe(false);
    expect(paramsOf(req.headers.first('authorization'))).toMatchObject({ nonce: 'N2', nc: '00000001' });
    // stale=true with the nonce just used would only loop: the 401 goes back.
    step = await flow.next(unauthorized('Digest realm="r", nonce="N2", qop="auth", stale=true'));
    expect(step.done).toBe(true);
    const next = request('http://h/');
    await auth.authFlow(next).next();
    expect(next.headers.has('authorization')).toBe(false);
  });

  it('re-answers stale nonces at most three times per request', async () => {
    const { flow } = await answer(new DigestAuth('u', 'p'), 'http://h/', ['Digest realm="r", nonce="S0", qop="auth"']);
    for (let i = 1; i <= 3; i++) expect((await flow.next(unauthorized(`Digest realm="r", nonce="S${i}", qop="auth", stale=TRUE`))).done).toBe(false);
    expect((await flow.next(unauthorized('Digest realm="r", nonce="S4", qop="auth", stale=true'))).done).toBe(true);
  });

  it('moves to the nextnonce of an Authentication-Info (RFC 7616 §3.5)', async () => {
    const auth = new DigestAuth('u', 'p');
    const first = await answer(auth, 'http://h/', ['Digest realm="r", nonce="N1", qop="auth"']);
    await first.flow.next(response(200, [['Authentication-Info', 'rspauth="x", cnonce="y", nc=00000001, qop=auth, nextnonce="N2"']]));
    const req = request('http://h/');
    await auth.authFlow(req).next();
    expect(paramsOf(req.headers.first('authorization'))).toMatchObject({ nonce: 'N2', nc: '00000001' });
  });

  it('keeps the first cnonce and session key of a -sess nonce for the requests after it', async () => {
    let count = 0;
    const auth = new DigestAuth('u', 'p', { cnonce: () => `c${++count}` });
    const first = await answer(auth, 'http://h/x', ['Digest realm="r", nonce="N", qop="auth", algorithm=SHA-256-sess']);
    await first.flow.next(response(200));
    const req = request('http://h/y');
    await auth.authFlow(req).next();
    const p = paramsOf(req.headers.first('authorization'));
    expect([p.cnonce, p.nc]).toEqual(['c1', '00000002']);
    const key = H('sha256', `${H('sha256', 'u:r:p')}:N:c1`);
    expect(p.response).toBe(H('sha256', `${key}:N:00000002:c1:auth:${H('sha256', 'GET:/y')}`));
  });

  it('checks its options and the cnonce it is given', async () => {
    expect(() => new DigestAuth('u', 1 as unknown as string)).toThrow(TypeError);
    expect(() => new DigestAuth('u', 'p', { cnonce: 'fixed' as unknown as () => string })).toThrow(TypeError);
    expect(() => new DigestAuth('u', 'p', { maxProtectionSpaces: -1 })).toThrow(TypeError);
    for (const bad of ['', 'has space', 'quo"te', 'caf\u00e9']) {
      await expect(answer(new DigestAuth('u', 'p', { cnonce: () => bad }), 'http://h/', ['Digest realm="r", nonce="n", qop=auth']), JSON.stringify(bad)).rejects.toThrow(TypeError);
    }
  });

  it('forgets the least recently challenged protection space past maxProtectionSpaces', async () => {
    const auth = new DigestAuth('u', 'p', { maxProtectionSpaces: 2 });
    for (const host of ['a', 'b', 'c']) {
      const { flow } = await answer(auth, `http://${host}/`, ['Digest realm="r", nonce="n", qop=auth']);
      await flow.next(response(200));
    }
    const sent = async (host: string) => {
      const req = request(`http://${host}/`);
      await auth.authFlow(req).next();
      return req.headers.has('authorization');
    };
    expect([await sent('a'), await sent('b'), await sent('c')]).toEqual([false, true, true]);
  });
});

// ---------------------------------------------------------------------------
// A Digest server written to RFC 7616: it issues challenges, computes the expected response
// itself, keeps the nonce count of every nonce, and can make its nonces stale.



describe('DigestAuth against an RFC 7616 server', () => {
  let pool: PoolManager;
  const servers: DigestServer[] = [];
  beforeAll(() => {
    pool = new PoolManager({ http2: false });
  });
  afterAll(async () => {
    await pool.close();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function start(options: ServerOptions): Promise<DigestServer> {
    const server = await digestServer(options);
    servers.push(server);
    return server;
  }

  /** Sends a request through an auth flow the way the Client does. */
  async function send(auth: Auth, method: string, url: string) {
    const req = request(url, method);
    const flow = auth.authFlow(req);
    let step = await flow.next();
    let last: { status: number; body: string } | undefined;
    while (!step.done) {
      const res = await pool.request(step.value.method, step.value.url, { headers: step.value.headers });
      last = { status: res.status, body: res.data?.toString() ?? '' };
      step = await flow.next(res);
    }
    return last!;
  }

  it('MD5: one 401, then success; the next request succeeds at once with nc=00000002', async () => {
    const server = await start({ users: { alice: 'wonderland' } });
    const auth = new DigestAuth('alice', 'wonderland');
    expect(await send(auth, 'GET', server.url('/one'))).toEqual({ status: 200, body: 'hello alice' });
    expect(server.log.map((e) => e.status)).toEqual([401, 200]);
    expect(server.log[1]!.authorization).toMatchObject({ nc: '00000001', qop: 'auth', uri: '/one' });

    expect((await send(auth, 'GET', server.url('/two'))).status).toBe(200);
    expect(server.log.map((e) => e.status)).toEqual([401, 200, 200]);
    expect(server.log[2]!.authorization).toMatchObject({ nc: '00000002', nonce: server.log[1]!.authorization!.nonce, uri: '/two' });
  });

  it('SHA-256 with a POST and a query string in the uri', async () => {
    const server = await start({ users: { bob: 'builder' }, algorithms: ['SHA-256'] });
    const auth = new DigestAuth('bob', 'builder');
    expect((await send(auth, 'POST', server.url('/items?q=a%20b&x=1'))).status).toBe(200);
    expect(server.log[1]!.authorization).toMatchObject({ algorithm: 'SHA-256', uri: '/items?q=a%20b&x=1' });
    expect(server.log[1]!.method).toBe('POST');
  });

  it('answers stale=true with the new nonce, without counting it as a failure', async () => {
    const server = await start({ users: { alice: 'wonderland' } });
    const auth = new DigestAuth('alice', 'wonderland');
    expect((await send(auth, 'GET', server.url('/a'))).status).toBe(200);
    server.expireNonces();
    expect((await send(auth, 'GET', server.url('/b'))).status).toBe(200);
    expect(server.log.map((e) => [e.status, e.stale])).toEqual([
      [401, false],
      [200, false],
      [401, true], // the remembered nonce, now stale
      [200, false],
    ]);
    const [, answered, old, fresh] = server.log;
    expect(old!.authorization).toMatchObject({ nonce: answered!.authorization!.nonce, nc: '00000002' });
    expect(fresh!.authorization!.nonce).not.toBe(old!.authorization!.nonce);
    expect(fresh!.authorization!.nc).toBe('00000001');
  });

  it('answers stale=true to its first answer with the new nonce, then succeeds', async () => {
    const server = await start({ users: { alice: 'wonderland' }, algorithms: ['SHA-256'], bornStale: 1 });
    expect(await send(new DigestAuth('alice', 'wonderland'), 'GET', server.url('/s'))).toEqual({ status: 200, body: 'hello alice' });
    expect(server.log.map((e) => [e.status, e.stale])).toEqual([
      [401, false],
      [401, true],
      [200, false],
    ]);
    expect(server.log[2]!.authorization!.nonce).not.toBe(server.log[1]!.authorization!.nonce);
    expect(server.log[2]!.authorization!.nc).toBe('00000001');
  });

  it('a wrong password: the second 401 comes back to the caller after one answer', async () => {
    const server = await start({ users: { alice: 'wonderland' } });
    const auth = new DigestAuth('alice', 'looking-glass');
    const result = await send(auth, 'GET', server.url('/secret'));
    expect(result.status).toBe(401);
    expect(server.log.map((e) => [e.status, e.authorization === undefined])).toEqual([
      [401, true],
      [401, false],
    ]);
    // The failed space is not used for the next request.
    await send(auth, 'GET', server.url('/secret'));
    expect(server.log[2]!.authorization).toBeUndefined();
  });

  it('the -sess forms: the answer and the request after it', async () => {
    const algorithms = ['MD5-sess', 'SHA-256-sess', ...(HAS_SHA512_256 ? ['SHA-512-256-sess'] : [])];
    for (const algorithm of algorithms) {
      const server = await start({ users: { carol: 'c@r0l' }, algorithms: [algorithm] });
      const auth = new DigestAuth('carol', 'c@r0l');
      expect((await send(auth, 'GET', server.url('/1'))).status, algorithm).toBe(200);
      expect((await send(auth, 'GET', server.url('/2'))).status, algorithm).toBe(200);
      expect(server.log.map((e) => e.status), algorithm).toEqual([401, 200, 200]);
      expect(server.log[2]!.authorization, algorithm).toMatchObject({ algorithm, nc: '00000002' });
    }
  });

  it('no qop: the RFC 2069 form, answered and then reused', async () => {
    const server = await start({ users: { dave: 'pw' }, qop: null });
    const auth = new DigestAuth('dave', 'pw');
    expect((await send(auth, 'GET', server.url('/old'))).status).toBe(200);
    expect((await send(auth, 'GET', server.url('/older'))).status).toBe(200);
    expect(server.log.map((e) => e.status)).toEqual([401, 200, 200]);
    expect(server.log[1]!.authorization).not.toHaveProperty('nc');
    expect(server.log[1]!.authorization).not.toHaveProperty('cnonce');
  });

  it('userhash and a non-ASCII user name; username* when the name is not hashed', async () => {
    const user = 'J\u00e4s\u00f8n Doe';
    const hashed = await start({ users: { [user]: 'Secret, or not?' }, algorithms: [HAS_SHA512_256 ? 'SHA-512-256' : 'SHA-256'], userhash: true });
    expect(await send(new DigestAuth(user, 'Secret, or not?'), 'GET', hashed.url('/doe.json'))).toEqual({ status: 200, body: `hello ${user}` });
    expect(hashed.log[1]!.authorization).toMatchObject({ userhash: 'true' });
    expect(hashed.log[1]!.authorization!.username).toMatch(/^[0-9a-f]{64}$/);

    const plain = await start({ users: { [user]: 'pw' }, algorithms: ['SHA-256'] });
    expect((await send(new DigestAuth(user, 'pw'), 'GET', plain.url('/x'))).status).toBe(200);
    expect(plain.log[1]!.authorization!['username*']).toBe("UTF-8''J%C3%A4s%C3%B8n%20Doe");
  });

  it('picks the first supported Digest challenge among other schemes', async () => {
    const server = await start({ users: { erin: 'pw' }, algorithms: ['SHA-256', 'MD5'], others: 'Basic realm="fallback", Bearer' });
    expect((await send(new DigestAuth('erin', 'pw'), 'GET', server.url('/'))).status).toBe(200);
    expect(server.log[1]!.authorization!.algorithm).toBe('SHA-256');
  });

  it('follows the nextnonce of Authentication-Info', async () => {
    const server = await start({ users: { frank: 'pw' }, nextnonce: true });
    const auth = new DigestAuth('frank', 'pw');
    await send(auth, 'GET', server.url('/1'));
    expect((await send(auth, 'GET', server.url('/2'))).status).toBe(200);
    expect(server.log.map((e) => e.status)).toEqual([401, 200, 200]);
    expect(server.log[2]!.authorization!.nonce).not.toBe(server.log[1]!.authorization!.nonce);
    expect(server.log[2]!.authorization!.nc).toBe('00000001');
  });

  it('serves concurrent requests with one nonce count each', async () => {
    const server = await start({ users: { grace: 'pw' } });
    const auth = new DigestAuth('grace', 'pw');
    await send(auth, 'GET', server.url('/first'));
    // The server refuses a count not above the last it accepted, so send them one at a time on the
    // wire but let the flows interleave: every one must still get its own count.
    const flows = [0, 1, 2, 3].map((i) => {
      const req = request(server.url(`/p${i}`));
      return { req, flow: auth.authFlow(req) };
    });
    for (const { flow } of flows) await flow.next();
    const counts = flows.map(({ req }) => paramsOf(req.headers.first('authorization')).nc);
    expect(new Set(counts).size).toBe(4);
    expect(counts).toEqual(['00000002', '00000003', '00000004', '00000005']);
    for (const { req, flow } of flows) {
      const res = await pool.request(req.method, req.url, { headers: req.headers });
      expect(res.status).toBe(200);
      expect((await flow.next(res)).done).toBe(true);
    }
  });
});
