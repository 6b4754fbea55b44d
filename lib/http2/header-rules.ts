/**
 * The HTTP/2 rules for header fields (RFC 9113 §8.2, §8.3): what we send is
 * cleaned and checked before anything goes on the wire; what we receive is
 * checked, and a malformed message is a stream error (§8.1.1).
 */

import { ErrorCode, ProtocolError } from '../common/errors.js';
import { entriesOf, type HeadersInit } from '../common/headers.js';
import { checkField, checkMethod, isToken, isValidValue, TOKEN } from '../common/field-syntax.js';
import type { HeaderInput } from '../hpack/encoder.js';

export { isToken, isValidValue };

/** Connection-specific fields, which HTTP/2 forbids (§8.2.2). */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** What a request is made of, before it becomes a header list. */
export interface RequestTarget {
  method: string;
  scheme: string;
  authority: string;
  path: string;
  headers?: HeadersInit | undefined;
}

/**
 * Builds the header list of a request: pseudo-headers first (§8.3.1), then
 * the caller's fields lowercased, with connection-specific ones dropped and
 * TE kept only as `trailers` (§8.2.2). Throws TypeError on an illegal name
 * or value, so nothing is sent.
 */
export function requestHeaderList(target: RequestTarget): HeaderInput[] {
  const { method, scheme, authority, path } = target;
  checkMethod(method);
  if (typeof path !== 'string' || path.length === 0 || !isValidValue(path) || /[\s]/.test(path)) {
    throw new TypeError(`Invalid path ${JSON.stringify(path)}`);
  }
  if (!isValidValue(authority) || /[\s]/.test(authority)) throw new TypeError(`Invalid authority ${JSON.stringify(authority)}`);
  // CONNECT carries only :method and :authority (§8.5).
  const list: HeaderInput[] =
    method === 'CONNECT'
      ? [
          [':method', method],
          [':authority', authority],
        ]
      : [
          [':method', method],
          [':scheme', scheme],
          [':authority', authority],
          [':path', path],
        ];
  if (target.headers === undefined) return list;
  for (const [rawName, value] of entriesOf(target.headers)) {
    // Checked before lowercasing: toLowerCase() maps U+212A KELVIN SIGN to
    // ASCII 'k', which would turn an invalid name into another, valid one.
    checkField(rawName, value);
    const name = rawName.toLowerCase();
    if (CONNECTION_SPECIFIC.has(name)) continue;
    if (name === 'te') {
      // TE "MUST NOT contain any value other than 'trailers'" (§8.2.2), and
      // strict servers compare the octets: send the token in lowercase.
      if (value.toLowerCase() === 'trailers') list.push(['te', 'trailers']);
      continue;
    }
    if (name === 'host') {
      // :authority carries it in HTTP/2 (§8.3.1); a different Host would be
      // ambiguous.
      continue;
    }
    list.push([name, value]);
  }
  return list;
}

/** A checked response head. */
export interface ResponseHead {
  status: number;
  /** Regular fields, pseudo-headers removed. */
  fields: Array<[string, string]>;
}

/** A malformed response (§8.1.1): a PROTOCOL_ERROR on its stream alone. */
export function malformedResponse(streamId: number, why: string): ProtocolError {
  return new ProtocolError('HW_ERR_MALFORMED_RESPONSE', `Malformed response on stream ${streamId}: ${why} (RFC 9113 §8.1.1)`, {
    errorCode: ErrorCode.PROTOCOL_ERROR,
    scope: 'stream',
    streamId,
  });
}

