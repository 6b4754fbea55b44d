/**
 * What the HPACK benchmarks share: one pass of each coder over the stories,
 * and the interleaved timing of passes.
 */

import hpack from 'hpack.js';
import { Decoder, Encoder } from '../lib/hpack/index.js';
import { rawStories, wireStories } from './stories.js';

/**
 * Decodes every nghttp2 block with the built-in decoder's public `decode()`
 * (one decoder per story), a fresh [name, value] per field; returns the headers.
 */
export function builtinDecodePass(): number {
  let n = 0;
  for (const story of wireStories) {
    const d = new Decoder();
    for (const block of story) n += d.decode(block).length;
  }
  return n;
}

/**
 * Decodes every nghttp2 block as the HTTP/2 engine does: `decodeFlat()`, one
 * `[name, value, …]` list per block, no array per field.
 */
export function builtinDecodeFlatPass(): number {
  let n = 0;
  for (const story of wireStories) {
    const d = new Decoder();
    for (const block of story) n += d.decodeFlat(block).length >> 1;
  }
  return n;
}

/** The same with hpack.js (its table option is `maxSize`). */
export function hpackJsDecodePass(): number {
  let n = 0;
  for (const story of wireStories) {
    const d = hpack.decompressor.create({ table: { maxSize: 4096 } });
    for (const block of story) {
      d.write(block);
      d.execute();
      while (d.read() !== null) n++;
    }
  }
  return n;
}

/** Encodes every raw-data list with the built-in encoder (one per story); returns the wire octets. */
export function builtinEncodePass(): number {
  let bytes = 0;
  for (const story of rawStories) {
    const e = new Encoder();
    for (const list of story) bytes += e.encode(list).length;
  }
  return bytes;
}

/** The same with hpack.js, which takes fields as objects. */
export function hpackJsEncodePass(): number {
  let bytes = 0;
  for (const story of rawStories) {
    const c = hpack.compressor.create({ table: { maxSize: 4096 } });
    for (const list of story) {
      c.write(list.map(([name, value]) => ({ name, value })));
      bytes += c.read()?.length ?? 0;
    }
  }
  return bytes;
}

/** A timed contender: `pass` handles `per` headers. */
export interface Pass {
  readonly name: string;
  readonly per: number;
  readonly pass: () => number;
}

/** Nanoseconds per header of `pass`, run for at least `minMs`. */
function nsPerHeader(c: Pass, minMs: number): number {
  const start = process.hrtime.bigint();
  let passes = 0;
  let elapsed = 0;
  do {
    c.pass();
    passes++;
    elapsed = Number(process.hrtime.bigint() - start);
  } while (elapsed < minMs * 1e6);
  return elapsed / passes / c.per;
}

/**
 * Times every pass for at least `minMs` per round, after a warm-up round,
 * in `rounds` rounds whose order alternates so no contender always runs
 * first. Returns each contender's ns per header, a figure per round.
 */
export function interleave(passes: readonly Pass[], rounds: number, minMs: number): Map<string, number[]> {
  for (const c of passes) nsPerHeader(c, minMs);
  const results = new Map<string, number[]>(passes.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? passes : [...passes].reverse();
    for (const c of order) results.get(c.name)!.push(nsPerHeader(c, minMs));
  }
  return results;
}
