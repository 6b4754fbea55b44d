/**
 * How fast does FrameReader parse what a socket hands it?
 *
 *   npm run bench:frame   (compiles, then: node build/bench/frame.js [filter])
 *
 * With `filter`, only the scenarios whose name contains it run (for profiling
 * one at a time: node --cpu-prof build/bench/frame.js mixed).
 *
 * (a) frames/s for a long stream of mixed small frames (HEADERS, ~100-octet
 *     DATA, WINDOW_UPDATE, PING, SETTINGS, RST_STREAM) pushed as 12-20 KiB
 *     chunks cut at arbitrary points, as socket reads are;
 * (b) MB/s for 16 KiB DATA frames, pushed as 12-20 KiB chunks and as 64 KiB
 *     chunks (so most chunks split a frame and one payload per chunk is copied).
 *
 * Each scenario runs a few warm-up rounds, then timed rounds; we print the
 * median and the spread (min..max). No network; the input is built once up
 * front, each chunk in its own Buffer, like socket reads. Runtime is bounded
 * (about 12 s). There is no in-process peer to compare against: node:http2
 * parses frames inside nghttp2 (C) and exposes no frame-level API.
 */

import { performance } from 'node:perf_hooks';
import { Flag, FrameReader, FrameType, SettingId, encodeFrame } from '../lib/frame/index.js';
import type { Frame } from '../lib/frame/index.js';

const WARMUP_ROUNDS = 3;
const TIMED_ROUNDS = 9;
/** Each round repeats the parse until at least this long has passed, so short inputs still time well. */
const ROUND_MS = 250;

/** Deterministic PRNG (mulberry32), so every run parses the same bytes. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bytes(n: number, next: () => number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 256) | 0;
  return out;
}

/** A realistic mix of small frames, mostly DATA and HEADERS. */
function mixedFrames(count: number, next: () => number): Frame[] {
  const frames: Frame[] = [];
  const ping = bytes(8, next);
  for (let i = 0; i < count; i++) {
    const streamId = 1 + 2 * ((next() * 100) | 0);
    const r = next();
    if (r < 0.45) {
      frames.push({ type: FrameType.DATA, flags: r < 0.05 ? Flag.END_STREAM : 0, streamId, padding: 0, data: bytes(80 + ((next() * 40) | 0), next) });
    } else if (r < 0.7) {
      frames.push({
        type: FrameType.HEADERS, flags: Flag.END_HEADERS, streamId, padding: 0,
        exclusive: false, streamDependency: 0, weight: 16, headerBlockFragment: bytes(20 + ((next() * 60) | 0), next),
      });
    } else if (r < 0.88) {
      frames.push({ type: FrameType.WINDOW_UPDATE, flags: 0, streamId: r < 0.8 ? 0 : streamId, windowSizeIncrement: 1 + ((next() * 65535) | 0) });
    } else if (r < 0.93) {
      frames.push({ type: FrameType.PING, flags: r < 0.9 ? Flag.ACK : 0, streamId: 0, ack: r < 0.9, opaqueData: ping });
    } else if (r < 0.96) {
      frames.push({
        type: FrameType.SETTINGS, flags: 0, streamId: 0, ack: false,
        settings: [[SettingId.MAX_CONCURRENT_STREAMS, 100], [SettingId.INITIAL_WINDOW_SIZE, 1 << 20], [SettingId.MAX_HEADER_LIST_SIZE, 65536]],
      });
    } else {
      frames.push({ type: FrameType.RST_STREAM, flags: 0, streamId, errorCode: 8 });
    }
  }
  return frames;
}

function concat(parts: readonly Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}

/** Cuts `stream` into chunks of `min..max` octets, each copied into its own Buffer. */
function chunk(stream: Buffer, min: number, max: number, next: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const size = min + Math.floor(next() * (max - min + 1));
    chunks.push(Buffer.from(stream.subarray(at, at + size)));
    at += size;
  }
  return chunks;
}

interface Round {
  frames: number;
  octets: number;
  seconds: number;
}

/** Pushes every chunk, reading all complete frames after each, as the engine will. */
function parse(chunks: readonly Buffer[]): Round {
  const reader = new FrameReader();
  let frames = 0;
  let octets = 0;
  let check = 0; // depends on every frame, so nothing can be optimised away
  const start = performance.now();
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i] as Buffer;
    octets += c.length;
    reader.push(c);
    for (let f = reader.read(); f !== null; f = reader.read()) {
      frames++;
      check += f.type + f.streamId;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  if (reader.bufferedBytes !== 0 || check < 0) throw new Error('stream not fully parsed');
  return { frames, octets, seconds };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One round: whole parses of `chunks` until ROUND_MS has passed, summed. */
function round(chunks: readonly Buffer[]): Round {
  const total: Round = { frames: 0, octets: 0, seconds: 0 };
  while (total.seconds * 1000 < ROUND_MS) {
    const r = parse(chunks);
    total.frames += r.frames;
    total.octets += r.octets;
    total.seconds += r.seconds;
  }
  return total;
}

const filter = process.argv[2] ?? '';

function report(name: string, chunks: readonly Buffer[], rate: (r: Round) => number, unit: string): void {
  if (!name.includes(filter)) return;
  for (let i = 0; i < WARMUP_ROUNDS; i++) round(chunks);
  const rates: number[] = [];
  for (let i = 0; i < TIMED_ROUNDS; i++) rates.push(rate(round(chunks)));
  const med = median(rates);
  const min = Math.min(...rates);
  const max = Math.max(...rates);
  const fmt = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x.toFixed(0));
  const spread = (((max - min) / med) * 100).toFixed(1);
  console.log(
    `${name.padEnd(44)} median ${fmt(med).padStart(8)} ${unit}  (min ${fmt(min)}, max ${fmt(max)}, spread ${spread}%, ${TIMED_ROUNDS} rounds)`,
  );
}

const next = rng(0xf4a3e);

// (a) mixed small frames.
const mixed = concat(mixedFrames(300_000, next).map((f) => encodeFrame(f)));
const mixedChunks = chunk(mixed, 12 * 1024, 20 * 1024, next);
console.log(`mixed small frames: ${(mixed.length / 1e6).toFixed(1)} MB in ${mixedChunks.length} chunks of 12-20 KiB`);
report('(a) mixed small frames, 12-20 KiB chunks', mixedChunks, (r) => r.frames / r.seconds, 'frames/s');

// (b) 16 KiB DATA frames.
const payload = Buffer.from(bytes(16_384, next));
const dataStream = concat(
  Array.from({ length: 4000 }, (_, i) =>
    encodeFrame({ type: FrameType.DATA, flags: 0, streamId: 1 + 2 * (i % 8), padding: 0, data: payload }),
  ),
);
console.log(`16 KiB DATA frames: ${(dataStream.length / 1e6).toFixed(1)} MB`);
report('(b) 16 KiB DATA, 12-20 KiB chunks', chunk(dataStream, 12 * 1024, 20 * 1024, next), (r) => r.octets / 1e6 / r.seconds, 'MB/s');
report('(b) 16 KiB DATA, 64 KiB chunks', chunk(dataStream, 65_536, 65_536, next), (r) => r.octets / 1e6 / r.seconds, 'MB/s');
