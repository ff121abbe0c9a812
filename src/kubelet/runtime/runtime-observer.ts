import type { ContainerStatus__Output } from '../../gen/cri/runtime/v1/ContainerStatus.js';
import type { PodSandboxStatus__Output } from '../../gen/cri/runtime/v1/PodSandboxStatus.js';
import type { CriRuntime } from './cri-runtime.js';
import type { PodRuntimeState } from '../pods/runtime-state.js';
import { containerNameLabel, containerTerminationMessagePolicyAnnotation, podUidLabel } from '../pods/labels.js';
import { groupRuntimeState } from './group-runtime-state.js';
import { readTerminationMessage, terminationMessageFile } from './termination-message.js';

/**
 * Reads the runtime's view of every kubelet-made pod. One relist costs two list calls,
 * plus a status call for each new ready sandbox (its IPs) and for each container whose
 * state changed since the last relist; statuses are cached until the object is gone.
 */
export class RuntimeObserver {
  readonly #client: CriRuntime;
  readonly #statuses = new Map<string, ContainerStatus__Output>();
  readonly #sandboxes = new Map<string, PodSandboxStatus__Output>();

  readonly #rootDir: string | undefined;

  /** With rootDir, an exited container's termination message is read into its status. */
  constructor(client: CriRuntime, options: { rootDir?: string } = {}) {
    this.#client = client;
    this.#rootDir = options.rootDir;
  }

  /**
   * The status of a sandbox the kubelet has just made and asked about: the next relist takes
   * it instead of asking the runtime again (a ready sandbox's network does not change).
   */
  knowSandbox(id: string, status: PodSandboxStatus__Output): void {
    if (status.state === 'SANDBOX_READY') this.#sandboxes.set(id, status);
  }

  async relist(signal?: AbortSignal): Promise<Map<string, PodRuntimeState>> {
    const opts = signal ? { signal } : {};
    const [{ items: sandboxes }, { containers }] = await Promise.all([
      this.#client.runtime.call('ListPodSandbox', {}, opts),
      this.#client.runtime.call('ListContainers', {}, opts),
    ]);
    const liveSandboxes = new Set(sandboxes.map((s) => s.id));
    for (const id of this.#sandboxes.keys()) if (!liveSandboxes.has(id)) this.#sandboxes.delete(id);
    const liveContainers = new Set(containers.map((c) => c.id));
    for (const id of this.#statuses.keys()) if (!liveContainers.has(id)) this.#statuses.delete(id);

    const sandboxStatus = async (id: string) => {
      const reply = await this.#client.runtime.call('PodSandboxStatus', { podSandboxId: id }, opts).catch(() => undefined);
      if (reply?.status) this.#sandboxes.set(id, reply.status);
    };
    const containerStatus = async (id: string) => {
      const reply = await this.#client.runtime.call('ContainerStatus', { containerId: id }, opts).catch(() => undefined);
      const status = reply?.status;
      if (!status) return;
      if (status.state === 'CONTAINER_EXITED' && this.#rootDir) {
        const uid = status.labels[podUidLabel] ?? '';
        const name = status.labels[containerNameLabel] ?? '';
        const file = terminationMessageFile(this.#rootDir, uid, name, status.metadata?.attempt ?? 0);
        const policy = status.annotations[containerTerminationMessagePolicyAnnotation] ?? 'File';
        const message = await readTerminationMessage(file, { policy, exitCode: status.exitCode, logPath: status.logPath });
        if (message) status.message = message;
      }
      this.#statuses.set(id, status);
    };
    // A sandbox's network does not change while it is ready: ask once per sandbox.
    // A container's status (start time, exit code) changes only with its state, so
    // ask again only when the listed state differs from the cached one.
    await Promise.all([
      ...sandboxes.filter((s) => s.state === 'SANDBOX_READY' && !this.#sandboxes.has(s.id)).map((s) => sandboxStatus(s.id)),
      ...containers.filter((c) => c.state !== 'CONTAINER_CREATED' && this.#statuses.get(c.id)?.state !== c.state).map((c) => containerStatus(c.id)),
    ]);
    return groupRuntimeState({ sandboxes, containers, sandboxStatuses: this.#sandboxes, containerStatuses: this.#statuses });
  }
}
