/**
 * The streams of a connection that have closed, remembered so that a late
 * frame on one is told apart from a frame on a stream never opened (RFC
 * 9113 §5.1), and so that how it closed decides what that frame gets.
 */

/**
 * How a remembered stream closed: normally (END_STREAM both ways, or reset
 * by the peer), reset by us (late frames are dropped quietly), or stopped by
 * the peer after its complete response (§8.1: the rest of the request body
 * is not wanted, and that is not an error).
 */
export type ClosedHow = 'ended' | 'reset-by-us' | 'request-stopped';

const HOWS: readonly ClosedHow[] = ['ended', 'reset-by-us', 'request-stopped'];

/** Slots per parity of stream id: client-opened (odd) and pushed (even). */
const SLOTS = 1024;

/**
 * A direct-mapped table rather than a map: stream `n` has one slot,
 * `(n >> 1) % 1024` among those of its parity, so remembering and looking
 * up cost an index and no hashing (this runs for every stream). A stream
 * is forgotten once a stream 2048 ids later closes in its slot; a late
 * frame on a forgotten stream is then dropped, as on one reset by us.
 */
export class ClosedStreams {
  private readonly ids = new Int32Array(2 * SLOTS);
  private readonly hows = new Uint8Array(2 * SLOTS);

  /** Remembers that stream `id` (never 0) closed, and how. */
  set(id: number, how: ClosedHow): void {
    const slot = slotOf(id);
    this.ids[slot] = id;
    this.hows[slot] = how === 'ended' ? 0 : how === 'reset-by-us' ? 1 : 2;
  }

  /** How stream `id` closed, if it is remembered. */
  get(id: number): ClosedHow | undefined {
    const slot = slotOf(id);
    return this.ids[slot] === id ? HOWS[this.hows[slot]!] : undefined;
  }

  /** Whether stream `id` is remembered as closed. */
  has(id: number): boolean {
    return this.ids[slotOf(id)] === id;
  }
}

function slotOf(id: number): number {
  return ((id & 1) === 1 ? 0 : SLOTS) + ((id >>> 1) & (SLOTS - 1));
}
