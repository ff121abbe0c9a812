/*
 * The query of /containerLogs (v1.PodLogOptions as query parameters, the way the API
 * server forwards `kubectl logs`), decoded and validated as upstream does: an undecodable
 * value is a 400, a decodable but invalid combination a 422.
 */

export type LogStreamChoice = 'All' | 'Stdout' | 'Stderr';

export interface LogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  /** Milliseconds since the epoch, from sinceSeconds or sinceTime. */
  since?: number;
  limitBytes?: number;
  stream: LogStreamChoice;
}

export type ParsedLogOptions = { ok: true; options: LogOptions } | { ok: false; status: 400 | 422; message: string };

const falsy = new Set(['', '0', 'f', 'false', 'n', 'no']);
const bool = (v: string | null) => v !== null && !falsy.has(v.toLowerCase());

function int(v: string | null): number | undefined | 'bad' {
  if (v === null) return undefined;
  return /^[+-]?\d+$/.test(v.trim()) ? Number(v.trim()) : 'bad';
}

const decodeError = { ok: false, status: 400, message: '{"message": "Unable to decode query."}' } as const;
const invalid = { ok: false, status: 422, message: '{"message": "Invalid request."}' } as const;

export function parseLogOptions(query: URLSearchParams, now: number): ParsedLogOptions {
  // The old "tail" parameter; "all" means no tail.
  const tail = query.get('tail');
  const tailLines = int(tail !== null && tail !== '' ? (tail === 'all' ? null : tail) : query.get('tailLines'));
  const sinceSeconds = int(query.get('sinceSeconds'));
  const limitBytes = int(query.get('limitBytes'));
  if (tailLines === 'bad' || sinceSeconds === 'bad' || limitBytes === 'bad') return decodeError;
  const sinceTimeText = query.get('sinceTime');
  const sinceTime = sinceTimeText === null ? undefined : Date.parse(sinceTimeText);
  if (sinceTime !== undefined && (Number.isNaN(sinceTime) || !/^\d{4}-\d\d-\d\dT/.test(sinceTimeText ?? ''))) return decodeError;
  const stream = (query.get('stream') ?? 'All') as LogStreamChoice;

  if (tailLines !== undefined && tailLines < 0) return invalid;
  if (limitBytes !== undefined && limitBytes < 1) return invalid;
  if (sinceSeconds !== undefined && sinceSeconds < 1) return invalid;
  if (sinceSeconds !== undefined && sinceTime !== undefined) return invalid;
  if (!['All', 'Stdout', 'Stderr'].includes(stream)) return invalid;
  // Upstream: a tail of one stream alone is not supported yet.
  if (stream !== 'All' && tailLines !== undefined) return invalid;

  const options: LogOptions = { follow: bool(query.get('follow')), previous: bool(query.get('previous')), timestamps: bool(query.get('timestamps')), stream };
  if (tailLines !== undefined) options.tailLines = tailLines;
  if (limitBytes !== undefined) options.limitBytes = limitBytes;
  if (sinceSeconds !== undefined) options.since = now - sinceSeconds * 1000;
  if (sinceTime !== undefined) options.since = sinceTime;
  return { ok: true, options };
}
