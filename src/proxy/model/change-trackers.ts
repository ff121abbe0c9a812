// The reflectors' handlers only feed these: the latest Service and EndpointSlices per
// Service, and which Services changed since the writer last looked. An update that
// changes nothing the proxy reads (a new resourceVersion, a managedFields shuffle) is
// not a change. The writer takes the changed keys and rebuilds just those Services.
// A changed Service is read (parsed into its ports) here, in the informer handler, as
// upstream's ServiceChangeTracker does, so the sync only looks the readings up; the back
// end is told of the new ports then, as upstream's makeServiceInfo names their chains.
import { entry } from '../map-entry.js';
import type { IPFamily } from '../net/ip.js';
import { annotationLastChangeTriggerTime, type EndpointSlice, labelServiceName, type Service, serviceKeyOf } from './api-objects.js';
import { readService, type ServicePort, type ServiceReading } from './service-port.js';

/** What of a Service the proxy reads; equal fingerprints mean nothing to do. */
function serviceFingerprint(s: Service): string {
  return JSON.stringify([s.spec ?? null, s.status?.loadBalancer ?? null]);
}

function sliceFingerprint(s: EndpointSlice): string {
  return JSON.stringify([s.addressType ?? null, s.ports ?? null, s.endpoints ?? null]);
}

/** Whether two versions of an object differ in what the proxy reads (fingerprints only when the resourceVersion moved). */
function differs<T extends { metadata?: { resourceVersion?: string } }>(a: T | undefined, b: T, fingerprint: (o: T) => string): boolean {
  if (a === undefined) return true;
  const rv = b.metadata?.resourceVersion;
  if (rv !== undefined && rv !== '' && rv === a.metadata?.resourceVersion) return false;
  return fingerprint(a) !== fingerprint(b);
}

/** Called with a Service's ports of one family when they are read (as the Service arrives or changes). */
export type PortsRead = (family: IPFamily, ports: readonly ServicePort[]) => void;

export class ServiceChangeTracker {
  readonly #services = new Map<string, Service>();
  /** Service key → its reading per IP family (made on arrival for `families`, else on first use). */
  readonly #readings = new Map<string, Map<IPFamily, ServiceReading>>();
  readonly #families: readonly IPFamily[];
  readonly #portsRead: PortsRead | undefined;
  #pending = new Set<string>();

  /**
   * `families`: the IP families the proxy runs, whose readings are made as each Service arrives.
   * `portsRead`: told of each family's ports as they are read, so a back end can name them then.
   */
  constructor(families: readonly IPFamily[] = [], portsRead?: PortsRead) {
    this.#families = families;
    this.#portsRead = portsRead;
  }

  /** Records an add or update (`service`) or a delete (`undefined` with the old object); true when it changes something. */
  update(previous: Service | undefined, service: Service | undefined): boolean {
    const key = serviceKeyOf((service ?? previous)!);
    if (service === undefined) {
      if (!this.#services.delete(key)) return false;
      this.#readings.delete(key);
      this.#pending.add(key);
      return true;
    }
    const known = this.#services.get(key);
    this.#services.set(key, service);
    // Equal fingerprints: what the readings were made from is unchanged.
    if (!differs(known, service, serviceFingerprint)) return false;
    this.#readings.set(key, new Map(this.#families.map((f) => [f, this.#read(service, f)])));
    this.#pending.add(key);
    return true;
  }

  get(key: string): Service | undefined {
    return this.#services.get(key);
  }

  /** The Service read for one IP family (its ports, or why it is skipped); undefined when there is no such Service. */
  reading(key: string, family: IPFamily): ServiceReading | undefined {
    const service = this.#services.get(key);
    if (service === undefined) return undefined;
    const readings = entry(this.#readings, key, () => new Map<IPFamily, ServiceReading>());
    let reading = readings.get(family);
    if (reading === undefined) {
      reading = this.#read(service, family);
      readings.set(family, reading);
    }
    return reading;
  }

  keys(): IterableIterator<string> {
    return this.#services.keys();
  }

  #read(service: Service, family: IPFamily): ServiceReading {
    const reading = readService(service, family);
    if (reading.kind === 'ports') this.#portsRead?.(family, reading.ports);
    return reading;
  }

  get size(): number {
    return this.#services.size;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The Services changed since the last call. */
  take(): Set<string> {
    const taken = this.#pending;
    this.#pending = new Set();
    return taken;
  }
}

export interface EndpointsChange {
  /** endpoints.kubernetes.io/last-change-trigger-time of the changed slices (ms), for the programming latency. */
  triggerTimes: number[];
}

export class EndpointSliceChangeTracker {
  /** Service key → slice name → slice. */
  readonly #byService = new Map<string, Map<string, EndpointSlice>>();
  #pending = new Map<string, EndpointsChange>();

  /** Records a slice added, updated or (removed = true) deleted; true when it changes something. */
  update(slice: EndpointSlice, removed: boolean): boolean {
    const service = slice.metadata?.labels?.[labelServiceName];
    const ns = slice.metadata?.namespace;
    const name = slice.metadata?.name;
    if (!service || !ns || !name) return false;
    const serviceKey = `${ns}/${service}`;
    const slices = this.#byService.get(serviceKey);
    if (removed) {
      if (!slices?.delete(name)) return false;
      if (slices.size === 0) this.#byService.delete(serviceKey);
    } else {
      const known = slices?.get(name);
      entry(this.#byService, serviceKey, () => new Map<string, EndpointSlice>()).set(name, slice);
      if (!differs(known, slice, sliceFingerprint)) return false;
    }
    const change = entry(this.#pending, serviceKey, () => ({ triggerTimes: [] as number[] }));
    const trigger = Date.parse(slice.metadata?.annotations?.[annotationLastChangeTriggerTime] ?? '');
    if (!removed && Number.isFinite(trigger)) change.triggerTimes.push(trigger);
    return true;
  }

  slicesOf(serviceKey: string): Iterable<EndpointSlice> {
    return this.#byService.get(serviceKey)?.values() ?? [];
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The Services whose endpoints changed since the last call. */
  take(): Map<string, EndpointsChange> {
    const taken = this.#pending;
    this.#pending = new Map();
    return taken;
  }
}
