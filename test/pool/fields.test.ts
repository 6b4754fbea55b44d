import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONTENT_TYPE,
  RequestField,
  checkBoundary,
  chooseBoundary,
  encodeMultipartFormdata,
  formatHeaderParamHtml5,
  guessContentType,
  iterFieldObjects,
  type Fields,
} from '../../lib/pool/fields.js';

const BOUNDARY = '---boundary---';

/** Parses a multipart body with undici's parser (Node's fetch), as a server built on it would. */
async function parseForm(body: Uint8Array, contentType: string): Promise<FormData> {
  return new Response(body, { headers: { 'content-type': contentType } }).formData();
}

/** The entries of a FormData as [name, text or {name, type, bytes}]. */
async function entriesOf(form: FormData): Promise<Array<[string, string | { name: string; type: string; bytes: Buffer }]>> {
  const out: Array<[string, string | { name: string; type: string; bytes: Buffer }]> = [];
  for (const [name, value] of form.entries() as IterableIterator<[string, string | File]>) {
    out.push([name, typeof value === 'string' ? value : { name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) }]);
  }
  return out;
}

describe('guessContentType', () => {
  it.each([
    ['image.jpg', 'image/jpeg'],
    ['IMAGE.JPEG', 'image/jpeg'],
    ['somefile.txt', 'text/plain'],
    ['data.json', 'application/json'],
    ['page.html', 'text/html'],
    ['archive.tar.gz', 'application/gzip'],
    ['dir/pic.png', 'image/png'],
    ['C:\\dir\\doc.pdf', 'application/pdf'],
    ['notsure', DEFAULT_CONTENT_TYPE],
    ['unknown.zzz', DEFAULT_CONTENT_TYPE],
    ['.bashrc', DEFAULT_CONTENT_TYPE],
    ['..png', DEFAULT_CONTENT_TYPE],
    ['file.', DEFAULT_CONTENT_TYPE],
    ['dir.d/file', DEFAULT_CONTENT_TYPE],
    ['a.constructor', DEFAULT_CONTENT_TYPE],
    ['a.__proto__', DEFAULT_CONTENT_TYPE],
    ['', DEFAULT_CONTENT_TYPE],
  ])('%j → %j', (filename, expected) => {
    expect(guessContentType(filename)).toBe(expected);
  });

  it('gives the default for no filename, and a chosen fallback', () => {
    expect(guessContentType(null)).toBe('application/octet-stream');
    expect(guessContentType(undefined)).toBe('application/octet-stream');
    expect(guessContentType('x.unknown', 'text/x-custom')).toBe('text/x-custom');
    expect(guessContentType('x.txt', 'text/x-custom')).toBe('text/plain');
  });
});

describe('formatHeaderParamHtml5', () => {
  it.each([
    ['somename', 'filename="somename"'],
    ['some"name', 'filename="some%22name"'],
    ['some\\name', 'filename="some\\\\name"'],
    ['line\r\nbreak', 'filename="line%0D%0Abreak"'],
    ['nul\u0000tab\tus\u001f', 'filename="nul%00tab%09us%1F"'],
    ['esc\u001bdel\u007f', 'filename="esc\u001bdel\u007f"'],
    ['n\u00e4me \u2603.txt', 'filename="n\u00e4me \u2603.txt"'],
    ['', 'filename=""'],
  ])('%j', (value, expected) => {
    expect(formatHeaderParamHtml5('filename', value)).toBe(expected);
  });

  it('reads octets as UTF-8', () => {
    expect(formatHeaderParamHtml5('name', Buffer.from('\u00fcber"', 'utf8'))).toBe('name="\u00fcber%22"');
  });
});

