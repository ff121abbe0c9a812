/*
 * The kubelet's volumes: each pod's volumes set up before its containers start, kept up
 * to date while it runs, torn down after its last container stopped.
 *
 *   desired: the pod's volumes (planVolumes)        actual: the disk and the mount table,
 *            and what they should hold (payload)            read again on every pass
 *                          └──────────── setUp(pod) on every pod sync ───────────┘
 *                            makes what is missing, rewrites what changed; says which
 *                            volumes are not ready (the pod then waits, FailedMount)
 *
 *   per volume:  (none) ──setUp ok──► ready ──content changed──► ready (new ..data version)
 *                  │  ▲                 │ refresh fails: stays ready, the failure is reported
 *                  └──┘ fails: not ready, retried on the next sync
 *                 ready ──tearDown (pod terminated, or removed)──► (none): unmounted, then deleted
 *
 * Nothing is taken from memory that the disk can say: after a restart a volume is ready if
 * its files (and its tmpfs) are there, so a running pod keeps its mounts and contents, and
 * nothing is remounted over what its containers see.
 */
import { createHash } from 'node:crypto';
import { access, chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { TskubeError } from '../../common/errors.js';
import type { Mount } from '../../gen/cri/runtime/v1/Mount.js';
import type { EnvVarValue } from '../cri-requests/container-config.js';
import type { NodeAllocatable } from '../cri-requests/env-field-ref.js';
import { podHostnameAndDomain } from '../cri-requests/hostname.js';
import type { ObjectLookup } from '../cri-request-builders.js';
import { podKey } from '../pods/pod-names.js';
import { podDir, removePodDir } from '../runtime/pod-dirs.js';
import { quantityValue } from '../../kube/quantity.js';
import { dataDirName, writeAtomically } from './atomic-writer.js';
import { etcHostsPath, planContainerMounts } from './container-mounts.js';
import { hostNetworkHostsFile, managedHostsFile } from './etc-hosts.js';
import { checkHostPath } from './host-path.js';
import { etcHostsFile, podPluginsDir, podVolumesDir, readyFile, subPathsDir, subPathTarget } from './layout.js';
import { type MountPoint, mountsUnder } from './mount-info.js';
import type { Mounter } from './mounter.js';
import { applyFsGroup } from './ownership.js';
import { type Payload, type TokenResult, volumePayload } from './payload.js';
import { planVolumes, podFsUser, type VolumePlan } from './plan-volumes.js';
import type { ServiceAccountTokens } from './service-account-tokens.js';
import { bindSubPath, safeMakeDir } from './subpath.js';

export interface VolumeFailure {
  volume: string;
  message: string;
}

export interface VolumeSetup {
  /** Every volume is there (now, or from before): the pod's containers may start. */
  ready: boolean;
  /** Volumes that could not be set up or refreshed this time, and why. */
  failures: VolumeFailure[];
}

/** What the pod executor asks of the volumes (ExecutorDeps.volumes). */
export interface PodVolumes {
  setUp(pod: V1Pod): Promise<VolumeSetup>;
  /** The container's CRI mounts; throws TskubeError with the reason the container cannot start (CreateContainerConfigError). */
  containerMounts(pod: V1Pod, container: V1Container, env: readonly EnvVarValue[], podIPs: readonly string[]): Promise<Mount[]>;
}

export interface VolumeManagerOptions {
  rootDir: string;
  mounter: Mounter;
  objects: ObjectLookup;
  tokens: ServiceAccountTokens;
  allocatable: () => NodeAllocatable;
  clusterDomain: string;
  log: Logger;
  /** The node's hosts file, for host-network pods (/etc/hosts). */
  nodeHostsFile?: string;
}

interface VolumeState {
  ready: boolean;
  /** The last failure, so the log says each change once rather than every sync. */
  failure?: string;
  /** The payload last written (or found on disk), so an unchanged volume costs no I/O. */
  fingerprint?: string;
}

function fingerprint(files: Payload): string {
  const h = createHash('sha256');
  for (const [path, f] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    h.update(`${path}\0${f.mode}\0${f.fsUser ?? ''}\0${f.data.length}\0`);
    h.update(f.data);
  }
  return h.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

const isTmpfsAt = (table: readonly MountPoint[], dir: string) => table.some((m) => m.mountPoint === dir && m.fsType === 'tmpfs');

export class VolumeManager implements PodVolumes {
  readonly #o: VolumeManagerOptions;
  readonly #states = new Map<string, Map<string, VolumeState>>();
  /** Refusals already logged, by pod UID and container/mount. */
  readonly #said = new Map<string, Map<string, string>>();

  constructor(options: VolumeManagerOptions) {
    this.#o = options;
  }

  #allocatableMemory(): number {
    return quantityValue(this.#o.allocatable().memory, 'node allocatable memory');
  }

  #plans(pod: V1Pod): VolumePlan[] {
    return planVolumes(pod, { rootDir: this.#o.rootDir, allocatableMemoryBytes: this.#allocatableMemory() });
  }

  #stateOf(uid: string, volume: string): VolumeState {
    const pod = this.#states.get(uid) ?? new Map<string, VolumeState>();
    this.#states.set(uid, pod);
    const s = pod.get(volume) ?? { ready: false };
    pod.set(volume, s);
    return s;
  }

  async setUp(pod: V1Pod): Promise<VolumeSetup> {
    const uid = pod.metadata?.uid ?? '';
    const volumes = pod.spec?.volumes ?? [];
    if (volumes.length === 0) return { ready: true, failures: [] };
    const table = await this.#o.mounter.mounts();
    const failures: VolumeFailure[] = [];
    let ready = true;
    for (const [i, plan] of this.#plans(pod).entries()) {
      const state = this.#stateOf(uid, plan.name);
      try {
        await this.#setUpOne(pod, volumes[i] as V1Volume, plan, table, state);
        state.ready = true;
        if (state.failure !== undefined) this.#o.log.info({ pod: podKey(pod), volume: plan.name }, 'volume set up');
        state.failure = undefined;
      } catch (err) {
        const message = TskubeError.from(err).detail;
        failures.push({ volume: plan.name, message });
        // A volume set up before (by this kubelet or the one before it) stays in place: it is only stale.
        if (!state.ready) state.ready = await this.#onDisk(pod, plan, table);
        if (!state.ready) ready = false;
        if (state.failure !== message) {
          this.#o.log.warn(
            { pod: podKey(pod), volume: plan.name, err: message },
            state.ready ? 'volume refresh failed; the pod keeps what it has' : 'volume not ready',
          );
        }
        state.failure = message;
      }
    }
    return { ready, failures };
  }

  /** Whether the volume is already there from an earlier setup (read back from disk and the mount table). */
  async #onDisk(pod: V1Pod, plan: VolumePlan, table: readonly MountPoint[]): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    switch (plan.kind) {
      case 'empty-dir':
        return (await exists(readyFile(this.#o.rootDir, uid, plan.name, false))) && (!plan.memory || isTmpfsAt(table, plan.dir));
      case 'projection':
        return (await exists(join(plan.dir, dataDirName))) && (!plan.tmpfs || isTmpfsAt(table, plan.dir));
      default:
        return false;
    }
  }

  async #setUpOne(pod: V1Pod, volume: V1Volume, plan: VolumePlan, table: readonly MountPoint[], state: VolumeState): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    switch (plan.kind) {
      case 'refused':
        throw new TskubeError('unimplemented', plan.message);
      case 'host-path':
        if (!state.ready) await checkHostPath(plan.path, plan.type);
        return;
      case 'empty-dir': {
        if (state.ready || (await this.#onDisk(pod, plan, table))) return;
        await this.#makeDir(plan.dir, table, plan.memory, plan.sizeBytes);
        if (fsGroup !== undefined) {
          await applyFsGroup(plan.dir, {
            fsGroup,
            readOnly: false,
            ...(pod.spec?.securityContext?.fsGroupChangePolicy ? { changePolicy: pod.spec.securityContext.fsGroupChangePolicy } : {}),
          });
        }
        await this.#markReady(readyFile(this.#o.rootDir, uid, plan.name, false));
        return;
      }
      case 'projection': {
        const tokens = await this.#tokens(pod, volume);
        const fsUser = podFsUser(pod);
        const payload = volumePayload(pod, volume, {
          configMap: (ns, name) => this.#o.objects.configMap(ns, name),
          secret: (ns, name) => this.#o.objects.secret(ns, name),
          token: (index) => tokens.get(index) ?? { ok: false, message: `no token for projected source ${index}` },
          nodeAllocatable: this.#o.allocatable(),
          ...(fsUser !== undefined ? { fsUser } : {}),
          ...(fsGroup !== undefined ? { fsGroup } : {}),
        });
        if (!payload.ok) throw new TskubeError('failed-precondition', payload.message);
        const print = fingerprint(payload.files);
        if (state.fingerprint === print && isTmpfsAt(table, plan.dir) === plan.tmpfs) return;
        await this.#makeDir(plan.dir, table, plan.tmpfs, plan.sizeBytes, 0o755);
        await this.#markReady(readyFile(this.#o.rootDir, uid, plan.name, true));
        const written = await writeAtomically(plan.dir, payload.files, {
          ...(fsGroup !== undefined ? { setPerms: () => applyFsGroup(plan.dir, { fsGroup, readOnly: true }) } : {}),
        });
        state.fingerprint = print;
        if (written && state.ready) this.#o.log.info({ pod: podKey(pod), volume: plan.name }, 'volume content updated');
        return;
      }
    }
  }

  /** The volume's directory, with a tmpfs on it when it is memory-backed (unless one is there already). */
  async #makeDir(dir: string, table: readonly MountPoint[], tmpfs: boolean, sizeBytes: number | undefined, mode = 0o777): Promise<void> {
    await mkdir(dir, { recursive: true });
    await chmod(dir, mode);
    if (tmpfs && !isTmpfsAt(table, dir)) {
      await this.#o.mounter.mountTmpfs(dir, sizeBytes);
      await chmod(dir, mode);
    }
  }

  async #markReady(file: string): Promise<void> {
    await mkdir(dirname(file), { recursive: true, mode: 0o750 });
    await writeFile(file, '', { mode: 0o600 });
  }

  /** The tokens of the volume's serviceAccountToken sources, by source index. */
  async #tokens(pod: V1Pod, volume: V1Volume): Promise<Map<number, TokenResult>> {
    const out = new Map<number, TokenResult>();
    for (const [i, source] of (volume.projected?.sources ?? []).entries()) {
      if (source.serviceAccountToken) out.set(i, await this.#o.tokens.token(pod, source.serviceAccountToken));
    }
    return out;
  }

  async containerMounts(pod: V1Pod, container: V1Container, env: readonly EnvVarValue[], podIPs: readonly string[]): Promise<Mount[]> {
    const uid = pod.metadata?.uid ?? '';
    const plans = new Map(this.#plans(pod).map((p) => [p.name, p]));
    const plan = planContainerMounts(pod, container, env, plans, podIPs);
    if (!plan.ok) throw new TskubeError('failed-precondition', plan.message);
    const needsTable = plan.mounts.some((m) => m.subPath !== undefined || m.propagation !== 'PROPAGATION_PRIVATE');
    let table = needsTable ? await this.#o.mounter.mounts() : [];
    const mounts: Mount[] = [];
    for (const m of plan.mounts) {
      let hostPath = m.volumePath;
      if (m.subPath !== undefined) {
        const subPath = m.subPath;
        // The details go to the log only: they would tell the pod about the node's files.
        const refuse = (err: unknown, what: string) => {
          this.#sayOnce(uid, `${container.name}/${m.index}`, TskubeError.from(err).message, (message) =>
            this.#o.log.warn({ pod: podKey(pod), container: container.name, volume: m.volume, subPath, err: message }, 'subPath refused'),
          );
          return new TskubeError(
            'failed-precondition',
            `failed to ${what} for volumeMount ${JSON.stringify(m.volume)} of container ${JSON.stringify(container.name)}`,
          );
        };
        if (!(await exists(join(m.volumePath, subPath)))) {
          // Made now, with the volume's permissions: the runtime would make it 0755 and root's.
          await safeMakeDir(m.volumePath, subPath, (await stat(m.volumePath)).mode & 0o7777).catch((err: unknown) => {
            throw refuse(err, 'create subPath directory');
          });
        }
        const target = subPathTarget(this.#o.rootDir, uid, m.volume, container.name, m.index);
        hostPath = await bindSubPath(this.#o.mounter, table, { volumePath: m.volumePath, subPath, target }).catch((err: unknown) => {
          throw refuse(err, 'prepare subPath');
        });
      }
      if (m.propagation !== 'PROPAGATION_PRIVATE' && hostPath.startsWith(`${podDir(this.#o.rootDir, uid)}/`)) {
        await this.#ensureShared(pod, table, hostPath);
        table = await this.#o.mounter.mounts();
      }
      mounts.push({ containerPath: m.containerPath, hostPath, readonly: m.readOnly, selinuxRelabel: m.selinuxRelabel, propagation: m.propagation });
    }
    if (plan.etcHosts) mounts.push({ containerPath: etcHostsPath, hostPath: await this.#writeHostsFile(pod, podIPs), readonly: false, selinuxRelabel: true });
    return mounts;
  }

  /** Logs a refusal the first time it is met (and again if it changes), not on every retry. */
  #sayOnce(uid: string, key: string, message: string, say: (message: string) => void): void {
    const said = this.#said.get(uid) ?? new Map<string, string>();
    this.#said.set(uid, said);
    if (said.get(key) === message) return;
    said.set(key, message);
    say(message);
  }

  /**
   * Mount propagation into a container needs its source on a shared mount. Upstream makes
   * the whole root dir one at start; here the volume (or subPath) itself becomes a shared
   * mount point, bound on itself if it is none, and goes with the pod's other mounts: the
   * node's mount table is left as it was for pods that never ask.
   */
  async #ensureShared(pod: V1Pod, table: readonly MountPoint[], path: string): Promise<void> {
    if (table.some((m) => m.mountPoint === path && m.propagates)) return;
    await this.#o.mounter.makeShared(path);
    this.#o.log.info({ pod: podKey(pod), path }, 'made a volume a shared mount, for mount propagation');
  }

  /** Writes the pod's hosts file when its content changed (in place, as upstream: running containers see the same file). */
  async #writeHostsFile(pod: V1Pod, podIPs: readonly string[]): Promise<string> {
    const file = etcHostsFile(this.#o.rootDir, pod.metadata?.uid ?? '');
    let text: string;
    if (pod.spec?.hostNetwork === true) {
      text = hostNetworkHostsFile(await readFile(this.#o.nodeHostsFile ?? '/etc/hosts', 'utf8'), pod.spec.hostAliases);
    } else {
      const { hostname, domain } = podHostnameAndDomain(pod, this.#o.clusterDomain);
      text = managedHostsFile(podIPs, hostname, domain, pod.spec?.hostAliases);
    }
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current !== text) {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text, { mode: 0o644 });
      await chmod(file, 0o644);
    }
    return file;
  }

  /**
   * Unmounts everything under the pod's directory (subPath binds and tmpfs volumes,
   * deepest first) and removes its volumes, once its containers are all stopped. The pod
   * directory itself stays (termination messages); removePod takes it too.
   */
  async tearDown(uid: string): Promise<void> {
    const dir = podDir(this.#o.rootDir, uid);
    const table = await this.#o.mounter.mounts();
    const targets = mountsUnder(table, dir).sort((a, b) => b.length - a.length);
    for (const t of targets) await this.#o.mounter.unmount(t);
    if (targets.length > 0) this.#o.log.info({ uid, unmounted: targets.length }, 'pod volumes unmounted');
    const left = mountsUnder(await this.#o.mounter.mounts(), dir);
    if (left.length > 0) throw new TskubeError('failed-precondition', `not removing the volumes of pod ${uid}: still mounted at ${left.join(', ')}`);
    for (const d of [subPathsDir(this.#o.rootDir, uid), podVolumesDir(this.#o.rootDir, uid), podPluginsDir(this.#o.rootDir, uid)]) {
      await rm(d, { recursive: true, force: true });
    }
    this.#states.delete(uid);
    this.#said.delete(uid);
    this.#o.tokens.forget(uid);
  }

  /** tearDown, then the pod's directory. */
  async removePod(uid: string): Promise<void> {
    await this.tearDown(uid);
    await removePodDir(this.#o.rootDir, uid, await this.#o.mounter.mounts());
  }

  /** The UIDs that have a directory under <root-dir>/pods. */
  async podDirs(): Promise<string[]> {
    return readdir(join(this.#o.rootDir, 'pods')).catch(() => []);
  }
}
