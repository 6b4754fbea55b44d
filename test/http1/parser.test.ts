/**
 * ResponseParser (HTTP/1.1, RFC 9112) under every chunking: message framing,
 * keep-alive, 1xx heads, upgrades and tunnels, field syntax, size limits and
 * the errors that must close the connection.
 */

import { describe, expect, it } from 'vitest';
import { HTTP11Error } from '../../lib/common/errors.js';
import { ResponseParser } from '../../lib/http1/parser.js';
import type { ResponseHandler, ResponseParserOptions } from '../../lib/http1/parser.js';

type Fields = Array<[string, string]>;

/**
 * What the handler saw, in order. Consecutive data pieces are joined into one
 * `data` event (latin1), so different chunkings compare equal. `switch` holds
 * the octets from the offset execute() returned to the end of the input;
 * `error` holds the code of an HTTP11Error (anything else is recorded so that
 * the comparison fails).
 */
type Event =
  | ['head', number, string, number, Fields]
  | ['data', string]
  | ['trailers', Fields]
  | ['end', boolean]
  | ['switch', string]
  | ['error', string];

function recorder(): { handler: ResponseHandler; events: Event[] } {
  const events: Event[] = [];
  const handler: ResponseHandler = {
    onHead(status, reason, version, headers) {
      events.push(['head', status, reason, version, headers.map(([name, value]): [string, string] => [name, value])]);
    },
    onData(chunk) {
      // Empty pieces would be noise for a consumer: there are none.
      expect(chunk.length).toBeGreaterThan(0);
      const text = chunk.toString('latin1');
      const last = events[events.length - 1];
      if (last !== undefined && last[0] === 'data') last[1] += text;
      else events.push(['data', text]);
    },
    onTrailers(headers) {
      events.push(['trailers', headers.map(([name, value]): [string, string] => [name, value])]);
    },
    onEnd(keepAlive) {
      events.push(['end', keepAlive]);
    },
  };
  return { handler, events };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function expectH1Error(err: unknown, code: string): void {
  expect(err).toBeInstanceOf(HTTP11Error);
  expect((err as HTTP11Error).code).toBe(code);
}

function errorEvent(err: unknown): Event {
  return ['error', err instanceof HTTP11Error ? err.code : `not an HTTP11Error: ${String(err)}`];
}

const VALID = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';

/** After an error the parser is dead: more input throws and reaches no handler, finish() is quiet. */
function expectDead(parser: ResponseParser, events: Event[]): void {
  const before = events.length;
  parser.expect('GET');
  expectH1Error(
    thrown(() => parser.execute(Buffer.from(VALID, 'latin1'))),
    'HW_ERR_H1_DEAD',
  );
  expect(thrown(() => parser.finish())).toBeUndefined();
  expect(events.length).toBe(before);
  expect(parser.idle).toBe(false);
}

interface RunOptions {
  /** Methods passed to expect(), in order; default one GET. */
  methods?: string[];
  options?: ResponseParserOptions;
  /** Call finish() after the last chunk (unless the protocol switched or an error was thrown). Default true. */
  finish?: boolean;
}

interface RunResult {
  events: Event[];
  parser: ResponseParser;
}

/** Feeds `chunks` to a fresh parser and records what comes out. */
function run(chunks: Buffer[], { methods = ['GET'], options, finish = true }: RunOptions = {}): RunResult {
  const { handler, events } = recorder();
  const parser = new ResponseParser(handler, options);
  for (const method of methods) parser.expect(method);
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    let offset: number;
    try {
      offset = parser.execute(chunk);
    } catch (err) {
      events.push(errorEvent(err));
      expectDead(parser, events);
      return { events, parser };
    }
    if (offset !== -1) {
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThanOrEqual(chunk.length);
      events.push(['switch', Buffer.concat([chunk.subarray(offset), ...chunks.slice(i + 1)]).toString('latin1')]);
      return { events, parser };
    }
    // Body pieces are views valid only until execute() returns, and the
    // parser must copy whatever it keeps: scribble over the input to prove it.
    chunk.fill(0xee);
  }
  if (finish) {
    try {
      parser.finish();
    } catch (err) {
      events.push(errorEvent(err));
      expectDead(parser, events);
    }
  }
  return { events, parser };
}

/** Deterministic LCG (Numerical Recipes constants): the same seed gives the same splits on every run. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
}

/** Cut points for random pieces of 1..maxPiece octets. */
function randomCuts(length: number, seed: number, maxPiece: number): number[] {
  const next = lcg(seed);
  const cuts: number[] = [];
  for (let at = 0; ; ) {
    at += 1 + ((next() >>> 8) % maxPiece);
    if (at >= length) break;
    cuts.push(at);
  }
  return cuts;
}

/** Copies of `bytes` cut at `cuts` (each its own memory, like socket reads). */
function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...cuts, bytes.length]) {
    if (point > start) chunks.push(Buffer.from(bytes.subarray(start, point)));
    start = point;
  }
  return chunks;
}

/** Every chunking tried: one byte at a time, a two-way split at every point (short inputs), seeded random splits. */
function chunkings(length: number): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [];
  out.push(['one byte at a time', Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1)]);
  if (length <= 600) {
    for (let at = 1; at < length; at++) out.push([`split at ${at}`, [at]]);
  }
  for (let seed = 1; seed <= 8; seed++) {
    const maxPiece = [2, 5, 13, 64][seed % 4]!;
    out.push([`random splits, seed ${seed}, pieces up to ${maxPiece}`, randomCuts(length, seed, maxPiece)]);
  }
  return out;
}

function toBytes(input: string | Buffer): Buffer {
  return typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
}

/**
 * Parses `input` whole and in every chunking, checks each gives the same
 * events, and returns them.
 */
function parse(input: string | Buffer, opts: RunOptions = {}): Event[] {
  const bytes = toBytes(input);
  const reference = run(split(bytes, []), opts);
  for (const [label, cuts] of chunkings(bytes.length)) {
    expect(run(split(bytes, cuts), opts).events, label).toEqual(reference.events);
  }
  return reference.events;
}

/** The event, checked to be a head. */
function asHead(event: Event | undefined): ['head', number, string, number, Fields] {
  if (event === undefined || event[0] !== 'head') throw new Error(`not a head: ${JSON.stringify(event)}`);
  return event;
}

/** A head from its lines, CRLF-terminated, with the empty line. */
function head(...lines: string[]): string {
  return `${lines.join('\r\n')}\r\n\r\n`;
}

describe('the chunking helper', () => {
  it('cuts every input into pieces that join back to it, in many different ways', () => {
    const bytes = toBytes(head('HTTP/1.1 200 OK', 'Content-Length: 5') + 'hello');
    const all = chunkings(bytes.length);
    expect(all.length).toBeGreaterThan(bytes.length);
    const distinct = new Set<string>();
    for (const [label, cuts] of all) {
      const chunks = split(bytes, cuts);
      expect(Buffer.concat(chunks).equals(bytes), label).toBe(true);
      expect(chunks.every((c) => c.length > 0)).toBe(true);
      distinct.add(cuts.join(','));
    }
    // Short inputs may give two large-piece seeds the same cuts; nearly all differ.
    expect(distinct.size).toBeGreaterThan(all.length - 4);
    expect(split(bytes, all[0]![1]).length).toBe(bytes.length);
    // Deterministic: the same seed gives the same cuts.
    expect(randomCuts(500, 7, 13)).toEqual(randomCuts(500, 7, 13));
    expect(randomCuts(500, 7, 13)).not.toEqual(randomCuts(500, 8, 13));
  });

  it('joins data pieces and records switches and errors', () => {
    const { handler, events } = recorder();
    handler.onData(Buffer.from('ab'));
    handler.onData(Buffer.from('cd'));
    handler.onEnd(true);
    handler.onData(Buffer.from('e'));
    expect(events).toEqual([['data', 'abcd'], ['end', true], ['data', 'e']]);
    expect(errorEvent(new HTTP11Error('HW_ERR_H1_HEADER', 'x'))).toEqual(['error', 'HW_ERR_H1_HEADER']);
    expect(errorEvent(new Error('x'))[1]).toMatch(/^not an HTTP11Error/);
  });
});

