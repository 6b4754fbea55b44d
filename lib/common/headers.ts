/**
 * HTTPHeaderMap: the header collection responses carry.
 *
 * Case-insensitive lookup, insertion order kept, duplicate names kept (each
 * occurrence is one entry), the names' original case retrievable, and
 * lossless for any octets a peer sends (values are latin1 strings, one code
 * unit per octet).
 */

/** Anything a caller may pass as headers. */
export type HeadersInit =
  | Iterable<readonly [string, string]>
  | Record<string, string | readonly string[] | number | undefined>
  | HTTPHeaderMap;

export class HTTPHeaderMap implements Iterable<[string, string]> {
  /** Names as received, in order, and lowercased once for lookups. */
  private rawNames: string[];
  private names: string[];
  private values: string[];
  /**
   * `rawNames` is `names`: every name came lowercase. A change makes it a
   * copy first.
   */
  private shared: boolean;

  /**
   * @internal A map over lists of names already lowercase (as HTTP/2
   * requires them) and their values, which it takes over: no copies.
   */
  static fromLowercase(names: string[], values: string[]): HTTPHeaderMap {
    adoptNames = names;
    adoptValues = values;
    return new HTTPHeaderMap();
  }

  constructor(init?: HeadersInit) {
    if (adoptNames !== null) {
      this.rawNames = adoptNames;
      this.names = adoptNames;
      this.values = adoptValues!;
      this.shared = true;
      adoptNames = adoptValues = null;
      return;
    }
    this.rawNames = [];
    this.names = [];
    this.values = [];
    this.shared = false;
    if (init === undefined) return;
    if (Array.isArray(init)) {
      // Every response builds one from its decoded list: no generator and no
      // tuple per field for the common case.
      const pairs = init as readonly unknown[];
      for (let i = 0; i < pairs.length; i++) {
        const pair = pairs[i];
        if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('Header entries must be [name, value] pairs');
        this.append(pair[0] as string, pair[1] as string);
      }
      return;
    }
    for (const [name, value] of entriesOf(init)) this.append(name, value);
  }

  /** Adds one field, keeping any existing ones of the same name. */
  append(name: string, value: string): void {
    if (this.shared) this.unshare();
    this.rawNames.push(name);
    this.names.push(name.toLowerCase());
    this.values.push(value);
  }

  /** Replaces every field of this name with one. */
  set(name: string, value: string): void {
    this.delete(name);
    this.append(name, value);
  }

  /** Every value of `name`, in order; empty if none. */
  get(name: string): string[] {
    const key = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < this.names.length; i++) {
      if (this.names[i] === key) out.push(this.values[i]!);
    }
    return out;
  }

  /** The first value of `name`, or undefined. */
  first(name: string): string | undefined {
    const key = name.toLowerCase();
    for (let i = 0; i < this.names.length; i++) {
      if (this.names[i] === key) return this.values[i];
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.first(name) !== undefined;
  }

  /** Removes every field of this name; returns whether there was one. */
  delete(name: string): boolean {
    if (this.shared) this.unshare();
    const key = name.toLowerCase();
    let found = false;
    for (let i = this.names.length - 1; i >= 0; i--) {
      if (this.names[i] === key) {
        this.rawNames.splice(i, 1);
        this.names.splice(i, 1);
        this.values.splice(i, 1);
        found = true;
      }
    }
    return found;
  }

  /** @internal Where the next field named `key` (lowercase) is, from `from` on; -1 if none. */
  indexOf(key: string, from: number): number {
    const names = this.names;
    for (let i = from; i < names.length; i++) if (names[i] === key) return i;
    return -1;
  }

  /** @internal The value of the field at `i`. */
  valueAt(i: number): string {
    return this.values[i]!;
  }

  private unshare(): void {
    this.rawNames = this.names.slice();
    this.shared = false;
  }

  /** Number of fields. */
  get size(): number {
    return this.rawNames.length;
  }

  /** Fields as [lowercased name, value], in order. */
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i]!, this.values[i]!];
  }

  /** Fields as [name as received, value], in order. */
  raw(): Array<[string, string]> {
    return this.rawNames.map((name, i) => [name, this.values[i]!]);
  }

  /** A plain object; repeated names are joined with ', ' (set-cookie with '\n' would be lossy, so use get()). */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of this) out[name] = name in out ? `${out[name]}, ${value}` : value;
    return out;
  }
}

/** What {@link HTTPHeaderMap.fromLowercase} hands the constructor it calls. */
let adoptNames: string[] | null = null;
let adoptValues: string[] | null = null;

/** Normalises any {@link HeadersInit} to [name, value] pairs. */
export function* entriesOf(init: HeadersInit): Generator<[string, string]> {
  if (init instanceof HTTPHeaderMap) {
    yield* init.raw();
    return;
  }
  if (isIterable(init)) {
    for (const pair of init) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('Header entries must be [name, value] pairs');
      yield [pair[0] as string, pair[1] as string];
    }
    return;
  }
  if (init === null || typeof init !== 'object') throw new TypeError('Headers must be an object, a map or an iterable of pairs');
  for (const name of Object.keys(init)) {
    const value = init[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const v of value as readonly string[]) yield [name, v];
    } else {
      yield [name, typeof value === 'number' ? String(value) : (value as string)];
    }
  }
}

function isIterable(x: unknown): x is Iterable<readonly [string, string]> {
  return x !== null && typeof x === 'object' && typeof (x as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}
