/**
 * Header blocks decoded for the `--debug` trace, with what each one did to
 * the HPACK dynamic table (RFC 7541 §2.3.2, §4).
 *
 * Each direction of each connection has its own Decoder, fed the same
 * blocks in the same order as the connection's own, so its table stays in
 * step. The Decoder does not show its table, so the representations of a
 * block are walked here too (§6): which field was indexed, which literal
 * was added to the table, which size update came; a mirror of the table's
 * entry sizes then tells the entries, octets and evictions after each
 * block.
 */

import { decodeInteger, Decoder, STATIC_TABLE_LENGTH } from '../hpack/index.js';

/** How a field was represented in its block (RFC 7541 §6). */
export type Representation =
  /** §6.1: from the static or dynamic table. */
  | 'indexed'
  /** §6.2.1: a literal added to the dynamic table. */
  | 'incremental'
  /** §6.2.2: a literal not added. */
  | 'literal'
  /** §6.2.3: a literal that intermediaries must never index. */
  | 'never-indexed';

/** A decoded field and how it came. */
export interface TracedField {
  name: string;
  value: string;
  representation: Representation;
  /** The table index used (the field's for `indexed`, the name's for a literal); 0 for a literal name. */
  index: number;
}

/** A header block, decoded, and the dynamic table after it. */
export interface TracedBlock {
  fields: TracedField[];
  /** Entries added to the table by this block. */
  added: number;
  /** Entries evicted from the table by this block (by additions and size updates). */
  evicted: number;
  /** Dynamic table size updates in this block (§6.3), in order. */
  sizeUpdates: number[];
  /** Entries in the dynamic table after the block. */
  entries: number;
  /** Octets in the dynamic table after the block (§4.1: name + value + 32 per entry). */
  size: number;
  /** The table's maximum size after the block. */
  maxSize: number;
}

/** The default SETTINGS_HEADER_TABLE_SIZE, the tables' size at the start (RFC 9113 §6.5.2). */
const INITIAL_TABLE_SIZE = 4096;

/** One direction of one connection: decodes its blocks in order and keeps the table's account. */
export class HpackTrace {
  private readonly decoder: Decoder;
  /** Entry sizes, oldest first. */
  private readonly sizes: number[] = [];
  private size = 0;
  private maxSize = INITIAL_TABLE_SIZE;
  /** A block failed to decode: the table is out of step, later blocks cannot be read. */
  private broken: string | null = null;

  constructor() {
    // The connection enforces the limits; the trace decodes whatever it is
    // shown, so that it never fails where the connection did not.
    this.decoder = new Decoder({ maxHeaderListSize: 0xffffffff });
    this.decoder.setMaxTableSize(0xffffffff);
  }

  /** Decodes one complete block; throws (with a message) if it cannot. */
  decode(block: Uint8Array): TracedBlock {
    if (this.broken !== null) throw new Error(`not decoded: an earlier block failed (${this.broken})`);
    let fields;
    try {
      fields = this.decoder.decode(block);
    } catch (err) {
      this.broken = (err as Error).message;
      throw err;
    }
    const traced: TracedBlock = { fields: [], added: 0, evicted: 0, sizeUpdates: [], entries: 0, size: 0, maxSize: 0 };
    const cur = { pos: 0 };
    const end = block.length;
    let k = 0;
    while (cur.pos < end) {
      const first = block[cur.pos]!;
      if ((first & 0x80) !== 0) {
        const index = decodeInteger(block, cur, end, 7);
        const [name, value] = fields[k++]!;
        traced.fields.push({ name, value, representation: 'indexed', index });
        continue;
      }
      if ((first & 0xe0) === 0x20) {
        const size = decodeInteger(block, cur, end, 5);
        traced.sizeUpdates.push(size);
        this.maxSize = size;
        traced.evicted += this.evictTo(size);
        continue;
      }
      const incremental = (first & 0xc0) === 0x40;
      const representation: Representation = incremental ? 'incremental' : (first & 0xf0) === 0x10 ? 'never-indexed' : 'literal';
      const index = decodeInteger(block, cur, end, incremental ? 6 : 4);
      if (index === 0) skipString(block, cur, end);
      skipString(block, cur, end);
      const [name, value] = fields[k++]!;
      traced.fields.push({ name, value, representation, index });
      if (incremental) {
        // Decoded strings hold one code unit per octet (latin1).
        const entry = name.length + value.length + 32;
        traced.evicted += this.evictTo(this.maxSize - entry);
        if (entry <= this.maxSize) {
          this.sizes.push(entry);
          this.size += entry;
          traced.added++;
        }
      }
    }
    traced.entries = this.sizes.length;
    traced.size = this.size;
    traced.maxSize = this.maxSize;
    return traced;
  }

  /** Evicts the oldest entries until the table holds at most `limit` octets (§4.4); returns how many went. */
  private evictTo(limit: number): number {
    let n = 0;
    while (this.sizes.length > 0 && this.size > limit) {
      this.size -= this.sizes.shift()!;
      n++;
    }
    return n;
  }
}

/** Skips a string literal (§5.2): an H bit and a 7-bit prefixed length, then that many octets. */
function skipString(block: Uint8Array, cur: { pos: number }, end: number): void {
  const length = decodeInteger(block, cur, end, 7);
  cur.pos += length;
}

/** Where a table index points: `static 2` or `dynamic 1` (§2.3.3). */
export function describeIndex(index: number): string {
  return index <= STATIC_TABLE_LENGTH ? `static ${index}` : `dynamic ${index - STATIC_TABLE_LENGTH}`;
}
