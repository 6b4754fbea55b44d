/**
 * The HPACK decoder (RFC 7541 §3, §6).
 */

import { HPACKDecodingError, HeaderListSizeError } from '../common/errors.js';
import { latin1String, type Latin1Buffer } from '../common/latin1.js';
import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { decodeInteger, stringInto, truncated, type Cursor } from './primitives.js';
import { STATIC_NAMES, STATIC_SIZES, STATIC_TABLE_LENGTH, STATIC_VALUES } from './static-table.js';

/** The protocol's initial SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2). */
export const DEFAULT_HEADER_TABLE_SIZE = 4096;
/** Default bound on a decoded header list: 64 KiB, as RFC 7541 §4.1 counts it. */
export const DEFAULT_MAX_HEADER_LIST_SIZE = 65536;

/** Options of {@link Decoder}. */
export interface DecoderOptions {
  /**
   * The SETTINGS_HEADER_TABLE_SIZE in force at the start: the table's
   * initial maximum size and the limit on size updates. Default 4096.
   */
  maxTableSize?: number;
  /**
   * The most a decoded header list may add up to, counting each field as
   * name octets + value octets + 32 (RFC 7541 §4.1). Default 65536.
   */
  maxHeaderListSize?: number;
}

/** A decoded header field: [name, value], each octet one latin1 code unit. */
export type HeaderField = [name: string, value: string];

/**
 * Decodes header blocks. One instance per connection direction: the dynamic
 * table carries over from block to block, so blocks must be decoded in the
 * order they were sent.
 *
 * Failures are {@link HPACKDecodingError}s, connection errors with
 * COMPRESSION_ERROR, except a list over `maxHeaderListSize`: that is a
 * {@link HeaderListSizeError} on the stream alone, raised after the whole
 * block has been read so the table stays in step.
 */
export class Decoder {
  private readonly table: DynamicTable;
  /** The acknowledged SETTINGS_HEADER_TABLE_SIZE: size updates may not exceed it. */
  private limit: number;
  /**
   * Set when our limit dropped below the table's current size: the next
   * block must then begin with a size update (RFC 7541 §4.2).
   */
  private updateRequired = false;
  private readonly maxHeaderListSize: number;

  constructor(options: DecoderOptions = {}) {
    const maxTableSize = options.maxTableSize ?? DEFAULT_HEADER_TABLE_SIZE;
    checkSize(maxTableSize, 'maxTableSize');
    const maxHeaderListSize = options.maxHeaderListSize ?? DEFAULT_MAX_HEADER_LIST_SIZE;
    checkSize(maxHeaderListSize, 'maxHeaderListSize');
    this.table = new DynamicTable(maxTableSize);
    this.limit = maxTableSize;
    this.maxHeaderListSize = maxHeaderListSize;
  }

  /** The dynamic table's current maximum size (as last set by a size update). */
  get tableSize(): number {
    return this.table.maxSize;
  }

  /**
   * Sets the SETTINGS_HEADER_TABLE_SIZE we have sent and the peer has
   * acknowledged. Size updates above it are errors from now on; if it is
   * below the table's current size, the next block must start with an update
   * that brings the table down to it (RFC 7541 §4.2).
   */
  setMaxTableSize(n: number): void {
    checkSize(n, 'maxTableSize');
    this.limit = n;
    if (this.table.maxSize > n) this.updateRequired = true;
  }

  /**
   * Decodes one complete header block (the concatenated fragments of a
   * HEADERS or PUSH_PROMISE frame and its CONTINUATIONs). The list and each
   * [name, value] in it are new arrays, the caller's to keep or change.
   */
  decode(block: Uint8Array): HeaderField[] {
    const flat = this.decodeFlat(block);
    const fields = new Array<HeaderField>(flat.length >> 1);
    for (let i = 0; i < fields.length; i++) fields[i] = [flat[2 * i]!, flat[2 * i + 1]!];
    return fields;
  }

