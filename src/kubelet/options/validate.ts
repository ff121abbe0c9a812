import { isAbsolute, normalize } from 'node:path';
import { TskubeError } from '../../common/errors.js';
import { show } from '../../common/field-readers.js';
import { formatGoDuration } from '../../common/go-duration.js';
import { tryParseQuantity } from '../../kube/quantity.js';
import { sysctlPatternProblem } from './sysctl-names.js';
import { nodeAllocatableEnforcements, type KubeletConfiguration } from './types.js';

// Cross-field rules of upstream's ValidateKubeletConfiguration that apply to the
// fields tskube reads. Types and single-field ranges are checked while decoding;
// this runs again after flags override the file.

const fail = (field: string, value: unknown, why: string) => new TskubeError('invalid-argument', `${field}: invalid value ${show(value)}: ${why}`);

const dur = (ms: number) => formatGoDuration(ms);

/** Throws an invalid-argument TskubeError for the first rule the configuration breaks. */
export function validateKubeletConfiguration(c: KubeletConfiguration): void {
  if (c.nodeLeaseDurationSeconds <= 0) throw fail('nodeLeaseDurationSeconds', c.nodeLeaseDurationSeconds, 'must be greater than 0');
  if (c.port < 1 || c.port > 65535) throw fail('port', c.port, 'must be between 1 and 65535');
  if (c.maxPods < 0) throw fail('maxPods', c.maxPods, 'must not be negative');
  if (c.imageGCLowThresholdPercent >= c.imageGCHighThresholdPercent) {
    throw fail('imageGCLowThresholdPercent', c.imageGCLowThresholdPercent, `must be less than imageGCHighThresholdPercent (${c.imageGCHighThresholdPercent})`);
  }
  if (c.imageMaximumGCAge > 0 && c.imageMaximumGCAge <= c.imageMinimumGCAge) {
    throw fail('imageMaximumGCAge', dur(c.imageMaximumGCAge), `must be greater than imageMinimumGCAge (${dur(c.imageMinimumGCAge)})`);
  }
  if (c.maxParallelImagePulls !== undefined) {
    if (c.maxParallelImagePulls < 1) throw fail('maxParallelImagePulls', c.maxParallelImagePulls, 'must be a positive number');
    if (c.serializeImagePulls && c.maxParallelImagePulls > 1) {
      throw fail('maxParallelImagePulls', c.maxParallelImagePulls, 'cannot be larger than 1 unless serializeImagePulls is false');
    }
  }
  for (const [field, ms] of [
    ['shutdownGracePeriod', c.shutdownGracePeriod],
    ['shutdownGracePeriodCriticalPods', c.shutdownGracePeriodCriticalPods],
  ] as const) {
    if (ms < 0 || (ms > 0 && ms < 1000)) throw fail(field, dur(ms), 'must be either zero or at least 1s');
  }
  if (c.shutdownGracePeriodCriticalPods > c.shutdownGracePeriod) {
    throw fail(
      'shutdownGracePeriodCriticalPods',
      dur(c.shutdownGracePeriodCriticalPods),
      `must not exceed shutdownGracePeriod (${dur(c.shutdownGracePeriod)})`,
    );
  }
  const maxRestart = c.crashLoopBackOff.maxContainerRestartPeriod;
  if (maxRestart !== undefined && (maxRestart < 1000 || maxRestart > 300_000)) {
    throw fail('crashLoopBackOff.maxContainerRestartPeriod', dur(maxRestart), 'must be between 1s and 300s');
  }
  validateEnforceNodeAllocatable(c);
  if (c.containerRuntimeEndpoint === '') throw fail('containerRuntimeEndpoint', '', 'must not be empty');
  for (const [field, endpoint] of [
    ['containerRuntimeEndpoint', c.containerRuntimeEndpoint],
    ['imageServiceEndpoint', c.imageServiceEndpoint],
  ] as const) {
    if (endpoint !== '' && !/^unix:\/\/\//.test(endpoint) && !isAbsolute(endpoint)) {
      throw fail(field, endpoint, 'want a unix socket, e.g. unix:///run/containerd/containerd.sock');
    }
  }
  if (!isAbsolute(c.podLogsDir) || normalize(c.podLogsDir) !== c.podLogsDir.replace(/(.)\/$/, '$1')) {
    throw fail('podLogsDir', c.podLogsDir, 'must be an absolute, normalized path');
  }
  if (c.containerLogMaxFiles <= 1) throw fail('containerLogMaxFiles', c.containerLogMaxFiles, 'must be greater than 1');
  if (c.containerLogMaxWorkers < 1) throw fail('containerLogMaxWorkers', c.containerLogMaxWorkers, 'must be at least 1');
  if (c.containerLogMonitorInterval < 3000) throw fail('containerLogMonitorInterval', dur(c.containerLogMonitorInterval), 'must be at least 3s');
  validateSoftEviction(c);
  for (const pattern of c.allowedUnsafeSysctls) {
    const problem = sysctlPatternProblem(pattern);
    if (problem) throw fail('allowedUnsafeSysctls', pattern, problem);
  }
  const logSize = tryParseQuantity(c.containerLogMaxSize);
  if (logSize === undefined || logSize <= 0) throw fail('containerLogMaxSize', c.containerLogMaxSize, 'want a positive quantity such as 10Mi');
  if (c.logging.flushFrequency <= 0) throw fail('logging.flushFrequency', dur(c.logging.flushFrequency), 'must be positive');
  if (c.clusterDomain !== '' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?$/.test(c.clusterDomain)) {
    throw fail('clusterDomain', c.clusterDomain, 'must be a DNS domain such as cluster.local');
  }
  if (c.cgroupRoot !== '' && !c.cgroupRoot.startsWith('/')) throw fail('cgroupRoot', c.cgroupRoot, 'must be an absolute cgroup path');
}