describe('Content-Length bodies', () => {
  it('reads exactly Content-Length octets', () => {
    const events = parse(head('HTTP/1.1 200 OK', 'Content-Type: text/plain', 'Content-Length: 5') + 'hello');
    expect(events).toEqual([
      [
        'head',
        200,
        'OK',
        11,
        [
          ['Content-Type', 'text/plain'],
          ['Content-Length', '5'],
        ],
      ],
      ['data', 'hello'],
      ['end', true],
    ]);
  });

  it('a body that looks like HTTP is still body', () => {
    const body = 'HTTP/1.1 500 Oops\r\n\r\n0\r\n\r\n';
    const events = parse(head('HTTP/1.1 200 OK', `Content-Length: ${body.length}`) + body);
    expect(events).toEqual([
      ['head', 200, 'OK', 11, [['Content-Length', String(body.length)]]],
      ['data', body],
      ['end', true],
    ]);
  });

  it('Content-Length: 0 ends the response at the head, with no data', () => {
    expect(parse(head('HTTP/1.1 200 OK', 'Content-Length: 0'))).toEqual([
      ['head', 200, 'OK', 11, [['Content-Length', '0']]],
      ['end', true],
    ]);
  });

  it('the end comes before finish(), and the parser is idle after it', () => {
    const { events, parser } = run([Buffer.from(head('HTTP/1.1 200 OK', 'Content-Length: 2') + 'hi', 'latin1')], {
      finish: false,
    });
    expect(events.at(-1)).toEqual(['end', true]);
    expect(parser.idle).toBe(true);
    expect(parser.readsUntilClose).toBe(false);
  });

  it('a large body, in every chunking', () => {
    const body = Buffer.alloc(70_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 8)) & 0xff;
    const input = Buffer.concat([Buffer.from(head('HTTP/1.1 200 OK', `Content-Length: ${body.length}`), 'latin1'), body]);
    expect(parse(input)).toEqual([
      ['head', 200, 'OK', 11, [['Content-Length', '70000']]],
      ['data', body.toString('latin1')],
      ['end', true],
    ]);
  });

  it('body pieces are views of the input, not copies', () => {
    const input = Buffer.from(head('HTTP/1.1 200 OK', 'Content-Length: 5') + 'hello', 'latin1');
    const pieces: Buffer[] = [];
    const parser = new ResponseParser({ ...recorder().handler, onData: (chunk) => pieces.push(chunk) });
    parser.expect('GET');
    expect(parser.execute(input)).toBe(-1);
    expect(pieces).toHaveLength(1);
    expect(pieces[0]!.buffer).toBe(input.buffer);
    expect(pieces[0]!.byteOffset).toBe(input.byteOffset + input.length - 5);
  });

  it('identical repeated Content-Length values are read as one', () => {
    for (const fields of [['Content-Length: 5, 5'], ['Content-Length: 5,5'], ['Content-Length:  5 ,\t5 , 5 '], ['Content-Length: 5', 'content-length: 5']]) {
      const events = parse(head('HTTP/1.1 200 OK', ...fields) + 'hello');
      expect(events.slice(1), fields.join(' | ')).toEqual([
        ['data', 'hello'],
        ['end', true],
      ]);
    }
  });

  it('leading zeros and the largest value are accepted', () => {
    expect(parse(head('HTTP/1.1 200 OK', 'Content-Length: 0005') + 'hello').slice(1)).toEqual([
      ['data', 'hello'],
      ['end', true],
    ]);
    const { events, parser } = run([Buffer.from(head('HTTP/1.1 200 OK', 'Content-Length: 999999999999999') + 'abc', 'latin1')], {
      finish: false,
    });
    expect(events.slice(1)).toEqual([['data', 'abc']]);
    expect(parser.idle).toBe(false);
  });
});

describe('chunked bodies', () => {
  it('accepts any number of leading zeros in a chunk size', () => {
    const input = head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') + '00000000000000000005\r\nhello\r\n000\r\n\r\n';
    expect(parse(input).map((e) => e.slice(0, 2))).toEqual([['head', 200], ['data', 'hello'], ['end', true]]);
  });

  it('Transfer-Encoding over several field lines is one list: an empty line does not undo chunked', () => {
    const input = head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Transfer-Encoding:') + '2\r\nok\r\n0\r\n\r\n';
    expect(parse(input).map((e) => e.slice(0, 2))).toEqual([['head', 200], ['data', 'ok'], ['end', true]]);
  });

  it('reads chunks, ignores chunk extensions, and reports trailers', () => {
    const input =
      head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') +
      '5;name=value\r\nhello\r\n' +
      '6 ; a=b;c="quoted;\\"x"\r\n world\r\n' +
      'A\r\n0123456789\r\n' +
      'f\r\n-abcdefghijklmn\r\n' +
      '0;last=yes\r\n' +
      'X-Checksum: abc\r\n' +
      'x-other:   spaced value \t\r\n' +
      '\r\n';
    expect(parse(input)).toEqual([
      ['head', 200, 'OK', 11, [['Transfer-Encoding', 'chunked']]],
      ['data', 'hello world0123456789-abcdefghijklmn'],
      [
        'trailers',
        [
          ['X-Checksum', 'abc'],
          ['x-other', 'spaced value'],
        ],
      ],
      ['end', true],
    ]);
  });

  it('no onTrailers without trailer fields', () => {
    expect(parse(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') + '3\r\nabc\r\n0\r\n\r\n')).toEqual([
      ['head', 200, 'OK', 11, [['Transfer-Encoding', 'chunked']]],
      ['data', 'abc'],
      ['end', true],
    ]);
  });

  it('an empty chunked body', () => {
    expect(parse(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') + '0\r\n\r\n')).toEqual([
      ['head', 200, 'OK', 11, [['Transfer-Encoding', 'chunked']]],
      ['end', true],
    ]);
  });

  it('hex sizes in either case, with leading zeros up to 13 digits', () => {
    const input =
      head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') +
      'a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0000000000003\r\nxyz\r\n0000\r\n\r\n';
    expect(parse(input).slice(1)).toEqual([
      ['data', '0123456789abcdefghijkxyz'],
      ['end', true],
    ]);
  });

  it('a large chunk, in every chunking', () => {
    const data = 'z'.repeat(0x1234);
    const input = head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') + `1234\r\n${data}\r\n1\r\n!\r\n0\r\n\r\n`;
    expect(parse(input).slice(1)).toEqual([
      ['data', `${data}!`],
      ['end', true],
    ]);
  });

  it('Transfer-Encoding is matched without regard to case; chunked must be the last coding', () => {
    const body = '3\r\nabc\r\n0\r\n\r\n';
    for (const fields of [
      ['TRANSFER-ENCODING: Chunked'],
      ['Transfer-Encoding: gzip, chunked'],
      ['Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'],
      // Empty list elements are ignored (RFC 9110 §5.6.1).
      ['Transfer-Encoding: chunked ,'],
    ]) {
      expect(parse(head('HTTP/1.1 200 OK', ...fields) + body).slice(1), fields.join(' | ')).toEqual([
        ['data', 'abc'],
        ['end', true],
      ]);
    }
  });

  it('when chunked is not the last coding, the body runs to the close (RFC 9112 §6.3)', () => {
    const body = '3\r\nabc\r\n0\r\n\r\n';
    for (const fields of [['Transfer-Encoding: chunked, gzip'], ['Transfer-Encoding: chunked', 'Transfer-Encoding: gzip'], ['Transfer-Encoding: identity']]) {
      expect(parse(head('HTTP/1.1 200 OK', ...fields) + body).slice(1), fields.join(' | ')).toEqual([
        ['data', body],
        ['end', false],
      ]);
    }
  });

  it('"chunked" with a non-OWS control character is not chunked', () => {
    // VT is not OWS (RFC 9110 §5.6.3): this is an unknown coding, so the body runs to the close.
    const body = '3\r\nabc\r\n0\r\n\r\n';
    expect(parse(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked\x0b') + body).slice(1)).toEqual([
      ['data', body],
      ['end', false],
    ]);
  });

  it('bare LF after chunk sizes, chunk data and trailers', () => {
    const input = 'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nab\n2;x\ncd\n0\nX-T: 1\n\n';
    expect(parse(input)).toEqual([
      ['head', 200, 'OK', 11, [['Transfer-Encoding', 'chunked']]],
      ['data', 'abcd'],
      ['trailers', [['X-T', '1']]],
      ['end', true],
    ]);
  });

  it('obs-fold in a trailer is joined with a space', () => {
    const input = head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') + '0\r\nX-T: a\r\n  b\r\n\r\n';
    expect(parse(input).slice(1)).toEqual([
      ['trailers', [['X-T', 'a b']]],
      ['end', true],
    ]);
  });
});

