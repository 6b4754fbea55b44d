/**
 * The pool layer's throughput and cold start against its peers, on servers
 * started here on 127.0.0.1, in one run, interleaved rounds:
 *
 *   npm run bench:pool   (compiles, then: node build/bench/pool.js [rounds])
 *
 * (a) 'h2': 100 concurrent callers, one origin, 100-octet GETs over h2
 *     (nghttpd over TLS, the flags of bench/h2.ts): a PoolManager
 *     (`await http.request('GET', url)`, body preloaded) against a bare
 *     HTTP20Connection doing the same (bench/h2.ts's multiplex) and undici's
 *     Agent multiplexing all 100 on one connection; req/s.
 * (b) 'h1': the same callers over HTTP/1.1 (nginx, cleartext, as in
 *     bench/h1.ts): a PoolManager with `maxsize: 10, block: true` against
 *     undici's Pool with 10 connections and node:http with a keep-alive
 *     Agent of 10 sockets; req/s. 'h1-noh2' is the same pool with
 *     `http2: false`, to show what the h2c probe (`Upgrade: h2c` on the
 *     first request) costs.
 * (c) 'cold': 100 concurrent first requests to a new h2 origin (a fresh
 *     PoolManager or undici Agent each time): the time to the last
 *     response, and the connections opened for it; undici both with the
 *     settings of (a) and with its defaults ('cold-default').
 *
 * Connections are counted twice for every measurement: as the library
 * reports them (the pool's numConnections, undici's 'undici:client:connected'
 * messages, node:http's idle sockets) and as the kernel's table of TCP
 * connections shows them (/proc/net/tcp), which relies on neither.
 *
 * Every measurement makes its client, sends its requests and closes it;
 * the connections are made inside the timed span for every contender (a
 * handful of handshakes against thousands of requests). Each contender runs
 * in a process of its own (bench/isolate.ts says why), a fresh one for
 * each scenario in each round (main() says why), which first makes WARMUP
 * (default 2) unrecorded runs; H2_REQUESTS and H1_REQUESTS set the requests per
 * measurement, COLD_BURSTS the cold bursts per contender per round;
 * BENCH_VERBOSE=1 prints every round's figure; BENCH_ONLY=h2 (or h1, cold) runs only those scenarios.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkRunner, serve, workerArgs, workerName, type Runner } from './isolate.js';
import { establishedTo } from '../test/helpers/established.js';
import { CERT, concurrently, freePort, median, record, spawnNginx, timed, waitForPort } from './shared.js';

const CONCURRENCY = 100;
const BODY = 100;
/** Enough requests for at least ~0.5 s per measurement on the fastest contender of this machine. */
const H2_REQUESTS = Number(process.env.H2_REQUESTS ?? 100_000);
const H1_REQUESTS = Number(process.env.H1_REQUESTS ?? 30_000);
/** Cold bursts per contender per round: one burst takes only milliseconds. */
const COLD_BURSTS = Number(process.env.COLD_BURSTS ?? 5);
const H1_CONNECTIONS = 10;
/** As bench/h2.ts: the same windows where a client has the knob (they do not matter for 100 octets). */
const WINDOW = 16 * 1024 * 1024;
/** No single measurement may take longer than this; a hang fails the run instead of stalling it. */
const RUN_LIMIT_MS = 180_000;

const cert = CERT.ca;

/** What a worker serves: scenario -> one measurement. */
type WorkerScenarios = Record<string, () => Promise<number>>;

/** The ports of the servers, as the parent passes them to each worker. */
interface Ports {
  h2: number;
  h1: number;
}


/**
 * What a worker saw of its last measurement besides its figure: how many
 * connections the library says it opened (-1 where it does not say), how
 * many the kernel's table gained while it ran, and the worker's CPU time
 * (user + system) per request, in µs, or per burst, in ms. The CPU time is
 * the client's own cost; it moves less than the rates when other work
 * shares the machine, though contention inflates it too.
 */
interface Seen {
  reported: number;
  kernel: number;
  cpu: number;
}

/** One measurement's outcome in a worker: its figure, the library's connection count, and how to close its client. */
interface Outcome {
  value: number;
  reported?: number;
  close: () => Promise<void> | void;
}

/**
 * Runs one measurement and notes what it saw in `seen`: the kernel's count
 * of connections is taken while they are still open, before the client is
 * closed (the count from before is subtracted, in case an earlier
 * measurement's connections are still closing); the CPU time covers the
 * client's whole run, closing excluded, divided by `per`.
 */
