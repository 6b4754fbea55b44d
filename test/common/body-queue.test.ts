import { describe, expect, it } from 'vitest';
import { BodyQueue } from '../../lib/common/body-queue.js';
import { ConnectionError } from '../../lib/common/errors.js';

const piece = (i: number): Uint8Array => new Uint8Array([i & 0xff, (i >> 8) & 0xff]);

/** The next chunk, or null at the end. */
async function take(q: BodyQueue): Promise<Buffer | null> {
  const r = await q.next();
  return r.done === true ? null : r.value;
}

describe('BodyQueue', () => {
  it('keeps order, counts and consumption across many pieces, reads interleaved with pushes', async () => {
    let consumed = 0;
    const q = new BodyQueue((n) => (consumed += n));
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
    expect(consumed).toBe(14_000);
    expect(q.buffered).toBe(0);
    expect(q.pieces).toBe(0);
    expect(q.done).toBe(true);
  });

  it('a waiting read gets the next push; end() after the last read resolves it with null', async () => {
    const q = new BodyQueue(() => {});
    const first = take(q);
    q.push(piece(7));
    const got = (await first)!;
    expect(Buffer.isBuffer(got)).toBe(true);
    expect(got[0]).toBe(7);
    const last = take(q);
    q.end();
    expect(await last).toBeNull();
    // A second read while one waits is a caller's error, not a lost chunk.
    const q2 = new BodyQueue(() => {});
    const waiting = take(q2);
    await expect(q2.next()).rejects.toThrow(/Concurrent reads/);
    q2.push(piece(9));
    expect((await waiting)![0]).toBe(9);
  });

  it('fail() delivers what was buffered first, or discards it', async () => {
    const error = new ConnectionError('HW_ERR_TEST', 'gone');
    const kept = new BodyQueue(() => {});
    kept.push(piece(1));
    kept.fail(error);
    expect((await take(kept))![0]).toBe(1);
    await expect(kept.next()).rejects.toBe(error);
    const dropped = new BodyQueue(() => {});
    dropped.push(piece(1));
    dropped.fail(error, true);
    expect(dropped.pieces).toBe(0);
    await expect(dropped.next()).rejects.toBe(error);
  });

  it('return() ends a waiting read at once, with no timeout reported later', async () => {
    const seen: Error[] = [];
    const q = new BodyQueue(() => {}, 30, (e) => seen.push(e));
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
    const seen: Error[] = [];
    const q = new BodyQueue(() => {}, 20, (e) => seen.push(e));
    await expect(q.next()).rejects.toMatchObject({ code: 'HW_ERR_READ_TIMEOUT' });
    expect(seen).toHaveLength(1);
  });
});
