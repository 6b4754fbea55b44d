/**
 * The HPACK static table (RFC 7541 Appendix A) and the reverse lookups the
 * encoder needs. Index 1 is the first entry; index 0 is never valid (§6.1).
 */

/** Entries 1..61, as [name, value]. `STATIC_TABLE[0]` is index 1. */
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/** Number of static entries; dynamic indices start right after (RFC 7541 §2.3.3). */
export const STATIC_TABLE_LENGTH = 61;

/** Static names, by index - 1, split out so the decoder reads them without a tuple hop. */
export const STATIC_NAMES: readonly string[] = STATIC_TABLE.map((e) => e[0]);
/** Static values, by index - 1. */
export const STATIC_VALUES: readonly string[] = STATIC_TABLE.map((e) => e[1]);
/** Static entry sizes (RFC 7541 §4.1), by index - 1. */
export const STATIC_SIZES: readonly number[] = STATIC_TABLE.map((e) => e[0].length + e[1].length + 32);

/** For the encoder: a static name's lowest index, and its full (name, value) matches. */
export interface StaticNameEntry {
  readonly nameIndex: number;
  readonly values: ReadonlyMap<string, number>;
}

/** name -> its lowest static index and the indices of its full matches. */
export const STATIC_LOOKUP: ReadonlyMap<string, StaticNameEntry> = (() => {
  const map = new Map<string, { nameIndex: number; values: Map<string, number> }>();
  STATIC_TABLE.forEach(([name, value], i) => {
    let entry = map.get(name);
    if (entry === undefined) {
      entry = { nameIndex: i + 1, values: new Map() };
      map.set(name, entry);
    }
    // Entries with an empty value stand for "name only" in practice, but an
    // empty value is still a valid full match (RFC 7541 Appendix A).
    if (!entry.values.has(value)) entry.values.set(value, i + 1);
  });
  return map;
})();