describe('close-delimited bodies', () => {
  const input = head('HTTP/1.1 200 OK', 'Content-Type: text/plain') + 'all of this\r\nuntil the close';

  it('run until finish(), which ends them without keep-alive', () => {
    expect(parse(input)).toEqual([
      ['head', 200, 'OK', 11, [['Content-Type', 'text/plain']]],
      ['data', 'all of this\r\nuntil the close'],
      ['end', false],
    ]);
  });

  it('do not end before finish()', () => {
    const { events, parser } = run([Buffer.from(input, 'latin1')], { finish: false });
    expect(events.map((e) => e[0])).toEqual(['head', 'data']);
    expect(parser.readsUntilClose).toBe(true);
    expect(parser.idle).toBe(false);
    parser.finish();
    expect(events.at(-1)).toEqual(['end', false]);
    expect(parser.readsUntilClose).toBe(false);
    expect(parser.idle).toBe(true);
  });

  it('an empty close-delimited body', () => {
    expect(parse(head('HTTP/1.1 200 OK', 'X-A: b'))).toEqual([
      ['head', 200, 'OK', 11, [['X-A', 'b']]],
      ['end', false],
    ]);
  });

  it('later octets are body, never a next response', () => {
    const more = head('HTTP/1.1 200 OK', 'Content-Length: 0');
    expect(parse(head('HTTP/1.0 200 OK') + 'x' + more, { methods: ['GET', 'GET'] })).toEqual([
      ['head', 200, 'OK', 10, []],
      ['data', `x${more}`],
      ['end', false],
    ]);
  });
});

describe('responses without a body', () => {
  it('HEAD: no body even with Content-Length or Transfer-Encoding', () => {
    for (const field of ['Content-Length: 5', 'Transfer-Encoding: chunked']) {
      const input = head('HTTP/1.1 200 OK', field) + head('HTTP/1.1 200 OK', 'Content-Length: 3') + 'abc';
      expect(parse(input, { methods: ['HEAD', 'GET'] }), field).toEqual([
        ['head', 200, 'OK', 11, [[field.split(':')[0]!, field.split(': ')[1]!]]],
        ['end', true],
        ['head', 200, 'OK', 11, [['Content-Length', '3']]],
        ['data', 'abc'],
        ['end', true],
      ]);
    }
  });

  it('HEAD with no framing fields is not close-delimited', () => {
    const { events, parser } = run([Buffer.from(head('HTTP/1.1 200 OK'), 'latin1')], { methods: ['HEAD'], finish: false });
    expect(events).toEqual([
      ['head', 200, 'OK', 11, []],
      ['end', true],
    ]);
    expect(parser.idle).toBe(true);
  });

  it('204 and 304 have no body, whatever the fields say', () => {
    for (const [status, fields] of [
      ['204 No Content', []],
      ['204 No Content', ['Content-Length: 10']],
      ['304 Not Modified', []],
      ['304 Not Modified', ['Content-Length: 100']],
      ['304 Not Modified', ['Transfer-Encoding: chunked']],
    ] as Array<[string, string[]]>) {
      const input = head(`HTTP/1.1 ${status}`, ...fields) + head('HTTP/1.1 200 OK', 'Content-Length: 2') + 'ok';
      const events = parse(input, { methods: ['GET', 'GET'] });
      expect(events.map((e) => e.slice(0, 2)), `${status} ${fields.join()}`).toEqual([['head', Number(status.slice(0, 3))], ['end', true], ['head', 200], ['data', 'ok'], ['end', true]]);
    }
  });
});

describe('1xx informational heads', () => {
  it('100 Continue, then the final response, for one request', () => {
    const input = head('HTTP/1.1 100 Continue') + head('HTTP/1.1 200 OK', 'Content-Length: 2') + 'ok';
    expect(parse(input)).toEqual([
      ['head', 100, 'Continue', 11, []],
      ['head', 200, 'OK', 11, [['Content-Length', '2']]],
      ['data', 'ok'],
      ['end', true],
    ]);
  });

  it('103 Early Hints with fields, then the final response', () => {
    const input =
      head('HTTP/1.1 103 Early Hints', 'Link: </style.css>; rel=preload; as=style', 'Link: </script.js>; rel=preload; as=script') +
      head('HTTP/1.1 404 Not Found', 'Content-Length: 4') +
      'nope';
    expect(parse(input)).toEqual([
      [
        'head',
        103,
        'Early Hints',
        11,
        [
          ['Link', '</style.css>; rel=preload; as=style'],
          ['Link', '</script.js>; rel=preload; as=script'],
        ],
      ],
      ['head', 404, 'Not Found', 11, [['Content-Length', '4']]],
      ['data', 'nope'],
      ['end', true],
    ]);
  });

  it('several 1xx heads; their framing fields are ignored', () => {
    const input =
      head('HTTP/1.1 100 Continue', 'Content-Length: 10') +
      head('HTTP/1.1 102 Processing', 'Transfer-Encoding: chunked') +
      head('HTTP/1.1 103 Early Hints') +
      head('HTTP/1.1 200 OK', 'Content-Length: 1') +
      '!';
    expect(parse(input).map((e) => e.slice(0, 2))).toEqual([['head', 100], ['head', 102], ['head', 103], ['head', 200], ['data', '!'], ['end', true]]);
  });

  it('a 1xx to HEAD, then a final response with no body, then the next response', () => {
    const input = head('HTTP/1.1 100 Continue') + head('HTTP/1.1 200 OK', 'Content-Length: 9') + head('HTTP/1.1 200 OK', 'Content-Length: 1') + 'x';
    expect(parse(input, { methods: ['HEAD', 'GET'] }).map((e) => e.slice(0, 2))).toEqual([['head', 100], ['head', 200], ['end', true], ['head', 200], ['data', 'x'], ['end', true]]);
  });

  it('1xx heads share the size limit with the final head, so an endless run of them fails', () => {
    const informational = head('HTTP/1.1 103 Early Hints', `Link: <${'a'.repeat(30)}>`);
    const final = head('HTTP/1.1 200 OK', 'Content-Length: 0', `X-Pad: ${'p'.repeat(20)}`);
    const total = informational.length + final.length;
    expect(parse(informational + final, { options: { maxHeaderSize: total } }).map((e) => e.slice(0, 2))).toEqual([['head', 103], ['head', 200], ['end', true]]);
    const events = parse(informational + final, { options: { maxHeaderSize: total - 1 } });
    expect(events[events.length - 1]).toEqual(['error', 'HW_ERR_H1_HEADER_SIZE']);
    expect(parse(head('HTTP/1.1 100 Continue').repeat(5000)).at(-1)).toEqual(['error', 'HW_ERR_H1_HEADER_SIZE']);
  });

  it('the connection closing after only a 1xx head is an incomplete response', () => {
    expect(parse(head('HTTP/1.1 100 Continue'))).toEqual([
      ['head', 100, 'Continue', 11, []],
      ['error', 'HW_ERR_H1_INCOMPLETE'],
    ]);
  });
});

