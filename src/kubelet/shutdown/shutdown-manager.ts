// Graceful node shutdown: once shutdown starts, new pods are refused (NodeShutdown) and
// the running ones are stopped in planShutdown's order, each group within its budget.
// The trigger is systemd-logind's PrepareForShutdown signal on a node that runs logind;
// without logind nothing announces a shutdown, so the kubelet says so once at start and
// pods are simply killed with the machine (see the README).
import { access } from 'node:fs/promises';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeletStop } from '../pods/terminal-status.js';
import { nodeShutdownStop, planShutdown } from './plan-shutdown.js';

export interface ShutdownManagerOptions {
  gracePeriodMs: number;
  criticalGracePeriodMs: number;
  activePods: () => V1Pod[];
  stop: (pod: V1Pod, stop: KubeletStop, gracePeriodSeconds: number) => void;
  /** Resolves once the pod's containers are stopped. */
  stopped: (pod: V1Pod) => Promise<void>;
  log: Logger;
}

export class ShutdownManager {
  readonly #o: ShutdownManagerOptions;
  #shuttingDown = false;

  constructor(options: ShutdownManagerOptions) {
    this.#o = options;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Where graceful shutdown is configured, says whether anything can announce a shutdown here. */
  async checkLogind(): Promise<boolean> {
    if (this.#o.gracePeriodMs <= 0) return false;
    const logind = await access('/run/systemd/seats').then(
      () => true,
      () => false,
    );
    const systemd = await access('/run/systemd/system').then(
      () => true,
      () => false,
    );
    if (!logind || !systemd) {
      this.#o.log.warn(
        { shutdownGracePeriod: this.#o.gracePeriodMs },
        'graceful node shutdown: systemd-logind is not running here, so no shutdown is announced; pods stop with the machine',
      );
      return false;
    }
    this.#o.log.warn('graceful node shutdown: taking systemd-logind inhibitor locks is not implemented yet; pods stop with the machine');
    return false;
  }

  /** The shutdown sequence: refuse new pods, then stop the regular pods, then the critical ones. */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    this.#o.log.info('node shutdown: stopping pods');
    for (const group of planShutdown(this.#o.activePods(), this.#o.gracePeriodMs, this.#o.criticalGracePeriodMs)) {
      for (const pod of group.pods) this.#o.stop(pod, nodeShutdownStop, group.gracePeriodSeconds);
      let timer: NodeJS.Timeout | undefined;
      const budget = new Promise<void>((resolve) => (timer = setTimeout(resolve, group.budgetMs)));
      await Promise.race([Promise.all(group.pods.map((p) => this.#o.stopped(p))), budget]);
      clearTimeout(timer);
    }
    this.#o.log.info('node shutdown: pods stopped');
  }
}
