// RuntimeClasses (node.k8s.io/v1), so a pod's runtimeClassName becomes the runtime handler
// the class names: a pod asks for a class, the runtime knows handlers (containerd's
// runtimes by name). Watched like upstream's runtimeclass manager does.
import type { V1RuntimeClass } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { TskubeError } from '../../common/errors.js';
import { decodeRuntimeClass } from '../../kube/codec.js';
import { type Reflector, reflectorFor } from '../../kube/reflector.js';
import type { RestClient } from '../../kube/rest-client.js';

/** The handler of a pod's RuntimeClass ('' for none); throws when the class is unknown. */
export type RuntimeHandlerLookup = (runtimeClassName: string | undefined) => string;

export class RuntimeClassSource {
  readonly reflector: Reflector<V1RuntimeClass>;
  #synced = false;

  constructor(options: { rest: RestClient; logger: Logger }) {
    this.reflector = reflectorFor<V1RuntimeClass>(options.rest, '/apis/node.k8s.io/v1/runtimeclasses', {
      name: 'runtimeclasses',
      decode: decodeRuntimeClass,
      logger: options.logger,
      handler: { onSynced: () => (this.#synced = true) },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.reflector.run(signal);
  }

  readonly handler: RuntimeHandlerLookup = (name) => runtimeHandlerOf(name, this.#synced ? (n) => this.reflector.store.get(n) : undefined);
}

/**
 * The runtime handler for a runtimeClassName, as upstream's LookupRuntimeHandler answers:
 * none for no class, the class's handler, or upstream's not-found error (the sandbox is not
 * made, FailedCreatePodSandBox names it, and the next sync tries again).
 */
export function runtimeHandlerOf(name: string | undefined, lookup: ((name: string) => V1RuntimeClass | undefined) | undefined): string {
  if (!name) return '';
  if (!lookup) throw new TskubeError('unavailable', `failed to lookup RuntimeClass ${name}: RuntimeClasses have not been listed yet`);
  const rc = lookup(name);
  if (!rc) throw new TskubeError('not-found', `runtimeclass.node.k8s.io ${JSON.stringify(name)} not found`);
  return rc.handler;
}
