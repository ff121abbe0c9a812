/*
 * Graceful node shutdown's trigger, as upstream's node shutdown manager on Linux: make sure
 * logind lets an inhibitor delay a shutdown for shutdownGracePeriod (else write the drop-in
 * and reload logind), take the delay lock, then follow PrepareForShutdown:
 *
 *   take lock ──► watching ──PrepareForShutdown(true)──► shutting down: refuse pods, stop them
 *       ▲            │                                        │ (the shutdown sequence)
 *       │            │ monitor ends: retry after a second     ▼
 *       └────────────┴──── PrepareForShutdown(false) ◄── lock released: logind proceeds
 *                          (cancelled: take the lock again)
 *
 * Where systemd is not running nothing can announce a shutdown: the kubelet says so once and
 * pods stop with the machine, as with upstream's kubelet there.
 */
import { access } from 'node:fs/promises';
import type { Logger } from 'pino';
import { backoffDelay, type BackoffPolicy } from '../../common/backoff.js';
import { TskubeError } from '../../common/errors.js';
import { sleep } from '../../common/sleep.js';
import type { NodeEvents } from '../kubelet-api.js';
import type { InhibitLock, LogindBus } from './logind-bus.js';
import { logindOverride, needsLongerDelay } from './logind-plan.js';

export interface LogindWatcherOptions {
  bus: LogindBus;
  gracePeriodMs: number;
  /** Runs the shutdown sequence (refuse new pods, stop the running ones); resolves when done. */
  shutdown: () => Promise<void>;
  /** A cancelled shutdown: pods are admitted again. */
  cancelled: () => void;
  events: NodeEvents;
  log: Logger;
  /** Whether systemd runs here at all (upstream checks nothing and fails to connect to the bus). */
  systemdRunning?: () => Promise<boolean>;
  /** Waits between reads of the raised InhibitDelayMaxUSec (upstream: 100 ms doubling, 5 tries). */
  reloadPollMs?: number;
}

/** Reconnecting after the watch ends: upstream waits a second; repeated failures back off to 30 s. */
const reconnect: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0 };

const systemdRuns = () =>
  access('/run/systemd/system').then(
    () => true,
    () => false,
  );

export class LogindShutdownWatcher {
  readonly #o: LogindWatcherOptions;
  #lock: InhibitLock | undefined;

  constructor(options: LogindWatcherOptions) {
    this.#o = options;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { log, gracePeriodMs } = this.#o;
    // Off, or nothing to watch: this part just lasts as long as the kubelet.
    if (gracePeriodMs <= 0) return sleep(Infinity, signal);
    if (!(await (this.#o.systemdRunning ?? systemdRuns)())) {
      log.warn(
        { shutdownGracePeriod: gracePeriodMs },
        'graceful node shutdown: systemd-logind is not running here, so no shutdown is announced; pods stop with the machine',
      );
      return sleep(Infinity, signal);
    }
    let failures = 0;
    let lastError = '';
    while (!signal.aborted) {
      try {
        await this.#watch(signal, () => {
          if (failures > 0) log.info('graceful node shutdown: watching systemd-logind again');
          failures = 0;
          lastError = '';
        });
      } catch (err) {
        const message = TskubeError.from(err).message;
        if (message !== lastError) log.error({ err: message }, 'graceful node shutdown: unable to watch the node for shutdown events');
        lastError = message;
        failures++;
      } finally {
        this.#release();
      }
      await sleep(backoffDelay(reconnect, Math.max(0, failures - 1), 0), signal);
    }
  }

  async #watch(signal: AbortSignal, watching: () => void): Promise<void> {
    const { bus, gracePeriodMs, log } = this.#o;
    const current = await bus.inhibitDelayUs();
    if (needsLongerDelay(current, gracePeriodMs)) await this.#raiseDelay(gracePeriodMs);
    this.#lock = await bus.inhibit();
    log.info({ shutdownGracePeriod: gracePeriodMs }, 'graceful node shutdown: holding a systemd-logind delay inhibitor lock');
    watching();
    // Signals are handled one after another: a cancellation waits for the shutdown it cancels to be handled.
    let handling = Promise.resolve();
    await bus.monitor((shuttingDown) => {
      handling = handling.then(() => this.#onSignal(shuttingDown)).catch((err: unknown) => log.error({ err: TskubeError.from(err).message }, 'node shutdown'));
    }, signal);
    await handling;
  }

  /** Upstream's OverrideInhibitDelay and ReloadLogindConf, then polls until logind has the new value. */
  async #raiseDelay(gracePeriodMs: number): Promise<void> {
    const { bus, log } = this.#o;
    await bus.raiseInhibitDelay(logindOverride(gracePeriodMs));
    let updated = 0;
    for (let attempt = 1; attempt <= 5; attempt++) {
      await sleep((this.#o.reloadPollMs ?? 100) * 2 ** (attempt - 1));
      updated = await bus.inhibitDelayUs();
      if (!needsLongerDelay(updated, gracePeriodMs)) {
        log.info({ inhibitDelayMaxSec: updated / 1e6 }, 'graceful node shutdown: raised systemd-logind InhibitDelayMaxSec');
        return;
      }
    }
    throw new TskubeError(
      'failed-precondition',
      `node shutdown manager was timed out after 5 attempts waiting for logind InhibitDelayMaxSec to update to ${gracePeriodMs / 1000}s (ShutdownGracePeriod), current value is ${updated / 1e6}s`,
    );
  }

  async #onSignal(shuttingDown: boolean): Promise<void> {
    const { events, log } = this.#o;
    if (shuttingDown) {
      events.normal('NodeShutdown', 'Shutdown manager detected shutdown event');
      log.info('graceful node shutdown: systemd-logind announced a shutdown');
      try {
        await this.#o.shutdown();
      } finally {
        // The pods are stopped (or out of time): logind may go on.
        this.#release();
        log.info('graceful node shutdown: pods stopped; released the inhibitor lock, the node will shut down shortly');
      }
    } else {
      events.normal('NodeShutdown', 'Shutdown manager detected shutdown cancellation');
      log.info('graceful node shutdown: the shutdown was cancelled');
      this.#o.cancelled();
      if (!this.#lock) this.#lock = await this.#o.bus.inhibit();
    }
  }

  #release(): void {
    this.#lock?.release();
    this.#lock = undefined;
  }
}
