import { formatGoDuration } from '../../../common/go-duration.js';
import { kubeletConfigApiVersion, kubeletConfigKind, type KubeletConfiguration } from '../../options/types.js';

// /configz: the configuration the kubelet runs with, in KubeletConfiguration's wire form
// (durations as Go writes them), under "kubeletconfig" as upstream's configz does.

/** Fields carried as milliseconds here and as Go durations on the wire. */
const durationPaths = [
  'syncFrequency',
  'fileCheckFrequency',
  'httpCheckFrequency',
  'authentication.webhook.cacheTTL',
  'authorization.webhook.cacheAuthorizedTTL',
  'authorization.webhook.cacheUnauthorizedTTL',
  'streamingConnectionIdleTimeout',
  'nodeStatusUpdateFrequency',
  'nodeStatusReportFrequency',
  'imageMinimumGCAge',
  'imageMaximumGCAge',
  'volumeStatsAggPeriod',
  'runtimeRequestTimeout',
  'evictionPressureTransitionPeriod',
  'shutdownGracePeriod',
  'shutdownGracePeriodCriticalPods',
  'crashLoopBackOff.maxContainerRestartPeriod',
  'logging.flushFrequency',
];

export function configzBody(config: KubeletConfiguration): object {
  const wire = structuredClone(config) as unknown as Record<string, unknown>;
  for (const path of durationPaths) {
    const keys = path.split('.');
    const last = keys.pop() as string;
    let at: Record<string, unknown> | undefined = wire;
    for (const k of keys) at = at?.[k] as Record<string, unknown> | undefined;
    if (at && typeof at[last] === 'number') at[last] = formatGoDuration(at[last]);
  }
  return { kubeletconfig: { kind: kubeletConfigKind, apiVersion: kubeletConfigApiVersion, ...wire } };
}
