/**
 * The built binary, as `npm run build` makes it (tsconfig.build.json,
 * rootDir lib): compiled here into a temporary directory of the checkout
 * (so that node_modules and package.json resolve as they do from dist/),
 * then run as the `bin` entry of package.json points at it.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_FILE, hyper } from './run.js';
import { JSON_BODY, startCliServers, type CliServers } from './servers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let outDir: string;
let main: string;
let s: CliServers;

beforeAll(async () => {
  outDir = mkdtempSync(join(root, '.hyper-build-'));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir, '--declaration', 'false', '--sourceMap', 'false'], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    // Type errors elsewhere in lib/ still emit JavaScript; only a missing entry point fails here.
    if (!existsSync(join(outDir, 'cli', 'main.js'))) throw err;
  }
  main = join(outDir, 'cli', 'main.js');
  s = await startCliServers();
}, 120_000);

afterAll(async () => {
  await s?.close();
  rmSync(outDir, { recursive: true, force: true });
});

describe('the built hyper', () => {
  it('is where package.json\'s bin says, with its shebang', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin['hyper']).toBe('./dist/cli/main.js');
    expect(pkg.scripts['hyper']).toBe('tsx lib/cli/main.ts');
    expect(readFileSync(main, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('runs: version, a request, an error', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect((await hyper(['--version'], { built: main })).out).toBe(`${pkg.version}\n`);
    const r = await hyper(['--cacert', CA_FILE, `https://127.0.0.1:${s.tlsPort}/json`], { built: main });
    expect(r.code).toBe(0);
    expect(r.out).toBe(JSON_BODY);
    const bad = await hyper(['127.0.0.1:1/'], { built: main });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^hyper: error: .*ECONNREFUSED.*\n$/);
  });
});
