/**
 * The hpack-test-case stories the HPACK benchmarks replay: the ones the
 * tests carry in test/fixtures/hpack-test-case/ (HPACK_FIXTURES to point
 * elsewhere). Run from the project's root, as the npm scripts do.
 */

import { join } from 'node:path';
import { readStoryFolder, type RawStoryCase } from '../test/helpers/hpack-stories.js';

const FIXTURES = process.env.HPACK_FIXTURES ?? join(process.cwd(), 'test', 'fixtures', 'hpack-test-case');

export type Field = [string, string];
/** Story values are UTF-8 text; HPACK carries octets, held here as latin1. */
function fields(c: RawStoryCase): Field[] {
  return c.headers.map((h) => {
    const [name, value] = Object.entries(h)[0]!;
    return [name, Buffer.from(value, 'utf8').toString('latin1')];
  });
}

function loadStories(folder: string): RawStoryCase[][] {
  return readStoryFolder(folder, FIXTURES).map((story) => story.cases);
}

/** The raw-data stories: per story, its header lists in order. */
export const rawStories: Field[][][] = loadStories('raw-data').map((cases) => cases.map(fields));
/** The nghttp2 encoder's blocks for the same stories: per story, its blocks in order. */
export const wireStories: Buffer[][] = loadStories('nghttp2').map((cases) => cases.map((c) => Buffer.from(c.wire!, 'hex')));
/** Header fields in one pass over the raw-data stories. */
export const headersPerRawPass = rawStories.reduce((n, s) => n + s.reduce((m, c) => m + c.length, 0), 0);
/** Header fields in one pass over the nghttp2 blocks. */
export const headersPerWirePass = loadStories('nghttp2').reduce((n, s) => n + s.reduce((m, c) => m + c.headers.length, 0), 0);
