/** The HPACK Huffman code (RFC 7541 §5.2, Appendix B). */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, HPACKDecodingError } from '../../lib/common/errors.js';
import { Decoder, huffmanDecodeInto, huffmanEncodeInto, huffmanEncodedLength } from '../../lib/hpack/index.js';
import { hex, thrown, toHex } from './helpers.js';

function encode(str: string): Buffer {
  const out = Buffer.alloc(huffmanEncodedLength(str) + 8, 0xee);
  const end = huffmanEncodeInto(str, out, 3);
  // Writes exactly huffmanEncodedLength octets and nothing around them.
  expect(end - 3).toBe(huffmanEncodedLength(str));
  expect(out[0]).toBe(0xee);
  expect(out[end]).toBe(0xee);
  return out.subarray(3, end);
}

function decode(bytes: Uint8Array): string {
  const src = Buffer.concat([Buffer.from([0x55, 0x55]), bytes, Buffer.from([0x55])]);
  const out = Buffer.alloc(((bytes.length * 8) / 5 + 2) | 0);
  const n = huffmanDecodeInto(src, 2, 2 + bytes.length, out);
  return out.toString('latin1', 0, n);
}

function expectHuffmanError(bytes: Uint8Array): void {
  const err = thrown(() => decode(bytes));
  expect(err).toBeInstanceOf(HPACKDecodingError);
  const e = err as HPACKDecodingError;
  expect(e.code).toBe('HW_ERR_HPACK_HUFFMAN');
  expect(e.errorCode).toBe(9);
  expect(e.errorCode).toBe(ErrorCode.COMPRESSION_ERROR);
  expect(e.scope).toBe('connection');
}

describe('Huffman code', () => {
  const examples: [string, string][] = [
    ['www.example.com', 'f1e3c2e5f23a6ba0ab90f4ff'],
    ['no-cache', 'a8eb10649cbf'],
    ['custom-key', '25a849e95ba97d7f'],
    ['custom-value', '25a849e95bb8e8b4bf'],
    ['302', '6402'],
    ['307', '640eff'],
    ['private', 'aec3771a4b'],
    ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07abe941054d444a8200595040b8166e082a62d1bff'],
    ['https://www.example.com', '9d29ad171863c78f0b97c8e9ae82ae43d3'],
    ['gzip', '9bd9ab'],
    [
      'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
      '94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
    ],
  ];
  for (const [plain, wire] of examples) {
    it(`RFC 7541 example ${JSON.stringify(plain)} <-> ${wire}`, () => {
      expect(toHex(encode(plain))).toBe(wire);
      expect(huffmanEncodedLength(plain)).toBe(wire.length / 2);
      expect(decode(hex(wire))).toBe(plain);
    });
  }

  it('codes of known lengths (Appendix B): "0" 5 bits, EOS-adjacent 0xff 26 bits, "\\n" 30 bits', () => {
    expect(toHex(encode('0'))).toBe('07'); // 00000 + 111
    expect(toHex(encode('\xff'))).toBe('fffffbbf'); // 11111111111111111111101110 + 111111
    expect(toHex(encode('\n'))).toBe('fffffff3'); // 111111111111111111111111111100 + 11
    expect(toHex(encode('\r'))).toBe('fffffff7'); // ...1101 + 11
    expect(toHex(encode('\x00'))).toBe('ffc7'); // 1111111111000 + 111
  });

  it('round-trips every octet on its own', () => {
    for (let c = 0; c < 256; c++) {
      const s = String.fromCharCode(c);
      const bytes = encode(s);
      expect(decode(bytes), `octet ${c}`).toBe(s);
    }
  });

  it('round-trips all 256 octets in one string, forwards and backwards', () => {
    const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
    const rev = all.split('').reverse().join('');
    for (const s of [all, rev, all + all + rev]) expect(decode(encode(s))).toBe(s);
  });

  it('round-trips random octet strings (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (arr) => {
        const s = Buffer.from(arr).toString('latin1');
        const bytes = encode(s);
        expect(bytes.length).toBe(huffmanEncodedLength(s));
        expect(decode(bytes)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips random header-like text (fast-check)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 100 }), (s) => {
        expect(decode(encode(s))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes the empty string', () => {
    expect(decode(new Uint8Array(0))).toBe('');
    expect(huffmanEncodedLength('')).toBe(0);
    expect(encode('').length).toBe(0);
  });

  it('huffmanEncodedLength is the bit count rounded up', () => {
    expect(huffmanEncodedLength('a')).toBe(1); // 5 bits
    expect(huffmanEncodedLength('aa')).toBe(2); // 10 bits
    expect(huffmanEncodedLength('%%%%')).toBe(3); // 4 x 6 bits = 24 bits
    expect(huffmanEncodedLength('\n')).toBe(4); // 30 bits
    expect(huffmanEncodedLength('\n\n\n')).toBe(12); // 90 bits
  });

  describe('errors', () => {
    it('EOS inside a string (ff ff ff ff)', () => {
      expectHuffmanError(hex('ffffffff'));
    });

    it('EOS after a valid symbol', () => {
      // 'a' 00011, then 30 ones of EOS, then 5 bits of padding: 37 + 3 = 40 bits.
      expectHuffmanError(hex('1fffffffff'));
    });

    it('padding longer than 7 bits: a valid string then an extra 0xff', () => {
      expect(decode(hex('1f'))).toBe('a');
      expectHuffmanError(hex('1fff'));
      expect(decode(hex('f1e3c2e5f23a6ba0ab90f4ff'))).toBe('www.example.com');
      expectHuffmanError(hex('f1e3c2e5f23a6ba0ab90f4ffff'));
    });

    it('a whole octet of padding alone (8 ones)', () => {
      expectHuffmanError(hex('ff'));
    });

    it('padding not all ones (\'a\' = 00011 padded with 000 -> 0x18)', () => {
      expectHuffmanError(hex('18'));
      expectHuffmanError(hex('1e')); // 00011 110
      expectHuffmanError(hex('1d')); // 00011 101
    });

    it('reaches the Decoder as the same error', () => {
      const d = new Decoder();
      // Literal without indexing, new name 'a' (raw), value Huffman-coded 0x18.
      const err = thrown(() => d.decode(hex('000161' + '8118')));
      expect(err).toBeInstanceOf(HPACKDecodingError);
      expect((err as HPACKDecodingError).code).toBe('HW_ERR_HPACK_HUFFMAN');
      expect((err as HPACKDecodingError).errorCode).toBe(9);
      // And a good Huffman value decodes.
      expect(new Decoder().decode(hex('000161' + '811f'))).toEqual([['a', 'a']]);
    });
  });
});

describe('Huffman decoding into a shared buffer', () => {
  it('writes from the given offset, returns the count, and leaves octets before it alone', () => {
    const out = Buffer.alloc(64, 0xee);
    const a = encode('www.example.com');
    const b = encode('no-cache');
    const n = huffmanDecodeInto(a, 0, a.length, out, 0);
    expect(n).toBe(15);
    const m = huffmanDecodeInto(b, 0, b.length, out, n);
    expect(m).toBe(8);
    expect(out.toString('latin1', 0, n + m)).toBe('www.example.comno-cache');
    // One octet after the decoded ones may be written over, no more.
    expect(out[n + m + 1]).toBe(0xee);
    // Empty input writes nothing and counts nothing.
    expect(huffmanDecodeInto(b, 0, 0, out, 40)).toBe(0);
  });
});
