/**
 * The received body of one response, between the connection (which pushes
 * chunks as they arrive) and the reader (which pulls them). Handing a chunk
 * to the reader is what counts as consuming it, so flow-control window goes
 * back to the peer only as the application reads.
 *
 * The queue is itself the body's async iterator. A read costs one promise and
 * one result object: a download hands over thousands of chunks a second, and
 * what each of them allocates is what the garbage collector has to chase.
 */

import { ReadTimeoutError, type HyperwireError } from './errors.js';
import { asBuffer } from './latin1.js';
import { cancelDeadline, startDeadline, type Deadline } from './timers.js';

/**
 * What a body queue tells its connection. An interface, not two callbacks:
 * the queue is made per response, and the connection's record of the
 * stream can be the owner itself, with no closures made for it.
 */
export interface BodyOwner {
  /** The reader took `n` octets: window can go back to the peer. */
  bodyConsumed(n: number): void;
  /** A read waited past the read timeout and has failed with `error`. */
  bodyTimedOut(error: ReadTimeoutError): void;
}

const EMPTY = new Uint8Array(0);
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export class BodyQueue implements AsyncIterableIterator<Buffer> {
  /**
   * Unread chunks are those in [head, tail); other slots hold EMPTY. No
   * shift(), which is O(n) on long arrays, and no truncation, which is a
   * runtime call: the array is reused from the start once it is drained.
   */
  private chunks: Uint8Array[] = [];
  private head = 0;
  private tail = 0;
  private ended = false;
  private error: HyperwireError | null = null;
  // The read waiting for data, if any. Kept in fields, and the promise made
  // with one executor for the queue's life, so a wait allocates nothing else.
  private resolveWait: ((r: IteratorResult<Buffer>) => void) | null = null;
  private rejectWait: ((e: Error) => void) | null = null;
  private timer: Deadline | undefined = undefined;
  private readonly executor = (resolve: (r: IteratorResult<Buffer>) => void, reject: (e: Error) => void): void => {
    this.resolveWait = resolve;
    this.rejectWait = reject;
  };
  /** Octets buffered, not yet read. */
  buffered = 0;

  /**
   * @param owner told of each chunk's length as the reader takes it, and of
   *   a read that timed out.
   * @param readTimeout ms a `next()` may wait for data; 0 for no limit.
   */
  constructor(
    private readonly owner: BodyOwner,
    private readonly readTimeout = 0,
  ) {}

  /** Whether the body has ended and everything was read. */
  get done(): boolean {
    return this.ended && this.head === this.tail;
  }

  /** Chunks buffered, not yet read. */
  get pieces(): number {
    return this.tail - this.head;
  }

  push(chunk: Uint8Array): void {
    if (this.ended || this.error !== null) return;
    const resolve = this.resolveWait;
    if (resolve !== null) {
      this.settled();
      this.owner.bodyConsumed(chunk.length);
      resolve({ done: false, value: asBuffer(chunk) });
      return;
    }
    this.chunks[this.tail++] = chunk;
    this.buffered += chunk.length;
  }

  end(): void {
    if (this.ended || this.error !== null) return;
    this.ended = true;
    const resolve = this.resolveWait;
    if (resolve !== null && this.head === this.tail) {
      this.settled();
      resolve(DONE);
    }
  }

  /** Fails the body: the next read rejects (after what was buffered, unless `discard`). */
  fail(error: HyperwireError, discard = false): void {
    if (this.ended && this.head === this.tail) return;
    if (this.error !== null) return;
    this.error = error;
    if (discard) {
      this.chunks = [];
      this.head = 0;
      this.tail = 0;
      this.buffered = 0;
    }
    const reject = this.rejectWait;
    if (reject !== null) {
      this.settled();
      reject(error);
    }
  }

  /**
   * The whole body at once, when it has already ended and nothing reads it:
   * what is buffered, consumed, as one Buffer; null otherwise (it is still
   * arriving, failed, or a read waits). A small response usually arrives
   * whole in one socket read, and this reads it with no promise per chunk.
   */
  takeAll(): Buffer | null {
    if (!this.ended || this.error !== null || this.resolveWait !== null) return null;
    const n = this.buffered;
    let out: Buffer;
    if (this.tail - this.head === 1) {
      // A copy even of one chunk: it is a view of a socket read, which it
      // would keep alive whole.
      out = Buffer.allocUnsafe(n);
      out.set(this.chunks[this.head]!);
    } else {
      out = Buffer.concat(this.chunks.slice(this.head, this.tail), n);
    }
    for (let i = this.head; i < this.tail; i++) this.chunks[i] = EMPTY;
    this.head = 0;
    this.tail = 0;
    this.buffered = 0;
    if (n > 0) this.owner.bodyConsumed(n);
    return out;
  }

  /** The next chunk, or `done` at the end. */
  next(): Promise<IteratorResult<Buffer>> {
    if (this.head < this.tail) {
      const chunk = this.chunks[this.head]!;
      this.chunks[this.head++] = EMPTY;
      if (this.head === this.tail) {
        this.head = 0;
        this.tail = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.tail) {
        // Drop the read half now and then, so the array does not only grow.
        this.chunks = this.chunks.slice(this.head, this.tail);
        this.tail -= this.head;
        this.head = 0;
      }
      this.buffered -= chunk.length;
      this.owner.bodyConsumed(chunk.length);
      return Promise.resolve({ done: false, value: asBuffer(chunk) });
    }
    if (this.error !== null) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(DONE);
    if (this.resolveWait !== null) return Promise.reject(new Error('Concurrent reads of one response body'));
    const wait = new Promise(this.executor);
    if (this.readTimeout > 0) {
      this.timer = startDeadline(this.readTimeout, () => {
        const reject = this.rejectWait!;
        this.settled();
        const error = new ReadTimeoutError(`No response data for ${this.readTimeout} ms`);
        reject(error);
        this.owner.bodyTimedOut(error);
      });
    }
    return wait;
  }

  /**
   * The reader is done with the queue (a decoder over it stopped): a read
   * still waiting ends now, with no timer left behind. The body itself is
   * the owner's to end or fail.
   */
  return(): Promise<IteratorResult<Buffer>> {
    const resolve = this.resolveWait;
    if (resolve !== null) {
      this.settled();
      resolve(DONE);
    }
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer> {
    return this;
  }

  /** Forgets the waiting read, which the caller settles next. */
  private settled(): void {
    this.resolveWait = null;
    this.rejectWait = null;
    if (this.timer !== undefined) {
      cancelDeadline(this.timer);
      this.timer = undefined;
    }
  }
}
