/**
 * `hyper --download` and `-o` as a user runs them: the file and its name,
 * the progress bar on a terminal (run under `script`), the summary when
 * stderr is not a terminal, and resuming a partial file with Range.
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_FILE, haveScript, hyper, hyperTTY, plain } from './run.js';
import { FILE_BODY, FILE_SHA256, FILE_SIZE, startCliServers, type CliServers } from './servers.js';

let s: CliServers;
let dir: string;
beforeAll(async () => {
  s = await startCliServers();
  dir = mkdtempSync(join(tmpdir(), 'hyper-download-'));
});
afterAll(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

const CA = ['--cacert', CA_FILE];
const url = (path: string): string => `https://127.0.0.1:${s.tlsPort}${path}`;
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const fresh = (name: string): string => {
  const d = join(dir, name);
  rmSync(d, { recursive: true, force: true });
  return mkdtempSync(`${d}-`);
};

describe.skipIf(!haveScript)('on a terminal', () => {
  it('saves the body under the URL\'s name, with a progress bar showing bytes, rate and ETA', async () => {
    const cwd = fresh('tty');
    const stdoutFile = join(cwd, '..', `${cwd.split('/').pop()}.stdout`);
    const r = await hyperTTY([...CA, '-d', url('/files/big.bin')], { cwd, redirect: { stream: 'stdout', file: stdoutFile } });
    expect(r.code).toBe(0);
    expect(sha256(join(cwd, 'big.bin'))).toBe(FILE_SHA256);
    expect(readFileSync(stdoutFile, 'utf8')).toBe('');
    const raw = r.out;
    // The bar redraws in place (cursor to column 1), hiding the cursor meanwhile and showing it again.
    expect(raw).toContain('\x1b[?25l');
    expect(raw).toContain('\x1b[?25h');
    const frames = raw.split('\x1b[1G').map(plain).filter((f) => /\] +\d+% \|/.test(f));
    expect(frames.length).toBeGreaterThanOrEqual(2);
    for (const f of frames) expect(f).toMatch(/^\[[=-]{30}\] +\d{1,3}% \| [\d.]+ (B|KiB|MiB)\/3\.00 MiB \| [\d.]+ (B|KiB|MiB)\/s \| ETA (--:--|\d+:\d\d)/);
    expect(frames[frames.length - 1]).toMatch(/^\[={30}\] 100% \| 3\.00 MiB\/3\.00 MiB \| .* \| ETA 0:00/);
    const text = plain(raw);
    expect(text).toMatch(/^HTTP\/2 200\ncontent-type: application\/octet-stream\naccept-ranges: bytes\ncontent-length: 3145728\n/);
    expect(text).toContain('Downloading 3.00 MiB to "big.bin"\n');
    expect(text).toMatch(/\nDone\. 3\.00 MiB in \d+\.\d\ds \([\d.]+ (KiB|MiB|GiB)\/s\) to "big\.bin"\n$/);
  });
});

describe('without a terminal', () => {
  it('names the file by Content-Disposition, safely, and never overwrites', async () => {
    const cwd = fresh('cd');
    const first = await hyper([...CA, '-d', url('/files/x.bin?cd=1')], { cwd });
    expect(first.code).toBe(0);
    expect(first.out).toBe('');
    // No bar without a terminal: the start and the summary only.
    expect(first.stderr).toMatch(/^Downloading 3\.00 MiB to "disposed\.bin"\nDone\. 3\.00 MiB in .* to "disposed\.bin"\n$/);
    expect(sha256(join(cwd, 'disposed.bin'))).toBe(FILE_SHA256);
    const second = await hyper([...CA, '-d', url('/files/x.bin?cd=1')], { cwd });
    expect(second.stderr).toContain('to "disposed-1.bin"');
    expect(sha256(join(cwd, 'disposed-1.bin'))).toBe(FILE_SHA256);
    expect(existsSync(join(cwd, '..', 'disposed.bin'))).toBe(false);
  });

  it('-o writes the body to the file given', async () => {
    const cwd = fresh('o');
    const file = join(cwd, 'out.data');
    const r = await hyper([...CA, '-o', file, url('/files/any')], { cwd });
    expect(r.code).toBe(0);
    expect(sha256(file)).toBe(FILE_SHA256);
  });

  it('--continue resumes a partial file with a Range request', async () => {
    const cwd = fresh('resume');
    const file = join(cwd, 'part.bin');
    writeFileSync(file, FILE_BODY.subarray(0, 1024 * 1024));
    const r = await hyper([...CA, '-v', '-o', file, '--continue', url('/files/part.bin')], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('\nrange: bytes=1048576-\n');
    expect(r.stderr).toContain('\naccept-encoding: identity\n');
    expect(r.stderr).toMatch(/\nHTTP\/2 206\n/);
    expect(r.stderr).toContain('content-range: bytes 1048576-3145727/3145728');
    expect(r.stderr).toContain('Resuming 3.00 MiB to "part.bin" from 1.00 MiB\n');
    expect(r.stderr).toMatch(/Done\. 2\.00 MiB in /);
    expect(sha256(file)).toBe(FILE_SHA256);

    // Complete already: the server says 416 and the file is left as it is.
    const again = await hyper([...CA, '-o', file, '--continue', url('/files/part.bin')], { cwd });
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('The file "part.bin" is already complete (3.00 MiB).\n');
    expect(sha256(file)).toBe(FILE_SHA256);
  });

  it('--download --continue takes the URL\'s name', async () => {
    const cwd = fresh('dc');
    writeFileSync(join(cwd, 'named.bin'), FILE_BODY.subarray(0, 5));
    const r = await hyper([...CA, '-d', '-c', url('/files/named.bin')], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Resuming 3.00 MiB to "named.bin" from 5 B');
    expect(readFileSync(join(cwd, 'named.bin')).length).toBe(FILE_SIZE);
    expect(sha256(join(cwd, 'named.bin'))).toBe(FILE_SHA256);
  });

  it('saves nothing for an error status', async () => {
    const cwd = fresh('err');
    const r = await hyper([...CA, '-d', url('/status/404')], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('hyper: warning: nothing saved: the response was 404');
    expect(existsSync(join(cwd, '404'))).toBe(false);
    expect((await hyper([...CA, '-d', '--check-status', url('/status/404')], { cwd })).code).toBe(4);
  });
});
