import { chmod, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCriLogLine } from '../../cri-client/logs/index.js';
import { podDir } from './pod-dirs.js';

/** Upstream's limits: the file is read up to 4 KiB; the log fallback takes 80 lines, 2 KiB. */
export const maxTerminationMessageBytes = 4096;
const fallbackLines = 80;
const fallbackBytes = 2048;

/** The host file mounted at the container's terminationMessagePath, one per attempt. */
export function terminationMessageFile(rootDir: string, uid: string, containerName: string, attempt: number): string {
  return join(podDir(rootDir, uid), 'containers', containerName, `termination-log-${attempt}`);
}

/** Creates the empty file; writable by any user, as the container may not run as root. */
export async function prepareTerminationMessageFile(path: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, '', { flag: 'w' });
  await chmod(path, 0o666);
}

/** The last lines of a CRI log file as plain text (what FallbackToLogsOnError reports). */
export function logTail(logText: string): string {
  const lines = logText
    .split('\n')
    .map((l) => parseCriLogLine(l))
    .filter((l) => l !== undefined)
    .map((l) => l.content + (l.partial ? '' : '\n'));
  const text = lines.slice(-fallbackLines).join('');
  return text.length > fallbackBytes ? text.slice(text.length - fallbackBytes) : text;
}

/**
 * What a finished container left as its termination message: the file's first 4 KiB; or,
 * under FallbackToLogsOnError, when the file is empty and the container failed, the tail
 * of its log. Missing files (a container from before this kubelet) give nothing.
 */
export async function readTerminationMessage(file: string, options: { policy: string; exitCode: number; logPath: string }): Promise<string> {
  let message = '';
  try {
    const handle = await open(file, 'r');
    try {
      const buf = Buffer.alloc(maxTerminationMessageBytes);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      message = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    message = '';
  }
  if (message === '' && options.policy === 'FallbackToLogsOnError' && options.exitCode !== 0 && options.logPath) {
    message = logTail(await readFile(options.logPath, 'utf8').catch(() => ''));
  }
  return message;
}
