import { TskubeError } from '../../../common/errors.js';
import type { LinuxContainerResources } from '../../../gen/cri/runtime/v1/LinuxContainerResources.js';

/** crictl update's flags for Linux resources. */
export const resourceFlagSpec = {
  'cpu-period': { type: 'string' },
  'cpu-quota': { type: 'string' },
  'cpu-share': { type: 'string' },
  'cpuset-cpus': { type: 'string' },
  'cpuset-mems': { type: 'string' },
  memory: { type: 'string' },
  'oom-score-adj': { type: 'string' },
} as const;

export type ResourceFlagValues = { [K in keyof typeof resourceFlagSpec]?: string | undefined };

function int64(flag: string, text: string): string {
  if (!/^-?\d+$/.test(text.trim())) throw new TskubeError('invalid-argument', `--${flag}: invalid value "${text}" (want a whole number)`);
  return BigInt(text.trim()).toString();
}

/** The resources to set; only the flags given, since the runtime leaves a zero field as it was. */
export function linuxResourcesFromFlags(values: ResourceFlagValues): LinuxContainerResources {
  const out: LinuxContainerResources = {};
  if (values['cpu-period'] !== undefined) out.cpuPeriod = int64('cpu-period', values['cpu-period']);
  if (values['cpu-quota'] !== undefined) out.cpuQuota = int64('cpu-quota', values['cpu-quota']);
  if (values['cpu-share'] !== undefined) out.cpuShares = int64('cpu-share', values['cpu-share']);
  if (values.memory !== undefined) out.memoryLimitInBytes = int64('memory', values.memory);
  if (values['oom-score-adj'] !== undefined) out.oomScoreAdj = int64('oom-score-adj', values['oom-score-adj']);
  if (values['cpuset-cpus'] !== undefined) out.cpusetCpus = values['cpuset-cpus'];
  if (values['cpuset-mems'] !== undefined) out.cpusetMems = values['cpuset-mems'];
  if (Object.keys(out).length === 0) {
    throw new TskubeError(
      'invalid-argument',
      `nothing to update: give at least one of ${Object.keys(resourceFlagSpec)
        .map((f) => `--${f}`)
        .join(', ')}`,
    );
  }
  return out;
}
