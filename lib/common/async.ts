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
