/** Huffman encoding (RFC 7541 §5.2) against a bit-at-a-time reference. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { huffmanEncodedLength, huffmanEncodeInto } from '../../lib/hpack/huffman-encode.js';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from '../../lib/hpack/huffman.js';

/** The code of `str` built as a string of bits, padded with ones (§5.2). */
function reference(str: string): number[] {
  let bits = '';
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    bits += HUFFMAN_CODES[c]!.toString(2).padStart(HUFFMAN_LENGTHS[c]!, '0');
  }
  bits += '1'.repeat((8 - (bits.length % 8)) % 8);
  const out: number[] = [];
  for (let i = 0; i < bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return out;
}

/** Encodes at an odd offset into a buffer filled with a marker. */
function encode(str: string): number[] {
  const out = Buffer.alloc(Math.ceil((str.length * 30) / 8) + 16, 0xee);
  const end = huffmanEncodeInto(str, out, 5);
  expect(out.subarray(0, 5).every((b) => b === 0xee)).toBe(true);
  expect(out.subarray(end).every((b) => b === 0xee)).toBe(true);
  return [...out.subarray(5, end)];
}

describe('huffmanEncodeInto', () => {
  it('matches the reference for codes ending on every bit of a 32-bit word', () => {
    // 'a' is 5 bits, '\n' 30, '\xff' 26, '0' 5, '%' 6, 'A' 6, '{' 15: mixes
    // that fill the accumulator to and past each boundary.
    for (const unit of ['a', '%', '{', '\n', '\xff', 'a\n', '%\xff', '0{', 'Aa']) {
      for (let n = 0; n <= 40; n++) {
        const s = unit.repeat(n);
        expect(encode(s), JSON.stringify(s)).toEqual(reference(s));
        const t = 'x' + s;
        expect(encode(t), JSON.stringify(t)).toEqual(reference(t));
      }
    }
  });

  it('matches the reference on random octet strings, pairs of long codes included (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (arr) => {
        const s = Buffer.from(arr).toString('latin1');
        const bytes = encode(s);
        expect(bytes).toEqual(reference(s));
        expect(bytes.length).toBe(huffmanEncodedLength(s));
      }),
      { numRuns: 500 },
    );
  });

  it('returns -1 for a code unit above 0xff, wherever it is', () => {
    const out = Buffer.alloc(64);
    for (const s of ['\u0100', 'a\u0100', '\u0100a', 'ab\u20ac', 'abc\u0161']) {
      expect(huffmanEncodeInto(s, out, 0), JSON.stringify(s)).toBe(-1);
      expect(huffmanEncodedLength(s)).toBe(-1);
    }
  });
});
