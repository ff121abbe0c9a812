// Network namespaces for tests that need real netfilter and real traffic without
// touching the host's: a lab creates namespaces, veth pairs, addresses and routes, runs
// processes inside, and removes all of it (deleting a namespace takes its links, nft
// tables, iptables chains and conntrack entries along). Names carry the test's pid so
// parallel runs and other helpers never collide.
import { type ChildProcess, spawn } from 'node:child_process';
import { processExec } from '../../src/proxy/exec/exec.js';

let counter = 0;

export const run = (args: string[], input?: string) => processExec.output(args[0]!, args.slice(1), input === undefined ? {} : { input });

export class NetLab {
  readonly prefix: string;
  readonly #namespaces: string[] = [];
  readonly #children = new Set<ChildProcess>();

  constructor(tag: string) {
    // Interface names stay within 15 characters; namespace names have no such limit.
    this.prefix = `tskp${tag}${process.pid % 100_000}x${counter++}`;
  }

  /** Creates a namespace with loopback up; returns its name. */
  async netns(name: string): Promise<string> {
    const ns = `${this.prefix}-${name}`;
    await run(['ip', 'netns', 'add', ns]);
    this.#namespaces.push(ns);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** `ip -n NS ...` */
  ip(ns: string, ...args: string[]): Promise<string> {
    return run(['ip', '-n', ns, ...args]);
  }

  exec(ns: string, command: string, ...args: string[]): Promise<string> {
    return run(['ip', 'netns', 'exec', ns, command, ...args]);
  }

  async sysctl(ns: string, key: string, value: string): Promise<void> {
    await this.exec(ns, 'sysctl', '-qw', `${key}=${value}`);
  }

  /**
   * A veth pair between two namespaces with an address on each end (CIDR notation), both
   * up. Returns the interface names (in a, in b).
   */
  async link(a: string, aAddr: string, b: string, bAddr: string): Promise<[string, string]> {
    const n = counter++;
    const ifA = `tkv${n}a`;
    const ifB = `tkv${n}b`;
    await run(['ip', 'link', 'add', ifA, 'netns', a, 'type', 'veth', 'peer', 'name', ifB, 'netns', b]);
    if (aAddr) await this.ip(a, 'addr', 'add', aAddr, 'dev', ifA);
    if (bAddr) await this.ip(b, 'addr', 'add', bAddr, 'dev', ifB);
    await this.ip(a, 'link', 'set', ifA, 'up');
    await this.ip(b, 'link', 'set', ifB, 'up');
    return [ifA, ifB];
  }

  /** Starts a long-running process in a namespace; it is killed at cleanup. */
  spawn(ns: string, command: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.add(child);
    child.on('exit', () => this.#children.delete(child));
    return child;
  }

  async cleanup(): Promise<void> {
    await Promise.all(
      [...this.#children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    for (const ns of this.#namespaces.splice(0).reverse()) await run(['ip', 'netns', 'del', ns]).catch(() => {});
  }
}

/** Waits until a spawned process prints `marker` on stdout (servers print "ready"). */
export function waitForOutput(child: ChildProcess, marker: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no "${marker}" from ${child.spawnargs.join(' ')} within ${timeoutMs} ms: ${err}`)), timeoutMs);
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout?.on('data', (c: Buffer) => {
      seen += c.toString();
      if (seen.includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${child.spawnargs.join(' ')} exited with ${code} before "${marker}": ${err}`));
    });
  });
}
