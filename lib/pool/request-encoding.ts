/**
 * Turning a caller's request into what the connection layers take: the
 * URL (with fields in its query), a {@link RequestBody}, and lower-cased
 * header pairs. urllib3 1.25's `RequestMethods.request_encode_url` /
 * `request_encode_body`, plus the body types of WHATWG fetch (FormData,
 * Blob, URLSearchParams, buffers) and JSON.
 *
 * {@link encodeRequest} runs once per request: the common cases (no body,
 * text, octets) copy nothing and walk the headers once.
 */

import { Readable } from 'node:stream';
import type { RequestBody } from '../common/body.js';
import { checkMethod } from '../common/field-syntax.js';
import { HTTPHeaderMap, entriesOf, type HeadersInit } from '../common/headers.js';
import { RequestField, checkBoundary, encodeMultipartFormdata, type FieldData, type FieldValue, type Fields } from './fields.js';

/** Methods whose fields go in the URL's query rather than a body (urllib3's `_encode_url_methods`). */
export const ENCODE_URL_METHODS: ReadonlySet<string> = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS']);

/** The Content-Type of fields sent urlencoded (urllib3's, without a charset). */
export const FORM_URLENCODED = 'application/x-www-form-urlencoded';

/** The Content-Type fetch gives a URLSearchParams body. */
const SEARCH_PARAMS_TYPE = 'application/x-www-form-urlencoded;charset=UTF-8';

// The octets Python's quote_plus leaves as they are: RFC 3986's unreserved
// characters (§2.3). Space becomes "+" (the form-urlencoded convention).
const SAFE = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') SAFE[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';

/** `text` or octets in form-urlencoded form, UTF-8 for text (Python's `quote_plus`). */
function quotePlus(value: string | Uint8Array): string {
  if (typeof value === 'string') {
    let plain = true;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80 || SAFE[c] === 0) {
        plain = false;
        break;
      }
    }
    if (plain) return value;
  }
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x80 && SAFE[b] === 1) out += String.fromCharCode(b);
    else if (b === 0x20) out += '+';
    else out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

function plainValue(name: string, value: FieldValue | RequestField): string | Uint8Array {
  if (typeof value === 'string' || value instanceof Uint8Array) return value;
  if (typeof value === 'number') return String(value);
  throw new TypeError(`Field ${JSON.stringify(name)}: only text, octets and numbers can be urlencoded; send files as multipart`);
}

/**
 * Fields as `application/x-www-form-urlencoded` text (the serialisation
 * Python's `urlencode` gives): `name=value` pairs joined by `&`, each side
 * UTF-8 and percent-encoded except unreserved characters, space as `+`.
 * Order is kept and names may repeat.
 *
 * @throws TypeError for a file tuple or a RequestField (they need multipart),
 *   or fields of the wrong shape.
 */
export function urlencode(fields: Fields): string {
  let out = '';
  const add = (name: unknown, value: FieldValue): void => {
    if (typeof name !== 'string') throw new TypeError('A field name must be a string');
    if (out !== '') out += '&';
    out += `${quotePlus(name)}=${quotePlus(plainValue(name, value))}`;
  };
  if (Array.isArray(fields)) {
    for (const entry of fields as ReadonlyArray<unknown>) {
      if (!Array.isArray(entry) || entry.length !== 2) throw new TypeError('Each field to urlencode must be a [name, value] pair');
      add(entry[0], entry[1] as FieldValue);
    }
  } else if (fields !== null && typeof fields === 'object') {
    const record = fields as Readonly<Record<string, FieldValue>>;
    for (const name of Object.keys(record)) add(name, record[name]!);
  } else {
    throw new TypeError('Fields must be a record or an array of [name, value] pairs');
  }
  return out;
}

/** Whether there are any fields (urllib3 tests `if fields:`). */
function hasFields(fields: Fields): boolean {
  if (Array.isArray(fields)) return fields.length > 0;
  if (fields === null || typeof fields !== 'object') throw new TypeError('Fields must be a record, an array of [name, value] pairs or RequestFields');
  return Object.keys(fields).length > 0;
}

/**
 * `url` with `query` added to its query (RFC 3986 §3.4): after `?` when it
 * has none, after `&` when it has one, before any `#fragment`.
 */
