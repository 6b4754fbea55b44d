/**
 * Reads the hpack-test-case stories the project carries in
 * test/fixtures/hpack-test-case/: one brotli-compressed JSON file per
 * folder of the corpus, mapping each story's file name to the story.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync } from 'node:zlib';

/** Where the stories are, beside the test sources. */
export const STORY_DIR = fileURLToPath(new URL('../fixtures/hpack-test-case/', import.meta.url));

/** One case of a story, as the corpus writes it. */
export interface RawStoryCase {
  seqno?: number;
  wire?: string;
  header_table_size?: number;
  headers: Record<string, string>[];
}

/** One story: a compression context, its cases to be decoded in order. */
export interface RawStory {
  file: string;
  cases: RawStoryCase[];
}

const SUFFIX = '.json.br';

/** The folders of the corpus the project carries, sorted. */
export function storyFolderNames(dir: string = STORY_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
}

/** The stories of one folder, sorted by file name. */
export function readStoryFolder(folder: string, dir: string = STORY_DIR): RawStory[] {
  const json = JSON.parse(brotliDecompressSync(readFileSync(join(dir, folder + SUFFIX))).toString('utf8')) as Record<
    string,
    { cases: RawStoryCase[] }
  >;
  return Object.keys(json)
    .sort()
    .map((file) => ({ file, cases: json[file]!.cases }));
}
