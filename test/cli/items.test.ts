/**
 * Request items: where an item splits, what each kind asks for, and the
 * body the data items and files make.
 */

import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/cli/args.js';
import { encodeBody, parseItems, splitItem } from '../../lib/cli/items.js';

const files: Record<string, Buffer> = {
  'photo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]),
  'note.txt': Buffer.from('a note\n'),
  'data.json': Buffer.from('{"deep": [1, 2]}'),
};
const read = (path: string): Buffer => {
  const f = files[path.replace(/^.*\//, '')];
  if (f === undefined) throw new UsageError(`cannot read ${JSON.stringify(path)}: ENOENT`);
  return f;
};

describe('splitItem', () => {
  it('splits at the leftmost separator', () => {
    expect(splitItem('X-Token:abc=def')).toMatchObject({ key: 'X-Token', separator: ':', value: 'abc=def' });
    expect(splitItem('email=ann@example.org')).toMatchObject({ key: 'email', separator: '=', value: 'ann@example.org' });
    expect(splitItem('q==a:b')).toMatchObject({ key: 'q', separator: '==', value: 'a:b' });
    expect(splitItem('url==http://x/?a=b')).toMatchObject({ key: 'url', separator: '==', value: 'http://x/?a=b' });
  });

  it('takes the longest separator where several start at the same place', () => {
    expect(splitItem('n:=42')).toMatchObject({ key: 'n', separator: ':=', value: '42' });
    expect(splitItem('n:=@data.json')).toMatchObject({ key: 'n', separator: ':=@', value: 'data.json' });
    expect(splitItem('t=@note.txt')).toMatchObject({ key: 't', separator: '=@', value: 'note.txt' });
    expect(splitItem('a==b')).toMatchObject({ separator: '==' });
    expect(splitItem('X-Empty;')).toMatchObject({ key: 'X-Empty', separator: ';', value: '' });
  });

  it('lets a backslash escape a separator, in the key and the value', () => {
    expect(splitItem('a\\:b=c')).toMatchObject({ key: 'a:b', separator: '=', value: 'c' });
    expect(splitItem('a\\=\\=b==c')).toMatchObject({ key: 'a==b', separator: '==', value: 'c' });
    expect(splitItem('name=a\\=b')).toMatchObject({ key: 'name', value: 'a=b' });
    expect(splitItem('path\\@x@note.txt')).toMatchObject({ key: 'path@x', separator: '@', value: 'note.txt' });
  });

  it('refuses what has no separator', () => {
    expect(() => splitItem('justaword')).toThrow(UsageError);
    expect(() => splitItem('a\\=b')).toThrow(/not a request item/);
  });
});

describe('parseItems', () => {
  it('sorts items into headers, query, data and files, in order', () => {
    const parts = parseItems(['X-A:1', 'q==x', 'name=hyper', 'n:=3', 'list:=[1,"two"]', 'Accept:', 'X-Empty;', 'q==y'], read);
    expect(parts.headers).toEqual([
      ['X-A', '1'],
      ['Accept', null],
      ['X-Empty', ''],
    ]);
    expect(parts.query).toEqual([
      ['q', 'x'],
      ['q', 'y'],
    ]);
    expect(parts.data).toEqual([
      ['name', 'hyper'],
      ['n', 3],
      ['list', [1, 'two']],
    ]);
    expect(parts.files).toEqual([]);
    expect(parts.hasBody).toBe(true);
  });

  it('reads files, with a content type when given, and data from files', () => {
    const parts = parseItems(['photo@/tmp/photo.png;type=image/png', 'note@note.txt', 'text=@note.txt', 'deep:=@data.json'], read);
    expect(parts.files).toEqual([
      { field: 'photo', filename: 'photo.png', content: files['photo.png'], contentType: 'image/png' },
      { field: 'note', filename: 'note.txt', content: files['note.txt'], contentType: undefined },
    ]);
    expect(parts.data).toEqual([
      ['text', 'a note\n'],
      ['deep', { deep: [1, 2] }],
    ]);
  });

  it('has no body without data or files', () => {
    expect(parseItems(['X-A:1', 'q==1'], read).hasBody).toBe(false);
  });

  it('names the item at fault', () => {
    expect(() => parseItems(['n:=nope'], read)).toThrow(/"n:=nope": not valid JSON/);
    expect(() => parseItems([':value'], read)).toThrow(/needs a name/);
    expect(() => parseItems(['X;y'], read)).toThrow(/takes no value/);
    expect(() => parseItems(['f@missing.bin'], read)).toThrow(/cannot read "missing.bin"/);
  });
});

describe('encodeBody', () => {
  it('makes a JSON object by default, raw values kept, the last of a repeated key winning', () => {
    const body = encodeBody(parseItems(['a=1', 'b:=true', 'a=2', '__proto__=x'], read), 'json');
    expect(body.kind).toBe('json');
    expect(JSON.stringify(body.kind === 'json' ? body.json : null)).toBe('{"a":"2","b":true,"__proto__":"x"}');
  });

  it('makes a form with --form, repeated names kept', () => {
    const body = encodeBody(parseItems(['a=1', 'b=2', 'a=3'], read), 'form');
    expect(body).toEqual({ kind: 'form', data: Object.assign(Object.create(null), { a: ['1', '3'], b: '2' }) });
  });

  it('makes multipart whenever there is a file', () => {
    const body = encodeBody(parseItems(['title=Cat', 'photo@photo.png;type=image/png'], read), 'json');
    expect(body.kind).toBe('multipart');
    if (body.kind !== 'multipart') return;
    expect({ ...body.data }).toEqual({ title: 'Cat' });
    expect({ ...body.files }).toEqual({ photo: ['photo.png', files['photo.png'], 'image/png'] });
  });

  it('refuses raw JSON in a form, and two files under one name', () => {
    expect(() => encodeBody(parseItems(['n:=1'], read), 'form')).toThrow(/raw JSON field "n"/);
    expect(() => encodeBody(parseItems(['f@note.txt', 'f@photo.png'], read), 'json')).toThrow(/two files/);
  });

  it('is none without data', () => {
    expect(encodeBody(parseItems(['X-A:1'], read), 'json')).toEqual({ kind: 'none' });
  });
});
