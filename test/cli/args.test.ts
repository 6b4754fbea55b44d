/**
 * The command line: METHOD/URL/items, options in every spelling, the
 * combinations refused, and a help that lists every option with an example.
 */

import { describe, expect, it } from 'vitest';
import { helpText, OPTIONS, parseArgs, UsageError } from '../../lib/cli/args.js';
import { normaliseUrl } from '../../lib/cli/url.js';

describe('METHOD URL ITEM...', () => {
  it('takes the URL alone', () => {
    const o = parseArgs(['example.org']);
    expect(o.method).toBeNull();
    expect(o.url).toBe('example.org');
    expect(o.items).toEqual([]);
  });

  it('takes a method before the URL, in any case when it is a known one', () => {
    expect(parseArgs(['POST', 'example.org', 'a=1'])).toMatchObject({ method: 'POST', url: 'example.org', items: ['a=1'] });
    expect(parseArgs(['delete', 'example.org'])).toMatchObject({ method: 'DELETE', url: 'example.org' });
    expect(parseArgs(['PURGE', 'example.org'])).toMatchObject({ method: 'PURGE', url: 'example.org' });
  });

  it('does not take a lower-case host name for a method (httpie does)', () => {
    expect(parseArgs(['localhost', 'a=1'])).toMatchObject({ method: null, url: 'localhost', items: ['a=1'] });
    expect(parseArgs(['localhost:8080', 'X-A:b'])).toMatchObject({ method: null, url: 'localhost:8080', items: ['X-A:b'] });
  });

  it('takes `--` as the end of the options', () => {
    expect(parseArgs(['--', 'GET', 'example.org', '-x:y'])).toMatchObject({ method: 'GET', url: 'example.org', items: ['-x:y'] });
  });

  it('refuses a missing URL', () => {
    expect(() => parseArgs([])).toThrow(UsageError);
    expect(() => parseArgs(['-v'])).toThrow(/URL is missing/);
  });
});

describe('options', () => {
  it('reads values as `--name value`, `--name=value`, `-x value` and `-xvalue`', () => {
    expect(parseArgs(['--print', 'Hh', 'u']).print).toBe('Hh');
    expect(parseArgs(['--print=b', 'u']).print).toBe('b');
    expect(parseArgs(['-p', 'hb', 'u']).print).toBe('hb');
    expect(parseArgs(['-phb', 'u']).print).toBe('hb');
    expect(parseArgs(['-o', 'out.bin', 'u']).output).toBe('out.bin');
  });

  it('bundles short flags, the last one taking a value', () => {
    const o = parseArgs(['-vFkdo', 'file', 'u']);
    expect(o).toMatchObject({ verbose: true, follow: true, insecure: true, download: true, output: 'file' });
  });

  it('sets every documented default', () => {
    const o = parseArgs(['u']);
    expect(o).toMatchObject({ bodyKind: 'json', follow: false, maxRedirects: 30, push: true, authType: 'basic', timeout: null, pretty: null, print: null });
  });

  it('parses numbers and choices, and refuses bad ones', () => {
    expect(parseArgs(['--timeout', '2.5', 'u']).timeout).toBe(2.5);
    expect(parseArgs(['--max-redirects', '4', 'u']).maxRedirects).toBe(4);
    expect(parseArgs(['--pretty', 'format', 'u']).pretty).toBe('format');
    expect(parseArgs(['-A', 'digest', '-a', 'ann:secret', 'u'])).toMatchObject({ authType: 'digest', auth: 'ann:secret' });
    expect(() => parseArgs(['--timeout', '0', 'u'])).toThrow(/positive number/);
    expect(() => parseArgs(['--timeout', 'soon', 'u'])).toThrow(/positive number/);
    expect(() => parseArgs(['--max-redirects', '-1', 'u'])).toThrow(/whole number/);
    expect(() => parseArgs(['--pretty', 'loud', 'u'])).toThrow(/--pretty/);
    expect(() => parseArgs(['--print', 'x', 'u'])).toThrow(/--print/);
    expect(() => parseArgs(['--auth-type', 'ntlm', 'u'])).toThrow(/basic or digest/);
    expect(() => parseArgs(['--auth', 'ann', 'u'])).toThrow(/USER:PASS/);
  });

  it('names unknown options, with a suggestion for a near miss', () => {
    expect(() => parseArgs(['--folow', 'u'])).toThrow('unknown option --folow (did you mean --follow?)');
    expect(() => parseArgs(['--zzzzzz', 'u'])).toThrow(/^unknown option --zzzzzz$/);
    expect(() => parseArgs(['-Z', 'u'])).toThrow('unknown option -Z');
    expect(() => parseArgs(['--verbose=yes', 'u'])).toThrow(/takes no value/);
    expect(() => parseArgs(['u', '--output'])).toThrow(/needs a value/);
  });

  it('refuses combinations that cannot both hold', () => {
    expect(() => parseArgs(['--http1', '--http2', 'u'])).toThrow(/--http1 cannot be combined with --http2/);
    expect(() => parseArgs(['--http1', '--h2c', 'u'])).toThrow(/--http1/);
    expect(() => parseArgs(['--h2c', '--upgrade', 'u'])).toThrow(/choose one/);
    expect(() => parseArgs(['--continue', 'u'])).toThrow(/--download or --output/);
    expect(() => parseArgs(['--key', 'k.pem', 'u'])).toThrow(/--key needs --cert/);
    expect(() => parseArgs(['--http2', '--h2c', 'u'])).not.toThrow();
  });

  it('answers --help and --version without a URL', () => {
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs(['-h']).help).toBe(true);
    expect(parseArgs(['--version']).version).toBe(true);
  });
});

