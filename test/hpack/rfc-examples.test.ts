/** RFC 7541 Appendix C, byte for byte. */

import { describe, expect, it } from 'vitest';
import { HPACKDecodingError } from '../../lib/common/errors.js';
import { Decoder, Encoder, decodeInteger, encodeInteger, encodedIntegerLength } from '../../lib/hpack/index.js';
import type { HeaderField, HeaderInput } from '../../lib/hpack/index.js';
import { hex, thrown, toHex } from './helpers.js';

describe('C.1 integer representation', () => {
  const cases: { name: string; value: number; prefix: number; flags: number; bytes: string }[] = [
    { name: 'C.1.1: 10 with a 5-bit prefix', value: 10, prefix: 5, flags: 0, bytes: '0a' },
    { name: 'C.1.2: 1337 with a 5-bit prefix', value: 1337, prefix: 5, flags: 0, bytes: '1f9a0a' },
    { name: 'C.1.3: 42 at an octet boundary', value: 42, prefix: 8, flags: 0, bytes: '2a' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = new Uint8Array(8).fill(0xee);
      const end = encodeInteger(out, 1, c.value, c.prefix, c.flags);
      expect(toHex(out.subarray(1, end))).toBe(c.bytes);
      expect(out[0]).toBe(0xee);
      expect(out[end]).toBe(0xee);
      expect(encodedIntegerLength(c.value, c.prefix)).toBe(end - 1);
      const cur = { pos: 1 };
      expect(decodeInteger(out, cur, end, c.prefix)).toBe(c.value);
      expect(cur.pos).toBe(end);
    });
  }

  it('ignores the flag bits above the prefix and keeps them when encoding', () => {
    const out = new Uint8Array(4);
    const end = encodeInteger(out, 0, 1337, 5, 0xe0);
    expect(toHex(out.subarray(0, end))).toBe('ff9a0a');
    expect(decodeInteger(out, { pos: 0 }, end, 5)).toBe(1337);
    // 2^N - 1 exactly needs a zero continuation octet (§5.1).
    const n = encodeInteger(out, 0, 31, 5, 0);
    expect(toHex(out.subarray(0, n))).toBe('1f00');
    expect(decodeInteger(out, { pos: 0 }, n, 5)).toBe(31);
  });
});

/** Decodes each block in turn with one decoder and checks each list. */
function decodeAll(decoder: Decoder, steps: readonly (readonly [string, HeaderField[]])[]): void {
  steps.forEach(([wire, headers], i) => {
    expect(decoder.decode(hex(wire)), `block ${i + 1}`).toEqual(headers);
  });
}

/** Expects the dynamic table to hold exactly `entries` (index 62 first). */
function expectTable(decoder: Decoder, entries: HeaderField[]): void {
  const indexed = Buffer.from(entries.map((_, i) => 0x80 | (62 + i)));
  expect(decoder.decode(indexed)).toEqual(entries);
  const beyond = Buffer.from([0x80 | (62 + entries.length)]);
  const err = thrown(() => decoder.decode(beyond));
  expect(err).toBeInstanceOf(HPACKDecodingError);
  expect((err as HPACKDecodingError).code).toBe('HW_ERR_HPACK_INDEX');
}

describe('C.2 header field representation', () => {
  it('C.2.1 literal with indexing', () => {
    const wire = '400a637573746f6d2d6b65790d637573746f6d2d686561646572';
    const d = new Decoder();
    expect(d.decode(hex(wire))).toEqual([['custom-key', 'custom-header']]);
    expectTable(d, [['custom-key', 'custom-header']]);
    expect(toHex(new Encoder({ huffman: false }).encode([['custom-key', 'custom-header']]))).toBe(wire);
  });

  it('C.2.2 literal without indexing', () => {
    const wire = '040c2f73616d706c652f70617468';
    const d = new Decoder();
    expect(d.decode(hex(wire))).toEqual([[':path', '/sample/path']]);
    expectTable(d, []);
    // Our encoder sends :path without indexing, as the RFC's example does.
    expect(toHex(new Encoder({ huffman: false }).encode([[':path', '/sample/path']]))).toBe(wire);
  });

  it('C.2.3 literal never indexed', () => {
    const wire = '100870617373776f726406736563726574';
    const d = new Decoder();
    expect(d.decode(hex(wire))).toEqual([['password', 'secret']]);
    expectTable(d, []);
    expect(toHex(new Encoder({ huffman: false }).encode([['password', 'secret', true]]))).toBe(wire);
  });

  it('C.2.4 indexed', () => {
    const d = new Decoder();
    expect(d.decode(hex('82'))).toEqual([[':method', 'GET']]);
    expectTable(d, []);
    expect(toHex(new Encoder().encode([[':method', 'GET']]))).toBe('82');
  });
});

const REQ1: HeaderField[] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/'],
  [':authority', 'www.example.com'],
];
const REQ2: HeaderField[] = [...REQ1, ['cache-control', 'no-cache']];
const REQ3: HeaderField[] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  [':authority', 'www.example.com'],
  ['custom-key', 'custom-value'],
];

/**
 * Our indexing strategy agrees with the RFC's for these requests: `:path`
 * is never added to the table by our encoder, but here every `:path` value
 * is in the static table and goes as an index, as in the RFC. So the encoder
 * must produce the RFC's bytes exactly.
 */
