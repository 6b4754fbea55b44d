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
