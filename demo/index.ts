/**
 * `npm start`: hyperwire against two servers it starts on 127.0.0.1.
 *
 * - A TLS server offering h2 and http/1.1 by ALPN, with a self-signed
 *   certificate made at start (openssl), that pushes a stylesheet with
 *   its page.
 * - A TLS server that speaks only HTTP/1.1.
 *
 * The same HTTPConnection calls run against both: multiplexed requests
 * with their stream IDs, responses read out of order, a push consumed,
 * and the fallback to HTTP/1.1.
 */

import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTPConnection, initContext } from '../lib/index.js';

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const log = (s = ''): void => console.log(s);

/** A self-signed certificate for localhost and 127.0.0.1, made now. */
function makeCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'hyperwire-demo-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch (err) {
    throw new Error(`The demo makes its certificate with openssl, which failed: ${(err as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { key, cert } = makeCertificate();
const delays: Record<string, number> = { '/slow': 300, '/medium': 150, '/fast': 0 };

// h2 and http/1.1 by ALPN; the page comes with a pushed stylesheet.
const both = http2.createSecureServer({ key, cert, allowHTTP1: true }, (req, res) => {
  const path = req.url ?? '/';
  if (path === '/' && req.httpVersion === '2.0') {
    res.stream.pushStream({ ':path': '/style.css' }, (err, push) => {
      if (err !== null) return;
      push.respond({ ':status': 200, 'content-type': 'text/css' });
      push.end('body { font-family: serif }');
    });
  }
  setTimeout(() => {
    res.setHeader('content-type', 'text/plain');
    res.end(`${path} over HTTP/${req.httpVersion}`);
  }, delays[path] ?? 0);
});
// HTTP/1.1 only.
const h1only = https.createServer({ key, cert, ALPNProtocols: ['http/1.1'] }, (req, res) => {
  setTimeout(() => res.end(`${req.url} over HTTP/${req.httpVersion}`), delays[req.url ?? '/'] ?? 0);
});
both.listen(0, '127.0.0.1');
h1only.listen(0, '127.0.0.1');
await Promise.all([once(both, 'listening'), once(h1only, 'listening')]);
const portOf = (s: { address(): AddressInfo | string | null }): number => (s.address() as AddressInfo).port;

const tls = initContext({ ca: cert });

async function tour(title: string, port: number): Promise<void> {
  log(bold(`== ${title} (127.0.0.1:${port})`));
  await using conn = new HTTPConnection(`127.0.0.1:${port}`, { tls, enablePush: true, timeout: 5000 });
  // Three requests at once; on HTTP/2 each gets its stream ID.
  const paths = ['/slow', '/medium', '/fast'];
  const ids: Array<number | null> = [];
  await conn.connect();
  const start = performance.now();
  for (const path of paths) ids.push(await conn.request('GET', path));
  log(`protocol chosen by ALPN: ${conn.protocol}`);
  paths.forEach((path, i) => log(`  request GET ${path.padEnd(8)} -> stream ID ${String(ids[i])}`));
  if (conn.protocol === 'h2') {
    // Read them in reverse: each response is matched to its request by ID.
    for (let i = ids.length - 1; i >= 0; i--) {
      const response = await conn.getResponse(ids[i]);
      log(`  response on stream ${String(ids[i])}: ${response.status} "${(await response.read()).toString()}"`);
    }
    log(`  all three in ${Math.round(performance.now() - start)} ms: multiplexed, so about the slowest one (300 ms)`);
    const page = await conn.request('GET', '/');
    const response = await conn.getResponse(page);
    log(`  GET / on stream ${String(page)}: ${response.status} "${(await response.read()).toString()}"`);
    for await (const push of conn.getPushes({ streamId: page ?? undefined, captureAll: true })) {
      const pushed = await push.getResponse();
      log(`  pushed ${push.method} ${push.path} (stream ${pushed.streamId}): ${pushed.headers.first('content-type')} "${(await pushed.read()).toString()}"`);
    }
  } else {
    // HTTP/1.1: the same calls; responses come in request order.
    for (const path of paths) {
      const response = await conn.getResponse();
      log(`  response to ${path.padEnd(8)}: ${response.status} ${response.reason} "${(await response.read()).toString()}"`);
    }
    log(`  all three in ${Math.round(performance.now() - start)} ms: one after another (300 + 150 + 0 ms)`);
    const pushes = [];
    for await (const push of conn.getPushes()) pushes.push(push);
    log(`  pushes on HTTP/1.1: ${pushes.length} (there is no push in HTTP/1.1)`);
  }
  log();
}

try {
  await tour('A server with h2 and http/1.1', portOf(both));
  await tour('A server with HTTP/1.1 only: the fallback', portOf(h1only));
} finally {
  both.close();
  h1only.close();
}
