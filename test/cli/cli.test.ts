/**
 * The real `hyper` binary, run as a child process against local servers:
 * piped and terminal output, request items as the server received them,
 * protocol choice, TLS options, exit statuses, auth, proxies, and the help.
 * The --debug log and downloads have files of their own.
 */

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../lib/cli/args.js';
import { BINARY_BODY, HTML_BODY, JSON_BODY, startCliServers, type CliServers } from './servers.js';
import { CA_FILE, haveScript, hyper, hyperTTY, plain } from './run.js';

let s: CliServers;
let tmp: string;
beforeAll(async () => {
  s = await startCliServers();
  tmp = mkdtempSync(join(tmpdir(), 'hyper-cli-'));
});
afterAll(async () => {
  await s.close();
  rmSync(tmp, { recursive: true, force: true });
});

const tls = (path: string): string => `https://127.0.0.1:${s.tlsPort}${path}`;
const h1 = (path: string): string => `127.0.0.1:${s.h1Port}${path}`;
const CA = ['--cacert', CA_FILE];
const ESC = '\x1b[';

/** No stack trace, ever: one `hyper: error:` line. */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l.startsWith('hyper: error:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('piped output', () => {
  it('is the body alone, byte for byte', async () => {
    const r = await hyper([...CA, tls('/json')]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(JSON_BODY);
    expect(r.stderr).toBe('');
  });

  it('passes a binary body through untouched', async () => {
    const r = await hyper([...CA, tls('/binary')]);
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.stdout, BINARY_BODY)).toBe(0);
  });

  it('shows what --print asks for, without colour', async () => {
    const r = await hyper([...CA, '-p', 'Hh', tls('/json')]);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain(ESC);
    const [request, response] = r.out.split('\n\n');
    expect(request).toMatch(/^GET \/json HTTP\/2\n/);
    expect(request).toContain('\naccept: */*');
    expect(response).toMatch(/^HTTP\/2 200\ncontent-type: application\/json\n/);
    expect(r.out).not.toContain('"name"');
  });

  it('-v shows the request too; the body still byte for byte', async () => {
    const r = await hyper(['-v', h1('/json')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^GET \/json HTTP\/1\.1\nHost: 127\.0\.0\.1:\d+\n/);
    expect(r.out).toContain('\n\nHTTP/1.1 200 OK\n');
    expect(r.out.endsWith(`\n\n${JSON_BODY}`)).toBe(true);
  });

  it('formats or colours when --pretty says so', async () => {
    const format = await hyper(['--pretty=format', h1('/json')]);
    expect(format.out).toContain('{\n    "name": "hyper",\n    "big": 12345678901234567890,');
    expect(format.out).not.toContain(ESC);
    const all = await hyper(['--pretty=all', h1('/json')]);
    expect(all.out).toContain(ESC);
    expect(plain(all.out)).toBe(format.out);
    const colors = await hyper(['--pretty=colors', '-p', 'h', h1('/json')]);
    expect(colors.out).toContain(ESC);
  });

  it('reads the :port shorthand as localhost', async () => {
    const r = await hyper(['-p', 'H', `:${s.h1Port}/json`]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Host: localhost:${s.h1Port}`);
  });
});

describe('request items, as the server saw them', () => {
  interface Echo {
    method: string;
    query: Record<string, string>;
    headers: Record<string, string>;
    body: string;
  }
  const echo = async (args: string[]): Promise<Echo> => {
    const r = await hyper([...CA, ...args]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.out) as Echo;
  };

  it('sends data items as a JSON object with POST, query and headers as given', async () => {
    const e = await echo([tls('/echo?x=1'), 'q==two words', 'name=hyper', 'n:=3', 'tags:=["a","b"]', 'X-Test:yes', 'X-Empty;', 'User-Agent:']);
    expect(e.method).toBe('POST');
    expect(e.query).toEqual({ x: '1', q: 'two words' });
    expect(JSON.parse(e.body)).toEqual({ name: 'hyper', n: 3, tags: ['a', 'b'] });
    expect(e.headers['content-type']).toBe('application/json');
    expect(e.headers['accept']).toBe('application/json, */*;q=0.5');
    expect(e.headers['x-test']).toBe('yes');
    expect(e.headers['x-empty']).toBe('');
    expect(e.headers['user-agent']).toBeUndefined();
  });

  it('uses GET without data, and the method given', async () => {
    expect((await echo([tls('/echo'), 'a==1'])).method).toBe('GET');
    expect((await echo(['PUT', tls('/echo'), 'a=1'])).method).toBe('PUT');
    expect((await echo(['delete', tls('/echo')])).method).toBe('DELETE');
  });

  it('sends a form with --form', async () => {
    const e = await echo(['-f', tls('/echo'), 'a=1', 'b=two words']);
    expect(e.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(e.body).get('b')).toBe('two words');
  });

  it('sends multipart with a file', async () => {
    const e = await echo([tls('/echo'), 'title=Cat', `photo@${CA_FILE};type=application/x-pem-file`]);
    expect(e.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(e.body).toContain('Content-Disposition: form-data; name="title"\r\n\r\nCat\r\n');
    expect(e.body).toContain('name="photo"; filename="cert.pem"\r\nContent-Type: application/x-pem-file\r\n\r\n-----BEGIN CERTIFICATE-----');
  });

  it('refuses a bad item before connecting', async () => {
    const r = await hyper([h1('/echo'), 'n:=nope']);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /not valid JSON/);
  });
});

describe.skipIf(!haveScript)('terminal output', () => {
  it('shows the status line, headers, push promises and body, in colour', async () => {
    const errFile = join(tmp, 'tty-stderr');
    const r = await hyperTTY([...CA, tls('/')], { redirect: { stream: 'stderr', file: errFile } });
    expect(r.code).toBe(0);
    expect(r.out).toContain(ESC);
    const text = plain(r.out);
    expect(text).toMatch(/^HTTP\/2 200\ncontent-type: text\/html; charset=utf-8\ndate: .*\n\n/);
    expect(text).toContain(`push promise: GET https://127.0.0.1:${s.tlsPort}/style.css (stream 2, 200)\n\n`);
    expect(text.endsWith(`\n\n${HTML_BODY}`)).toBe(true);
    expect(readFileSync(errFile, 'utf8')).toBe('');
  });

  it('indents JSON and keeps its numbers as sent', async () => {
    const r = await hyperTTY([h1('/json')]);
    const text = plain(r.out);
    expect(text).toContain('HTTP/1.1 200 OK\n');
    expect(text).toContain('{\n    "name": "hyper",\n    "big": 12345678901234567890,\n    "list": [\n        1,\n        2.50,\n        "x"\n    ],');
  });

  it('never writes a binary body to the terminal', async () => {
    const r = await hyperTTY([...CA, tls('/binary')]);
    expect(r.code).toBe(0);
    const text = plain(r.out);
    expect(text).toContain('[binary data not shown: 2048 octets skipped; use -o FILE, -d, or a pipe to save it]');
    expect(r.stdout.includes(0)).toBe(false);
  });

  it('-v shows the request as it went, upgrade fields included', async () => {
    const r = await hyperTTY(['-v', h1('/echo'), 'a=1']);
    const text = plain(r.out);
    expect(text).toMatch(/^POST \/echo HTTP\/1\.1\nHost: 127\.0\.0\.1:\d+\n/);
    expect(text).toContain('Upgrade: h2c\n');
    expect(text).toContain('\n\n{\n    "a": "1"\n}\n\nHTTP/1.1 200 OK\n');
  });

  it('has no colour with NO_COLOR', async () => {
    const r = await hyperTTY([h1('/json')], { env: { NO_COLOR: '1' } });
    expect(r.out).not.toContain(ESC);
    expect(plain(r.out)).toContain('HTTP/1.1 200 OK');
  });
});

