/**
 * Request fields and multipart/form-data bodies (RFC 7578), as urllib3
 * 1.25's `urllib3.fields` and `urllib3.filepost`, in camelCase.
 */

import { randomBytes } from 'node:crypto';
import { isToken } from '../common/field-syntax.js';

/** The data of one field: text (sent as UTF-8, RFC 7578 §5.1.2) or octets. */
export type FieldData = string | Uint8Array;

/**
 * A field's value as a caller gives it: its data (a number is sent as its
 * decimal text, as urllib3 does with an int), `[filename, data]`, or
 * `[filename, data, contentType]`. Without a content type a file's is
 * guessed from the filename's extension ({@link guessContentType}).
 */
export type FieldValue =
  | FieldData
  | number
  | readonly [filename: string, data: FieldData]
  | readonly [filename: string, data: FieldData, contentType: string];

/**
 * Fields: a record of name to value, an array of `[name, value]` pairs
 * (names may repeat, order is kept), or {@link RequestField}s, which may be
 * mixed with pairs in one array.
 */
export type Fields = Readonly<Record<string, FieldValue>> | ReadonlyArray<readonly [string, FieldValue] | RequestField>;

/** The content type of a file whose type cannot be told (RFC 7578 §4.4, RFC 2046 §4.5.1). */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * Content types by extension: a short table of the common ones, with the
 * types IANA registers (text/javascript per RFC 9239, application/xml per
 * RFC 7303), where urllib3 asks Python's `mimetypes`, whose answers vary
 * with the platform.
 */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  txt: 'text/plain',
  text: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  html: 'text/html',
  htm: 'text/html',
  css: 'text/css',
  csv: 'text/csv',
  js: 'text/javascript',
  mjs: 'text/javascript',
  json: 'application/json',
  xml: 'application/xml',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  wasm: 'application/wasm',
  bin: DEFAULT_CONTENT_TYPE,
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
  ico: 'image/vnd.microsoft.icon',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  mp4: 'video/mp4',
  webm: 'video/webm',
  woff: 'font/woff',
  woff2: 'font/woff2',
};

/**
 * Guesses a file's content type from the extension of its name, case
 * insensitively (urllib3's `guess_content_type`). A name without an
 * extension (including a dot-file such as `.bashrc`, as Python's
 * `splitext` reads it), an unknown extension, or no name gives `fallback`.
 */
export function guessContentType(filename: string | null | undefined, fallback: string = DEFAULT_CONTENT_TYPE): string {
  if (typeof filename !== 'string' || filename === '') return fallback;
  const base = filename.slice(Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  // Leading dots do not start an extension (".bashrc", "..").
  let start = 0;
  while (start < base.length && base.charCodeAt(start) === 0x2e) start++;
  if (dot < start) return fallback;
  const extension = base.slice(dot + 1).toLowerCase();
  return Object.hasOwn(CONTENT_TYPES, extension) ? CONTENT_TYPES[extension]! : fallback;
}

/**
 * Formats one parameter of a part's Content-Disposition as `name="value"`,
 * the HTML5 way urllib3 1.25 uses (`format_header_param_html5`): `"`
 * becomes `%22`, `\` becomes `\\` (a quoted-string's escape, RFC 9110
 * §5.6.4), and every control character from 0x00 to 0x1F except ESC
 * becomes `%XX`, so CR and LF cannot end the header line. Other characters,
 * including non-ASCII ones, are kept and sent as UTF-8 (RFC 7578 §4.2,
 * §5.1.3). Octets are read as UTF-8.
 *
 * WHATWG-style parsers (undici's, browsers') decode `%22`, `%0D` and `%0A`
 * but read `\\` as two backslashes; RFC 9110 quoted-string parsers read it
 * as one.
 */
export function formatHeaderParamHtml5(name: string, value: FieldData): string {
  const text = typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let replacement: string;
    if (c === 0x22) replacement = '%22';
    else if (c === 0x5c) replacement = '\\\\';
    else if (c <= 0x1f && c !== 0x1b) replacement = `%${c < 0x10 ? '0' : ''}${c.toString(16).toUpperCase()}`;
    else continue;
    out += text.slice(from, i) + replacement;
    from = i + 1;
  }
  return `${name}="${from === 0 ? text : out + text.slice(from)}"`;
}

/** Options of {@link RequestField.makeMultipart}. */
export interface MakeMultipartOptions {
  /** The disposition type; default `form-data` (RFC 7578 §4.2). */
  contentDisposition?: string | null | undefined;
  /** The part's Content-Type; none is sent when absent. */
  contentType?: string | null | undefined;
  /** The part's Content-Location; none is sent when absent. */
  contentLocation?: string | null | undefined;
}

