/**
 * Subresource Integrity for fetch()'s `integrity` option (Fetch Standard
 * §4.1 Main fetch step 22; Subresource Integrity §3.3): the body must hash
 * to one of the given digests of the strongest algorithm named.
 */

import { createHash } from 'node:crypto';

/** Algorithms by strength (SRI §3.2). */
const STRENGTH: ReadonlyMap<string, number> = new Map([
  ['sha256', 0],
  ['sha384', 1],
  ['sha512', 2],
]);

interface Digest {
  alg: string;
  value: string;
}

/** SRI §3.3.3 "Parse metadata": the well-formed `alg-value` items; unknown algorithms are skipped. */
function parseMetadata(metadata: string): Digest[] {
  const out: Digest[] = [];
  for (const item of metadata.split(/[\t\n\f\r ]+/)) {
    // Options after '?' are ignored (§3.3.3 step 3.2).
    const expression = item.split('?', 1)[0]!;
    const alg = expression.slice(0, 6).toLowerCase();
    if (!STRENGTH.has(alg) || expression[6] !== '-') continue;
    out.push({ alg, value: expression.slice(7) });
  }
  return out;
}

/** Compares base64 digests ignoring padding, and accepting the base64url alphabet for `+` and `/`. */
function digestsMatch(actual: string, expected: string): boolean {
  const a = actual.replace(/={1,2}$/, '');
  const e = expected.replace(/={1,2}$/, '');
  if (a.length !== e.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (x !== y && !(x === '+' && y === '-') && !(x === '/' && y === '_')) return false;
  }
  return true;
}

/**
 * SRI §3.3.5 "Does response match metadataList?": true when the metadata
 * names no algorithm we know (nothing to check), or when `bytes` hash to
 * one of the digests of the strongest algorithm given.
 */
export function bytesMatch(bytes: Uint8Array, metadata: string): boolean {
  const parsed = parseMetadata(metadata);
  if (parsed.length === 0) return true;
  let strongest = -1;
  for (const d of parsed) strongest = Math.max(strongest, STRENGTH.get(d.alg)!);
  const hashes = new Map<string, string>();
  for (const d of parsed) {
    if (STRENGTH.get(d.alg) !== strongest) continue;
    let actual = hashes.get(d.alg);
    if (actual === undefined) {
      actual = createHash(d.alg).update(bytes).digest('base64');
      hashes.set(d.alg, actual);
    }
    if (digestsMatch(actual, d.value)) return true;
  }
  return false;
}
