/**
 * fetch over HTTP/2 against its peers: what application code that calls
 * `fetch()` gets from each, on servers started here on 127.0.0.1, in one
 * run, interleaved rounds:
 *
 *   npm run bench:client   (compiles, then: node build/bench/client.js [rounds])
 *
 * The scenario: 100 concurrent callers, one origin, 100-octet GETs, each
 * response's body read (`await res.arrayBuffer()`), against nghttpd over
 * TLS (the flags of bench/h2.ts and bench/pool.ts). The contenders:
 *
 * - hyperwire's fetch (`createFetch({ tls: { ca } })`);
 * - undici 7's fetch with an Agent set to multiplex every request on one
 *   h2 connection (`allowH2`, `connections: 1`, `pipelining` and
 *   `maxConcurrentStreams` of 100);
 * - Node's global fetch with `dispatcher: new HyperwireAgent(...)`: HTTP/2
 *   for existing fetch code;
 * - hyperwire's Client (`client.get(url)`, body read), the httpx-style API.
 *
 * Node's global fetch as it comes (its bundled undici, without h2) cannot
 * talk to nghttpd, which speaks nothing but h2: the connection is closed
 * at the first HTTP/1.1 request. So it runs against nginx over TLS, which
 * offers both h2 and http/1.1 by ALPN, and Node's fetch takes HTTP/1.1 (a
 * connection per concurrent request, as its default Agent opens them).
 * Its trust comes from NODE_EXTRA_CA_CERTS in its process's environment,
 * the way an application gives Node's fetch a private CA. Because its
 * server differs, hyperwire's fetch and the HyperwireAgent run against the
 * same nginx too (over h2), so that every ratio to Node's fetch can also be
 * read with the server held equal.
 *
 * Each contender runs in a process of its own (bench/isolate.ts says why),
 * and in a separate one for each server. Every measurement makes its
 * client, sends its requests and closes it, so the connections are made
 * inside the timed span for every contender (one handshake for the h2
 * clients, a hundred or more for Node's HTTP/1.1 fetch, against tens of
 * thousands of requests). Connections are counted as the library reports them and as
 * the kernel's table shows them (/proc/net/tcp), and the protocol the
 * connections negotiated is read back, so that the multiplexing is seen,
 * not assumed.
 *
 * WARMUP (default 3) unrecorded rounds first; REQUESTS sets the requests
 * per measurement; BENCH_VERBOSE=1 prints every round's figure.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import * as diagnostics from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { forkRunner, serve, workerArgs, workerName, type Runner } from './isolate.js';
import { establishedTo } from '../test/helpers/established.js';
import { CERT, concurrently, freePort, median, record, spawnNginx, waitForPort } from './shared.js';

const CONCURRENCY = 100;
const BODY = 100;
/** Enough requests for at least ~0.5 s per measurement on the fastest contender of this machine (the Client, ~30-60k req/s). */
const REQUESTS = Number(process.env.REQUESTS ?? 30_000);
/** No single measurement may take longer than this; a hang fails the run instead of stalling it. */
const RUN_LIMIT_MS = 180_000;

const cert = CERT.ca;

/** What a worker serves: scenario -> one measurement. */
type WorkerScenarios = Record<string, () => Promise<number>>;

/** The ports of the servers, as the parent passes them to each worker. */
interface Ports {
  /** nghttpd: h2 only, TLS. */
  nghttpd: number;
  /** nginx: h2 and http/1.1 by ALPN, TLS. */
  nginx: number;
}

/** The servers, as the scenarios a worker answers. */
type Server = keyof Ports;


/** The protocols a measurement's connections negotiated, as one number (it crosses the process boundary as JSON). */
const PROTOCOL = { unknown: -1, mixed: 0, http11: 1, h2: 2 } as const;

/** One code for a measurement's connections: h2 or http/1.1 if all agree, mixed if not, unknown if none was seen. */
function protocolCode(seen: readonly (string | null)[]): number {
  if (seen.length === 0) return PROTOCOL.unknown;
  if (seen.every((p) => p === 'h2')) return PROTOCOL.h2;
  if (seen.every((p) => p === 'http/1.1')) return PROTOCOL.http11;
  return PROTOCOL.mixed;
}

