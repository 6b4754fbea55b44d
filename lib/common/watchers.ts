/**
 * Listeners told that something changed, without saying what: a pool
 * watching its connections looks again at what it needs.
 */

/** A set of change listeners. */
export class Watchers {
  private readonly listeners = new Set<() => void>();

  /** Adds `listener`; returns a function that removes it. */
  add(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls every listener. */
  notify(): void {
    for (const listener of this.listeners) listener();
  }
}
