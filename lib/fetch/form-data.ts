/**
 * A FormData as a request body: the HTML Standard's multipart/form-data
 * encoding algorithm (§4.10.21.8), with the octets undici sends, so that a
 * server sees the same form from either client.
 *
 * The parts are laid out up front and the length counted (the Fetch
 * Standard's "extract a body" gives FormData a length when every entry's
 * size is known, and it is sent as Content-Length); a File's contents are
 * read from the File when the body is sent, not copied here.
 */

/** One piece of an encoded form: octets, or a File whose contents go there. */
export type FormPart = Uint8Array | Blob;

/** A form laid out for sending. */
export interface EncodedForm {
  /** Pieces in order; sending them one after another gives the body. */
  readonly parts: readonly FormPart[];
  /** Octets in all. */
  readonly length: number;
  /** `multipart/form-data; boundary=...`. */
  readonly contentType: string;
}

const CRLF = new Uint8Array([13, 10]);
const encoder = new TextEncoder();

/**
 * A boundary of the form undici makes: `----formdata-undici-0` and eleven
 * random digits (RFC 2046 §5.1.1 allows up to 70 characters).
 */
export function formBoundary(): string {
  return `----formdata-undici-0${String(Math.floor(Math.random() * 1e11)).padStart(11, '0')}`;
}

/**
 * Names (and filenames) are escaped as the HTML Standard says: LF, CR and
 * '"' become %0A, %0D and %22, so that they cannot end the header line or
 * the quoted string.
 */
function escapeName(s: string): string {
  return s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
}

/** Line breaks in names and string values are sent as CRLF (HTML §4.10.21.8, "convert to a list of name-value pairs"). */
function normaliseLineBreaks(s: string): string {
  return s.replace(/\r?\n|\r/g, '\r\n');
}

/** Lays out `form` with `boundary`. */
export function encodeForm(form: FormData, boundary: string): EncodedForm {
  const prefix = `--${boundary}\r\nContent-Disposition: form-data`;
  const parts: FormPart[] = [];
  let length = 0;
  for (const [name, value] of form) {
    const escaped = escapeName(normaliseLineBreaks(name));
    if (typeof value === 'string') {
      const chunk = encoder.encode(`${prefix}; name="${escaped}"\r\n\r\n${normaliseLineBreaks(value)}\r\n`);
      parts.push(chunk);
      length += chunk.byteLength;
    } else {
      const file = value as Blob & { name?: string };
      const filename = file.name ? `; filename="${escapeName(file.name)}"` : '';
      const head = encoder.encode(`${prefix}; name="${escaped}"${filename}\r\nContent-Type: ${file.type || 'application/octet-stream'}\r\n\r\n`);
      parts.push(head, file, CRLF);
      length += head.byteLength + file.size + CRLF.byteLength;
    }
  }
  const end = encoder.encode(`--${boundary}--\r\n`);
  parts.push(end);
  length += end.byteLength;
  return { parts, length, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The boundary of a `multipart/form-data` Content-Type, or null if it is not one. */
export function boundaryOf(contentType: string | null): string | null {
  if (contentType === null) return null;
  const m = /^multipart\/form-data;\s*boundary=("?)([^";]+)\1\s*$/i.exec(contentType);
  return m === null ? null : m[2]!;
}
