/** The HPACK Decoder: malformed, truncated and hostile blocks, limits. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { HPACKDecodingError, HeaderListSizeError } from '../../lib/common/errors.js';
import { Decoder, Encoder, decodeInteger, encodeInteger, huffmanEncodeInto, huffmanEncodedLength, MAX_HPACK_INTEGER } from '../../lib/hpack/index.js';
import type { HeaderField } from '../../lib/hpack/index.js';
import { hex, loadStories, thrown } from './helpers.js';

function expectDecodingError(fn: () => unknown, code: string): HPACKDecodingError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(HPACKDecodingError);
  const e = err as HPACKDecodingError;
  expect(e.code).toBe(code);
  return e;
}

/** An integer with a 5-bit prefix, as a block (a size update when flags = 0x20). */
function int(value: number, prefix: number, flags: number): Buffer {
  const out = Buffer.alloc(8);
  return out.subarray(0, encodeInteger(out, 0, value, prefix, flags));
}

/** A raw string literal. */
function str(s: string): Buffer {
  return Buffer.concat([int(s.length, 7, 0), Buffer.from(s, 'latin1')]);
}

/** A Huffman-coded string literal. */
function huff(s: string): Buffer {
  const n = huffmanEncodedLength(s);
  const out = Buffer.alloc(n);
  huffmanEncodeInto(s, out, 0);
  return Buffer.concat([int(n, 7, 0x80), out]);
}

describe('integers', () => {
  it('0x1f followed by ff ff ff ff ff 0f overflows', () => {
    const e = expectDecodingError(() => new Decoder().decode(hex('1fffffffffff0f')), 'HW_ERR_HPACK_INTEGER_OVERFLOW');
    expect(e.errorCode).toBe(9);
    expect(e.scope).toBe('connection');
  });

  it('decodeInteger overflows past 2^32 - 1, and accepts 2^32 - 1 itself', () => {
    for (const prefix of [4, 5, 6, 7, 8]) {
      const ok = int(MAX_HPACK_INTEGER, prefix, 0);
      const cur = { pos: 0 };
      expect(decodeInteger(ok, cur, ok.length, prefix)).toBe(MAX_HPACK_INTEGER);
      expect(cur.pos).toBe(ok.length);
      const big = int(MAX_HPACK_INTEGER + 1, prefix, 0);
      expectDecodingError(() => decodeInteger(big, { pos: 0 }, big.length, prefix), 'HW_ERR_HPACK_INTEGER_OVERFLOW');
    }
  });

  it('bounds zero-valued continuation octets too', () => {
    const b = hex('1f8080808080808000');
    expectDecodingError(() => decodeInteger(b, { pos: 0 }, b.length, 5), 'HW_ERR_HPACK_INTEGER_OVERFLOW');
  });

  it('a truncated integer is HW_ERR_HPACK_TRUNCATED', () => {
    for (const b of ['1f', '1fff', 'ff80', '7f']) {
      const buf = hex(b);
      expectDecodingError(() => decodeInteger(buf, { pos: 0 }, buf.length, b.startsWith('1') ? 5 : 7), 'HW_ERR_HPACK_TRUNCATED');
    }
    // `end` is honoured even when the buffer goes on.
    const b = hex('1fff0f');
    expectDecodingError(() => decodeInteger(b, { pos: 0 }, 2, 5), 'HW_ERR_HPACK_TRUNCATED');
  });
});