describe('RequestField', () => {
  it('renders no headers until made multipart (urllib3 test_create)', () => {
    expect(new RequestField('somename', 'data').renderHeaders()).toBe('\r\n');
    expect(new RequestField('somename', 'data', 'somefile.txt').renderHeaders()).toBe('\r\n');
    expect(new RequestField('somename', 'data', null, { 'Content-Length': '4' }).renderHeaders()).toBe('Content-Length: 4\r\n\r\n');
  });

  it('makeMultipart sets the three headers in order (urllib3 test_make_multipart)', () => {
    const field = new RequestField('somename', 'data');
    field.makeMultipart({ contentType: 'image/jpg', contentLocation: '/test' });
    expect(field.renderHeaders()).toBe('Content-Disposition: form-data; name="somename"\r\nContent-Type: image/jpg\r\nContent-Location: /test\r\n\r\n');
  });

  it('makeMultipart keeps an empty filename (urllib3 test_make_multipart_empty_filename)', () => {
    const field = new RequestField('somename', 'data', '');
    field.makeMultipart({ contentType: 'application/octet-stream' });
    expect(field.renderHeaders()).toBe('Content-Disposition: form-data; name="somename"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\n');
  });

  it('makeMultipart takes another disposition type', () => {
    const field = new RequestField('f', 'data', 'a.txt');
    field.makeMultipart({ contentDisposition: 'attachment' });
    expect(field.headers['Content-Disposition']).toBe('attachment; name="f"; filename="a.txt"');
    expect(field.headers['Content-Type']).toBeNull();
  });

  it('makeMultipart escapes name and filename', () => {
    const field = new RequestField('na"me', 'data', 'evil\r\nContent-Type: text/html\r\n\r\n.txt');
    field.makeMultipart();
    expect(field.renderHeaders()).toBe('Content-Disposition: form-data; name="na%22me"; filename="evil%0D%0AContent-Type: text/html%0D%0A%0D%0A.txt"\r\n\r\n');
  });

  it('makeMultipart replaces its headers given in another case, so none is sent twice', () => {
    const field = new RequestField('f', 'd', null, { 'content-type': 'text/old', 'X-Extra': 'yes' });
    field.makeMultipart({ contentType: 'text/new' });
    expect(field.renderHeaders()).toBe('Content-Disposition: form-data; name="f"\r\nContent-Type: text/new\r\nX-Extra: yes\r\n\r\n');
  });

  it('renders the managed headers first, then the rest in order, skipping empty ones', () => {
    const field = new RequestField('f', 'd', null, { 'X-B': 'b', 'Content-Location': '/l', 'X-Empty': '', 'X-Null': null, 'X-A': 'a' });
    field.headers['Content-Type'] = 'text/plain';
    expect(field.renderHeaders()).toBe('Content-Type: text/plain\r\nContent-Location: /l\r\nX-B: b\r\nX-A: a\r\n\r\n');
  });

  it('refuses part headers that would break the framing', () => {
    expect(() => new RequestField('f', 'd', null, { 'X-A': 'a\r\nX-B: b' }).renderHeaders()).toThrow(TypeError);
    expect(() => new RequestField('f', 'd', null, { 'X-A': 'a\nb' }).renderHeaders()).toThrow(TypeError);
    expect(() => new RequestField('f', 'd', null, { 'X-A': 'a\u0000' }).renderHeaders()).toThrow(TypeError);
    expect(() => new RequestField('f', 'd', null, { 'Bad Name': 'a' }).renderHeaders()).toThrow(TypeError);
    expect(() => new RequestField('f', 'd', null, { 'X-A': 4 as unknown as string }).renderHeaders()).toThrow(TypeError);
    const field = new RequestField('f', 'd');
    field.makeMultipart({ contentType: 'text/plain\r\nX-Injected: 1' });
    expect(() => field.renderHeaders()).toThrow(TypeError);
  });

  it('copies the headers it is given', () => {
    const headers = { 'X-A': 'a' };
    const field = new RequestField('f', 'd', null, headers);
    field.makeMultipart();
    expect(headers).toEqual({ 'X-A': 'a' });
  });

  it('refuses names, data and filenames of the wrong type', () => {
    expect(() => new RequestField(1 as unknown as string, 'd')).toThrow(TypeError);
    expect(() => new RequestField('f', 1 as unknown as string)).toThrow(TypeError);
    expect(() => new RequestField('f', { a: 1 } as unknown as string)).toThrow(TypeError);
    expect(() => new RequestField('f', 'd', 5 as unknown as string)).toThrow(TypeError);
  });

  describe('fromTuples', () => {
    it('a plain value: disposition only', () => {
      const field = RequestField.fromTuples('foo', 'bar');
      expect(field.name).toBe('foo');
      expect(field.data).toBe('bar');
      expect(field.filename).toBeNull();
      expect(field.renderHeaders()).toBe('Content-Disposition: form-data; name="foo"\r\n\r\n');
    });

    it('[filename, data]: the type guessed from the filename', () => {
      const field = RequestField.fromTuples('fakefile', ['foofile.txt', 'contents of foofile']);
      expect(field.filename).toBe('foofile.txt');
      expect(field.renderHeaders()).toBe('Content-Disposition: form-data; name="fakefile"; filename="foofile.txt"\r\nContent-Type: text/plain\r\n\r\n');
    });

    it('[filename, data, type]: the type as given', () => {
      const bytes = new Uint8Array([1, 2, 3]);
      const field = RequestField.fromTuples('typedfile', ['bazfile.bin', bytes, 'image/jpeg']);
      expect(field.data).toBe(bytes);
      expect(field.headers['Content-Type']).toBe('image/jpeg');
    });

    it('a number is sent as its decimal text', () => {
      expect(RequestField.fromTuples('n', 42).data).toBe('42');
      expect(RequestField.fromTuples('n', -1.5).data).toBe('-1.5');
    });

    it('refuses other shapes', () => {
      expect(() => RequestField.fromTuples('f', [] as unknown as string)).toThrow(TypeError);
      expect(() => RequestField.fromTuples('f', ['only'] as unknown as string)).toThrow(TypeError);
      expect(() => RequestField.fromTuples('f', ['a', 'b', 'c', 'd'] as unknown as string)).toThrow(TypeError);
      expect(() => RequestField.fromTuples('f', [1, 'data'] as unknown as string)).toThrow(TypeError);
      expect(() => RequestField.fromTuples('f', ['a.txt', 'data', 5] as unknown as string)).toThrow(TypeError);
      expect(() => RequestField.fromTuples('f', ['a.txt', { x: 1 }] as unknown as string)).toThrow(TypeError);
      expect(() => RequestField.fromTuples('f', null as unknown as string)).toThrow(TypeError);
      expect(() => RequestField.fromTuples('f', true as unknown as string)).toThrow(TypeError);
    });
  });
});

