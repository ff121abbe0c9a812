import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { TskubeError } from '../common/errors.js';

export type OptionSpec = ParseArgsOptionsConfig;

/**
 * Parses a subcommand's arguments with node:util parseArgs, turning its errors into
 * one line that names the flag, as urfave/cli-based tools (crictl) do.
 * Flags may follow positionals (`crictl rm ID -f`), and `--` ends flags.
 */
export function parseFlags<T extends OptionSpec>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    const flag = /'(-[^']*)'/.exec(e.message)?.[1];
    switch (e.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new TskubeError('invalid-argument', `flag provided but not defined: ${flag ?? e.message}`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        throw new TskubeError('invalid-argument', flag ? `flag needs an argument: ${flag}` : e.message);
      default:
        throw new TskubeError('invalid-argument', e.message);
    }
  }
}

/** Parses a Go-style duration ("2s", "500ms", "1m30s", or bare seconds) into milliseconds. */
export function parseDuration(text: string, what: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * (units[m[2] ?? ''] ?? 0);
    matched = re.lastIndex;
  }
  if (t === '' || matched !== t.length) throw new TskubeError('invalid-argument', `${what}: invalid duration "${text}" (want e.g. 2s, 500ms, 1m30s)`);
  return Math.round(total);
}

/** Parses a whole number flag, naming the flag when it is not one. */
export function parseInteger(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^-?\d+$/.test(text.trim())) throw new TskubeError('invalid-argument', `${what}: invalid value "${text}" (want a whole number)`);
  return Number(text);
}