describe('101 Switching Protocols', () => {
  const switching = head('HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: websocket');

  it('returns the offset of the octets after the head', () => {
    const frames = '\x81\x05hello\x82\x00';
    expect(parse(switching + frames)).toEqual([
      [
        'head',
        101,
        'Switching Protocols',
        11,
        [
          ['Connection', 'Upgrade'],
          ['Upgrade', 'websocket'],
        ],
      ],
      ['switch', frames],
    ]);
    const { handler, events } = recorder();
    const parser = new ResponseParser(handler);
    parser.expect('GET');
    expect(parser.execute(Buffer.from(switching + frames, 'latin1'))).toBe(switching.length);
    // Nothing more is HTTP/1.1, and the close is not an error.
    expect(parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\n', 'latin1'))).toBe(0);
    parser.finish();
    expect(events.map((e) => e[0])).toEqual(['head']);
  });

  it('returns the chunk length when the head ends the chunk', () => {
    const parser = new ResponseParser(recorder().handler);
    parser.expect('GET');
    expect(parser.execute(Buffer.from(switching, 'latin1'))).toBe(switching.length);
  });

  it('the offset counts from the start of the chunk, after an earlier response in it', () => {
    const first = head('HTTP/1.1 200 OK', 'Content-Length: 3') + 'abc';
    const input = Buffer.from(first + switching + 'NEW', 'latin1');
    const { handler, events } = recorder();
    const parser = new ResponseParser(handler);
    parser.expect('GET');
    parser.expect('GET');
    expect(parser.execute(input)).toBe(first.length + switching.length);
    expect(events.map((e) => e[0])).toEqual(['head', 'data', 'end', 'head']);
    expect(parse(input, { methods: ['GET', 'GET'] }).at(-1)).toEqual(['switch', 'NEW']);
  });

  it('the upgrade token may be one of several, in any case', () => {
    const input = head('HTTP/1.1 101 Switching Protocols', 'Connection: keep-alive , UPGRADE', 'Upgrade: h2c') + 'PRI';
    expect(parse(input).at(-1)).toEqual(['switch', 'PRI']);
  });

  it('a 101 after 100 Continue', () => {
    expect(parse(head('HTTP/1.1 100 Continue') + switching + 'x').map((e) => e.slice(0, 2))).toEqual([['head', 100], ['head', 101], ['switch', 'x']]);
  });

  it('a 101 without Connection: upgrade is an error', () => {
    for (const fields of [['Upgrade: websocket'], ['Connection: keep-alive', 'Upgrade: websocket'], ['Connection: upgraded', 'Upgrade: websocket']]) {
      const events = parse(head('HTTP/1.1 101 Switching Protocols', ...fields) + 'frames');
      // The head is reported before the error (see the report: questionable).
      expect(events.map((e) => e.slice(0, 2)), fields.join(' | ')).toEqual([['head', 101], ['error', 'HW_ERR_H1_UPGRADE']]);
    }
  });
});

describe('CONNECT', () => {
  it('a 2xx opens a tunnel at the octets after the head', () => {
    const established = head('HTTP/1.1 200 Connection Established');
    const tunnel = '\x16\x03\x01\x00\xa5tls';
    expect(parse(established + tunnel, { methods: ['CONNECT'] })).toEqual([
      ['head', 200, 'Connection Established', 11, []],
      ['switch', tunnel],
    ]);
    const parser = new ResponseParser(recorder().handler);
    parser.expect('CONNECT');
    expect(parser.execute(Buffer.from(established + tunnel, 'latin1'))).toBe(established.length);
  });

  it('framing fields of a 2xx to CONNECT are ignored (RFC 9110 §9.3.6)', () => {
    for (const field of ['Content-Length: 5', 'Transfer-Encoding: chunked', 'Connection: close']) {
      const input = head('HTTP/1.1 200 OK', field) + 'tunnel';
      expect(parse(input, { methods: ['CONNECT'] }).at(-1), field).toEqual(['switch', 'tunnel']);
    }
    expect(parse(head('HTTP/1.0 299 Whatever') + 't', { methods: ['CONNECT'] }).at(-1)).toEqual(['switch', 't']);
  });

  it('a 1xx before the 2xx', () => {
    expect(parse(head('HTTP/1.1 100 Continue') + head('HTTP/1.1 200 OK') + 't', { methods: ['CONNECT'] }).map((e) => e.slice(0, 2))).toEqual([['head', 100], ['head', 200], ['switch', 't']]);
  });

  it('a non-2xx to CONNECT is an ordinary response', () => {
    const input = head('HTTP/1.1 407 Proxy Authentication Required', 'Proxy-Authenticate: Basic', 'Content-Length: 6') + 'denied';
    expect(parse(input, { methods: ['CONNECT'] })).toEqual([
      ['head', 407, 'Proxy Authentication Required', 11, [['Proxy-Authenticate', 'Basic'], ['Content-Length', '6']]],
      ['data', 'denied'],
      ['end', true],
    ]);
    expect(parse(head('HTTP/1.1 300 Multiple Choices', 'Content-Length: 0'), { methods: ['CONNECT'] }).at(-1)).toEqual(['end', true]);
  });

  it('a 2xx to another method is not a tunnel', () => {
    expect(parse(head('HTTP/1.1 200 OK', 'Content-Length: 0') + 'x').slice(1)).toEqual([
      ['end', true],
      ['error', 'HW_ERR_H1_UNSOLICITED'],
    ]);
  });
});

describe('keep-alive', () => {
  const cases: Array<[string, string, string[], string, boolean]> = [
    ['HTTP/1.1 by default', 'HTTP/1.1 200 OK', ['Content-Length: 2'], 'ok', true],
    ['HTTP/1.1 chunked', 'HTTP/1.1 200 OK', ['Transfer-Encoding: chunked'], '2\r\nok\r\n0\r\n\r\n', true],
    ['HTTP/1.1 Connection: close', 'HTTP/1.1 200 OK', ['Connection: close', 'Content-Length: 2'], 'ok', false],
    ['HTTP/1.1 Connection: Close, among other tokens', 'HTTP/1.1 200 OK', ['Connection: foo,  CLOSE ', 'Content-Length: 2'], 'ok', false],
    ['HTTP/1.1 close in a second Connection field', 'HTTP/1.1 200 OK', ['Connection: keep-alive', 'Connection: close', 'Content-Length: 2'], 'ok', false],
    ['HTTP/1.1 close-delimited', 'HTTP/1.1 200 OK', [], 'ok', false],
    ['HTTP/1.1 chunked not last: close-delimited', 'HTTP/1.1 200 OK', ['Transfer-Encoding: chunked, br'], 'ok', false],
    ['HTTP/1.0 by default', 'HTTP/1.0 200 OK', ['Content-Length: 2'], 'ok', false],
    ['HTTP/1.0 Connection: keep-alive', 'HTTP/1.0 200 OK', ['Connection: Keep-Alive', 'Content-Length: 2'], 'ok', true],
    ['HTTP/1.0 keep-alive and close', 'HTTP/1.0 200 OK', ['Connection: keep-alive, close', 'Content-Length: 2'], 'ok', false],
    ['HTTP/1.0 keep-alive, close-delimited', 'HTTP/1.0 200 OK', ['Connection: keep-alive'], 'ok', false],
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing; close after the message.
    ['HTTP/1.0 keep-alive with Transfer-Encoding', 'HTTP/1.0 200 OK', ['Connection: keep-alive', 'Transfer-Encoding: chunked'], '2\r\nok\r\n0\r\n\r\n', false],
    ['a later HTTP/1.x is read as HTTP/1.1', 'HTTP/1.9 200 OK', ['Content-Length: 2'], 'ok', true],
    ['HEAD', 'HTTP/1.1 200 OK', ['Content-Length: 2'], '', true],
    ['204', 'HTTP/1.1 204 No Content', [], '', true],
    ['204 with Connection: close', 'HTTP/1.1 204 No Content', ['Connection: close'], '', false],
  ];

  it.each(cases)('%s', (label, statusLine, fields, body, keepAlive) => {
    const events = parse(head(statusLine, ...fields) + body, { methods: [label === 'HEAD' ? 'HEAD' : 'GET'] });
    expect(events.at(-1)).toEqual(['end', keepAlive]);
    expect(asHead(events[0])[3]).toBe(statusLine.startsWith('HTTP/1.0') ? 10 : 11);
    expect(events.filter((e) => e[0] === 'data')).toEqual(body === '' ? [] : [['data', 'ok']]);
  });

  it('Transfer-Encoding and Content-Length: Transfer-Encoding wins, and no keep-alive', () => {
    const input = head('HTTP/1.1 200 OK', 'Content-Length: 100', 'Transfer-Encoding: chunked') + '3\r\nabc\r\n0\r\n\r\n';
    expect(parse(input).slice(1)).toEqual([
      ['data', 'abc'],
      ['end', false],
    ]);
    const reversed = head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Content-Length: 3') + '3\r\nabc\r\n0\r\n\r\n';
    expect(parse(reversed).slice(1)).toEqual([
      ['data', 'abc'],
      ['end', false],
    ]);
  });

  it('each response of a connection has its own keep-alive', () => {
    const input = head('HTTP/1.0 200 OK', 'Connection: keep-alive', 'Content-Length: 1') + 'a' + head('HTTP/1.1 200 OK', 'Content-Length: 1') + 'b' + head('HTTP/1.1 200 OK', 'Connection: close', 'Content-Length: 1') + 'c';
    expect(parse(input, { methods: ['GET', 'GET', 'GET'] }).filter((e) => e[0] === 'end')).toEqual([
      ['end', true],
      ['end', true],
      ['end', false],
    ]);
  });
});

describe('several responses on one connection', () => {
  it('two responses back to back in one chunk', () => {
    const input = head('HTTP/1.1 200 OK', 'Content-Length: 5') + 'first' + head('HTTP/1.1 201 Created', 'Content-Length: 6') + 'second';
    const { handler, events } = recorder();
    const parser = new ResponseParser(handler);
    parser.expect('GET');
    parser.expect('POST');
    expect(parser.execute(Buffer.from(input, 'latin1'))).toBe(-1);
    const expected: Event[] = [
      ['head', 200, 'OK', 11, [['Content-Length', '5']]],
      ['data', 'first'],
      ['end', true],
      ['head', 201, 'Created', 11, [['Content-Length', '6']]],
      ['data', 'second'],
      ['end', true],
    ];
    expect(events).toEqual(expected);
    expect(parser.idle).toBe(true);
    expect(parse(input, { methods: ['GET', 'POST'] })).toEqual(expected);
  });

  it('different framings in a row', () => {
    const input =
      head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') +
      '1\r\na\r\n0\r\nX-T: t\r\n\r\n' +
      head('HTTP/1.1 204 No Content') +
      head('HTTP/1.1 200 OK', 'Content-Length: 99') +
      head('HTTP/1.1 200 OK', 'Content-Length: 1') +
      'b' +
      head('HTTP/1.1 200 OK') +
      'rest';
    expect(parse(input, { methods: ['GET', 'DELETE', 'HEAD', 'GET', 'GET'] }).map((e) => e.slice(0, 2))).toEqual([
      ['head', 200],
      ['data', 'a'],
      ['trailers', [['X-T', 't']]],
      ['end', true],
      ['head', 204],
      ['end', true],
      ['head', 200],
      ['end', true],
      ['head', 200],
      ['data', 'b'],
      ['end', true],
      ['head', 200],
      ['data', 'rest'],
      ['end', false],
    ]);
  });

  it('stray CRLFs (and bare LFs) between and before messages are skipped', () => {
    const input = '\r\n' + head('HTTP/1.1 200 OK', 'Content-Length: 1') + 'a' + '\r\n\r\n\n' + head('HTTP/1.1 200 OK', 'Content-Length: 1') + 'b\r\n';
    const { events, parser } = run([Buffer.from(input, 'latin1')], { methods: ['GET', 'GET'], finish: false });
    expect(events.map((e) => e.slice(0, 2))).toEqual([['head', 200], ['data', 'a'], ['end', true], ['head', 200], ['data', 'b'], ['end', true]]);
    expect(parser.idle).toBe(true);
    expect(parse(input, { methods: ['GET', 'GET'] })).toEqual(events);
  });

  it('stray CRLFs with no response due are not an error', () => {
    expect(parse('\r\n\r\n', { methods: [] })).toEqual([]);
  });
});

describe('field syntax', () => {
  it('obs-fold lines are joined to the field with a single space', () => {
    const input = 'HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\n\tthird  \r\nX-Empty:\r\n   later\r\nX-Blank: v\r\n \t \r\nContent-Length: 0\r\n\r\n';
    expect(parse(input)[0]).toEqual([
      'head',
      200,
      'OK',
      11,
      [
        ['X-Folded', 'first second third'],
        ['X-Empty', 'later'],
        ['X-Blank', 'v'],
        ['Content-Length', '0'],
      ],
    ]);
  });

  it('a folded Content-Length is read after unfolding', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length:\r\n 3\r\n\r\nabc').slice(1)).toEqual([
      ['data', 'abc'],
      ['end', true],
    ]);
  });

  it('bare LF line endings are accepted', () => {
    expect(parse('HTTP/1.1 200 OK\nX-A: 1\r\nContent-Length: 2\n\nhi')).toEqual([
      [
        'head',
        200,
        'OK',
        11,
        [
          ['X-A', '1'],
          ['Content-Length', '2'],
        ],
      ],
      ['data', 'hi'],
      ['end', true],
    ]);
    expect(parse('HTTP/1.1 204 No Content\n\n')).toEqual([
      ['head', 204, 'No Content', 11, []],
      ['end', true],
    ]);
  });

  it('field names keep their case, and framing names match in any case', () => {
    const input = head('HTTP/1.1 200 OK', 'X-MiXeD-CaSe: 1', 'cOnTeNt-LeNgTh: 2', 'ETAG: "x"') + 'ab';
    expect(parse(input)).toEqual([
      [
        'head',
        200,
        'OK',
        11,
        [
          ['X-MiXeD-CaSe', '1'],
          ['cOnTeNt-LeNgTh', '2'],
          ['ETAG', '"x"'],
        ],
      ],
      ['data', 'ab'],
      ['end', true],
    ]);
  });

  it('values are trimmed of OWS, inner whitespace kept; empty values allowed; repeats kept in order', () => {
    const input = head('HTTP/1.1 200 OK', 'X-A:   spaced \t ', 'X-B:\tinner  \t space', 'X-Empty:', 'X-Spaces:    ', 'X-A: again', "X-Tok!#$%&'*+-.^_`|~: token");
    expect(parse(input, { methods: ['HEAD'] })[0]).toEqual([
      'head',
      200,
      'OK',
      11,
      [
        ['X-A', 'spaced'],
        ['X-B', 'inner  \t space'],
        ['X-Empty', ''],
        ['X-Spaces', ''],
        ['X-A', 'again'],
        ["X-Tok!#$%&'*+-.^_`|~", 'token'],
      ],
    ]);
  });

  it('latin1 octets 0x80-0xff in values and the reason phrase round-trip', () => {
    const octets = Buffer.from(Array.from({ length: 128 }, (_, i) => 0x80 + i));
    const input = Buffer.concat([
      Buffer.from('HTTP/1.1 200 D\xe9j\xe0 vu\r\nX-Bin: ', 'latin1'),
      octets,
      Buffer.from('\r\nX-Ctl: a\x01\x7fb\r\nContent-Length: 0\r\n\r\n', 'latin1'),
    ]);
    const first = asHead(parse(input)[0]);
    expect(first.slice(0, 4)).toEqual(['head', 200, 'Déjà vu', 11]);
    const fields = first[4];
    expect(fields[0]![0]).toBe('X-Bin');
    expect(Buffer.from(fields[0]![1], 'latin1').equals(octets)).toBe(true);
    expect([...fields[0]![1]].map((c) => c.charCodeAt(0))).toEqual([...octets]);
    expect(fields[1]).toEqual(['X-Ctl', 'a\x01\x7fb']);
  });

  it('reason phrases: empty, absent, with spaces', () => {
    for (const [line, reason] of [
      ['HTTP/1.1 200', ''],
      ['HTTP/1.1 200 ', ''],
      ['HTTP/1.1 500 Internal  Server Error ', 'Internal  Server Error '],
      ['HTTP/1.1 418 I\tam a teapot', 'I\tam a teapot'],
    ] as Array<[string, string]>) {
      expect(asHead(parse(head(line, 'Content-Length: 0'))[0]).slice(0, 3), line).toEqual(['head', Number(line.slice(9, 12)), reason]);
    }
  });

  it('HTTP/1.0 status lines report version 10', () => {
    expect(parse(head('HTTP/1.0 302 Found', 'Location: /x', 'Content-Length: 0'))).toEqual([
      ['head', 302, 'Found', 10, [['Location', '/x'], ['Content-Length', '0']]],
      ['end', false],
    ]);
  });
});