async function measure(port: number, seen: Seen, per: number, run: () => Promise<Outcome>): Promise<number> {
  const before = establishedTo(port, 'client');
  const cpu = process.cpuUsage();
  const out = await run();
  const used = process.cpuUsage(cpu);
  seen.cpu = (used.user + used.system) / per;
  seen.kernel = establishedTo(port, 'client') - before;
  // -1, not NaN: the figure crosses the process boundary as JSON.
  seen.reported = out.reported ?? -1;
  await out.close();
  return out.value;
}

/** The scenarios every worker answers after a measurement: what it saw. */
function seenQueries(seen: Seen): WorkerScenarios {
  return { reported: () => Promise.resolve(seen.reported), kernel: () => Promise.resolve(seen.kernel), cpu: () => Promise.resolve(seen.cpu) };
}

// --- contenders ----------------------------------------------------------------

async function hyperwirePool(ports: Ports): Promise<WorkerScenarios> {
  const { PoolManager } = await import('../lib/index.js');
  type Manager = InstanceType<typeof PoolManager>;
  const h2Origin = `https://127.0.0.1:${ports.h2}`;
  const h2Url = `${h2Origin}/small`;
  const h1Origin = `http://127.0.0.1:${ports.h1}`;
  const h1Url = `${h1Origin}/small`;
  const h2Manager = (): Manager => new PoolManager({ tls: { ca: cert }, http2Options: { initialWindowSize: WINDOW, connectionWindowSize: WINDOW } });
  const get = async (http: Manager, url: string): Promise<void> => {
    const r = await http.request('GET', url);
    if (r.data?.length !== BODY) throw new Error('bad body');
  };
  const seen: Seen = { reported: -1, kernel: -1, cpu: -1 };
  const run = (port: number, origin: string, url: string, http: Manager, requests: number): Promise<number> =>
    measure(port, seen, requests, async () => {
      const s = await concurrently(requests, CONCURRENCY, () => get(http, url));
      return { value: requests / s, reported: http.connectionFromUrl(origin).numConnections, close: () => http.close() };
    });
  return {
    h2: () => run(ports.h2, h2Origin, h2Url, h2Manager(), H2_REQUESTS),
    h1: () => run(ports.h1, h1Origin, h1Url, new PoolManager({ maxsize: H1_CONNECTIONS, block: true }), H1_REQUESTS),
    'h1-noh2': () => run(ports.h1, h1Origin, h1Url, new PoolManager({ maxsize: H1_CONNECTIONS, block: true, http2: false }), H1_REQUESTS),
    cold: () =>
      measure(ports.h2, seen, 1000, async () => {
        const http = h2Manager();
        const s = await timed(() => Promise.all(Array.from({ length: CONCURRENCY }, () => get(http, h2Url))).then(() => {}));
        return { value: s * 1000, reported: http.connectionFromUrl(h2Origin).numConnections, close: () => http.close() };
      }),
    ...seenQueries(seen),
  };
}

async function hyperwireBare(ports: Ports): Promise<WorkerScenarios> {
  const { HTTP20Connection } = await import('../lib/index.js');
  const seen: Seen = { reported: -1, kernel: -1, cpu: -1 };
  return {
    h2: () =>
      measure(ports.h2, seen, H2_REQUESTS, async () => {
        const conn = new HTTP20Connection(`127.0.0.1:${ports.h2}`, { tls: { ca: cert }, initialWindowSize: WINDOW, connectionWindowSize: WINDOW });
        const s = await timed(async () => {
          await conn.connect();
          await concurrently(H2_REQUESTS, CONCURRENCY, async () => {
            const r = await conn.getResponse(await conn.request('GET', '/small'));
            if ((await r.read()).length !== BODY) throw new Error('bad body');
          });
        });
        return { value: H2_REQUESTS / s, close: () => conn.close() };
      }),
    ...seenQueries(seen),
  };
}

