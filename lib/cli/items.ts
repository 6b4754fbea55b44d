/**
 * Request items, as httpie and hyper define them:
 *
 * | item            | meaning                                         |
 * | --------------- | ----------------------------------------------- |
 * | `Header:value`  | a header (`Header:` removes a default one)       |
 * | `Header;`       | a header with an empty value                     |
 * | `name==value`   | a query parameter                                |
 * | `name=value`    | a data field: a JSON string, or a form field     |
 * | `name:=json`    | a raw JSON value                                 |
 * | `name@file`     | a file: the request becomes multipart/form-data  |
 * | `name=@file`    | a data field read from a file                    |
 * | `name:=@file`   | a raw JSON value read from a file                |
 *
 * The separator is the leftmost one in the item, the longest where two
 * start at the same place; a backslash makes the next character literal,
 * so `a\:b=c` is the field `a:b`.
 */

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { BodyKind } from './args.js';
import { UsageError } from './args.js';

/** The separators, longest first: at one position the longest wins. */
const SEPARATORS = [':=@', '=@', '==', ':=', '@', '=', ':', ';'] as const;
type Separator = (typeof SEPARATORS)[number];

/** One item, split at its separator, escapes resolved. */
export interface RequestItem {
  key: string;
  separator: Separator;
  value: string;
  /** The item as typed, for messages. */
  text: string;
}

/** Splits one item at its separator. */
export function splitItem(text: string): RequestItem {
  let key = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      // The escaped character is part of the key, whatever it is.
      key += text[++i];
      continue;
    }
    for (const sep of SEPARATORS) {
      if (text.startsWith(sep, i)) {
        return { key, separator: sep, value: unescape(text.slice(i + sep.length)), text };
      }
    }
    key += c;
  }
  throw new UsageError(`${JSON.stringify(text)} is not a request item (Header:value, name==value, name=value, name:=json or name@file)`);
}

/** Backslash escapes in a value: `\\x` is `x`. */
function unescape(value: string): string {
  return value.replace(/\\(.)/gs, '$1');
}

/** A file to upload. */
export interface FileItem {
  field: string;
  filename: string;
  content: Buffer;
  contentType: string | undefined;
}

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What the items ask for, before it is turned into a request. */
export interface RequestParts {
  /** Headers in order; a null value removes the header (a default one included). */
  headers: Array<[string, string | null]>;
  query: Array<[string, string]>;
  /** Data fields in order (JSON values for `:=`). */
  data: Array<[string, JsonValue]>;
  files: FileItem[];
  /** Whether there is anything to send as a body. */
  hasBody: boolean;
}

/** Reads a file named in an item; `readFile` is injectable for tests. */
export type FileReader = (path: string) => Buffer;

const readFile: FileReader = (path) => {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
};

/** Parses the items. Files are read here, so a missing one is reported before any connection. */
export function parseItems(texts: readonly string[], read: FileReader = readFile): RequestParts {
  const parts: RequestParts = { headers: [], query: [], data: [], files: [], hasBody: false };
  for (const text of texts) {
    const item = splitItem(text);
    const { key, value } = item;
    switch (item.separator) {
      case ':':
        if (key === '') throw new UsageError(`${JSON.stringify(text)}: a header needs a name`);
        parts.headers.push([key, value === '' ? null : value]);
        break;
      case ';':
        if (key === '') throw new UsageError(`${JSON.stringify(text)}: a header needs a name`);
        if (value !== '') throw new UsageError(`${JSON.stringify(text)}: "Header;" sends an empty header and takes no value`);
        parts.headers.push([key, '']);
        break;
      case '==':
        parts.query.push([key, value]);
        break;
      case '=':
        parts.data.push([key, value]);
        break;
      case '=@':
        parts.data.push([key, read(value).toString('utf8')]);
        break;
      case ':=':
        parts.data.push([key, parseJson(value, text)]);
        break;
      case ':=@':
        parts.data.push([key, parseJson(read(value).toString('utf8'), text)]);
        break;
      case '@': {
        // `name@path;type=mime`: the part's content type.
        const typed = /^(.*);type=([^;]+)$/s.exec(value);
        const path = typed === null ? value : typed[1]!;
        parts.files.push({ field: key, filename: basename(path), content: read(path), contentType: typed === null ? undefined : typed[2]! });
        break;
      }
    }
  }
  parts.hasBody = parts.data.length > 0 || parts.files.length > 0;
  return parts;
}

function parseJson(text: string, item: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new UsageError(`${JSON.stringify(item)}: not valid JSON (${(err as Error).message})`);
  }
}

/** The body the data items and files make. */
export type EncodedBody =
  | { kind: 'none' }
  | { kind: 'json'; json: Record<string, JsonValue> }
  | { kind: 'form'; data: Record<string, string | string[]> }
  | { kind: 'multipart'; data: Record<string, string | string[]>; files: Record<string, readonly [string, Uint8Array, string?]> };

/**
 * How the data and files are sent: a JSON object by default; a form with
 * `--form`; multipart whenever there is a file (httpie does the same, and
 * a JSON body cannot carry a file).
 */
export function encodeBody(parts: RequestParts, kind: BodyKind): EncodedBody {
  if (parts.files.length > 0) {
    const files = bare<readonly [string, Uint8Array, string?]>();
    for (const f of parts.files) {
      if (f.field in files) throw new UsageError(`two files for the field ${JSON.stringify(f.field)}: give each file its own field name`);
      files[f.field] = f.contentType === undefined ? [f.filename, f.content] : [f.filename, f.content, f.contentType];
    }
    return { kind: 'multipart', data: formFields(parts.data), files };
  }
  if (parts.data.length === 0) return { kind: 'none' };
  if (kind === 'form') return { kind: 'form', data: formFields(parts.data) };
  const json = bare<JsonValue>();
  // A repeated key keeps the last value, as a JSON object can hold one.
  for (const [k, v] of parts.data) json[k] = v;
  return { kind: 'json', json };
}

/** Form fields: strings only (a raw JSON value has no form encoding); repeated names kept in order. */
function formFields(data: Array<[string, JsonValue]>): Record<string, string | string[]> {
  const out = bare<string | string[]>();
  for (const [k, v] of data) {
    if (typeof v !== 'string') throw new UsageError(`the raw JSON field ${JSON.stringify(k)} cannot be sent in a form: use name=value`);
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** An object without a prototype: a field called `__proto__` is then just a field. */
function bare<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
