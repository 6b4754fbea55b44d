/** Conformance with the shared hpack-test-case stories (test/fixtures/hpack-test-case/). */

import { describe, expect, it } from 'vitest';
import { Decoder, Encoder } from '../../lib/hpack/index.js';
import type { HeaderField } from '../../lib/hpack/index.js';
import { loadStories, storyFolders } from './helpers.js';

const WIRE_FOLDERS = ['go-hpack', 'nghttp2', 'nghttp2-16384-4096', 'node-http2-hpack', 'python-hpack'];

describe('hpack-test-case fixtures', () => {
  it('has every expected folder', () => {
    const folders = storyFolders();
    for (const f of [...WIRE_FOLDERS, 'raw-data']) expect(folders).toContain(f);
  });

  for (const folder of WIRE_FOLDERS) {
    it(`decodes every ${folder} story exactly`, () => {
      const stories = loadStories(folder);
      expect(stories.length).toBeGreaterThan(0);
      let cases = 0;
      for (const story of stories) {
        const decoder = new Decoder();
        for (const c of story.cases) {
          expect(c.wire, `${story.name} case ${c.seqno} has no wire`).toBeDefined();
          decoder.setMaxTableSize(c.headerTableSize ?? 4096);
          let got: HeaderField[];
          try {
            got = decoder.decode(c.wire!);
          } catch (err) {
            throw new Error(`${story.name} case ${c.seqno}: ${(err as Error).message}`, { cause: err });
          }
          expect(got, `${story.name} case ${c.seqno}`).toEqual(c.headers);
          cases++;
        }
      }
      expect(cases).toBeGreaterThan(100);
    });
  }

  describe('raw-data through the built-in Encoder and Decoder', () => {
    const stories = loadStories('raw-data');

    for (const huffman of [true, false]) {
      it(`round-trips every story with huffman: ${huffman}`, () => {
        expect(stories.length).toBeGreaterThan(0);
        let wireBytes = 0;
        let plainBytes = 0;
        for (const story of stories) {
          const encoder = new Encoder({ huffman });
          const decoder = new Decoder();
          for (const c of story.cases) {
            const block = encoder.encode(c.headers);
            expect(decoder.decode(block), `${story.name} case ${c.seqno}`).toEqual(c.headers);
            wireBytes += block.length;
            for (const [n, v] of c.headers) plainBytes += n.length + v.length;
          }
        }
        const ratio = wireBytes / plainBytes;
        if (huffman) {
          expect(ratio, `compression ratio with Huffman: ${ratio.toFixed(4)}`).toBeLessThanOrEqual(0.31);
        } else {
          // Without Huffman the ratio is worse, but the table still compresses.
          expect(ratio, `compression ratio without Huffman: ${ratio.toFixed(4)}`).toBeLessThanOrEqual(0.4); // 0.3866 measured
        }
      });
    }
  });
});
