#!/usr/bin/env node
/**
 * The `hyper` executable: runs the command with the process's arguments
 * and streams, and exits with its status. Whatever goes wrong is one line
 * on stderr, `hyper: error: ...`, never a stack trace.
 */

import { runCommand } from './command.js';
import { errorMessage, ExitStatus } from './exit.js';

/** Exits once what was written to stdout and stderr has been handed to the OS. */
function exit(code: number): void {
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

function fail(err: unknown): void {
  process.stderr.write(`hyper: error: ${errorMessage(err)}\n`);
  exit(ExitStatus.ERROR);
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

// A reader that went away (`hyper URL | head`) is not an error of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(ExitStatus.SUCCESS);
  fail(err);
});

process.on('SIGINT', () => {
  // The progress bar hides the cursor; give it back.
  if (process.stderr.isTTY) process.stderr.write('\x1b[?25h\n');
  process.exit(ExitStatus.INTERRUPTED);
});

// Node prints its warnings with a stack-like prefix; hyper says them in one
// line, and not at all for --insecure, which the user asked for.
process.removeAllListeners('warning');
process.on('warning', (warning: Error & { code?: string }) => {
  if (warning.code === 'HW_INSECURE_REQUEST') return;
  process.stderr.write(`hyper: warning: ${warning.message}\n`);
});

runCommand({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
}).then(exit, fail);