  /**
   * {@link decode}, as one flat list: `[name0, value0, name1, value1, …]`.
   * What the HTTP/2 engine reads: no array per field (measured, about 3%
   * of the decode pass over the hpack-test-case stories).
   */
  decodeFlat(block: Uint8Array): string[] {
    // Read as it is, a Buffer or not: only its octets are read, and making a
    // Buffer view of it (or checking whether it is one) cost ~5 ns a block.
    const buf = block;
    const end = buf.length;
    if (this.updateRequired && (end === 0 || (buf[0]! & 0xe0) !== 0x20)) {
      throw new HPACKDecodingError(
        'Header block does not start with the dynamic table size update our smaller SETTINGS_HEADER_TABLE_SIZE requires',
        'HW_ERR_HPACK_TABLE_SIZE',
      );
    }
    let octets = sharedOctets;
    if (end > sharedCapacity) {
      if (end <= SHARED_BLOCK_MAX) {
        growShared(end);
        octets = sharedOctets;
      } else {
        // Far larger than header blocks usually are: scratch space for this
        // call alone, so a one-off does not stay allocated.
        octets = Buffer.allocUnsafe(octetsFor(end)) as Latin1Buffer;
      }
    }
    // The try is here, not around the loop in readBlock(), where it slows
    // every field down (the loop's variables must then survive a throw).
    try {
      return this.readBlock(buf, end, octets);
    } catch (err) {
      // The table must hold what it would had every literal been made a
      // string as it was read: a caller may go on with this decoder.
      const p = progress[PENDING_END]!;
      if (p > 0) completeLiterals(null, this.table, octets, progress[TEXT_START]!, p, -1);
      throw err;
    }
  }

