// The Services the kubelet turns into containers' environment variables
// (KUBERNETES_SERVICE_HOST, <SVC>_SERVICE_HOST, the docker-link style ones): a reflector on
// every namespace's Services, headless ones left out by the field selector upstream uses
// (they give no variables, and a cluster may have many).
import type { V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { decodeService } from '../../kube/codec.js';
import { type Reflector, reflectorFor } from '../../kube/reflector.js';
import type { RestClient } from '../../kube/rest-client.js';

export class ServiceSource {
  readonly reflector: Reflector<V1Service>;
  #synced = false;

  constructor(options: { rest: RestClient; logger: Logger }) {
    this.reflector = reflectorFor<V1Service>(options.rest, '/api/v1/services', {
      name: 'services spec.clusterIP!=None',
      fieldSelector: 'spec.clusterIP!=None',
      decode: decodeService,
      logger: options.logger,
      handler: { onSynced: () => (this.#synced = true) },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.reflector.run(signal);
  }

  /** Every Service with a cluster IP, or 'not-synced' before the first list completed. */
  services(): V1Service[] | 'not-synced' {
    return this.#synced ? this.reflector.store.list() : 'not-synced';
  }
}
