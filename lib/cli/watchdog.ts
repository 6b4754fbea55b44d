/**
 * `--timeout` as httpie means it: give up when the server has been quiet
 * for that long, whether the response head or more of its body is
 * awaited. The pool has its own read timeout; this one also covers the
 * cleartext request that asks to upgrade to h2c, whose wait for the head
 * the pool does not time (the upgrade waits under the connection's read
 * timeout, and the pool's connections have none).
 */

import { ReadTimeoutError } from '../common/errors.js';

/** Aborts its signal with a ReadTimeoutError after `ms` without {@link kick}. */
export class Watchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly ms: number;
  private waitingFor = 'the response';
  /** Rejects with the timeout when it fires. */
  private readonly fire: Promise<never>;

  constructor(ms: number) {
    this.ms = ms;
    this.fire = new Promise<never>((_, reject) => {
      this.controller.signal.addEventListener('abort', () => reject(this.controller.signal.reason), { once: true });
    });
    // Nobody may be waiting on it when it fires.
    this.fire.catch(() => {});
    this.kick();
  }

  /**
   * `promise`, or the timeout if it fires first: what waits on the
   * signal alone is not trusted to hear it.
   */
  race<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.fire]);
  }

  /** The chunks of `source`, each one a sign of life; the timeout if the next is too long in coming. */
  async *guard<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
    const it = source[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const next = await this.race(it.next());
        if (next.done === true) {
          finished = true;
          return;
        }
        this.kick();
        yield next.value;
      }
    } finally {
      // A source still waiting for its next chunk is told to stop, not waited for.
      if (!finished) void it.return?.()?.catch(() => {});
    }
  }

  /** Aborted when the server has been quiet too long. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether it fired. */
  get fired(): boolean {
    return this.controller.signal.aborted;
  }

  /** Something arrived: the quiet starts again. `what` names what is awaited next, for the message. */
  kick(what?: string): void {
    if (what !== undefined) this.waitingFor = what;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.controller.abort(new ReadTimeoutError(`Timed out after ${this.ms} ms waiting for ${this.waitingFor}`));
    }, this.ms);
    // The watchdog alone must not keep the process alive.
    this.timer.unref();
  }

  /** Done: it will not fire. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
