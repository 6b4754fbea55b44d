/**
 * HTTP/1.1 client throughput against nginx (cleartext) on 127.0.0.1, in one
 * run, interleaved rounds: HTTP11Connection against undici's Client and
 * node:http with a keep-alive Agent, each on one connection:
 *
 *   npm run bench:h1   (compiles, then: node build/bench/h1.js [rounds])
 *
 * (a) sequential GETs of a 100-octet file on one connection: req/s;
 * (b) one 64 MiB download: MB/s;
 * (c) the facade's overhead: HTTPConnection against HTTP20Connection on an
 *     h2 server (nghttpd over TLS), 100 concurrent streams, batches
 *     alternating between two open connections: req/s.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import { HTTP11Connection, HTTP20Connection, HTTPConnection } from '../lib/index.js';
import { CERT, concurrently, freePort, median, record, spawnNginx, timed, undiciDownload, waitForPort } from './shared.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const SEQUENTIAL = 5000;
const MULTIPLEX_REQUESTS = 5000;
const CONCURRENCY = 100;
const BIG = 64 * 1024 * 1024;

const cert = CERT.ca;

// --- the servers -------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'hyperwire-bench-h1-'));
const docroot = join(dir, 'www');
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
});
mkdirSync(docroot);
writeFileSync(join(docroot, 'small'), 'x'.repeat(100));
writeFileSync(join(docroot, 'big'), Buffer.alloc(BIG, 0x62));

const nginxPort = await freePort();
children.push(spawnNginx(dir, docroot, nginxPort));
await waitForPort(nginxPort, 'nginx');

const h2Port = await freePort();
children.push(spawn('nghttpd', ['-a', '127.0.0.1', '-d', docroot, '-n', '1', String(h2Port), CERT.keyPath, CERT.certPath], { stdio: 'ignore' }));
await waitForPort(h2Port, 'nghttpd');

// --- contenders --------------------------------------------------------------

interface H1Contender {
  name: string;
  sequential(): Promise<number>; // req/s
  download(): Promise<number>; // MB/s
}

function hyperwire(): H1Contender {
  const open = (): HTTP11Connection => new HTTP11Connection(`127.0.0.1:${nginxPort}`, { secure: false });
  return {
    name: 'hyperwire',
    async sequential() {
      const conn = open();
      const s = await timed(async () => {
        for (let i = 0; i < SEQUENTIAL; i++) {
          await conn.request('GET', '/small');
          const r = await conn.getResponse();
          if ((await r.read()).length !== 100) throw new Error('bad body');
        }
      });
      await conn.close();
      return SEQUENTIAL / s;
    },
    async download() {
      const conn = open();
      let n = 0;
      const s = await timed(async () => {
        await conn.request('GET', '/big');
        const r = await conn.getResponse();
        for await (const c of r.readChunked()) n += c.length;
      });
      await conn.close();
      if (n !== BIG) throw new Error(`hyperwire read ${n}`);
      return BIG / s / 1e6;
    },
  };
}

function undici(): H1Contender {
  const open = (): Client => new Client(`http://127.0.0.1:${nginxPort}`, { pipelining: 1 });
  return {
    name: 'undici',
    async sequential() {
      const client = open();
      const s = await timed(async () => {
        for (let i = 0; i < SEQUENTIAL; i++) {
          const { body } = await client.request({ path: '/small', method: 'GET' });
          if ((await body.arrayBuffer()).byteLength !== 100) throw new Error('bad body');
        }
      });
      await client.close();
      return SEQUENTIAL / s;
    },
    download: () => undiciDownload(open(), '/big', BIG),
  };
}

function nodeHttp(): H1Contender {
  const get = (agent: http.Agent, path: string, sink: (c: Buffer) => void): Promise<void> =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: nginxPort, path, agent }, (res) => {
          res.on('data', sink);
          res.on('end', resolve);
          res.on('error', reject);
        })
        .on('error', reject);
    });
  return {
    name: 'node:http',
    async sequential() {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const s = await timed(async () => {
        for (let i = 0; i < SEQUENTIAL; i++) {
          let n = 0;
          await get(agent, '/small', (c) => (n += c.length));
          if (n !== 100) throw new Error('bad body');
        }
      });
      agent.destroy();
      return SEQUENTIAL / s;
    },
    async download() {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      let n = 0;
      const s = await timed(() => get(agent, '/big', (c) => (n += c.length)));
      agent.destroy();
      if (n !== BIG) throw new Error(`node:http read ${n}`);
      return BIG / s / 1e6;
    },
  };
}

/** A batch of requests, 100 at a time, on an open h2 connection: seconds taken. */
function batch(conn: HTTPConnection | HTTP20Connection, requests: number): Promise<number> {
  return concurrently(requests, CONCURRENCY, async () => {
    const id = await conn.request('GET', '/small');
    const r = await conn.getResponse(id ?? undefined);
    if ((await r.read()).length !== 100) throw new Error('bad body');
  });
}

