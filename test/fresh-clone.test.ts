/**
 * A fresh clone is self-sufficient: nothing reads data from outside the
 * project, and the tests that use the carried fixtures pass from a copy of
 * the committed tree with nothing beside it.
 */

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'coverage']);

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && entry.name !== 'fixtures') sourceFiles(join(dir, entry.name), out);
    } else if (/\.(ts|js|json|md)$/.test(entry.name) || entry.name === 'run') {
      out.push(join(dir, entry.name));
    }
  }
  return out;
}

/** The committed tree when this is a git checkout, else the files as they are. */
function copyOfProject(into: string): void {
  if (existsSync(join(ROOT, '.git'))) {
    const r = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, into], { encoding: 'utf8' });
    if (r.status === 0) return;
    throw new Error(`git clone failed: ${r.stderr}`);
  }
  cpSync(ROOT, into, { recursive: true, filter: (src) => !SKIP_DIRS.has(relative(ROOT, src).split(/[\\/]/)[0]!) });
}

describe('a fresh clone', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hyperwire-clone-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  // The folder a checkout may have beside it, which a clone does not.
  const OUTSIDE = ['..', 'shared'].join('/');
  const outside = new RegExp(`${OUTSIDE.replace(/\./g, '\\.')}|shared/fixtures`);

  it('has no source, test, benchmark or doc that reads the folder beside the checkout', () => {
    const offenders = sourceFiles(ROOT).filter((f) => {
      if (f === fileURLToPath(import.meta.url)) return false;
      return outside.test(readFileSync(f, 'utf8'));
    });
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('passes the HPACK story tests with nothing beside it', () => {
    const clone = join(scratch, 'hyperwire');
    copyOfProject(clone);
    // Nothing named shared/ beside the copy: the stories must come from the tree.
    expect(existsSync(join(scratch, 'shared'))).toBe(false);
    expect(existsSync(join(clone, 'test', 'fixtures', 'hpack-test-case', 'LICENSE'))).toBe(true);
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');

    // The outer run's own variables would make the inner vitest think it is a worker.
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(VITEST|TINYPOOL|NODE_OPTIONS)/.test(k)) env[k] = v;
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/hpack/'], {
      cwd: clone,
      env: { ...env, CI: 'true', NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const output = `${r.stdout}\n${r.stderr}`;
    expect(r.status, output).toBe(0);
    expect(output).toMatch(/Test Files\s+\d+ passed/);
    expect(output).not.toMatch(/failed|skipped/);
  }, 150_000);
});
