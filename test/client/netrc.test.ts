/**
 * .netrc: the parser on its own, entry matching, and netrcAuth against
 * files written to a temporary directory and named by NETRC.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BasicAuth, netrcAuth, type AuthRequest } from '../../lib/client/auth.js';
import { findNetrcEntry, MAX_NETRC_BYTES, netrcFiles, NetrcParseError, parseNetrc, readNetrc } from '../../lib/client/netrc.js';
import { HTTPHeaderMap } from '../../lib/common/headers.js';

const dir = mkdtempSync(join(tmpdir(), 'hyperwire-netrc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
/** Writes `text` to a fresh file and returns an environment whose NETRC names it. */
function netrcEnv(text: string): NodeJS.ProcessEnv {
  const file = join(dir, `netrc-${++fileCount}`);
  writeFileSync(file, text);
  return { NETRC: file };
}

/** The Authorization header an Auth sets on a request. */
async function authorizationOf(auth: BasicAuth | undefined): Promise<string | undefined> {
  if (auth === undefined) return undefined;
  const request: AuthRequest = { method: 'GET', url: 'http://x/', headers: new HTTPHeaderMap() };
  const step = await auth.authFlow(request).next();
  expect(step.done).toBe(false);
  return request.headers.first('authorization');
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

describe('parseNetrc', () => {
  it('reads entries one per line or spread over lines, in file order', () => {
    const entries = parseNetrc(
      'machine a.example login alice password s3cret\n' +
        'machine b.example\n  login bob\n  password\n    pw2\n  account acct\n' +
        'default login anon password guest\n',
    );
    expect(entries).toEqual([
      { machine: 'a.example', login: 'alice', password: 's3cret', account: undefined },
      { machine: 'b.example', login: 'bob', password: 'pw2', account: 'acct' },
      { machine: undefined, login: 'anon', password: 'guest', account: undefined },
    ]);
  });

  it('skips a macdef body up to the first blank line, even when it looks like entries', () => {
    const entries = parseNetrc(
      'machine a login u1 password p1\n' +
        'macdef init\n' +
        'cd /pub\n' +
        'machine evil login mallory password nope\n' +
        '   \n' + // a line of blanks ends the macro too
        'machine b login u2 password p2\n',
    );
    expect(entries.map((e) => e.machine)).toEqual(['a', 'b']);
    expect(entries[1]).toMatchObject({ login: 'u2', password: 'p2' });
    // A macro that runs to the end of the file is fine.
    expect(parseNetrc('machine a login u password p\nmacdef m\nls\n')).toHaveLength(1);
  });

  it('drops comment lines and a # token where a keyword belongs, but keeps # inside values', () => {
    const entries = parseNetrc(
      '# personal credentials\n' +
        '   # an indented comment, machine nothere login x password y\n' +
        'machine a login u # the password is on the next line\n' +
        'password #not-a-comment\n',
    );
    expect(entries).toEqual([{ machine: 'a', login: 'u', password: '#not-a-comment', account: undefined }]);
  });

  it('reads quoted tokens with spaces and escapes as curl does', () => {
    const [entry] = parseNetrc('machine "a" login "John Doe" password "p\\"w\\\\ \\n\\t#x"\n');
    expect(entry).toEqual({ machine: 'a', login: 'John Doe', password: 'p"w\\ \n\t#x', account: undefined });
    // Outside quotes, a backslash is an ordinary character (curl).
    expect(parseNetrc('machine a login u password a\\b')[0]!.password).toBe('a\\b');
    // An empty quoted password is a value.
    expect(parseNetrc('machine a login u password ""')[0]!.password).toBe('');
  });

  it('accepts "user" for login, keywords in any case, CRLF line ends and a BOM', () => {
    expect(parseNetrc('\ufeffMACHINE a\r\nUser u\r\nPassword p\r\n')).toEqual([{ machine: 'a', login: 'u', password: 'p', account: undefined }]);
  });

  it('lets a repeated keyword in one entry replace the earlier value', () => {
    expect(parseNetrc('machine a login u1 login u2 password p')[0]!.login).toBe('u2');
  });

  it('refuses malformed files, naming the line', () => {
    const cases: Array<[string, number]> = [
      ['machine a login u password "open', 1],
      ['machine a\nlogin u\nbogus x\n', 3],
      ['login u password p', 1], // a follower keyword outside any entry
      ['machine a login', 1],
      ['machine', 1],
    ];
    for (const [text, line] of cases) {
      let error: unknown;
      try {
        parseNetrc(text);
      } catch (err) {
        error = err;
      }
      expect(error, text).toBeInstanceOf(NetrcParseError);
      expect((error as NetrcParseError).line, text).toBe(line);
      expect((error as NetrcParseError).code).toBe('HW_ERR_NETRC_PARSE');
    }
  });
});

describe('findNetrcEntry', () => {
  const entries = parseNetrc(
    'default login d1 password x\n' +
      'machine Example.COM login first password 1\n' +
      'machine example.com login second password 2\n' +
      'default login d2 password y\n',
  );

  it('takes the first machine that matches, case-insensitively', () => {
    expect(findNetrcEntry(entries, 'example.com')?.login).toBe('first');
    expect(findNetrcEntry(entries, 'EXAMPLE.com')?.login).toBe('first');
  });

  it('falls back to the first default wherever it stands', () => {
    expect(findNetrcEntry(entries, 'other.example')?.login).toBe('d1');
  });

  it('finds nothing without a match or a default', () => {
    expect(findNetrcEntry(parseNetrc('machine a login u password p'), 'b')).toBeUndefined();
    expect(findNetrcEntry([], 'b')).toBeUndefined();
  });
});

describe('netrcFiles', () => {
  it('uses NETRC alone when set, with ~/ as the home directory', () => {
    expect(netrcFiles({ NETRC: '/etc/some-netrc' })).toEqual(['/etc/some-netrc']);
    expect(netrcFiles({ NETRC: '~/creds/netrc' })).toEqual([join(homedir(), 'creds/netrc')]);
  });

  it('falls back to ~/.netrc when NETRC is unset or empty', () => {
    const expected = process.platform === 'win32' ? [join(homedir(), '.netrc'), join(homedir(), '_netrc')] : [join(homedir(), '.netrc')];
    expect(netrcFiles({})).toEqual(expected);
    expect(netrcFiles({ NETRC: '' })).toEqual(expected);
  });
});

describe('netrcAuth', () => {
  it('gives Basic credentials for the URL host, ignoring the port and case', async () => {
    const env = netrcEnv('machine api.example.com login alice password "p w:d"\nmachine other login bob password b\n');
    const auth = netrcAuth('https://API.Example.com:8443/v1/items?x=1', env);
    expect(auth).toBeInstanceOf(BasicAuth);
    expect(auth?.username).toBe('alice');
    expect(await authorizationOf(auth)).toBe(basic('alice', 'p w:d'));
    expect(await authorizationOf(netrcAuth('http://other/', env))).toBe(basic('bob', 'b'));
  });

  it('uses the default entry for other hosts, and nothing without one', async () => {
    const env = netrcEnv('machine a login u password p\ndefault login anonymous password me@example.com\n');
    expect(await authorizationOf(netrcAuth('http://unlisted.example/', env))).toBe(basic('anonymous', 'me@example.com'));
    expect(netrcAuth('http://unlisted.example/', netrcEnv('machine a login u password p\n'))).toBeUndefined();
  });

  it('skips macdef bodies and comments in a real file', async () => {
    const env = netrcEnv(
      '# ftp macros first\nmacdef init\nmachine h login trap password trap\n\n' + '# then the machine\nmachine h\n\tlogin real # who\n\tpassword real-pw\n',
    );
    expect(await authorizationOf(netrcAuth('http://h/', env))).toBe(basic('real', 'real-pw'));
  });

  it('matches IPv6 hosts written without brackets', async () => {
    const env = netrcEnv('machine ::1 login six password v6\n');
    expect(await authorizationOf(netrcAuth('http://[::1]:8080/', env))).toBe(basic('six', 'v6'));
  });

  it('sends an entry without login as an empty user-id', async () => {
    expect(await authorizationOf(netrcAuth('http://h/', netrcEnv('machine h password only\n')))).toBe(basic('', 'only'));
  });

  it('gives undefined, without throwing, whenever there is nothing usable', () => {
    const cases: Array<[string, NodeJS.ProcessEnv]> = [
      ['missing file', { NETRC: join(dir, 'does-not-exist') }],
      ['a directory', { NETRC: dir }],
      ['malformed file', netrcEnv('machine h login u password p\nmachine h2 frobnicate\n')],
      ['entry without password', netrcEnv('machine h login u\n')],
      ['entry with an empty password', netrcEnv('machine h login u password ""\n')],
      ['login with a colon', netrcEnv('machine h login "a:b" password p\n')],
      ['login with a control character', netrcEnv('machine h login "a\\nb" password p\n')],
      ['too large a file', netrcEnv(`machine h login u password p\n${'#'.repeat(MAX_NETRC_BYTES)}\n`)],
    ];
    for (const [what, env] of cases) expect(netrcAuth('http://h/', env), what).toBeUndefined();
    expect(netrcAuth('not a url', netrcEnv('default login u password p'))).toBeUndefined();
  });

  it('reads a file just under the size limit', () => {
    const head = 'machine h login u password p\n';
    const env = netrcEnv(head + '#'.repeat(MAX_NETRC_BYTES - head.length - 1) + '\n');
    expect(netrcAuth('http://h/', env)?.username).toBe('u');
  });
});

describe('readNetrc', () => {
  it('returns the parsed entries, or undefined for a missing or unreadable file', () => {
    expect(readNetrc(netrcEnv('machine a login u password p'))).toEqual([{ machine: 'a', login: 'u', password: 'p', account: undefined }]);
    expect(readNetrc({ NETRC: join(dir, 'nope', 'netrc') })).toBeUndefined();
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    expect(readNetrc({ NETRC: sub })).toBeUndefined();
  });
});
