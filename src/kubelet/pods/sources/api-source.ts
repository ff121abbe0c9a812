// Pods the scheduler (or anyone) bound to this node: a reflector on /api/v1/pods with
// fieldSelector spec.nodeName=<node>, handing on the complete set after each change.
// Mirror pods come through here too; PodSourceMerger sorts them out.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { decodePod } from '../../../kube/codec.js';
import { defaultLogger } from '../../../common/logger.js';
import { type Reflector, reflectorFor } from '../../../kube/reflector.js';
import type { RestClient } from '../../../kube/rest-client.js';

export interface ApiSourceOptions {
  rest: RestClient;
  nodeName: string;
  /** The complete set of pods bound here, after the first list and after every change. */
  onPods: (pods: V1Pod[]) => void;
  logger?: Logger;
}

export class ApiSource {
  readonly reflector: Reflector<V1Pod>;
  /** The first list is done (and handed on). */
  readonly ready: Promise<void>;
  readonly #onPods: (pods: V1Pod[]) => void;
  #pending = false;

  constructor(options: ApiSourceOptions) {
    this.#onPods = options.onPods;
    const schedule = () => this.#schedule();
    const logger = (options.logger ?? defaultLogger('kubelet')).child({ source: 'api' });
    this.reflector = reflectorFor<V1Pod>(options.rest, '/api/v1/pods', {
      name: `pods spec.nodeName=${options.nodeName}`,
      fieldSelector: `spec.nodeName=${options.nodeName}`,
      decode: decodePod,
      logger,
      handler: {
        onAdd: (pod) => {
          logger.debug({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, 'pod added');
          schedule();
        },
        onUpdate: schedule,
        onDelete: schedule,
        onSynced: () => this.#emit(),
      },
    });
    this.ready = this.reflector.ready;
  }

  run(signal: AbortSignal): Promise<void> {
    return this.reflector.run(signal);
  }

  // A burst of watch events (a relist, a deployment scaling) becomes one snapshot.
  #schedule(): void {
    if (this.#pending) return;
    this.#pending = true;
    setImmediate(() => this.#emit());
  }

  #emit(): void {
    this.#pending = false;
    this.#onPods(this.reflector.store.list());
  }
}
