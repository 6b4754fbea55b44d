/**
 * HPACK primitive types (RFC 7541 §5): prefixed integers and string literals.
 *
 * Decoding works on a complete header block, so running out of bytes inside
 * a representation is a malformed block, not a reason to wait for more.
 */

import { HPACKDecodingError } from '../common/errors.js';
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
 * The data of a string literal (RFC 7541 §5.2), `buf[pos:stop)`, written to
 * `out` from `at`, Huffman-decoded when `huffman` (its H bit); returns where
 * the octets end in `out`. The caller has read the length prefix and
 * checked it against the block, so `out` needs room for at most 8/5 of the
 * literal's encoded length, plus the one octet {@link huffmanDecodeInto}
 * may overwrite after it.
 *
 * Octets, not a string: the decoder makes one latin1 string of all the
 * literals of a block, which costs about half of one string per literal.
 */
export function stringInto(buf: Uint8Array, pos: number, stop: number, huffman: boolean, out: Uint8Array, at: number): number {
  if (huffman) return at + huffmanDecodeInto(buf, pos, stop, out, at);
  if (stop - pos > COPY_LOOP_MAX) {
    out.set(buf.subarray(pos, stop), at);
    return at + stop - pos;
  }
  for (let i = pos; i < stop; i++) out[at++] = buf[i]!;
  return at;
}

/**
 * Raw literals up to this long are copied octet by octet; longer ones with
 * one native copy, which costs more to call than a short loop.
 */
const COPY_LOOP_MAX = 32;

/** A block that ends inside a representation (it is complete, so this is malformed). */
export function truncated(): HPACKDecodingError {
  return new HPACKDecodingError('HPACK block ends inside a representation', 'HW_ERR_HPACK_TRUNCATED');
}
