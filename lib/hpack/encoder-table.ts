/**
 * The encoder's side of the dynamic table: the table itself plus reverse
 * indexes from (name, value) and from name to the newest matching entry, and
 * an undo log so a block that fails half-way leaves no trace.
 */

import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { STATIC_TABLE_LENGTH } from './static-table.js';

export class EncoderTable extends DynamicTable {
  /** name -> value -> absolute id of the newest entry with that pair. */
  private readonly pairs = new Map<string, Map<string, number>>();
  /** name -> absolute id of the newest entry with that name. */
  private readonly nameIds = new Map<string, number>();

  // Undo log of the block being encoded.
  private blockStart = 0;
  private blockMaxSize = 0;
  private readonly evictedNames: string[] = [];
  private readonly evictedValues: string[] = [];

  /** HPACK index (62...) of the entry with this exact pair, or 0. */
  pairIndex(name: string, value: string): number {
    const values = this.pairs.get(name);
    if (values === undefined) return 0;
    const id = values.get(value);
    return id === undefined ? 0 : STATIC_TABLE_LENGTH + this.inserted - id;
  }

  /** HPACK index (62...) of the newest entry with this name, or 0. */
  nameIndex(name: string): number {
    const id = this.nameIds.get(name);
    return id === undefined ? 0 : STATIC_TABLE_LENGTH + this.inserted - id;
  }

  override add(name: string, value: string): void {
    super.add(name, value);
    if (name.length + value.length + ENTRY_OVERHEAD > this.maxSize) return;
    const id = this.inserted - 1;
    let values = this.pairs.get(name);
    if (values === undefined) {
      values = new Map();
      this.pairs.set(name, values);
    }
    values.set(value, id);
    this.nameIds.set(name, id);
  }

  protected override evictOldest(): void {
    const id = this.inserted - this.length;
    const name = this.names[this.head]!;
    const value = this.values[this.head]!;
    if (id < this.blockStart) {
      this.evictedNames.push(name);
      this.evictedValues.push(value);
    }
    this.unindex(name, value, id);
    super.evictOldest();
  }

  /** Starts the undo log for a new block. */
  beginBlock(): void {
    this.blockStart = this.inserted;
    this.blockMaxSize = this.maxSize;
    this.evictedNames.length = 0;
    this.evictedValues.length = 0;
  }

  /**
   * Puts the table back as it was at {@link beginBlock}: drops the entries
   * added since, restores the maximum size and the entries evicted since.
   */
  rollback(): void {
    // Present entries have the dense ids inserted - length .. inserted - 1,
    // so the newest one, if any, is always inserted - 1.
    const dropped: string[] = [];
    while (this.inserted > this.blockStart) {
      if (this.length > 0) {
        const id = this.inserted - 1;
        const name = this.nameAt(0);
        this.unindex(name, this.valueAt(0), id);
        dropped.push(name);
        this.popNewest();
      }
      this.inserted--;
    }
    // An entry added in the block may have shadowed an older one with the
    // same name (or pair) that is still in the table: point the indexes back
    // at the newest survivor. Rollbacks are rare, so a scan is fine.
    for (const name of dropped) this.reindex(name);
    this.maxSize = this.blockMaxSize;
    // Evicted oldest-first; put back newest-first at the old end.
    for (let j = this.evictedNames.length - 1; j >= 0; j--) {
      this.prependOldest(this.evictedNames[j]!, this.evictedValues[j]!);
    }
    this.evictedNames.length = 0;
    this.evictedValues.length = 0;
  }

  private unindex(name: string, value: string, id: number): void {
    const values = this.pairs.get(name);
    if (values !== undefined && values.get(value) === id) {
      values.delete(value);
      if (values.size === 0) this.pairs.delete(name);
    }
    if (this.nameIds.get(name) === id) this.nameIds.delete(name);
  }

  /** Re-points the indexes for `name` at the newest present entries. */
  private reindex(name: string): void {
    for (let i = 0; i < this.length; i++) {
      if (this.nameAt(i) !== name) continue;
      const id = this.inserted - 1 - i;
      if (!this.nameIds.has(name)) this.nameIds.set(name, id);
      let values = this.pairs.get(name);
      if (values === undefined) {
        values = new Map();
        this.pairs.set(name, values);
      }
      const value = this.valueAt(i);
      if (!values.has(value)) values.set(value, id);
    }
  }

  private prependOldest(name: string, value: string): void {
    this.pushOldest(name, value);
    const id = this.inserted - this.length;
    let values = this.pairs.get(name);
    if (values === undefined) {
      values = new Map();
      this.pairs.set(name, values);
    }
    if (!values.has(value)) values.set(value, id);
    if (!this.nameIds.has(name)) this.nameIds.set(name, id);
  }
}