describe('--help', () => {
  it('lists every option with an example', () => {
    const help = helpText();
    for (const spec of OPTIONS) {
      expect(help).toContain(`--${spec.long}`);
      if (spec.short !== undefined) expect(help).toContain(`-${spec.short}, --${spec.long}`);
      expect(help).toContain(`e.g. ${spec.example}`);
      expect(spec.example.startsWith('hyper ')).toBe(true);
    }
  });

  it('explains the request items and the exit statuses', () => {
    const help = helpText();
    for (const item of ['Header:value', 'name==value', 'name=value', 'name:=json', 'name@file']) expect(help).toContain(item);
    expect(help).toMatch(/Exit status: 0 success; 1 error; 2 timeout; 3 too many redirects/);
  });

  it('parses every example it gives', () => {
    for (const spec of OPTIONS) {
      const argv = spec.example.split(' ').slice(1);
      expect(() => parseArgs(argv), spec.example).not.toThrow();
    }
  });
});

describe('the URL', () => {
  it('adds http://, or https:// for port 443', () => {
    expect(normaliseUrl('example.org')).toBe('http://example.org/');
    expect(normaliseUrl('example.org/a?b=c')).toBe('http://example.org/a?b=c');
    expect(normaliseUrl('example.org:443/x')).toBe('https://example.org/x');
    expect(normaliseUrl('example.org:8443/x')).toBe('http://example.org:8443/x');
    expect(normaliseUrl('[::1]:443/')).toBe('https://[::1]/');
    expect(normaliseUrl('[::1]:8080/')).toBe('http://[::1]:8080/');
  });

  it('keeps a scheme that is there', () => {
    expect(normaliseUrl('https://example.org:8443/x')).toBe('https://example.org:8443/x');
    expect(normaliseUrl('HTTP://Example.ORG/')).toBe('http://example.org/');
  });

  it('reads `:port/path` as localhost, as httpie', () => {
    expect(normaliseUrl(':8080/path')).toBe('http://localhost:8080/path');
    expect(normaliseUrl(':/path')).toBe('http://localhost/path');
    expect(normaliseUrl(':')).toBe('http://localhost/');
    expect(normaliseUrl(':443')).toBe('https://localhost/');
  });

  it('refuses what is not an http(s) URL', () => {
    expect(() => normaliseUrl('ftp://example.org/')).toThrow(/only http and https/);
    expect(() => normaliseUrl('http://')).toThrow(UsageError);
    expect(() => normaliseUrl('  ')).toThrow(/empty/);
  });
});
