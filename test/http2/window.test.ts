/**
 * Receive-window policy (RFC 9113 §6.9): the books a window manager keeps and
 * the default manager's rule for giving window back.
 */

import { describe, expect, it } from 'vitest';
import { BaseFlowControlManager, FlowControlManager } from '../../lib/http2/window.js';
import { MAX_WINDOW_SIZE as MAX_WINDOW } from '../../lib/frame/constants.js';

/** A manager that returns a scripted increment, to test the base class's clamping. */
class Scripted extends BaseFlowControlManager {
  next = 0;
  onBlocked = 0;
  blockedCalls = 0;
  increaseWindowSize(): number {
    return this.next;
  }
  blocked(): number {
    this.blockedCalls++;
    return this.onBlocked;
  }
}

describe('BaseFlowControlManager', () => {
  it('starts with the window at the initial size and keeps the document size', () => {
    const m = new Scripted(1000, 123);
    expect(m.initialWindowSize).toBe(1000);
    expect(m.windowSize).toBe(1000);
    expect(m.documentSize).toBe(123);
    expect(new Scripted(5).documentSize).toBeUndefined();
  });

  it('takes received frames off the window', () => {
    const m = new Scripted(1000);
    m.received(300);
    m.received(700);
    expect(m.windowSize).toBe(0);
  });

  it('adds a returned increment to the window and reports it', () => {
    const m = new Scripted(1000);
    m.received(500);
    m.next = 200;
    expect(m.consumed(500)).toBe(200);
    expect(m.windowSize).toBe(700);
  });

  it('never lets the window pass 2^31-1 (§6.9.1)', () => {
    const m = new Scripted(MAX_WINDOW - 10);
    m.next = 100;
    expect(m.consumed(1)).toBe(10);
    expect(m.windowSize).toBe(MAX_WINDOW);
    expect(m.consumed(1)).toBe(0);
    expect(m.windowSize).toBe(MAX_WINDOW);
  });

  it('floors fractional increments and ignores ones that are zero, negative or NaN', () => {
    const m = new Scripted(1000);
    m.received(1000);
    m.onBlocked = 0;
    for (const bad of [0, -5, Number.NaN, 0.5]) {
      m.next = bad;
      expect(m.consumed(10), String(bad)).toBe(0);
    }
    expect(m.windowSize).toBe(0);
    m.next = 10.9;
    expect(m.consumed(10)).toBe(10);
    expect(m.windowSize).toBe(10);
  });

  it('asks blocked() only when nothing is given back and the window is exhausted', () => {
    const m = new Scripted(100);
    m.next = 0;
    m.onBlocked = 40;
    expect(m.consumed(10)).toBe(0);
    expect(m.blockedCalls).toBe(0);
    m.received(100);
    expect(m.consumed(10)).toBe(40);
    expect(m.blockedCalls).toBe(1);
    expect(m.windowSize).toBe(40);
    // With an increment on offer, blocked() is not consulted.
    m.received(40);
    m.next = 5;
    expect(m.consumed(5)).toBe(5);
    expect(m.blockedCalls).toBe(1);
  });
});

describe('FlowControlManager', () => {
  it('waits until a quarter of the initial window has been consumed, then gives all of it back', () => {
    const m = new FlowControlManager(1000);
    m.received(600);
    expect(m.consumed(100)).toBe(0);
    expect(m.consumed(149)).toBe(0);
    expect(m.windowSize).toBe(400);
    // 250 * 4 = 1000: the quarter is reached.
    expect(m.consumed(1)).toBe(250);
    expect(m.windowSize).toBe(650);
    expect(m.consumed(249)).toBe(0);
    expect(m.consumed(1)).toBe(250);
    expect(m.windowSize).toBe(900);
  });

  it('gives back what is pending when the peer is blocked, below the quarter', () => {
    const m = new FlowControlManager(65_535);
    m.received(65_535);
    expect(m.consumed(1000)).toBe(1000);
    expect(m.windowSize).toBe(1000);
    // Not blocked any more: the quarter rule applies again.
    expect(m.consumed(1000)).toBe(0);
    m.received(1000);
    // Blocked again: the 1000 pending plus this 1 go back.
    expect(m.consumed(1)).toBe(1001);
    expect(m.windowSize).toBe(1001);
  });

  it('bounds the window by the initial size and returns all of it in the end, whatever the order', () => {
    const initial = 10_000;
    const m = new FlowControlManager(initial);
    let unconsumed = 0;
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 5000; step++) {
      if (rand(2) === 0 && m.windowSize > 0) {
        const n = 1 + rand(m.windowSize);
        m.received(n);
        unconsumed += n;
      } else if (unconsumed > 0) {
        const n = 1 + rand(unconsumed);
        unconsumed -= n;
        m.consumed(n);
      }
      // Never more window than was granted, so buffering stays bounded.
      expect(m.windowSize + unconsumed).toBeLessThanOrEqual(initial);
      expect(m.windowSize).toBeGreaterThanOrEqual(0);
    }
    // The peer fills the window and the reader catches up: with the peer
    // blocked, everything consumed goes back and the window is whole again.
    unconsumed += m.windowSize;
    m.received(m.windowSize);
    m.consumed(unconsumed);
    expect(m.windowSize).toBe(initial);
  });
});
