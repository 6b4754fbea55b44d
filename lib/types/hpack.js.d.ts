// Minimal typings for the parts of the hpack.js package the alternative
// HPACK backend uses (the package ships none).
declare module 'hpack.js' {
  import type { Duplex } from 'node:stream';

  export interface HpackJsHeader {
    name: string;
    value: string;
    huffman?: boolean;
    neverIndex?: boolean;
  }
  /** hpack.js's table; `protocolMaxSize` is the limit size updates are checked against. */
  export interface HpackJsTable {
    protocolMaxSize: number;
    maxSize: number;
  }
  export interface HpackJsCompressor extends Duplex {
    _table: HpackJsTable;
    write(headers: HpackJsHeader[]): boolean;
    read(): Buffer | null;
    updateTableSize(size: number): void;
  }
  export interface HpackJsDecompressor extends Duplex {
    _table: HpackJsTable;
    write(block: Buffer): boolean;
    execute(): void;
    read(): { name: string; value: string; neverIndex: boolean } | null;
    updateTableSize(size: number): void;
  }
  const hpack: {
    compressor: { create(options: { table: { maxSize: number } }): HpackJsCompressor };
    decompressor: { create(options: { table: { maxSize: number } }): HpackJsDecompressor };
  };
  export default hpack;
}