/** Checks regular fields shared by every kind of block (§8.2). */
function checkRegular(name: string, value: string, streamId: number): void {
  // One pass over the name, on the per-header path: a token (RFC 9110
  // §5.6.2) with no uppercase (§8.2.1); uppercase is the error reported
  // when both apply.
  let upper = false;
  let invalid = name.length === 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) upper = true;
    else if (c >= 128 || TOKEN[c] === 0) invalid = true;
  }
  if (upper) throw malformedResponse(streamId, `uppercase in field name ${JSON.stringify(name)}`);
  if (invalid) throw malformedResponse(streamId, `invalid field name ${JSON.stringify(name)}`);
  if (CONNECTION_SPECIFIC.has(name)) throw malformedResponse(streamId, `connection-specific field ${name}`);
  if (name === 'te' && value !== 'trailers') throw malformedResponse(streamId, 'TE other than trailers');
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) throw malformedResponse(streamId, `NUL, CR or LF in the value of ${name}`);
  }
}

/**
 * Walks a header block: each pseudo-header goes to `pseudo` (which checks
 * it), and must come before every regular field (§8.3); regular fields are
 * checked and returned, as the decoder's own tuples, not copies.
 */
function splitBlock(fields: ReadonlyArray<[string, string]>, streamId: number, pseudo: (name: string, value: string) => void): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let regularSeen = false;
  for (const field of fields) {
    const [name, value] = field;
    if (name.charCodeAt(0) === 0x3a) {
      pseudo(name, value);
      if (regularSeen) throw malformedResponse(streamId, 'pseudo-header after a regular field');
      continue;
    }
    regularSeen = true;
    checkRegular(name, value, streamId);
    out.push(field);
  }
  return out;
}

/** Checks a response header block: exactly one :status, first, 3 digits (§8.3.2). */
export function checkResponseHead(fields: ReadonlyArray<[string, string]>, streamId: number): ResponseHead {
  let status = -1;
  const out = splitBlock(fields, streamId, (name, value) => {
    if (name !== ':status') throw malformedResponse(streamId, `pseudo-header ${name} in a response`);
    if (status !== -1) throw malformedResponse(streamId, 'duplicate :status');
    if (!/^[1-9][0-9][0-9]$/.test(value)) throw malformedResponse(streamId, `bad :status ${JSON.stringify(value)}`);
    status = Number(value);
  });
  if (status === -1) throw malformedResponse(streamId, 'no :status');
  return { status, fields: out };
}

/** Checks a trailer block: no pseudo-headers (§8.1). */
export function checkTrailers(fields: ReadonlyArray<[string, string]>, streamId: number): Array<[string, string]> {
  return splitBlock(fields, streamId, (name) => {
    throw malformedResponse(streamId, `pseudo-header ${name} in trailers`);
  });
}

/** A checked pushed request (§8.4). */
export interface PushedRequest {
  method: string;
  scheme: string;
  authority: string;
  path: string;
  fields: Array<[string, string]>;
}

/**
 * Checks the request in a PUSH_PROMISE: all of :method, :scheme, :path and
 * :authority, a safe and cacheable method (§8.4), no body.
 */
export function checkPushedRequest(fields: ReadonlyArray<[string, string]>, streamId: number): PushedRequest {
  const pseudo = new Map<string, string>();
  const out = splitBlock(fields, streamId, (name, value) => {
    if (name !== ':method' && name !== ':scheme' && name !== ':authority' && name !== ':path') {
      throw malformedResponse(streamId, `pseudo-header ${name} in a pushed request`);
    }
    if (pseudo.has(name)) throw malformedResponse(streamId, `duplicate ${name}`);
    pseudo.set(name, value);
  });
  const method = pseudo.get(':method');
  const scheme = pseudo.get(':scheme');
  const authority = pseudo.get(':authority');
  const path = pseudo.get(':path');
  if (method === undefined || scheme === undefined || authority === undefined || path === undefined || path === '') {
    throw malformedResponse(streamId, 'pushed request lacks :method, :scheme, :authority or :path');
  }
  if (method !== 'GET' && method !== 'HEAD') throw malformedResponse(streamId, `pushed request with unsafe method ${method}`);
  return { method, scheme, authority, path, fields: out };
}
