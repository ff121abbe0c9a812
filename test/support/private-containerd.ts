// A second, private containerd (own root, state and socket under a temp dir) for tests
// that stop or misconfigure the runtime without disturbing the shared one.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriClient } from '../../src/cri-client/index.js';
import { unmountUnder } from './mounts.js';

export interface PrivateContainerd {
  endpoint: string;
  dir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Copies images from the shared containerd (k8s.io namespace) into this one. */
  importImages(refs: string[]): void;
  /**
   * Removes its pod sandboxes (so containerd deletes their network namespaces and CNI
   * attachments: nobody can once it is gone), stops it, ends any shim it left, unmounts
   * what is under its folder and removes its files.
   */
  destroy(): Promise<void>;
}

const sharedCniConf = '/etc/cni/net.d/10-tskube-bridge.conflist';
const pauseImage = 'registry.k8s.io/pause:3.10';

export interface PrivateContainerdOptions {
  /** Serve CRI at all. */
  cri: boolean;
  /** Also the setup's CNI network (the same bridge and IP store, so addresses never collide with the shared runtime's) and its sandbox image. */
  pods?: boolean;
  /** Instead of the setup's network: these CNI folders (and the sandbox image). */
  cni?: { confDir: string; binDir: string };
  /** Serve Prometheus metrics here (host:port), e.g. for containerd's own CNI timings. */
  metricsAddress?: string;
}

export function privateContainerd(options: PrivateContainerdOptions): PrivateContainerd {
  const dir = mkdtempSync(join(tmpdir(), 'tskube-ctd-'));
  const socket = join(dir, 'containerd.sock');
  mkdirSync(join(dir, 'cni'), { recursive: true });
  if (options.pods) copyFileSync(sharedCniConf, join(dir, 'cni', '10-tskube-bridge.conflist'));
  const withPods = options.pods || options.cni !== undefined;
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      options.cri ? '' : 'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${socket}.ttrpc"`,
      options.metricsAddress ? `[metrics]\n  address = "${options.metricsAddress}"` : '',
      '[plugins."io.containerd.grpc.v1.cri"]',
      '  restrict_oom_score_adj = true',
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      withPods ? `  sandbox_image = "${pauseImage}"` : '',
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      `    conf_dir = "${options.cni?.confDir ?? `${dir}/cni`}"`,
      `    bin_dir = "${options.cni?.binDir ?? '/usr/lib/cni'}"`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;

  async function waitFor(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`private containerd in ${dir}: ${what} within 10 s`);
  }

  return {
    endpoint: `unix://${socket}`,
    dir,
    async start() {
      child = spawn('containerd', ['--config', join(dir, 'config.toml'), '--log-level', 'warn'], { stdio: 'ignore' });
      await waitFor(() => existsSync(socket), 'no socket');
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (c.exitCode === null) c.kill('SIGKILL');
      rmSync(socket, { force: true });
    },
    importImages(refs) {
      for (const ref of refs) {
        const archive = execFileSync('ctr', ['-n', 'k8s.io', 'images', 'export', '-', ref], { maxBuffer: 256 * 1024 * 1024 });
        execFileSync('ctr', ['--address', socket, '-n', 'k8s.io', 'images', 'import', '-'], { input: archive, stdio: ['pipe', 'ignore', 'inherit'] });
      }
    },
    async destroy() {
      if (child && child.exitCode === null) await removeSandboxes(`unix://${socket}`);
      await this.stop();
      killShimsOf(socket);
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Best effort: a sandbox that will not go is left to the shim and mount cleanup after. */
async function removeSandboxes(endpoint: string): Promise<void> {
  const cri = new CriClient({ endpoint, timeoutMs: 30_000 });
  try {
    const { items } = await cri.runtime.call('ListPodSandbox', {});
    for (const { id } of items) {
      await cri.runtime.call('StopPodSandbox', { podSandboxId: id }).catch(() => undefined);
      await cri.runtime.call('RemovePodSandbox', { podSandboxId: id }).catch(() => undefined);
    }
  } catch {
    // No CRI (cri: false), or it does not answer: nothing to remove through it.
  } finally {
    cri.close();
  }
}

/** Shims outlive their containerd by design; a test's private one must not leave any. */
function killShimsOf(socket: string): void {
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (cmdline.startsWith('containerd-shim') || cmdline.includes('/containerd-shim')) {
      if (cmdline.split('\0').includes(socket)) process.kill(Number(pid), 'SIGKILL');
    }
  }
}
