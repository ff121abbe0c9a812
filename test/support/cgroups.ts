// Removing a test's cgroup tree (a kubelet's cgroupRoot) after it, in every hierarchy.
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroupLayout } from '../../src/kubelet/cm/cgroup-layout.js';
import { cgroupRemovalDirs } from '../../src/kubelet/cm/plan-cgroup-writes.js';

/** Removes a cgroup and everything below it in every hierarchy, killing what still runs there. */
export async function removeCgroupTree(path: string): Promise<void> {
  const layout = await detectCgroupLayout();
  for (const dir of cgroupRemovalDirs(layout, path)) {
    for (let attempt = 0; existsSync(dir) && attempt < 5; attempt++) {
      try {
        removeTree(dir);
      } catch {
        killTree(dir);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

function removeTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(dir, e.name));
  rmdirSync(dir);
}

function killTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) killTree(join(dir, e.name));
  for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone
    }
  }
}
