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

/** Views `buf` as a {@link Latin1Buffer}; no copy. */
export function asLatin1Buffer(buf: Uint8Array): Latin1Buffer {
  return (Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)) as Latin1Buffer;
}