/** The headers {@link RequestField.renderHeaders} puts first, in this order. */
const SORT_KEYS = ['Content-Disposition', 'Content-Type', 'Content-Location'] as const;

/**
 * One field of a request body: a name, its data, an optional filename and
 * the part's headers (urllib3's `RequestField`).
 *
 * A field from the constructor has no headers until {@link makeMultipart}
 * gives it a Content-Disposition; {@link RequestField.fromTuples} does that
 * for you.
 */
export class RequestField {
  /** The field name (the `name` parameter of its Content-Disposition). */
  readonly name: string;
  /** The field's data. */
  data: FieldData;
  /** The filename, or `null` for a plain field. */
  readonly filename: string | null;
  /**
   * The part's headers by name, in order. A `null` or empty value is not
   * sent; {@link makeMultipart} sets the three it manages to `null` when
   * they are not wanted.
   */
  headers: Record<string, string | null>;

  /**
   * @param name The field name.
   * @param data Its data.
   * @param filename A filename, for a file field.
   * @param headers Headers to start with (copied).
   * @throws TypeError for a name that is not a string, data that is neither
   *   a string nor a Uint8Array, or a filename that is not a string.
   */
  constructor(name: string, data: FieldData, filename: string | null = null, headers: Readonly<Record<string, string | null>> | null = null) {
    if (typeof name !== 'string') throw new TypeError('A field name must be a string');
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new TypeError(`The data of field ${JSON.stringify(name)} must be a string or a Uint8Array`);
    if (filename !== null && typeof filename !== 'string') throw new TypeError(`The filename of field ${JSON.stringify(name)} must be a string`);
    this.name = name;
    this.data = data;
    this.filename = filename;
    this.headers = headers === null ? {} : { ...headers };
  }

  /**
   * A multipart field from a name and a {@link FieldValue}: plain data,
   * `[filename, data]` (content type guessed from the filename) or
   * `[filename, data, contentType]` (urllib3's `from_tuples`).
   *
   * @throws TypeError for a value of another shape.
   */
  static fromTuples(fieldname: string, value: FieldValue): RequestField {
    let filename: string | null = null;
    let contentType: string | null = null;
    let data: FieldData;
    if (Array.isArray(value)) {
      const tuple = value as readonly unknown[];
      if (tuple.length !== 2 && tuple.length !== 3) {
        throw new TypeError(`Field ${JSON.stringify(fieldname)}: a file is [filename, data] or [filename, data, contentType]`);
      }
      if (typeof tuple[0] !== 'string') throw new TypeError(`Field ${JSON.stringify(fieldname)}: the filename must be a string`);
      filename = tuple[0];
      data = tuple[1] as FieldData;
      if (tuple.length === 3) {
        if (typeof tuple[2] !== 'string') throw new TypeError(`Field ${JSON.stringify(fieldname)}: the content type must be a string`);
        contentType = tuple[2];
      } else {
        contentType = guessContentType(filename);
      }
    } else {
      data = typeof value === 'number' ? String(value) : (value as FieldData);
    }
    const field = new RequestField(fieldname, data, filename);
    field.makeMultipart({ contentType });
    return field;
  }

  /**
   * The part's header section as text: Content-Disposition, Content-Type
   * and Content-Location first (in that order), then the others in the
   * order they were set, each line ending in CRLF and the section in an
   * empty line (RFC 7578 §4.8; RFC 2046 §5.1.1). With no headers it is a
   * lone CRLF.
   *
   * @throws TypeError if a header name is not a token or a value holds CR,
   *   LF or NUL (either would let one part's data pose as headers).
   */
  renderHeaders(): string {
    let out = '';
    const line = (name: string, value: string | null | undefined): void => {
      if (value === null || value === undefined || value === '') return;
      checkPartHeader(name, value);
      out += `${name}: ${value}\r\n`;
    };
    for (const key of SORT_KEYS) line(key, this.headers[key]);
    for (const name of Object.keys(this.headers)) {
      if (!(SORT_KEYS as readonly string[]).includes(name)) line(name, this.headers[name]);
    }
    return `${out}\r\n`;
  }

  /**
   * Makes this a multipart/form-data part: sets Content-Disposition to
   * `form-data; name="…"` (plus `; filename="…"` for a file, formatted by
   * {@link formatHeaderParamHtml5}), and Content-Type and Content-Location
   * as given (urllib3's `make_multipart`). Headers of the same names in
   * another case are replaced too, so none is sent twice.
   */
  makeMultipart(options: MakeMultipartOptions = {}): void {
    let disposition = `${options.contentDisposition || 'form-data'}; ${formatHeaderParamHtml5('name', this.name)}`;
    if (this.filename !== null) disposition += `; ${formatHeaderParamHtml5('filename', this.filename)}`;
    for (const name of Object.keys(this.headers)) {
      const lower = name.toLowerCase();
      if (lower === 'content-disposition' || lower === 'content-type' || lower === 'content-location') delete this.headers[name];
    }
    this.headers['Content-Disposition'] = disposition;
    this.headers['Content-Type'] = options.contentType ?? null;
    this.headers['Content-Location'] = options.contentLocation ?? null;
  }
}

