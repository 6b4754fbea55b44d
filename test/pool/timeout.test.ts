import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HyperwireError } from '../../lib/common/errors.js';
import { Timeout, TimeoutStateError } from '../../lib/pool/timeout.js';

beforeEach(() => {
  // Fakes performance.now() (the monotonic clock Timeout reads) and Date.
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

/** A Timeout whose clock started `ms` ms ago (urllib3's _make_time_pass). */
function afterElapsed(timeout: Timeout, ms: number): Timeout {
  timeout.startConnect();
  vi.advanceTimersByTime(ms);
  return timeout;
}

describe('Timeout: construction and validation', () => {
  it('nothing set means no limits', () => {
    const t = new Timeout();
    expect([t.connect, t.read, t.total]).toEqual([undefined, undefined, undefined]);
    expect(t.connectTimeout).toBeUndefined();
    expect(t.readTimeout).toBeUndefined();
    expect(t.remaining).toBeUndefined();
  });

  it('null, undefined and Infinity all mean no limit', () => {
    const t = new Timeout({ connect: null, read: undefined, total: Infinity });
    expect([t.connect, t.read, t.total]).toEqual([undefined, undefined, undefined]);
  });

  it('keeps positive values, fractions included', () => {
    const t = new Timeout({ connect: 2000, read: 7000.5, total: 1 });
    expect([t.connect, t.read, t.total]).toEqual([2000, 7000.5, 1]);
  });

  it('refuses 0 and negative values with urllib3 message', () => {
    expect(() => new Timeout({ connect: 0 })).toThrow(RangeError);
    expect(() => new Timeout({ connect: 0 })).toThrow(
      'Attempted to set connect timeout to 0, but the timeout cannot be set to a value less than or equal to 0.',
    );
    expect(() => new Timeout({ read: -1 })).toThrow('Attempted to set read timeout to -1');
    expect(() => new Timeout({ total: -0.5 })).toThrow(RangeError);
  });

  it('refuses booleans and non-numbers with a TypeError', () => {
    expect(() => new Timeout({ connect: true as unknown as number })).toThrow(TypeError);
    expect(() => new Timeout({ read: false as unknown as number })).toThrow('Timeout cannot be a boolean value');
    expect(() => new Timeout({ total: '5' as unknown as number })).toThrow(TypeError);
    expect(() => new Timeout({ total: {} as unknown as number })).toThrow('Timeout value total was object');
  });

  it('refuses NaN and values past what a Node timer can wait', () => {
    expect(() => new Timeout({ read: Number.NaN })).toThrow(RangeError);
    expect(() => new Timeout({ read: 2 ** 31 })).toThrow(RangeError);
    expect(new Timeout({ read: 2 ** 31 - 1 }).read).toBe(2 ** 31 - 1);
  });

  it('fromNumber sets connect and read, not total', () => {
    const t = Timeout.fromNumber(5000);
    expect([t.connect, t.read, t.total]).toEqual([5000, 5000, undefined]);
    const none = Timeout.fromNumber(null);
    expect([none.connect, none.read, none.total]).toEqual([undefined, undefined, undefined]);
    expect(() => Timeout.fromNumber(0)).toThrow(RangeError);
  });

  it('toString as urllib3 str', () => {
    expect(new Timeout({ connect: 2000, read: 7000 }).toString()).toBe('Timeout(connect=2000, read=7000, total=undefined)');
    expect(new Timeout({ total: 5 }).toString()).toBe('Timeout(connect=undefined, read=undefined, total=5)');
  });
});

describe('Timeout.DEFAULT', () => {
  it('is connect 10 s and read 300 s, no total', () => {
    const d = Timeout.DEFAULT;
    expect([d.connect, d.read, d.total]).toEqual([10_000, 300_000, undefined]);
    expect(d.connectTimeout).toBe(10_000);
    expect(d.readTimeout).toBe(300_000);
  });

  it('is frozen and cannot be started; its clone can', () => {
    expect(Object.isFrozen(Timeout.DEFAULT)).toBe(true);
    expect(() => Timeout.DEFAULT.startConnect()).toThrow(TimeoutStateError);
    const mine = Timeout.DEFAULT.clone();
    expect(typeof mine.startConnect()).toBe('number');
    expect(() => Timeout.DEFAULT.getConnectDuration()).toThrow(TimeoutStateError);
  });
});

describe('Timeout clock', () => {
  it('startConnect twice and getConnectDuration before it throw TimeoutStateError', () => {
    const t = new Timeout({ total: 3000 });
    const before = (() => {
      try {
        t.getConnectDuration();
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(before).toBeInstanceOf(TimeoutStateError);
    expect(before).toBeInstanceOf(HyperwireError);
    expect((before as TimeoutStateError).code).toBe('HW_ERR_TIMEOUT_STATE');
    expect(t.startConnect()).toBe(performance.now());
    expect(() => t.startConnect()).toThrow('Timeout timer has already been started.');
  });

  it('getConnectDuration is the elapsed time (urllib3 test_timeout_elapsed, in ms)', () => {
    const t = new Timeout({ total: 3000 });
    t.startConnect();
    vi.advanceTimersByTime(2000);
    expect(t.getConnectDuration()).toBe(2000);
    vi.advanceTimersByTime(35_000);
    expect(t.getConnectDuration()).toBe(37_000);
  });

  it('reads a monotonic clock: setting the wall clock back does not change durations', () => {
    const t = new Timeout({ total: 10_000 });
    t.startConnect();
    vi.advanceTimersByTime(1000);
    vi.setSystemTime(Date.now() - 3_600_000);
    expect(t.getConnectDuration()).toBe(1000);
    expect(t.readTimeout).toBe(9000);
  });

  it('clone copies the limits with an unstarted clock', () => {
    const t = new Timeout({ connect: 1, read: 2, total: 3 });
    t.startConnect();
    const c = t.clone();
    expect(c).not.toBe(t);
    expect([c.connect, c.read, c.total]).toEqual([1, 2, 3]);
    expect(() => c.getConnectDuration()).toThrow(TimeoutStateError);
    expect(() => c.startConnect()).not.toThrow();
  });
});

describe('Timeout arithmetic (urllib3 test_timeout, in ms)', () => {
  it('total alone: connect and read get all of it when no time has passed', () => {
    const t = afterElapsed(new Timeout({ total: 3000 }), 0);
    expect(t.readTimeout).toBe(3000);
    expect(t.connectTimeout).toBe(3000);
  });

  it('connectTimeout is the shorter of connect and total', () => {
    expect(new Timeout({ total: 3000, connect: 2000 }).connectTimeout).toBe(2000);
    expect(new Timeout({ total: 3000, connect: 4000 }).connectTimeout).toBe(3000);
    expect(new Timeout({ connect: 4000 }).connectTimeout).toBe(4000);
    expect(new Timeout({ read: 4000 }).connectTimeout).toBeUndefined();
  });

  it('a connect of 5 s leaves 5 s of a 10 s total for a 7 s read', () => {
    expect(afterElapsed(new Timeout({ total: 10_000, read: 7000 }), 5000).readTimeout).toBe(5000);
  });

  it('a connect of 2 s leaves the read at 7 s', () => {
    expect(afterElapsed(new Timeout({ total: 10_000, read: 7000 }), 2000).readTimeout).toBe(7000);
  });

  it('before the clock starts, total and read give the shorter', () => {
    expect(new Timeout({ total: 10_000, read: 7000 }).readTimeout).toBe(7000);
    expect(new Timeout({ total: 1000, read: 7000 }).readTimeout).toBe(1000);
    expect(new Timeout({ total: 1000 }).readTimeout).toBe(1000);
  });

  it('read alone is not affected by elapsed time', () => {
    expect(afterElapsed(new Timeout({ read: 7000 }), 60_000).readTimeout).toBe(7000);
  });

  it('total alone: the read gets what is left', () => {
    const t = afterElapsed(new Timeout({ total: 10_000 }), 2500);
    expect(t.readTimeout).toBe(7500);
    expect(t.remaining).toBe(7500);
    vi.advanceTimersByTime(7000);
    expect(t.readTimeout).toBe(500);
  });

  it('total caps every later wait: the read timeout shrinks as the attempt goes on', () => {
    const t = afterElapsed(new Timeout({ connect: 1000, read: 4000, total: 6000 }), 800);
    expect(t.readTimeout).toBe(4000);
    vi.advanceTimersByTime(3000);
    expect(t.readTimeout).toBe(2200);
    vi.advanceTimersByTime(2200);
    expect(t.readTimeout).toBe(0);
  });

  it('once total is spent, every timeout is 0, never negative', () => {
    const t = afterElapsed(new Timeout({ connect: 1000, read: 5000, total: 2000 }), 2500);
    expect(t.readTimeout).toBe(0);
    expect(t.connectTimeout).toBe(0);
    expect(t.remaining).toBe(0);
  });

  it('connectTimeout counts what is left of total once started', () => {
    const t = afterElapsed(new Timeout({ connect: 5000, total: 6000 }), 3000);
    expect(t.connectTimeout).toBe(3000);
    const noConnect = afterElapsed(new Timeout({ total: 6000 }), 1000);
    expect(noConnect.connectTimeout).toBe(5000);
  });

  it('remaining is total before start and undefined without a total', () => {
    expect(new Timeout({ total: 4000 }).remaining).toBe(4000);
    expect(afterElapsed(new Timeout({ connect: 4000, read: 1 }), 10).remaining).toBeUndefined();
  });

  it('no limits at all stay unlimited', () => {
    const t = afterElapsed(new Timeout({ connect: null, read: null, total: null }), 1000);
    expect(t.connectTimeout).toBeUndefined();
    expect(t.readTimeout).toBeUndefined();
    expect(t.total).toBeUndefined();
  });
});

describe('Timeout.resolve', () => {
  it('undefined: a fresh copy of the fallback, Timeout.DEFAULT by default', () => {
    const t = Timeout.resolve(undefined);
    expect(t).not.toBe(Timeout.DEFAULT);
    expect([t.connect, t.read, t.total]).toEqual([10_000, 300_000, undefined]);
    expect(Object.isFrozen(t)).toBe(false);
    const fallback = new Timeout({ total: 9 });
    const f = Timeout.resolve(undefined, fallback);
    expect(f).not.toBe(fallback);
    expect(f.total).toBe(9);
  });

  it('null: no limits', () => {
    const t = Timeout.resolve(null);
    expect([t.connect, t.read, t.total]).toEqual([undefined, undefined, undefined]);
  });

  it('a number: connect and read', () => {
    const t = Timeout.resolve(2500);
    expect([t.connect, t.read, t.total]).toEqual([2500, 2500, undefined]);
    expect(() => Timeout.resolve(0)).toThrow(RangeError);
  });

  it('a Timeout: a copy with an unstarted clock, its limits as they are', () => {
    const given = new Timeout({ read: 50 });
    given.startConnect();
    const t = Timeout.resolve(given, new Timeout({ connect: 1, total: 2 }));
    expect(t).not.toBe(given);
    expect([t.connect, t.read, t.total]).toEqual([undefined, 50, undefined]);
    expect(() => t.getConnectDuration()).toThrow(TimeoutStateError);
  });

  it('an object: its fields over the fallback; null lifts a limit', () => {
    const t = Timeout.resolve({ total: 30_000 });
    expect([t.connect, t.read, t.total]).toEqual([10_000, 300_000, 30_000]);
    const u = Timeout.resolve({ read: null, connect: 500 }, new Timeout({ connect: 1, read: 2, total: 3 }));
    expect([u.connect, u.read, u.total]).toEqual([500, undefined, 3]);
    expect(() => Timeout.resolve({ connect: -5 })).toThrow(RangeError);
  });

  it('anything else is a TypeError', () => {
    expect(() => Timeout.resolve('10' as unknown as number)).toThrow(TypeError);
    expect(() => Timeout.resolve(true as unknown as number)).toThrow(TypeError);
  });
});
