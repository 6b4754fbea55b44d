/**
 * Pushed responses an origin's pool keeps for later requests (RFC 9113
 * §8.4): a GET for a pushed URL is answered from the push, without a
 * request. Bounded in count, octets and age; a push that goes unused is
 * cancelled, so its stream stops holding the server's window.
 */

import type { Push as HTTP20Push } from '../connection.js';

/** Limits of the pushes a pool keeps. */
export interface PushCacheOptions {
  /** Most pushes kept per origin. Default 100. */
  maxPushes?: number;
  /**
   * Most octets of pushed bodies kept per origin, as their Content-Length
   * declares (a push of unknown length counts as its equal share,
   * `maxPushBytes / maxPushes`). Default 16 MiB.
   */
  maxPushBytes?: number;
  /** How long a push is kept unused, in ms. Default 30,000. */
  maxPushAge?: number;
}

interface Entry {
  push: HTTP20Push;
  at: number;
  size: number;
}

/** The pushes of one origin, by path, oldest first. */
export class PushCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxPushes: number;
  private readonly maxPushBytes: number;
  private readonly maxPushAge: number;
  private bytes = 0;

  constructor(options: PushCacheOptions = {}) {
    this.maxPushes = positive(options.maxPushes ?? 100, 'maxPushes');
    this.maxPushBytes = positive(options.maxPushBytes ?? 16 * 1024 * 1024, 'maxPushBytes');
    this.maxPushAge = positive(options.maxPushAge ?? 30_000, 'maxPushAge');
  }

  /** Pushes kept now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Keeps a push for a later GET of its path; a push for a path already
   * kept replaces the older one. Pushes of other methods are cancelled
   * (only GET and HEAD responses may be pushed, and only GET is served
   * from here).
   */
  add(push: HTTP20Push): void {
    if (push.method !== 'GET') {
      push.cancel();
      return;
    }
    this.drop(push.path);
    const entry: Entry = { push, at: Date.now(), size: this.maxPushBytes / this.maxPushes };
    this.entries.set(push.path, entry);
    this.bytes += entry.size;
    // Its declared length, once its head has come, replaces the estimate.
    push.getResponse().then(
      (r) => {
        const length = Number(r.headers.first('content-length'));
        if (this.entries.get(push.path) === entry && Number.isFinite(length) && length >= 0) {
          this.bytes += length - entry.size;
          entry.size = length;
          this.trim();
        }
      },
      () => this.drop(push.path, entry),
    );
    this.trim();
  }

  /** Takes the push for `path` if one is kept and fresh. */
  take(path: string): HTTP20Push | null {
    this.expire();
    const entry = this.entries.get(path);
    if (entry === undefined) return null;
    this.entries.delete(path);
    this.bytes -= entry.size;
    return entry.push;
  }

  /** Cancels and forgets every push. */
  clear(): void {
    for (const path of [...this.entries.keys()]) this.drop(path);
  }

  private trim(): void {
    this.expire();
    while (this.entries.size > this.maxPushes || (this.bytes > this.maxPushBytes && this.entries.size > 0)) {
      this.drop(this.entries.keys().next().value as string);
    }
  }

  /** Drops the pushes older than maxPushAge (the oldest are first). */
  private expire(): void {
    const limit = Date.now() - this.maxPushAge;
    for (const [path, entry] of this.entries) {
      if (entry.at > limit) break;
      this.drop(path);
    }
  }

  private drop(path: string, only?: Entry): void {
    const entry = this.entries.get(path);
    if (entry === undefined || (only !== undefined && entry !== only)) return;
    this.entries.delete(path);
    this.bytes -= entry.size;
    entry.push.cancel();
  }
}

function positive(n: number, what: string): number {
  if (typeof n !== 'number' || !(n > 0)) throw new RangeError(`${what} must be a positive number, got ${n}`);
  return n;
}
