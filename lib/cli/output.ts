/**
 * How hyper shows a message: the request head as it went on the wire, the
 * response's status line and headers, the server's push promises, and
 * bodies: JSON indented and coloured when asked, text decoded by its
 * charset, binary bodies replaced by a note on a terminal.
 */

import { formatJson, isJsonType } from './json.js';
import type { Palette } from './palette.js';
import type { WirePush, WireRequest } from './wire.js';

/** What `--pretty` turned on. */
export interface Prettiness {
  colors: boolean;
  format: boolean;
}

/** A request head to show when the wire trace has none: built from the Client's Request. */
export interface BuiltRequestHead {
  method: string;
  url: string;
  headers: ReadonlyArray<readonly [string, string]>;
}

/**
 * A header value for display: octets (one latin1 code unit each) decoded
 * as UTF-8 when they are valid UTF-8, control characters made visible so
 * a value cannot move the cursor or recolour the terminal.
 */
export function displayValue(value: string): string {
  let text = value;
  if (/[\x80-\xff]/.test(value)) {
    const bytes = Buffer.from(value, 'latin1');
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      // Not UTF-8: each octet shown as its latin1 character.
    }
  }
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function headerLine(name: string, value: string, p: Palette): string {
  return `${p.headerName(displayValue(name))}: ${p.headerValue(displayValue(value))}`;
}

function requestLine(method: string, target: string, protocol: string, p: Palette): string {
  return `${p.method(method)} ${p.url(displayValue(target))} ${p.protocol(protocol)}`;
}

/**
 * The request head as it was sent: an HTTP/1.1 head as its lines; an
 * HTTP/2 one as a request line made of its pseudo-header fields
 * (`GET /path HTTP/2`, as curl shows it) and its other fields.
 */
export function formatWireRequest(request: WireRequest, p: Palette): string {
  if (request.head !== null) {
    const lines = request.head.replace(/\r\n\r\n$/, '').split('\r\n');
    const first = /^(\S+) (\S+) (HTTP\/\d(?:\.\d)?)$/.exec(lines[0] ?? '');
    const out = [first === null ? displayValue(lines[0] ?? '') : requestLine(first[1]!, first[2]!, first[3]!, p)];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      out.push(colon < 0 ? displayValue(line) : headerLine(line.slice(0, colon), line.slice(colon + 1).trim(), p));
    }
    return out.join('\n') + '\n';
  }
  const fields = request.fields ?? [];
  const pseudo = new Map(fields.filter(([n]) => n.startsWith(':')));
  const out = [requestLine(pseudo.get(':method') ?? request.method, pseudo.get(':path') ?? request.path, 'HTTP/2', p)];
  for (const [name, value] of fields) if (!name.startsWith(':')) out.push(headerLine(name, value, p));
  return out.join('\n') + '\n';
}

/** A request head from the Client's Request (used when nothing was traced). */
export function formatBuiltRequest(request: BuiltRequestHead, protocol: string, p: Palette): string {
  const url = new URL(request.url);
  const out = [requestLine(request.method, `${url.pathname}${url.search}`, protocol, p)];
  for (const [name, value] of request.headers) out.push(headerLine(name, value, p));
  return out.join('\n') + '\n';
}

/** The status line and header fields (names as the server wrote them). */
export function formatResponseHead(protocol: string, status: number, reason: string, headers: ReadonlyArray<readonly [string, string]>, p: Palette): string {
  const out = [`${p.protocol(protocol)} ${p.status(status)(String(status))}${reason !== '' ? ` ${p.reason(displayValue(reason))}` : ''}`];
  for (const [name, value] of headers) out.push(headerLine(name, value, p));
  return out.join('\n') + '\n';
}

/**
 * The server's push promises, one a line:
 * `push promise: GET https://host/style.css (stream 2, 200)`.
 */
export function formatPushes(pushes: readonly WirePush[], p: Palette): string {
  let out = '';
  for (const push of pushes) {
    const fields = new Map(push.fields ?? []);
    const method = fields.get(':method') ?? '?';
    const target = `${fields.get(':scheme') ?? 'https'}://${fields.get(':authority') ?? '?'}${fields.get(':path') ?? ''}`;
    const status = push.status === null ? '' : `, ${p.status(push.status)(String(push.status))}`;
    out += `${p.note('push promise:')} ${p.method(method)} ${p.url(displayValue(target))} ${p.note('(')}${p.note(`stream ${push.promisedStreamId}`)}${status}${p.note(')')}\n`;
  }
  return out;
}

/** Whether a body is binary: a NUL octet never occurs in text (httpie's test, too). */
export function isBinary(body: Uint8Array): boolean {
  return body.includes(0);
}

/** The note shown instead of a binary body on a terminal. */
export function binaryNote(octets: number, p: Palette): string {
  return p.note(`[binary data not shown: ${octets} ${octets === 1 ? 'octet' : 'octets'} skipped; use -o FILE, -d, or a pipe to save it]`) + '\n';
}

/**
 * The charset of a Content-Type that TextDecoder knows, else null.
 */
function charsetOf(contentType: string | undefined): string | null {
  const declared = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1];
  if (declared === undefined) return null;
  try {
    new TextDecoder(declared);
    return declared;
  } catch {
    return null;
  }
}

/** A text body as a string: its declared charset, else UTF-8 when it is valid UTF-8, else latin1. */
export function decodeText(body: Uint8Array, contentType: string | undefined): string {
  const charset = charsetOf(contentType);
  if (charset !== null) return new TextDecoder(charset).decode(body);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return Buffer.from(body).toString('latin1');
  }
}

/**
 * A body for the terminal: text, JSON formatted when asked (by its
 * Content-Type, or by its looks when the type is text or absent), ending
 * in a newline. The caller has checked that it is not binary.
 */
export function formatTextBody(body: Uint8Array, contentType: string | undefined, pretty: Prettiness, p: Palette): string {
  const text = decodeText(body, contentType);
  if (pretty.format && looksLikeJson(text, contentType)) {
    // The palette is colourless already when colours are off.
    const formatted = formatJson(text, p);
    if (formatted !== null) return formatted + '\n';
  }
  return text.endsWith('\n') || text === '' ? text : `${text}\n`;
}

/** JSON by type, or a text/plain (or untyped) body that starts like a JSON object or array. */
function looksLikeJson(text: string, contentType: string | undefined): boolean {
  if (isJsonType(contentType)) return true;
  const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (essence !== '' && essence !== 'text/plain' && essence !== 'application/octet-stream') return false;
  return /^\s*[[{]/.test(text);
}