describe('protocols', () => {
  it('--http1 speaks HTTP/1.1 to a server that offers h2', async () => {
    const r = await hyper([...CA, '--http1', '-p', 'h', tls('/json')]);
    expect(r.out).toMatch(/^HTTP\/1\.1 200 OK\n/);
  });

  it('--http2 passes when h2 is agreed, and fails (exit 1) when it is not', async () => {
    expect((await hyper([...CA, '--http2', tls('/json')])).code).toBe(0);
    const r = await hyper(['--http2', h1('/json')]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /HTTP\/2 was required, but the server did not switch to h2c: it answered over HTTP\/1\.1/);
    // A TLS server without h2: ALPN picks http/1.1.
    const certs = new URL('../helpers/certs/', import.meta.url);
    const server = https.createServer({ key: readFileSync(new URL('key.pem', certs)), cert: readFileSync(new URL('cert.pem', certs)) }, (_req, res) => res.end('h1 only'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      expect((await hyper([...CA, url])).out).toBe('h1 only');
      const alpn = await hyper([...CA, '--http2', url]);
      expect(alpn.code).toBe(1);
      expectOneLineError(alpn.stderr, /HTTP\/2 was required, but the server did not select h2 by ALPN: it answered over HTTP\/1\.1/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('--h2c speaks HTTP/2 from the first octet', async () => {
    const r = await hyper(['--h2c', '-p', 'h', `127.0.0.1:${s.h2cPort}/json`]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^HTTP\/2 200\n/);
  });

  it('--upgrade fails when the server does not switch', async () => {
    const r = await hyper(['--upgrade', h1('/json')]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /did not switch to h2c on "Upgrade: h2c"/);
  });

  it('refuses cleartext-only options for https URLs', async () => {
    const r = await hyper(['--h2c', tls('/json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^usage: hyper/);
    expectOneLineError(r.stderr, /--h2c is cleartext HTTP\/2/);
  });
});

describe('TLS options', () => {
  it('refuses an untrusted certificate, in one line', async () => {
    const r = await hyper([tls('/json')]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /self-signed certificate/);
  });

  it('--insecure accepts it, quietly', async () => {
    const r = await hyper(['--insecure', tls('/json')]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(JSON_BODY);
    expect(r.stderr).toBe('');
  });

  it('--cert and --key present a client certificate', async () => {
    const certs = new URL('../helpers/certs/', import.meta.url);
    const server = https.createServer({ key: readFileSync(new URL('key.pem', certs)), cert: readFileSync(new URL('cert.pem', certs)), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(peer.subject?.CN ?? 'none');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const cert = ['--cert', new URL('client-cert.pem', certs).pathname, '--key', new URL('client-key.pem', certs).pathname];
      const r = await hyper([...CA, ...cert, '--pass', 'hyperwire', url]);
      expect(r.out).toBe('hyperwire test client');
      // The key is encrypted: without its passphrase it is refused before connecting.
      const locked = await hyper([...CA, ...cert, url]);
      expect(locked.code).toBe(1);
      expectOneLineError(locked.stderr, /The client key cannot be read: it is encrypted and no passphrase was given/);
      expect((await hyper([...CA, url])).out).toBe('none');
      const missing = await hyper([...CA, '--cert', join(tmp, 'nope.pem'), url]);
      expect(missing.code).toBe(1);
      expectOneLineError(missing.stderr, /Cannot read the certificate file .*nope\.pem: ENOENT/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('exit statuses', () => {
  it('2 for a timeout, over HTTP/1.1 (with the h2c probe) and HTTP/2', async () => {
    for (const args of [[h1('/slow')], ['--http1', h1('/slow')], ['--h2c', `127.0.0.1:${s.h2cPort}/slow`]]) {
      const started = performance.now();
      const r = await hyper(['--timeout', '0.5', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expectOneLineError(r.stderr, /Timed out after 500 ms/);
      expect(performance.now() - started).toBeLessThan(5_000);
    }
  });

  it('3 for too many redirects; redirects are followed only with --follow', async () => {
    const many = await hyper(['--follow', '--max-redirects', '2', h1('/redirect/5')]);
    expect(many.code).toBe(3);
    expectOneLineError(many.stderr, /Exceeded the maximum of 2 redirects/);
    const followed = await hyper(['-F', h1('/redirect/3')]);
    expect(followed.code).toBe(0);
    expect(followed.out).toBe('arrived\n');
    const shown = await hyper(['-p', 'h', h1('/redirect/3')]);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^HTTP\/1\.1 302 Found\nlocation: \/redirect\/2\n/);
  });

  it('3, 4 and 5 for 3xx, 4xx and 5xx with --check-status (and a warning when piped); 0 without', async () => {
    for (const [path, code, warning] of [
      ['/redirect/1', 3, 'HTTP 302 Found'],
      ['/status/404', 4, 'HTTP 404 Not Found'],
      ['/status/500', 5, 'HTTP 500 Internal Server Error'],
      ['/status/204', 0, null],
    ] as const) {
      const r = await hyper(['--check-status', h1(path)]);
      expect(r.code, path).toBe(code);
      expect(r.stderr).toBe(warning === null ? '' : `hyper: warning: ${warning}\n`);
    }
    expect((await hyper([h1('/status/500')])).code).toBe(0);
  });

  it('1 for a refused connection, in one line', async () => {
    const r = await hyper(['127.0.0.1:1/']);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /ECONNREFUSED/);
  });

  it('1 for a usage error, with the usage line', async () => {
    const r = await hyper(['--folow', h1('/')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('usage: hyper [--version] [--help] [--debug] [OPTIONS] [METHOD] URL [REQUEST_ITEM ...]\nhyper: error: unknown option --folow (did you mean --follow?)\n');
  });
});

describe('auth', () => {
  it('sends Basic credentials', async () => {
    expect((await hyper(['-a', 'ann:secret', h1('/basic')])).out).toBe('welcome ann\n');
    const refused = await hyper(['--check-status', '-a', 'ann:wrong', h1('/basic')]);
    expect(refused.code).toBe(4);
  });

  it('answers a Digest challenge with --auth-type digest', async () => {
    const r = await hyper(['-A', 'digest', '-a', 'ann:secret', '-v', h1('/digest')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^GET \/digest HTTP\/1\.1\n/);
    expect(r.out).toMatch(/\nAuthorization: Digest username="ann", realm="test"/i);
    expect(r.out.endsWith('digest welcome ann\n')).toBe(true);
  });
});

describe('proxies', () => {
  const proxy = (): string => `http://127.0.0.1:${s.forwardProxyPort}`;

  it('--proxy sends the request through the proxy', async () => {
    const before = s.proxied.length;
    const r = await hyper(['--proxy', proxy(), h1('/json')]);
    expect(r.out).toBe(JSON_BODY);
    expect(s.proxied.slice(before)).toEqual([`http://${h1('/json')}`]);
  });

  it('honours HTTP_PROXY, and NO_PROXY', async () => {
    const before = s.proxied.length;
    expect((await hyper([h1('/json')], { env: { HTTP_PROXY: proxy() } })).out).toBe(JSON_BODY);
    expect(s.proxied.length).toBe(before + 1);
    expect((await hyper([h1('/json')], { env: { HTTP_PROXY: proxy(), NO_PROXY: '127.0.0.1' } })).out).toBe(JSON_BODY);
    expect(s.proxied.length).toBe(before + 1);
  });
});

describe('--help and --version', () => {
  it('--help lists the options with examples, on stdout', async () => {
    const r = await hyper(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: hyper /);
    for (const option of ['--debug', '--print', '--http2', '--h2c', '--upgrade', '--download', '--continue', '--check-status', '--auth-type']) expect(r.out).toContain(option);
    expect(r.out.match(/e\.g\. hyper /g)).toHaveLength(OPTIONS.length);
  });

  it('--version is the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await hyper(['--version']);
    expect(r.out).toBe(`${pkg.version}\n`);
  });

  it('digests the same body it shows (a sanity check of the runner)', async () => {
    const r = await hyper([...CA, tls('/binary')]);
    expect(createHash('sha256').update(r.stdout).digest('hex')).toBe(createHash('sha256').update(BINARY_BODY).digest('hex'));
  });
});
