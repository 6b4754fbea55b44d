/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of (name, value)
 * entries bounded by the sum of their sizes. Kept as a ring of two parallel
 * arrays so adding and evicting never shift elements.
 */

/** Per-entry overhead counted in a table's size (RFC 7541 §4.1). */
export const ENTRY_OVERHEAD = 32;

/** Size of an entry: name and value octets (latin1: one per code unit) plus 32. */
export function entrySize(name: string, value: string): number {
  return name.length + value.length + ENTRY_OVERHEAD;
}

export class DynamicTable {
  /** Entry names in a ring; slot `(head + i) & mask` holds the i-th oldest. */
  private names: string[];
  private values: string[];
  private mask: number;
  /** Ring slot of the oldest entry. */
  private head = 0;
  /** Number of entries. */
  length = 0;
  /** Sum of entry sizes (RFC 7541 §4.1). */
  size = 0;

  constructor(
    /** The current maximum size (RFC 7541 §4.2). */
    public maxSize: number,
  ) {
    const capacity = 16;
    this.names = new Array<string>(capacity).fill('');
    this.values = new Array<string>(capacity).fill('');
    this.mask = capacity - 1;
  }

  /** Name of the entry at `i` (0 = newest). The caller has checked `i < length`. */
  nameAt(i: number): string {
    return this.names[(this.head + this.length - 1 - i) & this.mask]!;
  }

  /** Value of the entry at `i` (0 = newest). The caller has checked `i < length`. */
  valueAt(i: number): string {
    return this.values[(this.head + this.length - 1 - i) & this.mask]!;
  }

  /**
   * Adds an entry, evicting the oldest until it fits (RFC 7541 §4.4). An
   * entry larger than the maximum size empties the table and is not added.
   */
  add(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    while (this.length > 0 && this.size + size > this.maxSize) this.evictOldest();
    if (size > this.maxSize) return;
    if (this.length > this.mask) this.grow();
    const slot = (this.head + this.length) & this.mask;
    this.names[slot] = name;
    this.values[slot] = value;
    this.length++;
    this.size += size;
  }

  /** Changes the maximum size, evicting entries that no longer fit (RFC 7541 §4.3). */
  setMaxSize(maxSize: number): void {
    this.maxSize = maxSize;
    while (this.size > maxSize) this.evictOldest();
  }

  /** Removes the oldest entry. */
  private evictOldest(): void {
    const slot = this.head;
    const name = this.names[slot]!;
    const value = this.values[slot]!;
    this.size -= name.length + value.length + ENTRY_OVERHEAD;
    // Drop the references so evicted strings can be collected.
    this.names[slot] = '';
    this.values[slot] = '';
    this.head = (slot + 1) & this.mask;
    this.length--;
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const names = new Array<string>(capacity).fill('');
    const values = new Array<string>(capacity).fill('');
    for (let i = 0; i < this.length; i++) {
      const slot = (this.head + i) & this.mask;
      names[i] = this.names[slot]!;
      values[i] = this.values[slot]!;
    }
    this.names = names;
    this.values = values;
    this.head = 0;
    this.mask = capacity - 1;
  }
}
