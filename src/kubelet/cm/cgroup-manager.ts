/*
 * The kubelet's cgroups (upstream's container manager with cgroupsPerQOS): at start the
 * node allocatable cgroup `<cgroupRoot>/kubepods` and the `burstable` and `besteffort`
 * classes below it (plus any reserved cgroups enforceNodeAllocatable names); before a
 * pod's sandbox, the pod's cgroup with its limits, so the sandbox's cgroup parent
 * exists with them; the Burstable class's cpu weight follows its pods; a pod's cgroup
 * goes once the pod is removed, and so does any pod cgroup no pod owns (processes still
 * in one are killed first, as upstream does).
 *
 *   <root>/kubepods            cpu = allocatable, memory = allocatable, pids
 *     ├─ pod<uid>              Guaranteed pods
 *     ├─ burstable/pod<uid>    cpu shares = Σ requests of Burstable pods
 *     └─ besteffort/pod<uid>   cpu shares = 2
 */
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage, TskubeError } from '../../common/errors.js';
import { sleep } from '../../common/sleep.js';
import type { CgroupDriver } from '../options/types.js';
import type { QosClass } from '../pods/qos.js';
import type { CgroupLayout } from './cgroup-layout.js';
import { cgroupLiteral, type CgroupName, kubepodsName, podCgroupName, qosCgroupName } from './cgroup-names.js';
import { cgroupRemovalDirs, planCgroupWrites, type CgroupOp } from './plan-cgroup-writes.js';
import { burstableCpuShares, type PodCgroupOptions, podResourceConfig, type ResourceConfig } from './resource-config.js';
import { minCpuShares } from '../cri-requests/linux-resources.js';

export interface CgroupManagerOptions {
  layout: CgroupLayout;
  driver: CgroupDriver;
  /** cgroupRoot as components. */
  root: CgroupName;
  pod: PodCgroupOptions;
  /** The kubepods cgroup's limits (allocatable when enforced, else capacity). */
  kubepods: () => ResourceConfig;
  /** systemReservedCgroup / kubeReservedCgroup with their limits, when enforceNodeAllocatable names them. */
  reserved: { path: string; config: ResourceConfig }[];
  /** Pods the kubelet runs or starts: the Burstable class's weight is theirs. */
  activePods: () => V1Pod[];
  /** UIDs whose cgroups must stay (pods wanted, running or being handled); undefined until known. */
  knownPodUids: () => ReadonlySet<string> | undefined;
  log: Logger;
  periodMs?: number;
}

const qosClasses: QosClass[] = ['Guaranteed', 'Burstable', 'BestEffort'];

export class CgroupManager {
  readonly #o: CgroupManagerOptions;
  #burstableShares: number | undefined;

  constructor(options: CgroupManagerOptions) {
    this.#o = options;
  }

  /** The literal cgroup of a pod, as the sandbox's cgroup parent. */
  podCgroupParent(pod: V1Pod): string {
    return this.#literal(podCgroupName(this.#o.root, pod));
  }

