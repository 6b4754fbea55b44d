/**
 * The encoder's side of the dynamic table (RFC 7541 §2.3.2, §4): the entries
 * in a ring, a per-name record that answers "is this pair, or this name, in
 * a table?" with one map lookup, and what a block needs to be undone when it
 * fails half-way.
 *
 * Entries have absolute ids (the n-th added has id n-1) and live in the ring
 * slot `id & mask`, so an id never needs renumbering: the HPACK index of an
 * entry is 62 + (inserted - 1 - id), and the entries present are the ids from
 * `inserted - length` up. The entries of one name are linked newest to oldest
 * through the ring (`links`), so adding or evicting an entry touches no
 * per-name list: a chain simply ends at the first id that has been evicted.
 */

import { ENTRY_OVERHEAD } from './dynamic-table.js';
import { STATIC_LOOKUP, STATIC_TABLE_LENGTH } from './static-table.js';

/** How the encoder treats a name's values: one of the POLICY_* constants. */
export type NamePolicy = 0 | 1 | 2 | 3;
/** Literals go into the dynamic table. */
export const POLICY_INDEX = 0;
/** Values rarely repeat: literals without indexing. */
export const POLICY_VOLATILE = 1;
/** Always never-indexed (RFC 7541 §7.1.3). */
export const POLICY_NEVER = 2;
/** `cookie`: never-indexed when the value is short enough to guess. */
export const POLICY_COOKIE = 3;

/**
 * Everything the encoder knows about one header name: its static index and
 * static full matches, its dynamic entries, and how to treat it.
 */
export class NameState {
  /**
   * Absolute id of the newest dynamic entry with this name. It is below the
   * table's oldest id when the name has no entry (-1 before the first).
   */
  newest = -1;
  /** Dynamic entries with this name. */
  count = 0;
  /**
   * value -> absolute id of the newest entry, kept from when the name has
   * more than {@link MAP_THRESHOLD} entries until it is down to
   * {@link MAP_DROP}, so a name with many values (a big table full of
   * `cookie` crumbs) does not make lookups linear. Below that a walk of the
   * name's chain beats keeping a map in step with every add and eviction.
   */
  map: Map<string, number> | null = null;
  /** The name that followed this one in the last block that had it. */
  next: NameState | null = null;
  /** Whether the table's name map holds this state (a dropped one is stale). */
  registered = true;

  constructor(
    readonly name: string,
    /** The name's lowest static index, or 0. */
    readonly staticIndex: number,
    /** Static full matches: their values and indexes (a name has at most 7). */
    readonly staticValues: readonly string[],
    readonly staticIndexes: readonly number[],
    readonly policy: NamePolicy,
  ) {}
}

/**
 * Above this many entries for one name, its values are also kept in a map.
 * Walking a chain of a few dozen entries costs less than keeping a map in
 * step (a set on every add, a lookup and a delete on every eviction), as
 * measured on the hpack-test-case stories: with a 4096-octet table a name
 * has at most about 30 entries, and a threshold of 16 cost 5% there, while
 * with 16 KiB and 64 KiB tables 64 cost 7% against 32.
 */
const MAP_THRESHOLD = 32;
/**
 * The map goes again only at or below this many entries: a name hovering
 * around the threshold would otherwise rebuild its map on every add.
 */
const MAP_DROP = MAP_THRESHOLD / 2;

/**
 * States of names with no entry are kept (a name seen once is usually seen
 * again) until the name map holds this many more than the names that have
 * entries; then they are dropped, so the map stays bounded by the table.
 */
const SPARE_NAMES = 64;

const NONE: readonly string[] = [];
const NO_INDEXES: readonly number[] = [];

/** Static names with their lowest index and their full matches as arrays. */
const STATIC_NAMES: ReadonlyMap<string, { nameIndex: number; values: string[]; indexes: number[] }> = new Map(
  [...STATIC_LOOKUP].map(([name, entry]) => [
    name,
    { nameIndex: entry.nameIndex, values: [...entry.values.keys()], indexes: [...entry.values.values()] },
  ]),
);

export class EncoderTable {
  /** The table's maximum size in octets (RFC 7541 §4.2). */
  maxSize: number;
  /** Current size in octets (RFC 7541 §4.1). */
  size = 0;
  /** Entries currently in the table. */
  length = 0;
  /** Entries ever added: the next entry's id. */
  inserted = 0;

  // The ring, indexed by `id & mask`; capacity a power of two. Slots of
  // evicted entries keep their contents until reused, which is what lets a
  // failed block be undone without a log of what it evicted.
  private states: NameState[];
  private values: string[];
  /**
   * Per slot, two numbers: how far back the previous entry with the same
   * name is (0: none, or evicted before this one came), and the length of
   * the value, so a walk along a chain reads the value strings, scattered
   * over the heap, only where the length matches.
   */
  private links: Int32Array;
  private mask: number;

