// Making sure the control plane binaries exist, by running build.sh (which
// returns at once when its cache is warm).
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { BINARIES, BUILD_SCRIPT, binDir, type Binary } from './paths.ts';

export async function ensureBinaries(): Promise<string> {
  const out = await new Promise<string>((resolve, reject) => {
    // stderr passes through: a cold build's progress lines should reach
    // whoever waits for it.
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', (err) => reject(new Error(`cannot run ${BUILD_SCRIPT}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout.trim());
      else reject(new Error(`${BUILD_SCRIPT} failed (${signal ?? `exit ${String(code)}`}); its messages are above`));
    });
  });
  const dir = out.split('\n').pop() || binDir();
  await checkBinaries(dir);
  return dir;
}

export async function checkBinaries(dir: string): Promise<void> {
  for (const name of BINARIES) {
    try {
      await access(join(dir, name), constants.X_OK);
    } catch {
      throw new Error(`control plane binary ${name} missing in ${dir}; run test/testbed/build.sh`);
    }
  }
}

export function binary(dir: string, name: Binary): string {
  return join(dir, name);
}
