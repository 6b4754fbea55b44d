/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of (name, value)
 * entries bounded by the sum of their sizes. Kept as a ring of parallel
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
  names: string[];
  values: string[];
  /**
   * Entry sizes, kept apart from the strings: the decoder adds an entry
   * before it has made its strings (see {@link DynamicTable.add}).
   */
  sizes: number[];
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
    this.sizes = new Array<number>(capacity).fill(0);
    this.mask = capacity - 1;
  }

  /**
   * The ring slot of the entry at `i` (0 = newest), for reading
   * {@link DynamicTable.names}, `values` and `sizes` there directly: the
   * decoder's path for an indexed field, one slot computed for all three.
   * The caller has checked `i < length`.
   */
  slotOf(i: number): number {
    return (this.head + this.length - 1 - i) & this.mask;
  }

  /** Name of the entry at `i` (0 = newest). The caller has checked `i < length`. */
  nameAt(i: number): string {
    return this.names[this.slotOf(i)]!;
  }

  /**
   * Adds an entry of `size` (RFC 7541 §4.1), evicting the oldest until it
   * fits (§4.4); returns whether it was added: an entry larger than the
   * maximum size empties the table and is not (§4.4).
   *
   * `size` is given, not measured from the strings, so the decoder can add an
   * entry whose strings it makes later, at the end of the block, with
   * {@link DynamicTable.complete}.
   */
  add(name: string, value: string, size: number): boolean {
    while (this.length > 0 && this.size + size > this.maxSize) this.evictOldest();
    if (size > this.maxSize) return false;
    if (this.length > this.mask) this.grow();
    const slot = (this.head + this.length) & this.mask;
    this.names[slot] = name;
    this.values[slot] = value;
    this.sizes[slot] = size;
    this.length++;
    this.size += size;
    return true;
  }

  /**
   * Sets the strings of the entry at `i` (0 = newest), keeping its size; the
   * name only if one is given. The caller has checked `i < length`.
   */
  complete(i: number, name: string | undefined, value: string): void {
    const slot = this.slotOf(i);
    if (name !== undefined) this.names[slot] = name;
    this.values[slot] = value;
  }

  /** Changes the maximum size, evicting entries that no longer fit (RFC 7541 §4.3). */
  setMaxSize(maxSize: number): void {
    this.maxSize = maxSize;
    while (this.size > maxSize) this.evictOldest();
  }

  /** Removes the oldest entry. */
  private evictOldest(): void {
    const slot = this.head;
    this.size -= this.sizes[slot]!;
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
    const sizes = new Array<number>(capacity).fill(0);
    for (let i = 0; i < this.length; i++) {
      const slot = (this.head + i) & this.mask;
      names[i] = this.names[slot]!;
      values[i] = this.values[slot]!;
      sizes[i] = this.sizes[slot]!;
    }
    this.names = names;
    this.values = values;
    this.sizes = sizes;
    this.head = 0;
    this.mask = capacity - 1;
  }
}