async function undici(ports: Ports): Promise<WorkerScenarios> {
  const { Agent, Pool } = await import('undici');
  const diagnostics = await import('node:diagnostics_channel');
  type Dispatcher = InstanceType<typeof Agent> | InstanceType<typeof Pool>;
  const h2Origin = `https://127.0.0.1:${ports.h2}`;
  const h1Origin = `http://127.0.0.1:${ports.h1}`;
  // undici runs at most `pipelining` requests on a connection, h2 included
  // (its default of 1 would put one stream on each connection), and at most
  // `maxConcurrentStreams` streams; `connections: 1` keeps every request on
  // the one connection.
  const multiplexing = (): InstanceType<typeof Agent> =>
    new Agent({ allowH2: true, connections: 1, pipelining: CONCURRENCY, maxConcurrentStreams: CONCURRENCY, connect: { ca: cert } });
  const get = async (dispatcher: Dispatcher, origin: string): Promise<void> => {
    const { body } = await dispatcher.request({ origin, path: '/small', method: 'GET' });
    if ((await body.arrayBuffer()).byteLength !== BODY) throw new Error('bad body');
  };
  // undici's own count of the connections it made (published once each is up).
  let connected = 0;
  diagnostics.subscribe('undici:client:connected', () => connected++);
  const seen: Seen = { reported: -1, kernel: -1, cpu: -1 };
  const run = (port: number, origin: string, dispatcher: Dispatcher, requests: number): Promise<number> =>
    measure(port, seen, requests, async () => {
      const before = connected;
      const s = await concurrently(requests, CONCURRENCY, () => get(dispatcher, origin));
      return { value: requests / s, reported: connected - before, close: () => dispatcher.close() };
    });
  const cold = (agent: () => InstanceType<typeof Agent>) => () =>
    measure(ports.h2, seen, 1000, async () => {
      const dispatcher = agent();
      const before = connected;
      const s = await timed(() => Promise.all(Array.from({ length: CONCURRENCY }, () => get(dispatcher, h2Origin))).then(() => {}));
      return { value: s * 1000, reported: connected - before, close: () => dispatcher.close() };
    });
  return {
    h2: () => run(ports.h2, h2Origin, multiplexing(), H2_REQUESTS),
    h1: () => run(ports.h1, h1Origin, new Pool(h1Origin, { connections: H1_CONNECTIONS }), H1_REQUESTS),
    // The settings of (a).
    cold: cold(multiplexing),
    // undici's defaults with h2 allowed: what an application gets without tuning.
    'cold-default': cold(() => new Agent({ allowH2: true, connect: { ca: cert } })),
    ...seenQueries(seen),
  };
}

async function nodeHttp(ports: Ports): Promise<WorkerScenarios> {
  const http = await import('node:http');
  const get = (agent: InstanceType<typeof http.Agent>): Promise<void> =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: ports.h1, path: '/small', agent }, (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => (n += c.length));
          res.on('end', () => (n === BODY ? resolve() : reject(new Error('bad body'))));
          res.on('error', reject);
        })
        .on('error', reject);
    });
  const seen: Seen = { reported: -1, kernel: -1, cpu: -1 };
  return {
    h1: () =>
      measure(ports.h1, seen, H1_REQUESTS, async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: H1_CONNECTIONS });
        const s = await concurrently(H1_REQUESTS, CONCURRENCY, () => get(agent));
        // Every request is done: the agent's sockets are all idle, kept for reuse.
        let sockets = 0;
        for (const list of Object.values(agent.freeSockets)) sockets += list?.length ?? 0;
        return { value: H1_REQUESTS / s, reported: sockets, close: () => agent.destroy() };
      }),
    ...seenQueries(seen),
  };
}

const CONTENDERS: Record<string, (ports: Ports) => Promise<WorkerScenarios>> = {
  'hyperwire pool': hyperwirePool,
  'hyperwire bare': hyperwireBare,
  undici,
  'node:http': nodeHttp,
};

/** Which contenders take part in which scenario; each pair has a process of its own. */
const PLAN: Record<string, readonly string[]> = {
  h2: ['hyperwire pool', 'hyperwire bare', 'undici'],
  h1: ['hyperwire pool', 'undici', 'node:http'],
  'h1-noh2': ['hyperwire pool'],
  cold: ['hyperwire pool', 'undici'],
  'cold-default': ['undici'],
};

// --- a worker process: one contender ----------------------------------------------

const worker = workerName();
if (worker !== undefined) {
  const [h2, h1] = workerArgs().map(Number);
  serve<string>(await CONTENDERS[worker]!({ h2: h2!, h1: h1! }));
} else {
  await main();
}

// --- the parent: servers, rounds, report --------------------------------------------

