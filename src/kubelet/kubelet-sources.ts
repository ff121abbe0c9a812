import type { Logger } from 'pino';
import type { KubeletOptions } from './options/kubelet-options.js';
import { FileSource } from './pods/sources/file-source.js';
import type { PodSourceMerger } from './pods/sources/pod-source-merger.js';

/** Starts the static pod file source when staticPodPath is set; it reports its pod set to PodSourceMerger. */
export function startFileSource(options: KubeletOptions, sources: PodSourceMerger, log: Logger, signal: AbortSignal): Record<string, Promise<void>> {
  const path = options.config.staticPodPath;
  if (!path) return {};
  const files = new FileSource({
    path,
    nodeName: options.nodeName,
    checkIntervalMs: options.config.fileCheckFrequency || 20_000,
    logger: log,
    onPods: (pods) => sources.set('file', pods),
  });
  return { 'static pod files': files.run(signal) };
}