/**
 * What a worker saw of its last measurement besides its rate: how many
 * connections the library says it opened (-1 where it does not say), how
 * many the kernel's table gained while it ran, the protocol they spoke, and
 * the worker's CPU time (user + system) per request, in µs. The CPU time is
 * the client's own cost; it moves less than the rates when other work
 * shares the machine, though contention inflates it too.
 */
interface Seen {
  reported: number;
  kernel: number;
  protocol: number;
  cpu: number;
}

/** One measurement's outcome in a worker: its rate, what the library says of its connections, and how to close its client. */
interface Outcome {
  value: number;
  reported: number;
  protocols: readonly (string | null)[];
  close: () => Promise<void> | void;
}

/**
 * Runs one measurement and notes what it saw in `seen`: the kernel's count
 * of connections is taken while they are still open, before the client is
 * closed (the count from before is subtracted, in case an earlier
 * measurement's connections are still closing); the CPU time covers the
 * client's whole run, closing excluded.
 */
async function measure(port: number, seen: Seen, run: () => Promise<Outcome>): Promise<number> {
  const before = establishedTo(port, 'client');
  const cpu = process.cpuUsage();
  const out = await run();
  const used = process.cpuUsage(cpu);
  seen.cpu = (used.user + used.system) / REQUESTS;
  seen.kernel = establishedTo(port, 'client') - before;
  seen.reported = out.reported;
  seen.protocol = protocolCode(out.protocols);
  await out.close();
  return out.value;
}

/** The scenarios every worker answers after a measurement: what it saw. */
function seenQueries(seen: Seen): WorkerScenarios {
  return {
    reported: () => Promise.resolve(seen.reported),
    kernel: () => Promise.resolve(seen.kernel),
    protocol: () => Promise.resolve(seen.protocol),
    cpu: () => Promise.resolve(seen.cpu),
  };
}

/** A fresh record of what a worker saw. */
const unseen = (): Seen => ({ reported: -1, kernel: -1, protocol: PROTOCOL.unknown, cpu: -1 });

/** Throws unless a response carried the file: a contender that fails fast must not look fast. */
function check(status: number, length: number): void {
  if (status !== 200 || length !== BODY) throw new Error(`bad response: ${status}, ${length} octets`);
}

/**
 * One measurement for each server: `REQUESTS` GETs, `CONCURRENCY` at a
 * time, through a client `make` returns; req/s. `connections()` is read
 * after the last response, while every connection is still open.
 */
function scenarios(
  ports: Ports,
  seen: Seen,
  make: (url: string) => Promise<{ get: () => Promise<void>; connections: () => { reported: number; protocols: readonly (string | null)[] }; close: () => Promise<void> | void }>,
): WorkerScenarios {
  const run = (server: Server) => (): Promise<number> =>
    measure(ports[server], seen, async () => {
      const client = await make(`https://127.0.0.1:${ports[server]}/small`);
      const s = await concurrently(REQUESTS, CONCURRENCY, client.get);
      return { value: REQUESTS / s, ...client.connections(), close: client.close };
    });
  return { nghttpd: run('nghttpd'), nginx: run('nginx'), ...seenQueries(seen) };
}

/**
 * The connections hyperwire's pools open, as the pool announces them on
 * its diagnostics channel (one message per connection, none per request):
 * the same count for fetch, the agent and the Client, and each
 * connection's protocol, read once the requests are done.
 */
async function hyperwireConnections(): Promise<{ reset: () => void; connections: () => { reported: number; protocols: (string | null)[] } }> {
  const { poolChannels } = await import('../lib/index.js');
  let made: Array<{ readonly protocol: string | null }> = [];
  diagnostics.subscribe(poolChannels.connectionCreated.name, (message) => {
    made.push((message as { connection: { readonly protocol: string | null } }).connection);
  });
  return {
    reset: () => {
      made = [];
    },
    connections: () => ({ reported: made.length, protocols: made.map((c) => c.protocol) }),
  };
}

/**
 * The connections an undici opens (undici 7, or the one inside Node, which
 * publishes on the same channel), with the protocol each socket negotiated
 * by ALPN: without ALPN, or without h2, undici speaks HTTP/1.1.
 */
