/**
 * NODE_DEBUG=hyperwire: frames in and out, and stream events, on stderr.
 */

import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNodeHttp2, type NodeHttp2Handle } from '../helpers/servers.js';

let server: NodeHttp2Handle;

beforeAll(async () => {
  server = await startNodeHttp2((stream) => {
    stream.respond({ ':status': 200 });
    stream.end('logged');
  });
});

afterAll(async () => {
  await server?.stop();
});

it('logs frames both ways and the response when NODE_DEBUG names hyperwire', async () => {
  // NODE_DEBUG is read when a process starts: run the client in a child.
  const { execFile } = await import('node:child_process');
  const script = new URL('../helpers/debug-client.ts', import.meta.url).pathname;
  const port = String(server.port);
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', script, port], { env: { ...process.env, NODE_DEBUG: 'hyperwire' }, timeout: 20_000 }, (err, out, errOut) =>
      err ? reject(err) : resolve({ stdout: out, stderr: errOut }),
    );
  });
  expect(stdout).toBe('logged');
  expect(stderr).toMatch(/HYPERWIRE \d+: frame out: SETTINGS stream=0/);
  expect(stderr).toMatch(/frame out: HEADERS stream=1 flags=0x5/);
  expect(stderr).toMatch(/frame in: HEADERS stream=1/);
  expect(stderr).toMatch(/frame in: DATA stream=1 flags=0x1 length=6/);
  expect(stderr).toMatch(/stream 1: response 200/);
}, 30_000);
