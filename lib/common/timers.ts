/**
 * Timeouts that are long and almost never fire (a read timeout of minutes
 * on every request) share one coarse clock instead of a timer each: a
 * timer per request costs more than the request's own work on a busy
 * HTTP/2 connection (undici keeps its fast timers for the same reason).
 * Short timeouts, which a caller means to the millisecond, get a timer of
 * their own.
 */

/** Below this, a deadline gets its own timer. */
const COARSE_FROM = 1000;
/** How often the shared clock looks at its deadlines: coarse deadlines fire up to this late. */
const TICK = 250;

/** A pending deadline; pass it to {@link cancelDeadline}. */
export interface Deadline {
  /** When it is due (Date.now() ms); 0 once it has fired or been cancelled. */
  at: number;
  readonly fn: () => void;
  readonly timer: NodeJS.Timeout | undefined;
}

const pending = new Set<Deadline>();
let ticker: NodeJS.Timeout | undefined;

function tick(): void {
  const now = Date.now();
  for (const d of pending) {
    if (d.at > now) continue;
    pending.delete(d);
    d.at = 0;
    d.fn();
  }
  if (pending.size === 0 && ticker !== undefined) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

/** Calls `fn` once, `ms` from now (coarsely for long timeouts), unless cancelled first. */
export function startDeadline(ms: number, fn: () => void): Deadline {
  if (ms < COARSE_FROM) {
    const d: Deadline = { at: Date.now() + ms, fn, timer: setTimeout(() => {
      d.at = 0;
      fn();
    }, ms) };
    return d;
  }
  const d: Deadline = { at: Date.now() + ms, fn, timer: undefined };
  pending.add(d);
  if (ticker === undefined) {
    // The sockets the deadlines guard keep the process alive; this does not.
    ticker = setInterval(tick, TICK);
    ticker.unref();
  }
  return d;
}

/** Cancels a deadline that has not fired (a no-op if it has). */
export function cancelDeadline(d: Deadline): void {
  if (d.at === 0) return;
  d.at = 0;
  if (d.timer !== undefined) clearTimeout(d.timer);
  else pending.delete(d);
}
