/**
 * HTTP/2 client throughput against nghttpd over TLS on 127.0.0.1, in one run,
 * interleaved rounds: hyperwire against node:http2, undici (allowH2) and,
 * for (a), h2load.
 *
 *   npm run bench:h2   (compiles, then: node build/bench/h2.js [rounds])
 *
 * (a) 100 concurrent streams on one connection, 100-octet responses: req/s;
 * (b) one 64 MiB download: MB/s;
 * (c) one 16 MiB upload (nghttpd --echo-upload, so the body comes back too): MB/s.
 *
 * Every client gets the same windows where it has the knob: 16 MiB per
 * stream and per connection.
 */

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Client } from 'undici';
import { HTTP20Connection } from '../lib/index.js';
import { freePort, timed, undiciDownload, waitForPort } from './shared.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const MULTIPLEX_REQUESTS = 5000;
const CONCURRENCY = 100;
const BIG = 64 * 1024 * 1024;
const UPLOAD = 16 * 1024 * 1024;
const WINDOW = 16 * 1024 * 1024;

const certDir = new URL('../../test/helpers/certs/', import.meta.url);
const cert = readFileSync(new URL('cert.pem', certDir));
const keyPath = new URL('key.pem', certDir).pathname;
const certPath = new URL('cert.pem', certDir).pathname;

// --- the server --------------------------------------------------------------

const docroot = mkdtempSync(join(tmpdir(), 'hyperwire-bench-'));
writeFileSync(join(docroot, 'small'), 'x'.repeat(100));
writeFileSync(join(docroot, 'big'), Buffer.alloc(BIG, 0x62));
const port = await freePort();
const nghttpd: ChildProcess = spawn(
  'nghttpd',
  ['-a', '127.0.0.1', '-d', docroot, '--echo-upload', '-n', '1', '-w', '24', '-W', '24', String(port), keyPath, certPath],
  { stdio: 'ignore' },
);
process.on('exit', () => {
  nghttpd.kill();
  rmSync(docroot, { recursive: true, force: true });
});
await waitForPort(port, 'nghttpd');
const origin = `https://127.0.0.1:${port}`;
const uploadBody = Buffer.alloc(UPLOAD, 0x75);

// --- contenders --------------------------------------------------------------

interface Contender {
  name: string;
  multiplex(): Promise<number>; // req/s
  download(): Promise<number>; // MB/s
  upload(): Promise<number>; // MB/s
}

async function* chunks(buf: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let off = 0; off < buf.length; off += size) yield buf.subarray(off, Math.min(off + size, buf.length));
}

function hyperwire(): Contender {
  const open = (): HTTP20Connection =>
    new HTTP20Connection(`127.0.0.1:${port}`, { tls: { ca: cert }, initialWindowSize: WINDOW, connectionWindowSize: WINDOW });
  return {
    name: 'hyperwire',
    async multiplex() {
      const conn = open();
      await conn.connect();
      let left = MULTIPLEX_REQUESTS;
      const s = await timed(async () => {
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (left-- > 0) {
              const r = await conn.getResponse(await conn.request('GET', '/small'));
              if ((await r.read()).length !== 100) throw new Error('bad body');
            }
          }),
        );
      });
      await conn.close();
      return MULTIPLEX_REQUESTS / s;
    },
    async download() {
      const conn = open();
      await conn.connect();
      let n = 0;
      const s = await timed(async () => {
        const r = await conn.getResponse(await conn.request('GET', '/big'));
        for await (const c of r.readChunked()) n += c.length;
      });
      await conn.close();
      if (n !== BIG) throw new Error(`hyperwire read ${n}`);
      return BIG / s / 1e6;
    },
    async upload() {
      const conn = open();
      await conn.connect();
      let n = 0;
      const s = await timed(async () => {
        const r = await conn.getResponse(await conn.request('POST', '/echo', { body: chunks(uploadBody) }));
        for await (const c of r.readChunked()) n += c.length;
      });
      await conn.close();
      if (n !== UPLOAD) throw new Error(`hyperwire echo ${n}`);
      return UPLOAD / s / 1e6;
    },
  };
}