describe('iterFieldObjects', () => {
  it('reads a record in key order', () => {
    const names = [...iterFieldObjects({ b: '1', a: '2' })].map((f) => [f.name, f.data]);
    expect(names).toEqual([
      ['b', '1'],
      ['a', '2'],
    ]);
  });

  it('reads pairs with repeated names, and RequestFields mixed in, in order', () => {
    const own = new RequestField('own', 'x');
    const fields = [...iterFieldObjects([['k', 'v1'], own, ['k', 'v2']])];
    expect(fields.map((f) => [f.name, f.data])).toEqual([
      ['k', 'v1'],
      ['own', 'x'],
      ['k', 'v2'],
    ]);
    expect(fields[1]).toBe(own);
  });

  it('refuses entries of another shape', () => {
    expect(() => [...iterFieldObjects([['k']] as unknown as Fields)]).toThrow(TypeError);
    expect(() => [...iterFieldObjects([[1, 'v']] as unknown as Fields)]).toThrow(TypeError);
    expect(() => [...iterFieldObjects(['kv'] as unknown as Fields)]).toThrow(TypeError);
    expect(() => [...iterFieldObjects('k=v' as unknown as Fields)]).toThrow(TypeError);
    expect(() => [...iterFieldObjects(null as unknown as Fields)]).toThrow(TypeError);
  });
});

