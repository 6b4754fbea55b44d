/**
 * HPACK primitive types (RFC 7541 §5): prefixed integers and string literals.
 *
 * Decoding works on a complete header block, so running out of bytes inside
 * a representation is a malformed block, not a reason to wait for more.
 */

import { HPACKDecodingError } from '../common/errors.js';
import { latin1String, type Latin1Buffer } from '../common/latin1.js';
import { huffmanDecodeInto } from './huffman.js';

/**
 * The largest integer the decoder accepts. Every integer HPACK carries (an
 * index, a string length, a table size) is far below it; anything larger is
 * an attack or garbage, and must not wrap around (RFC 7541 §5.1, §7.4).
 */
export const MAX_HPACK_INTEGER = 0xffffffff;

/** A read position in a block, shared by the primitive readers. */
export interface Cursor {
  pos: number;
}

/**
 * Reads an integer with an N-bit prefix at `cur.pos` (RFC 7541 §5.1) and
 * advances the cursor. The flag bits above the prefix are ignored.
 *
 * @throws HPACKDecodingError `HW_ERR_HPACK_TRUNCATED` if the block ends inside
 *   it, `HW_ERR_HPACK_INTEGER_OVERFLOW` if it exceeds {@link MAX_HPACK_INTEGER}.
 */
export function decodeInteger(buf: Uint8Array, cur: Cursor, end: number, prefixBits: number): number {
  let pos = cur.pos;
  if (pos >= end) throw truncated();
  const mask = (1 << prefixBits) - 1;
  let value = buf[pos++]! & mask;
  if (value < mask) {
    cur.pos = pos;
    return value;
  }
  let shift = 0;
  for (;;) {
    if (pos >= end) throw truncated();
    const b = buf[pos++]!;
    // Multiplication, not <<: the sum can pass 2^31 before the bound check.
    value += (b & 0x7f) * 2 ** shift;
    if (value > MAX_HPACK_INTEGER) {
      throw new HPACKDecodingError('HPACK integer overflows 32 bits', 'HW_ERR_HPACK_INTEGER_OVERFLOW');
    }
    if ((b & 0x80) === 0) break;
    shift += 7;
    // Zero-valued continuation octets do not raise the value; bound them too.
    if (shift > 28) {
      throw new HPACKDecodingError('HPACK integer has too many continuation octets', 'HW_ERR_HPACK_INTEGER_OVERFLOW');
    }
  }
  cur.pos = pos;
  return value;
}

/**
 * Writes `value` with an N-bit prefix at `offset`, OR-ing `flags` into the
 * first octet; returns the offset after it. Needs at most 6 free octets.
 */
export function encodeInteger(out: Uint8Array, offset: number, value: number, prefixBits: number, flags: number): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out[offset++] = flags | value;
    return offset;
  }
  out[offset++] = flags | mask;
  value -= mask;
  while (value >= 0x80) {
    out[offset++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[offset++] = value;
  return offset;
}

/** Octets {@link encodeInteger} writes for `value` with an N-bit prefix. */
export function encodedIntegerLength(value: number, prefixBits: number): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) return 1;
  let n = 2;
  for (value -= mask; value >= 0x80; value = Math.floor(value / 0x80)) n++;
  return n;
}

/**
 * Decodes string literals (RFC 7541 §5.2) from a block into latin1 strings,
 * one octet per UTF-16 code unit, so any octets round-trip. Holds the scratch
 * space Huffman decoding writes into, grown on demand and bounded by the
 * largest string a block can carry.
 */
export class StringReader {
  private scratch = Buffer.allocUnsafe(256) as Latin1Buffer;

  /**
   * Reads the string literal at `cur.pos` and advances the cursor. Its length
   * is bounded by the block (`end`), checked before any decoding, so the
   * scratch space never exceeds 8/5 of the block.
   */
  read(buf: Latin1Buffer, cur: Cursor, end: number): string {
    const pos = cur.pos;
    if (pos >= end) throw truncated();
    const first = buf[pos]!;
    const huffman = first >= 0x80;
    let length = first & 0x7f;
    let start = pos + 1;
    if (length === 0x7f) {
      length = decodeInteger(buf, cur, end, 7);
      start = cur.pos;
    }
    if (length > end - start) throw truncated();
    cur.pos = start + length;
    if (!huffman) return latin1String(buf, start, length);
    if (length === 0) return '';
    const most = (((length * 8) / 5) | 0) + 2;
    if (this.scratch.length < most) this.scratch = Buffer.allocUnsafe(Math.max(most, this.scratch.length * 2)) as Latin1Buffer;
    const n = huffmanDecodeInto(buf, start, start + length, this.scratch);
    return latin1String(this.scratch, 0, n);
  }
}

function truncated(): HPACKDecodingError {
  return new HPACKDecodingError('HPACK block ends inside a representation', 'HW_ERR_HPACK_TRUNCATED');
}
