// The last lines of a component's log, for error messages that show why it
// did not come up.
import { open } from 'node:fs/promises';

export async function logTail(file: string, lines = 30): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch {
    return `(no log at ${file})`;
  }
  try {
    const { size } = await handle.stat();
    // 256 KiB is far more than 30 lines of any component's log.
    const length = Math.min(size, 256 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const text = buffer.toString('utf8').trimEnd();
    return text === '' ? `(${file} is empty)` : text.split('\n').slice(-lines).join('\n');
  } finally {
    await handle.close();
  }
}
