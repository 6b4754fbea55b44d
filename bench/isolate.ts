/**
 * Running each contender of a benchmark in a Node process of its own.
 *
 * Clients that share a process tax each other: one library's modules and
 * objects enlarge the heap the others collect, and Node's shared internals
 * (streams, timers, promises) see every library's call patterns. Measured
 * here, merely importing undici slowed node:http2's 64 MiB download by ~13%
 * and hyperwire's by ~20%, with neither using it. An application uses one
 * HTTP client, so by default each contender gets its own process, loading
 * only its own library; the parent runs the rounds, one contender at a time,
 * interleaved as before.
 */

import { fork, type ChildProcess } from 'node:child_process';

/** What a contender measures: scenario name -> one run's figure. */
export type Scenarios<S extends string> = Record<S, () => Promise<number>>;

/** A contender as the parent drives it, in its own process or in the parent's. */
export interface Runner<S extends string> {
  readonly name: string;
  run(scenario: S): Promise<number>;
  close(): void;
}

interface Request {
  id: number;
  scenario: string;
}
interface Reply {
  id: number;
  value?: number;
  error?: string;
}

/** The flag that makes a benchmark script serve one contender (see {@link workerName}). */
const WORKER_FLAG = '--worker';

/** In a worker process: the contender it serves; in the parent: undefined. */
export function workerName(): string | undefined {
  const i = process.argv.indexOf(WORKER_FLAG);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** The arguments after the contender's name that the parent passed on. */
export function workerArgs(): string[] {
  const i = process.argv.indexOf(WORKER_FLAG);
  return i < 0 ? [] : process.argv.slice(i + 2);
}

/** Worker side: answers the parent's run requests until it disconnects. */
export function serve<S extends string>(scenarios: Scenarios<S>): void {
  process.on('message', (msg: Request) => {
    const run = scenarios[msg.scenario as S];
    const reply = (r: Reply): void => {
      process.send!(r);
    };
    if (run === undefined) {
      reply({ id: msg.id, error: `unknown scenario ${msg.scenario}` });
      return;
    }
    run().then(
      (value) => reply({ id: msg.id, value }),
      (err: unknown) => reply({ id: msg.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

/** Parent side: a contender served by `script` in a child process. */
export function forkRunner<S extends string>(script: string, name: string, args: string[]): Runner<S> {
  const child: ChildProcess = fork(script, [WORKER_FLAG, name, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: number) => void; reject: (e: Error) => void }>();
  let next = 0;
  child.on('message', (msg: Reply) => {
    const p = pending.get(msg.id);
    if (p === undefined) return;
    pending.delete(msg.id);
    if (msg.error !== undefined) p.reject(new Error(`${name}: ${msg.error}`));
    else p.resolve(msg.value!);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`${name}'s process exited (${code})`));
    pending.clear();
  });
  return {
    name,
    run(scenario) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, scenario } satisfies Request);
      });
    },
    close() {
      if (child.connected) child.disconnect();
    },
  };
}

/** Parent side: a contender run in the parent's own process. */
export function localRunner<S extends string>(name: string, scenarios: Scenarios<S>): Runner<S> {
  return { name, run: (scenario) => scenarios[scenario](), close() {} };
}