  /**
   * Reads a block, with `octets` as scratch space for its literals.
   *
   * Literals are not made into strings one by one. Their octets go one after
   * the other into `octets`, and at the end of the block one latin1 string
   * is made of them all and each literal is cut out of it, which costs about
   * half as much (bench/hpack-floor.ts). Until then a literal's field and table entry hold
   * placeholders, completed from the `pending` list of where each literal
   * ends. A reference to an entry the block itself added, before its strings
   * exist, makes the strings of the block so far first.
   */
  private readBlock(buf: Uint8Array, end: number, octets: Latin1Buffer): string[] {
    const table = this.table;
    const headers: string[] = [];
    let listSize = 0;
    const maxListSize = this.maxHeaderListSize;
    let overLimit = false;
    // Size updates are allowed only before the first field (RFC 7541 §4.2).
    let fieldsSeen = false;
    // Literal octets written to `octets`; those from `textStart` on are not
    // strings yet, and their literals are described by `pending[0:p)`.
    let at = 0;
    let textStart = 0;
    let p = 0;
    progress[PENDING_END] = 0;
    progress[TEXT_START] = 0;
    // Entries added since `textStart`, and how many of them (the newest) are
    // still in the table: those hold placeholders.
    let added = 0;
    let placeholders = 0;
    let pos = 0;
    while (pos < end) {
      const b = buf[pos]!;
      let name: string;
      if (b >= 0x80) {
        // Indexed header field (§6.1).
        let index = b & 0x7f;
        if (index < 0x7f) {
          pos++;
        } else if (pos + 1 < end && buf[pos + 1]! < 0x80) {
          // Two octets (§5.1), as every index past 127 in a table of a few
          // hundred entries is: read here, without a call.
          index += buf[pos + 1]!;
          pos += 2;
        } else {
          cur.pos = pos;
          index = decodeInteger(buf, cur, end, 7);
          pos = cur.pos;
        }
        let value: string;
        let size: number;
        if (index === 0) throw new HPACKDecodingError('Indexed header field with index 0', 'HW_ERR_HPACK_INDEX');
        if (index <= STATIC_TABLE_LENGTH) {
          name = STATIC_NAMES[index - 1]!;
          value = STATIC_VALUES[index - 1]!;
          size = STATIC_SIZES[index - 1]!;
        } else {
          const i = index - STATIC_TABLE_LENGTH - 1;
          if (i >= table.length) throw badIndex(index, table.length);
          if (i < placeholders) {
            completeLiterals(headers, table, octets, textStart, p, added);
            textStart = at;
            p = added = placeholders = 0;
          }
          const slot = table.slotOf(i);
          name = table.names[slot]!;
          value = table.values[slot]!;
          size = table.sizes[slot]!;
        }
        fieldsSeen = true;
        // Checked per field so a block of many references to one entry (an
        // "HPACK bomb", CVE-2016-6581) never builds its list; the rest of the
        // block is still read so the table stays in step with the encoder's.
        listSize += size;
        if (listSize > maxListSize) overLimit = true;
        else headers.push(name, value);
        continue;
      }
      if (b < 0x40 && b >= 0x20) {
        // Dynamic table size update (§6.3).
        if (fieldsSeen) {
          throw new HPACKDecodingError('Dynamic table size update after the first header field', 'HW_ERR_HPACK_TABLE_SIZE');
        }
        cur.pos = pos;
        const size = decodeInteger(buf, cur, end, 5);
        pos = cur.pos;
        if (size > this.limit) {
          throw new HPACKDecodingError(
            `Dynamic table size update to ${size} exceeds SETTINGS_HEADER_TABLE_SIZE ${this.limit}`,
            'HW_ERR_HPACK_TABLE_SIZE',
          );
        }
        // No field has come yet, so no entry holds a placeholder.
        table.setMaxSize(size);
        this.updateRequired = false;
        continue;
      }

      // Literal with incremental indexing (§6.2.1, 6-bit prefix), or without
      // indexing / never indexed (§6.2.2, §6.2.3, 4-bit prefix).
      const indexing = b >= 0x40;
      const mask = indexing ? 0x3f : 0x0f;
      let index = b & mask;
      if (index < mask) {
        pos++;
      } else if (pos + 1 < end && buf[pos + 1]! < 0x80) {
        // Two octets, as a name index into the dynamic table is (§5.1).
        index += buf[pos + 1]!;
        pos += 2;
      } else {
        cur.pos = pos;
        index = decodeInteger(buf, cur, end, indexing ? 6 : 4);
        pos = cur.pos;
      }
      let flags = 0;
      let size = ENTRY_OVERHEAD;
      if (index === 0) {
        flags = NAME_LITERAL;
        name = '';
      } else if (index <= STATIC_TABLE_LENGTH) {
        name = STATIC_NAMES[index - 1]!;
        size += name.length;
      } else {
        const i = index - STATIC_TABLE_LENGTH - 1;
        if (i >= table.length) throw badIndex(index, table.length);
        if (i < placeholders) {
          completeLiterals(headers, table, octets, textStart, p, added);
          textStart = at;
          p = added = placeholders = 0;
        }
        name = table.nameAt(i);
        size += name.length;
      }
      // The value's string, and the name's before it if the name is a literal
      // too. Each is bounded by the block that carries it (itself capped by
      // the connection layer), and its octets fit the scratch space, which is
      // sized for the block.
      // A string literal (§5.2), read here rather than by a call: the
      // length prefix and the cursor cost as much as a short string.
      for (let k = p + 1 - (flags & NAME_LITERAL); k <= p + 1; k++) {
        if (pos >= end) throw truncated();
        const first = buf[pos]!;
        let length = first & 0x7f;
        if (length < 0x7f) {
          pos++;
        } else {
          cur.pos = pos;
          length = decodeInteger(buf, cur, end, 7);
          pos = cur.pos;
        }
        if (length > end - pos) throw truncated();
        const stop = pos + length;
        const start = at;
        at = stringInto(buf, pos, stop, first >= 0x80, octets, at);
        pos = stop;
        size += at - start;
        pending[k + 1] = at;
      }
      fieldsSeen = true;
      listSize += size;
      // The field goes in the list with the name it has now; the strings
      // still to make are set when the block's literals become strings.
      let slot = -1;
      if (listSize > maxListSize) {
        overLimit = true;
      } else {
        slot = headers.length;
        headers.push(name, '');
      }
      // An entry is added even if its field is over maxHeaderListSize, so the
      // table stays in step; the list-size check fails the stream after the
      // block, not the connection.
      if (indexing) {
        if (table.add(name, '', size)) {
          flags |= ADDED;
          added++;
        }
        // An entry too large for the table empties it (§4.4); otherwise the
        // newest `added` entries are this block's.
        placeholders = added < table.length ? added : table.length;
      }
      pending[p] = ((slot + 1) << FLAG_BITS) | flags;
      p += PENDING_WORDS;
      progress[PENDING_END] = p;
      if (p === pending.length || at - textStart >= TEXT_MAX / 2) {
        // A block of more literals than the list holds, or of more literal
        // octets than one string should hold, is made strings in runs.
        completeLiterals(headers, table, octets, textStart, p, added);
        textStart = at;
        p = added = placeholders = 0;
      }
    }
    completeLiterals(headers, table, octets, textStart, p, added);

    if (this.updateRequired) {
      throw new HPACKDecodingError('Required dynamic table size update missing', 'HW_ERR_HPACK_TABLE_SIZE');
    }
    if (overLimit) {
      throw new HeaderListSizeError(`Decoded header list exceeds maxHeaderListSize (${maxListSize} octets)`);
    }
    return headers;
  }
}

// --- literals ------------------------------------------------------------------

// What is still to be done for a literal, PENDING_WORDS words in the
// pending list: its flags and (where its name is in the flat list + 1, or 0
// if it is not in the list), where its name ends in the literal octets (if
// NAME_LITERAL), and where its value ends. Each literal begins where the one
// before it ended.
const PENDING_WORDS = 3;
const FLAG_BITS = 2;
/** The name is a literal too, not an index. */
const NAME_LITERAL = 1;
/** The field was added to the dynamic table. */
const ADDED = 2;

/**
 * How far the block being read has got, for decode() to complete the table
 * if reading fails: the end of the pending list and where its literals'
 * octets begin. {@link completeLiterals} empties the list.
 */
