// Applies the container GC plan and the log sweep, once a period: removes dead container
// instances with their log files and links, emptied sandboxes, and the log directories
// and links of pods that are gone. A failure is logged once and retried next period.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { TskubeError } from '../../common/errors.js';
import type { CriRuntime } from '../runtime/cri-runtime.js';
import { containerLogPath, podLogDirectory } from '../cri-requests/index.js';
import type { PodRuntimeState } from '../pods/runtime-state.js';
import { containerLogLinkPath, unlinkQuietly } from '../runtime/container-log-link.js';
import { planContainerGc, type ContainerRemoval } from './plan-container-gc.js';
import { readLogLinks } from './log-links.js';
import { planLogSweep } from './plan-log-sweep.js';
import { sleep } from '../../common/sleep.js';

export interface ContainerGcOptions {
  cri: CriRuntime;
  /** The runtime's view of the kubelet's pods, fresh enough to act on. */
  runtimePods: () => Promise<ReadonlyMap<string, PodRuntimeState>>;
  /** UIDs the kubelet still wants or handles; undefined until every pod source has listed. */
  knownPodUids: () => ReadonlySet<string> | undefined;
  podLogsRoot: string;
  linksDir: string;
  periodMs: number;
  log: Logger;
}

export class ContainerGc {
  readonly #o: ContainerGcOptions;
  #failing = false;

  constructor(options: ContainerGcOptions) {
    this.#o = options;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.#o.periodMs, signal);
      if (signal.aborted) return;
      try {
        await this.collectOnce(signal);
        if (this.#failing) this.#o.log.info('container garbage collection recovered');
        this.#failing = false;
      } catch (err) {
        if (!this.#failing) this.#o.log.warn({ err: TskubeError.from(err).message }, 'container garbage collection failed; retrying each period');
        this.#failing = true;
      }
    }
  }

  async collectOnce(signal?: AbortSignal): Promise<void> {
    const pods = await this.#o.runtimePods();
    const plan = planContainerGc(pods.values());
    for (const c of plan.containers) await this.#removeContainer(c, signal);
    for (const s of plan.sandboxes) {
      await this.#o.cri.runtime.call('RemovePodSandbox', { podSandboxId: s.id }, signal ? { signal } : {});
      this.#o.log.debug({ uid: s.podUid, sandbox: s.id }, 'removed a dead sandbox');
    }
    const known = this.#o.knownPodUids();
    // Before every source has listed, a pod missing from the runtime may still be wanted.
    if (known) await this.#sweepLogs(new Set([...known, ...pods.keys()]));
  }

  async #removeContainer(c: ContainerRemoval, signal?: AbortSignal): Promise<void> {
    await this.#o.cri.runtime.call('RemoveContainer', { containerId: c.id }, signal ? { signal } : {});
    // The runtime leaves the log file; the kubelet made its folder and removes it.
    await rm(join(podLogDirectory(this.#o.podLogsRoot, c.podNamespace, c.podName, c.podUid), containerLogPath(c.containerName, c.attempt)), { force: true });
    await unlinkQuietly(containerLogLinkPath(this.#o.linksDir, c.podName, c.podNamespace, c.containerName, c.id));
    this.#o.log.debug({ pod: `${c.podNamespace}/${c.podName}`, container: c.containerName, id: c.id }, 'removed a dead container');
  }

  async #sweepLogs(livePodUids: ReadonlySet<string>): Promise<void> {
    const dirs = (await readdir(this.#o.podLogsRoot, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => ({ name: e.name }));
    const links = await readLogLinks(this.#o.linksDir);
    const plan = planLogSweep({ dirs, links, podLogsRoot: this.#o.podLogsRoot, livePodUids });
    for (const name of plan.links) await unlinkQuietly(join(this.#o.linksDir, name));
    for (const name of plan.dirs) {
      await rm(join(this.#o.podLogsRoot, name), { recursive: true, force: true });
      this.#o.log.info({ dir: join(this.#o.podLogsRoot, name) }, 'removed the log directory of a pod that is gone');
    }
  }
}