function appendQuery(url: string, query: string): string {
  const hash = url.indexOf('#');
  const head = hash === -1 ? url : url.slice(0, hash);
  const tail = hash === -1 ? '' : url.slice(hash);
  const q = head.indexOf('?');
  let sep: string;
  if (q === -1) sep = '?';
  else if (q === head.length - 1 || head.endsWith('&')) sep = '';
  else sep = '&';
  return `${head}${sep}${query}${tail}`;
}

/**
 * The URL with `fields` urlencoded into its query, for methods whose
 * requests carry no body (urllib3's `request_encode_url`, which sends the
 * request; this returns the URL to send it to). No fields, or empty ones,
 * leave the URL as it is.
 *
 * @param method The request method (checked to be a token, RFC 9110 §9.1).
 * @throws TypeError for an invalid method, a URL that is not a string, or
 *   fields that cannot be urlencoded.
 */
export function requestEncodeUrl(method: string, url: string, fields?: Fields | null): string {
  checkMethod(method);
  if (typeof url !== 'string') throw new TypeError('The URL must be a string');
  if (fields === undefined || fields === null || !hasFields(fields)) return url;
  return appendQuery(url, urlencode(fields));
}

/** Options of {@link requestEncodeBody}. */
export interface RequestEncodeBodyOptions {
  /** multipart/form-data (default) or, when false, application/x-www-form-urlencoded. */
  encodeMultipart?: boolean | undefined;
  /** The multipart boundary; random by default. */
  multipartBoundary?: string | null | undefined;
}

/** A body built from fields, and its Content-Type. */
export interface EncodedBody {
  /** Multipart octets, or urlencoded text (ASCII). */
  body: Buffer | string;
  /** `multipart/form-data; boundary=…` or `application/x-www-form-urlencoded`. */
  contentType: string;
}

/**
 * The body and Content-Type for sending `fields` in a request body
 * (urllib3's `request_encode_body`, which sends the request; this returns
 * what it would send): multipart/form-data (RFC 7578) by default, or
 * urlencoded with `encodeMultipart: false`. Returns null when there are no
 * fields, as urllib3 then sends no body.
 *
 * @param method The request method (checked to be a token, RFC 9110 §9.1).
 * @param url The request's URL (checked to be a string; the body does not depend on it).
 * @throws TypeError for an invalid method or URL, fields of the wrong shape,
 *   files with `encodeMultipart: false`, or an invalid boundary.
 */
export function requestEncodeBody(method: string, url: string, fields: Fields | null | undefined, options: RequestEncodeBodyOptions = {}): EncodedBody | null {
  checkMethod(method);
  if (typeof url !== 'string') throw new TypeError('The URL must be a string');
  if (fields === undefined || fields === null || !hasFields(fields)) return null;
  return encodeFields(fields, options.encodeMultipart ?? true, options.multipartBoundary);
}

function encodeFields(fields: Fields, multipart: boolean, boundary: string | null | undefined): EncodedBody {
  if (multipart) return encodeMultipartFormdata(fields, boundary);
  return { body: urlencode(fields), contentType: FORM_URLENCODED };
}

/**
 * What a request body may be given as:
 * - text (sent as UTF-8) or octets: a Uint8Array, an ArrayBuffer or any
 *   ArrayBufferView (sent as they are, not copied);
 * - a `URLSearchParams` (sent urlencoded), a `Blob` or `File` (its octets,
 *   its type as Content-Type), a `FormData` (sent as multipart/form-data);
 * - a Node `Readable` or an `AsyncIterable<Uint8Array>` (streamed; cannot
 *   be sent twice).
 */
export type RequestBodyInit =
  | string
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | URLSearchParams
  | Blob
  | FormData
  | Readable
  | AsyncIterable<Uint8Array>;

/** Options of {@link encodeRequest}. At most one of `fields`, `body` and `json`. */
export interface EncodeRequestOptions {
  /** Fields: the query for GET, HEAD, DELETE and OPTIONS, the body (multipart by default) for other methods. */
  fields?: Fields | null | undefined;
  /** The body as it is. */
  body?: RequestBodyInit | null | undefined;
  /** A value sent as JSON (UTF-8, `application/json`). `null` is sent as `null`; `undefined` is no JSON. */
  json?: unknown;
  /** The caller's headers; a Content-Type among them is kept over the one the body would set. */
  headers?: HeadersInit | null | undefined;
  /** For fields in a body: multipart/form-data (default) or, when false, urlencoded. */
  encodeMultipart?: boolean | undefined;
  /** For multipart bodies (from fields or FormData): the boundary; random by default. */
  multipartBoundary?: string | null | undefined;
}