  /** Creates kubepods, the QoS classes and the reserved cgroups with their limits. */
  async setup(): Promise<void> {
    const kubepods = [...this.#o.root, kubepodsName];
    await this.#apply(this.#literal(kubepods), this.#o.kubepods());
    await this.#apply(this.#literal(qosCgroupName(this.#o.root, 'BestEffort')), { cpuShares: minCpuShares });
    await this.updateQos();
    for (const r of this.#o.reserved) await this.#apply(r.path, r.config);
    this.#o.log.info(
      { cgroupVersion: this.#o.layout.version, driver: this.#o.driver, kubepods: this.#literal(kubepods), ...this.#o.kubepods() },
      'QoS cgroups ready',
    );
  }

  /** The pod's cgroup with its limits; before its sandbox is made (upstream EnsureExists). */
  async ensurePod(pod: V1Pod): Promise<void> {
    await this.#apply(this.podCgroupParent(pod), podResourceConfig(pod, this.#o.pod));
    await this.updateQos();
  }

  /** Sets the Burstable class's cpu shares to its pods' requests, when they changed. */
  async updateQos(): Promise<void> {
    const shares = burstableCpuShares(this.#o.activePods());
    if (shares === this.#burstableShares) return;
    await this.#apply(this.#literal(qosCgroupName(this.#o.root, 'Burstable')), { cpuShares: shares });
    this.#burstableShares = shares;
  }

  /** Removes a pod's cgroup wherever its QoS class put it (the pod spec may be gone). */
  async removePod(uid: string): Promise<void> {
    for (const qos of qosClasses) {
      const path = this.#literal([...qosCgroupName(this.#o.root, qos), `pod${uid}`]);
      await this.#destroy(path);
    }
  }

  /** Pod cgroups that belong to no pod the kubelet knows (upstream cleanupOrphanedPodCgroups). */
  async removeOrphans(): Promise<string[]> {
    const known = this.#o.knownPodUids();
    if (!known) return [];
    const removed: string[] = [];
    for (const qos of qosClasses) {
      const parent = this.#literal(qosCgroupName(this.#o.root, qos));
      for (const name of await this.#children(parent)) {
        const uid = this.#podUid(name);
        if (uid === undefined || known.has(uid)) continue;
        await this.#destroy(`${parent === '/' ? '' : parent}/${name}`);
        removed.push(uid);
      }
    }
    return removed;
  }

  async run(signal: AbortSignal): Promise<void> {
    let failing = false;
    while (!signal.aborted) {
      await sleep(this.#o.periodMs ?? 60_000, signal);
      if (signal.aborted) return;
      try {
        await this.updateQos();
        const orphans = await this.removeOrphans();
        if (orphans.length > 0) this.#o.log.info({ pods: orphans }, 'removed the cgroups of pods that are gone');
        failing = false;
      } catch (err) {
        if (!failing) this.#o.log.warn({ err: errorMessage(err) }, 'cgroup housekeeping failed; retrying each period');
        failing = true;
      }
    }
  }

  #literal(name: CgroupName): string {
    return cgroupLiteral(name, this.#o.driver);
  }

  #podUid(childName: string): string | undefined {
    if (this.#o.driver === 'cgroupfs') return /^pod(.+)$/.exec(childName)?.[1];
    return /-pod([^-]+)\.slice$/.exec(childName)?.[1]?.replace(/_/g, '-');
  }

  async #children(path: string): Promise<string[]> {
    const [dir] = this.#referenceDirs(path);
    if (!dir) return [];
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  /** One hierarchy to list from: the unified one, or v1's memory (else any). */
  #referenceDirs(path: string): string[] {
    const l = this.#o.layout;
    if (l.version === 2) return [`${l.root}${path}`];
    const m = l.mounts.get('memory') ?? l.mounts.get('cpu') ?? [...l.mounts.values()][0];
    return m ? [`${m}${path}`] : [];
  }

  async #apply(path: string, config: ResourceConfig): Promise<void> {
    for (const op of planCgroupWrites(this.#o.layout, path, config)) await runOp(op, path);
  }

  /** Kills what still runs in the cgroup (and below), then removes it deepest first, in every hierarchy. */
  async #destroy(path: string): Promise<void> {
    for (const dir of cgroupRemovalDirs(this.#o.layout, path)) {
      for (let attempt = 0; ; attempt++) {
        try {
          await removeTree(dir);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || attempt >= 4) throw TskubeError.from(err, 'internal').wrap(`removing cgroup ${dir}`);
          await killTree(dir);
          await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
        }
      }
    }
  }
}

async function runOp(op: CgroupOp, path: string): Promise<void> {
  try {
    if (op.kind === 'mkdir') await mkdir(op.dir, { recursive: true });
    else if (op.kind === 'write') await writeFile(op.file, op.value);
    else {
      const have = (await readFile(op.file, 'utf8')).trim();
      if (have === '') await writeFile(op.file, (await readFile(op.from, 'utf8')).trim());
    }
  } catch (err) {
    const what = op.kind === 'mkdir' ? `making ${op.dir}` : op.kind === 'write' ? `writing "${op.value}" to ${op.file}` : `setting ${op.file}`;
    throw TskubeError.from(err, 'internal').wrap(`cgroup ${path}: ${what}`);
  }
}

async function removeTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) await removeTree(join(dir, e.name));
  await rmdir(dir);
}

async function killTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await killTree(join(dir, e.name));
  const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  for (const pid of procs.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
