/**
 * HTTP/2 client throughput against nghttpd on 127.0.0.1, in one run,
 * interleaved rounds: hyperwire against node:http2, undici (allowH2) and,
 * for (a), h2load.
 *
 *   npm run bench:h2   (compiles, then: node build/bench/h2.js [rounds])
 *
 * (a) 100 concurrent streams on one connection, 100-octet responses: req/s,
 *     over TLS ('multiplex') and over cleartext with prior knowledge
 *     ('h2c', a second nghttpd with --no-tls);
 * (b) one 64 MiB download over TLS: MB/s;
 * (c) one 16 MiB upload over TLS (nghttpd --echo-upload, so the body comes
 *     back too): MB/s.
 *
 * After the rounds, hyperwire's socket writes per request in (a) are
 * counted (both transports), in a run of their own so the counting does not
 * touch the timed ones.
 *
 * Every client gets the same windows where it has the knob: 16 MiB per
 * stream and per connection. Each client runs in a process of its own
 * (bench/isolate.ts says why), a fresh one each round, warmed up first
 * (main() says why); SHARED_PROCESS=1 runs them all in this one.
 * BENCH_ONLY=download (or multiplex,h2c) picks scenarios, BENCH_CLIENTS=hyperwire,undici
 * some clients.
 */

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type * as http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { forkRunner, localRunner, serve, workerArgs, workerName, type Runner, type Scenarios } from './isolate.js';
import { CERT, concurrently, freePort, median, record, timed, undiciDownload, waitForPort } from './shared.js';

const MULTIPLEX_REQUESTS = 20_000;
const CONCURRENCY = 100;
const BIG = 64 * 1024 * 1024;
const UPLOAD = 16 * 1024 * 1024;
const WINDOW = 16 * 1024 * 1024;

const cert = CERT.ca;

const SCENARIOS = ['multiplex', 'h2c', 'download', 'upload'] as const;
type Scenario = (typeof SCENARIOS)[number] | 'writes' | 'writes-h2c';

// --- contenders --------------------------------------------------------------

// multiplex: req/s; download, upload: MB/s. Each client loads its own
// library only when it is made, so a worker process holds just that one.
type Contender = Scenarios<Scenario>;

async function* chunks(buf: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let off = 0; off < buf.length; off += size) yield buf.subarray(off, Math.min(off + size, buf.length));
}

/**
 * Counts the writes Node's socket layer hands to the kernel (or to the TLS
 * layer) while `fn` runs: a corked burst is one write.
 */
async function countingWrites(fn: () => Promise<void>): Promise<number> {
  const net = await import('node:net');
  const proto = net.Socket.prototype as unknown as { _writeGeneric: (...args: unknown[]) => unknown };
  const original = proto._writeGeneric;
  let writes = 0;
  proto._writeGeneric = function (this: unknown, ...args: unknown[]) {
    writes++;
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto._writeGeneric = original;
  }
  return writes;
}