function requestSuite(title: string, huffman: boolean, wires: readonly [string, string, string]): void {
  describe(title, () => {
    const steps = [
      [wires[0], REQ1],
      [wires[1], REQ2],
      [wires[2], REQ3],
    ] as const;

    it('Decoder: exact lists and table', () => {
      const d = new Decoder();
      decodeAll(d, steps);
      expectTable(d, [
        ['custom-key', 'custom-value'],
        ['cache-control', 'no-cache'],
        [':authority', 'www.example.com'],
      ]);
    });

    it('Decoder: table after the first and second request', () => {
      const d1 = new Decoder();
      d1.decode(hex(wires[0]));
      expectTable(d1, [[':authority', 'www.example.com']]);
      const d2 = new Decoder();
      d2.decode(hex(wires[0]));
      d2.decode(hex(wires[1]));
      expectTable(d2, [
        ['cache-control', 'no-cache'],
        [':authority', 'www.example.com'],
      ]);
    });

    it(`Encoder (huffman: ${huffman}) produces the RFC bytes`, () => {
      const e = new Encoder({ huffman });
      expect(toHex(e.encode(REQ1))).toBe(wires[0]);
      expect(toHex(e.encode(REQ2))).toBe(wires[1]);
      expect(toHex(e.encode(REQ3))).toBe(wires[2]);
    });
  });
}

requestSuite('C.3 requests without Huffman', false, [
  '828684410f7777772e6578616d706c652e636f6d',
  '828684be58086e6f2d6361636865',
  '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565',
]);

requestSuite('C.4 requests with Huffman', true, [
  '828684418cf1e3c2e5f23a6ba0ab90f4ff',
  '828684be5886a8eb10649cbf',
  '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf',
]);

const RESP1: HeaderField[] = [
  [':status', '302'],
  ['cache-control', 'private'],
  ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
  ['location', 'https://www.example.com'],
];
const RESP2: HeaderField[] = [[':status', '307'], ...RESP1.slice(1)];
const RESP3: HeaderField[] = [
  [':status', '200'],
  ['cache-control', 'private'],
  ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
  ['location', 'https://www.example.com'],
  ['content-encoding', 'gzip'],
  ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
];

const TABLE_AFTER_RESP1: HeaderField[] = [
  ['location', 'https://www.example.com'],
  ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
  ['cache-control', 'private'],
  [':status', '302'],
];
// :status 302 evicted to make room for :status 307.
const TABLE_AFTER_RESP2: HeaderField[] = [
  [':status', '307'],
  ['location', 'https://www.example.com'],
  ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
  ['cache-control', 'private'],
];
// Five evictions in the third response; 215 octets left in the table.
const TABLE_AFTER_RESP3: HeaderField[] = [
  ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
  ['content-encoding', 'gzip'],
  ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
];

function responseSuite(title: string, wires: readonly [string, string, string], encoderCheck: (e: Encoder) => void): void {
  describe(title, () => {
    const steps = [
      [wires[0], RESP1],
      [wires[1], RESP2],
      [wires[2], RESP3],
    ] as const;

    it('Decoder (table size 256): exact lists', () => {
      const d = new Decoder({ maxTableSize: 256 });
      decodeAll(d, steps);
      expect(d.tableSize).toBe(256);
    });

    it('Decoder: the table after each response, with its evictions', () => {
      const tables = [TABLE_AFTER_RESP1, TABLE_AFTER_RESP2, TABLE_AFTER_RESP3];
      for (let n = 1; n <= 3; n++) {
        const d = new Decoder({ maxTableSize: 256 });
        for (let i = 0; i < n; i++) d.decode(hex(wires[i]!));
        expectTable(d, tables[n - 1]!);
      }
    });

    it('Encoder (table size 256)', () => {
      encoderCheck(new Encoder({ maxTableSize: 256, huffman: title.includes('with Huffman') }));
    });
  });
}

const C5: [string, string, string] = [
  '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d',
  '4803333037c1c0bf',
  '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31',
];
const C6: [string, string, string] = [
  '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
  '4883640effc1c0bf',
  '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
];

responseSuite('C.5 responses without Huffman', C5, (e) => {
  // Same indexing decisions as the RFC, so the same bytes.
  expect(toHex(e.encode(RESP1))).toBe(C5[0]);
  expect(toHex(e.encode(RESP2))).toBe(C5[1]);
  expect(toHex(e.encode(RESP3))).toBe(C5[2]);
});

responseSuite('C.6 responses with Huffman', C6, (e) => {
  expect(toHex(e.encode(RESP1))).toBe(C6[0]);
  // The RFC Huffman-codes "307" as 83 640eff: three octets, no shorter than
  // the raw three. Our encoder uses Huffman only when strictly shorter, so it
  // sends 03 333037 instead; the rest of the block is the RFC's.
  const second = e.encode(RESP2);
  expect(toHex(second)).toBe('4803333037c1c0bf');
  expect(toHex(e.encode(RESP3))).toBe(C6[2]);
  // Both forms decode to the same list in a decoder that saw the RFC's first block.
  const d = new Decoder({ maxTableSize: 256 });
  d.decode(hex(C6[0]));
  expect(d.decode(second)).toEqual(RESP2);
});

describe('C.3 to C.6 round-trip through our own Decoder', () => {
  const lists: { name: string; size: number; huffman: boolean; lists: HeaderInput[][] }[] = [
    { name: 'requests', size: 4096, huffman: false, lists: [REQ1, REQ2, REQ3] },
    { name: 'requests', size: 4096, huffman: true, lists: [REQ1, REQ2, REQ3] },
    { name: 'responses', size: 256, huffman: false, lists: [RESP1, RESP2, RESP3] },
    { name: 'responses', size: 256, huffman: true, lists: [RESP1, RESP2, RESP3] },
  ];
  for (const c of lists) {
    it(`${c.name}, huffman: ${c.huffman}`, () => {
      const e = new Encoder({ maxTableSize: c.size, huffman: c.huffman });
      const d = new Decoder({ maxTableSize: c.size });
      for (const list of c.lists) expect(d.decode(e.encode(list))).toEqual(list);
    });
  }
});
