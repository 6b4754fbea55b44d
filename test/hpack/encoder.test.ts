/** The HPACK Encoder: representations, Huffman choice, size updates, errors, round-trips. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HPACKEncodingError } from '../../lib/common/errors.js';
import { Decoder, Encoder, decodeInteger, huffmanEncodedLength } from '../../lib/hpack/index.js';
import type { HeaderField, HeaderInput } from '../../lib/hpack/index.js';
import { thrown, toHex } from './helpers.js';

const plain = (list: readonly HeaderInput[]): HeaderField[] => list.map(([n, v]) => [n, v]);

describe('never-indexed fields (RFC 7541 §6.2.3, §7.1.3)', () => {
  const cases: [string, HeaderInput][] = [
    ['authorization', ['authorization', 'Basic dXNlcjpwYXNzd29yZA==']],
    ['proxy-authorization', ['proxy-authorization', 'Bearer abcdef']],
    ['a short cookie', ['cookie', 'sid=1234567890']],
    ['a caller-marked field', ['x-secret', 'hunter2', true]],
  ];
  for (const [what, field] of cases) {
    it(`${what} is sent as 0001xxxx and never enters the table`, () => {
      for (const huffman of [true, false]) {
        const e = new Encoder({ huffman });
        const d = new Decoder();
        // A normal field first, so the sensitive one is not the first octet by accident.
        const first = e.encode([[':method', 'GET'], field]);
        expect(first[0]).toBe(0x82);
        expect(first[1]! & 0xf0, toHex(first)).toBe(0x10);
        expect(d.decode(first)).toEqual(plain([[':method', 'GET'], field]));
        // Again: a literal again (not an index), and still never indexed.
        const again = e.encode([field]);
        expect(again[0]! & 0xf0, toHex(again)).toBe(0x10);
        expect(d.decode(again)).toEqual(plain([field]));
        // Nothing was added to the decoder's table.
        expect(() => d.decode(Buffer.from([0xbe]))).toThrow(/index/i);
      }
    });
  }

  it('a cookie of 20 octets or more is indexed', () => {
    const e = new Encoder();
    const d = new Decoder();
    const cookie: HeaderInput = ['cookie', 'session=0123456789abcdef'];
    const first = e.encode([cookie]);
    expect(first[0]! & 0xc0).toBe(0x40); // literal with incremental indexing
    expect(first[0]! & 0x3f).toBe(32); // name: static index 32, cookie
    expect(d.decode(first)).toEqual([cookie]);
    const again = e.encode([cookie]);
    expect(toHex(again)).toBe('be');
    expect(d.decode(again)).toEqual([cookie]);
  });

  it('a 19-octet cookie is never indexed, a 20-octet one is', () => {
    const e = new Encoder();
    expect(e.encode([['cookie', 'a'.repeat(19)]])[0]! & 0xf0).toBe(0x10);
    expect(e.encode([['cookie', 'a'.repeat(20)]])[0]! & 0xc0).toBe(0x40);
  });

  it('neverIndex option replaces the default set', () => {
    const e = new Encoder({ neverIndex: ['x-token'] });
    expect(e.encode([['x-token', 'abc']])[0]! & 0xf0).toBe(0x10);
    expect(e.encode([['authorization', 'abc']])[0]! & 0xc0).toBe(0x40);
  });
});

describe('Huffman only where strictly shorter', () => {
  /** The H bit and length of the value of a field sent as 0000xxxx with a new name. */
  function valueString(block: Buffer, nameLength: number): { huffman: boolean; length: number } {
    const at = 2 + nameLength; // 00, name length octet, name (raw, short)
    const cur = { pos: at };
    const length = decodeInteger(block, cur, block.length, 7);
    return { huffman: (block[at]! & 0x80) !== 0, length };
  }
  const cases: [string, boolean][] = [
    ['{{{{', false], // 15-bit codes: 8 octets Huffman vs 4 raw
    ['\x00\x01', false], // longer
    ['307', false], // 17 bits: 3 octets either way, so raw
    ['%%%%', true], // 6-bit codes: 3 octets vs 4
    ['www.example.com', true],
  ];
  for (const [value, huffman] of cases) {
    it(`${JSON.stringify(value)}: ${huffman ? 'Huffman' : 'raw'}`, () => {
      const e = new Encoder({ neverIndex: ['x'] });
      const block = e.encode([['x', value]]);
      expect(block[0]).toBe(0x10);
      // The name 'x': Huffman 'x' is 7 bits -> 1 octet, not shorter than raw.
      expect(toHex(block.subarray(1, 3))).toBe('0178');
      const s = valueString(block, 1);
      expect(s.huffman).toBe(huffman);
      expect(s.length).toBe(huffman ? huffmanEncodedLength(value) : value.length);
      expect(new Decoder().decode(block)).toEqual([['x', value]]);
    });
  }

  it('lengths across the one-octet prefix (127): the code and its length prefix stay together', () => {
    // 'a' is 5 bits: the Huffman length crosses 127 at 204 octets, the raw
    // one at 127, so from 127 to 203 the Huffman prefix is an octet shorter
    // than the raw one; '{' (15 bits) stays raw at every length.
    for (const unit of ['a', '{', 'a{']) {
      for (let n = 100; n <= 260; n++) {
        const value = unit.repeat(n).slice(0, n);
        const e = new Encoder({ neverIndex: ['x'] });
        const block = e.encode([['x', value]]);
        const s = valueString(block, 1);
        const huffman = huffmanEncodedLength(value) < value.length;
        expect(s.huffman, `${unit} x ${n}`).toBe(huffman);
        expect(s.length).toBe(huffman ? huffmanEncodedLength(value) : value.length);
        // The block ends right after the string.
        const prefix = s.length < 0x7f ? 1 : s.length < 0x7f + 0x80 ? 2 : 3;
        expect(block.length).toBe(3 + prefix + s.length);
        expect(new Decoder().decode(block)).toEqual([['x', value]]);
      }
    }
  });

  it('huffman: false never sets the H bit', () => {
    const e = new Encoder({ huffman: false, neverIndex: ['x'] });
    const block = e.encode([['x', 'www.example.com']]);
    expect(toHex(block)).toBe('1001780f' + Buffer.from('www.example.com').toString('hex'));
  });
});