async function hyperwire(port: number, h2cPort: number): Promise<Contender> {
  const { HTTP20Connection } = await import('../lib/index.js');
  const uploadBody = Buffer.alloc(UPLOAD, 0x75);
  const open = (): InstanceType<typeof HTTP20Connection> =>
    new HTTP20Connection(`127.0.0.1:${port}`, { tls: { ca: cert }, initialWindowSize: WINDOW, connectionWindowSize: WINDOW });
  const openH2c = (): InstanceType<typeof HTTP20Connection> =>
    new HTTP20Connection(`127.0.0.1:${h2cPort}`, { secure: false, initialWindowSize: WINDOW, connectionWindowSize: WINDOW });
  const multiplex = async (conn: InstanceType<typeof HTTP20Connection>): Promise<number> => {
    await conn.connect();
    const s = await concurrently(MULTIPLEX_REQUESTS, CONCURRENCY, async () => {
      const r = await conn.getResponse(await conn.request('GET', '/small'));
      if ((await r.read()).length !== 100) throw new Error('bad body');
    });
    await conn.close();
    return MULTIPLEX_REQUESTS / s;
  };
  const writesPerRequest = async (conn: InstanceType<typeof HTTP20Connection>): Promise<number> => {
    await conn.connect();
    const writes = await countingWrites(() => multiplex(conn).then(() => {}));
    return writes / MULTIPLEX_REQUESTS;
  };
  return {
    multiplex: () => multiplex(open()),
    h2c: () => multiplex(openH2c()),
    writes: () => writesPerRequest(open()),
    'writes-h2c': () => writesPerRequest(openH2c()),
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

async function nodeHttp2(port: number, h2cPort: number): Promise<Contender> {
  const http2 = await import('node:http2');
  const uploadBody = Buffer.alloc(UPLOAD, 0x75);
  const open = async (origin = `https://127.0.0.1:${port}`): Promise<http2.ClientHttp2Session> => {
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
  const multiplex = async (session: http2.ClientHttp2Session): Promise<number> => {
    const s = await concurrently(MULTIPLEX_REQUESTS, CONCURRENCY, async () => {
      if ((await fetchAll(session, { ':path': '/small' })) !== 100) throw new Error('bad body');
    });
    session.close();
    return MULTIPLEX_REQUESTS / s;
  };
  return {
    multiplex: async () => multiplex(await open()),
    h2c: async () => multiplex(await open(`http://127.0.0.1:${h2cPort}`)),
    writes: () => Promise.resolve(NaN),
    'writes-h2c': () => Promise.resolve(NaN),
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

async function undici(port: number, h2cPort: number): Promise<Contender> {
  const { Client, H2CClient } = await import('undici');
  const uploadBody = Buffer.alloc(UPLOAD, 0x75);
  const open = (): InstanceType<typeof Client> =>
    new Client(`https://127.0.0.1:${port}`, { allowH2: true, connect: { ca: cert }, pipelining: CONCURRENCY, maxConcurrentStreams: CONCURRENCY });
  const multiplex = async (client: InstanceType<typeof Client> | InstanceType<typeof H2CClient>): Promise<number> => {
    const s = await concurrently(MULTIPLEX_REQUESTS, CONCURRENCY, async () => {
      const { body } = await client.request({ path: '/small', method: 'GET' });
      if ((await body.arrayBuffer()).byteLength !== 100) throw new Error('bad body');
    });
    await client.close();
    return MULTIPLEX_REQUESTS / s;
  };
  return {
    multiplex: () => multiplex(open()),
    h2c: () => multiplex(new H2CClient(`http://127.0.0.1:${h2cPort}`, { pipelining: CONCURRENCY, maxConcurrentStreams: CONCURRENCY })),
    writes: () => Promise.resolve(NaN),
    'writes-h2c': () => Promise.resolve(NaN),
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

const CLIENTS: Record<string, (port: number, h2cPort: number) => Promise<Contender>> = { hyperwire, 'node:http2': nodeHttp2, undici };

async function h2load(origin: string): Promise<number | null> {
  try {
    const { stdout } = await promisify(execFile)('h2load', ['-n', String(MULTIPLEX_REQUESTS * 4), '-c', '1', '-m', String(CONCURRENCY), `${origin}/small`]);
    const m = /finished in [^,]+, ([\d.]+) req\/s/.exec(stdout);
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

// --- a worker process: one client ---------------------------------------------

const worker = workerName();
if (worker !== undefined) {
  const [port, h2cPort] = workerArgs().map(Number);
  serve(await CLIENTS[worker]!(port!, h2cPort!));
} else {
  await main();
}

// --- the parent: server, rounds, report --------------------------------------

async function main(): Promise<void> {
  const ROUNDS = Number(process.argv[2] ?? 5);
  const docroot = mkdtempSync(join(tmpdir(), 'hyperwire-bench-'));
  writeFileSync(join(docroot, 'small'), 'x'.repeat(100));
  writeFileSync(join(docroot, 'big'), Buffer.alloc(BIG, 0x62));
  const port = await freePort();
  const nghttpd: ChildProcess = spawn(
    'nghttpd',
    ['-a', '127.0.0.1', '-d', docroot, '--echo-upload', '-n', '1', '-w', '24', '-W', '24', String(port), CERT.keyPath, CERT.certPath],
    { stdio: 'ignore' },
  );
  process.on('exit', () => {
    nghttpd.kill();
    rmSync(docroot, { recursive: true, force: true });
  });
  // The same server in cleartext, for h2c with prior knowledge.
  const h2cPort = await freePort();
  const nghttpdH2c: ChildProcess = spawn('nghttpd', ['-a', '127.0.0.1', '-d', docroot, '--no-tls', '-n', '1', '-w', '24', '-W', '24', String(h2cPort)], {
    stdio: 'ignore',
  });
  process.on('exit', () => nghttpdH2c.kill());
  await waitForPort(port, 'nghttpd');
  await waitForPort(h2cPort, 'nghttpd --no-tls');

  const shared = process.env.SHARED_PROCESS === '1';
  const picked = process.env.BENCH_CLIENTS?.split(',');
  const names = Object.keys(CLIENTS).filter((n) => picked === undefined || picked.includes(n));
  const script = fileURLToPath(import.meta.url);
  const only = process.env.BENCH_ONLY?.split(','); // e.g. "download" to profile one scenario
  const scenarios = SCENARIOS.filter((s) => only === undefined || only.includes(s));
  const results = new Map<string, number[]>();
  const h2loadRuns: Record<'multiplex' | 'h2c', number[]> = { multiplex: [], h2c: [] };

  // Warm-up, unrecorded: the same for every contender, and enough for the
  // JavaScript clients' JIT to settle (hyperwire's download takes about
  // four 64 MiB runs to reach its steady speed, its upload six 16 MiB
  // ones). WARMUP=1 for a cold view.
  const WARMUP = Number(process.env.WARMUP ?? 6);
  // In its own process (the default), a contender runs each round in a
  // fresh one, warmed up first: about one process in eight, of any client,
  // runs its whole life markedly slower than the rest on this machine (a
  // property of the process, not of the round), and with one process for
  // all rounds such a process set that client's median.
  const persistent = shared ? await Promise.all(names.map(async (name) => localRunner(name, await CLIENTS[name]!(port, h2cPort)))) : null;
  const contender = async (name: string): Promise<Runner<Scenario>> => {
    if (persistent !== null) return persistent.find((c) => c.name === name)!;
    const runner = forkRunner<Scenario>(script, name, [String(port), String(h2cPort)]);
    for (let i = 0; i < WARMUP; i++) for (const s of scenarios) await runner.run(s);
    return runner;
  };
  if (persistent !== null) for (let i = 0; i < WARMUP; i++) for (const c of persistent) for (const s of scenarios) await c.run(s);

  let writes: [number, number] | null = null;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const c = await contender(name);
      for (const s of scenarios) record(results, `${s} ${name}`, await c.run(s));
      if (name === 'hyperwire' && round === ROUNDS - 1 && scenarios.includes('multiplex')) writes = [await c.run('writes'), await c.run('writes-h2c')];
      if (persistent === null) c.close();
    }
    for (const [s, origin] of [['multiplex', `https://127.0.0.1:${port}`], ['h2c', `http://127.0.0.1:${h2cPort}`]] as const) {
      const h = scenarios.includes(s) ? await h2load(origin) : null;
      if (h !== null) h2loadRuns[s].push(h);
    }
  }
  for (const c of persistent ?? []) c.close();

  console.log(`nghttpd on 127.0.0.1 (TLS, and cleartext for h2c); ${ROUNDS} interleaved rounds; each client in ${shared ? 'this one process, after ' + WARMUP + ' warm-up rounds' : 'a fresh process of its own each round, after ' + WARMUP + ' warm-up passes'}; medians`);
  const units = { multiplex: 'req/s', h2c: 'req/s', download: 'MB/s', upload: 'MB/s' } as const;
  for (const s of scenarios) {
    console.log('');
    let best = 0;
    for (const name of names) {
      const v = median(results.get(`${s} ${name}`)!);
      if (name !== 'hyperwire') best = Math.max(best, v);
      console.log(`${s.padEnd(10)} ${name.padEnd(11)} ${v.toFixed(units[s] === 'req/s' ? 0 : 1).padStart(10)} ${units[s]}`);
    }
    if ((s === 'multiplex' || s === 'h2c') && h2loadRuns[s].length > 0) {
      console.log(`${s.padEnd(10)} ${'h2load'.padEnd(11)} ${median(h2loadRuns[s]).toFixed(0).padStart(10)} req/s (C, for reference)`);
    }
    const ours = results.get(`${s} hyperwire`);
    const node = results.get(`${s} node:http2`);
    if (ours === undefined || best === 0) continue;
    const vsNode = node === undefined ? '' : `hyperwire / node:http2 = ${(median(ours) / median(node)).toFixed(2)}x, `;
    console.log(`${s}: ${vsNode}hyperwire / best Node peer = ${(median(ours) / best).toFixed(2)}x`);
  }
  const tls = results.get('multiplex hyperwire');
  const clear = results.get('h2c hyperwire');
  if (tls !== undefined && clear !== undefined) console.log(`\nhyperwire h2c / TLS = ${(median(clear) / median(tls)).toFixed(2)}x`);
  if (writes !== null) console.log(`hyperwire socket writes per request in (a): TLS ${writes[0]!.toFixed(3)}, h2c ${writes[1]!.toFixed(3)}`);
  nghttpd.kill();
  nghttpdH2c.kill();
  process.exit(0);
}
