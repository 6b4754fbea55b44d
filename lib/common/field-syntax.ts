/**
 * Field syntax shared by HTTP/1.1 and HTTP/2 (RFC 9110 §5): which names are
 * tokens, and which values may be sent.
 */

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

/**
 * The checks every request passes whatever the protocol: the method is a
 * token, the path has no whitespace or controls, names are tokens and
 * values hold no CR, LF or NUL.
 *
 * @throws TypeError on the first violation.
 */
export function checkRequestInput(method: unknown, path: unknown, headers: Iterable<readonly [unknown, unknown]> | Record<string, unknown> | undefined): void {
  if (typeof method !== 'string' || !isToken(method)) throw new TypeError(`Invalid method ${JSON.stringify(method)}`);
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('The path must be a non-empty string');
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c > 0xff) throw new TypeError(`Invalid path ${JSON.stringify(path)}`);
  }
  if (headers === undefined) return;
  const pairs: Iterable<readonly [unknown, unknown]> =
    Symbol.iterator in Object(headers) ? (headers as Iterable<readonly [unknown, unknown]>) : Object.entries(headers as Record<string, unknown>).flatMap(([n, v]) => (Array.isArray(v) ? v.map((x) => [n, x] as const) : v === undefined ? [] : [[n, typeof v === 'number' ? String(v) : v] as const]));
  for (const [name, value] of pairs) {
    if (typeof name !== 'string' || !isToken(name)) throw new TypeError(`Invalid header name ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || !isValidValue(value)) throw new TypeError(`Invalid value for header ${JSON.stringify(name)}: CR, LF, NUL, non-octet characters or surrounding whitespace`);
  }
}
