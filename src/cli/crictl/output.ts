import { TskubeError } from '../../common/errors.js';
import { loadYaml } from '../../common/yaml.js';
import type { Output } from '../io.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** Validates -o/--output; names the value when it is not one we print. */
export function parseOutputFormat(value: string | undefined, allowed: readonly OutputFormat[] = ['table', 'json', 'yaml']): OutputFormat {
  const v = value ?? allowed[0] ?? 'table';
  if ((allowed as readonly string[]).includes(v)) return v as OutputFormat;
  throw new TskubeError('invalid-argument', `unsupported output format "${v}" (want one of: ${allowed.join(', ')})`);
}

/** JSON as crictl prints it: two-space indent, camelCase keys, int64 as strings. */
export function toJson(value: unknown): string {
  // Buffer.toJSON runs before a replacer sees the value: catch its {type, data} shape.
  const replacer = (_k: string, v: unknown) => {
    const b = v as { type?: unknown; data?: unknown } | null;
    return b && b.type === 'Buffer' && Array.isArray(b.data) ? Buffer.from(b.data as number[]).toString('base64') : v;
  };
  return JSON.stringify(value, replacer, 2);
}

export async function toYaml(value: unknown): Promise<string> {
  const { stringify } = await loadYaml();
  // Round-trip through JSON so Buffers and undefined fields look as they do in -o json.
  return stringify(JSON.parse(toJson(value)));
}

export async function printStructured(out: Output, format: 'json' | 'yaml', value: unknown): Promise<void> {
  out.write(format === 'json' ? `${toJson(value)}\n` : await toYaml(value));
}

/**
 * Column output like Go's tabwriter as crictl configures it: each column at least
 * `minWidth` wide and padded by `padding` spaces.
 */
export function formatTable(header: string[], rows: string[][], options: { minWidth?: number; padding?: number } = {}): string {
  const minWidth = options.minWidth ?? 20;
  const padding = options.padding ?? 3;
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(minWidth, ...all.map((r) => (r[i] ?? '').length + padding)));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? minWidth)))
        .join('')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** Truncates a 64-hex ID to crictl's 13 characters unless --no-trunc. */
export function shortId(id: string, noTrunc = false): string {
  const bare = id.startsWith('sha256:') ? id.slice('sha256:'.length) : id;
  return noTrunc ? id : bare.slice(0, 13);
}

/** "About a minute ago", "3 hours ago": the human times crictl prints (Go's go-units HumanDuration). */
export function humanAgo(nanos: string | bigint, now: Date = new Date()): string {
  const then = Number(BigInt(nanos) / 1_000_000n);
  return `${humanDuration(now.getTime() - then)} ago`;
}

export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}
