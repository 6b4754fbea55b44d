/**
 * How far below 10× hpack.js the HPACK work itself sits: the time per header
 * of the parts no HPACK coder can skip, beside the coders, in one run.
 *
 *   npm run bench:hpack-floor   (compiles, then: node build/bench/hpack-floor.js [rounds])
 *
 * Over the same stories as bench/hpack.ts:
 * - decode floor: Huffman-decoding every Huffman string literal of the
 *   nghttp2 blocks, plus making JavaScript strings of the literals the
 *   cheapest way we know, the decoder's: one latin1 string of all the
 *   literal octets of a block, each literal cut out of it with substring
 *   (about half the cost of one string per literal);
 * - encode floor: Huffman-coding the value of every field our encoder sends
 *   as a literal (the encoder must at least find out whether Huffman is
 *   shorter), plus one Map lookup per field name.
 * Each floor uses the library's own primitives in a bare loop, with no table,
 * no output block and no header list. If a floor alone is near or above a
 * tenth of hpack.js's time, 10× is out of reach for any coder built on it.
 */

import { latin1String, type Latin1Buffer } from '../lib/common/latin1.js';
import { huffmanDecodeInto } from '../lib/hpack/huffman.js';
import { huffmanEncodeInto } from '../lib/hpack/huffman-encode.js';
import { Encoder } from '../lib/hpack/index.js';
import { decodeInteger, type Cursor } from '../lib/hpack/primitives.js';
import { builtinDecodeFlatPass, builtinEncodePass, hpackJsDecodePass, hpackJsEncodePass, interleave, type Pass } from './hpack-passes.js';
import { median as medianOf } from './shared.js';
import { headersPerRawPass, headersPerWirePass, rawStories, wireStories } from './stories.js';

const ROUNDS = Number(process.argv[2] ?? 7);
const MIN_MS = 300;

// --- what the floors work on ---------------------------------------------------

interface Literal {
  block: Buffer;
  start: number;
  end: number;
  huffman: boolean;
}

/** Every string literal in the nghttp2 blocks (RFC 7541 §6), block by block. */
function literalsOf(blocks: Buffer[][]): Literal[][] {
  const out: Literal[][] = [];
  const cur: Cursor = { pos: 0 };
  for (const story of blocks) {
    for (const block of story) {
      const literals: Literal[] = [];
      out.push(literals);
      cur.pos = 0;
      while (cur.pos < block.length) {
        const b = block[cur.pos]!;
        if (b >= 0x80) {
          decodeInteger(block, cur, block.length, 7); // indexed field
          continue;
        }
        if ((b & 0xe0) === 0x20) {
          decodeInteger(block, cur, block.length, 5); // table size update
          continue;
        }
        const nameIndex = decodeInteger(block, cur, block.length, b >= 0x40 ? 6 : 4);
        for (let k = nameIndex === 0 ? 2 : 1; k > 0; k--) {
          const huffman = block[cur.pos]! >= 0x80;
          const length = decodeInteger(block, cur, block.length, 7);
          literals.push({ block, start: cur.pos, end: cur.pos + length, huffman });
          cur.pos += length;
        }
      }
    }
  }
  return out;
}

const blockLiterals = literalsOf(wireStories);
const literals = blockLiterals.flat();
const huffmanLiterals = literals.filter((l) => l.huffman);
const scratch = Buffer.allocUnsafe(1 << 16) as Latin1Buffer;

/** A block's literals decoded, one after another, and where each ends. */
interface BlockText {
  octets: Latin1Buffer;
  ends: Uint32Array;
}
const blockTexts: BlockText[] = blockLiterals.map((ls) => {
  const octets = Buffer.alloc(ls.reduce((n, l) => n + (l.end - l.start) * 2, 1)) as Latin1Buffer;
  const ends = new Uint32Array(ls.length);
  let at = 0;
  ls.forEach((l, i) => {
    if (l.huffman) {
      at += huffmanDecodeInto(l.block, l.start, l.end, octets, at);
    } else {
      at += l.block.copy(octets, at, l.start, l.end);
    }
    ends[i] = at;
  });
  return { octets, ends };
});

