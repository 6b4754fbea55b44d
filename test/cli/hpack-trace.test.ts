/**
 * The --debug decoding of header blocks: fields, how each was
 * represented, and the dynamic table after each block, checked against
 * the examples of RFC 7541 Appendix C (whose tables the RFC prints).
 */

import { describe, expect, it } from 'vitest';
import { describeIndex, HpackTrace } from '../../lib/cli/hpack-trace.js';
import { Encoder } from '../../lib/hpack/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('HpackTrace', () => {
  it('follows RFC 7541 C.3: requests without Huffman coding', () => {
    const trace = new HpackTrace();
    const first = trace.decode(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'));
    expect(first.fields.map((f) => [f.name, f.value, f.representation, f.index])).toEqual([
      [':method', 'GET', 'indexed', 2],
      [':scheme', 'http', 'indexed', 6],
      [':path', '/', 'indexed', 4],
      [':authority', 'www.example.com', 'incremental', 1],
    ]);
    expect(first).toMatchObject({ added: 1, evicted: 0, entries: 1, size: 57, maxSize: 4096, sizeUpdates: [] });

    const second = trace.decode(hex('8286 84be 5808 6e6f 2d63 6163 6865'));
    expect(second.fields[3]).toMatchObject({ name: ':authority', value: 'www.example.com', representation: 'indexed', index: 62 });
    expect(second.fields[4]).toMatchObject({ name: 'cache-control', value: 'no-cache', representation: 'incremental', index: 24 });
    expect(second).toMatchObject({ added: 1, entries: 2, size: 110 });

    const third = trace.decode(hex('8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65'));
    expect(third.fields[4]).toMatchObject({ name: 'custom-key', value: 'custom-value', representation: 'incremental', index: 0 });
    expect(third).toMatchObject({ added: 1, entries: 3, size: 164 });
  });

  it('follows RFC 7541 C.5: responses in a 256-octet table, with evictions', () => {
    const trace = new HpackTrace();
    // The examples assume SETTINGS_HEADER_TABLE_SIZE 256: a size update to 256 first (§6.3).
    const first = trace.decode(
      hex(
        '3fe101 4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      ),
    );
    expect(first).toMatchObject({ sizeUpdates: [256], added: 4, evicted: 0, entries: 4, size: 222, maxSize: 256 });

    const second = trace.decode(hex('4803 3330 37c1 c0bf'));
    expect(second.fields.map((f) => [f.name, f.value])).toEqual([
      [':status', '307'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ]);
    expect(second).toMatchObject({ added: 1, evicted: 1, entries: 4, size: 222 });

    const third = trace.decode(
      hex(
        '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
      ),
    );
    expect(third).toMatchObject({ added: 3, evicted: 4, entries: 3, size: 215 });
  });

  it('marks literals the encoder sent never-indexed, and stays in step with Huffman-coded blocks', () => {
    const encoder = new Encoder();
    const trace = new HpackTrace();
    const block = encoder.encode([
      [':method', 'GET'],
      ['authorization', 'Bearer secret'],
      ['x-custom', 'value'],
    ]);
    const traced = trace.decode(block);
    expect(traced.fields.find((f) => f.name === 'authorization')).toMatchObject({ value: 'Bearer secret', representation: 'never-indexed' });
    const again = trace.decode(encoder.encode([['x-custom', 'value']]));
    expect(again.fields[0]).toMatchObject({ name: 'x-custom', value: 'value', representation: 'indexed' });
    expect(again.entries).toBe(traced.entries);
  });

  it('reports a block it cannot decode, and every block after it', () => {
    const trace = new HpackTrace();
    expect(() => trace.decode(hex('be'))).toThrow();
    expect(() => trace.decode(hex('82'))).toThrow(/earlier block failed/);
  });

  it('names table indices', () => {
    expect(describeIndex(2)).toBe('static 2');
    expect(describeIndex(61)).toBe('static 61');
    expect(describeIndex(62)).toBe('dynamic 1');
  });
});
