// The graceful node shutdown trigger without systemd: the parsing of what busctl prints
// (the monitor lines are busctl 252's own output, captured from `busctl monitor --json=short`
// on a private bus; no logind was involved), the drop-in, and the watcher's reactions to a
// logind played by a fake bus. What a real logind does is not tested here: no systemd runs on
// the machines these tests run on.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { InhibitLock, LogindBus } from '../../src/kubelet/shutdown/logind-bus.js';
import { kubeletInhibitorPids, logindOverride, needsLongerDelay, parseInhibitDelayUs, parseShutdownSignal } from '../../src/kubelet/shutdown/logind-plan.js';
import { LogindShutdownWatcher } from '../../src/kubelet/shutdown/logind-watcher.js';
import { eventually } from '../testbed/eventually.js';

describe('logind plan', () => {
  it("reads PrepareForShutdown from busctl monitor's JSON lines", () => {
    const line = (value: boolean, member = 'PrepareForShutdown') =>
      `{"type":"signal","endian":"l","flags":1,"version":1,"cookie":2,"timestamp-realtime":1795991837108833,"sender":":1.1","path":"/org/freedesktop/login1","interface":"org.freedesktop.login1.Manager","member":"${member}","payload":{"type":"b","data":[${value}]}}`;
    expect(parseShutdownSignal(line(true))).toBe(true);
    expect(parseShutdownSignal(line(false))).toBe(false);
    expect(parseShutdownSignal(line(true, 'PrepareForSleep'))).toBeUndefined();
    expect(parseShutdownSignal('Monitoring bus message stream.')).toBeUndefined();
  });

  it("reads InhibitDelayMaxUSec and writes upstream's drop-in when it is shorter than the grace period", () => {
    expect(parseInhibitDelayUs('t 5000000\n')).toBe(5_000_000);
    expect(parseInhibitDelayUs('s "5s"')).toBeUndefined();
    expect(needsLongerDelay(5_000_000, 30_000)).toBe(true);
    expect(needsLongerDelay(30_000_000, 30_000)).toBe(false);
    expect(logindOverride(30_000)).toBe('# Kubelet logind override\n[Login]\nInhibitDelayMaxSec=30\n');
  });

  it('finds the kubelet delay locks in ListInhibitors', () => {
    const reply = JSON.stringify({
      type: 'a(ssssuu)',
      data: [
        [
          ['shutdown', 'kubelet', 'Kubelet needs time to handle node shutdown', 'delay', 0, 4242],
          ['sleep', 'kubelet', 'x', 'delay', 0, 17],
          ['shutdown:sleep', 'NetworkManager', 'x', 'delay', 0, 99],
        ],
      ],
    });
    expect(kubeletInhibitorPids(reply)).toEqual([4242]);
    expect(kubeletInhibitorPids('not json')).toEqual([]);
  });
});

/** logind as the watcher sees it: a delay, locks taken and released, signals it sends. */
class FakeLogind implements LogindBus {
  delayUs = 5_000_000;
  /** What InhibitDelayMaxUSec becomes once the drop-in is read (logind may clamp it). */
  delayAfterReload = Number.POSITIVE_INFINITY;
  overrides: string[] = [];
  locks = 0;
  taken = 0;
  #signal: ((b: boolean) => void) | undefined;
  #endMonitor: (() => void) | undefined;
  async inhibitDelayUs() {
    return this.delayUs;
  }
  async raiseInhibitDelay(override: string) {
    this.overrides.push(override);
    this.delayUs = Math.min(Number(/InhibitDelayMaxSec=(\d+)/.exec(override)?.[1] ?? 0) * 1e6, this.delayAfterReload);
  }
  async inhibit(): Promise<InhibitLock> {
    this.locks++;
    this.taken++;
    let held = true;
    return {
      release: () => {
        if (held) this.locks--;
        held = false;
      },
    };
  }
  monitor(onSignal: (b: boolean) => void, signal: AbortSignal): Promise<void> {
    this.#signal = onSignal;
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      this.#endMonitor = () => reject(new Error('busctl monitor exit 1: Connection reset'));
    });
  }
  get watching(): boolean {
    return this.#signal !== undefined;
  }
  send(shuttingDown: boolean): void {
    this.#signal?.(shuttingDown);
  }
  endMonitor(): void {
    this.#signal = undefined;
    this.#endMonitor?.();
  }
}

