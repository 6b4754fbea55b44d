/**
 * Small Promise helpers the connections share.
 */

/** A promise with its settle functions; settling twice is a no-op. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  settled: boolean;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const d: Deferred<T> = {
    promise: new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    }),
    resolve: (v) => {
      if (d.settled) return;
      d.settled = true;
      resolve(v);
    },
    reject: (e) => {
      if (d.settled) return;
      d.settled = true;
      reject(e);
    },
    settled: false,
  };
  // Nobody may ever ask for this result; its failure must not become an
  // unhandled rejection. Callers who await it still see the error.
  d.promise.catch(() => {});
  return d;
}

/**
 * A result that may be asked for before or after it is settled: the promise
 * is made only when it is asked for, and a result that came first is handed
 * out already settled. A {@link deferred} costs a promise, four closures and
 * a second promise for its catch; this costs nothing until asked for, and
 * then one promise. Settling twice is a no-op.
 */
export class Eventual<T> {
  /** Whether it has been resolved or rejected. */
  settled = false;
  private value: T | undefined = undefined;
  private error: Error | null = null;
  private made: Promise<T> | null = null;
  private res: ((value: T) => void) | null = null;
  private rej: ((error: Error) => void) | null = null;

  /** The result, as a promise (the same one each time). */
  get promise(): Promise<T> {
    if (this.made !== null) return this.made;
    if (this.settled) {
      this.made = this.error !== null ? Promise.reject(this.error) : Promise.resolve(this.value as T);
    } else {
      making = this;
      this.made = new Promise<T>(takeSettlers);
    }
    return this.made;
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    const res = this.res;
    if (res !== null) {
      this.res = this.rej = null;
      res(value);
    } else {
      this.value = value;
    }
  }

  reject(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    const rej = this.rej;
    if (rej !== null) {
      this.res = this.rej = null;
      rej(error);
      // Whoever asked may have let the promise go; its failure must not
      // become an unhandled rejection. Those who await it still see it.
      this.made!.catch(ignore);
    } else {
      this.error = error;
    }
  }

  /** @internal */
  setSettlers(res: (value: T) => void, rej: (error: Error) => void): void {
    this.res = res;
    this.rej = rej;
  }
}

interface SettlerSink {
  setSettlers(res: (value: unknown) => void, rej: (error: Error) => void): void;
}

/** The Eventual whose promise is being made: the executor runs at once, so one shared executor serves them all. */
let making: SettlerSink | null = null;

function takeSettlers(res: (value: never) => void, rej: (error: Error) => void): void {
  // The value is the T of the Eventual that made this promise.
  making!.setSettlers(res as (value: unknown) => void, rej);
  making = null;
}

function ignore(): void {}

/** Resolves and forgets every waiter of a set. */
export function wakeAll(waiters: Set<() => void>): void {
  // Called whenever a stream ends: most of the time nobody waits.
  if (waiters.size === 0) return;
  const all = [...waiters];
  waiters.clear();
  for (const w of all) w();
}

/** Waits for `promise`, but not longer than `ms`. */
export async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * `promise`, or a rejection with what `onTimeout` returns if it takes longer
 * than `ms`.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e as Error);
      },
    );
  });
}
