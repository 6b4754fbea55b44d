/**
 * The HPACK encoder (RFC 7541 §3, §6).
 */

import { HPACKEncodingError } from '../common/errors.js';
import type { Latin1Buffer } from '../common/latin1.js';
import { DEFAULT_HEADER_TABLE_SIZE } from './decoder.js';
import { ENTRY_OVERHEAD } from './dynamic-table.js';
import { EncoderTable, POLICY_COOKIE, POLICY_INDEX, POLICY_NEVER, POLICY_VOLATILE } from './encoder-table.js';
import { huffmanEncodeInto } from './huffman-encode.js';
import { encodedIntegerLength, encodeInteger } from './primitives.js';

/**
 * A header field to encode: [name, value] or [name, value, sensitive]. Names
 * and values are byte strings: each UTF-16 code unit is one octet (0..255).
 * `sensitive: true` sends the field as never-indexed (RFC 7541 §6.2.3), so no
 * intermediary may add it to a table (§7.1.3).
 */
export type HeaderInput = readonly [name: string, value: string] | readonly [name: string, value: string, sensitive: boolean | undefined];

/** Options of {@link Encoder}. */
export interface EncoderOptions {
  /**
   * The dynamic table size to use at the start: the peer's
   * SETTINGS_HEADER_TABLE_SIZE, 4096 until it says otherwise.
   */
  maxTableSize?: number;
  /** Huffman-code strings where that is shorter (RFC 7541 §5.2). Default true. */
  huffman?: boolean;
  /**
   * Names always sent never-indexed. Default: `authorization` and
   * `proxy-authorization`. Short `cookie` values (under 20 octets, easy to
   * guess by brute force, RFC 7541 §7.1.3) are never indexed either.
   */
  neverIndex?: Iterable<string>;
}

/** Cookie values shorter than this are never indexed (RFC 7541 §7.1.3). */
const SHORT_COOKIE = 20;

/**
 * Header names whose values are rarely seen twice on a connection, so a table
 * entry would only push out a useful one. They go as literals without
 * indexing (the name still by index). `date`, though it changes, is kept
 * indexed: responses in the same second repeat it, and leaving it out costs
 * more than the entries it evicts (measured on the hpack-test-case stories).
 */
const VOLATILE_NAMES: ReadonlySet<string> = new Set([':path', 'content-length', 'content-range']);

/** Blocks are written into slabs of this size and handed out as views. */
const SLAB_SIZE = 16384;
/** A slab grown past this for one huge list is not kept for the next. */
const MAX_RETAINED_SLAB = 1 << 20;

const DEFAULT_NEVER_INDEX = ['authorization', 'proxy-authorization'];

/** A code unit above 0xff: the string is not a byte string. */
const NOT_BYTES = /[^\0-\xff]/;

/**
 * Encodes header lists into header blocks. One instance per connection
 * direction: the dynamic table carries over from block to block, so blocks
 * must be sent in the order they were encoded.
 *
 * Strategy: exact matches in the static or dynamic table are sent as an
 * index; everything else is a literal naming the field by index where it
 * can, added to the table unless it is sensitive, volatile, or bigger than
 * three quarters of the table. Huffman coding is used only where it is
 * strictly shorter.
 *
 * The returned blocks are views into a shared slab (as Node's own small
 * Buffers are views into a pool): the encoder never writes to a block again
 * once it has returned it.
 */
export class Encoder {
  private readonly table: EncoderTable;
  private readonly huffman: boolean;
  private out: Latin1Buffer = Buffer.allocUnsafeSlow(SLAB_SIZE) as Latin1Buffer;
  /** Where the block being encoded starts in `out`. */
  private start = 0;
  private pos = 0;
  // Pending size updates (RFC 7541 §4.2): the smallest size set since the
  // last block, and the latest.
  private pendingMin = -1;
  private pendingSize = -1;

  constructor(options: EncoderOptions = {}) {
    const maxTableSize = options.maxTableSize ?? DEFAULT_HEADER_TABLE_SIZE;
    checkSize(maxTableSize);
    this.table = new EncoderTable(maxTableSize, new Set(options.neverIndex ?? DEFAULT_NEVER_INDEX), VOLATILE_NAMES);
    this.huffman = options.huffman ?? true;
  }

  /** The dynamic table's current maximum size. */
  get tableSize(): number {
    return this.table.maxSize;
  }

  /**
   * Sets the dynamic table size, typically to the peer's new
   * SETTINGS_HEADER_TABLE_SIZE. The next block starts with the size
   * update(s) that tell the decoder, including for a shrink; if the size
   * went down and back up since the last block, the smallest value is
   * signalled first (RFC 7541 §4.2).
   */
  setMaxTableSize(n: number): void {
    checkSize(n);
    this.pendingMin = this.pendingMin < 0 ? n : Math.min(this.pendingMin, n);
    this.pendingSize = n;
  }

  /**
   * Encodes one header list into a header block.
   *
   * @throws TypeError if a name or value is not a string.
   * @throws HPACKEncodingError `HW_ERR_HPACK_NOT_BYTES` if a name or value
   *   holds a code unit above 0xff. On any error the encoder is left as it
   *   was before the call: nothing was added to the table.
   */
  encode(headers: Iterable<HeaderInput>): Buffer {
    const table = this.table;
    table.beginBlock();
    const pendingMin = this.pendingMin;
    const pendingSize = this.pendingSize;
    this.start = this.pos;
    if (this.out.length - this.pos < 256) this.newSlab(256);
    try {
      if (pendingSize >= 0) this.writeSizeUpdates(pendingMin, pendingSize);
      if (Array.isArray(headers)) {
        const list = headers as readonly HeaderInput[];
        for (let i = 0; i < list.length; i++) this.encodeField(list[i]!);
      } else {
        for (const field of headers) this.encodeField(field);
      }
    } catch (err) {
      table.rollback();
      this.pendingMin = pendingMin;
      this.pendingSize = pendingSize;
      this.pos = this.start;
      throw err;
    }
    const block = this.out.subarray(this.start, this.pos);
    // Do not hold on to the space one huge header list needed.
    if (this.out.length > MAX_RETAINED_SLAB) this.newSlab(0);
    return block;
  }

