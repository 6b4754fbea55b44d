/**
 * The alternative HPACK backend, over the `hpack.js` package.
 *
 * Kept for comparison and as a fallback. It is less strict than the built-in
 * backend: hpack.js does not check where size updates stand in a block, nor
 * Huffman padding, and always Huffman-codes strings. Its errors are mapped to
 * {@link HPACKDecodingError}; the header list limit is applied to its output.
 */

import hpack, { type HpackJsCompressor, type HpackJsDecompressor, type HpackJsHeader } from 'hpack.js';
import { HPACKDecodingError, HPACKEncodingError, HeaderListSizeError } from '../common/errors.js';
import { DEFAULT_HEADER_TABLE_SIZE, DEFAULT_MAX_HEADER_LIST_SIZE, type HeaderField } from './decoder.js';
import { ENTRY_OVERHEAD } from './dynamic-table.js';
import type { HeaderInput } from './encoder.js';
import type { HeaderCodec, HeaderCodecFactory, HeaderCodecOptions } from './header-codec.js';

const NEVER_INDEX_DEFAULT = ['authorization', 'proxy-authorization'];

/** HPACK through hpack.js's compressor and decompressor streams. */
export class HpackJsHeaderCodec implements HeaderCodec {
  readonly backend = 'hpack.js';
  private readonly compressor: HpackJsCompressor;
  private readonly decompressor: HpackJsDecompressor;
  private readonly maxHeaderListSize: number;
  private readonly neverIndex: ReadonlySet<string>;
  private readonly huffman: boolean;
  private decodeError: Error | null = null;

  constructor(options: HeaderCodecOptions = {}) {
    // hpack.js names the table option `maxSize` (not `size`, as its README says).
    this.compressor = hpack.compressor.create({
      table: { maxSize: options.encoder?.maxTableSize ?? DEFAULT_HEADER_TABLE_SIZE },
    });
    this.decompressor = hpack.decompressor.create({
      table: { maxSize: options.decoder?.maxTableSize ?? DEFAULT_HEADER_TABLE_SIZE },
    });
    this.decompressor.on('error', (err: Error) => {
      this.decodeError = err;
    });
    this.maxHeaderListSize = options.decoder?.maxHeaderListSize ?? DEFAULT_MAX_HEADER_LIST_SIZE;
    this.neverIndex = new Set(options.encoder?.neverIndex ?? NEVER_INDEX_DEFAULT);
    this.huffman = options.encoder?.huffman ?? true;
  }

  encode(headers: Iterable<HeaderInput>): Buffer {
    const list: HpackJsHeader[] = [];
    for (const field of headers) {
      const [name, value, sensitive] = field;
      if (typeof name !== 'string' || typeof value !== 'string') {
        throw new TypeError('Header names and values must be strings');
      }
      // hpack.js would split code units above 0xff into two octets.
      if (/[^\x00-\xff]/.test(name) || /[^\x00-\xff]/.test(value)) {
        throw new HPACKEncodingError('Header names and values must be byte strings (code units 0..255)', 'HW_ERR_HPACK_NOT_BYTES');
      }
      const neverIndex = sensitive === true || this.neverIndex.has(name) || (name === 'cookie' && value.length < 20);
      list.push({ name, value, huffman: this.huffman, neverIndex });
    }
    this.compressor.write(list);
    return this.compressor.read() ?? Buffer.alloc(0);
  }

  decode(block: Uint8Array): HeaderField[] {
    const d = this.decompressor;
    this.decodeError = null;
    d.write(Buffer.from(block.buffer, block.byteOffset, block.byteLength));
    try {
      d.execute();
    } catch (err) {
      this.decodeError = err as Error;
    }
    const headers: HeaderField[] = [];
    let size = 0;
    for (let h = d.read(); h !== null; h = d.read()) {
      size += h.name.length + h.value.length + ENTRY_OVERHEAD;
      if (size <= this.maxHeaderListSize) headers.push([h.name, h.value]);
    }
    if (this.decodeError !== null) {
      throw new HPACKDecodingError(`hpack.js: ${this.decodeError.message}`, 'HW_ERR_HPACK_DECODE', { cause: this.decodeError });
    }
    if (size > this.maxHeaderListSize) {
      throw new HeaderListSizeError(`Decoded header list exceeds maxHeaderListSize (${this.maxHeaderListSize} octets)`);
    }
    return headers;
  }

  decodeFlat(block: Uint8Array): string[] {
    const fields = this.decode(block);
    const flat = new Array<string>(fields.length * 2);
    for (let i = 0; i < fields.length; i++) {
      flat[2 * i] = fields[i]![0];
      flat[2 * i + 1] = fields[i]![1];
    }
    return flat;
  }

  setEncoderMaxTableSize(n: number): void {
    // hpack.js emits a size update only for sizes at or above its limit, and
    // otherwise resizes silently, which would desynchronise the peer: make the
    // new size the limit so the update is always emitted. It is queued on the
    // compressor's output and so leads the next block, as RFC 7541 §4.2 wants.
    this.compressor._table.protocolMaxSize = n;
    this.compressor.updateTableSize(n);
  }

  setDecoderMaxTableSize(n: number): void {
    // Only the limit: the table itself changes when the peer's encoder sends
    // a size update (RFC 7541 §4.2).
    this.decompressor._table.protocolMaxSize = n;
  }
}

/** Creates the hpack.js backend. */
export const hpackJsHeaderCodec: HeaderCodecFactory = (options) => new HpackJsHeaderCodec(options);
