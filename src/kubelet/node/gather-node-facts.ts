// NodeFacts from the machine: /proc/meminfo and os.cpus() for memory and CPUs; the kernel's own
// files for the IDs, PID counts and the default route; statfs for the filesystem under
// the kubelet's root dir. What cannot change while the kubelet runs
// (IDs, kernel, OS image, cores) is read once; the rest on every call.
import { lookup } from 'node:dns/promises';
import { readFile, statfs } from 'node:fs/promises';
import { cpus, networkInterfaces, hostname as osHostname, release } from 'node:os';
import { dirname } from 'node:path';
import { TskubeError } from '../../common/errors.js';
import { defaultRouteAddress, defaultRouteInterfaces } from './default-route.js';
import type { NodeFacts } from './node-facts.js';
import { meminfoBytes } from '../../common/meminfo.js';

export interface GatherOptions {
  /** The kubelet's root dir (--root-dir); its filesystem is the node's ephemeral storage. */
  rootDir: string;
  /** Look up the host's own addresses (only needed when --node-ip is not given). */
  detectHostIPs: boolean;
  /** Where /proc, /sys and /etc are; tests point it elsewhere. */
  hostRoot?: string;
}

/** Node's process.arch as Go's GOARCH, which is what kubernetes.io/arch holds. */
export function goArch(arch: string): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    ia32: '386',
    arm: 'arm',
    arm64: 'arm64',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
    loong64: 'loong64',
  };
  return map[arch] ?? arch;
}