describe('table size updates (RFC 7541 §4.2, §6.3)', () => {
  it('setMaxTableSize(0) then encode: the block begins with 0x20', () => {
    const e = new Encoder();
    const d = new Decoder();
    d.decode(e.encode([['x-a', '1']]));
    e.setMaxTableSize(0);
    d.setMaxTableSize(0);
    const block = e.encode([['x-a', '1']]);
    expect(block[0]).toBe(0x20);
    expect(e.tableSize).toBe(0);
    expect(d.decode(block)).toEqual([['x-a', '1']]);
    // Nothing is indexed in a zero-size table: a literal again.
    const again = e.encode([['x-a', '1']]);
    expect(again[0]).not.toBe(0xbe);
    expect(d.decode(again)).toEqual([['x-a', '1']]);
    // Only one update per change.
    expect(again[0]! & 0xe0).not.toBe(0x20);
  });

  it('shrink then grow between blocks: two updates, the smallest first', () => {
    const e = new Encoder();
    const d = new Decoder();
    d.decode(e.encode([['x-a', 'a'.repeat(100)], ['x-b', '2']]));
    e.setMaxTableSize(30);
    e.setMaxTableSize(300);
    e.setMaxTableSize(2000);
    d.setMaxTableSize(2000);
    const block = e.encode([['x-b', '2']]);
    const cur = { pos: 0 };
    expect(block[0]! & 0xe0).toBe(0x20);
    expect(decodeInteger(block, cur, block.length, 5)).toBe(30);
    expect(block[cur.pos]! & 0xe0).toBe(0x20);
    expect(decodeInteger(block, cur, block.length, 5)).toBe(2000);
    expect(block[cur.pos]! & 0xe0).not.toBe(0x20);
    expect(e.tableSize).toBe(2000);
    // Shrinking to 30 evicted both entries (36 and 135 octets) on both sides: x-b goes as a literal.
    expect(block[cur.pos]).not.toBe(0xbe);
    expect(d.decode(block)).toEqual([['x-b', '2']]);
    expect(d.tableSize).toBe(2000);
    expect(d.decode(e.encode([['x-b', '2']]))).toEqual([['x-b', '2']]);
  });

  it('a plain shrink is one update, and the Decoder requires and accepts it', () => {
    const e = new Encoder();
    const d = new Decoder();
    d.decode(e.encode([['x-a', '1']]));
    e.setMaxTableSize(1000);
    e.setMaxTableSize(100);
    d.setMaxTableSize(100);
    const block = e.encode([[':method', 'GET']]);
    expect(toHex(block)).toBe('3f4582');
    expect(d.decode(block)).toEqual([[':method', 'GET']]);
  });

  it('an empty header list still carries the pending update', () => {
    const e = new Encoder();
    e.setMaxTableSize(4000);
    expect(toHex(e.encode([]))).toBe('3f811f'); // 4000 - 31 = 3969 = 0x1f * 128 + 0x01
    expect(toHex(e.encode([]))).toBe('');
  });

  it('rejects bad sizes with RangeError', () => {
    expect(() => new Encoder({ maxTableSize: -1 })).toThrow(RangeError);
    expect(() => new Encoder().setMaxTableSize(0.5)).toThrow(RangeError);
  });
});

