import { readFile, stat } from 'node:fs/promises';

/**
 * Whether this kernel enforces AppArmor, read once at start as upstream does (securityfs has
 * an apparmor directory and the module says Y): a kubelet restart picks up a change.
 */
export async function hostAppArmorEnabled(): Promise<boolean> {
  try {
    await stat('/sys/kernel/security/apparmor');
    return (await readFile('/sys/module/apparmor/parameters/enabled', 'utf8')).startsWith('Y');
  } catch {
    return false;
  }
}
