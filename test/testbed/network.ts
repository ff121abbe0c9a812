// The testbed's own network namespace (`up --netns`): the control plane runs in it with a
// routed address, so the apiserver's advertise address is real, the `kubernetes` Service
// gets an endpoint, and pods on this host reach the API at its ClusterIP through a
// service proxy. The address comes from 198.18.0.0/15 (RFC 2544, benchmarking: never
// routed on the Internet), one /30 per testbed on a veth pair; nothing leaves the machine.
//
//   host: tbh<N> 198.18.x.y+1/30 ──veth── ns tskube-testbed-<N>: tbn<N> 198.18.x.y+2/30, default via the host end
import { readFile } from 'node:fs/promises';
import { run } from './exec.ts';

export interface TestbedNetwork {
  netns: string;
  hostLink: string;
  hostAddress: string;
  /** The control plane's address, inside the namespace. */
  address: string;
}

/** Addresses already on this host, to pick a /30 nobody uses. */
async function hostAddresses(): Promise<Set<string>> {
  const out = await run('ip', ['-o', '-4', 'addr', 'show']);
  return new Set([...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!));
}

async function netnsExists(name: string): Promise<boolean> {
  return readFile(`/run/netns/${name}`).then(
    () => true,
    (err: NodeJS.ErrnoException) => err.code === 'EISDIR' || err.code === 'EACCES',
  );
}

export async function createNetwork(): Promise<TestbedNetwork> {
  const used = await hostAddresses();
  for (let attempt = 0; attempt < 50; attempt++) {
    const n = Math.floor(Math.random() * 32_768);
    const base = n * 4;
    const third = 18 + (base >> 16);
    const prefix = `198.${third}.${(base >> 8) & 255}.`;
    const hostAddress = `${prefix}${(base & 255) + 1}`;
    const address = `${prefix}${(base & 255) + 2}`;
    const netns = `tskube-testbed-${n}`;
    if (used.has(hostAddress) || used.has(address) || (await netnsExists(netns))) continue;
    const hostLink = `tbh${n}`;
    const nsLink = `tbn${n}`;
    await run('ip', ['netns', 'add', netns]);
    try {
      await run('ip', ['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', nsLink, 'netns', netns]);
      await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostLink]);
      await run('ip', ['link', 'set', hostLink, 'up']);
      await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', netns, 'addr', 'add', `${address}/30`, 'dev', nsLink]);
      await run('ip', ['-n', netns, 'link', 'set', nsLink, 'up']);
      await run('ip', ['-n', netns, 'route', 'add', 'default', 'via', hostAddress]);
    } catch (err) {
      await removeNetwork({ netns, hostLink, hostAddress, address });
      throw err;
    }
    return { netns, hostLink, hostAddress, address };
  }
  throw new Error('testbed up: found no free /30 in 198.18.0.0/15 for the control plane namespace');
}

/** Removes the namespace (which takes the veth pair with it); quiet when already gone. */
export async function removeNetwork(net: TestbedNetwork): Promise<void> {
  await run('ip', ['netns', 'del', net.netns]).catch(() => undefined);
  await run('ip', ['link', 'del', net.hostLink]).catch(() => undefined);
}