async function main(): Promise<void> {
  const ROUNDS = Number(process.argv[2] ?? 5);
  const WARMUP = Number(process.env.WARMUP ?? 2);
  const dir = mkdtempSync(join(tmpdir(), 'hyperwire-bench-pool-'));
  const docroot = join(dir, 'www');
  mkdirSync(docroot);
  writeFileSync(join(docroot, 'small'), 'x'.repeat(BODY));
  const servers: ChildProcess[] = [];
  process.on('exit', () => {
    for (const s of servers) s.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  // An interrupted run still stops its servers: the exit handler above runs.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

  // nghttpd over TLS, as bench/h2.ts starts it.
  const h2Port = await freePort();
  servers.push(
    spawn('nghttpd', ['-a', '127.0.0.1', '-d', docroot, '--echo-upload', '-n', '1', '-w', '24', '-W', '24', String(h2Port), CERT.keyPath, CERT.certPath], {
      stdio: 'ignore',
    }),
  );
  // nginx in cleartext, as bench/h1.ts configures it.
  const h1Port = await freePort();
  servers.push(spawnNginx(dir, docroot, h1Port));
  await waitForPort(h2Port, 'nghttpd');
  await waitForPort(h1Port, 'nginx');

  // A process for each contender in each scenario: the h2, HTTP/1.1 and
  // cold paths share the pool's code, and a process that ran one of them
  // just before another measured the other slower (the JIT re-tuning shared
  // functions for the other protocol's objects), by up to a third.
  const script = fileURLToPath(import.meta.url);
  // BENCH_ONLY=h2 (or h1,cold...) runs only those scenarios, so that one
  // can be given many rounds.
  const only = process.env.BENCH_ONLY?.split(',');
  const plan = Object.entries(PLAN).filter(([scenario]) => only === undefined || only.includes(scenario) || only.includes(scenario.replace(/-.*/, '')));
  const fork = (name: string): Runner<string> => forkRunner<string>(script, name, [String(h2Port), String(h1Port)]);
  const runOne = async (runner: Runner<string>, query: string): Promise<number> => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${runner.name} ${query} took over ${RUN_LIMIT_MS} ms`)), RUN_LIMIT_MS);
    });
    try {
      return await Promise.race([runner.run(query), limit]);
    } finally {
      clearTimeout(timer);
    }
  };

  const results = new Map<string, number[]>();
  /**
   * One round: every scenario, and in each every contender; odd rounds go
   * backwards through both, so that no one always runs first or always
   * follows the same neighbour.
   *
   * Each contender runs each round in a fresh process: WARMUP unrecorded
   * measurements, then the recorded one. On this machine about one process
   * in eight, of any contender, runs its whole life ~1.6× slower per
   * request than the rest (a property of the process, not of the round);
   * with one process for all rounds, such a process set a contender's
   * median. Fresh ones make it one round among several.
   */
  const round = async (reversed: boolean): Promise<void> => {
    for (const [scenario, names] of reversed ? [...plan].reverse() : plan) {
      const order = reversed ? [...names].reverse() : names;
      const bursts = scenario.startsWith('cold') ? COLD_BURSTS : 1;
      for (const name of order) {
        const runner = fork(name);
        try {
          for (let w = 0; w < WARMUP; w++) await runOne(runner, scenario);
          for (let b = 0; b < bursts; b++) {
            const key = `${scenario} ${name}`;
            record(results, key, await runOne(runner, scenario));
            record(results, `${key} reported`, await runOne(runner, 'reported'));
            record(results, `${key} kernel`, await runOne(runner, 'kernel'));
            record(results, `${key} cpu`, await runOne(runner, 'cpu'));
          }
        } finally {
          runner.close();
        }
      }
    }
  };
  for (let r = 0; r < ROUNDS; r++) await round(r % 2 === 1);

  const med = (key: string): number => median(results.get(key)!);
  const ratio = (a: string, b: string): string => `${(med(a) / med(b)).toFixed(2)}x`;
  /** The ratio of client CPU per request, b's over a's: above 1 when a costs less. */
  const cpuRatio = (a: string, b: string): string => `${(med(`${b} cpu`) / med(`${a} cpu`)).toFixed(2)}x`;
  const count = (v: number): string => (v < 0 ? '-' : String(v));
  /**
   * A contender's median figure and its range over the rounds, its client
   * CPU per request (per burst in (c)), and the connections it used (its own
   * count / the kernel's); medians.
   */
  const line = (label: string, key: string, unit: string, cpuUnit: string, digits = 0): void => {
    const all = results.get(key)!;
    const range = `${Math.min(...all).toFixed(digits)}-${Math.max(...all).toFixed(digits)}`;
    console.log(
      `${label.padEnd(34)} ${med(key).toFixed(digits).padStart(8)} ${unit.padEnd(5)} (${range})`.padEnd(68) +
        `CPU ${med(`${key} cpu`).toFixed(2).padStart(6)} ${cpuUnit}   connections ${count(med(`${key} reported`))} / ${count(med(`${key} kernel`))}`,
    );
    if (process.env.BENCH_VERBOSE === '1') console.log(`${''.padEnd(34)} rounds: ${all.map((v) => v.toFixed(digits)).join(' ')}`);
  };
  console.log(`nghttpd (h2, TLS) and nginx (HTTP/1.1, cleartext) on 127.0.0.1; ${ROUNDS} interleaved rounds, each contender in a fresh process each round (${WARMUP} unrecorded runs, then the recorded one); medians`);
  console.log("(range over the rounds; CPU: the client process's user + system time; connections: the library's count / the kernel's)");
  const ran = (scenario: string): boolean => plan.some(([s]) => s === scenario);
  if (ran('h2')) {
    console.log(`\n(a) h2, ${CONCURRENCY} concurrent callers, ${H2_REQUESTS} GETs of ${BODY} octets per measurement`);
    line('PoolManager', 'h2 hyperwire pool', 'req/s', 'us/req');
    line('HTTP20Connection (bare)', 'h2 hyperwire bare', 'req/s', 'us/req');
    line('undici Agent (allowH2, 1 conn)', 'h2 undici', 'req/s', 'us/req');
    console.log(`pool / bare = ${ratio('h2 hyperwire pool', 'h2 hyperwire bare')} (target >= 0.9), pool / undici = ${ratio('h2 hyperwire pool', 'h2 undici')}`);
    console.log(`by CPU per request: pool / bare = ${cpuRatio('h2 hyperwire pool', 'h2 hyperwire bare')}, pool / undici = ${cpuRatio('h2 hyperwire pool', 'h2 undici')}`);

  }
  if (ran('h1') && ran('h1-noh2')) {
    console.log(`\n(b) HTTP/1.1, ${CONCURRENCY} concurrent callers, ${H1_CONNECTIONS} connections, ${H1_REQUESTS} GETs of ${BODY} octets per measurement`);
    line('PoolManager (maxsize 10, block)', 'h1 hyperwire pool', 'req/s', 'us/req');
    line('PoolManager (... , http2: false)', 'h1-noh2 hyperwire pool', 'req/s', 'us/req');
    line('undici Pool (10 connections)', 'h1 undici', 'req/s', 'us/req');
    line('node:http Agent (10 sockets)', 'h1 node:http', 'req/s', 'us/req');
    console.log(
      `pool / undici = ${ratio('h1 hyperwire pool', 'h1 undici')} (target >= 1.0, stretch 1.5), pool / node:http = ${ratio('h1 hyperwire pool', 'h1 node:http')}; ` +
        `with http2: false, pool / undici = ${ratio('h1-noh2 hyperwire pool', 'h1 undici')}; h2c probe on / off = ${ratio('h1 hyperwire pool', 'h1-noh2 hyperwire pool')}`,
    );
    console.log(
      `by CPU per request: pool / undici = ${cpuRatio('h1 hyperwire pool', 'h1 undici')}, pool / node:http = ${cpuRatio('h1 hyperwire pool', 'h1 node:http')}; ` +
        `with http2: false, pool / undici = ${cpuRatio('h1-noh2 hyperwire pool', 'h1 undici')}`,
    );

  }
  if (ran('cold') && ran('cold-default')) {
    console.log(`\n(c) cold burst: ${CONCURRENCY} concurrent first requests to a new h2 origin, ${COLD_BURSTS} bursts per contender per round: time to the last response`);
    const max = (key: string): number => Math.max(...results.get(key)!);
    for (const [label, key] of [
      ['PoolManager', 'cold hyperwire pool'],
      ['undici Agent (settings of (a))', 'cold undici'],
      ['undici Agent (allowH2, defaults)', 'cold-default undici'],
    ] as const) {
      line(label, key, 'ms', 'ms', 1);
      console.log(`${''.padEnd(34)} (most connections in one burst: ${count(max(`${key} reported`))} / ${count(max(`${key} kernel`))})`);
  }
  console.log(`cold: time pool / undici (settings of (a)) = ${ratio('cold hyperwire pool', 'cold undici')} (lower is faster)`);
  }
  process.exit(0);
}
