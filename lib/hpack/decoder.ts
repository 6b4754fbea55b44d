/**
 * The HPACK decoder (RFC 7541 §3, §6).
 */

import { HPACKDecodingError, HeaderListSizeError } from '../common/errors.js';
import { asLatin1Buffer } from '../common/latin1.js';
import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { decodeInteger, StringReader, type Cursor } from './primitives.js';
import { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from './static-table.js';

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
  private readonly strings = new StringReader();
  private readonly cur: Cursor = { pos: 0 };

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
   * HEADERS or PUSH_PROMISE frame and its CONTINUATIONs).
   */
  decode(block: Uint8Array): HeaderField[] {
    const buf = asLatin1Buffer(block);
    const end = buf.length;
    const table = this.table;
    const strings = this.strings;
    const cur = this.cur;
    const headers: HeaderField[] = [];
    let listSize = 0;
    const maxListSize = this.maxHeaderListSize;
    let overLimit = false;
    // Size updates are allowed only before the first field (RFC 7541 §4.2).
    let fieldsSeen = false;

    if (this.updateRequired && (end === 0 || (buf[0]! & 0xe0) !== 0x20)) {
      throw new HPACKDecodingError(
        'Header block does not start with the dynamic table size update our smaller SETTINGS_HEADER_TABLE_SIZE requires',
        'HW_ERR_HPACK_TABLE_SIZE',
      );
    }

    // The read position lives in a local; the cursor object is used only
    // for the rare multi-octet integers and for string literals.
    let pos = 0;
    while (pos < end) {
      const b = buf[pos]!;
      let name: string;
      let value: string;
      if (b >= 0x80) {
        // Indexed header field (§6.1).
        let index = b & 0x7f;
        if (index === 0x7f) {
          cur.pos = pos;
          index = decodeInteger(buf, cur, end, 7);
          pos = cur.pos;
        } else {
          pos++;
        }
        if (index === 0) throw new HPACKDecodingError('Indexed header field with index 0', 'HW_ERR_HPACK_INDEX');
        if (index <= STATIC_TABLE_LENGTH) {
          name = STATIC_NAMES[index - 1]!;
          value = STATIC_VALUES[index - 1]!;
        } else {
          const i = index - STATIC_TABLE_LENGTH - 1;
          if (i >= table.length) throw badIndex(index, table.length);
          name = table.nameAt(i);
          value = table.valueAt(i);
        }
      } else if (b >= 0x40 || b < 0x20) {
        // Literal with incremental indexing (§6.2.1, 6-bit prefix), or
        // without indexing / never indexed (§6.2.2, §6.2.3, 4-bit prefix).
        const indexing = b >= 0x40;
        const mask = indexing ? 0x3f : 0x0f;
        let index = b & mask;
        cur.pos = pos;
        if (index === mask) {
          index = decodeInteger(buf, cur, end, indexing ? 6 : 4);
        } else {
          cur.pos++;
        }
        // A string is bounded by the block that carries it (itself capped by
        // the connection layer); one over maxHeaderListSize still has to be
        // read and indexed so the table stays in step, and then fails the
        // stream through the list-size check below, not the connection.
        if (index === 0) {
          name = strings.read(buf, cur, end);
        } else if (index <= STATIC_TABLE_LENGTH) {
          name = STATIC_NAMES[index - 1]!;
        } else {
          const i = index - STATIC_TABLE_LENGTH - 1;
          if (i >= table.length) throw badIndex(index, table.length);
          name = table.nameAt(i);
        }
        value = strings.read(buf, cur, end);
        pos = cur.pos;
        if (indexing) table.add(name, value);
      } else {
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
        table.setMaxSize(size);
        this.updateRequired = false;
        continue;
      }
      fieldsSeen = true;
      // Checked per field so a block of many references to one entry (an
      // "HPACK bomb", CVE-2016-6581) never builds its list; the rest of the
      // block is still read so the table stays in step with the encoder's.
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > maxListSize) overLimit = true;
      else headers.push([name, value]);
    }

    if (this.updateRequired) {
      throw new HPACKDecodingError('Required dynamic table size update missing', 'HW_ERR_HPACK_TABLE_SIZE');
    }
    if (overLimit) {
      throw new HeaderListSizeError(`Decoded header list exceeds maxHeaderListSize (${maxListSize} octets)`);
    }
    return headers;
  }
}

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
