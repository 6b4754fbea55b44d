/**
 * Node's native latin1 conversions, which `Buffer#toString('latin1', ...)`
 * and `Buffer#write(..., 'latin1')` call after argument checks. Header
 * octets are held as latin1 strings (one code unit per octet), so these sit
 * on the per-header hot path; calling them directly skips the checks.
 * They exist on every Buffer in the Node versions we support, but are not in
 * the published typings.
 */
export interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(str: string, offset: number, length: number): number;
}

/** Views `buf` as a Buffer; no copy. */
export function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Views `buf` as a {@link Latin1Buffer}; no copy. */
export function asLatin1Buffer(buf: Uint8Array): Latin1Buffer {
  return asBuffer(buf) as Latin1Buffer;
}

const fcc = String.fromCharCode;

/**
 * Longest string {@link latin1String} builds in JavaScript; longer ones go
 * through the native slice. Measured on Node 20: a native `latin1Slice` call
 * costs about 130 ns whatever the length, one `String.fromCharCode` with up
 * to 16 arguments about 25-75 ns, two of them joined still less up to here.
 */
export const JS_STRING_MAX = 32;

/**
 * The latin1 string of `n` octets of `b` from `i`. Most header strings are
 * short, and for those building the string in JavaScript beats the call
 * into native code that `Buffer#toString` makes.
 */
export function latin1String(b: Latin1Buffer, i: number, n: number): string {
  switch (n) {
    case 0:
      return '';
    case 1:
      return fcc(b[i]!);
    case 2:
      return fcc(b[i]!, b[i + 1]!);
    case 3:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!);
    case 4:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
    case 5:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!);
    case 6:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!);
    case 7:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!);
    case 8:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!);
    case 9:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!);
    case 10:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!, b[i + 9]!);
    case 11:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!, b[i + 9]!, b[i + 10]!);
    case 12:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!, b[i + 9]!, b[i + 10]!, b[i + 11]!);
    case 13:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!, b[i + 9]!, b[i + 10]!, b[i + 11]!, b[i + 12]!);
    case 14:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!, b[i + 9]!, b[i + 10]!, b[i + 11]!, b[i + 12]!, b[i + 13]!);
    case 15:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!, b[i + 9]!, b[i + 10]!, b[i + 11]!, b[i + 12]!, b[i + 13]!, b[i + 14]!);
    case 16:
      return fcc(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!, b[i + 9]!, b[i + 10]!, b[i + 11]!, b[i + 12]!, b[i + 13]!, b[i + 14]!, b[i + 15]!);
  }
  if (n <= JS_STRING_MAX) return latin1String(b, i, 16) + latin1String(b, i + 16, n - 16);
  return b.latin1Slice(i, i + n);
}
