// Which cgroup driver the kubelet uses: the runtime's, when it answers CRI
// RuntimeConfig (containerd >= 1.7, CRI-O >= 1.28), else the config's
// (containerd 1.6 answers UNIMPLEMENTED). A runtime that says one thing while the
// config says another is a misconfiguration to report once and clearly: pods would get
// cgroups the runtime does not manage.
import { isCode, TskubeError } from '../../common/errors.js';
import type { CriRuntime } from '../runtime/cri-runtime.js';
import type { CgroupDriver } from '../options/types.js';

export type RuntimeCgroupDriver = { kind: 'answered'; driver: CgroupDriver } | { kind: 'unimplemented' };

export type CgroupDriverDecision = { ok: true; driver: CgroupDriver; source: 'runtime' | 'config' } | { ok: false; error: TskubeError };

export function decideCgroupDriver(runtime: RuntimeCgroupDriver, configured: CgroupDriver, endpoint: string): CgroupDriverDecision {
  if (runtime.kind === 'unimplemented') return { ok: true, driver: configured, source: 'config' };
  if (runtime.driver === configured) return { ok: true, driver: configured, source: 'runtime' };
  return {
    ok: false,
    error: new TskubeError(
      'failed-precondition',
      `cgroup driver mismatch: the container runtime at ${endpoint} uses "${runtime.driver}" (CRI RuntimeConfig) but the kubelet is configured with cgroupDriver "${configured}"; set cgroupDriver: ${runtime.driver} in the KubeletConfiguration (or --cgroup-driver=${runtime.driver}), or change the runtime's (containerd: SystemdCgroup in the runc options)`,
    ),
  };
}

/** Asks the runtime (CRI RuntimeConfig); UNIMPLEMENTED is an answer, other failures throw. */
export async function queryRuntimeCgroupDriver(client: CriRuntime, options: { timeoutMs: number; signal?: AbortSignal }): Promise<RuntimeCgroupDriver> {
  try {
    const reply = await client.runtime.call('RuntimeConfig', {}, options);
    const driver = reply.linux?.cgroupDriver;
    if (driver === 'SYSTEMD') return { kind: 'answered', driver: 'systemd' };
    if (driver === 'CGROUPFS') return { kind: 'answered', driver: 'cgroupfs' };
    return { kind: 'unimplemented' };
  } catch (err) {
    if (isCode(err, 'unimplemented')) return { kind: 'unimplemented' };
    throw TskubeError.from(err).wrap('asking the runtime for its cgroup driver');
  }
}
