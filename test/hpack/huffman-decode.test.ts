/** Huffman decoding (RFC 7541 §5.2) against a bit-at-a-time reference. */

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HPACKDecodingError } from '../../lib/common/errors.js';
import { EOS, HUFFMAN_CODES, HUFFMAN_LENGTHS, huffmanDecodeInto } from '../../lib/hpack/huffman.js';

// The code tree of Appendix B, one bit per step: kids[node * 2 + bit] is a
// node (> 0) or a symbol, as -(symbol + 1).
const kids: number[] = [0, 0];
for (let s = 0; s <= EOS; s++) {
  let node = 0;
  for (let i = HUFFMAN_LENGTHS[s]! - 1; i >= 0; i--) {
    const slot = node * 2 + (Math.floor(HUFFMAN_CODES[s]! / 2 ** i) & 1);
    if (i === 0) {
      kids[slot] = -(s + 1);
    } else {
      if (kids[slot] === 0) {
        kids[slot] = kids.length / 2;
        kids.push(0, 0);
      }
      node = kids[slot]!;
    }
  }
}

/** Where the reference decoder is after some bits. */
interface Walk {
  node: number;
  symbols: number[];
  /** Bits read since the last symbol, and whether they were all ones. */
  pending: number;
  ones: boolean;
  eos: boolean;
}

/** The octets a string decodes to, or which rule of §5.2 it breaks. */
type Verdict = number[] | 'EOS' | 'padding';

const START: Walk = { node: 0, symbols: [], pending: 0, ones: true, eos: false };

function step(w: Walk, octet: number): Walk {
  if (w.eos) return w;
  let { node, pending, ones } = w;
  const symbols = [...w.symbols];
  for (let i = 7; i >= 0; i--) {
    const bit = (octet >> i) & 1;
    pending++;
    ones &&= bit === 1;
    const next = kids[node * 2 + bit]!;
    if (next > 0) {
      node = next;
      continue;
    }
    const symbol = -next - 1;
    if (symbol === EOS) return { node: 0, symbols, pending: 0, ones: true, eos: true };
    symbols.push(symbol);
    node = 0;
    pending = 0;
    ones = true;
  }
  return { node, symbols, pending, ones, eos: false };
}

/** The reference's verdict on a string that ends here. */
function verdict(w: Walk): Verdict {
  if (w.eos) return 'EOS';
  // Padding: the most significant bits of EOS (all ones), fewer than 8.
  if (w.pending > 7 || !w.ones) return 'padding';
  return w.symbols;
}

function reference(octets: ArrayLike<number>): Verdict {
  let w = START;
  for (let i = 0; i < octets.length; i++) w = step(w, octets[i]!);
  return verdict(w);
}

const out = Buffer.alloc(1 << 12);

/** Which rule of §5.2 a decoding error reports, or 'other' for anything else. */
function ruleOf(err: unknown): 'EOS' | 'padding' | 'other' {
  if (!(err instanceof HPACKDecodingError)) return 'other';
  if (err.code !== 'HW_ERR_HPACK_HUFFMAN' || err.errorCode !== 9 || err.scope !== 'connection') return 'other';
  if (err.message === 'Huffman string contains the EOS symbol') return 'EOS';
  if (err.message === 'Huffman string ends in padding longer than 7 bits or not all ones') return 'padding';
  return 'other';
}

/** The decoder's verdict on `src[start:end)`, decoded into `out` from `at`. */
function decoded(src: Uint8Array, start: number, end: number, at = 0): Verdict | 'other' {
  let n: number;
  try {
    n = huffmanDecodeInto(src, start, end, out, at);
  } catch (err) {
    return ruleOf(err);
  }
  return [...out.subarray(at, at + n)];
}

/** Bits of `path` ('0'/'1') after enough 5-bit 'a's that they end on an octet boundary. */
function aligned(path: string): number[] {
  const a = HUFFMAN_CODES[0x61]!.toString(2).padStart(HUFFMAN_LENGTHS[0x61]!, '0');
  let bits = path;
  while (bits.length % 8 !== 0) bits = a + bits;
  const octets: number[] = [];
  for (let i = 0; i < bits.length; i += 8) octets.push(parseInt(bits.slice(i, i + 8), 2));
  return octets;
}

/** The path to every internal node of the tree: every proper prefix of a code. */
const nodePaths: string[] = [
  ...new Set(
    Array.from({ length: EOS + 1 }, (_, s) => {
      const code = HUFFMAN_CODES[s]!.toString(2).padStart(HUFFMAN_LENGTHS[s]!, '0');
      return Array.from({ length: code.length }, (_, i) => code.slice(0, i));
    }).flat(),
  ),
];