// Upstream's ParseThresholdConfig: every soft threshold needs a grace period and the other way round.
function validateSoftEviction(c: KubeletConfiguration): void {
  for (const signal of Object.keys(c.evictionSoft)) {
    if (c.evictionSoftGracePeriod[signal] === undefined) {
      throw fail(`evictionSoft[${signal}]`, c.evictionSoft[signal], 'needs a grace period in evictionSoftGracePeriod');
    }
  }
  for (const signal of Object.keys(c.evictionSoftGracePeriod)) {
    if (c.evictionSoft[signal] === undefined) {
      throw fail(`evictionSoftGracePeriod[${signal}]`, c.evictionSoftGracePeriod[signal], 'has no threshold in evictionSoft');
    }
  }
  for (const signal of Object.keys(c.evictionMinimumReclaim)) {
    if (c.evictionHard[signal] === undefined && c.evictionSoft[signal] === undefined) {
      throw fail(`evictionMinimumReclaim[${signal}]`, c.evictionMinimumReclaim[signal], 'has no threshold in evictionHard or evictionSoft');
    }
  }
}

function validateEnforceNodeAllocatable(c: KubeletConfiguration): void {
  const seen = new Set<string>();
  const list = c.enforceNodeAllocatable;
  for (const value of list) {
    const field = 'enforceNodeAllocatable';
    if (!(nodeAllocatableEnforcements as readonly string[]).includes(value)) {
      throw fail(field, value, `want some of ${nodeAllocatableEnforcements.join(', ')}`);
    }
    if (seen.has(value)) throw fail(field, value, 'listed twice');
    seen.add(value);
    if (value === 'none') {
      if (list.length > 1) throw fail(field, list, '"none" excludes every other value');
      continue;
    }
    if (value.startsWith('system-reserved') && c.systemReservedCgroup === '') {
      throw fail(field, value, 'needs systemReservedCgroup to be set');
    }
    if (value.startsWith('kube-reserved') && c.kubeReservedCgroup === '') {
      throw fail(field, value, 'needs kubeReservedCgroup to be set');
    }
    if (!c.cgroupsPerQOS) throw fail(field, value, 'needs cgroupsPerQOS to be true');
  }
  if (seen.has('system-reserved') && seen.has('system-reserved-compressible')) {
    throw fail('enforceNodeAllocatable', list, '"system-reserved" and "system-reserved-compressible" exclude each other');
  }
  if (seen.has('kube-reserved') && seen.has('kube-reserved-compressible')) {
    throw fail('enforceNodeAllocatable', list, '"kube-reserved" and "kube-reserved-compressible" exclude each other');
  }
}
