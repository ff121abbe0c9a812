// What the CNI tests share: the two plugin sets, and a test "host" of their own, a
// network namespace in which the plugins run (`ip netns exec HOST plugin`). Bridges,
// veths, iptables rules and routes all land there, so the machine's own network is
// never touched, and deleting the namespace takes everything with it, also after a
// failed test. Pod namespaces are more namespaces the test creates.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cni, type CniOptions } from '../../src/cni/cni.js';
import { parseNetworkConfig } from '../../src/cni/config/parse-network-config.js';
import type { NetworkConfig } from '../../src/cni/network-config.js';
import { prefixedPluginExec } from '../../src/cni/plugin-exec.js';

export interface PluginSet {
  name: string;
  dir: string;
  /** The newest CNI version its plugins speak. */
  newest: string;
}

const cacheRoot = process.env['TSKUBE_CACHE'] ?? join(homedir(), '.cache/tskube');
export const v110PluginDir = join(cacheRoot, 'cni-plugins/v1.10.0/bin');

export const pluginSets: PluginSet[] = [
  { name: "Debian's containernetworking-plugins (1.1.1)", dir: '/usr/lib/cni', newest: '1.0.0' },
  { name: 'plugins v1.10.0 from the Go module', dir: v110PluginDir, newest: '1.1.0' },
];

export function requirePlugins(set: PluginSet): void {
  for (const p of ['bridge', 'host-local', 'portmap', 'loopback']) {
    if (!existsSync(join(set.dir, p))) {
      throw new Error(`${set.name}: no ${p} in ${set.dir} (Debian: scripts/setup; v1.10: test/cni-plugins/build.sh)`);
    }
  }
}

/** The pod CIDR scripts/setup blackholes on the machine; test subnets come from inside it. */
export const podCidr = '10.88.0.0/16';

/** DESIGN's rule: no test traffic before the pod CIDR is blackholed on the machine. */
export function requireBlackhole(): void {
  const routes = execFileSync('ip', ['route', 'show', 'type', 'blackhole'], { encoding: 'utf8' });
  if (!routes.split('\n').some((l) => l.trim().split(/\s+/).includes(podCidr)))
    throw new Error(`no blackhole route for ${podCidr} on this machine: run scripts/setup first`);
}

export function gatewayOf(octet: number): string {
  return `10.88.${octet}.1`;
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a command in a namespace; resolves with stdout, rejects with stderr. */
export function inNetns(ns: string, command: string[], timeoutMs = 10_000): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...command], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A test host: its namespace, folders for IPAM leases, the result cache and configs,
 * and the cleanups that undo each step (run in reverse by `destroy`, each on its own).
 */
export class TestHost {
  readonly id = randomBytes(3).toString('hex');
  readonly hostNs = `tskc-${this.id}-host`;
  readonly dir = mkdtempSync(join(tmpdir(), 'tskube-cni-test-'));
  readonly dataDir = join(this.dir, 'ipam');
  readonly cacheDir = join(this.dir, 'cache');
  readonly confDir = join(this.dir, 'net.d');
  readonly fakePluginDir = join(this.dir, 'fake-plugins');
  #cleanups: (() => void)[] = [];
  #children: ChildProcess[] = [];

  constructor() {
    this.#cleanups.push(() => rmSync(this.dir, { recursive: true, force: true }));
    for (const d of [this.dataDir, this.cacheDir, this.confDir, this.fakePluginDir]) mkdirSync(d, { recursive: true });
    this.netns(this.hostNs);
    // Belt and braces: whatever this host would route to the pod CIDR goes nowhere.
    ip('-n', this.hostNs, 'link', 'set', 'lo', 'up');
    ip('-n', this.hostNs, 'route', 'add', 'blackhole', podCidr);
  }

  /** A namespace removed at cleanup (unless the test removed it first). */
  netns(name: string): string {
    ip('netns', 'add', name);
    this.#cleanups.push(() => {
      if (existsSync(`/run/netns/${name}`)) ip('netns', 'del', name);
    });
    return `/run/netns/${name}`;
  }

  podNs(role: string): { name: string; path: string } {
    const name = `tskc-${this.id}-${role}`;
    return { name, path: this.netns(name) };
  }

  /** The library, running plugins inside the test host. */
  cni(set: PluginSet, options: Partial<CniOptions> = {}): Cni {
    return new Cni({
      pluginDirs: [this.fakePluginDir, set.dir],
      cacheDir: this.cacheDir,
      exec: prefixedPluginExec(['ip', 'netns', 'exec', this.hostNs]),
      ...options,
    });
  }

  /**
   * bridge (host-local) + portmap + loopback, as in the issue, with pods in
   * 10.88.<octet>.0/24 on a bridge of their own (inside this host's namespace: no other test sees it);
   * `cniVersions` lets each plugin set speak its newest.
   */
  network(name: string, octet: number, extraPlugins: unknown[] = [], overrides: Record<string, unknown> = {}): NetworkConfig {
    const doc = {
      cniVersion: '1.1.0',
      cniVersions: ['0.4.0', '1.0.0', '1.1.0'],
      name,
      plugins: [
        {
          type: 'bridge',
          bridge: this.bridgeOf(octet),
          isGateway: true,
          ipam: {
            type: 'host-local',
            dataDir: this.dataDir,
            ranges: [[{ subnet: `10.88.${octet}.0/24`, gateway: gatewayOf(octet) }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'loopback' },
        ...extraPlugins,
      ],
      ...overrides,
    };
    const file = join(this.confDir, `10-${name}.conflist`);
    writeFileSync(file, JSON.stringify(doc, null, 2));
    return parseNetworkConfig(JSON.stringify(doc, null, 2), file, 'conflist');
  }

  /** One bridge per subnet: the bridge plugin keeps one gateway address per bridge. */
  bridgeOf(octet: number): string {
    return `tkc${this.id}-${octet}`;
  }

  /** Addresses host-local holds for a network: its lease files. */
  leases(network: string): string[] {
    try {
      return readdirSync(join(this.dataDir, network)).filter((f) => /^[0-9a-f.:]+$/.test(f));
    } catch {
      return [];
    }
  }

  cacheEntries(): string[] {
    try {
      return readdirSync(join(this.cacheDir, 'results'));
    } catch {
      return [];
    }
  }

  /** veth interfaces in the test host: a leaked attachment shows here. */
  veths(): string[] {
    return ip('-n', this.hostNs, '-o', 'link', 'show', 'type', 'veth')
      .split('\n')
      .flatMap((l) => (/^\d+:\s+([^@:]+)/.exec(l)?.[1] ? [/^\d+:\s+([^@:]+)/.exec(l)?.[1] as string] : []));
  }

  /** Writes a plugin of the test's own into the fake plugin folder (searched first). */
  fakePlugin(type: string, script: string): void {
    writeFileSync(join(this.fakePluginDir, type), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  }

  /** A process in a namespace, killed at cleanup. */
  background(ns: string, command: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...command], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    this.#children.push(child);
    return child;
  }

  destroy(): void {
    for (const c of this.#children.splice(0)) {
      try {
        if (c.pid !== undefined && c.exitCode === null) process.kill(-c.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    const errors: unknown[] = [];
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        cleanup();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw new AggregateError(errors, `cleanup of test host ${this.hostNs} failed`);
  }
}