describe('huffmanDecodeInto against a bit-at-a-time reference', () => {
  // Most inputs below are errors, and their stack traces would take most of
  // the time.
  let stackTraceLimit = Error.stackTraceLimit;
  beforeAll(() => {
    stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  });
  afterAll(() => {
    Error.stackTraceLimit = stackTraceLimit;
  });

  it('the tree has 256 internal nodes (RFC 7541 Appendix B is a complete code)', () => {
    expect(nodePaths.length).toBe(256);
  });

  it('every 1- and 2-octet input', () => {
    const src = Buffer.alloc(4, 0x55);
    for (let a = 0; a < 256; a++) {
      src[1] = a;
      expect(decoded(src, 1, 2), `${a}`).toEqual(reference([a]));
      for (let b = 0; b < 256; b++) {
        src[2] = b;
        expect(decoded(src, 1, 3, 7), `${a} ${b}`).toEqual(reference([a, b]));
      }
    }
  });

  it('every 3-octet input', () => {
    const src = Buffer.alloc(5, 0xaa);
    let failures = 0;
    for (let a = 0; a < 256; a++) {
      const wa = step(START, a);
      src[1] = a;
      for (let b = 0; b < 256; b++) {
        const wb = step(wa, b);
        src[2] = b;
        for (let c = 0; c < 256; c++) {
          src[3] = c;
          const want = verdict(step(wb, c));
          const got = decoded(src, 1, 4, 3);
          // An expect per input would take minutes: count, and show the first.
          if (!sameVerdict(got, want) && failures++ === 0) expect(got, `${a} ${b} ${c}`).toEqual(want);
        }
      }
    }
    expect(failures).toBe(0);
  }, 120_000);

  it('every octet from every state of the decoder, then the end or one more octet', () => {
    for (const path of nodePaths) {
      const prefix = aligned(path);
      const src = Buffer.from([...prefix, 0, 0]);
      const w = prefix.reduce(step, START);
      for (let a = 0; a < 256; a++) {
        src[prefix.length] = a;
        const wa = step(w, a);
        expect(decoded(src, 0, prefix.length + 1), `${path} ${a}`).toEqual(verdict(wa));
        for (const b of [0x00, 0x1f, 0x7f, 0xfe, 0xff]) {
          src[prefix.length + 1] = b;
          expect(decoded(src, 0, prefix.length + 2), `${path} ${a} ${b}`).toEqual(verdict(step(wa, b)));
        }
      }
    }
  });

  it('every pair of octets from every state on the all-ones path, where EOS completes', () => {
    for (const path of nodePaths.filter((p) => !p.includes('0'))) {
      const prefix = aligned(path);
      const src = Buffer.from([...prefix, 0, 0]);
      const w = prefix.reduce(step, START);
      let failures = 0;
      for (let a = 0; a < 256; a++) {
        src[prefix.length] = a;
        const wa = step(w, a);
        for (let b = 0; b < 256; b++) {
          src[prefix.length + 1] = b;
          const want = verdict(step(wa, b));
          const got = decoded(src, 0, prefix.length + 2);
          if (!sameVerdict(got, want) && failures++ === 0) expect(got, `${path} ${a} ${b}`).toEqual(want);
        }
      }
      expect(failures).toBe(0);
    }
  });

  it('EOS completed at every bit position, then anything, is the EOS error', () => {
    for (let k = 0; k < 8; k++) {
      // k 'a's (5 bits each) shift where EOS's 30 ones begin and end.
      const bits = '00011'.repeat(k) + '1'.repeat(30);
      const tails = ['', '0', '1', '00011', '1111111', '0000000', '11111111'];
      for (const tail of tails) {
        let all = bits + tail;
        all += '1'.repeat((8 - (all.length % 8)) % 8);
        const octets = Array.from({ length: all.length / 8 }, (_, i) => parseInt(all.slice(i * 8, i * 8 + 8), 2));
        for (const extra of [[], [0x00], [0xff], [0x1f], [0xff, 0xff, 0xff, 0xff]]) {
          const input = [...octets, ...extra];
          expect(reference(input)).toBe('EOS');
          expect(decoded(Buffer.from(input), 0, input.length), `${k} ${tail} ${extra.join(',')}`).toBe('EOS');
        }
      }
    }
  });

  it('random inputs, plain and rich in ones (fast-check)', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0xff, 0xfe, 0x7f, 0xfb, 0xf7));
    fc.assert(
      fc.property(fc.array(octet, { maxLength: 64 }), fc.nat(7), (octets, at) => {
        const src = Buffer.from([0x3c, ...octets, 0x3c]);
        expect(decoded(src, 1, 1 + octets.length, at)).toEqual(reference(octets));
      }),
      { numRuns: 3000 },
    );
  });

  it('writes from `at`, touches nothing before it and at most one octet after the decoded ones', () => {
    const input = Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex'); // www.example.com (RFC 7541 C.4.1)
    const dst = Buffer.alloc(40, 0xee);
    const n = huffmanDecodeInto(input, 0, input.length, dst, 5);
    expect(dst.toString('latin1', 5, 5 + n)).toBe('www.example.com');
    expect(dst.subarray(0, 5).every((b) => b === 0xee)).toBe(true);
    expect(dst.subarray(5 + n + 1).every((b) => b === 0xee)).toBe(true);
    // A Uint8Array that is not a Buffer decodes the same.
    const plain = new Uint8Array(input);
    expect(huffmanDecodeInto(plain, 0, plain.length, new Uint8Array(32))).toBe(15);
  });
});

function sameVerdict(got: Verdict | 'other', want: Verdict): boolean {
  if (typeof got === 'string' || typeof want === 'string') return got === want;
  if (got.length !== want.length) return false;
  for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) return false;
  return true;
}
