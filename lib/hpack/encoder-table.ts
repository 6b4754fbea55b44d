/**
 * The encoder's side of the dynamic table (RFC 7541 §2.3.2, §4): the entries
 * in a ring, a per-name record that answers "is this pair, or this name, in
 * a table?" with one map lookup, and an undo log so a block that fails
 * half-way leaves no trace.
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
export interface NameState {
  readonly name: string;
  /** The name's lowest static index, or 0. */
  readonly staticIndex: number;
  /** Static full matches: their values and indexes (a name has at most 7). */
  readonly staticValues: readonly string[];
  readonly staticIndexes: readonly number[];
  /**
   * Values of the dynamic entries with this name, oldest first, and their
   * absolute ids. A name rarely has more than a few entries at once, and a
   * short scan beats keeping a map in step with every add and eviction.
   */
  readonly values: string[];
  readonly ids: number[];
  /**
   * value -> absolute id of the newest entry, kept from when the name has
   * more than {@link MAP_THRESHOLD} entries until it is down to
   * {@link MAP_DROP}, so a name with many values
   * (a big table full of `cookie` crumbs) does not make lookups linear.
   */
  map: Map<string, number> | null;
  readonly policy: NamePolicy;
}

/** Above this many entries for one name, its values are also kept in a map. */
const MAP_THRESHOLD = 16;
/**
 * The map goes again only at or below this many entries: a name hovering
 * around the threshold would otherwise rebuild its map on every add.
 */
const MAP_DROP = MAP_THRESHOLD / 2;

