/**
 * The received body of one response, between the connection (which pushes
 * chunks as they arrive) and the reader (which pulls them). Handing a chunk
 * to the reader is what counts as consuming it, so flow-control window goes
 * back to the peer only as the application reads.
 */

import { TimeoutError, type HyperwireError } from './errors.js';

const EMPTY = new Uint8Array(0);

export class BodyQueue implements AsyncIterable<Uint8Array> {
  /** Chunks from `head` on are unread: no shift(), which is O(n) on long arrays. */
  private chunks: Uint8Array[] = [];
  private head = 0;
  private ended = false;
  private error: HyperwireError | null = null;
  private waiter: { resolve: (c: Uint8Array | null) => void; reject: (e: Error) => void; timer: NodeJS.Timeout | undefined } | null = null;
  /** Octets buffered, not yet read. */
  buffered = 0;

  /**
   * @param onConsumed called with each chunk's length as the reader takes it.
   * @param readTimeout ms a `next()` may wait for data; 0 for no limit.
   * @param onTimeout called with the error when a read timed out.
   */
  constructor(
    private readonly onConsumed: (n: number) => void,
    private readonly readTimeout = 0,
    private readonly onTimeout?: (error: TimeoutError) => void,
  ) {}

  /** Whether the body has ended and everything was read. */
  get done(): boolean {
    return this.ended && this.head === this.chunks.length;
  }

  /** Chunks buffered, not yet read. */
  get pieces(): number {
    return this.chunks.length - this.head;
  }

  push(chunk: Uint8Array): void {
    if (this.ended || this.error !== null) return;
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      if (w.timer !== undefined) clearTimeout(w.timer);
      this.onConsumed(chunk.length);
      w.resolve(chunk);
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  end(): void {
    if (this.ended || this.error !== null) return;
    this.ended = true;
    if (this.waiter !== null && this.head === this.chunks.length) {
      const w = this.waiter;
      this.waiter = null;
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.resolve(null);
    }
  }

  /** Fails the body: the next read rejects (after what was buffered, unless `discard`). */
  fail(error: HyperwireError, discard = false): void {
    if (this.ended && this.head === this.chunks.length) return;
    if (this.error !== null) return;
    this.error = error;
    if (discard) {
      this.chunks = [];
      this.head = 0;
      this.buffered = 0;
    }
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.reject(error);
    }
  }

  /** The next chunk, or null at the end. */
  next(): Promise<Uint8Array | null> {
    if (this.head < this.chunks.length) {
      const chunk = this.chunks[this.head]!;
      this.chunks[this.head++] = EMPTY;
      if (this.head === this.chunks.length) {
        this.chunks.length = 0;
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
        // Drop the read half now and then, so the array does not only grow.
        this.chunks = this.chunks.slice(this.head);
        this.head = 0;
      }
      this.buffered -= chunk.length;
      this.onConsumed(chunk.length);
      return Promise.resolve(chunk);
    }
    if (this.error !== null) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(null);
    if (this.waiter !== null) return Promise.reject(new Error('Concurrent reads of one response body'));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (this.readTimeout > 0) {
        timer = setTimeout(() => {
          this.waiter = null;
          const error = new TimeoutError(`No response data for ${this.readTimeout} ms`);
          reject(error);
          this.onTimeout?.(error);
        }, this.readTimeout);
      }
      this.waiter = { resolve, reject, timer };
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = await this.next();
      if (chunk === null) return;
      yield chunk;
    }
  }
}
