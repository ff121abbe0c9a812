// An in-memory mount table behind the volume manager's Mounter seam, for unit tests of
// the kubelet's ordering (volumes before containers, teardown after): mounts are entries
// in a table, files land in the real directories beneath them. The integration and e2e
// tests use mount(8) for real.
import { existsSync } from 'node:fs';
import type { MountPoint } from '../../src/kubelet/volumes/mount-info.js';
import type { Mounter } from '../../src/kubelet/volumes/mounter.js';

export class FakeMounter implements Mounter {
  readonly table: MountPoint[] = [{ mountPoint: '/', root: '/', fsType: 'ext4', source: '/dev/vda', options: 'rw', superOptions: 'rw', propagates: false }];
  /** Every call, in order: "tmpfs <target> <size>", "bind <source> <target>", "shared <path>", "umount <target>". */
  readonly calls: string[] = [];
  /** A tmpfs mount at a target whose path includes the key fails with the message. */
  readonly failTmpfs = new Map<string, string>();

  async mounts(): Promise<MountPoint[]> {
    return this.table.map((m) => ({ ...m }));
  }

  async mountTmpfs(target: string, sizeBytes?: number): Promise<void> {
    this.calls.push(`tmpfs ${target} ${sizeBytes ?? ''}`.trim());
    for (const [key, message] of this.failTmpfs) if (target.includes(key)) throw new Error(message);
    if (!existsSync(target)) throw new Error(`mount: ${target}: mount point does not exist.`);
    this.table.push({
      mountPoint: target,
      root: '/',
      fsType: 'tmpfs',
      source: 'tmpfs',
      options: 'rw',
      superOptions: `rw,size=${sizeBytes}`,
      propagates: false,
    });
  }

  async bind(source: string, target: string): Promise<void> {
    this.calls.push(`bind ${source.replace(/\/proc\/\d+\/fd\/\d+/, '/proc/<pid>/fd/<n>')} ${target}`);
    this.table.push({ mountPoint: target, root: '/', fsType: 'ext4', source, options: 'rw', superOptions: 'rw', propagates: false });
  }

  async makeShared(path: string): Promise<void> {
    this.calls.push(`shared ${path}`);
    this.table.push({ mountPoint: path, root: path, fsType: 'ext4', source: '/dev/vda', options: 'rw', superOptions: 'rw', propagates: true });
  }

  async unmount(target: string): Promise<void> {
    this.calls.push(`umount ${target}`);
    const i = this.table.findLastIndex((m) => m.mountPoint === target);
    if (i < 0) throw new Error(`umount: ${target}: not mounted.`);
    this.table.splice(i, 1);
  }

  /** The mount points under `dir`, for assertions. */
  under(dir: string): string[] {
    return this.table.map((m) => m.mountPoint).filter((p) => p.startsWith(`${dir}/`));
  }
}