/** The values our encoder sends as literals: an encoder per story, one field at a time. */
const literalValues: string[] = [];
for (const story of rawStories) {
  const e = new Encoder();
  for (const list of story) {
    for (const field of list) {
      const block = e.encode([field]);
      if (!(block.length === 1 && block[0]! >= 0x80)) literalValues.push(field[1]);
    }
  }
}
const names = rawStories.flat(2).map((f) => f[0]);
const nameMap = new Map<string, number>(names.map((n, i) => [n, i]));
const out = Buffer.allocUnsafe(1 << 16);

// --- contenders: ns per header ---------------------------------------------------

const contenders: Pass[] = [
  { name: 'decode hpack.js', per: headersPerWirePass, pass: hpackJsDecodePass },
  { name: 'decode builtin', per: headersPerWirePass, pass: builtinDecodeFlatPass },
  {
    name: 'decode floor: Huffman',
    per: headersPerWirePass,
    pass() {
      let n = 0;
      for (let i = 0; i < huffmanLiterals.length; i++) {
        const l = huffmanLiterals[i]!;
        n += huffmanDecodeInto(l.block, l.start, l.end, scratch);
      }
      return n;
    },
  },
  {
    name: 'decode floor: strings',
    per: headersPerWirePass,
    pass() {
      let n = 0;
      for (let b = 0; b < blockTexts.length; b++) {
        const { octets, ends } = blockTexts[b]!;
        if (ends.length === 0) continue;
        const text = latin1String(octets, 0, ends[ends.length - 1]!);
        let from = 0;
        for (let i = 0; i < ends.length; i++) {
          const stop = ends[i]!;
          n += text.substring(from, stop).length;
          from = stop;
        }
      }
      return n;
    },
  },
  { name: 'encode hpack.js', per: headersPerRawPass, pass: hpackJsEncodePass },
  { name: 'encode builtin', per: headersPerRawPass, pass: builtinEncodePass },
  {
    name: 'encode floor: Huffman',
    per: headersPerRawPass,
    pass() {
      let n = 0;
      for (let i = 0; i < literalValues.length; i++) n += huffmanEncodeInto(literalValues[i]!, out, 0);
      return n;
    },
  },
  {
    name: 'encode floor: name lookup',
    per: headersPerRawPass,
    pass() {
      let n = 0;
      for (let i = 0; i < names.length; i++) n += nameMap.get(names[i]!)!;
      return n;
    },
  },
];

const results = interleave(contenders, ROUNDS, MIN_MS);
const median = (name: string): number => medianOf(results.get(name)!);

console.log(`${ROUNDS} interleaved rounds of >= ${MIN_MS} ms each; median ns per header`);
console.log(`decode: ${literals.length} literals, ${huffmanLiterals.length} Huffman-coded; encode: ${literalValues.length} literal values of ${headersPerRawPass} fields`);
console.log('');
for (const c of contenders) console.log(`${c.name.padEnd(26)} ${median(c.name).toFixed(1).padStart(8)} ns/header`);
console.log('');
for (const dir of ['decode', 'encode'] as const) {
  const target = median(`${dir} hpack.js`) / 10;
  const floor = contenders.filter((c) => c.name.startsWith(`${dir} floor`)).reduce((n, c) => n + median(c.name), 0);
  const ours = median(`${dir} builtin`);
  console.log(
    `${dir}: 10x hpack.js needs <= ${target.toFixed(1)} ns/header; the floor alone takes ${floor.toFixed(1)} (${((floor / target) * 100).toFixed(0)}% of it); ` +
      `builtin takes ${ours.toFixed(1)} (${(median(`${dir} hpack.js`) / ours).toFixed(1)}x hpack.js)`,
  );
}
