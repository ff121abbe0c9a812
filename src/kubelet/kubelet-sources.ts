import type { Logger } from 'pino';
import type { KubeletOptions } from './config/options.js';
import type { ApiConnection } from './kubelet-api.js';
import type { PodReconciler } from './pods/pod-reconciler.js';
import { FileSource } from './pods/sources/file-source.js';

export interface SourcesContext {
  options: KubeletOptions;
  api: ApiConnection | undefined;
  reconciler: PodReconciler;
  log: Logger;
  signal: AbortSignal;
}

/** Starts the pod sources the options ask for; each reports its full pod set to the reconciler. */
export function startPodSources(ctx: SourcesContext): Promise<void>[] {
  const { options, reconciler, log, signal } = ctx;
  const running: Promise<void>[] = [];
  const path = options.config.staticPodPath;
  if (path) {
    const files = new FileSource({
      path,
      nodeName: options.nodeName,
      checkIntervalMs: options.config.fileCheckFrequency || 20_000,
      logger: log,
      onPods: (pods) => {
        reconciler.setPods('file', pods);
        ctx.api?.setStaticPods(pods);
      },
    });
    running.push(files.run(signal));
  }
  if (ctx.api) running.push(ctx.api.watchPods((pods) => reconciler.setPods('api', pods), signal));
  return running;
}
