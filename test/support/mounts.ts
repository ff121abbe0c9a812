// Mounts a test left under its own folder (a kubelet's volumes, a private containerd's
// rootfs): unmounted deepest first before the folder is removed, so a recursive delete
// never walks into a live mount.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mountsUnder } from '../../src/kubelet/volumes/mount-info.js';

export function unmountUnder(dir: string): void {
  const targets = mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), dir).sort((a, b) => b.length - a.length);
  for (const target of targets) execFileSync('umount', ['-l', target]);
}
