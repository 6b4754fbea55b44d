/**
 * Field syntax shared by HTTP/1.1 and HTTP/2 (RFC 9110 §5): which names are
 * tokens, and which values may be sent.
 */

import { entriesOf, type HeadersInit } from './headers.js';

// RFC 9110 §5.6.2 token characters, as a lookup table.
export const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

/** Whether `name` is a valid field name (a token). */
export function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/**
 * Whether `value` may be sent: octets only (code units up to 0xff), no NUL,
 * CR or LF (RFC 9113 §8.2.1, RFC 9110 §5.5), no leading or trailing space or tab.
 */
export function isValidValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0xff) return false;
  }
  if (value.length > 0) {
    const first = value.charCodeAt(0);
    const last = value.charCodeAt(value.length - 1);
    if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  }
  return true;
}

/** @throws TypeError unless `method` is a token (RFC 9110 §9.1). */
export function checkMethod(method: unknown): void {
  if (typeof method !== 'string' || !isToken(method)) throw new TypeError(`Invalid method ${JSON.stringify(method)}`);
}

/**
 * A request target or path: a non-empty string of visible octets, with no
 * whitespace or controls (RFC 9112 §3.2: a SP would end the request line
 * early). `what` names it in the message.
 *
 * @throws TypeError on a violation.
 */
export function checkTarget(target: unknown, what = 'request target'): void {
  if (typeof target !== 'string' || target.length === 0) throw new TypeError(`The ${what} must be a non-empty string`);
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c > 0xff) throw new TypeError(`Invalid ${what} ${JSON.stringify(target)}`);
  }
}

/**
 * A field to send: name and value strings, the name a token, the value
 * octets with no CR, LF, NUL or surrounding whitespace.
 *
 * @throws TypeError on the first violation.
 */
export function checkField(name: unknown, value: unknown): void {
  if (typeof name !== 'string' || typeof value !== 'string') throw new TypeError('Header names and values must be strings');
  if (!isToken(name)) throw new TypeError(`Invalid header name ${JSON.stringify(name)}`);
  if (!isValidValue(value)) throw new TypeError(`Invalid value for header ${JSON.stringify(name)}: CR, LF, NUL, non-octet characters or surrounding whitespace`);
}

/**
 * The checks every request passes whatever the protocol: the method is a
 * token, the path has no whitespace or controls, names are tokens and
 * values hold no CR, LF or NUL.
 *
 * @throws TypeError on the first violation.
 */
export function checkRequestInput(method: unknown, path: unknown, headers: HeadersInit | undefined): void {
  checkMethod(method);
  checkTarget(path, 'path');
  if (headers === undefined) return;
  for (const [name, value] of entriesOf(headers)) checkField(name, value);
}

/** {@link parseContentLength}: no Content-Length. */
export const CONTENT_LENGTH_ABSENT = -1;
/** {@link parseContentLength}: a value that is not a decimal length. */
export const CONTENT_LENGTH_INVALID = -2;
/** {@link parseContentLength}: values that disagree. */
export const CONTENT_LENGTH_CONFLICTING = -3;

/**
 * Reads Content-Length (RFC 9110 §8.6): `values` is one field line's value
 * or every line's, in order. Each is digits, or a list of identical ones,
 * which a recipient may read as one; only SP and HTAB around them are
 * trimmed (not String#trim, which also strips VT, FF and NBSP: with it
 * "Content-Length: 5\v" would be read as valid where a strict peer rejects
 * it, or reads it otherwise).
 *
 * `previous` is a length already read from earlier lines (or -1): a value
 * that disagrees with it conflicts, found in the same order as the values.
 *
 * @returns the length; {@link CONTENT_LENGTH_ABSENT} (-1) when there is no
 *   value and no `previous`; {@link CONTENT_LENGTH_INVALID} (-2) or
 *   {@link CONTENT_LENGTH_CONFLICTING} (-3) for the first fault found. Any
 *   result below -1 is an error.
 */
export function parseContentLength(values: string | readonly string[], previous = CONTENT_LENGTH_ABSENT): number {
  let result = previous;
  if (typeof values === 'string') return lengthOf(values, result);
  for (const value of values) {
    result = lengthOf(value, result);
    if (result < CONTENT_LENGTH_ABSENT) break;
  }
  return result;
}

function lengthOf(value: string, previous: number): number {
  // The usual value, 1 to 15 digits alone, read without split() or a regex.
  const n = value.length;
  if (n > 0 && n <= 15) {
    let v = 0;
    let i = 0;
    for (; i < n; i++) {
      const c = value.charCodeAt(i) - 0x30;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
    }
    if (i === n) return previous !== CONTENT_LENGTH_ABSENT && v !== previous ? CONTENT_LENGTH_CONFLICTING : v;
  }
  let result = previous;
  for (const part of value.split(',')) {
    const v = trimOws(part);
    if (!/^\d{1,15}$/.test(v)) return CONTENT_LENGTH_INVALID;
    const n = Number(v);
    if (result !== CONTENT_LENGTH_ABSENT && n !== result) return CONTENT_LENGTH_CONFLICTING;
    result = n;
  }
  return result;
}

/** `s` without leading and trailing OWS, which is SP and HTAB only (RFC 9110 §5.6.3). */
export function trimOws(s: string): string {
  let start = 0;
  let stop = s.length;
  while (start < stop && (s.charCodeAt(start) === 0x20 || s.charCodeAt(start) === 0x09)) start++;
  while (stop > start && (s.charCodeAt(stop - 1) === 0x20 || s.charCodeAt(stop - 1) === 0x09)) stop--;
  return s.slice(start, stop);
}