describe('errors leave the encoder unchanged', () => {
  it('non-latin1 input is HW_ERR_HPACK_NOT_BYTES; non-strings are TypeError', () => {
    for (const bad of [
      ['x-a', '\u0100'],
      ['x-\u20ac', 'v'],
      ['x-a', 'caf\u00e9 \u2603'],
    ] as HeaderInput[]) {
      const err = thrown(() => new Encoder().encode([bad]));
      expect(err).toBeInstanceOf(HPACKEncodingError);
      expect((err as HPACKEncodingError).code).toBe('HW_ERR_HPACK_NOT_BYTES');
    }
    expect(() => new Encoder().encode([['x-a', 5 as unknown as string]])).toThrow(TypeError);
    expect(() => new Encoder().encode([[undefined as unknown as string, 'v']])).toThrow(TypeError);
  });

  const badFields: [string, HeaderInput][] = [
    ['non-latin1', ['x-bad', '\u0100']],
    ['non-string', ['x-bad', 42 as unknown as string]],
  ];
  for (const [what, bad] of badFields) {
    it(`after a ${what} error the peer's decoder stays in sync`, () => {
      const e = new Encoder({ maxTableSize: 256 });
      const d = new Decoder({ maxTableSize: 256 });
      const history: HeaderInput[][] = [
        [['x-a', '1'], ['x-b', '2'], ['x-c', '3']],
        [['x-a', '1'], ['x-d', '4']],
      ];
      for (const list of history) expect(d.decode(e.encode(list))).toEqual(plain(list));
      // Valid fields with indexing (some evicting older entries), a pending
      // size change, then the bad one.
      e.setMaxTableSize(200);
      d.setMaxTableSize(200);
      const failing: HeaderInput[] = [
        ['x-new', 'n'.repeat(60)],
        ['x-a', 'changed'],
        ['x-e', 'e'.repeat(80)],
        bad,
      ];
      expect(() => e.encode(failing)).toThrow();
      // Later blocks, including the valid part of the failed list.
      const later: HeaderInput[][] = [
        [['x-a', '1'], ['x-b', '2'], ['x-c', '3'], ['x-d', '4']],
        failing.slice(0, 3),
        [['x-new', 'n'.repeat(60)], ['x-a', 'changed'], ['x-a', '1']],
      ];
      for (const list of later) expect(d.decode(e.encode(list))).toEqual(plain(list));
    });

    // The failed block shadows the name index of the older x-a entry; the
    // rollback must point it back, or the name goes out as a literal where
    // an encoder that never saw the call uses index 63.
    it(`after a ${what} error the output is byte-identical to an encoder that never saw the call`, () => {
      const e = new Encoder();
      const twin = new Encoder();
      const history: HeaderInput[][] = [[['x-a', '1'], ['x-b', '2']]];
      for (const list of history) expect(e.encode(list)).toEqual(twin.encode(list));
      // x-a gets a second value during the failed block, which shadows the
      // name index of the first x-a entry until rolled back.
      expect(() => e.encode([['x-a', '2'], bad])).toThrow();
      const later: HeaderInput[][] = [
        [['x-a', '3']],
        [['x-b', '2'], ['x-a', '1']],
      ];
      for (const list of later) expect(toHex(e.encode(list))).toBe(toHex(twin.encode(list)));
    });
  }

  it('a name whose last entry a failed block evicted, and whose state it then dropped, is matched again', () => {
    // A 64-octet table holds one entry. The failed block evicts x-a's only
    // entry, then brings in enough new names that the states of names
    // without entries are dropped, x-a's among them; the rollback puts the
    // entry back, and its name must find it.
    const e = new Encoder({ maxTableSize: 64 });
    const twin = new Encoder({ maxTableSize: 64 });
    const first: HeaderInput[] = [['x-a', 'v1']];
    expect(toHex(e.encode(first))).toBe(toHex(twin.encode(first)));
    const failing: HeaderInput[] = [['x-b', 'v2']];
    for (let i = 0; i < 100; i++) failing.push([`x-n${i}`, 'v']);
    failing.push(['x-bad', '\u0100']);
    expect(() => e.encode(failing)).toThrow(HPACKEncodingError);
    const again: HeaderInput[] = [['x-a', 'v1']];
    expect(toHex(e.encode(again))).toBe('be');
    expect(toHex(twin.encode(again))).toBe('be');
  });

  it('a failed block on a name whose values are kept in a map', () => {
    // 43-octet entries, 100 to the table: 90 crumbs put the name's values in
    // a map. The failed block adds crumbs (evicting the oldest, some of them
    // values the later blocks repeat) before it fails.
    const e = new Encoder({ maxTableSize: 4300 });
    const twin = new Encoder({ maxTableSize: 4300 });
    const crumb = (i: number): HeaderInput => ['x-crumb', `v${String(i).padStart(3, '0')}`];
    const first = Array.from({ length: 90 }, (_, i) => crumb(i));
    expect(toHex(e.encode(first))).toBe(toHex(twin.encode(first)));
    const failing = Array.from({ length: 30 }, (_, i) => crumb(100 + i));
    failing.push(['x-bad', '\u0100']);
    expect(() => e.encode(failing)).toThrow(HPACKEncodingError);
    for (const list of [[crumb(0), crumb(5), crumb(89), crumb(110)], [crumb(110), crumb(3)]]) {
      expect(toHex(e.encode(list))).toBe(toHex(twin.encode(list)));
    }
  });

  it('a failed block with a pending size update re-sends the update next time', () => {
    const e = new Encoder();
    const d = new Decoder();
    d.decode(e.encode([['x-a', '1']]));
    e.setMaxTableSize(100);
    d.setMaxTableSize(100);
    expect(() => e.encode([['x-a', '\u0100']])).toThrow(HPACKEncodingError);
    const block = e.encode([['x-a', '1']]);
    expect(block[0]! & 0xe0).toBe(0x20);
    expect(d.decode(block)).toEqual([['x-a', '1']]);
  });
});