/** A request ready for the connection layers. */
export interface EncodedRequest {
  /** The URL, with fields in its query for GET, HEAD, DELETE and OPTIONS. */
  url: string;
  /** The body, or null for none. */
  body: RequestBody;
  /**
   * The caller's headers with lower-cased names, in order, plus
   * `content-type` when the body has one and the caller set none. An
   * array of pairs, which HeadersInit and HTTPHeaderMap take as it is.
   */
  headers: Array<[string, string]>;
  /**
   * Whether the body can be sent again (after a redirect, or on a retry):
   * true when there is none or it is in memory, false for a stream.
   */
  replayable: boolean;
}

/** The caller's headers as lower-cased pairs, and whether they set a Content-Type. */
function lowerCaseHeaders(headers: HeadersInit | null | undefined): { pairs: Array<[string, string]>; hasContentType: boolean } {
  const pairs: Array<[string, string]> = [];
  let hasContentType = false;
  if (headers === undefined || headers === null) return { pairs, hasContentType };
  // A header map already holds its names lower-cased.
  const entries: Iterable<[string, string]> = headers instanceof HTTPHeaderMap ? headers : entriesOf(headers);
  for (const [rawName, value] of entries) {
    if (typeof rawName !== 'string' || typeof value !== 'string') throw new TypeError('Header names and values must be strings');
    const name = rawName.toLowerCase();
    if (name === 'content-type') hasContentType = true;
    pairs.push([name, value]);
  }
  return { pairs, hasContentType };
}