/** PRETTY_NAME from an os-release file, as nodeInfo.osImage. */
export function prettyName(osRelease: string): string | undefined {
  for (const line of osRelease.split('\n')) {
    const m = /^PRETTY_NAME=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined) return m[1].replace(/^(["'])(.*)\1$/, '$2');
  }
  return undefined;
}

/** Scheduling entities in use, from /proc/loadavg's "running/total" field. */
export function pidsFromLoadavg(loadavg: string): number | undefined {
  const total = loadavg.trim().split(/\s+/)[3]?.split('/')[1];
  const n = Number(total);
  return total !== undefined && Number.isInteger(n) ? n : undefined;
}

type StaticFacts = Pick<
  NodeFacts,
  'hostname' | 'kernelVersion' | 'osImage' | 'architecture' | 'operatingSystem' | 'machineID' | 'systemUUID' | 'bootID' | 'cpuCores'
>;

/**
 * Memory from /proc/meminfo as cadvisor and systeminformation read it: MemTotal, and
 * MemAvailable (on kernels before 3.14, free plus buffers, cache and reclaimable slab).
 */
export function memoryFromMeminfo(text: string): { total: number; available: number } {
  const kib = (field: string): number => meminfoBytes(text, field);
  const available = kib('MemAvailable') || kib('MemFree') + kib('Buffers') + kib('Cached') + kib('SReclaimable');
  return { total: kib('MemTotal'), available };
}

/** Where cadvisor reads the system UUID, in its order, before the machine ID (s390x): DMI, then POWER's device tree. */
const hardwareUUIDSources = ['/sys/class/dmi/id/product_uuid', '/proc/device-tree/system-id', '/proc/device-tree/vm,uuid'];

/**
 * The system UUID as cadvisor gives it: the first of hardwareUUIDSources, then the machine ID, that could be read
 * (the device tree's end in NULs), or '' when none could.
 */
export function systemUUIDFrom(contents: (string | undefined)[]): string {
  const first = contents.find((c) => c !== undefined);
  return first === undefined ? '' : first.replace(/\0+$/, '').trim();
}

/**
 * systeminformation, only for the fallback with no os-release: loading it costs the
 * kubelet ~10 MiB of RSS (a bare node: 4.6 anonymous, 5.4 file-backed).
 */
async function systeminformation(): Promise<typeof import('systeminformation')> {
  const mod = await import('systeminformation');
  return (mod as { default?: typeof import('systeminformation') }).default ?? mod;
}

export class NodeFactsGatherer {
  readonly #options: GatherOptions;
  readonly #root: string;
  #staticFacts: Promise<StaticFacts> | undefined;

  constructor(options: GatherOptions) {
    this.#options = options;
    this.#root = options.hostRoot ?? '';
  }

  async gather(): Promise<NodeFacts> {
    this.#staticFacts ??= this.#gatherStatic();
    const fixed = await this.#staticFacts.catch((err: unknown) => {
      // A failed first read is retried on the next call rather than cached.
      this.#staticFacts = undefined;
      throw err;
    });
    const [meminfo, fs, pidMax, loadavg, hostIPs] = await Promise.all([
      this.#readText('/proc/meminfo'),
      this.#rootfs(),
      this.#readText('/proc/sys/kernel/pid_max'),
      this.#readText('/proc/loadavg'),
      this.#options.detectHostIPs ? this.#hostIPs(fixed.hostname) : Promise.resolve([]),
    ]);
    const mem = memoryFromMeminfo(meminfo);
    if (!(mem.total > 0)) throw new TskubeError('internal', 'node facts: /proc/meminfo has no MemTotal');
    return {
      ...fixed,
      memoryBytes: mem.total,
      memoryAvailableBytes: mem.available,
      rootfsBytes: fs.bytes,
      rootfsAvailableBytes: fs.available,
      pidMax: Number(pidMax.trim()) || 0,
      pidsInUse: pidsFromLoadavg(loadavg) ?? 0,
      hostIPs,
    };
  }

  async #gatherStatic(): Promise<StaticFacts> {
    const [osRelease, machineID, hardwareUUIDs, bootID] = await Promise.all([
      this.#readOptional('/etc/os-release'),
      this.#readOptional('/etc/machine-id'),
      Promise.all(hardwareUUIDSources.map((path) => this.#readOptional(path))),
      this.#readText('/proc/sys/kernel/random/boot_id'),
    ]);
    let osImage = osRelease === undefined ? undefined : prettyName(osRelease);
    if (osImage === undefined) {
      const os = await (await systeminformation()).osInfo();
      osImage = [os.distro, os.release, os.codename ? `(${os.codename})` : ''].filter(Boolean).join(' ');
    }
    // No DMI in containers and some VMs: then, as upstream, the device tree's or the machine ID.
    const systemUUID = systemUUIDFrom([...hardwareUUIDs, machineID]);
    // Logical CPUs, as cadvisor counts them (systeminformation's cores is the same count).
    const cpuCores = cpus().length;
    if (!(cpuCores > 0)) throw new TskubeError('internal', 'node facts: no CPUs reported (is /proc/cpuinfo readable?)');
    return {
      hostname: osHostname(),
      kernelVersion: release(),
      osImage,
      architecture: goArch(process.arch),
      operatingSystem: process.platform,
      machineID: (machineID ?? (await this.#readOptional('/var/lib/dbus/machine-id')) ?? '').trim(),
      systemUUID,
      bootID: bootID.trim(),
      cpuCores,
    };
  }

  /** statfs of the root dir, or of its nearest existing parent before the kubelet made it. */
  async #rootfs(): Promise<{ bytes: number; available: number }> {
    let dir = this.#options.rootDir;
    for (;;) {
      try {
        const s = await statfs(dir);
        return { bytes: s.blocks * s.bsize, available: s.bavail * s.bsize };
      } catch (err) {
        const parent = dirname(dir);
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) {
          throw TskubeError.from(err, 'internal').wrap(`node facts: statfs ${dir} (the filesystem of root dir ${this.#options.rootDir})`);
        }
        dir = parent;
      }
    }
  }

  /** Upstream: the node name's DNS addresses that are not loopback, else the default route's interface. */
  async #hostIPs(host: string): Promise<string[]> {
    try {
      const addrs = await lookup(host, { all: true });
      const usable = addrs.map((a) => a.address).filter((a) => !a.startsWith('127.') && a !== '::1');
      if (usable.length > 0) return usable.slice(0, 1);
    } catch {
      // Not resolvable: fall through to the default interface.
    }
    // Not systeminformation's networkInterfaces(): it runs several commands per interface, synchronously
    // (each pod adds a veth), which held the kubelet's event loop for ~1 s per node status update.
    const [route, ipv6Route] = await Promise.all([this.#readOptional('/proc/net/route'), this.#readOptional('/proc/net/ipv6_route')]);
    const address = defaultRouteAddress(defaultRouteInterfaces(route ?? '', ipv6Route ?? ''), networkInterfaces());
    return address ? [address] : [];
  }

  async #readText(path: string): Promise<string> {
    try {
      return await readFile(this.#root + path, 'utf8');
    } catch (err) {
      throw TskubeError.from(err, 'internal').wrap(`node facts: reading ${this.#root + path}`);
    }
  }

  async #readOptional(path: string): Promise<string | undefined> {
    try {
      return await readFile(this.#root + path, 'utf8');
    } catch {
      return undefined;
    }
  }
}