/**
 * The facade against HTTP20Connection: one connection each, open side by
 * side, batches alternating between them so that both meet the same
 * machine state; req/s of each over all its batches.
 */
async function facadeOverhead(): Promise<{ direct: number; facade: number }> {
  const direct = new HTTP20Connection(`127.0.0.1:${h2Port}`, { tls: { ca: cert } });
  const viaFacade = new HTTPConnection(`127.0.0.1:${h2Port}`, { tls: { ca: cert } });
  await Promise.all([direct.connect(), viaFacade.connect()]);
  if (viaFacade.protocol !== 'h2') throw new Error(`the facade chose ${viaFacade.protocol}`);
  // An even number of batches each, half of them first in their pair.
  const BATCH = 500;
  let tDirect = 0;
  let tFacade = 0;
  for (let i = 0; i < MULTIPLEX_REQUESTS / BATCH; i++) {
    if (i % 2 === 0) {
      tDirect += await batch(direct, BATCH);
      tFacade += await batch(viaFacade, BATCH);
    } else {
      tFacade += await batch(viaFacade, BATCH);
      tDirect += await batch(direct, BATCH);
    }
  }
  await Promise.all([direct.close(), viaFacade.close()]);
  return { direct: MULTIPLEX_REQUESTS / tDirect, facade: MULTIPLEX_REQUESTS / tFacade };
}

// --- run ---------------------------------------------------------------------

const contenders = [hyperwire(), undici(), nodeHttp()];
const scenarios = ['sequential', 'download'] as const;
const results = new Map<string, number[]>();

// Warm-up: one of each, unrecorded.
for (const c of contenders) for (const s of scenarios) await c[s]();
// The JIT keeps improving the HTTP/2 path over the first runs; warm it well.
for (let i = 0; i < 4; i++) await facadeOverhead();
const pairRatios: number[] = [];
/** Seconds spent by each side over every round. */
const pooled = { direct: 0, facade: 0 };

for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? contenders : [...contenders].reverse();
  for (const s of scenarios) for (const c of order) record(results, `${s} ${c.name}`, await c[s]());
  const got = await facadeOverhead();
  record(results, 'facade direct', got.direct);
  record(results, 'facade facade', got.facade);
  pairRatios.push(got.facade / got.direct);
  pooled.direct += MULTIPLEX_REQUESTS / got.direct;
  pooled.facade += MULTIPLEX_REQUESTS / got.facade;
}

console.log(`nginx (HTTP/1.1, cleartext) and nghttpd (h2, TLS) on 127.0.0.1; ${ROUNDS} interleaved rounds, medians`);
const units = { sequential: 'req/s', download: 'MB/s' } as const;
for (const s of scenarios) {
  console.log('');
  for (const c of contenders) {
    const v = median(results.get(`${s} ${c.name}`)!);
    console.log(`${s.padEnd(10)} ${c.name.padEnd(11)} ${v.toFixed(s === 'sequential' ? 0 : 1).padStart(10)} ${units[s]}`);
  }
  const ours = median(results.get(`${s} hyperwire`)!);
  console.log(`${s}: hyperwire / undici = ${(ours / median(results.get(`${s} undici`)!)).toFixed(2)}x, hyperwire / node:http = ${(ours / median(results.get(`${s} node:http`)!)).toFixed(2)}x`);
}
const direct = median(results.get('facade direct')!);
const viaFacade = median(results.get('facade facade')!);
console.log('');
console.log(`multiplex  HTTP20Connection ${direct.toFixed(0).padStart(10)} req/s`);
console.log(`multiplex  HTTPConnection   ${viaFacade.toFixed(0).padStart(10)} req/s`);
const sorted = [...pairRatios].sort((a, b) => a - b);
console.log(`facade overhead: HTTPConnection / HTTP20Connection = ${(pooled.direct / pooled.facade).toFixed(3)}x over all ${ROUNDS * MULTIPLEX_REQUESTS} requests each (per round: median ${median(pairRatios).toFixed(3)}x, ${sorted[0]!.toFixed(3)}-${sorted[sorted.length - 1]!.toFixed(3)})`);
process.exit(0);