describe('malformed responses', () => {
  it.each([
    'HTTP/2.0 200 OK',
    'HTTP/2 200 OK',
    'HTP/1.1 200',
    'HTP/1.1 200 OK',
    'http/1.1 200 OK',
    'ICY 200 OK',
    'HTTP/1.1 20 OK',
    'HTTP/1.1 200OK',
    'HTTP/1.1 2000 OK',
    'HTTP/1.1 2a0 OK',
    'HTTP/1.1 099 Too Low',
    'HTTP/1.1 600 Too High',
    'HTTP/1.1 000 Zero',
    'HTTP/1.1  200 OK',
    'HTTP/1.1\t200 OK',
    'HTTP/1.1 200\tOK',
    'HTTP/1.x 200 OK',
    'HTTP/11 200 OK',
    'HTTP/1.1',
    ' HTTP/1.1 200 OK',
    'HTTP/1.1 200 O\x00K',
    'HTTP/1.1 200 O\rK',
  ])('status line %j', (line) => {
    expect(parse(`${line}\r\nContent-Length: 0\r\n\r\n`)).toEqual([['error', 'HW_ERR_H1_STATUS_LINE']]);
  });

  it('a status line with a bare CR before the LF', () => {
    expect(parse('HTTP/1.1 200 OK\r\r\nContent-Length: 0\r\n\r\n')).toEqual([['error', 'HW_ERR_H1_STATUS_LINE']]);
  });

  it.each([
    ['space before the colon', 'Content-Length : 0'],
    ['tab before the colon', 'X-A\t: 1'],
    ['no colon', 'NoColonHere'],
    ['empty name', ': value'],
    ['space in the name', 'X Y: v'],
    ['non-token character in the name', '(X): v'],
    ['obs-text in the name', 'X\xe9: v'],
    ['NUL in the value', 'X-A: a\x00b'],
    ['bare CR in the value', 'X-A: a\rb'],
    ['bare CR ending the value', 'X-A: a\r'],
    ['bare CR as a line ending', 'X-A: a\rX-B: b'],
  ])('header: %s', (_label, line) => {
    expect(parse(`HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 0\r\n\r\n`)).toEqual([['error', 'HW_ERR_H1_HEADER']]);
  });

  it('a folded line with no field before it is an error', () => {
    expect(parse('HTTP/1.1 200 OK\r\n X-A: 1\r\nContent-Length: 0\r\n\r\n')).toEqual([['error', 'HW_ERR_H1_HEADER']]);
  });

  it('NUL in a folded line is an error', () => {
    expect(parse('HTTP/1.1 200 OK\r\nX-A: 1\r\n a\x00\r\nContent-Length: 0\r\n\r\n')).toEqual([['error', 'HW_ERR_H1_HEADER']]);
  });

  it.each([
    ['a bad name', 'Bad Name: v'],
    ['NUL in a value', 'X-T: a\x00'],
    ['no colon', 'trailer'],
  ])('trailer with %s', (_label, line) => {
    const input = head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') + `1\r\nx\r\n0\r\n${line}\r\n\r\n`;
    expect(parse(input).slice(1)).toEqual([
      ['data', 'x'],
      ['error', 'HW_ERR_H1_HEADER'],
    ]);
  });

  it.each([
    ['conflicting values in one field', ['Content-Length: 5, 6']],
    ['conflicting fields', ['Content-Length: 5', 'Content-Length: 6']],
    ['conflicting fields, one a list', ['Content-Length: 5, 5', 'Content-Length: 6']],
    ['non-numeric', ['Content-Length: abc']],
    ['negative', ['Content-Length: -1']],
    ['a sign', ['Content-Length: +5']],
    ['a fraction', ['Content-Length: 5.0']],
    ['hex', ['Content-Length: 0x5']],
    ['empty', ['Content-Length:']],
    ['two numbers', ['Content-Length: 5 5']],
    ['an empty list element', ['Content-Length: 5,']],
    ['16 digits', ['Content-Length: 1234567890123456']],
    ['a trailing VT (not OWS)', ['Content-Length: 5\x0b']],
    ['a leading FF (not OWS)', ['Content-Length: \x0c5']],
    ['a trailing NBSP (not OWS)', ['Content-Length: 5\xa0']],
    ['a non-ASCII digit', ['Content-Length: 5\xb2']],
    ['alongside Transfer-Encoding', ['Transfer-Encoding: chunked', 'Content-Length: x']],
  ])('Content-Length: %s', (_label, fields) => {
    expect(parse(head('HTTP/1.1 200 OK', ...fields) + 'hello')).toEqual([['error', 'HW_ERR_H1_CONTENT_LENGTH']]);
  });

  it('an invalid Content-Length is an error on a HEAD response too', () => {
    expect(parse(head('HTTP/1.1 200 OK', 'Content-Length: 5, 6'), { methods: ['HEAD'] })).toEqual([['error', 'HW_ERR_H1_CONTENT_LENGTH']]);
  });

  it.each([
    ['non-hex', 'zz'],
    ['empty', ''],
    ['14 significant hex digits', '10000000000001'],
    ['15 hex digits', 'fffffffffffffff'],
    ['negative', '-1'],
    ['0x prefix', '0x5'],
    ['leading space', ' 5'],
    ['garbage after the size', '5 x'],
    ['garbage right after the size', '5x'],
    ['NUL in an extension', '5;a=\x00'],
    ['bare CR in an extension', '5;a\rb'],
  ])('chunk size: %s', (_label, line) => {
    const input = head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') + `${line}\r\nhello\r\n0\r\n\r\n`;
    expect(parse(input)).toEqual([
      ['head', 200, 'OK', 11, [['Transfer-Encoding', 'chunked']]],
      ['error', 'HW_ERR_H1_CHUNK'],
    ]);
  });

  it.each([
    ['another octet', '5\r\nhelloX\r\n0\r\n\r\n'],
    ['more data than the size', '5\r\nhello world\r\n0\r\n\r\n'],
    ['CR then another octet', '5\r\nhello\rX0\r\n\r\n'],
    ['CR CR', '5\r\nhello\r\r\n0\r\n\r\n'],
  ])('chunk data followed by %s', (_label, body) => {
    expect(parse(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') + body).slice(1)).toEqual([
      ['data', 'hello'],
      ['error', 'HW_ERR_H1_CHUNK'],
    ]);
  });

  it('data with no expect() is unsolicited', () => {
    expect(parse(VALID, { methods: [] })).toEqual([['error', 'HW_ERR_H1_UNSOLICITED']]);
    expect(parse('x', { methods: [] })).toEqual([['error', 'HW_ERR_H1_UNSOLICITED']]);
  });

  it('data after the last expected response is unsolicited', () => {
    expect(parse(`${head('HTTP/1.1 200 OK', 'Content-Length: 1')}a\r\nHTTP/1.1 200 OK\r\n`)).toEqual([
      ['head', 200, 'OK', 11, [['Content-Length', '1']]],
      ['data', 'a'],
      ['end', true],
      ['error', 'HW_ERR_H1_UNSOLICITED'],
    ]);
  });

  it('expect() after the data arrived is too late', () => {
    const { handler, events } = recorder();
    const parser = new ResponseParser(handler);
    expectH1Error(
      thrown(() => parser.execute(Buffer.from(VALID, 'latin1'))),
      'HW_ERR_H1_UNSOLICITED',
    );
    expectDead(parser, events);
    expect(events).toEqual([]);
  });
});

