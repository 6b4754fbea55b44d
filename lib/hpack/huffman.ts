/**
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B), table-driven both ways.
 *
 * The code of Appendix B is canonical: codes of one length are consecutive
 * and ordered by symbol, and each length continues from the last code of the
 * shorter one. So the 257 code lengths alone define it; the codes are rebuilt
 * from them at load time (tests check them against the RFC's examples).
 *
 * Decoding walks a byte-at-a-time state machine: the 256 internal nodes of
 * the code tree are the states, and per input byte one lookup gives the next
 * state and another, at the same index, the zero, one or two symbols
 * completed on the way (the shortest code is 5 bits, so one byte finishes at
 * most two).
 */

import { HPACKDecodingError } from '../common/errors.js';

/** Code length in bits of symbols 0..256 (256 is EOS), one base-36 digit each. */
const LENGTHS_BASE36 =
  'dnsssssssoussussssssssusssssssss6aacd68baa8b8666555666666678f6cad67777777777777777777777878djde6f56565666577666567655677777fbedskmkkmmmnmnnnnnonoomnonnnnlmnmnnomlkmmnnlnmmolmnnllmlnmnnkmmmnmmnqqkjmnmpqqqrrqopjlqrrqrollqqsrrrkoklmllnmmppooqnqrqqrrrrrsrrrrrqu';

/** The end-of-string symbol; its code must never appear in a string (§5.2). */
export const EOS = 256;

/** Bit length of each symbol's code. */
export const HUFFMAN_LENGTHS: Uint8Array = new Uint8Array(257);
/** Each symbol's code, right-aligned. */
export const HUFFMAN_CODES: Uint32Array = new Uint32Array(257);

for (let s = 0; s < 257; s++) HUFFMAN_LENGTHS[s] = parseInt(LENGTHS_BASE36.charAt(s), 36);
{
  const order = Array.from({ length: 257 }, (_, s) => s).sort(
    (a, b) => HUFFMAN_LENGTHS[a]! - HUFFMAN_LENGTHS[b]! || a - b,
  );
  let code = 0;
  let len = HUFFMAN_LENGTHS[order[0]!]!;
  for (const s of order) {
    const l = HUFFMAN_LENGTHS[s]!;
    code *= 2 ** (l - len);
    len = l;
    HUFFMAN_CODES[s] = code;
    code++;
  }
}

// Decoding tables, indexed by (state << 8) | byte. A state is an internal
// node of the code tree, numbered 0..255 (0 = root).
//
// NEXT holds the state after the byte, already shifted left by 8, so the
// next index is one OR away: the step from one byte to the next, which no
// two bytes can overlap, is a load, an OR and a load.
//
// EMIT holds what the byte completes: bits 0-7 the first symbol, bits 8-15
// the second, bits 16-17 how many (0, 1 or 2; the shortest code is 5 bits).
// Both symbols are stored every step and the count moves the output on, so
// the loop has no branch on the data.
//
// A byte that completes EOS, which may not appear in a string (§5.2), leads
// to SINK, 0xffff, a state every byte leads back to (0xffff | byte is
// 0xffff), so a string that held EOS ends in it and the loop needs no flag
// for it. 0xffff is also the entry of state 255 and byte 0xff: the nodes are
// numbered so that state 255 is the all-ones node of depth 29, from which a
// 1 bit completes EOS (30 ones), so that entry leads to SINK and emits
// nothing either way. Two 64 Ki-entry tables rather than one packed one:
// taking the state out of a packed entry costs an AND on the path from byte
// to byte.
//
// ACCEPTING[state] is 1 where a string may end: in the root, or at most 7
// bits down the all-ones path, as padding must be (§5.2). SINK >>> 8 is 255,
// which is not accepting either.
const SINK = 0xffff;
const COUNT_SHIFT = 16;
const NEXT: Uint16Array = new Uint16Array(256 * 256);
const EMIT: Int32Array = new Int32Array(256 * 256);
const ACCEPTING: Uint8Array = new Uint8Array(256);

