/** The built-in HPACK backend against hpack.js, over the raw-data stories. */

import { describe, expect, it } from 'vitest';
import { BuiltinHeaderCodec, Decoder, Encoder, HpackJsHeaderCodec } from '../../lib/hpack/index.js';
import type { HeaderCodec } from '../../lib/hpack/index.js';
import { loadStories } from './helpers.js';

const stories = loadStories('raw-data');

describe('differential: built-in vs hpack.js', () => {
  it('has raw-data stories', () => {
    expect(stories.length).toBeGreaterThan(0);
  });

  for (const huffman of [true, false]) {
    it(`built-in Encoder (huffman: ${huffman}) -> hpack.js decoder`, () => {
      for (const story of stories) {
        const encoder = new Encoder({ huffman });
        const peer = new HpackJsHeaderCodec();
        for (const c of story.cases) {
          const block = encoder.encode(c.headers);
          expect(peer.decode(block), `${story.name} case ${c.seqno}`).toEqual(c.headers);
        }
      }
    });

    it(`hpack.js encoder (huffman: ${huffman}) -> built-in Decoder`, () => {
      for (const story of stories) {
        const peer = new HpackJsHeaderCodec({ encoder: { huffman } });
        const decoder = new Decoder();
        for (const c of story.cases) {
          const block = peer.encode(c.headers);
          expect(decoder.decode(block), `${story.name} case ${c.seqno}`).toEqual(c.headers);
        }
      }
    });

    it(`hpack.js encoder (huffman: ${huffman}) -> both backends' flat lists, as the engine reads them`, () => {
      for (const story of stories) {
        const peer = new HpackJsHeaderCodec({ encoder: { huffman } });
        const builtin = new BuiltinHeaderCodec();
        const hpackJs = new HpackJsHeaderCodec();
        for (const c of story.cases) {
          const block = peer.encode(c.headers);
          const want = c.headers.flat();
          expect(builtin.decodeFlat(block), `${story.name} case ${c.seqno}`).toEqual(want);
          expect(hpackJs.decodeFlat(block), `${story.name} case ${c.seqno}`).toEqual(want);
        }
      }
    });
  }

  /**
   * One side encodes, the other decodes; the encoder's table shrinks to 256
   * a third of the way through a story and grows back to 4096 at two thirds,
   * with the matching limit set on the decoder before the next block.
   */
  function runWithResizes(makeSender: () => HeaderCodec, makeReceiver: () => HeaderCodec): void {
    for (const story of stories) {
      const sender = makeSender();
      const receiver = makeReceiver();
      const n = story.cases.length;
      const shrinkAt = Math.floor(n / 3);
      const growAt = Math.floor((2 * n) / 3);
      story.cases.forEach((c, i) => {
        if (i === shrinkAt && i > 0) {
          sender.setEncoderMaxTableSize(256);
          receiver.setDecoderMaxTableSize(256);
        }
        if (i === growAt && i > shrinkAt) {
          receiver.setDecoderMaxTableSize(4096);
          sender.setEncoderMaxTableSize(4096);
        }
        // A shrink and grow between two blocks, on every fifth block after growAt.
        if (i > growAt && i % 5 === 0) {
          sender.setEncoderMaxTableSize(0);
          sender.setEncoderMaxTableSize(4096);
        }
        const block = sender.encode(c.headers);
        expect(receiver.decode(block), `${story.name} case ${c.seqno} (${sender.backend} -> ${receiver.backend})`).toEqual(
          c.headers,
        );
      });
    }
  }

  it('BuiltinHeaderCodec -> HpackJsHeaderCodec with table size changes mid-story', () => {
    runWithResizes(
      () => new BuiltinHeaderCodec(),
      () => new HpackJsHeaderCodec(),
    );
  });

  it('HpackJsHeaderCodec -> BuiltinHeaderCodec with table size changes mid-story', () => {
    runWithResizes(
      () => new HpackJsHeaderCodec(),
      () => new BuiltinHeaderCodec(),
    );
  });

  it('BuiltinHeaderCodec -> BuiltinHeaderCodec with table size changes mid-story', () => {
    runWithResizes(
      () => new BuiltinHeaderCodec({ encoder: { huffman: false } }),
      () => new BuiltinHeaderCodec(),
    );
  });

  it('the shrink is signalled on the wire by both encoders', () => {
    for (const make of [() => new BuiltinHeaderCodec(), () => new HpackJsHeaderCodec()]) {
      const codec: HeaderCodec = make();
      codec.encode([['x-a', 'b']]);
      codec.setEncoderMaxTableSize(256);
      const block = codec.encode([[':method', 'GET']]);
      // 001xxxxx with a 5-bit prefix: 256 = 31 + 225 -> 3f e1 01.
      expect(block.subarray(0, 3).toString('hex'), codec.backend).toBe('3fe101');
    }
  });
});
