/**
 * The HTTP/2 rules for header fields (RFC 9113 §8.2, §8.3): what we send is
 * cleaned and checked before anything goes on the wire; what we receive is
 * checked, and a malformed message is a stream error (§8.1.1).
 */

import { ErrorCode, ProtocolError } from '../common/errors.js';
import { entriesOf, HTTPHeaderMap, type HeadersInit } from '../common/headers.js';
import { checkField, checkMethod, isToken, isValidValue, TOKEN } from '../common/field-syntax.js';
import type { HeaderInput } from '../hpack/encoder.js';

export { isToken, isValidValue };


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
  if (typeof path !== 'string' || path.length === 0 || !isSpaceless(path)) {
    throw new TypeError(`Invalid path ${JSON.stringify(path)}`);
  }
  if (typeof authority !== 'string' || !isSpaceless(authority)) throw new TypeError(`Invalid authority ${JSON.stringify(authority)}`);
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
    if (isConnectionSpecific(name)) continue;
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

/**
 * Whether a path or authority may be sent: octets only, and none that is
 * NUL, CR, LF (RFC 9113 §8.2.1) or whitespace (tab, VT, FF, space, NBSP),
 * which would split or blur it. One pass; it runs for every request.
 */
function isSpaceless(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20) {
      if (c === 0 || c === 0x20 || (c >= 0x09 && c <= 0x0d)) return false;
    } else if (c === 0xa0 || c > 0xff) {
      return false;
    }
  }
  return true;
}

/** A checked response head. */
export interface ResponseHead {
  status: number;
  /** Regular fields, pseudo-headers removed. */
  headers: HTTPHeaderMap;
}

/** A malformed response (§8.1.1): a PROTOCOL_ERROR on its stream alone. */
export function malformedResponse(streamId: number, why: string): ProtocolError {
  return new ProtocolError('HW_ERR_MALFORMED_RESPONSE', `Malformed response on stream ${streamId}: ${why} (RFC 9113 §8.1.1)`, {
    errorCode: ErrorCode.PROTOCOL_ERROR,
    scope: 'stream',
    streamId,
  });
}

/**
 * Whether a lowercase name is a connection-specific field, which HTTP/2
 * forbids (§8.2.2). By length, then the name, rather than a Set: this runs
 * for every field, and a Set lookup hashes each freshly decoded name.
 */
function isConnectionSpecific(name: string): boolean {
  switch (name.length) {
    case 7:
      return name === 'upgrade';
    case 10:
      return name === 'connection' || name === 'keep-alive';
    case 16:
      return name === 'proxy-connection';
    case 17:
      return name === 'transfer-encoding';
    default:
      return false;
  }
}

/** Checks regular fields shared by every kind of block (§8.2). */
function checkRegular(name: string, value: string, streamId: number): void {
  if (name === 'te' && value !== 'trailers') throw malformedResponse(streamId, 'TE other than trailers');
  if (!GOOD_NAMES.has(name)) checkName(name, streamId);
  if (!GOOD_VALUES.has(value)) checkValue(name, value, streamId);
}

/**
 * Names and values that passed the checks, which depend on nothing else:
 * most fields of a response come from the HPACK tables, the same string
 * each time, whose hash a lookup computes once. Bounded, and emptied when
 * full; long values are not kept.
 */
const GOOD_NAMES = new Set<string>();
const GOOD_VALUES = new Set<string>();
const GOOD_MAX = 512;
const GOOD_VALUE_LENGTH = 256;

function checkName(name: string, streamId: number): void {
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
  if (isConnectionSpecific(name)) throw malformedResponse(streamId, `connection-specific field ${name}`);
  if (GOOD_NAMES.size >= GOOD_MAX) GOOD_NAMES.clear();
  GOOD_NAMES.add(name);
}

function checkValue(name: string, value: string, streamId: number): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) throw malformedResponse(streamId, `NUL, CR or LF in the value of ${name}`);
  }
  if (value.length > GOOD_VALUE_LENGTH) return;
  if (GOOD_VALUES.size >= GOOD_MAX) GOOD_VALUES.clear();
  GOOD_VALUES.add(value);
}

/**
 * The regular fields of a flat block `[n0, v0, n1, v1, …]` from index
 * `from`, checked: none may be a pseudo-header, as they all come first
 * (§8.3). The map takes the lists it builds, with no copies.
 */
function regularFields(flat: readonly string[], from: number, streamId: number): HTTPHeaderMap {
  const names: string[] = [];
  const values: string[] = [];
  for (let i = from; i < flat.length; i += 2) {
    const name = flat[i]!;
    const value = flat[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) throw malformedResponse(streamId, `pseudo-header ${name} after a regular field`);
    checkRegular(name, value, streamId);
    names.push(name);
    values.push(value);
  }
  return HTTPHeaderMap.fromLowercase(names, values);
}

/** Checks a response header block: exactly one :status, first, 3 digits (§8.3.2). */
export function checkResponseHead(flat: readonly string[], streamId: number): ResponseHead {
  let status = -1;
  let i = 0;
  for (; i < flat.length && flat[i]!.charCodeAt(0) === 0x3a; i += 2) {
    const name = flat[i]!;
    if (name !== ':status') throw malformedResponse(streamId, `pseudo-header ${name} in a response`);
    if (status !== -1) throw malformedResponse(streamId, 'duplicate :status');
    status = statusOf(flat[i + 1]!);
    if (status < 0) throw malformedResponse(streamId, `bad :status ${JSON.stringify(flat[i + 1])}`);
  }
  if (status === -1) throw malformedResponse(streamId, 'no :status');
  return { status, headers: regularFields(flat, i, streamId) };
}

/** A :status value's number: three digits, the first not 0 (§8.3.2); -2 otherwise. */
function statusOf(value: string): number {
  if (value.length !== 3) return -2;
  const a = value.charCodeAt(0) - 0x30;
  const b = value.charCodeAt(1) - 0x30;
  const c = value.charCodeAt(2) - 0x30;
  if (a < 1 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9) return -2;
  return a * 100 + b * 10 + c;
}

/** Checks a trailer block: no pseudo-headers (§8.1). */
export function checkTrailers(flat: readonly string[], streamId: number): HTTPHeaderMap {
  if (flat.length > 0 && flat[0]!.charCodeAt(0) === 0x3a) throw malformedResponse(streamId, `pseudo-header ${flat[0]} in trailers`);
  return regularFields(flat, 0, streamId);
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
export function checkPushedRequest(flat: readonly string[], streamId: number): PushedRequest {
  const pseudo = new Map<string, string>();
  let i = 0;
  for (; i < flat.length && flat[i]!.charCodeAt(0) === 0x3a; i += 2) {
    const name = flat[i]!;
    if (name !== ':method' && name !== ':scheme' && name !== ':authority' && name !== ':path') {
      throw malformedResponse(streamId, `pseudo-header ${name} in a pushed request`);
    }
    if (pseudo.has(name)) throw malformedResponse(streamId, `duplicate ${name}`);
    pseudo.set(name, flat[i + 1]!);
  }
  const out = regularFields(flat, i, streamId).raw();
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
