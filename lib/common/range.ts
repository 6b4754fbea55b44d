/**
 * Checks of numeric options, shared so every layer words a bad value the
 * same way.
 */

/** `n`, if it is an integer in min..max; otherwise a RangeError naming `what`. */
export function integerIn(n: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`${what} must be an integer in ${min}..${max}, got ${n}`);
  return n;
}
