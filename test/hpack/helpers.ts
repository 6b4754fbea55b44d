/** Shared helpers of the HPACK tests: the hpack-test-case stories, hex. */

import { readdirSync, readFileSync } from 'node:fs';
import type { HeaderField } from '../../lib/hpack/index.js';

/** The shared stories; read in place, never copied into the project. */
export const FIXTURES = new URL('../../../shared/fixtures/hpack-test-case/', import.meta.url);

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

interface RawCase {
  seqno?: number;
  wire?: string;
  header_table_size?: number;
  headers: Record<string, string>[];
}

/** Story values are UTF-8 text; HPACK carries octets, held as latin1 strings. */
export function utf8ToOctets(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

export function storyFolders(): string[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export function loadStories(folder: string): Story[] {
  const dir = new URL(`${folder}/`, FIXTURES);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const json = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { cases: RawCase[] };
      return {
        name: `${folder}/${file}`,
        cases: json.cases.map((c, i) => ({
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
      };
    });
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