describe('chooseBoundary', () => {
  it('is 32 hex digits, fresh each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const b = chooseBoundary();
      expect(b).toMatch(/^[0-9a-f]{32}$/);
      seen.add(b);
    }
    expect(seen.size).toBe(100);
  });
});

describe('encodeMultipartFormdata', () => {
  it('encodes pairs exactly (urllib3 test_field_encoding)', () => {
    const { body, contentType } = encodeMultipartFormdata(
      [
        ['k', 'v'],
        ['k2', 'v2'],
      ],
      BOUNDARY,
    );
    expect(body.toString('latin1')).toBe(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="k"\r\n\r\nv\r\n` + `--${BOUNDARY}\r\nContent-Disposition: form-data; name="k2"\r\n\r\nv2\r\n` + `--${BOUNDARY}--\r\n`,
    );
    expect(contentType).toBe(`multipart/form-data; boundary=${BOUNDARY}`);
  });

  it('encodes a record, octets and text the same way', () => {
    const a = encodeMultipartFormdata({ k: 'v', k2: Buffer.from('v2') }, BOUNDARY);
    const b = encodeMultipartFormdata(
      [
        ['k', new TextEncoder().encode('v')],
        ['k2', 'v2'],
      ],
      BOUNDARY,
    );
    expect(a.body.equals(b.body)).toBe(true);
  });

  it('encodes files with their type (urllib3 test_filename, test_textplain, test_explicit)', () => {
    const { body } = encodeMultipartFormdata(
      [
        ['k', ['somename', Buffer.from('v')]],
        ['t', ['somefile.txt', Buffer.from('v')]],
        ['e', ['somefile.txt', Buffer.from('v'), 'image/jpeg']],
      ],
      BOUNDARY,
    );
    expect(body.toString('latin1')).toBe(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="k"; filename="somename"\r\nContent-Type: application/octet-stream\r\n\r\nv\r\n` +
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="t"; filename="somefile.txt"\r\nContent-Type: text/plain\r\n\r\nv\r\n` +
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="e"; filename="somefile.txt"\r\nContent-Type: image/jpeg\r\n\r\nv\r\n` +
        `--${BOUNDARY}--\r\n`,
    );
  });

  it('sends text and the header section as UTF-8', () => {
    const { body } = encodeMultipartFormdata([['n\u00e4me', ['\u2603.txt', '\u00fcber']]], BOUNDARY);
    const expected = Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="n\u00e4me"; filename="\u2603.txt"\r\nContent-Type: text/plain\r\n\r\n\u00fcber\r\n--${BOUNDARY}--\r\n`,
      'utf8',
    );
    expect(body.equals(expected)).toBe(true);
  });

  it('uses a given RequestField as it is', () => {
    const field = new RequestField('f', 'd', null, { 'X-Custom': '1' });
    field.makeMultipart({ contentLocation: '/here' });
    const { body } = encodeMultipartFormdata([field], BOUNDARY);
    expect(body.toString('latin1')).toBe(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"\r\nContent-Location: /here\r\nX-Custom: 1\r\n\r\nd\r\n--${BOUNDARY}--\r\n`);
  });

  it('with no fields is the close delimiter alone', () => {
    expect(encodeMultipartFormdata([], BOUNDARY).body.toString('latin1')).toBe(`--${BOUNDARY}--\r\n`);
  });

  it('chooses a random boundary when none is given', () => {
    const a = encodeMultipartFormdata({ k: 'v' });
    const b = encodeMultipartFormdata({ k: 'v' });
    const boundary = /boundary=([0-9a-f]{32})$/.exec(a.contentType)?.[1];
    expect(boundary).toBeDefined();
    expect(a.body.toString('latin1').startsWith(`--${boundary}\r\n`)).toBe(true);
    expect(a.contentType).not.toBe(b.contentType);
  });

  it('does not copy octets it is given more than once (the body is one new buffer)', () => {
    const data = Buffer.alloc(1024, 7);
    const { body } = encodeMultipartFormdata([['f', data]], BOUNDARY);
    data.fill(0);
    expect(body.includes(Buffer.alloc(1024, 7))).toBe(true);
  });

  it('refuses an invalid boundary (RFC 2046 §5.1.1)', () => {
    for (const bad of ['', 'x'.repeat(71), 'ends in space ', 'at@sign', 'semi;colon', 'quote"', 'new\r\nline', 'caf\u00e9']) {
      expect(() => encodeMultipartFormdata({ k: 'v' }, bad)).toThrow(TypeError);
      expect(() => checkBoundary(bad)).toThrow(TypeError);
    }
    expect(() => checkBoundary(5)).toThrow(TypeError);
    expect(() => checkBoundary('x'.repeat(70))).not.toThrow();
  });

  it('quotes a boundary that is not a token, and a parser reads it', async () => {
    const boundary = "it's (a) boundary:=?/,";
    const { body, contentType } = encodeMultipartFormdata({ k: 'v' }, boundary);
    expect(contentType).toBe(`multipart/form-data; boundary="${boundary}"`);
    expect(await entriesOf(await parseForm(body, contentType))).toEqual([['k', 'v']]);
  });

  it('refuses a given boundary that occurs in the data', () => {
    expect(() => encodeMultipartFormdata({ k: `text\r\n--${BOUNDARY}\r\nmore` }, BOUNDARY)).toThrow(TypeError);
    expect(() => encodeMultipartFormdata({ k: ['f.bin', Buffer.from(`--${BOUNDARY}`)] }, BOUNDARY)).toThrow(TypeError);
    expect(() => encodeMultipartFormdata({ k: `-${BOUNDARY}` }, BOUNDARY)).not.toThrow();
  });

  it('refuses fields of the wrong shape', () => {
    expect(() => encodeMultipartFormdata(42 as unknown as Fields, BOUNDARY)).toThrow(TypeError);
    expect(() => encodeMultipartFormdata({ k: { v: 1 } } as unknown as Fields, BOUNDARY)).toThrow(TypeError);
  });

  it('round-trips through a real multipart parser', async () => {
    const allOctets = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) allOctets[i] = i;
    const { body, contentType } = encodeMultipartFormdata([
      ['text', 'plain value'],
      ['text', 'repeated name'],
      ['unicode \u00e9\u2603', '\u00fcber \ud83d\ude00'],
      ['crlf', 'line one\r\nline two\r\n'],
      ['number', 7],
      ['file', ['report.csv', 'a,b\r\n1,2\r\n']],
      ['binary', ['octets.bin', allOctets]],
      ['typed', ['pic', Buffer.from([0x89, 0x50, 0x4e, 0x47]), 'image/png']],
      ['we"ird\r\nname', ['fi"le\r\n.txt', 'x']],
    ]);
    const entries = await entriesOf(await parseForm(body, contentType));
    expect(entries).toEqual([
      ['text', 'plain value'],
      ['text', 'repeated name'],
      ['unicode \u00e9\u2603', '\u00fcber \ud83d\ude00'],
      ['crlf', 'line one\r\nline two\r\n'],
      ['number', '7'],
      ['file', { name: 'report.csv', type: 'text/csv', bytes: Buffer.from('a,b\r\n1,2\r\n') }],
      ['binary', { name: 'octets.bin', type: 'application/octet-stream', bytes: allOctets }],
      ['typed', { name: 'pic', type: 'image/png', bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47]) }],
      // undici decodes %22, %0D and %0A back (the HTML standard's encoding)
      ['we"ird\r\nname', { name: 'fi"le\r\n.txt', type: 'text/plain', bytes: Buffer.from('x') }],
    ]);
  });

  it('a backslash is escaped as a quoted-string escape, which WHATWG parsers read literally', async () => {
    const { body, contentType } = encodeMultipartFormdata({ 'a\\b': 'v' }, BOUNDARY);
    expect(body.toString('latin1')).toContain('name="a\\\\b"');
    expect(await entriesOf(await parseForm(body, contentType))).toEqual([['a\\\\b', 'v']]);
  });
});
