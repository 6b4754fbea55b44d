/**
 * Download names and ranges: Content-Disposition (RFC 6266, RFC 8187),
 * names from URLs, names made safe, free names, Content-Range.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filenameFromDisposition, filenameFromUrl, formatBytes, parseContentRange, safeFilename, uniquePath } from '../../lib/cli/download.js';

describe('filenameFromDisposition', () => {
  it('reads filename, quoted or not', () => {
    expect(filenameFromDisposition('attachment; filename="report.pdf"')).toBe('report.pdf');
    expect(filenameFromDisposition('attachment; filename=report.pdf')).toBe('report.pdf');
    expect(filenameFromDisposition('attachment; filename="a \\"quoted\\" name.txt"')).toBe('a "quoted" name.txt');
  });

  it('prefers filename* (RFC 8187) and decodes its charset', () => {
    expect(filenameFromDisposition("attachment; filename=\"fallback.txt\"; filename*=UTF-8''caf%C3%A9.txt")).toBe('café.txt');
    expect(filenameFromDisposition("attachment; filename*=iso-8859-1'en'caf%E9.txt")).toBe('café.txt');
  });

  it('decodes UTF-8 octets in a plain filename', () => {
    expect(filenameFromDisposition(`attachment; filename="${Buffer.from('naïve.txt', 'utf8').toString('latin1')}"`)).toBe('naïve.txt');
  });

  it('keeps the name inside the download directory', () => {
    expect(filenameFromDisposition('attachment; filename="../../etc/passwd"')).toBe('passwd');
    expect(filenameFromDisposition('attachment; filename=".bashrc"')).toBe('bashrc');
    expect(filenameFromDisposition('attachment; filename="..\\\\evil.exe"')).toBe('evil.exe');
  });

  it('is null without a name', () => {
    expect(filenameFromDisposition(undefined)).toBeNull();
    expect(filenameFromDisposition('inline')).toBeNull();
    expect(filenameFromDisposition('attachment; filename=".."')).toBeNull();
  });
});

describe('names', () => {
  it('come from the last path segment, with an extension from the type when it has none', () => {
    expect(filenameFromUrl('https://example.org/files/big.iso?x=1')).toBe('big.iso');
    expect(filenameFromUrl('https://example.org/files/caf%C3%A9.txt')).toBe('café.txt');
    expect(filenameFromUrl('https://example.org/')).toBe('index');
    expect(filenameFromUrl('https://example.org/', 'text/html; charset=utf-8')).toBe('index.html');
    expect(filenameFromUrl('https://example.org/data', 'application/json')).toBe('data.json');
    expect(filenameFromUrl('https://example.org/data.bin', 'application/json')).toBe('data.bin');
    expect(filenameFromUrl('https://example.org/%2E%2E')).toBe('index');
  });

  it('lose control characters and leading dots', () => {
    expect(safeFilename('a\x00b\x1bc')).toBe('abc');
    expect(safeFilename('...x')).toBe('x');
    expect(safeFilename('   ')).toBeNull();
    expect(safeFilename('x'.repeat(300))).toHaveLength(255);
  });

  const dir = mkdtempSync(join(tmpdir(), 'hyper-names-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are made free with -1, -2 before the extension', () => {
    expect(uniquePath(dir, 'a.txt')).toBe(join(dir, 'a.txt'));
    writeFileSync(join(dir, 'a.txt'), '');
    expect(uniquePath(dir, 'a.txt')).toBe(join(dir, 'a-1.txt'));
    writeFileSync(join(dir, 'a-1.txt'), '');
    expect(uniquePath(dir, 'a.txt')).toBe(join(dir, 'a-2.txt'));
    writeFileSync(join(dir, 'noext'), '');
    expect(uniquePath(dir, 'noext')).toBe(join(dir, 'noext-1'));
  });
});

describe('parseContentRange', () => {
  it('reads satisfied and unsatisfied ranges', () => {
    expect(parseContentRange('bytes 100-199/1000')).toEqual({ first: 100, last: 199, complete: 1000 });
    expect(parseContentRange('bytes 100-199/*')).toEqual({ first: 100, last: 199, complete: null });
    expect(parseContentRange('bytes */1000')).toEqual({ first: null, last: null, complete: 1000 });
  });

  it('is null for anything else', () => {
    expect(parseContentRange(undefined)).toBeNull();
    expect(parseContentRange('items 1-2/3')).toBeNull();
    expect(parseContentRange('bytes 1-/3')).toBeNull();
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.00 MiB');
    expect(formatBytes(150 * 1024 * 1024)).toBe('150 MiB');
  });
});
