/**
 * The interface the HTTP/2 session uses for header compression, so the
 * HPACK implementation can be swapped. The built-in backend is the default.
 */

import { Decoder, type DecoderOptions, type HeaderField } from './decoder.js';
import { Encoder, type EncoderOptions, type HeaderInput } from './encoder.js';

/** One connection's header compression state, both directions. */
export interface HeaderCodec {
  /** A short name for logs: `'builtin'`, `'hpack.js'`. */
  readonly backend: string;
  /** Encodes a header list for the peer. */
  encode(headers: Iterable<HeaderInput>): Buffer;
  /** Decodes a complete header block from the peer. */
  decode(block: Uint8Array): HeaderField[];
  /**
   * The same, as one flat list `[name0, value0, name1, value1, …]`: what
   * the HTTP/2 engine calls.
   */
  decodeFlat(block: Uint8Array): string[];
  /** The peer's SETTINGS_HEADER_TABLE_SIZE changed. */
  setEncoderMaxTableSize(n: number): void;
  /** The peer acknowledged our SETTINGS_HEADER_TABLE_SIZE. */
  setDecoderMaxTableSize(n: number): void;
}

/** Options shared by the backends. */
export interface HeaderCodecOptions {
  encoder?: EncoderOptions;
  decoder?: DecoderOptions;
}

/** A factory for a backend, as the session takes it. */
export type HeaderCodecFactory = (options?: HeaderCodecOptions) => HeaderCodec;

/** The built-in HPACK backend: {@link Encoder} and {@link Decoder}. */
export class BuiltinHeaderCodec implements HeaderCodec {
  readonly backend = 'builtin';
  readonly encoder: Encoder;
  readonly decoder: Decoder;

  constructor(options: HeaderCodecOptions = {}) {
    this.encoder = new Encoder(options.encoder);
    this.decoder = new Decoder(options.decoder);
  }

  encode(headers: Iterable<HeaderInput>): Buffer {
    return this.encoder.encode(headers);
  }

  decode(block: Uint8Array): HeaderField[] {
    return this.decoder.decode(block);
  }

  decodeFlat(block: Uint8Array): string[] {
    return this.decoder.decodeFlat(block);
  }

  setEncoderMaxTableSize(n: number): void {
    this.encoder.setMaxTableSize(n);
  }

  setDecoderMaxTableSize(n: number): void {
    this.decoder.setMaxTableSize(n);
  }
}

/** Creates the built-in backend. */
export const builtinHeaderCodec: HeaderCodecFactory = (options) => new BuiltinHeaderCodec(options);