function nodeHttp2(): Contender {
  const open = async (): Promise<http2.ClientHttp2Session> => {
    const session = http2.connect(origin, { ca: cert, settings: { initialWindowSize: WINDOW } });
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
    session.setLocalWindowSize(WINDOW);
    return session;
  };
  const fetchAll = (session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = session.request(headers, { endStream: body === undefined });
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => resolve(n));
      req.on('error', reject);
      if (body !== undefined) {
        void (async () => {
          for await (const c of chunks(body)) {
            if (!req.write(c)) await new Promise((r) => req.once('drain', r));
          }
          req.end();
        })();
      }
    });
  return {
    name: 'node:http2',
    async multiplex() {
      const session = await open();
      let left = MULTIPLEX_REQUESTS;
      const s = await timed(async () => {
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (left-- > 0) if ((await fetchAll(session, { ':path': '/small' })) !== 100) throw new Error('bad body');
          }),
        );
      });
      session.close();
      return MULTIPLEX_REQUESTS / s;
    },
    async download() {
      const session = await open();
      let n = 0;
      const s = await timed(async () => {
        n = await fetchAll(session, { ':path': '/big' });
      });
      session.close();
      if (n !== BIG) throw new Error(`node:http2 read ${n}`);
      return BIG / s / 1e6;
    },
    async upload() {
      const session = await open();
      let n = 0;
      const s = await timed(async () => {
        n = await fetchAll(session, { ':path': '/echo', ':method': 'POST' }, uploadBody);
      });
      session.close();
      if (n !== UPLOAD) throw new Error(`node:http2 echo ${n}`);
      return UPLOAD / s / 1e6;
    },
  };
}

function undici(): Contender {
  const open = (): Client => new Client(origin, { allowH2: true, connect: { ca: cert }, pipelining: CONCURRENCY, maxConcurrentStreams: CONCURRENCY });
  return {
    name: 'undici',
    async multiplex() {
      const client = open();
      let left = MULTIPLEX_REQUESTS;
      const s = await timed(async () => {
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (left-- > 0) {
              const { body } = await client.request({ path: '/small', method: 'GET' });
              if ((await body.arrayBuffer()).byteLength !== 100) throw new Error('bad body');
            }
          }),
        );
      });
      await client.close();
      return MULTIPLEX_REQUESTS / s;
    },
    download: () => undiciDownload(open(), '/big', BIG),
    async upload() {
      const client = open();
      let n = 0;
      const s = await timed(async () => {
        const { body } = await client.request({ path: '/echo', method: 'POST', body: Readable.from(chunks(uploadBody)) });
        for await (const c of body) n += (c as Buffer).length;
      });
      await client.close();
      if (n !== UPLOAD) throw new Error(`undici echo ${n}`);
      return UPLOAD / s / 1e6;
    },
  };
}

async function h2load(): Promise<number | null> {
  try {
    const { stdout } = await promisify(execFile)('h2load', ['-n', String(MULTIPLEX_REQUESTS * 4), '-c', '1', '-m', String(CONCURRENCY), `${origin}/small`]);
    const m = /finished in [^,]+, ([\d.]+) req\/s/.exec(stdout);
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

// --- run ---------------------------------------------------------------------

const only = process.env.BENCH_ONLY; // e.g. "download" to profile one scenario
const contenders = [hyperwire(), nodeHttp2(), undici()].filter((c) => process.env.BENCH_CLIENTS === undefined || process.env.BENCH_CLIENTS.split(',').includes(c.name));
const scenarios = (['multiplex', 'download', 'upload'] as const).filter((s) => only === undefined || s === only);
const results = new Map<string, number[]>();
const h2loadRuns: number[] = [];

// Warm-up, unrecorded: the same for every contender, and enough for the
// JavaScript clients' JIT to settle (hyperwire's download takes about
// four 64 MiB runs to reach its steady speed). WARMUP=1 for a cold view.
const WARMUP = Number(process.env.WARMUP ?? 3);
for (let i = 0; i < WARMUP; i++) for (const c of contenders) for (const s of scenarios) await c[s]();

for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? contenders : [...contenders].reverse();
  for (const s of scenarios) {
    for (const c of order) {
      const key = `${s} ${c.name}`;
      const list = results.get(key) ?? [];
      list.push(await c[s]());
      results.set(key, list);
    }
  }
  const h = await h2load();
  if (h !== null) h2loadRuns.push(h);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

console.log(`nghttpd on 127.0.0.1 over TLS; ${WARMUP} warm-up rounds, then ${ROUNDS} interleaved rounds, medians`);
const units = { multiplex: 'req/s', download: 'MB/s', upload: 'MB/s' } as const;
for (const s of scenarios) {
  console.log('');
  const ours = median(results.get(`${s} hyperwire`)!);
  let best = 0;
  for (const c of contenders) {
    const v = median(results.get(`${s} ${c.name}`)!);
    if (c.name !== 'hyperwire') best = Math.max(best, v);
    console.log(`${s.padEnd(10)} ${c.name.padEnd(11)} ${v.toFixed(s === 'multiplex' ? 0 : 1).padStart(10)} ${units[s]}`);
  }
  if (s === 'multiplex' && h2loadRuns.length > 0) console.log(`${s.padEnd(10)} ${'h2load'.padEnd(11)} ${median(h2loadRuns).toFixed(0).padStart(10)} req/s (C, for reference)`);
  const node = median(results.get(`${s} node:http2`)!);
  console.log(`${s}: hyperwire / node:http2 = ${(ours / node).toFixed(2)}x, hyperwire / best Node peer = ${(ours / best).toFixed(2)}x`);
}
nghttpd.kill();
process.exit(0);
