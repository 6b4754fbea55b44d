/**
 * Huffman encoding of string literals (RFC 7541 §5.2, Appendix B).
 *
 * Strings are coded two octets at a time where the two codes fit 24 bits
 * together (header text is mostly 5-8 bit symbols, so nearly every pair
 * does), into a 32-bit accumulator filled from the top that is written out
 * four octets at a time: one table load and one rarely-taken branch per
 * pair, where writing each completed octet as it fills would branch on
 * every symbol.
 */

import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from './huffman.js';

// PAIRS[(a << 8) | b] is the code of octet a followed by the code of octet
// b, shifted up 5 bits, OR-ed with the length of both (at most 24, so the
// entry fits 29 bits); 0 where the two codes are longer than 24 bits.
const PAIRS: Uint32Array = new Uint32Array(65536);
for (let a = 0; a < 256; a++) {
  for (let b = 0; b < 256; b++) {
    const length = HUFFMAN_LENGTHS[a]! + HUFFMAN_LENGTHS[b]!;
    if (length > 24) continue;
    const code = (HUFFMAN_CODES[a]! << HUFFMAN_LENGTHS[b]!) | HUFFMAN_CODES[b]!;
    PAIRS[(a << 8) | b] = ((code << 5) | length) >>> 0;
  }
}

/**
 * Octets a Huffman encoding of `str` (latin1 code units) takes, or -1 if a
 * code unit is above 0xff.
 */
export function huffmanEncodedLength(str: string): number {
  let bits = 0;
  let units = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    units |= c;
    bits += HUFFMAN_LENGTHS[c & 0xff]!;
  }
  return units > 0xff ? -1 : (bits + 7) >>> 3;
}

/**
 * Huffman-encodes `str` (latin1 code units) into `out` at `offset`; returns
 * the offset after the last octet, or -1 if a code unit is above 0xff (then
 * what was written is garbage). Writes nothing past the returned offset.
 * `out` must have room for the encoding: at most `str.length * 30 / 8`
 * octets, rounded up.
 */
export function huffmanEncodeInto(str: string, out: Uint8Array, offset: number): number {
  // Code bits fill `acc` from the top; `free` is how many low bits are left.
  // A code that does not fit completes the word: its high bits go in, the
  // word is written, and its low bits start the next one.
  let acc = 0;
  let free = 32;
  let pos = offset;
  let units = 0;
  const last = str.length - 1;
  let i = 0;
  while (i < last) {
    const c = str.charCodeAt(i);
    const c2 = str.charCodeAt(i + 1);
    units |= c | c2;
    // Masked so a unit above 0xff cannot index past the table; such input
    // fails on `units` below.
    const entry = PAIRS[((c << 8) | c2) & 0xffff]!;
    let length: number;
    let code: number;
    if (entry !== 0) {
      length = entry & 31;
      code = entry >>> 5;
      i += 2;
    } else {
      // The pair's codes are too long together: the first symbol alone.
      length = HUFFMAN_LENGTHS[c & 0xff]!;
      code = HUFFMAN_CODES[c & 0xff]!;
      i++;
    }
    free -= length;
    if (free >= 0) {
      acc |= code << free;
    } else {
      acc |= code >>> -free;
      out[pos] = acc >>> 24;
      out[pos + 1] = acc >>> 16;
      out[pos + 2] = acc >>> 8;
      out[pos + 3] = acc;
      pos += 4;
      free += 32;
      // free < 32 here: a shift by 32 would be a shift by 0.
      acc = code << free;
    }
  }
  if (i === last) {
    // A lone last octet.
    const c = str.charCodeAt(i);
    units |= c;
    const code = HUFFMAN_CODES[c & 0xff]!;
    free -= HUFFMAN_LENGTHS[c & 0xff]!;
    if (free >= 0) {
      acc |= code << free;
    } else {
      acc |= code >>> -free;
      out[pos] = acc >>> 24;
      out[pos + 1] = acc >>> 16;
      out[pos + 2] = acc >>> 8;
      out[pos + 3] = acc;
      pos += 4;
      free += 32;
      acc = code << free;
    }
  }
  if (units > 0xff) return -1;
  if (free < 32) {
    // Pad with the most significant bits of EOS, all ones (§5.2), and write
    // the octets the code reached.
    if (free > 0) acc |= (1 << free) - 1;
    out[pos] = acc >>> 24;
    if (free < 24) {
      out[pos + 1] = acc >>> 16;
      if (free < 16) {
        out[pos + 2] = acc >>> 8;
        if (free < 8) out[pos + 3] = acc;
      }
    }
    pos += (39 - free) >>> 3;
  }
  return pos;
}