{
  // Build the tree: child[node * 2 + bit] is an internal node (>= 0) or a leaf
  // encoded as -(symbol + 1).
  const child = new Int32Array(256 * 2).fill(0x7fffffff);
  const depth = new Uint8Array(256);
  const allOnes = new Uint8Array(256);
  allOnes[0] = 1;
  let nodes = 1;
  for (let s = 0; s < 257; s++) {
    const len = HUFFMAN_LENGTHS[s]!;
    const code = HUFFMAN_CODES[s]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = Math.floor(code / 2 ** i) & 1;
      const slot = node * 2 + bit;
      if (i === 0) {
        child[slot] = -(s + 1);
      } else {
        if (child[slot] === 0x7fffffff) {
          const next = nodes++;
          child[slot] = next;
          depth[next] = depth[node]! + 1;
          allOnes[next] = allOnes[node]! & bit;
        }
        node = child[slot]!;
      }
    }
  }
  if (nodes !== 256) throw new Error('HPACK Huffman table is not a complete code');

  // Swap the numbers of node 255 and the all-ones node of depth 29, so that
  // state 255's entry for byte 0xff is SINK's (see above).
  let last = 0;
  while (depth[last] !== 29 || allOnes[last] !== 1) last++;
  const number = (node: number): number => (node === last ? 255 : node === 255 ? last : node);

  for (let node = 0; node < 256; node++) {
    const state = number(node);
    ACCEPTING[state] = node === 0 || (allOnes[node] === 1 && depth[node]! <= 7) ? 1 : 0;
    for (let byte = 0; byte < 256; byte++) {
      let at = node;
      let emitted = 0;
      let syms = 0;
      let eos = false;
      for (let i = 7; i >= 0; i--) {
        const next = child[at * 2 + ((byte >> i) & 1)]!;
        if (next >= 0) {
          at = next;
          continue;
        }
        const sym = -next - 1;
        if (sym === EOS) {
          eos = true;
          break;
        }
        syms |= sym << (8 * emitted);
        emitted++;
        at = 0;
      }
      const index = (state << 8) | byte;
      NEXT[index] = eos ? SINK : number(at) << 8;
      EMIT[index] = eos ? 0 : syms | (emitted << COUNT_SHIFT);
    }
  }
  if (NEXT[SINK] !== SINK || EMIT[SINK] !== 0) throw new Error('HPACK Huffman decoding has no sink state');
}

/**
 * Decodes the Huffman string in `src[start:end)` into `out` from `at`;
 * returns the number of octets written. `out` must hold
 * `((end - start) * 8 / 5) | 0` octets from `at`, the most a string of that
 * length can decode to. The octet after the decoded ones may be overwritten
 * (each step stores two symbols and counts the ones it emitted), so a caller
 * decoding several strings into one buffer decodes them in order.
 *
 * @throws HPACKDecodingError when the string contains EOS, or ends in padding
 *   that is longer than 7 bits or not all ones (RFC 7541 §5.2).
 */
export function huffmanDecodeInto(src: Uint8Array, start: number, end: number, out: Uint8Array, at = 0): number {
  let state = 0;
  let n = at;
  for (let i = start; i < end; i++) {
    const index = state | src[i]!;
    state = NEXT[index]!;
    const emit = EMIT[index]!;
    out[n] = emit;
    out[n + 1] = emit >>> 8;
    n += emit >>> COUNT_SHIFT;
  }
  if (ACCEPTING[state >>> 8] === 0) {
    if (state === SINK) throw new HPACKDecodingError('Huffman string contains the EOS symbol', 'HW_ERR_HPACK_HUFFMAN');
    throw new HPACKDecodingError(
      'Huffman string ends in padding longer than 7 bits or not all ones',
      'HW_ERR_HPACK_HUFFMAN',
    );
  }
  return n - at;
}