describe('LogindShutdownWatcher', () => {
  let bus: FakeLogind;
  let controller: AbortController;
  let shutdowns: number;
  let cancels: number;
  let release: (() => void) | undefined;
  const events: string[] = [];
  const logs: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push((JSON.parse(line) as { msg: string }).msg) });

  const start = (over: Partial<ConstructorParameters<typeof LogindShutdownWatcher>[0]> = {}) => {
    const watcher = new LogindShutdownWatcher({
      bus,
      gracePeriodMs: 30_000,
      shutdown: () =>
        new Promise<void>((resolve) => {
          shutdowns++;
          release = resolve;
        }),
      cancelled: () => cancels++,
      events: { normal: (reason, message) => events.push(`${reason}: ${message}`), warning: (reason, message) => events.push(`${reason}: ${message}`) },
      log,
      systemdRunning: async () => true,
      reloadPollMs: 1,
      ...over,
    });
    return watcher.run(controller.signal);
  };

  beforeEach(() => {
    bus = new FakeLogind();
    controller = new AbortController();
    shutdowns = 0;
    cancels = 0;
    events.length = 0;
    logs.length = 0;
  });
  afterEach(() => controller.abort());

  const until = (check: () => boolean) => eventually(check.toString(), () => (check() ? true : undefined), 5000, 5);

  it("raises logind's InhibitDelayMaxSec when it is shorter than the grace period, then holds a delay lock", async () => {
    void start();
    await until(() => bus.watching);
    expect(bus.overrides).toEqual(['# Kubelet logind override\n[Login]\nInhibitDelayMaxSec=30\n']);
    expect(bus.locks).toBe(1);
  });

  it('on PrepareForShutdown(true) runs the shutdown sequence, then lets the lock go; a cancellation takes it again', async () => {
    bus.delayUs = 60_000_000;
    void start();
    await until(() => bus.watching);
    expect(bus.overrides).toEqual([]);
    bus.send(true);
    await until(() => shutdowns === 1);
    // logind waits while pods stop: the lock is still held.
    expect(bus.locks).toBe(1);
    release?.();
    await until(() => bus.locks === 0);
    expect(events).toEqual(['NodeShutdown: Shutdown manager detected shutdown event']);
    bus.send(false);
    await until(() => cancels === 1 && bus.locks === 1);
    expect(events.at(-1)).toBe('NodeShutdown: Shutdown manager detected shutdown cancellation');
  });

  it('says once why it cannot watch when logind keeps the delay short, and tries again', async () => {
    bus.delayAfterReload = 5_000_000;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      void start();
      await vi.advanceTimersByTimeAsync(5000);
      expect(logs.filter((l) => l.includes('unable to watch the node for shutdown events'))).toHaveLength(1);
      expect(bus.overrides.length).toBeGreaterThan(1);
      expect(bus.locks).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('watches again (a new lock) after the monitor ends', async () => {
    bus.delayUs = 60_000_000;
    void start();
    await until(() => bus.watching);
    bus.endMonitor();
    await until(() => bus.watching && bus.taken === 2);
    expect(bus.locks).toBe(1);
  });

  it('without systemd says so once and waits for the kubelet to stop', async () => {
    const done = start({ systemdRunning: async () => false });
    await until(() => logs.length > 0);
    expect(logs).toEqual(['graceful node shutdown: systemd-logind is not running here, so no shutdown is announced; pods stop with the machine']);
    controller.abort();
    await done;
    expect(bus.taken).toBe(0);
  });
});