describe('size limits', () => {
  it('a head exactly at maxHeaderSize passes; one octet more is an error, before onHead', () => {
    const input = head('HTTP/1.1 200 OK', 'X-A: 12345', 'Content-Length: 2') + 'ok';
    const size = input.length - 2;
    expect(parse(input, { options: { maxHeaderSize: size } }).slice(1)).toEqual([
      ['data', 'ok'],
      ['end', true],
    ]);
    expect(parse(input, { options: { maxHeaderSize: size - 1 } })).toEqual([['error', 'HW_ERR_H1_HEADER_SIZE']]);
  });

  it('stray CRLFs before a head do not count toward its size', () => {
    const input = `\r\n\r\n${VALID}`;
    expect(parse(input, { options: { maxHeaderSize: VALID.length } }).at(-1)).toEqual(['end', true]);
  });

  it('a line over the limit is an error before its end arrives', () => {
    const { handler, events } = recorder();
    const parser = new ResponseParser(handler, { maxHeaderSize: 100 });
    parser.expect('GET');
    expect(parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nX-Long: ', 'latin1'))).toBe(-1);
    expectH1Error(
      thrown(() => parser.execute(Buffer.from('a'.repeat(100), 'latin1'))),
      'HW_ERR_H1_HEADER_SIZE',
    );
    expect(events).toEqual([]);
    expectDead(parser, events);
  });

  /** A head of exactly `total` octets, in lines of about 1000 octets, ending with Content-Length: 0. */
  function headOfSize(total: number): string {
    let text = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n';
    let left = total - text.length - 2;
    for (let i = 0; left > 0; i++) {
      const len = left > 1500 ? 1000 : left;
      const prefix = `X-Fill-${i}: `;
      text += `${prefix}${'f'.repeat(len - prefix.length - 2)}\r\n`;
      left -= len;
    }
    text += '\r\n';
    expect(text.length).toBe(total);
    return text;
  }

  it('the default limit is 64 KiB, inclusive', () => {
    const atLimit = headOfSize(65_536);
    expect(parse(atLimit).map((e) => e.slice(0, 2))).toEqual([['head', 200], ['end', true]]);
    expect(parse(headOfSize(65_537))).toEqual([['error', 'HW_ERR_H1_HEADER_SIZE']]);
  });

  it('a head of more than 64 KiB is rejected by default before it is all buffered', () => {
    const input = Buffer.from(headOfSize(200_000), 'latin1');
    const { handler, events } = recorder();
    const parser = new ResponseParser(handler);
    parser.expect('GET');
    let fed = 0;
    let error: unknown;
    for (let at = 0; at < input.length && error === undefined; at += 1024) {
      const piece = input.subarray(at, at + 1024);
      fed += piece.length;
      error = thrown(() => parser.execute(piece));
    }
    expectH1Error(error, 'HW_ERR_H1_HEADER_SIZE');
    // The piece that crossed 65,536 octets was the one that failed.
    expect(fed).toBe(65 * 1024);
    expect(fed).toBeLessThan(input.length / 3);
    expect(events).toEqual([]);
    // All in one read, too: no head is reported.
    expect(run([Buffer.from(input)]).events).toEqual([['error', 'HW_ERR_H1_HEADER_SIZE']]);
  });

  it('a long line without a LF is rejected by default after 64 KiB', () => {
    const parser = new ResponseParser(recorder().handler);
    parser.expect('GET');
    expect(parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nX-Long: ', 'latin1'))).toBe(-1);
    let pieces = 0;
    let error: unknown;
    while (error === undefined && pieces < 1000) {
      pieces++;
      error = thrown(() => parser.execute(Buffer.alloc(4096, 0x61)));
    }
    expectH1Error(error, 'HW_ERR_H1_HEADER_SIZE');
    expect(pieces).toBe(16);
  });

  it('a trailer section over the limit is an error; at the limit it passes', () => {
    const start = head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') + '1\r\nx\r\n0\r\n';
    const trailers = (fill: number) => `X-T: ${'t'.repeat(fill)}\r\n\r\n`;
    expect(trailers(55).length).toBe(64);
    expect(start.length).toBeLessThan(64);
    expect(parse(start + trailers(55), { options: { maxHeaderSize: 64 } }).slice(1)).toEqual([
      ['data', 'x'],
      ['trailers', [['X-T', 't'.repeat(55)]]],
      ['end', true],
    ]);
    expect(parse(start + trailers(56), { options: { maxHeaderSize: 64 } }).slice(1)).toEqual([
      ['data', 'x'],
      ['error', 'HW_ERR_H1_HEADER_SIZE'],
    ]);
  });

  it('the trailer limit is the default 64 KiB too', () => {
    const start = head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked') + '0\r\n';
    const many = `X-T: ${'t'.repeat(1000)}\r\n`.repeat(70) + '\r\n';
    expect(parse(start + many).slice(1)).toEqual([['error', 'HW_ERR_H1_HEADER_SIZE']]);
  });

  it('a chunk-size line with a long extension is limited like a head line', () => {
    const start = head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked');
    const sizeLine = (fill: number) => `1;${'e'.repeat(fill)}\r\n`;
    expect(sizeLine(60).length).toBe(64);
    // Each chunk-size line has the limit to itself.
    const ok = start + sizeLine(60) + 'a\r\n' + sizeLine(60) + 'b\r\n0\r\n\r\n';
    expect(parse(ok, { options: { maxHeaderSize: 64 } }).slice(1)).toEqual([
      ['data', 'ab'],
      ['end', true],
    ]);
    expect(parse(start + sizeLine(61) + 'a\r\n0\r\n\r\n', { options: { maxHeaderSize: 64 } }).slice(1)).toEqual([['error', 'HW_ERR_H1_HEADER_SIZE']]);
  });
});

describe('the connection closing', () => {
  const chunkedStart = head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked');

  it.each([
    ['in the status line', 'HTTP/1.1 2', []],
    ['after the status line', 'HTTP/1.1 200 OK\r\n', []],
    ['in a field', 'HTTP/1.1 200 OK\r\nContent-Le', []],
    ['before the empty line', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n', []],
    ['between CR and LF of the empty line', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r', []],
  ])('%s is an incomplete response', (_label, input, before) => {
    expect(parse(input)).toEqual([...before, ['error', 'HW_ERR_H1_INCOMPLETE']]);
  });

  it('in a Content-Length body, or before it, is an incomplete response', () => {
    const start = head('HTTP/1.1 200 OK', 'Content-Length: 10');
    expect(parse(start).slice(1)).toEqual([['error', 'HW_ERR_H1_INCOMPLETE']]);
    expect(parse(`${start}hello`).slice(1)).toEqual([
      ['data', 'hello'],
      ['error', 'HW_ERR_H1_INCOMPLETE'],
    ]);
  });

  it.each([
    ['before the first chunk', ''],
    ['in a chunk size', '1'],
    ['in a chunk extension', '5;ext'],
    ['in chunk data', '5\r\nhel'],
    ['before the CRLF after chunk data', '5\r\nhello'],
    ['between CR and LF after chunk data', '5\r\nhello\r'],
    ['after the last chunk', '5\r\nhello\r\n0\r\n'],
    ['in a trailer', '5\r\nhello\r\n0\r\nX-T: 1'],
    ['before the end of the trailers', '5\r\nhello\r\n0\r\nX-T: 1\r\n'],
  ])('%s of a chunked body is an incomplete response', (_label, body) => {
    const events = parse(chunkedStart + body);
    expect(events[0]![0]).toBe('head');
    expect(events.at(-1)).toEqual(['error', 'HW_ERR_H1_INCOMPLETE']);
    expect(events.some((e) => e[0] === 'end' || e[0] === 'trailers')).toBe(false);
  });

  it('with nothing received, or between responses, is not an error', () => {
    expect(parse('')).toEqual([]);
    expect(parse(VALID, { methods: ['GET', 'GET'] })).toEqual([
      ['head', 200, 'OK', 11, [['Content-Length', '0']]],
      ['end', true],
    ]);
    expect(parse(`${VALID}\r\n`)).toEqual([
      ['head', 200, 'OK', 11, [['Content-Length', '0']]],
      ['end', true],
    ]);
  });

  it('finish() twice after a close-delimited body ends it once', () => {
    const { events, parser } = run([Buffer.from(head('HTTP/1.1 200 OK') + 'body', 'latin1')]);
    expect(events.filter((e) => e[0] === 'end')).toEqual([['end', false]]);
    parser.finish();
    expect(events.filter((e) => e[0] === 'end')).toEqual([['end', false]]);
  });
});

describe('after an error', () => {
  it('the parser rejects all further input', () => {
    const { handler, events } = recorder();
    const parser = new ResponseParser(handler);
    parser.expect('GET');
    parser.expect('GET');
    expectH1Error(
      thrown(() => parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nBad Name: v\r\n', 'latin1'))),
      'HW_ERR_H1_HEADER',
    );
    for (const more of [VALID, '\r\n', 'x']) {
      expectH1Error(
        thrown(() => parser.execute(Buffer.from(more, 'latin1'))),
        'HW_ERR_H1_DEAD',
      );
    }
    expect(events).toEqual([]);
    expect(parser.idle).toBe(false);
  });

  it('an error in the middle of a chunk drops the rest of it', () => {
    const { handler, events } = recorder();
    const parser = new ResponseParser(handler);
    parser.expect('GET');
    parser.expect('GET');
    const input = head('HTTP/1.1 200 OK', 'Content-Length: 5, 6') + head('HTTP/1.1 200 OK', 'Content-Length: 0');
    expectH1Error(
      thrown(() => parser.execute(Buffer.from(input, 'latin1'))),
      'HW_ERR_H1_CONTENT_LENGTH',
    );
    expect(events).toEqual([]);
    expectDead(parser, events);
  });

  it('the parser is dead after finish() found an incomplete response', () => {
    const { handler, events } = recorder();
    const parser = new ResponseParser(handler);
    parser.expect('GET');
    expect(parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na', 'latin1'))).toBe(-1);
    expectH1Error(
      thrown(() => parser.finish()),
      'HW_ERR_H1_INCOMPLETE',
    );
    expect(events.map((e) => e[0])).toEqual(['head', 'data']);
    expectDead(parser, events);
  });

  it('a handler that throws kills the parser too', () => {
    const parser = new ResponseParser({
      ...recorder().handler,
      onHead() {
        throw new Error('handler failed');
      },
    });
    parser.expect('GET');
    expect(() => parser.execute(Buffer.from(VALID, 'latin1'))).toThrow('handler failed');
    expectH1Error(
      thrown(() => parser.execute(Buffer.from('\r\n', 'latin1'))),
      'HW_ERR_H1_DEAD',
    );
  });
});
