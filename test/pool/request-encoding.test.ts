import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { normaliseBody } from '../../lib/common/body.js';
import { HTTPHeaderMap } from '../../lib/common/headers.js';
import { RequestField, type Fields } from '../../lib/pool/fields.js';
import {
  ENCODE_URL_METHODS,
  FORM_URLENCODED,
  encodeRequest,
  requestEncodeBody,
  requestEncodeUrl,
  urlencode,
  type EncodedRequest,
  type EncodeRequestOptions,
  type RequestBodyInit,
} from '../../lib/pool/request-encoding.js';

const BOUNDARY = 'b0undary';

/** encodeRequest, which must answer without a promise. */
function encodeNow(method: string, url: string, options?: EncodeRequestOptions): EncodedRequest {
  const result = encodeRequest(method, url, options);
  expect(result).not.toBeInstanceOf(Promise);
  return result as EncodedRequest;
}

/** encodeRequest, which must answer with a promise. */
async function encodeLater(method: string, url: string, options?: EncodeRequestOptions): Promise<EncodedRequest> {
  const result = encodeRequest(method, url, options);
  expect(result).toBeInstanceOf(Promise);
  return result;
}

/** The body's octets, read the way the connection layers read it. */
async function octetsOf(body: EncodedRequest['body']): Promise<Buffer> {
  const normalised = normaliseBody(body);
  if (normalised === null) return Buffer.alloc(0);
  if (normalised.bytes !== undefined) return Buffer.from(normalised.bytes);
  const chunks: Uint8Array[] = [];
  for await (const chunk of normalised.stream!) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function contentTypeOf(headers: ReadonlyArray<[string, string]>): string | undefined {
  return headers.find(([name]) => name === 'content-type')?.[1];
}

describe('urlencode', () => {
  it.each([
    [{ a: 'b' }, 'a=b'],
    [{ a: 'b c' }, 'a=b+c'],
    [{ 'a b': 'c&d=e' }, 'a+b=c%26d%3De'],
    [{ q: '-._~' }, 'q=-._~'],
    [{ q: "!*'();:@$,/?#[]+%" }, 'q=%21%2A%27%28%29%3B%3A%40%24%2C%2F%3F%23%5B%5D%2B%25'],
    [{ q: '\u00e9\u2603' }, 'q=%C3%A9%E2%98%83'],
    [{ q: '' }, 'q='],
    [{ n: 3, f: 1.5 }, 'n=3&f=1.5'],
    [{ b: new Uint8Array([0x00, 0x20, 0x41, 0xff]) }, 'b=%00+A%FF'],
    [
      [
        ['k', 'v1'],
        ['k', 'v2'],
        ['a', 'b'],
      ],
      'k=v1&k=v2&a=b',
    ],
    [[], ''],
    [{}, ''],
  ] as Array<[Fields, string]>)('%j → %j', (fields, expected) => {
    expect(urlencode(fields)).toBe(expected);
  });

  it('refuses files and RequestFields, which need multipart', () => {
    expect(() => urlencode({ f: ['a.txt', 'data'] })).toThrow(TypeError);
    expect(() => urlencode([new RequestField('f', 'd')])).toThrow(TypeError);
  });

  it('refuses fields of the wrong shape', () => {
    expect(() => urlencode('a=b' as unknown as Fields)).toThrow(TypeError);
    expect(() => urlencode([['a']] as unknown as Fields)).toThrow(TypeError);
    expect(() => urlencode([[1, 'b']] as unknown as Fields)).toThrow(TypeError);
    expect(() => urlencode({ a: { b: 1 } } as unknown as Fields)).toThrow(TypeError);
    expect(() => urlencode({ a: null } as unknown as Fields)).toThrow(TypeError);
  });
});

describe('requestEncodeUrl', () => {
  it.each([
    ['http://h/p', { a: '1' }, 'http://h/p?a=1'],
    ['http://h/p?x=y', { a: '1' }, 'http://h/p?x=y&a=1'],
    ['http://h/p?', { a: '1' }, 'http://h/p?a=1'],
    ['http://h/p?x=y&', { a: '1' }, 'http://h/p?x=y&a=1'],
    ['http://h/p#frag', { a: '1' }, 'http://h/p?a=1#frag'],
    ['http://h/p?x#frag?y', { a: '1' }, 'http://h/p?x&a=1#frag?y'],
    ['/relative', { a: 'b c', d: 'e' }, '/relative?a=b+c&d=e'],
    ['http://h/p', {}, 'http://h/p'],
    ['http://h/p', [], 'http://h/p'],
  ] as Array<[string, Fields, string]>)('%j + %j → %j', (url, fields, expected) => {
    expect(requestEncodeUrl('GET', url, fields)).toBe(expected);
  });

  it('leaves the URL as it is without fields', () => {
    expect(requestEncodeUrl('GET', 'http://h/p?q')).toBe('http://h/p?q');
    expect(requestEncodeUrl('GET', 'http://h/p?q', null)).toBe('http://h/p?q');
  });

  it('refuses an invalid method or URL', () => {
    expect(() => requestEncodeUrl('G T', 'http://h/', { a: '1' })).toThrow(TypeError);
    expect(() => requestEncodeUrl('GET', 5 as unknown as string, { a: '1' })).toThrow(TypeError);
  });
});

describe('requestEncodeBody', () => {
  it('encodes multipart by default', () => {
    const encoded = requestEncodeBody('POST', 'http://h/', { k: 'v' }, { multipartBoundary: BOUNDARY });
    expect(encoded).not.toBeNull();
    expect(encoded!.contentType).toBe(`multipart/form-data; boundary=${BOUNDARY}`);
    expect(Buffer.from(encoded!.body).toString('latin1')).toBe(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="k"\r\n\r\nv\r\n--${BOUNDARY}--\r\n`);
  });

  it('encodes urlencoded when asked (urllib3: no charset parameter)', () => {
    expect(requestEncodeBody('POST', 'http://h/', [['k', 'v 1'], ['k', '2']], { encodeMultipart: false })).toEqual({ body: 'k=v+1&k=2', contentType: FORM_URLENCODED });
    expect(FORM_URLENCODED).toBe('application/x-www-form-urlencoded');
  });

  it('gives no body for no fields, as urllib3', () => {
    expect(requestEncodeBody('POST', 'http://h/', {})).toBeNull();
    expect(requestEncodeBody('POST', 'http://h/', null)).toBeNull();
    expect(requestEncodeBody('POST', 'http://h/', undefined)).toBeNull();
  });

  it('refuses files when not multipart, and invalid methods and boundaries', () => {
    expect(() => requestEncodeBody('POST', 'http://h/', { f: ['a.txt', 'x'] }, { encodeMultipart: false })).toThrow(TypeError);
    expect(() => requestEncodeBody('PO ST', 'http://h/', { k: 'v' })).toThrow(TypeError);
    expect(() => requestEncodeBody('POST', 'http://h/', { k: 'v' }, { multipartBoundary: 'bad boundary;' })).toThrow(TypeError);
  });
});

describe('encodeRequest', () => {
  describe('without a body', () => {
    it('returns the URL, no body and no headers, at once', () => {
      expect(encodeNow('GET', 'http://h/p')).toEqual({ url: 'http://h/p', body: null, headers: [], replayable: true });
    });

    it('takes null for an absent body or fields', () => {
      expect(encodeNow('GET', 'http://h/p', { body: null, fields: null, headers: null })).toEqual({ url: 'http://h/p', body: null, headers: [], replayable: true });
    });
  });

  describe('headers', () => {
    it('lower-cases names from a record, keeping order, arrays and numbers', () => {
      const { headers } = encodeNow('GET', 'http://h/', { headers: { 'X-One': '1', Accept: ['a', 'b'], 'Content-Length': 0, Skipped: undefined } });
      expect(headers).toEqual([
        ['x-one', '1'],
        ['accept', 'a'],
        ['accept', 'b'],
        ['content-length', '0'],
      ]);
    });

    it('lower-cases names from pairs and a header map', () => {
      const pairs: Array<[string, string]> = [
        ['X-A', '1'],
        ['x-a', '2'],
      ];
      expect(encodeNow('GET', 'http://h/', { headers: pairs }).headers).toEqual([
        ['x-a', '1'],
        ['x-a', '2'],
      ]);
      expect(pairs[0]![0]).toBe('X-A');
      const map = new HTTPHeaderMap([['User-Agent', 'me']]);
      expect(encodeNow('GET', 'http://h/', { headers: map }).headers).toEqual([['user-agent', 'me']]);
    });

    it('returns headers a header map takes as they are', () => {
      const { headers } = encodeNow('POST', 'http://h/', { json: 1, headers: { A: 'b' } });
      expect(new HTTPHeaderMap(headers).raw()).toEqual([
        ['a', 'b'],
        ['content-type', 'application/json'],
      ]);
    });

    it('refuses headers of the wrong type', () => {
      expect(() => encodeRequest('GET', 'http://h/', { headers: 'a: b' as unknown as Record<string, string> })).toThrow(TypeError);
      expect(() => encodeRequest('GET', 'http://h/', { headers: [['a']] as unknown as Array<[string, string]> })).toThrow(TypeError);
      expect(() => encodeRequest('GET', 'http://h/', { headers: [['a', 1]] as unknown as Array<[string, string]> })).toThrow(TypeError);
      expect(() => encodeRequest('GET', 'http://h/', { headers: { a: { b: 1 } } as unknown as Record<string, string> })).toThrow(TypeError);
    });
  });

  describe('fields', () => {
    it.each([...ENCODE_URL_METHODS, 'get', 'Head'])('go in the query for %s', (method) => {
      const encoded = encodeNow(method, 'http://h/p?x=1', { fields: { a: 'b c' } });
      expect(encoded).toEqual({ url: 'http://h/p?x=1&a=b+c', body: null, headers: [], replayable: true });
    });

    it('the methods are those urllib3 encodes in the URL', () => {
      expect([...ENCODE_URL_METHODS].sort()).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS']);
    });

    it.each(['POST', 'PUT', 'PATCH', 'post'])('go in a multipart body for %s', (method) => {
      const encoded = encodeNow(method, 'http://h/p', { fields: [['a', '1'], ['f', ['x.txt', 'hi']]], multipartBoundary: BOUNDARY });
      expect(encoded.url).toBe('http://h/p');
      expect(encoded.replayable).toBe(true);
      expect(encoded.headers).toEqual([['content-type', `multipart/form-data; boundary=${BOUNDARY}`]]);
      expect(Buffer.from(encoded.body as Uint8Array).toString('latin1')).toBe(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n` +
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nhi\r\n` +
          `--${BOUNDARY}--\r\n`,
      );
    });

    it('a multipart body from fields parses back', async () => {
      const encoded = encodeNow('POST', 'http://h/', { fields: { name: 'value', upload: ['a.json', '{"x":1}'] } });
      const form = await new Response(encoded.body as Uint8Array, { headers: encoded.headers }).formData();
      expect(form.get('name')).toBe('value');
      const file = form.get('upload') as File;
      expect(file.name).toBe('a.json');
      expect(file.type).toBe('application/json');
      expect(await file.text()).toBe('{"x":1}');
    });

    it('go urlencoded with encodeMultipart: false', () => {
      const encoded = encodeNow('PUT', 'http://h/', { fields: { a: 'b c', d: '\u00e9' }, encodeMultipart: false });
      expect(encoded).toEqual({ url: 'http://h/', body: 'a=b+c&d=%C3%A9', headers: [['content-type', FORM_URLENCODED]], replayable: true });
    });

    it('empty fields add nothing', () => {
      expect(encodeNow('GET', 'http://h/', { fields: {} })).toEqual({ url: 'http://h/', body: null, headers: [], replayable: true });
      expect(encodeNow('POST', 'http://h/', { fields: [] })).toEqual({ url: 'http://h/', body: null, headers: [], replayable: true });
    });

    it("keep the caller's Content-Type (urllib3: headers update the encoded ones)", () => {
      const encoded = encodeNow('POST', 'http://h/', { fields: { a: '1' }, headers: { 'Content-Type': 'multipart/form-data; boundary=mine' }, multipartBoundary: 'mine' });
      expect(encoded.headers).toEqual([['content-type', 'multipart/form-data; boundary=mine']]);
    });

    it('refuses fields of the wrong shape, and files in a query', () => {
      expect(() => encodeRequest('POST', 'http://h/', { fields: 'a=b' as unknown as Fields })).toThrow(TypeError);
      expect(() => encodeRequest('GET', 'http://h/', { fields: { f: ['a.txt', 'x'] } })).toThrow(TypeError);
      expect(() => encodeRequest('POST', 'http://h/', { fields: { f: ['a.txt', 'x'] }, encodeMultipart: false })).toThrow(TypeError);
    });
  });

  describe('json', () => {
    it('is sent as JSON text with application/json', async () => {
      const encoded = encodeNow('POST', 'http://h/', { json: { a: [1, 'two', null], s: '\u00e9\u2603' } });
      expect(encoded.body).toBe('{"a":[1,"two",null],"s":"\u00e9\u2603"}');
      expect(encoded.headers).toEqual([['content-type', 'application/json']]);
      expect(encoded.replayable).toBe(true);
      expect((await octetsOf(encoded.body)).equals(Buffer.from('{"a":[1,"two",null],"s":"\u00e9\u2603"}', 'utf8'))).toBe(true);
    });

    it('sends null, false, 0 and "" as JSON values', () => {
      expect(encodeNow('POST', 'http://h/', { json: null }).body).toBe('null');
      expect(encodeNow('POST', 'http://h/', { json: false }).body).toBe('false');
      expect(encodeNow('POST', 'http://h/', { json: 0 }).body).toBe('0');
      expect(encodeNow('POST', 'http://h/', { json: '' }).body).toBe('""');
    });

    it("keeps the caller's Content-Type", () => {
      const encoded = encodeNow('POST', 'http://h/', { json: {}, headers: [['CONTENT-TYPE', 'application/vnd.api+json']] });
      expect(encoded.headers).toEqual([['content-type', 'application/vnd.api+json']]);
    });

    it('refuses values JSON cannot carry', () => {
      expect(() => encodeRequest('POST', 'http://h/', { json: () => 1 })).toThrow(TypeError);
      expect(() => encodeRequest('POST', 'http://h/', { json: Symbol('s') })).toThrow(TypeError);
      expect(() => encodeRequest('POST', 'http://h/', { json: 1n })).toThrow(TypeError);
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      expect(() => encodeRequest('POST', 'http://h/', { json: cycle })).toThrow(TypeError);
    });
  });

  describe('body', () => {
    it('passes text and octets through without copying', () => {
      const text = 'hello';
      const bytes = new Uint8Array([1, 2, 3]);
      const buffer = Buffer.from('abc');
      expect(encodeNow('POST', 'http://h/', { body: text })).toEqual({ url: 'http://h/', body: text, headers: [], replayable: true });
      expect(encodeNow('POST', 'http://h/', { body: bytes }).body).toBe(bytes);
      expect(encodeNow('POST', 'http://h/', { body: buffer }).body).toBe(buffer);
    });

    it('sends an ArrayBuffer and any view over it as a view on the same memory', () => {
      const ab = new ArrayBuffer(8);
      new Uint8Array(ab).set([1, 2, 3, 4, 5, 6, 7, 8]);
      const whole = encodeNow('POST', 'http://h/', { body: ab }).body as Uint8Array;
      expect(whole).toBeInstanceOf(Uint8Array);
      expect(whole.buffer).toBe(ab);
      expect([...whole]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const words = encodeNow('POST', 'http://h/', { body: new Uint16Array(ab, 2, 2) }).body as Uint8Array;
      expect(words.buffer).toBe(ab);
      expect([...words]).toEqual([3, 4, 5, 6]);
      const view = encodeNow('POST', 'http://h/', { body: new DataView(ab, 6) }).body as Uint8Array;
      expect([...view]).toEqual([7, 8]);
    });

    it('sends URLSearchParams urlencoded, as fetch does', () => {
      const encoded = encodeNow('POST', 'http://h/', { body: new URLSearchParams([['a', 'b c'], ['a', '*']]) });
      expect(encoded).toEqual({ url: 'http://h/', body: 'a=b+c&a=*', headers: [['content-type', 'application/x-www-form-urlencoded;charset=UTF-8']], replayable: true });
    });

    it('reads a Blob, with its type as Content-Type', async () => {
      const encoded = await encodeLater('POST', 'http://h/', { body: new Blob(['ab', new Uint8Array([0, 255])], { type: 'image/x-test' }) });
      expect(Buffer.from(encoded.body as Uint8Array).equals(Buffer.from([0x61, 0x62, 0, 255]))).toBe(true);
      expect(encoded.headers).toEqual([['content-type', 'image/x-test']]);
      expect(encoded.replayable).toBe(true);
    });

    it('sends a Blob without a type without Content-Type, and a File like a Blob', async () => {
      expect((await encodeLater('POST', 'http://h/', { body: new Blob(['x']) })).headers).toEqual([]);
      const file = await encodeLater('POST', 'http://h/', { body: new File(['x'], 'a.txt', { type: 'text/plain' }), headers: { 'content-type': 'text/mine' } });
      expect(file.headers).toEqual([['content-type', 'text/mine']]);
      expect(file.body).toEqual(new Uint8Array([0x78]));
    });

    it('sends FormData as multipart, exactly, with a fixed boundary', async () => {
      const form = new FormData();
      form.append('a', '1');
      form.append('f', new File(['hi'], 'x.txt', { type: 'text/plain' }));
      form.append('b', new Blob([new Uint8Array([1])]));
      const encoded = await encodeLater('POST', 'http://h/', { body: form, multipartBoundary: BOUNDARY });
      expect(encoded.headers).toEqual([['content-type', `multipart/form-data; boundary=${BOUNDARY}`]]);
      expect(encoded.replayable).toBe(true);
      expect(Buffer.from(encoded.body as Uint8Array).toString('latin1')).toBe(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n` +
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nhi\r\n` +
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="b"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n\u0001\r\n` +
          `--${BOUNDARY}--\r\n`,
      );
    });

    it('sends FormData that a parser reads back the same', async () => {
      const form = new FormData();
      form.append('name', 'value \u00e9');
      form.append('name', 'again');
      form.append('upload', new File([new Uint8Array([0, 1, 2, 255])], 'data.bin', { type: 'application/x-thing' }));
      form.append('untyped', new File(['t'], 'notype'));
      const encoded = await encodeLater('POST', 'http://h/', { body: form });
      const back = await new Response(encoded.body as Uint8Array, { headers: encoded.headers }).formData();
      expect(back.getAll('name')).toEqual(['value \u00e9', 'again']);
      const upload = back.get('upload') as File;
      expect([upload.name, upload.type, [...new Uint8Array(await upload.arrayBuffer())]]).toEqual(['data.bin', 'application/x-thing', [0, 1, 2, 255]]);
      const untyped = back.get('untyped') as File;
      expect([untyped.name, untyped.type]).toEqual(['notype', 'application/octet-stream']);
    });

    it('refuses an invalid boundary for FormData before reading anything', () => {
      expect(() => encodeRequest('POST', 'http://h/', { body: new FormData(), multipartBoundary: 'no;good' })).toThrow(TypeError);
    });

    it('passes a Readable through, not replayable', async () => {
      const stream = Readable.from([Buffer.from('a'), Buffer.from('b')]);
      const encoded = encodeNow('POST', 'http://h/', { body: stream });
      expect(encoded.body).toBe(stream);
      expect(encoded.replayable).toBe(false);
      expect(encoded.headers).toEqual([]);
      expect((await octetsOf(encoded.body)).toString()).toBe('ab');
    });

    it('passes an AsyncIterable through, not replayable', async () => {
      async function* chunks(): AsyncGenerator<Uint8Array> {
        yield new Uint8Array([1]);
        yield new Uint8Array([2, 3]);
      }
      const source = chunks();
      const encoded = encodeNow('PUT', 'http://h/', { body: source });
      expect(encoded.body).toBe(source);
      expect(encoded.replayable).toBe(false);
      expect([...(await octetsOf(encoded.body))]).toEqual([1, 2, 3]);
    });

    it('refuses bodies of the wrong type', () => {
      for (const bad of [42, true, { a: 1 }, [1, 2], () => 'x', Symbol('s'), new Map()]) {
        expect(() => encodeRequest('POST', 'http://h/', { body: bad as unknown as RequestBodyInit })).toThrow(TypeError);
      }
    });
  });

  it.each([
    ['fields and body', { fields: { a: '1' }, body: 'x' }],
    ['fields and json', { fields: { a: '1' }, json: {} }],
    ['body and json', { body: 'x', json: null }],
    ['all three', { fields: [], body: new Uint8Array(0), json: 0 }],
  ] as Array<[string, EncodeRequestOptions]>)('refuses %s together', (_, options) => {
    expect(() => encodeRequest('POST', 'http://h/', options)).toThrow(/at most one of fields, body and json/);
  });

  it('refuses a method or URL that is not a string', () => {
    expect(() => encodeRequest(1 as unknown as string, 'http://h/')).toThrow(TypeError);
    expect(() => encodeRequest('GET', new URL('http://h/') as unknown as string)).toThrow(TypeError);
  });

  it('every body it returns is one the connection layers take', async () => {
    const bodies: RequestBodyInit[] = ['t', new Uint8Array(1), new ArrayBuffer(2), new Int32Array(1), new URLSearchParams('a=b'), new Blob(['x']), new FormData(), Readable.from(['s'])];
    for (const body of bodies) {
      const encoded = await encodeRequest('POST', 'http://h/', { body });
      expect(() => normaliseBody(encoded.body)).not.toThrow();
      expect(() => new HTTPHeaderMap(encoded.headers)).not.toThrow();
    }
  });
});