function undiciConnections(): { reset: () => void; connections: () => { reported: number; protocols: string[] } } {
  let made: string[] = [];
  diagnostics.subscribe('undici:client:connected', (message) => {
    const socket = (message as { socket: Partial<TLSSocket> }).socket;
    made.push(socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1');
  });
  return {
    reset: () => {
      made = [];
    },
    connections: () => ({ reported: made.length, protocols: made }),
  };
}

// --- contenders ----------------------------------------------------------------

async function hyperwireFetch(ports: Ports): Promise<WorkerScenarios> {
  const { createFetch } = await import('../lib/index.js');
  const conns = await hyperwireConnections();
  return scenarios(ports, unseen(), async (url) => {
    conns.reset();
    const f = createFetch({ tls: { ca: cert } });
    return {
      get: async () => {
        const res = await f(url);
        check(res.status, (await res.arrayBuffer()).byteLength);
      },
      connections: conns.connections,
      close: () => f.close(),
    };
  });
}

async function undiciFetch(ports: Ports): Promise<WorkerScenarios> {
  const { Agent, fetch } = await import('undici');
  const conns = undiciConnections();
  return scenarios(ports, unseen(), async (url) => {
    conns.reset();
    // undici runs at most `pipelining` requests on a connection, h2 included
    // (its default of 1 would put one stream on each connection), and at
    // most `maxConcurrentStreams` streams; `connections: 1` keeps every
    // request on the one connection.
    const dispatcher = new Agent({ allowH2: true, connections: 1, pipelining: CONCURRENCY, maxConcurrentStreams: CONCURRENCY, connect: { ca: cert } });
    return {
      get: async () => {
        const res = await fetch(url, { dispatcher });
        check(res.status, (await res.arrayBuffer()).byteLength);
      },
      connections: conns.connections,
      close: () => dispatcher.close(),
    };
  });
}

/** The key under which undici (Node's own included) keeps its global dispatcher. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/** The part of Node's global dispatcher (an undici 6 Agent) used here. */
interface GlobalDispatcher {
  close(): Promise<void>;
  readonly constructor: new () => GlobalDispatcher;
}

async function nodeFetch(ports: Ports): Promise<WorkerScenarios> {
  const conns = undiciConnections();
  const globals = globalThis as unknown as Record<symbol, GlobalDispatcher | undefined>;
  return scenarios(ports, unseen(), async (url) => {
    conns.reset();
    return {
      get: async () => {
        const res = await fetch(url);
        check(res.status, (await res.arrayBuffer()).byteLength);
      },
      connections: conns.connections,
      // Node's fetch goes through a global Agent that nobody closes; it is
      // closed here and replaced with a new one of its own class and
      // defaults (what the first fetch of a process finds), so that every
      // measurement opens its connections inside the timed span, as the
      // other contenders' do, rather than finding a hundred warm ones.
      close: async () => {
        const dispatcher = globals[GLOBAL_DISPATCHER];
        if (dispatcher === undefined) return;
        await dispatcher.close();
        globals[GLOBAL_DISPATCHER] = new dispatcher.constructor();
      },
    };
  });
}

async function hyperwireAgent(ports: Ports): Promise<WorkerScenarios> {
  const { HyperwireAgent } = await import('../lib/index.js');
  const conns = await hyperwireConnections();
  return scenarios(ports, unseen(), async (url) => {
    conns.reset();
    const agent = new HyperwireAgent({ tls: { ca: cert } });
    // Node's typings want their own Dispatcher class; the agent is one structurally.
    const init = { dispatcher: agent } as unknown as RequestInit;
    return {
      get: async () => {
        const res = await fetch(url, init);
        check(res.status, (await res.arrayBuffer()).byteLength);
      },
      connections: conns.connections,
      close: () => agent.close(),
    };
  });
}

async function hyperwireClient(ports: Ports): Promise<WorkerScenarios> {
  const { Client } = await import('../lib/index.js');
  const conns = await hyperwireConnections();
  return scenarios(ports, unseen(), async (url) => {
    conns.reset();
    const client = new Client({ tls: { ca: cert }, trustEnv: false });
    return {
      get: async () => {
        const r = await client.get(url);
        check(r.status, r.content.length);
      },
      connections: conns.connections,
      close: () => client.close(),
    };
  });
}

const CONTENDERS: Record<string, (ports: Ports) => Promise<WorkerScenarios>> = {
  'hyperwire fetch': hyperwireFetch,
  'undici fetch': undiciFetch,
  'Node fetch': nodeFetch,
  'Node fetch + HyperwireAgent': hyperwireAgent,
  'hyperwire Client': hyperwireClient,
};

/** Which contenders run against which server; each pair has a process of its own. */
const PLAN: Record<Server, readonly string[]> = {
  nghttpd: ['hyperwire fetch', 'undici fetch', 'Node fetch + HyperwireAgent', 'hyperwire Client'],
  nginx: ['Node fetch', 'hyperwire fetch', 'Node fetch + HyperwireAgent'],
};

// --- a worker process: one contender ----------------------------------------------

const worker = workerName();
if (worker !== undefined) {
  const [nghttpd, nginx] = workerArgs().map(Number);
  serve<string>(await CONTENDERS[worker]!({ nghttpd: nghttpd!, nginx: nginx! }));
} else {
  await main();
}

// --- the parent: servers, rounds, report --------------------------------------------

async function main(): Promise<void> {
  const ROUNDS = Number(process.argv[2] ?? 5);
  const WARMUP = Number(process.env.WARMUP ?? 3);
  const loadBefore = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'hyperwire-bench-client-'));
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

  // nghttpd over TLS, as bench/h2.ts and bench/pool.ts start it.
  const nghttpdPort = await freePort();
  servers.push(
    spawn('nghttpd', ['-a', '127.0.0.1', '-d', docroot, '--echo-upload', '-n', '1', '-w', '24', '-W', '24', String(nghttpdPort), CERT.keyPath, CERT.certPath], {
      stdio: 'ignore',
    }),
  );
  // nginx over TLS with h2 and http/1.1 (for Node's fetch, which has no
  // h2), one worker as in bench/h1.ts; connections are never closed for
  // their request count, which would cost a handshake mid-measurement.
  const nginxPort = await freePort();
  servers.push(spawnNginx(dir, docroot, nginxPort, true));
  await waitForPort(nghttpdPort, 'nghttpd');
  await waitForPort(nginxPort, 'nginx');

  const script = fileURLToPath(import.meta.url);
  const runners = new Map<string, Runner<string>>();
  for (const [server, names] of Object.entries(PLAN)) {
    for (const name of names) {
      const args = [String(nghttpdPort), String(nginxPort)];
      if (name !== 'Node fetch') {
        runners.set(`${server} ${name}`, forkRunner<string>(script, name, args));
        continue;
      }
      // Node's fetch takes its trust from the environment, read once when
      // its process starts: only that process gets the test CA this way
      // (fork copies the parent's environment as it is at the call).
      const previous = process.env.NODE_EXTRA_CA_CERTS;
      process.env.NODE_EXTRA_CA_CERTS = CERT.certPath;
      try {
        runners.set(`${server} ${name}`, forkRunner<string>(script, name, args));
      } finally {
        if (previous === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
        else process.env.NODE_EXTRA_CA_CERTS = previous;
      }
    }
  }
  const runOne = async (server: string, name: string, query = server): Promise<number> => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} ${query} took over ${RUN_LIMIT_MS} ms`)), RUN_LIMIT_MS);
    });
    try {
      return await Promise.race([runners.get(`${server} ${name}`)!.run(query), limit]);
    } finally {
      clearTimeout(timer);
    }
  };

  const results = new Map<string, number[]>();
  /**
   * One round: every server, and against each every contender; odd rounds
   * go backwards through both, so that no one always runs first or always
   * follows the same neighbour. Records nothing when `into` is null.
   */
  const round = async (reversed: boolean, into: Map<string, number[]> | null): Promise<void> => {
    const plan = Object.entries(PLAN);
    for (const [server, names] of reversed ? plan.reverse() : plan) {
      for (const name of reversed ? [...names].reverse() : names) {
        const v = await runOne(server, name);
        if (into === null) continue;
        record(into, `${server} ${name}`, v);
        for (const query of ['reported', 'kernel', 'protocol', 'cpu']) record(into, `${server} ${name} ${query}`, await runOne(server, name, query));
      }
    }
  };
  // Warm-up, unrecorded, the same for every contender: the JavaScript
  // clients' JIT needs a few runs of each path before it settles.
  for (let i = 0; i < WARMUP; i++) await round(i % 2 === 1, null);
  for (let r = 0; r < ROUNDS; r++) await round(r % 2 === 1, results);
  for (const runner of runners.values()) runner.close();
  const loadAfter = loadavg();

  const med = (key: string): number => median(results.get(key)!);
  const ratio = (a: string, b: string): string => `${(med(a) / med(b)).toFixed(2)}x`;
  /** The ratio of client CPU per request, b's over a's: above 1 when a costs less. */
  const cpuRatio = (a: string, b: string): string => `${(med(`${b} cpu`) / med(`${a} cpu`)).toFixed(2)}x`;
  const count = (v: number): string => (v < 0 ? '-' : String(v));
  const protocolName = (key: string): string => {
    const codes = new Set(results.get(`${key} protocol`)!);
    if (codes.size !== 1) return 'varied';
    switch ([...codes][0]) {
      case PROTOCOL.h2:
        return 'h2';
      case PROTOCOL.http11:
        return 'http/1.1';
      case PROTOCOL.mixed:
        return 'mixed';
      default:
        return '?';
    }
  };
  /**
   * A contender's median rate and its range over the rounds, its client CPU
   * per request, the connections it used (its own count / the kernel's;
   * medians) and the protocol they negotiated.
   */
  const line = (label: string, key: string): void => {
    const all = results.get(key)!;
    const range = `${Math.min(...all).toFixed(0)}-${Math.max(...all).toFixed(0)}`;
    console.log(
      `${label.padEnd(40)} ${med(key).toFixed(0).padStart(7)} req/s (${range})`.padEnd(74) +
        `CPU ${med(`${key} cpu`).toFixed(1).padStart(6)} us/req   connections ${count(med(`${key} reported`))} / ${count(med(`${key} kernel`))}   ${protocolName(key)}`,
    );
    if (process.env.BENCH_VERBOSE === '1') console.log(`${''.padEnd(40)} rounds: ${all.map((v) => v.toFixed(0)).join(' ')}`);
  };
  const load = (l: number[]): string => l.map((v) => v.toFixed(2)).join(' ');
  console.log(
    `fetch, ${CONCURRENCY} concurrent callers, one origin, ${REQUESTS} GETs of ${BODY} octets per measurement (body read); each contender in a process of its own; ${WARMUP} warm-up rounds, then ${ROUNDS} interleaved rounds, medians`,
  );
  console.log("(range over the rounds; CPU: the client process's user + system time; connections: the library's count / the kernel's; protocol by ALPN)");
  console.log(`load average (1, 5, 15 min) at the start: ${load(loadBefore)}; at the end: ${load(loadAfter)}`);

  const HF = 'nghttpd hyperwire fetch';
  const UF = 'nghttpd undici fetch';
  const HA = 'nghttpd Node fetch + HyperwireAgent';
  const NF = 'nginx Node fetch';
  console.log('\nnghttpd (h2 only, TLS):');
  line('hyperwire fetch', HF);
  line('undici 7 fetch (Agent allowH2, 1 conn)', UF);
  line('Node fetch + HyperwireAgent', HA);
  line('hyperwire Client (client.get)', 'nghttpd hyperwire Client');
  console.log('nginx (h2 + http/1.1, TLS):');
  line(`Node ${process.versions.node} fetch (undici ${process.versions.undici ?? '?'})`, NF);
  line('hyperwire fetch', 'nginx hyperwire fetch');
  line('Node fetch + HyperwireAgent', 'nginx Node fetch + HyperwireAgent');

  console.log(`\nhyperwire fetch / undici fetch = ${ratio(HF, UF)} (target >= 3), by CPU per request ${cpuRatio(HF, UF)}`);
  console.log(
    `hyperwire fetch / Node fetch = ${ratio(HF, NF)} (nghttpd / nginx), ${ratio('nginx hyperwire fetch', NF)} (both nginx); ` +
      `by CPU per request ${cpuRatio(HF, NF)}, ${cpuRatio('nginx hyperwire fetch', NF)}`,
  );
  console.log(
    `Node fetch + HyperwireAgent / Node fetch = ${ratio(HA, NF)} (nghttpd / nginx), ${ratio('nginx Node fetch + HyperwireAgent', NF)} (both nginx); ` +
      `by CPU per request ${cpuRatio(HA, NF)}, ${cpuRatio('nginx Node fetch + HyperwireAgent', NF)}`,
  );
  console.log(`hyperwire Client / hyperwire fetch = ${ratio('nghttpd hyperwire Client', HF)}, by CPU per request ${cpuRatio('nghttpd hyperwire Client', HF)}`);
  process.exit(0);
}