describe('truncated blocks', () => {
  /** Blocks with the decoder state each needs: the blocks before it in its story. */
  function corpus(): { name: string; before: Buffer[]; block: Buffer; headers: HeaderField[] }[] {
    const items: { name: string; before: Buffer[]; block: Buffer; headers: HeaderField[] }[] = [];
    for (const folder of ['nghttp2', 'python-hpack', 'go-hpack']) {
      for (const story of loadStories(folder).slice(0, 2)) {
        const wires = story.cases.slice(0, 6);
        wires.forEach((c, i) => {
          items.push({
            name: `${story.name} case ${c.seqno}`,
            before: wires.slice(0, i).map((w) => w.wire!),
            block: c.wire!,
            headers: c.headers,
          });
        });
      }
    }
    // Huffman, never-indexed, size updates and large integers from our encoder.
    const e = new Encoder({ maxTableSize: 4096 });
    const lists: HeaderField[][] = [
      [[':status', '200'], ['x-long', 'v'.repeat(300)], ['authorization', 'secret']],
      [['x-long', 'v'.repeat(300)], ['cookie', 'a=1'], ['x-\xff', '\x80\x81\xfe']],
    ];
    const blocks: Buffer[] = [];
    lists.forEach((l, i) => {
      if (i === 1) e.setMaxTableSize(1000);
      const block = e.encode(l);
      items.push({ name: `encoder block ${i}`, before: [...blocks], block, headers: l });
      blocks.push(block);
    });
    return items;
  }

  it('cut at every byte: a prefix of the list, or HW_ERR_HPACK_TRUNCATED, never anything else', () => {
    let cuts = 0;
    let truncatedErrors = 0;
    for (const item of corpus()) {
      for (let cut = 0; cut <= item.block.length; cut++) {
        const d = new Decoder();
        for (const b of item.before) d.decode(b);
        let got: HeaderField[];
        try {
          got = d.decode(item.block.subarray(0, cut));
        } catch (err) {
          expect(err, `${item.name} cut at ${cut}`).toBeInstanceOf(HPACKDecodingError);
          expect((err as HPACKDecodingError).code, `${item.name} cut at ${cut}`).toBe('HW_ERR_HPACK_TRUNCATED');
          truncatedErrors++;
          continue;
        } finally {
          cuts++;
        }
        expect(got, `${item.name} cut at ${cut}`).toEqual(item.headers.slice(0, got.length));
        if (cut === item.block.length) expect(got).toEqual(item.headers);
      }
    }
    expect(cuts).toBeGreaterThan(800);
    expect(truncatedErrors).toBeGreaterThan(400);
  });

  it('a string literal longer than the block is truncated, and nothing is allocated for it', () => {
    const spy = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      // Literal without indexing, new name, Huffman-coded name claiming 2^31 octets.
      const huge = Buffer.concat([hex('00'), int(2 ** 31, 7, 0x80), hex('ffff')]);
      expectDecodingError(() => new Decoder().decode(huge), 'HW_ERR_HPACK_TRUNCATED');
      // The same with a raw string, and with a value string after an indexed name.
      expectDecodingError(() => new Decoder().decode(Buffer.concat([hex('00'), int(2 ** 31, 7, 0), hex('61')])), 'HW_ERR_HPACK_TRUNCATED');
      expectDecodingError(() => new Decoder().decode(Buffer.concat([hex('44'), int(100_000, 7, 0x80), hex('61')])), 'HW_ERR_HPACK_TRUNCATED');
      for (const call of spy.mock.calls) expect(call[0]).toBeLessThan(4096);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('indexes', () => {
  it('index 0 is HW_ERR_HPACK_INDEX', () => {
    const e = expectDecodingError(() => new Decoder().decode(hex('80')), 'HW_ERR_HPACK_INDEX');
    expect(e.errorCode).toBe(9);
  });

  it('indexes beyond the static and dynamic tables are HW_ERR_HPACK_INDEX', () => {
    expectDecodingError(() => new Decoder().decode(hex('be')), 'HW_ERR_HPACK_INDEX'); // 62, table empty
    expectDecodingError(() => new Decoder().decode(hex('ff80ffffff07')), 'HW_ERR_HPACK_INDEX'); // huge
    // Literal whose name index is out of range (with and without indexing).
    expectDecodingError(() => new Decoder().decode(hex('7e0161')), 'HW_ERR_HPACK_INDEX');
    expectDecodingError(() => new Decoder().decode(hex('0f2f0161')), 'HW_ERR_HPACK_INDEX');
    const d = new Decoder();
    expect(d.decode(hex('400161' + '0162'))).toEqual([['a', 'b']]);
    expect(d.decode(hex('be'))).toEqual([['a', 'b']]);
    expect(d.decode(hex('7e0163'))).toEqual([['a', 'c']]); // name from index 62
    expectDecodingError(() => d.decode(hex('c0')), 'HW_ERR_HPACK_INDEX'); // 64: only 2 entries
  });

  it('index 61 is the last static entry', () => {
    expect(new Decoder().decode(hex('bd'))).toEqual([['www-authenticate', '']]);
    expect(new Decoder().decode(hex('81'))).toEqual([[':authority', '']]);
  });
});

describe('dynamic table size updates', () => {
  it('above the limit: HW_ERR_HPACK_TABLE_SIZE', () => {
    expect(new Decoder().decode(int(4096, 5, 0x20))).toEqual([]);
    expectDecodingError(() => new Decoder().decode(int(4097, 5, 0x20)), 'HW_ERR_HPACK_TABLE_SIZE');
    expectDecodingError(() => new Decoder({ maxTableSize: 100 }).decode(int(101, 5, 0x20)), 'HW_ERR_HPACK_TABLE_SIZE');
  });

  it('after a field: HW_ERR_HPACK_TABLE_SIZE', () => {
    expectDecodingError(() => new Decoder().decode(hex('8220')), 'HW_ERR_HPACK_TABLE_SIZE');
    // Several updates before the first field are fine.
    const d = new Decoder();
    expect(d.decode(hex('203fe11f82'))).toEqual([[':method', 'GET']]);
  });

  it('missing after setMaxTableSize lowered: HW_ERR_HPACK_TABLE_SIZE, then accepted with the update', () => {
    const d = new Decoder();
    d.decode(hex('400161' + '0162'));
    d.setMaxTableSize(100);
    expectDecodingError(() => d.decode(hex('82')), 'HW_ERR_HPACK_TABLE_SIZE');
    expectDecodingError(() => d.decode(new Uint8Array(0)), 'HW_ERR_HPACK_TABLE_SIZE');
    // An update above the new limit is not enough either.
    expectDecodingError(() => d.decode(int(200, 5, 0x20)), 'HW_ERR_HPACK_TABLE_SIZE');
    const ok = Buffer.concat([int(100, 5, 0x20), hex('be')]);
    expect(d.decode(ok)).toEqual([['a', 'b']]);
    expect(d.tableSize).toBe(100);
    // Once signalled, later blocks need no update.
    expect(d.decode(hex('be'))).toEqual([['a', 'b']]);
  });

  it('an update to 0 empties the table', () => {
    const d = new Decoder();
    d.decode(hex('400161' + '0162'));
    expect(d.decode(hex('20'))).toEqual([]);
    expectDecodingError(() => d.decode(hex('be')), 'HW_ERR_HPACK_INDEX');
  });

  it('no update is required when the limit does not drop below the table size', () => {
    const d = new Decoder({ maxTableSize: 4096 });
    d.setMaxTableSize(8192);
    expect(d.decode(hex('82'))).toEqual([[':method', 'GET']]);
    expect(d.decode(int(8192, 5, 0x20))).toEqual([]);
    expect(d.tableSize).toBe(8192);
  });
});

describe('header list size', () => {
  it('an HPACK bomb is refused quickly as a stream error, and the decoder stays in sync', () => {
    const value = 'x'.repeat(4000);
    const block = Buffer.concat([hex('40'), str('x-bomb'), str(value), Buffer.alloc(10_000, 0xbe)]);
    const d = new Decoder();
    const t0 = performance.now();
    const err = thrown(() => d.decode(block));
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(HeaderListSizeError);
    expect(err).toBeInstanceOf(HPACKDecodingError);
    const e = err as HeaderListSizeError;
    expect(e.code).toBe('HW_ERR_HEADER_LIST_SIZE');
    expect(e.scope).toBe('stream');
    expect(e.errorCode).toBe(1); // PROTOCOL_ERROR on the stream
    expect(ms).toBeLessThan(250);
    // The entry the bomb added is there, and the table is not corrupted.
    expect(d.decode(hex('be82'))).toEqual([
      ['x-bomb', value],
      [':method', 'GET'],
    ]);
    expect(d.decode(Buffer.concat([hex('40'), str('x-next'), str('1'), hex('bebf')]))).toEqual([
      ['x-next', '1'],
      ['x-next', '1'],
      ['x-bomb', value],
    ]);
  });

  it('maxHeaderListSize counts name + value + 32 per field (RFC 7541 §4.1)', () => {
    // ':method: GET' counts 7 + 3 + 32 = 42.
    const d = new Decoder({ maxHeaderListSize: 84 });
    expect(d.decode(hex('8282'))).toEqual([
      [':method', 'GET'],
      [':method', 'GET'],
    ]);
    const e = thrown(() => d.decode(hex('828282')));
    expect(e).toBeInstanceOf(HeaderListSizeError);
    expect((e as HeaderListSizeError).scope).toBe('stream');
  });

  it('over the limit, the rest of the block still reaches the table', () => {
    const d = new Decoder({ maxHeaderListSize: 60 });
    // 42 + (1 + 1 + 32) > 60; the literal with indexing must still be added.
    const block = Buffer.concat([hex('82'), hex('40'), str('a'), str('b')]);
    expect(thrown(() => d.decode(block))).toBeInstanceOf(HeaderListSizeError);
    expect(d.decode(hex('be'))).toEqual([['a', 'b']]);
  });

  it('the default limit is 65536', () => {
    const fits = Buffer.concat([hex('00'), str('n'), str('v'.repeat(65536 - 33))]);
    expect(new Decoder().decode(fits)).toHaveLength(1);
    const over = Buffer.concat([hex('82'), hex('00'), str('n'), str('v'.repeat(65536 - 33))]);
    expect(thrown(() => new Decoder().decode(over))).toBeInstanceOf(HeaderListSizeError);
  });

  // One string longer than maxHeaderListSize must not become a
  // connection-scoped COMPRESSION_ERROR: the entry still reaches the table
  // and only the stream fails.
  it('a single field over maxHeaderListSize is a stream-scoped HeaderListSizeError, table kept in step', () => {
    const d = new Decoder({ maxHeaderListSize: 100 });
    const block = Buffer.concat([hex('40'), str('x-big'), str('v'.repeat(200))]);
    const err = thrown(() => d.decode(block));
    expect((err as HPACKDecodingError).code).toBe('HW_ERR_HEADER_LIST_SIZE');
    expect((err as HPACKDecodingError).scope).toBe('stream');
    expect(err).toBeInstanceOf(HeaderListSizeError);
    // Entry size 5 + 200 + 32 = 237 fits the 4096-octet table: it must be there.
    const e = thrown(() => d.decode(hex('be')));
    expect(e).toBeInstanceOf(HeaderListSizeError); // still over the limit, but found in the table
  });

  it('a single field over maxHeaderListSize still reaches the table (limit above the string length)', () => {
    // Control for the test above: 237 > 220, each string under 220.
    const d = new Decoder({ maxHeaderListSize: 220 });
    const block = Buffer.concat([hex('40'), str('x-big'), str('v'.repeat(200))]);
    expect(thrown(() => d.decode(block))).toBeInstanceOf(HeaderListSizeError);
    expect(new Decoder().decode(Buffer.concat([block, hex('be')]))).toEqual([
      ['x-big', 'v'.repeat(200)],
      ['x-big', 'v'.repeat(200)],
    ]);
    expect(thrown(() => d.decode(hex('be')))).toBeInstanceOf(HeaderListSizeError);
    expect(d.decode(hex('82'))).toEqual([[':method', 'GET']]);
  });
});

describe('octets and inputs', () => {
  it('octets 0x80-0xff in names and values round-trip as latin1', () => {
    const high = Array.from({ length: 128 }, (_, i) => String.fromCharCode(0x80 + i)).join('');
    const list: HeaderField[] = [
      ['x-high', high],
      [`x-${high.slice(0, 10)}`, high.slice(100)],
      ['x-mix', 'caf\xe9 \xff\x00\x7f'],
    ];
    for (const huffman of [true, false]) {
      const e = new Encoder({ huffman });
      const d = new Decoder();
      expect(d.decode(e.encode(list))).toEqual(list);
      expect(d.decode(e.encode(list))).toEqual(list); // now by index
    }
    // A hand-made raw literal with octets ff and 80.
    expect(new Decoder().decode(hex('00' + '0178' + '03ff8061'))).toEqual([['x', '\xff\x80a']]);
  });

  it('decodes a Uint8Array view at an offset, not only Buffers', () => {
    const backing = new Uint8Array([0xde, 0xad, 0x40, 0x01, 0x61, 0x01, 0x62, 0xbe, 0xef]);
    const view = backing.subarray(2, 8);
    expect(new Decoder().decode(view)).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
  });

  it('decodes empty strings and an empty block', () => {
    expect(new Decoder().decode(new Uint8Array(0))).toEqual([]);
    expect(new Decoder().decode(hex('400000'))).toEqual([['', '']]);
    // A Huffman-coded empty value (80).
    expect(new Decoder().decode(hex('000080'))).toEqual([['', '']]);
  });

  it('rejects bad options with RangeError', () => {
    expect(() => new Decoder({ maxTableSize: -1 })).toThrow(RangeError);
    expect(() => new Decoder({ maxHeaderListSize: 1.5 })).toThrow(RangeError);
    expect(() => new Decoder().setMaxTableSize(2 ** 32)).toThrow(RangeError);
  });
});

// The decoder makes one string of all the literals of a block, at its end;
// until then a literal's field and table entry wait for their strings.
describe('literals of a block made strings together', () => {
  for (const [kind, lit] of [
    ['raw', str],
    ['Huffman', huff],
  ] as const) {
    it(`an entry the block added is referenced in the same block, as a field and as a name (${kind})`, () => {
      const d = new Decoder();
      const block = Buffer.concat([
        hex('40'), lit('x-a'), lit('one'), // adds x-a: one (62)
        hex('be'), // 62
        hex('7e'), lit('two'), // name from 62; adds x-a: two, x-a: one is 63
        hex('bfbe'),
        hex('00'), lit('x-b'), lit('three'), // not indexed
        hex('0f2f'), lit('four'), // name from 62 (4-bit prefix), not indexed
      ]);
      expect(d.decode(block)).toEqual([
        ['x-a', 'one'],
        ['x-a', 'one'],
        ['x-a', 'two'],
        ['x-a', 'one'],
        ['x-a', 'two'],
        ['x-b', 'three'],
        ['x-a', 'four'],
      ]);
      expect(d.decode(hex('bebf'))).toEqual([
        ['x-a', 'two'],
        ['x-a', 'one'],
      ]);
      expectDecodingError(() => d.decode(hex('c0')), 'HW_ERR_HPACK_INDEX');
    });

    it(`a block that evicts its own entries, or empties the table with one too large (${kind})`, () => {
      // Each entry is 3 + 5 + 32 = 40 octets; the table holds two.
      const d = new Decoder({ maxTableSize: 90 });
      const add = (name: string, value: string): Buffer => Buffer.concat([hex('40'), lit(name), lit(value)]);
      const block = Buffer.concat([add('x-1', 'aaaaa'), add('x-2', 'bbbbb'), add('x-3', 'ccccc'), hex('bebf')]);
      expect(d.decode(block)).toEqual([
        ['x-1', 'aaaaa'],
        ['x-2', 'bbbbb'],
        ['x-3', 'ccccc'],
        ['x-3', 'ccccc'],
        ['x-2', 'bbbbb'],
      ]);
      expectDecodingError(() => d.decode(hex('c0')), 'HW_ERR_HPACK_INDEX');
      expect(d.decode(hex('bfbe'))).toEqual([
        ['x-2', 'bbbbb'],
        ['x-3', 'ccccc'],
      ]);
      // 3 + 60 + 32 > 90: the table empties, this block's entries with it.
      const big = Buffer.concat([add('x-4', 'ddddd'), add('x-5', 'e'.repeat(60)), add('x-6', 'fffff'), hex('be')]);
      expect(d.decode(big)).toEqual([
        ['x-4', 'ddddd'],
        ['x-5', 'e'.repeat(60)],
        ['x-6', 'fffff'],
        ['x-6', 'fffff'],
      ]);
      expectDecodingError(() => d.decode(hex('bf')), 'HW_ERR_HPACK_INDEX');
      expect(d.decode(hex('be'))).toEqual([['x-6', 'fffff']]);
    });

    it(`a malformed block leaves the entries it added, with their strings (${kind})`, () => {
      const added = Buffer.concat([hex('40'), lit('x-a'), lit('one'), hex('7e'), lit('two')]);
      const failures: [Buffer, string][] = [
        [Buffer.concat([added, hex('40'), lit('x-c')]), 'HW_ERR_HPACK_TRUNCATED'], // value missing
        [Buffer.concat([added, hex('ff80ffffff07')]), 'HW_ERR_HPACK_INDEX'], // index beyond the tables
        [Buffer.concat([added, hex('80')]), 'HW_ERR_HPACK_INDEX'], // index 0
        [Buffer.concat([added, hex('20')]), 'HW_ERR_HPACK_TABLE_SIZE'], // size update after a field
        [Buffer.concat([added, hex('000161' + '8118')]), 'HW_ERR_HPACK_HUFFMAN'], // bad padding
      ];
      for (const [block, code] of failures) {
        const d = new Decoder();
        expectDecodingError(() => d.decode(block), code);
        expect(d.decode(hex('bebf'))).toEqual([
          ['x-a', 'two'],
          ['x-a', 'one'],
        ]);
      }
    });
  }

  it('a name index beyond the table is reported before a malformed string after it', () => {
    // Read in one pass, the index fails first; so it must here.
    expectDecodingError(() => new Decoder().decode(hex('7e' + '05')), 'HW_ERR_HPACK_INDEX'); // 62, then a truncated string
    expectDecodingError(() => new Decoder().decode(hex('7f00' + '8118')), 'HW_ERR_HPACK_INDEX'); // 63, then a bad Huffman string
  });

  it('a large block, past the shared scratch space, and long runs of literals', () => {
    // 2000 fields of 40 octets each, most Huffman-coded, into a table large
    // enough to keep them: a block of some 80 KB and as much literal text.
    const list: HeaderField[] = [];
    for (let i = 0; i < 2000; i++) list.push([`x-field-${i}`, `value ${i} `.padEnd(30, String.fromCharCode(0x61 + (i % 26)))]);
    const e = new Encoder({ maxTableSize: 1 << 20 });
    const d = new Decoder({ maxTableSize: 1 << 20, maxHeaderListSize: 1 << 24 });
    const block = e.encode(list);
    expect(block.length).toBeGreaterThan(40_000);
    expect(d.decode(block)).toEqual(list);
    // The entries it added hold their strings, and small blocks still decode.
    expect(d.decode(e.encode(list.slice(0, 3)))).toEqual(list.slice(0, 3));
    expect(d.decode(hex('be'))).toEqual([list[1999]]);
    expect(new Decoder().decode(hex('82'))).toEqual([[':method', 'GET']]);
  });

  it('long literals among short ones, in runs of literal octets of every size', () => {
    const sizes = [20, 20, 400, 20, 3000, 20, 600, 600, 20, 1024, 1, 0];
    const list: HeaderField[] = sizes.map((n, i) => [`x-${i}`, String.fromCharCode(0x61 + i).repeat(n)]);
    for (const lit of [str, huff]) {
      const d = new Decoder({ maxTableSize: 1 << 16 });
      const block = Buffer.concat(list.map(([name, value]) => Buffer.concat([hex('40'), lit(name), lit(value)])));
      expect(d.decode(block)).toEqual(list);
      const refs = Buffer.concat(list.map((_, i) => int(62 + i, 7, 0x80)));
      expect(d.decode(refs)).toEqual([...list].reverse());
    }
  });

  it('a block of more literals than are made strings at once (512)', () => {
    // 1300 literals with indexing: 1300 entries of ':authority' and a value.
    const d = new Decoder({ maxTableSize: 1 << 20 });
    const values = Array.from({ length: 1300 }, (_, i) => `v${i}`);
    const block = Buffer.concat([...values.map((v) => Buffer.concat([hex('41'), huff(v)])), hex('be'), int(62 + 1299, 7, 0x80)]);
    const got = d.decode(block);
    expect(got).toHaveLength(1302);
    expect(got.slice(0, 1300)).toEqual(values.map((v) => [':authority', v]));
    expect(got.slice(1300)).toEqual([
      [':authority', 'v1299'],
      [':authority', 'v0'],
    ]);
    expect(d.decode(Buffer.concat([int(62 + 511, 7, 0x80), int(62 + 512, 7, 0x80)]))).toEqual([
      [':authority', 'v788'],
      [':authority', 'v787'],
    ]);
  });

  it('decoders used by turns do not see each other\'s literals', () => {
    const [a, b] = loadStories('nghttp2');
    const da = new Decoder();
    const db = new Decoder();
    const n = Math.min(a!.cases.length, b!.cases.length, 40);
    for (let i = 0; i < n; i++) {
      expect(da.decode(a!.cases[i]!.wire!)).toEqual(a!.cases[i]!.headers);
      expect(db.decode(b!.cases[i]!.wire!)).toEqual(b!.cases[i]!.headers);
    }
  });

  it('each decoded field is an array of its own: changing one changes no later list', () => {
    const d = new Decoder();
    const first = d.decode(Buffer.concat([hex('40'), str('x-a'), str('one'), hex('be82')]));
    for (const field of first) field[1] = 'changed';
    expect(d.decode(hex('be82'))).toEqual([
      ['x-a', 'one'],
      [':method', 'GET'],
    ]);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});
