import { describe, expect, it } from 'vitest';
import { BodyQueue, type BodyOwner } from '../../lib/common/body-queue.js';
import { ConnectionError, type ReadTimeoutError } from '../../lib/common/errors.js';

/** An owner that counts what was consumed and keeps the timeouts it hears of. */
function owner(): BodyOwner & { consumed: number; timeouts: ReadTimeoutError[] } {
  return {
    consumed: 0,
    timeouts: [],
    bodyConsumed(n) {
      this.consumed += n;
    },
    bodyTimedOut(error) {
      this.timeouts.push(error);
    },
  };
}

const piece = (i: number): Uint8Array => new Uint8Array([i & 0xff, (i >> 8) & 0xff]);

/** The next chunk, or null at the end. */
async function take(q: BodyQueue): Promise<Buffer | null> {
  const r = await q.next();
  return r.done === true ? null : r.value;
}

describe('BodyQueue', () => {
  it('keeps order, counts and consumption across many pieces, reads interleaved with pushes', async () => {
    const o = owner();
    const q = new BodyQueue(o);
    for (let i = 0; i < 5000; i++) q.push(piece(i));
    expect(q.pieces).toBe(5000);
    expect(q.buffered).toBe(10_000);
    const got: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const c = (await take(q))!;
      got.push(c[0]! | (c[1]! << 8));
    }
    for (let i = 5000; i < 7000; i++) q.push(piece(i));
    q.end();
    expect(q.pieces).toBe(4000);
    for (let c = await take(q); c !== null; c = await take(q)) got.push(c[0]! | (c[1]! << 8));
    expect(got).toEqual(Array.from({ length: 7000 }, (_, i) => i));
    expect(o.consumed).toBe(14_000);
    expect(q.buffered).toBe(0);
    expect(q.pieces).toBe(0);
    expect(q.done).toBe(true);
  });

  it('a waiting read gets the next push; end() after the last read resolves it with null', async () => {
    const q = new BodyQueue(owner());
    const first = take(q);
    q.push(piece(7));
    const got = (await first)!;
    expect(Buffer.isBuffer(got)).toBe(true);
    expect(got[0]).toBe(7);
    const last = take(q);
    q.end();
    expect(await last).toBeNull();
    // A second read while one waits is a caller's error, not a lost chunk.
    const q2 = new BodyQueue(owner());
    const waiting = take(q2);
    await expect(q2.next()).rejects.toThrow(/Concurrent reads/);
    q2.push(piece(9));
    expect((await waiting)![0]).toBe(9);
  });

  it('fail() delivers what was buffered first, or discards it', async () => {
    const error = new ConnectionError('HW_ERR_TEST', 'gone');
    const kept = new BodyQueue(owner());
    kept.push(piece(1));
    kept.fail(error);
    expect((await take(kept))![0]).toBe(1);
    await expect(kept.next()).rejects.toBe(error);
    const dropped = new BodyQueue(owner());
    dropped.push(piece(1));
    dropped.fail(error, true);
    expect(dropped.pieces).toBe(0);
    await expect(dropped.next()).rejects.toBe(error);
  });

  it('return() ends a waiting read at once, with no timeout reported later', async () => {
    const o = owner();
    const seen = o.timeouts;
    const q = new BodyQueue(o, 30);
    const waiting = q.next();
    expect(await q.return()).toEqual({ done: true, value: undefined });
    expect(await waiting).toEqual({ done: true, value: undefined });
    await new Promise((r) => setTimeout(r, 60));
    expect(seen).toHaveLength(0);
    // The body is still the owner's: what is pushed later can be read.
    q.push(piece(5));
    expect((await take(q))![0]).toBe(5);
  });

  it('a read that waits longer than readTimeout rejects with TimeoutError and reports it', async () => {
    const o = owner();
    const seen = o.timeouts;
    const q = new BodyQueue(o, 20);
    await expect(q.next()).rejects.toMatchObject({ code: 'HW_ERR_READ_TIMEOUT' });
    expect(seen).toHaveLength(1);
  });

  it('takeAll() hands over a body that has ended as one copy, consumed, and nothing otherwise', async () => {
    const o = owner();
    const q = new BodyQueue(o);
    const socketRead = Buffer.from('headers+body+more');
    q.push(socketRead.subarray(8, 12));
    // Still arriving: nothing taken, nothing consumed.
    expect(q.takeAll()).toBeNull();
    expect(o.consumed).toBe(0);
    q.push(new Uint8Array([0x21]));
    q.end();
    const all = q.takeAll()!;
    expect(all.toString()).toBe('body!');
    expect(o.consumed).toBe(5);
    expect(q.buffered).toBe(0);
    expect(q.done).toBe(true);
    // One chunk is copied too, so it does not hold the whole read alive.
    const one = new BodyQueue(owner());
    one.push(socketRead.subarray(0, 7));
    one.end();
    const taken = one.takeAll()!;
    expect(taken.toString()).toBe('headers');
    expect(taken.buffer === socketRead.buffer && taken.byteOffset === socketRead.byteOffset).toBe(false);
    // Afterwards the body reads as ended.
    expect(await one.next()).toEqual({ done: true, value: undefined });
  });

  it('takeAll() leaves a failed body, and one a reader waits on, to next()', async () => {
    const error = new ConnectionError('HW_ERR_TEST', 'gone');
    const failed = new BodyQueue(owner());
    failed.push(piece(1));
    failed.end();
    // Failed before all was read (a reset after END_STREAM, say): the
    // reader gets what was buffered, then the error, from next().
    failed.fail(error);
    expect(failed.takeAll()).toBeNull();
    expect((await take(failed))![0]).toBe(1);
    await expect(failed.next()).rejects.toBe(error);
    const broken = new BodyQueue(owner());
    broken.push(piece(1));
    broken.fail(error);
    expect(broken.takeAll()).toBeNull();
    expect((await take(broken))![0]).toBe(1);
    await expect(broken.next()).rejects.toBe(error);
    const waited = new BodyQueue(owner());
    const reading = take(waited);
    expect(waited.takeAll()).toBeNull();
    waited.end();
    expect(await reading).toBeNull();
  });
});