/** A name's value -> newest id map, built from its lists. */
function mapOf(state: NameState): Map<string, number> {
  const map = new Map<string, number>();
  for (let i = 0; i < state.values.length; i++) map.set(state.values[i]!, state.ids[i]!);
  return map;
}

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
  /**
   * Entries ever added. Entry ids are absolute (the n-th added has id n-1),
   * so they need no renumbering when entries are added or evicted; the HPACK
   * index of id is 62 + (inserted - 1 - id).
   */
  inserted = 0;

  // Ring of entries, oldest at `head`; capacity a power of two.
  private states: NameState[];
  private values: string[];
  private mask: number;
  private head = 0;

  /** Every name seen that is static or has dynamic entries. */
  private readonly names = new Map<string, NameState>();
  private readonly neverIndex: ReadonlySet<string>;
  private readonly volatile: ReadonlySet<string>;

  // Undo log of the block being encoded.
  private blockStart = 0;
  private blockMaxSize = 0;
  // Entries evicted by the block, in [0, evicted): counted, not truncated,
  // since truncating an array is a runtime call and this runs per block.
  private readonly evictedStates: NameState[] = [];
  private readonly evictedValues: string[] = [];
  private evicted = 0;

  constructor(maxSize: number, neverIndex: ReadonlySet<string>, volatile: ReadonlySet<string>) {
    this.maxSize = maxSize;
    this.neverIndex = neverIndex;
    this.volatile = volatile;
    this.states = new Array<NameState>(16);
    this.values = new Array<string>(16);
    this.mask = 15;
  }

  /**
   * The state of `name`, or undefined for a name that is in neither table
   * (then {@link policyOf} says how to treat it).
   */
  lookup(name: string): NameState | undefined {
    const state = this.names.get(name);
    if (state !== undefined) return state;
    const statics = STATIC_NAMES.get(name);
    if (statics === undefined) return undefined;
    return this.create(name, statics.nameIndex, statics.values, statics.indexes);
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

  /** How to treat `name`'s values. */
  policyOf(name: string): NamePolicy {
    if (this.neverIndex.has(name)) return POLICY_NEVER;
    if (name === 'cookie') return POLICY_COOKIE;
    if (this.volatile.has(name)) return POLICY_VOLATILE;
    return POLICY_INDEX;
  }

  /** HPACK index of the newest dynamic entry with this exact pair, or 0. */
  pairIndex(state: NameState, value: string): number {
    const map = state.map;
    if (map !== null) {
      const id = map.get(value);
      return id === undefined ? 0 : STATIC_TABLE_LENGTH + this.inserted - id;
    }
    const values = state.values;
    const length = value.length;
    for (let i = values.length - 1; i >= 0; i--) {
      // Comparing lengths first keeps most mismatches out of the string
      // comparison builtin.
      const v = values[i]!;
      if (v.length === length && v === value) return STATIC_TABLE_LENGTH + this.inserted - state.ids[i]!;
    }
    return 0;
  }

  /** The best index for the name alone: the static one, else the newest dynamic one, else 0. */
  nameIndex(state: NameState): number {
    if (state.staticIndex !== 0) return state.staticIndex;
    const ids = state.ids;
    return ids.length === 0 ? 0 : STATIC_TABLE_LENGTH + this.inserted - ids[ids.length - 1]!;
  }

  /**
   * Adds an entry, evicting from the old end as needed (RFC 7541 §4.4). An
   * entry larger than the whole table empties it and is not added.
   */
  add(state: NameState | undefined, name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    while (this.length > 0 && this.size + size > this.maxSize) this.evictOldest();
    this.inserted++;
    if (size > this.maxSize) return;
    if (state === undefined) state = this.create(name, 0, NONE, NO_INDEXES);
    // The evictions may have taken the name's last entry and so dropped its
    // state from the map (see release): register it again, or the entry
    // added to it below would never be found.
    else if (state.values.length === 0) this.attach(state);
    if (this.length === this.states.length) this.grow();
    const slot = (this.head + this.length) & this.mask;
    this.states[slot] = state;
    this.values[slot] = value;
    this.length++;
    this.size += size;
    const id = this.inserted - 1;
    state.values.push(value);
    state.ids.push(id);
    if (state.map !== null) state.map.set(value, id);
    else if (state.values.length > MAP_THRESHOLD) state.map = mapOf(state);
  }

  /** Sets the maximum size, evicting until the table fits (RFC 7541 §4.3). */
  setMaxSize(maxSize: number): void {
    this.maxSize = maxSize;
    while (this.length > 0 && this.size > maxSize) this.evictOldest();
  }

  /** Starts the undo log for a new block. */
  beginBlock(): void {
    this.blockStart = this.inserted;
    this.blockMaxSize = this.maxSize;
    if (this.evicted !== 0) this.clearEvicted();
  }

  /**
   * Puts the table back as it was at {@link beginBlock}: drops the entries
   * added since, restores the maximum size and the entries evicted since.
   */
  rollback(): void {
    while (this.inserted > this.blockStart) {
      // Present entries always have the dense ids inserted - length ..
      // inserted - 1 (an entry too big for the table was counted but left
      // the table empty), so the newest present one is the block's newest.
      if (this.length > 0) {
        const slot = (this.head + this.length - 1) & this.mask;
        const state = this.states[slot]!;
        const value = this.values[slot]!;
        this.states[slot] = undefined as unknown as NameState;
        this.values[slot] = undefined as unknown as string;
        this.length--;
        this.size -= state.name.length + value.length + ENTRY_OVERHEAD;
        this.inserted--;
        // The block's newest entry is last in its name's list; the entry
        // before it, if any, is the name's newest again.
        state.values.pop();
        state.ids.pop();
        // An older entry with the same value, if any, is matched again.
        if (state.map !== null) state.map = state.values.length > MAP_DROP ? mapOf(state) : null;
        this.release(state);
      } else {
        this.inserted--;
      }
    }
    this.maxSize = this.blockMaxSize;
    // Evicted oldest-first: put back newest-first at the old end.
    for (let j = this.evicted - 1; j >= 0; j--) {
      this.pushOldest(this.evictedStates[j]!, this.evictedValues[j]!);
    }
    this.clearEvicted();
  }

  private create(name: string, staticIndex: number, staticValues: readonly string[], staticIndexes: readonly number[]): NameState {
    const state: NameState = {
      name,
      staticIndex,
      staticValues,
      staticIndexes,
      values: [],
      ids: [],
      map: null,
      policy: this.policyOf(name),
    };
    this.names.set(name, state);
    return state;
  }

  private evictOldest(): void {
    const slot = this.head;
    const state = this.states[slot]!;
    const value = this.values[slot]!;
    const id = this.inserted - this.length;
    if (id < this.blockStart) {
      this.evictedStates[this.evicted] = state;
      this.evictedValues[this.evicted] = value;
      this.evicted++;
    }
    this.states[slot] = undefined as unknown as NameState;
    this.values[slot] = undefined as unknown as string;
    this.head = (slot + 1) & this.mask;
    this.length--;
    this.size -= state.name.length + value.length + ENTRY_OVERHEAD;
    // The globally oldest entry is its name's oldest, first in its list;
    // it shadows nothing, so nothing older takes its place.
    state.values.shift();
    state.ids.shift();
    const map = state.map;
    if (map !== null) {
      if (state.values.length <= MAP_DROP) state.map = null;
      else if (map.get(value) === id) map.delete(value);
    }
    this.release(state);
  }

  /**
   * Called after an entry of `state` left the table: drops a state that is
   * no longer needed, keeping the map bounded by the table plus the static
   * names.
   */
  private release(state: NameState): void {
    if (state.values.length === 0 && state.staticIndex === 0 && this.names.get(state.name) === state) {
      this.names.delete(state.name);
    }
  }

  /**
   * Registers a state again that {@link release} dropped (it had no entries
   * left). A static name's state is never dropped; setting it is harmless.
   */
  private attach(state: NameState): void {
    this.names.set(state.name, state);
  }

  /** Puts an evicted entry back at the old end, during a rollback. */
  private pushOldest(state: NameState, value: string): void {
    if (this.length === this.states.length) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.states[this.head] = state;
    this.values[this.head] = value;
    this.length++;
    this.size += state.name.length + value.length + ENTRY_OVERHEAD;
    const id = this.inserted - this.length;
    if (state.values.length === 0) this.attach(state);
    // It is the oldest entry: first in its name's list.
    state.values.unshift(value);
    state.ids.unshift(id);
    if (state.map !== null) {
      if (!state.map.has(value)) state.map.set(value, id);
    } else if (state.values.length > MAP_THRESHOLD) {
      state.map = mapOf(state);
    }
  }

  /** Forgets the undo log's evicted entries (and lets them be collected). */
  private clearEvicted(): void {
    for (let j = 0; j < this.evicted; j++) {
      this.evictedStates[j] = undefined as unknown as NameState;
      this.evictedValues[j] = undefined as unknown as string;
    }
    this.evicted = 0;
  }

  private grow(): void {
    const n = this.states.length;
    const states = new Array<NameState>(n * 2);
    const values = new Array<string>(n * 2);
    for (let i = 0; i < this.length; i++) {
      const slot = (this.head + i) & this.mask;
      states[i] = this.states[slot]!;
      values[i] = this.values[slot]!;
    }
    this.states = states;
    this.values = values;
    this.mask = n * 2 - 1;
    this.head = 0;
  }
}
