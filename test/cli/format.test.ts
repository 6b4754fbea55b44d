/**
 * What hyper prints: JSON re-laid token by token, colour decisions, text
 * and binary bodies, heads, push promises.
 */

import { describe, expect, it } from 'vitest';
import { formatJson, isJsonType } from '../../lib/cli/json.js';
import { binaryNote, decodeText, displayValue, formatPushes, formatResponseHead, formatTextBody, formatWireRequest, isBinary } from '../../lib/cli/output.js';
import { colourWanted, createPalette } from '../../lib/cli/palette.js';

const mono = createPalette(false);
const colour = createPalette(true);

describe('formatJson', () => {
  it('indents by four, as httpie', () => {
    expect(formatJson('{"a":1,"b":[true,null,"x"],"c":{}}', mono)).toBe('{\n    "a": 1,\n    "b": [\n        true,\n        null,\n        "x"\n    ],\n    "c": {}\n}');
  });

  it('keeps what parsing would lose: big numbers, number spelling, duplicate keys, escapes, order', () => {
    const text = '{"z":12345678901234567890,"n":2.50,"e":1E+3,"z":-0,"s":"\\u00e9\\n\\"q\\"","a":[]}';
    expect(formatJson(text, mono)).toBe('{\n    "z": 12345678901234567890,\n    "n": 2.50,\n    "e": 1E+3,\n    "z": -0,\n    "s": "\\u00e9\\n\\"q\\"",\n    "a": []\n}');
  });

  it('takes scalars and whitespace as they come', () => {
    expect(formatJson(' 42 ', mono)).toBe('42');
    expect(formatJson('"s"', mono)).toBe('"s"');
    expect(formatJson('[ ]', mono)).toBe('[]');
    expect(formatJson('\n[\n1 ,\t2\n]\n', mono)).toBe('[\n    1,\n    2\n]');
  });

  it('returns null for what is not JSON', () => {
    expect(formatJson('{"a":', mono)).toBeNull();
    expect(formatJson('nope', mono)).toBeNull();
    expect(formatJson('', mono)).toBeNull();
  });

  it('colours keys and values apart, and strips to the same text', () => {
    const out = formatJson('{"k":"v","n":1,"t":true}', colour)!;
    expect(out).toContain('\x1b[');
    expect(out.replace(/\x1b\[[0-9;]*m/g, '')).toBe(formatJson('{"k":"v","n":1,"t":true}', mono));
    // A key and a string value are styled differently.
    expect(out).toContain(colour.jsonKey('"k"'));
    expect(out).toContain(colour.jsonString('"v"'));
  });

  it('knows JSON media types', () => {
    expect(isJsonType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonType('application/problem+json')).toBe(true);
    expect(isJsonType('text/html')).toBe(false);
    expect(isJsonType(undefined)).toBe(false);
  });
});

describe('colours', () => {
  it('are on for a terminal only, NO_COLOR and TERM=dumb say no, FORCE_COLOR says yes', () => {
    expect(colourWanted(true, {})).toBe(true);
    expect(colourWanted(false, {})).toBe(false);
    expect(colourWanted(false, { CI: 'true' })).toBe(false);
    expect(colourWanted(true, { NO_COLOR: '1' })).toBe(false);
    expect(colourWanted(true, { TERM: 'dumb' })).toBe(false);
    expect(colourWanted(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourWanted(true, { NO_COLOR: '' })).toBe(true);
  });

  it('leave text alone when off', () => {
    expect(mono.status(404)('404')).toBe('404');
    expect(colour.status(404)('404')).not.toBe('404');
  });
});

describe('bodies', () => {
  it('tells binary by a NUL octet', () => {
    expect(isBinary(Buffer.from('text\n'))).toBe(false);
    expect(isBinary(Buffer.from([0x41, 0, 0x42]))).toBe(true);
    expect(binaryNote(2048, mono)).toBe('[binary data not shown: 2048 octets skipped; use -o FILE, -d, or a pipe to save it]\n');
  });

  it('decodes text by its charset, else UTF-8 when valid, else latin1', () => {
    expect(decodeText(Buffer.from([0xe9]), 'text/plain; charset=iso-8859-1')).toBe('é');
    expect(decodeText(Buffer.from('é', 'utf8'), 'text/plain')).toBe('é');
    expect(decodeText(Buffer.from([0xe9, 0x41]), undefined)).toBe('éA');
  });

  it('formats JSON by type or by looks, and ends text with a newline', () => {
    const pretty = { colors: false, format: true };
    expect(formatTextBody(Buffer.from('{"a":1}'), 'application/json', pretty, mono)).toBe('{\n    "a": 1\n}\n');
    expect(formatTextBody(Buffer.from('[1]'), 'text/plain', pretty, mono)).toBe('[\n    1\n]\n');
    expect(formatTextBody(Buffer.from('{"a":1}'), 'text/html', pretty, mono)).toBe('{"a":1}\n');
    expect(formatTextBody(Buffer.from('{"a":1}'), 'application/json', { colors: false, format: false }, mono)).toBe('{"a":1}\n');
    expect(formatTextBody(Buffer.from('{broken'), 'application/json', pretty, mono)).toBe('{broken\n');
    expect(formatTextBody(Buffer.from('line\n'), 'text/plain', pretty, mono)).toBe('line\n');
  });
});

describe('heads', () => {
  it('shows header values safely: UTF-8 decoded, control characters visible', () => {
    expect(displayValue(Buffer.from('café', 'utf8').toString('latin1'))).toBe('café');
    expect(displayValue('\xe9')).toBe('é');
    expect(displayValue('a\x1b[31mb\nc')).toBe('a\\x1b[31mb\\x0ac');
  });

  it('shows the status line and fields as received', () => {
    expect(formatResponseHead('HTTP/1.1', 404, 'Not Found', [['Content-Type', 'text/plain'], ['X-A', '1']], mono)).toBe('HTTP/1.1 404 Not Found\nContent-Type: text/plain\nX-A: 1\n');
    expect(formatResponseHead('HTTP/2', 200, '', [['content-type', 'text/plain']], mono)).toBe('HTTP/2 200\ncontent-type: text/plain\n');
  });

  it('shows an HTTP/1.1 request head as it was sent', () => {
    const head = 'POST /echo?a=1 HTTP/1.1\r\nHost: example.org\r\nContent-Length: 2\r\n\r\n';
    expect(formatWireRequest({ conn: 1, streamId: null, method: 'POST', path: '/echo?a=1', fields: null, head }, mono)).toBe('POST /echo?a=1 HTTP/1.1\nHost: example.org\nContent-Length: 2\n');
  });

  it('shows an HTTP/2 request head as a request line and its regular fields', () => {
    const fields: Array<[string, string]> = [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':authority', 'example.org'],
      [':path', '/x'],
      ['accept', '*/*'],
    ];
    expect(formatWireRequest({ conn: 1, streamId: 1, method: 'GET', path: '/x', fields, head: null }, mono)).toBe('GET /x HTTP/2\naccept: */*\n');
  });

  it('lists push promises with their URL, stream and status', () => {
    const fields: Array<[string, string]> = [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':authority', 'example.org'],
      [':path', '/style.css'],
    ];
    expect(formatPushes([{ conn: 1, parentStreamId: 1, promisedStreamId: 2, fields, status: 200 }], mono)).toBe('push promise: GET https://example.org/style.css (stream 2, 200)\n');
    expect(formatPushes([{ conn: 1, parentStreamId: 1, promisedStreamId: 4, fields, status: null }], mono)).toBe('push promise: GET https://example.org/style.css (stream 4)\n');
  });
});