function tagOf(x: object): unknown {
  return (x as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
}

/** A Blob or File, from this realm or another (undici's own, say). */
function isBlob(x: object): x is Blob {
  const tag = tagOf(x);
  return (tag === 'Blob' || tag === 'File') && typeof (x as Blob).arrayBuffer === 'function';
}

function isFormData(x: object): x is FormData {
  return tagOf(x) === 'FormData' && typeof (x as FormData).entries === 'function';
}

function isAsyncIterable(x: object): x is AsyncIterable<Uint8Array> {
  return typeof (x as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** The body, its Content-Type, and whether it can be sent again; or a promise of them for a Blob or FormData. */
type NormalisedInit = { body: RequestBody; contentType: string | null; replayable: boolean };

function normaliseInit(body: RequestBodyInit, boundary: string | null | undefined): NormalisedInit | Promise<NormalisedInit> {
  if (typeof body === 'string') return { body, contentType: null, replayable: true };
  if (typeof body !== 'object') throw new TypeError(`A request body cannot be a ${typeof body}; send values as JSON with the json option`);
  if (body instanceof Uint8Array) return { body, contentType: null, replayable: true };
  if (body instanceof ArrayBuffer) return { body: new Uint8Array(body), contentType: null, replayable: true };
  if (ArrayBuffer.isView(body)) return { body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), contentType: null, replayable: true };
  if (body instanceof URLSearchParams) return { body: body.toString(), contentType: SEARCH_PARAMS_TYPE, replayable: true };
  if (body instanceof Readable) return { body, contentType: null, replayable: false };
  if (isBlob(body)) return blobBody(body);
  if (isFormData(body)) {
    // Checked here so that a bad boundary throws before anything is read.
    if (boundary !== undefined && boundary !== null) checkBoundary(boundary);
    return formDataBody(body, boundary);
  }
  if (isAsyncIterable(body)) return { body, contentType: null, replayable: false };
  throw new TypeError(
    'A request body must be a string, a Uint8Array, an ArrayBuffer(View), URLSearchParams, a Blob, FormData, a Readable or an AsyncIterable<Uint8Array>; send objects with the json option',
  );
}

async function blobBody(blob: Blob): Promise<NormalisedInit> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return { body: bytes, contentType: blob.type === '' ? null : blob.type, replayable: true };
}

/**
 * A FormData as multipart/form-data, as fetch sends it: text entries as
 * plain fields, File entries with their name and type (octet-stream when
 * it has none, as the WHATWG HTML standard's encoding does).
 */
async function formDataBody(form: FormData, boundary: string | null | undefined): Promise<NormalisedInit> {
  const entries = [...form.entries()] as Array<[string, string | Blob]>;
  const datas = await Promise.all(entries.map(([, value]) => (typeof value === 'string' ? value : value.arrayBuffer())));
  const fields: RequestField[] = [];
  for (let i = 0; i < entries.length; i++) {
    const [name, value] = entries[i]!;
    const data = datas[i]!;
    if (typeof value === 'string') {
      fields.push(RequestField.fromTuples(name, data as string));
    } else {
      const filename = typeof (value as File).name === 'string' ? (value as File).name : 'blob';
      const tuple: readonly [string, FieldData, string] = [filename, new Uint8Array(data as ArrayBuffer), value.type || 'application/octet-stream'];
      fields.push(RequestField.fromTuples(name, tuple));
    }
  }
  const { body, contentType } = encodeMultipartFormdata(fields, boundary);
  return { body, contentType, replayable: true };
}

function finish(url: string, init: NormalisedInit, pairs: Array<[string, string]>, hasContentType: boolean): EncodedRequest {
  if (init.contentType !== null && !hasContentType) pairs.push(['content-type', init.contentType]);
  return { url, body: init.body, headers: pairs, replayable: init.replayable };
}

/**
 * Turns a request as a caller gives it into what the connection layers
 * take: the one place the pool does so, once per request.
 *
 * - `fields` go in the URL's query for GET, HEAD, DELETE and OPTIONS
 *   (the method compared case-insensitively), and otherwise in a
 *   multipart/form-data body, or a urlencoded one with
 *   `encodeMultipart: false` (as urllib3's `request`).
 * - `json` is sent as `JSON.stringify(json)` in UTF-8 with
 *   `content-type: application/json`.
 * - `body` is sent as {@link RequestBodyInit} says; Blob, FormData and
 *   URLSearchParams bring their Content-Type.
 * - A Content-Type the caller gave is kept over any of these.
 *
 * Returns a Promise only when it must read something first (a Blob or a
 * FormData body); otherwise the result itself, so `await` works for both.
 *
 * @throws TypeError (synchronously) for more than one of fields, body and
 *   json; a method or URL that is not a string; a body, fields or headers
 *   of the wrong type; a json value that JSON.stringify turns into nothing
 *   (a function, a symbol) or cannot stringify (a BigInt, a cycle); an
 *   invalid boundary.
 */
export function encodeRequest(method: string, url: string, options: EncodeRequestOptions = {}): EncodedRequest | Promise<EncodedRequest> {
  if (typeof method !== 'string') throw new TypeError('The method must be a string');
  if (typeof url !== 'string') throw new TypeError('The URL must be a string');
  const { fields, body, json } = options;
  const hasBody = body !== undefined && body !== null;
  const hasJson = json !== undefined;
  const hasFieldsOption = fields !== undefined && fields !== null;
  if (Number(hasBody) + Number(hasJson) + Number(hasFieldsOption) > 1) {
    throw new TypeError('A request takes at most one of fields, body and json');
  }
  const { pairs, hasContentType } = lowerCaseHeaders(options.headers);

  if (hasBody) {
    const init = normaliseInit(body, options.multipartBoundary);
    if (init instanceof Promise) return init.then((done) => finish(url, done, pairs, hasContentType));
    return finish(url, init, pairs, hasContentType);
  }
  if (hasJson) {
    const text = JSON.stringify(json) as string | undefined;
    if (text === undefined) throw new TypeError(`A ${typeof json} cannot be sent as JSON`);
    return finish(url, { body: text, contentType: 'application/json', replayable: true }, pairs, hasContentType);
  }
  if (hasFieldsOption && hasFields(fields)) {
    if (ENCODE_URL_METHODS.has(method.toUpperCase())) {
      return { url: appendQuery(url, urlencode(fields)), body: null, headers: pairs, replayable: true };
    }
    const encoded = encodeFields(fields, options.encodeMultipart ?? true, options.multipartBoundary);
    return finish(url, { body: encoded.body, contentType: encoded.contentType, replayable: true }, pairs, hasContentType);
  }
  return { url, body: null, headers: pairs, replayable: true };
}