  private writeSizeUpdates(min: number, size: number): void {
    this.reserve(12);
    // Signal the smallest size first if the final one is larger, so the
    // decoder evicts what the encoder evicted (§4.2).
    if (min < size) {
      this.pos = encodeInteger(this.out, this.pos, min, 5, 0x20);
      this.table.setMaxSize(min);
    }
    this.pos = encodeInteger(this.out, this.pos, size, 5, 0x20);
    this.table.setMaxSize(size);
    this.pendingMin = -1;
    this.pendingSize = -1;
  }

  private encodeField(field: HeaderInput): void {
    const name = field[0];
    const value = field[1];
    if (typeof name !== 'string' || typeof value !== 'string') {
      throw new TypeError('Header names and values must be strings');
    }
    const table = this.table;
    const state = table.lookup(name);
    const policy = state.policy;
    let sensitive = field.length > 2 && field[2] === true;
    if (policy !== POLICY_INDEX && !sensitive) {
      sensitive = policy === POLICY_NEVER || (policy === POLICY_COOKIE && value.length < SHORT_COOKIE);
    }

    if (!sensitive) {
      // Exact match: one index (§6.1).
      let index = table.staticPairIndex(state, value);
      if (index === 0) index = table.pairIndex(state, value);
      if (index !== 0) {
        this.reserve(6);
        if (index < 0x7f) this.out[this.pos++] = 0x80 | index;
        else this.pos = encodeInteger(this.out, this.pos, index, 7, 0x80);
        return;
      }
    }
    const nameIndex = table.nameIndex(state);

    let flags: number;
    let prefix: number;
    let indexing = false;
    if (sensitive) {
      flags = 0x10; // never indexed (§6.2.3)
      prefix = 4;
    } else if (policy === POLICY_VOLATILE || (name.length + value.length + ENTRY_OVERHEAD) * 4 > table.maxSize * 3) {
      flags = 0x00; // without indexing (§6.2.2)
      prefix = 4;
    } else {
      flags = 0x40; // with incremental indexing (§6.2.1)
      prefix = 6;
      indexing = true;
    }

    // Room for the prefix, both lengths and the worst case of trying
    // Huffman (30-bit codes: 3.75 octets per octet).
    this.reserve(4 * (name.length + value.length) + 24);
    this.pos = encodeInteger(this.out, this.pos, nameIndex, prefix, flags);
    if (nameIndex === 0) this.writeString(name);
    this.writeString(value);
    if (indexing) table.add(state, value);
  }

  /**
   * Writes a string literal (§5.2), Huffman-coded only if strictly shorter.
   * The caller has reserved 4 octets per code unit plus 12.
   */
  private writeString(str: string): void {
    const length = str.length;
    const out = this.out;
    let pos = this.pos;
    // The shortest code is 5 bits, so one or two octets never get shorter:
    // only longer strings are worth trying. After a Huffman attempt the
    // octets are known to be bytes (it fails on any unit above 0xff), so the
    // raw form need not check them again.
    const tried = this.huffman && length > 2;
    if (tried) {
      // One pass: encode behind a length prefix sized for the raw length,
      // and fall back to the raw form if the code came out no shorter. The
      // Huffman form is used only when shorter, so its prefix is never
      // longer; in the rare case it is shorter, the code moves up.
      const room = length < 0x7f ? 1 : encodedIntegerLength(length, 7);
      const start = pos + room;
      const end = huffmanEncodeInto(str, out, start);
      if (end < 0) throw notBytes();
      const huffLength = end - start;
      if (huffLength < length) {
        if (huffLength < 0x7f) {
          out[pos] = 0x80 | huffLength;
          pos++;
        } else {
          pos = encodeInteger(out, pos, huffLength, 7, 0x80);
        }
        if (pos < start) out.copyWithin(pos, start, end);
        this.pos = pos + huffLength;
        return;
      }
    }
    if (length < 0x7f) out[pos++] = length;
    else pos = encodeInteger(out, pos, length, 7, 0x00);
    if (length < 32) {
      let units = 0;
      for (let i = 0; i < length; i++) {
        const c = str.charCodeAt(i);
        units |= c;
        out[pos + i] = c;
      }
      if (!tried && units > 0xff) throw notBytes();
    } else {
      if (!tried && NOT_BYTES.test(str)) throw notBytes();
      out.latin1Write(str, pos, length);
    }
    this.pos = pos + length;
  }

  /** Makes room for `n` more octets after `pos`. */
  private reserve(n: number): void {
    if (this.pos + n > this.out.length) this.newSlab(n);
  }

  /** Moves the block so far to a fresh slab with `n` octets free after it. */
  private newSlab(n: number): void {
    const used = this.pos - this.start;
    const next = Buffer.allocUnsafeSlow(Math.max(SLAB_SIZE, 2 * (used + n))) as Latin1Buffer;
    this.out.copy(next, 0, this.start, this.pos);
    this.out = next;
    this.start = 0;
    this.pos = used;
  }
}

function notBytes(): HPACKEncodingError {
  return new HPACKEncodingError(
    'Header names and values must be byte strings (code units 0..255); encode text as UTF-8 and pass it as latin1',
    'HW_ERR_HPACK_NOT_BYTES',
  );
}

function checkSize(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`maxTableSize must be an integer from 0 to 2^32-1, got ${n}`);
  }
}
