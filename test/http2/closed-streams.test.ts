/** The closed streams a connection remembers (RFC 9113 §5.1). */

import { describe, expect, it } from 'vitest';
import { ClosedStreams } from '../../lib/http2/closed-streams.js';

describe('ClosedStreams', () => {
  it('remembers how each stream closed, client and pushed streams apart', () => {
    const closed = new ClosedStreams();
    expect(closed.has(1)).toBe(false);
    expect(closed.get(1)).toBeUndefined();
    closed.set(1, 'ended');
    closed.set(3, 'reset-by-us');
    closed.set(5, 'request-stopped');
    closed.set(2, 'reset-by-us');
    expect(closed.get(1)).toBe('ended');
    expect(closed.get(3)).toBe('reset-by-us');
    expect(closed.get(5)).toBe('request-stopped');
    expect(closed.get(2)).toBe('reset-by-us');
    // Even and odd ids share no slot: 2 is not 1 or 3.
    expect(closed.has(4)).toBe(false);
    // A later answer for the same stream replaces the first.
    closed.set(1, 'reset-by-us');
    expect(closed.get(1)).toBe('reset-by-us');
  });

  it('keeps the last 1024 streams of each parity, whatever order they closed in', () => {
    const closed = new ClosedStreams();
    const ids = Array.from({ length: 1024 }, (_, i) => 2 * i + 1).reverse();
    for (const id of ids) closed.set(id, 'ended');
    for (const id of ids) expect(closed.has(id)).toBe(true);
    // The stream 2048 ids later takes the slot of the first: that one is forgotten.
    closed.set(1 + 2048, 'ended');
    expect(closed.has(1)).toBe(false);
    expect(closed.has(2049)).toBe(true);
    expect(closed.has(3)).toBe(true);
    // Ids near 2^31 stay apart from small ones.
    closed.set(2 ** 31 - 1, 'ended');
    expect(closed.get(2 ** 31 - 1)).toBe('ended');
    expect(closed.has(2047)).toBe(false);
  });
});