const progress = new Int32Array(2);
const PENDING_END = 0;
const TEXT_START = 1;

/**
 * Makes one string of the octets of the `p / PENDING_WORDS` literals in the
 * pending list, which begin at `textStart`, and sets each literal's strings:
 * in its field in `headers` (unless null), and in the table entry it added,
 * if that is still there. `added` is how many entries they added, or -1 to
 * count them here. The list is empty afterwards.
 */
function completeLiterals(
  headers: string[] | null,
  table: DynamicTable,
  octets: Latin1Buffer,
  textStart: number,
  p: number,
  added: number,
): void {
  if (p === 0) return;
  const textEnd = pending[p - 1]!;
  progress[PENDING_END] = 0;
  progress[TEXT_START] = textEnd;
  if (added < 0) {
    added = 0;
    for (let k = 0; k < p; k += PENDING_WORDS) if ((pending[k]! & ADDED) !== 0) added++;
  }
  // The block's entries are the newest `added`, of which the newest
  // `placeholders` are still there (evictions take the oldest first).
  const placeholders = added < table.length ? added : table.length;
  const length = textEnd - textStart;
  const text = length <= TEXT_MAX ? latin1String(octets, textStart, length) : null;
  // Where the next literal begins: right after the one before.
  let from = 0;
  // The entry the next literal with ADDED made: 0 is the newest.
  let entry = added;
  for (let k = 0; k < p; k += PENDING_WORDS) {
    const word = pending[k]!;
    let name: string | undefined;
    if ((word & NAME_LITERAL) !== 0) {
      const stop = pending[k + 1]! - textStart;
      name = text !== null ? text.substring(from, stop) : latin1String(octets, textStart + from, stop - from);
      from = stop;
    }
    const stop = pending[k + 2]! - textStart;
    const value = text !== null ? text.substring(from, stop) : latin1String(octets, textStart + from, stop - from);
    from = stop;
    const slot = (word >>> FLAG_BITS) - 1;
    if (slot >= 0 && headers !== null) {
      if (name !== undefined) headers[slot] = name;
      headers[slot + 1] = value;
    }
    if ((word & ADDED) !== 0 && --entry < placeholders) table.complete(entry, name, value);
  }
}

/**
 * The longest run of literal octets made into one string. A literal of 13
 * octets or more cut out of it is a view that keeps the whole string alive
 * (V8's sliced strings), and a table entry can keep its view for as long as
 * the peer likes: with the default 4096-octet table, at most 91 entries
 * (4096 / (32 + 13)) pin at most this much each. A block's literals are made
 * strings in runs that end once they reach half of it, so only a run whose
 * last literal is longer than that makes a string per literal.
 */
const TEXT_MAX = 1024;

/** The cursor handed to the integer reader. */
const cur: Cursor = { pos: 0 };

// --- scratch space -------------------------------------------------------------

// Shared by every decoder: a decode never calls out to other code, so only
// one block at a time uses it, and it holds nothing between calls.

/**
 * Literal octets a block of `n` octets can decode to: Huffman codes are at
 * least 5 bits (RFC 7541 Appendix B), so 8/5 of it, plus the octet the
 * Huffman decoder may overwrite past a string.
 */
function octetsFor(n: number): number {
  return (((n * 8) / 5) | 0) + 1;
}

/**
 * Blocks up to this size put their literal octets in shared space, grown on
 * demand up to what this size needs (26 KiB); larger ones get space of their
 * own for the call. 16 KiB is the default frame size; header blocks are
 * almost always far smaller.
 */
const SHARED_BLOCK_MAX = 16384;
/** The largest block the shared space holds now. */
let sharedCapacity = 1024;
let sharedOctets = Buffer.allocUnsafe(octetsFor(sharedCapacity)) as Latin1Buffer;

function growShared(n: number): void {
  let capacity = sharedCapacity;
  while (capacity < n) capacity *= 2;
  sharedCapacity = Math.min(capacity, SHARED_BLOCK_MAX);
  sharedOctets = Buffer.allocUnsafe(octetsFor(sharedCapacity)) as Latin1Buffer;
}

/**
 * The pending list: room for 512 literals, whatever the block's size. A block
 * with more makes its literals strings in runs of 512.
 */
const pending = new Int32Array(512 * PENDING_WORDS);

function badIndex(index: number, dynamicLength: number): HPACKDecodingError {
  return new HPACKDecodingError(
    `Header index ${index} is beyond the tables (${STATIC_TABLE_LENGTH} static + ${dynamicLength} dynamic entries)`,
    'HW_ERR_HPACK_INDEX',
  );
}

function checkSize(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`${what} must be an integer from 0 to 2^32-1, got ${n}`);
  }
}