  /** Every name seen that is static or has dynamic entries, and a few without. */
  private readonly names = new Map<string, NameState>();
  /** When the name map reaches this size, the states without entries go. */
  private sweepAt = SPARE_NAMES;
  /** Stands before the first field of a block: its `next` is the first name. */
  private readonly start = new NameState('', 0, NONE, NO_INDEXES, POLICY_INDEX);
  /** The state of the block's previous field. */
  private last = this.start;
  private readonly neverIndex: ReadonlySet<string>;
  private readonly volatile: ReadonlySet<string>;

  // The table as the block being encoded found it.
  private blockInserted = 0;
  private blockOldest = 0;
  private blockSize = 0;
  private blockMaxSize = 0;

  constructor(maxSize: number, neverIndex: ReadonlySet<string>, volatile: ReadonlySet<string>) {
    this.maxSize = maxSize;
    this.neverIndex = neverIndex;
    this.volatile = volatile;
    this.states = new Array<NameState>(16);
    this.values = new Array<string>(16);
    this.links = new Int32Array(32);
    this.mask = 15;
  }

  /**
   * The state of `name`, created on first sight; call it for the fields of a
   * block in order. Header lists tend to repeat their order, so the name
   * that followed the previous field's name last time is tried first: when
   * it matches (70% of fields on the hpack-test-case stories) a string
   * comparison replaces the hash lookup.
   */
  lookup(name: string): NameState {
    const last = this.last;
    const guess = last.next;
    if (guess !== null && guess.name === name && guess.registered) {
      this.last = guess;
      return guess;
    }
    let state = this.names.get(name);
    if (state === undefined) state = this.create(name);
    last.next = state;
    this.last = state;
    return state;
  }

