/**
 * Runs the real `hyper` as a child process: `node --import tsx
 * lib/cli/main.ts` (or a built main.js), with its output piped, or on a
 * pseudo-terminal through util-linux's `script`.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { which } from '../helpers/servers.js';

/** The entry point in the checkout. */
export const MAIN_TS = fileURLToPath(new URL('../../lib/cli/main.ts', import.meta.url));
/** tsx's loader, by absolute URL, so the child may run in any directory. */
export const TSX_LOADER = import.meta.resolve('tsx');
/** The test CA (the servers' self-signed certificate). */
export const CA_FILE = fileURLToPath(new URL('../helpers/certs/cert.pem', import.meta.url));

/** What a run gave. */
export interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** stdout as text. */
  out: string;
}

/** Options of a run. */
export interface RunOptions {
  cwd?: string;
  /** Set (or, with undefined, removed) in the child's environment. */
  env?: Record<string, string | undefined>;
  /** The built main.js to run instead of the TypeScript source. */
  built?: string;
  /** Give up after this many ms (the child is killed). Default 20 000. */
  timeoutMs?: number;
}

/** The child's environment: the test's, without proxies or colour settings that would change what is tested. */
function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(https?_proxy|all_proxy|no_proxy|no_color|force_color|node_options|node_debug)$/i.test(name)) delete env[name];
  }
  env['TERM'] = 'xterm-256color';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function command(args: readonly string[], options: RunOptions): [string, string[]] {
  return options.built !== undefined ? [process.execPath, [options.built, ...args]] : [process.execPath, ['--import', TSX_LOADER, MAIN_TS, ...args]];
}

function collect(file: string, argv: string[], options: RunOptions): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { cwd: options.cwd, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      resolve({ code, stdout, stderr: Buffer.concat(err).toString('utf8'), out: stdout.toString('utf8') });
    });
  });
}

/** Runs hyper with stdout and stderr piped. */
export function hyper(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const [file, argv] = command(args, options);
  return collect(file, argv, options);
}

/** Whether `script` (util-linux) is there to make a pseudo-terminal. */
export const haveScript = which('script') !== null;

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs hyper on a pseudo-terminal (`script -qec CMD /dev/null`): both its
 * stdout and stderr are the terminal, and `stdout` holds what the
 * terminal showed; or, with `redirect`, one of them goes to a file
 * instead (and `redirected` holds it), as `hyper ... 2>file` would.
 */
export async function hyperTTY(args: readonly string[], options: RunOptions & { redirect?: { stream: 'stdout' | 'stderr'; file: string } } = {}): Promise<Run> {
  const [file, argv] = command(args, options);
  let cmd = [file, ...argv].map(shellQuote).join(' ');
  if (options.redirect !== undefined) cmd += ` ${options.redirect.stream === 'stdout' ? '>' : '2>'}${shellQuote(options.redirect.file)}`;
  return collect('script', ['-qec', cmd, '/dev/null'], options);
}

/** Terminal output made comparable: ANSI escape sequences and carriage returns removed. */
export function plain(text: string): string {
  // CSI sequences (colours, cursor moves, erase), and ESC 7 / ESC 8 (save and restore the cursor).
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\x1b[78]/g, '').replace(/\r/g, '');
}
