// The service ports and endpoints of one IP family, rebuilt per changed Service from the
// trackers. It says which service ports changed (so a partial sync touches only those)
// and plans any port on demand.
import type { IPFamily } from '../net/ip.js';
import { planServicePort, type ServicePortPlan } from '../plan/service-port-plan.js';
import type { NodeTopology } from './categorize.js';
import type { EndpointSliceChangeTracker, ServiceChangeTracker } from './change-trackers.js';
import { type Endpoint, type EndpointsByPort, mergeEndpointSlices, sliceMatchesFamily } from './endpoints.js';
import type { ServicePort } from './service-port.js';

export interface ServiceMapUpdate {
  /** Service ports added, changed (or whose endpoints changed), or removed. */
  changedPorts: Set<string>;
  /** One line per Service that cannot be read (skipped, the others unaffected). */
  problems: string[];
}

const noEndpoints: readonly Endpoint[] = [];

export class ServiceMap {
  readonly family: IPFamily;
  /** Service key → its ports of this family. */
  readonly #ports = new Map<string, ServicePort[]>();
  /** Port key → port. */
  readonly #byPortKey = new Map<string, ServicePort>();
  readonly #endpoints = new Map<string, EndpointsByPort>();
  /** Services that could not be read, with why (kept until they change). */
  readonly problems = new Map<string, string>();

  constructor(family: IPFamily) {
    this.family = family;
  }

  get portCount(): number {
    return this.#byPortKey.size;
  }

  portKeys(): IterableIterator<string> {
    return this.#byPortKey.keys();
  }

  ports(): IterableIterator<ServicePort> {
    return this.#byPortKey.values();
  }

  port(key: string): ServicePort | undefined {
    return this.#byPortKey.get(key);
  }

  endpointsOf(port: ServicePort): readonly Endpoint[] {
    return this.#endpoints.get(port.serviceKey)?.get(`${port.name.port}/${port.protocol}`) ?? noEndpoints;
  }

  plan(key: string, topology: NodeTopology): ServicePortPlan | undefined {
    const port = this.#byPortKey.get(key);
    return port ? planServicePort(port, this.endpointsOf(port), topology) : undefined;
  }

  /** Rebuilds the given Services (changed Services and Services whose endpoints changed). */
  update(serviceKeys: Iterable<string>, services: ServiceChangeTracker, slices: EndpointSliceChangeTracker, nodeName: string): ServiceMapUpdate {
    const result: ServiceMapUpdate = { changedPorts: new Set(), problems: [] };
    for (const key of serviceKeys) {
      const before = this.#ports.get(key) ?? [];
      for (const p of before) this.#byPortKey.delete(p.key);
      this.#ports.delete(key);
      this.problems.delete(key);
      const reading = services.reading(key, this.family);
      let after: ServicePort[] = [];
      if (reading?.kind === 'ports') after = reading.ports;
      else if (reading?.kind === 'problem') {
        this.problems.set(key, reading.problem);
        result.problems.push(reading.problem);
      }
      if (after.length > 0) this.#ports.set(key, after);
      for (const p of after) this.#byPortKey.set(p.key, p);
      const familySlices = [...slices.slicesOf(key)].filter((s) => sliceMatchesFamily(s, this.family));
      if (familySlices.length > 0) this.#endpoints.set(key, mergeEndpointSlices(familySlices, nodeName));
      else this.#endpoints.delete(key);
      for (const p of before) result.changedPorts.add(p.key);
      for (const p of after) result.changedPorts.add(p.key);
    }
    return result;
  }
}
