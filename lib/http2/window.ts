/**
 * Receive-side flow control policy (RFC 9113 §5.2, §6.9).
 *
 * The session keeps the books: it checks every DATA frame against the
 * window and sends the WINDOW_UPDATE frames. A window manager only decides
 * how much window to give back, and when. It is told each time the
 * application has consumed data, so a stream nobody reads keeps its window
 * shut and the sender waits: buffering is bounded by the windows.
 */

import { MAX_WINDOW_SIZE } from '../frame/constants.js';

/**
 * The base of window managers, after hyper's: one instance per connection
 * and one per stream. Subclasses implement {@link increaseWindowSize} and
 * {@link blocked}.
 */
export abstract class BaseFlowControlManager {
  /** The window size the peer started with (our SETTINGS_INITIAL_WINDOW_SIZE, or the connection's). */
  initialWindowSize: number;
  /** The window as the peer sees it: octets it may still send. */
  windowSize: number;
  /** The expected body size, when known (from content-length), else undefined. */
  documentSize: number | undefined;

  constructor(initialWindowSize: number, documentSize?: number) {
    this.initialWindowSize = initialWindowSize;
    this.windowSize = initialWindowSize;
    this.documentSize = documentSize;
  }

  /**
   * Called when the application has consumed `frameSize` octets (a DATA
   * payload with its padding). Returns how much to give back now with
   * WINDOW_UPDATE, or 0 to wait.
   */
  abstract increaseWindowSize(frameSize: number): number;

  /**
   * Called when the window has reached zero with nothing pending: the peer
   * is blocked. Returns an increment to send, or 0.
   */
  abstract blocked(): number;

  /** @internal The session books a received frame. */
  received(frameSize: number): void {
    this.windowSize -= frameSize;
  }

  /**
   * @internal The session reports consumed data; returns the increment to
   * send, clamped so the window never passes 2^31-1 (§6.9.1).
   */
  consumed(frameSize: number): number {
    let increment = this.increaseWindowSize(frameSize);
    if (increment <= 0 && this.windowSize <= 0) increment = this.blocked();
    if (!(increment > 0)) return 0;
    increment = Math.min(Math.floor(increment), MAX_WINDOW_SIZE - this.windowSize);
    if (increment <= 0) return 0;
    this.windowSize += increment;
    return increment;
  }
}

/**
 * The default: gives back what was consumed once it reaches a quarter of
 * the initial window, so WINDOW_UPDATE frames stay few while a sender on a
 * large window never runs dry; and at once when the peer is blocked.
 */
export class FlowControlManager extends BaseFlowControlManager {
  /** Consumed octets not yet given back. */
  private pending = 0;

  increaseWindowSize(frameSize: number): number {
    this.pending += frameSize;
    if (this.pending * 4 < this.initialWindowSize) return 0;
    return this.take();
  }

  blocked(): number {
    return this.take();
  }

  private take(): number {
    const increment = this.pending;
    this.pending = 0;
    return increment;
  }
}

/** A window manager class, as the `windowManager` option takes it. */
export type WindowManagerClass = new (initialWindowSize: number, documentSize?: number) => BaseFlowControlManager;
