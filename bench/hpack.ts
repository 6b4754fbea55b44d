/**
 * HPACK: the built-in codec against hpack.js, in one run, interleaved.
 *
 *   npm run bench:hpack   (compiles, then: node build/bench/hpack.js [rounds])
 *
 * - decode headers/s: both decode the same wire, the nghttp2 encoder's blocks
 *   from the hpack-test-case stories (one decoder per story, in order). The
 *   built-in decoder as the HTTP/2 engine calls it, `decodeFlat()`, and
 *   through the public `decode()`, which adds a fresh [name, value] per field
 *   ('decode pairs');
 * - encode headers/s: both encode the raw-data stories (one encoder per story);
 * - compression ratio: wire bytes / (name + value bytes) over the raw-data
 *   stories, beside nghttp2's for the same stories.
 *
 * Each round times every contender for at least MIN_MS (default 1000; set
 * it in the environment), alternating, after a warm-up; the medians and
 * their ratio are printed. A window of a second holds many of hpack.js's
 * garbage collections: with 300 ms ones, the built-in decoder's own figure
 * moved by ±3-9% within a run, against ±2%.
 */

import { builtinDecodeFlatPass, builtinDecodePass, builtinEncodePass, hpackJsDecodePass, hpackJsEncodePass, interleave } from './hpack-passes.js';
import { median } from './shared.js';
import { headersPerRawPass, headersPerWirePass, rawStories, wireStories } from './stories.js';

const ROUNDS = Number(process.argv[2] ?? 7);
const MIN_MS = Number(process.env.MIN_MS ?? 1000);

// --- compression ratio -------------------------------------------------------

const rawBytes = rawStories.reduce(
  (n, s) => n + s.reduce((m, c) => m + c.reduce((k, [name, value]) => k + name.length + value.length, 0), 0),
  0,
);
const nghttp2Wire = wireStories.reduce((n, s) => n + s.reduce((m, b) => m + b.length, 0), 0);
const builtinRatio = builtinEncodePass() / rawBytes;
const hpackJsRatio = hpackJsEncodePass() / rawBytes;
const nghttp2Ratio = nghttp2Wire / rawBytes;

// --- run ---------------------------------------------------------------------

// Rates in headers/s, from ns per header.
const results = new Map(
  [
    ...interleave(
      [
        { name: 'decode builtin', pass: builtinDecodeFlatPass, per: headersPerWirePass },
        { name: 'decode pairs', pass: builtinDecodePass, per: headersPerWirePass },
        { name: 'decode hpack.js', pass: hpackJsDecodePass, per: headersPerWirePass },
        { name: 'encode builtin', pass: builtinEncodePass, per: headersPerRawPass },
        { name: 'encode hpack.js', pass: hpackJsEncodePass, per: headersPerRawPass },
      ],
      ROUNDS,
      MIN_MS,
    ),
  ].map(([name, ns]) => [name, ns.map((x) => 1e9 / x)]),
);

function spread(xs: number[]): string {
  const m = median(xs);
  return `±${((Math.max(...xs.map((x) => Math.abs(x - m))) / m) * 100).toFixed(0)}%`;
}
const m = (name: string): number => median(results.get(name)!);
const fmt = (x: number): string => `${(x / 1e6).toFixed(2)} M headers/s`;

console.log(`hpack-test-case: ${wireStories.length} nghttp2 stories (${headersPerWirePass} headers), ${rawStories.length} raw-data stories (${headersPerRawPass} headers)`);
console.log(`${ROUNDS} interleaved rounds of >= ${MIN_MS} ms each; median (largest deviation)`);
console.log('');
for (const [name, xs] of results) console.log(`${name.padEnd(16)} ${fmt(median(xs)).padStart(18)}  ${spread(xs)}`);
console.log('');
console.log(`decode: builtin / hpack.js = ${(m('decode builtin') / m('decode hpack.js')).toFixed(1)}x (the engine's path, decodeFlat(); Decoder.decode(), a fresh pair per field: ${(m('decode pairs') / m('decode hpack.js')).toFixed(1)}x)`);
console.log(`encode: builtin / hpack.js = ${(m('encode builtin') / m('encode hpack.js')).toFixed(1)}x`);
console.log('');
console.log('compression ratio (wire bytes / name+value bytes, raw-data stories):');
console.log(`  builtin  ${builtinRatio.toFixed(4)}`);
console.log(`  hpack.js ${hpackJsRatio.toFixed(4)}`);
console.log(`  nghttp2  ${nghttp2Ratio.toFixed(4)} (its blocks for the same stories)`);
