/** Shared helpers of the HPACK tests: the hpack-test-case stories, hex. */

import type { HeaderField } from '../../lib/hpack/index.js';
import { readStoryFolder, storyFolderNames } from '../helpers/hpack-stories.js';

export interface StoryCase {
  seqno: number;
  headerTableSize: number | undefined;
  wire: Buffer | undefined;
  /** Headers as octets held in latin1 strings. */
  headers: HeaderField[];
}

export interface Story {
  name: string;
  cases: StoryCase[];
}

/** Story values are UTF-8 text; HPACK carries octets, held as latin1 strings. */
export function utf8ToOctets(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

export const storyFolders = storyFolderNames;

export function loadStories(folder: string): Story[] {
  return readStoryFolder(folder).map(({ file, cases }) => ({
    name: `${folder}/${file}`,
    cases: cases.map((c, i) => ({
      seqno: c.seqno ?? i,
      headerTableSize: c.header_table_size,
      wire: c.wire === undefined ? undefined : Buffer.from(c.wire, 'hex'),
      headers: c.headers.map((h): HeaderField => {
        const entries = Object.entries(h);
        if (entries.length !== 1) throw new Error(`${folder}/${file}: header object with ${entries.length} keys`);
        const [name, value] = entries[0]!;
        return [utf8ToOctets(name), utf8ToOctets(value)];
      }),
    })),
  }));
}

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Runs `fn` and returns what it threw; fails if it returned normally. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}
