import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import type { ContainerConfig } from '../../gen/cri/runtime/v1/ContainerConfig.js';
import type { Device } from '../../gen/cri/runtime/v1/Device.js';
import type { Mount } from '../../gen/cri/runtime/v1/Mount.js';
import { Signal } from '../../gen/cri/runtime/v1/Signal.js';
import { containerAnnotations, containerLabels } from './container-annotations.js';
import { expandVars, lookupIn } from './expansion.js';
import { containerLinuxResources, type LinuxResourceOptions } from './linux-resources.js';
import { containerField } from './pod-resources.js';
import { containerSecurityContext, runAsNonRootViolation, type SecurityOptions } from './security-context.js';

export interface EnvVarValue {
  name: string;
  value: string;
}

export interface ContainerContext extends LinuxResourceOptions, SecurityOptions {
  /** The container's environment, as resolveEnv made it. */
  env: EnvVarValue[];
  /** The image ID (or digest reference) to run, from PullImage/ImageStatus. */
  imageRef: string;
  podIPs: string[];
  /** Volume mounts, the termination-message file and /etc/hosts, made by the caller. */
  mounts?: Mount[];
  devices?: Device[];
}

/** `<containerName>/<restartCount>.log`, relative to the sandbox's log directory. */
export function containerLogPath(containerName: string, restartCount: number): string {
  return `${containerName}/${restartCount}.log`;
}

/** command and args with `$(VAR)` references to the container's environment expanded. */
export function expandCommandAndArgs(container: V1Container, env: EnvVarValue[]): { command: string[]; args: string[] } {
  const vars = new Map(env.map((e) => [e.name, e.value]));
  const lookup = lookupIn(vars);
  return {
    command: (container.command ?? []).map((c) => expandVars(c, lookup)),
    args: (container.args ?? []).map((a) => expandVars(a, lookup)),
  };
}

function stopSignal(pod: V1Pod, container: V1Container): ContainerConfig['stopSignal'] {
  const name = container.lifecycle?.stopSignal;
  if (name === undefined || name === '') return undefined;
  if (!(name in Signal) || name === 'RUNTIME_DEFAULT') {
    throw new TskubeError('invalid-argument', `${containerField(pod, container)}.lifecycle.stopSignal: unknown signal ${JSON.stringify(name)}`);
  }
  return name as keyof typeof Signal;
}

/**
 * The ContainerConfig for CreateContainer, as the upstream kubelet builds it, so
 * `crictl inspect` reads the same. `attempt` is the container's restart count: it is the
 * metadata attempt, the restartCount annotation and the log file name.
 * Throws TskubeError with code 'failed-precondition' when runAsNonRoot forbids the image's
 * user (the caller reports CreateContainerConfigError), 'invalid-argument' for a bad field.
 */
export function buildContainerConfig(pod: V1Pod, container: V1Container, attempt: number, ctx: ContainerContext): ContainerConfig {
  const violation = runAsNonRootViolation(pod, container, ctx.imageUser);
  if (violation) throw new TskubeError('failed-precondition', violation);
  const { command, args } = expandCommandAndArgs(container, ctx.env);
  const config: ContainerConfig = {
    metadata: { name: container.name, attempt },
    image: { image: ctx.imageRef, userSpecifiedImage: container.image ?? '' },
    command,
    args,
    workingDir: container.workingDir ?? '',
    // KeyValue.value is bytes in runtime.v1 (cri-api 0.36): a JS string would be read as base64.
    envs: ctx.env.map((e) => ({ key: e.name, value: Buffer.from(e.value, 'utf8') })),
    mounts: ctx.mounts ?? [],
    devices: ctx.devices ?? [],
    labels: containerLabels(pod, container),
    annotations: containerAnnotations(pod, container, attempt),
    logPath: containerLogPath(container.name, attempt),
    stdin: container.stdin === true,
    stdinOnce: container.stdinOnce === true,
    tty: container.tty === true,
    linux: {
      resources: containerLinuxResources(pod, container, ctx),
      securityContext: containerSecurityContext(pod, container, ctx),
    },
  };
  const signal = stopSignal(pod, container);
  if (signal !== undefined) config.stopSignal = signal;
  return config;
}
