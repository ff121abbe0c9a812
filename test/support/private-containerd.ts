// A second, private containerd (own root, state and socket under a temp dir) for tests
// that stop or misconfigure the runtime without disturbing the shared one.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateContainerd {
  endpoint: string;
  dir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its files. */
  destroy(): Promise<void>;
}

export function privateContainerd(options: { cri: boolean }): PrivateContainerd {
  const dir = mkdtempSync(join(tmpdir(), 'tskube-ctd-'));
  const socket = join(dir, 'containerd.sock');
  mkdirSync(join(dir, 'cni'), { recursive: true });
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
      '[plugins."io.containerd.grpc.v1.cri"]',
      '  restrict_oom_score_adj = true',
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      `    conf_dir = "${dir}/cni"`,
      '    bin_dir = "/usr/lib/cni"',
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
    async destroy() {
      await this.stop();
      // The overlay snapshotter may leave nothing mounted here (no containers ran).
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
