// Graceful node shutdown: once shutdown starts, new pods are refused (NodeShutdown) and
// the running ones are stopped in planShutdown's order, each group within its budget.
// logind-watcher.ts starts it on systemd-logind's PrepareForShutdown.
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

  /** A cancelled shutdown (logind's PrepareForShutdown(false)): pods are admitted again. */
  cancel(): void {
    this.#shuttingDown = false;
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