describe('failed blocks (fast-check)', () => {
  // Small tables and few names, so blocks evict names' last entries, re-add
  // them, add entries too big for the table and cross the value-map
  // thresholds; many one-off names, so the states of names without entries
  // are dropped while a block runs.
  const name = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('x-a', 'x-b', 'x-c', 'cookie', ':path', 'date', 'user-agent') },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 400 }).map((i) => `x-n${i}`) },
  );
  const value = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 30 }).map((i) => `v${i}`) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }).map((n) => 'w'.repeat(n)) },
  );
  const field: fc.Arbitrary<HeaderInput> = fc.tuple(name, value).map(([n, v]): HeaderInput => [n, v]);
  const step = fc.record({
    resize: fc.option(fc.constantFrom(0, 50, 120, 300, 4096), { nil: undefined }),
    list: fc.array(field, { maxLength: 30 }),
    // Where in the list a bad field goes, if this block fails.
    failAt: fc.option(fc.nat(), { nil: undefined }),
  });

  it('an encoder whose blocks fail emits what one that never saw them does', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), fc.constantFrom(64, 200, 600), (steps, size) => {
        const e = new Encoder({ maxTableSize: size });
        const twin = new Encoder({ maxTableSize: size });
        const d = new Decoder({ maxTableSize: Math.max(size, 4096) });
        for (const s of steps) {
          if (s.resize !== undefined) {
            e.setMaxTableSize(s.resize);
            twin.setMaxTableSize(s.resize);
          }
          if (s.failAt !== undefined) {
            const bad = s.list.slice();
            bad.splice(s.failAt % (bad.length + 1), 0, ['x-bad', '\u0100']);
            expect(() => e.encode(bad)).toThrow(HPACKEncodingError);
          }
          const block = e.encode(s.list);
          expect(toHex(block)).toBe(toHex(twin.encode(s.list)));
          expect(d.decode(block)).toEqual(plain(s.list));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('bounded state', () => {
  it('names without entries are forgotten: the name map stays near the table', () => {
    const e = new Encoder({ maxTableSize: 256 });
    const d = new Decoder({ maxTableSize: 256 });
    const names = (): Map<string, unknown> => (e as unknown as { table: { names: Map<string, unknown> } }).table.names;
    let most = 0;
    for (let i = 0; i < 5000; i++) {
      const list: HeaderField[] = [
        [`x-once-${i}`, 'v'],
        ['x-kept', `${i % 3}`],
      ];
      expect(d.decode(e.encode(list))).toEqual(list);
      most = Math.max(most, names().size);
    }
    // A 256-octet table holds at most 8 entries; a few dozen spare states.
    expect(most).toBeLessThan(100);
    // The name seen on every block is still matched by index.
    expect(e.encode([['x-kept', '1']])[0]! & 0x80).toBe(0x80);
  });
});

describe('the name that followed last time', () => {
  it('is not taken once its state was dropped', () => {
    // A 64-octet table holds one entry. x-n follows :method, then 100 new
    // names evict its entry and get its state dropped. When x-n follows
    // :method again, the dropped state must not be used: the entry added
    // then must be found by name lookups too.
    const e = new Encoder({ maxTableSize: 64 });
    const d = new Decoder({ maxTableSize: 64 });
    const lists: HeaderField[][] = [
      [
        [':method', 'GET'],
        ['x-n', 'v'],
      ],
      Array.from({ length: 100 }, (_, i): HeaderField => [`x-flood-${i}`, 'f']),
      [
        [':method', 'GET'],
        ['x-n', 'v'],
      ],
      [['x-n', 'v']],
    ];
    const blocks = lists.map((list) => e.encode(list));
    for (let i = 0; i < lists.length; i++) expect(d.decode(blocks[i]!)).toEqual(lists[i]);
    expect(toHex(blocks[3]!)).toBe('be');
  });

  it('fields in a new order are still matched by index', () => {
    const e = new Encoder();
    const d = new Decoder();
    const fields: HeaderField[] = [
      [':method', 'GET'],
      ['x-d', '4'],
      ['x-a', '1'],
      ['x-b', '2'],
      ['x-c', '3'],
    ];
    expect(d.decode(e.encode(fields))).toEqual(fields);
    for (const list of [[...fields].reverse(), [fields[2]!, fields[0]!, fields[4]!, fields[1]!, fields[3]!]]) {
      const block = e.encode(list);
      expect(d.decode(block)).toEqual(list);
      // Five fields, five indexes.
      expect(block.length).toBe(5);
      expect([...block].every((b) => b >= 0x80)).toBe(true);
    }
  });
});

describe('round-trips', () => {
  it('eviction with maxTableSize 100 over many distinct headers', () => {
    const e = new Encoder({ maxTableSize: 100 });
    const d = new Decoder({ maxTableSize: 100 });
    for (let i = 0; i < 300; i++) {
      const list: HeaderField[] = [
        [`x-h${i % 17}`, `v${i % 5}`],
        [`x-h${i}`, `value-${i}`],
        [`x-h${(i * 7) % 23}`, `${i % 3}`],
        ['x-big', 'b'.repeat(i % 90)],
      ];
      expect(d.decode(e.encode(list)), `block ${i}`).toEqual(list);
    }
  });

  it('an entry that evicts its own name\'s last entry is still found afterwards', () => {
    // Entries of 3 + 2 + 32 = 37 octets: an 80-octet table holds two. Adding
    // x-a: v1 evicts x-a: v0, the name's only entry, the oldest in the table.
    const e = new Encoder({ maxTableSize: 80 });
    const d = new Decoder({ maxTableSize: 80 });
    const lists: HeaderField[][] = [[['x-a', 'v0']], [['x-b', 'w0']], [['x-a', 'v1']], [['x-a', 'v1']]];
    const blocks = lists.map((l) => e.encode(l));
    for (let i = 0; i < lists.length; i++) expect(d.decode(blocks[i]!)).toEqual(lists[i]);
    // The last block is the index of the newest dynamic entry (62), not a literal.
    expect(toHex(blocks[3]!)).toBe('be');
  });

  it('one name with its entry count rising and falling across the value-map thresholds', () => {
    // Each entry is 'x-crumb' + 4 octets + 32 = 43 octets: a 4300-octet
    // table holds 100 of them. Between floods the name climbs to about 100
    // entries (past 32, so its values also go in a map); each flood of 80
    // other names (45 octets each) pushes it down to 16 (the map is dropped).
    const e = new Encoder({ maxTableSize: 4300 });
    const d = new Decoder({ maxTableSize: 4300 });
    const crumbMap = (): unknown =>
      (e as unknown as { table: { lookup(name: string): { map: unknown } } }).table.lookup('x-crumb').map;
    const recent: string[] = [];
    let indexed = 0;
    let built = 0;
    let dropped = 0;
    let had = false;
    for (let i = 0; i < 800; i++) {
      const fresh = `v${String(i).padStart(3, '0')}`;
      const list: HeaderField[] = [['x-crumb', fresh]];
      // Every 100th block, other names flood the table and evict crumbs.
      const flood = i % 100 === 99;
      if (flood) for (let k = 0; k < 80; k++) list.push([`x-other-${String(k).padStart(2, '0')}`, `${i}`]);
      // An older crumb still in the table: exact match by index.
      if (recent.length > 3) list.push(['x-crumb', recent[recent.length - 3]!]);
      const block = e.encode(list);
      expect(d.decode(block), `block ${i}`).toEqual(list);
      if (recent.length > 3 && !flood) {
        // The repeat is the block's last field, one octet when it is an index.
        if ((block[block.length - 1]! & 0x80) !== 0) indexed++;
      }
      recent.push(fresh);
      const has = crumbMap() !== null;
      if (has && !had) built++;
      if (!has && had) dropped++;
      had = has;
    }
    expect(built).toBeGreaterThanOrEqual(6);
    expect(dropped).toBeGreaterThanOrEqual(6);
    expect(indexed).toBeGreaterThan(750);
  });

  it('accepts any iterable, not only arrays', () => {
    const e = new Encoder();
    const d = new Decoder();
    const list: HeaderField[] = [
      [':method', 'GET'],
      ['x-a', '1'],
    ];
    function* gen(): Generator<HeaderInput> {
      yield* list;
    }
    expect(d.decode(e.encode(gen()))).toEqual(list);
    expect(d.decode(e.encode(new Set(list)))).toEqual(list);
  });

  it('fast-check: random header lists over many blocks with table size changes', () => {
    const latin1 = (max: number): fc.Arbitrary<string> =>
      fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a).toString('latin1'));
    const name = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(':method', ':path', 'cookie', 'authorization', 'x-a', 'x-b', 'content-length', 'date') },
      { weight: 2, arbitrary: latin1(12) },
    );
    const value = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('', 'GET', '/', '1', 'gzip, deflate', 'a'.repeat(30)) },
      { weight: 3, arbitrary: latin1(40) },
      { weight: 1, arbitrary: latin1(400) },
    );
    const field: fc.Arbitrary<HeaderInput> = fc.tuple(name, value, fc.option(fc.boolean(), { nil: undefined })).map(
      ([n, v, s]): HeaderInput => (s === undefined ? [n, v] : [n, v, s]),
    );
    const step = fc.record({
      resizes: fc.oneof(
        { weight: 4, arbitrary: fc.constant<number[]>([]) },
        { weight: 1, arbitrary: fc.array(fc.oneof(fc.constantFrom(0, 64, 256, 4096), fc.integer({ min: 0, max: 8192 })), { minLength: 1, maxLength: 3 }) },
      ),
      list: fc.array(field, { maxLength: 12 }),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), fc.boolean(), (steps, huffman) => {
        const e = new Encoder({ huffman });
        const d = new Decoder();
        for (const s of steps) {
          for (const n of s.resizes) {
            e.setMaxTableSize(n);
            d.setMaxTableSize(n);
          }
          expect(d.decode(e.encode(s.list))).toEqual(plain(s.list));
          expect(d.tableSize).toBe(e.tableSize);
        }
      }),
      { numRuns: 300 },
    );
  });
});
