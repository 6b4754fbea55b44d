/** Shared helpers for the frame codec tests. */

import { FrameReader } from '../../lib/frame/index.js';
import type { Frame } from '../../lib/frame/index.js';

/** Bytes from hex written with spaces/newlines for readability, in a fresh (unpooled) ArrayBuffer. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * A frame with its byte fields as hex strings, and nothing else changed, so
 * deep equality compares content (not Buffer vs Uint8Array) and failures read well.
 */
export function normalize(frame: Frame): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(frame)) {
    out[key] = value instanceof Uint8Array ? `hex:${toHex(value)}` : value;
  }
  return out;
}

/** Deterministic PRNG (mulberry32): the same seed gives the same splits on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Copies `bytes` into separate chunks (each its own ArrayBuffer, like socket reads) cut at `cuts`. */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((x, y) => x - y);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    // Uint8Array.from, not slice: Buffer#slice is a view, and we want each chunk to own its memory.
    if (point > start) chunks.push(Uint8Array.from(bytes.subarray(start, point)));
    start = point;
  }
  return chunks;
}

export function everyByte(bytes: Uint8Array): Uint8Array[] {
  return splitAt(bytes, Array.from({ length: bytes.length }, (_, i) => i));
}

/** Random cuts, on average one every `mean` octets. */
export function randomSplits(bytes: Uint8Array, seed: number, mean = 7): Uint8Array[] {
  const next = rng(seed);
  const cuts: number[] = [];
  for (let at = 0; ; ) {
    at += 1 + Math.floor(next() * mean * 2);
    if (at >= bytes.length) break;
    cuts.push(at);
  }
  return splitAt(bytes, cuts);
}

/** Pushes each chunk and reads every frame that has become complete. */
export function readAllInterleaved(chunks: readonly Uint8Array[], reader = new FrameReader()): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    for (let frame = reader.read(); frame !== null; frame = reader.read()) frames.push(frame);
  }
  return frames;
}

/** Pushes every chunk first, then reads (the queue holds all of them at once). */
export function readAllAfterPushing(chunks: readonly Uint8Array[], reader = new FrameReader()): Frame[] {
  for (const chunk of chunks) reader.push(chunk);
  const frames: Frame[] = [];
  for (let frame = reader.read(); frame !== null; frame = reader.read()) frames.push(frame);
  return frames;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