function checkPartHeader(name: string, value: string): void {
  if (!isToken(name)) throw new TypeError(`Invalid part header name ${JSON.stringify(name)}`);
  if (typeof value !== 'string') throw new TypeError(`The value of part header ${JSON.stringify(name)} must be a string`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0) throw new TypeError(`Invalid value for part header ${JSON.stringify(name)}: CR, LF or NUL`);
  }
}

/**
 * The fields as {@link RequestField}s, in order: a record's entries, or an
 * array's pairs and RequestFields (urllib3's `iter_field_objects`).
 *
 * @throws TypeError for fields of another shape.
 */
export function* iterFieldObjects(fields: Fields): Generator<RequestField> {
  if (Array.isArray(fields)) {
    for (const entry of fields as ReadonlyArray<unknown>) {
      if (entry instanceof RequestField) {
        yield entry;
      } else if (Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string') {
        yield RequestField.fromTuples(entry[0], entry[1] as FieldValue);
      } else {
        throw new TypeError('Each field must be a [name, value] pair or a RequestField');
      }
    }
    return;
  }
  if (fields === null || typeof fields !== 'object') throw new TypeError('Fields must be a record, an array of [name, value] pairs or RequestFields');
  for (const name of Object.keys(fields)) yield RequestField.fromTuples(name, (fields as Readonly<Record<string, FieldValue>>)[name]!);
}

/** A fresh boundary: 128 random bits as 32 hex digits (urllib3's `choose_boundary`). */
export function chooseBoundary(): string {
  return randomBytes(16).toString('hex');
}

/** bcharsnospace of RFC 2046 §5.1.1; a space (bchars) may appear but not last. */
const BCHARS = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/**
 * Checks a boundary given by a caller: 1 to 70 of the characters RFC 2046
 * §5.1.1 allows in one, not ending in a space.
 *
 * @throws TypeError otherwise.
 */
export function checkBoundary(boundary: unknown): asserts boundary is string {
  if (typeof boundary !== 'string' || !BCHARS.test(boundary)) {
    throw new TypeError(`Invalid multipart boundary ${JSON.stringify(boundary)}: 1 to 70 characters of RFC 2046 §5.1.1, not ending in a space`);
  }
}

/**
 * The body and Content-Type of a multipart/form-data request (RFC 7578):
 * for each field, `--boundary` CRLF, its headers ({@link
 * RequestField.renderHeaders}), its data, CRLF; then `--boundary--` CRLF
 * (urllib3's `encode_multipart_formdata`). Text is sent as UTF-8.
 *
 * @param boundary The boundary to use; a random one
 *   ({@link chooseBoundary}) by default. One given must be 1 to 70 of the
 *   characters RFC 2046 §5.1.1 allows, not ending in a space, and must not
 *   occur in any field's data; it is quoted in the Content-Type when it
 *   is not a token (RFC 9110 §5.6.6).
 * @throws TypeError for fields of the wrong shape, a header that cannot be
 *   sent, or a boundary as above.
 */
export function encodeMultipartFormdata(fields: Fields, boundary?: string | null): { body: Buffer; contentType: string } {
  const given = boundary !== undefined && boundary !== null;
  if (given) checkBoundary(boundary);
  const b = given ? boundary : chooseBoundary();
  const delimiter = Buffer.from(`--${b}\r\n`, 'latin1');
  const crlf = Buffer.from('\r\n', 'latin1');
  const chunks: Buffer[] = [];
  let length = 0;
  const push = (chunk: Buffer): void => {
    chunks.push(chunk);
    length += chunk.length;
  };
  for (const field of iterFieldObjects(fields)) {
    push(delimiter);
    push(Buffer.from(field.renderHeaders(), 'utf8'));
    const data = field.data;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    // A random boundary of 128 bits is taken not to occur; one chosen by
    // the caller is checked, since its delimiter would cut the part short
    // (RFC 2046 §5.1.1: it must not appear in the encapsulated data).
    if (given && bytes.includes(`--${b}`, 0, 'latin1')) {
      throw new TypeError(`The multipart boundary ${JSON.stringify(b)} occurs in the data of field ${JSON.stringify(field.name)}`);
    }
    push(bytes);
    push(crlf);
  }
  push(Buffer.from(`--${b}--\r\n`, 'latin1'));
  const param = isToken(b) ? b : `"${b}"`;
  return { body: Buffer.concat(chunks, length), contentType: `multipart/form-data; boundary=${param}` };
}
