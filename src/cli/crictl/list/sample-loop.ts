import { TskubeError } from '../../../common/errors.js';
import { sleep } from '../../../common/sleep.js';
import { parseInteger } from '../../args.js';
import type { CommandIo } from '../../io.js';
import { toJson, type OutputFormat } from '../output.js';
import { toSortedYaml, withoutNulls } from './proto-json.js';

/** --seconds/-s: the CPU sampling interval, a positive whole number of seconds. */
export function parseSeconds(text: string | undefined): number {
  const seconds = parseInteger(text, '--seconds', 1);
  if (seconds < 0) throw new TskubeError('invalid-argument', `--seconds: want 0 or more, got ${seconds}`);
  return seconds;
}

/** Waits, or returns false when the command was cancelled (Ctrl-C ends --watch cleanly). */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  await sleep(ms, signal);
  return !signal.aborted;
}

/**
 * Runs `show` once, or with --watch until cancelled, clearing a terminal between
 * screens (only a terminal: escape codes in a pipe are noise).
 */
export async function displayLoop(io: CommandIo, watch: boolean, show: () => Promise<string>): Promise<void> {
  if (!watch) {
    io.stdout.write(await show());
    return;
  }
  while (!io.signal.aborted) {
    let screen: string;
    try {
      screen = await show();
    } catch (err) {
      if (io.signal.aborted) return;
      throw err;
    }
    io.stdout.write(io.stdoutIsTTY ? `\x1b[2J\x1b[H${screen}` : screen);
    if (!(await pause(500, io.signal))) return;
  }
}

/**
 * One screen of `stats`/`statsp`: the stats as JSON or YAML, or a table of the usage
 * between two samples `seconds` apart (CPU is a rate, so a table needs both).
 */
export async function statsScreen<T>(
  format: OutputFormat,
  seconds: number,
  signal: AbortSignal,
  sample: () => Promise<T[]>,
  table: (before: T[], after: T[]) => string,
): Promise<string> {
  if (format === 'json') return `${toJson(withoutNulls({ stats: await sample() }))}\n`;
  if (format === 'yaml') return toSortedYaml(withoutNulls({ stats: await sample() }));
  const before = await sample();
  if (!(await pause(seconds * 1000, signal))) return '';
  return table(before, await sample());
}