  /** Index of the static entry with this exact pair, or 0. */
  staticPairIndex(state: NameState, value: string): number {
    const values = state.staticValues;
    const length = value.length;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v.length === length && v === value) return state.staticIndexes[i]!;
    }
    return 0;
  }

  /** HPACK index of the newest dynamic entry with this exact pair, or 0. */
  pairIndex(state: NameState, value: string): number {
    const map = state.map;
    if (map !== null) {
      const id = map.get(value);
      return id === undefined ? 0 : STATIC_TABLE_LENGTH + this.inserted - id;
    }
    const oldest = this.inserted - this.length;
    const links = this.links;
    const mask = this.mask;
    const length = value.length;
    let id = state.newest;
    while (id >= oldest) {
      const slot = id & mask;
      // Comparing lengths first keeps most mismatches out of the string
      // comparison builtin, and the strings out of the cache.
      if (links[2 * slot + 1] === length && this.values[slot] === value) return STATIC_TABLE_LENGTH + this.inserted - id;
      const back = links[2 * slot]!;
      if (back === 0) break;
      id -= back;
    }
    return 0;
  }

  /** The best index for the name alone: the static one, else the newest dynamic one, else 0. */
  nameIndex(state: NameState): number {
    if (state.staticIndex !== 0) return state.staticIndex;
    return state.count === 0 ? 0 : STATIC_TABLE_LENGTH + this.inserted - state.newest;
  }

  /**
   * Adds an entry, evicting from the old end as needed (RFC 7541 §4.4). An
   * entry larger than the whole table empties it and is not added; it takes
   * no id, since nothing can refer to it.
   */
  add(state: NameState, value: string): void {
    const size = state.name.length + value.length + ENTRY_OVERHEAD;
    while (this.length > 0 && this.size + size > this.maxSize) this.evictOldest();
    if (size > this.maxSize) return;
    const id = this.inserted;
    // Keep every slot the block may have to restore (see rollback).
    if (id - this.blockOldest > this.mask) this.grow();
    const slot = id & this.mask;
    this.states[slot] = state;
    this.values[slot] = value;
    // Back to the name's previous entry, if it is close enough to be in the
    // ring still (a rollback may bring an evicted one back). A walk stops
    // at an evicted one anyway: its id is below the oldest.
    const back = id - state.newest;
    this.links[2 * slot] = state.newest >= 0 && back <= this.mask ? back : 0;
    this.links[2 * slot + 1] = value.length;
    this.inserted = id + 1;
    this.length++;
    this.size += size;
    state.newest = id;
    state.count++;
    if (state.map !== null) state.map.set(value, id);
    else if (state.count > MAP_THRESHOLD) state.map = this.mapOf(state);
  }

  /** Sets the maximum size, evicting until the table fits (RFC 7541 §4.3). */
  setMaxSize(maxSize: number): void {
    this.maxSize = maxSize;
    while (this.length > 0 && this.size > maxSize) this.evictOldest();
  }

  /** Notes the table as it is, for {@link rollback}. */
  beginBlock(): void {
    this.last = this.start;
    this.blockInserted = this.inserted;
    this.blockOldest = this.inserted - this.length;
    this.blockSize = this.size;
    this.blockMaxSize = this.maxSize;
  }

  /**
   * Puts the table back as it was at {@link beginBlock}: drops the entries
   * added since, restores the maximum size and the entries evicted since.
   * Their slots are intact: {@link add} grows the ring rather than reuse a
   * slot of the block's oldest entry. Rare (a block failed), so it simply
   * recounts the names of every entry involved.
   */
  rollback(): void {
    const states = this.states;
    const mask = this.mask;
    const end = this.inserted;
    // Newest first, so each name's newest goes back to what it was.
    for (let id = end - 1; id >= this.blockInserted; id--) {
      const slot = id & mask;
      const back = this.links[2 * slot]!;
      states[slot]!.newest = back === 0 ? -1 : id - back;
    }
    for (let id = this.blockOldest; id < end; id++) {
      const state = states[id & mask]!;
      state.count = 0;
      state.map = null;
    }
    this.inserted = this.blockInserted;
    this.length = this.blockInserted - this.blockOldest;
    this.size = this.blockSize;
    this.maxSize = this.blockMaxSize;
    for (let id = this.blockOldest; id < this.inserted; id++) {
      const state = states[id & mask]!;
      state.count++;
      // A state dropped while its last entry was out must be found again.
      const current = this.names.get(state.name);
      if (current !== state) {
        // A state made for the name since then has no entries left.
        if (current !== undefined) current.registered = false;
        this.names.set(state.name, state);
        state.registered = true;
      }
    }
    for (let id = this.blockOldest; id < this.inserted; id++) {
      const state = states[id & mask]!;
      if (state.count > MAP_THRESHOLD && state.map === null) state.map = this.mapOf(state);
    }
  }

  /** A new state for `name`, registered. */
  private create(name: string): NameState {
    if (this.names.size >= this.sweepAt) this.sweep();
    const statics = STATIC_NAMES.get(name);
    const state =
      statics === undefined
        ? new NameState(name, 0, NONE, NO_INDEXES, this.policyOf(name))
        : new NameState(name, statics.nameIndex, statics.values, statics.indexes, this.policyOf(name));
    this.names.set(name, state);
    return state;
  }

  /** How to treat `name`'s values. */
  private policyOf(name: string): NamePolicy {
    if (this.neverIndex.has(name)) return POLICY_NEVER;
    if (name === 'cookie') return POLICY_COOKIE;
    if (this.volatile.has(name)) return POLICY_VOLATILE;
    return POLICY_INDEX;
  }

  /**
   * Drops the states of non-static names that have no entry. Every state
   * with entries stays registered: a name has at most one such state.
   */
  private sweep(): void {
    for (const [name, state] of this.names) {
      if (state.count === 0 && state.staticIndex === 0) {
        this.names.delete(name);
        state.registered = false;
        // Holds on to no other state: a chain of dropped ones could grow.
        state.next = null;
      }
    }
    this.sweepAt = this.names.size + SPARE_NAMES;
  }

  private evictOldest(): void {
    const id = this.inserted - this.length;
    const slot = id & this.mask;
    const state = this.states[slot]!;
    this.length--;
    this.size -= state.name.length + this.links[2 * slot + 1]! + ENTRY_OVERHEAD;
    // The globally oldest entry is its name's oldest: the chain ends here by
    // itself, and no older entry with the same value needs to be found.
    state.count--;
    const map = state.map;
    if (map !== null) {
      const value = this.values[slot]!;
      if (state.count <= MAP_DROP) state.map = null;
      else if (map.get(value) === id) map.delete(value);
    }
  }

  /** A name's value -> newest id map, built from its chain. */
  private mapOf(state: NameState): Map<string, number> {
    const map = new Map<string, number>();
    const oldest = this.inserted - this.length;
    for (let id = state.newest; id >= oldest; ) {
      const slot = id & this.mask;
      const value = this.values[slot]!;
      if (!map.has(value)) map.set(value, id);
      const back = this.links[2 * slot]!;
      if (back === 0) break;
      id -= back;
    }
    return map;
  }

  /** Doubles the ring, moving every slot the block may still need. */
  private grow(): void {
    const n = this.mask + 1;
    const states = new Array<NameState>(n * 2);
    const values = new Array<string>(n * 2);
    const links = new Int32Array(n * 4);
    const mask = n * 2 - 1;
    for (let id = this.blockOldest; id < this.inserted; id++) {
      const from = id & this.mask;
      const to = id & mask;
      states[to] = this.states[from]!;
      values[to] = this.values[from]!;
      links[2 * to] = this.links[2 * from]!;
      links[2 * to + 1] = this.links[2 * from + 1]!;
    }
    this.states = states;
    this.values = values;
    this.links = links;
    this.mask = mask;
  }
}
