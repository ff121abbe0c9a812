import path from 'node:path';
import { TskubeError } from '../../../common/errors.js';
import { readLogs } from '../../../cri-client/logs/index.js';
import { parseDuration, parseFlags, parseInteger } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { resolveContainerIds } from '../resolve-id.js';

/** `crictl logs`: prints a container's log file, the way kubelet serves it. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    follow: { type: 'boolean', short: 'f' },
    tail: { type: 'string' },
    'limit-bytes': { type: 'string' },
    since: { type: 'string' },
    timestamps: { type: 'boolean', short: 't' },
    previous: { type: 'boolean', short: 'p' },
  });
  const [query, ...extra] = positionals;
  if (query === undefined)
    throw new TskubeError('invalid-argument', 'container ID cannot be empty (usage: crictl logs [-f] [--tail N] [--since T] [-t] [-p] CONTAINER-ID)');
  if (extra.length > 0) throw new TskubeError('invalid-argument', `logs takes one container ID, got ${positionals.length}`);
  const tail = parseInteger(values.tail, '--tail', -1);
  const limitBytes = parseInteger(values['limit-bytes'], '--limit-bytes', -1);
  const since = values.since === undefined ? undefined : parseSince(values.since, Date.now());

  const [containerId] = (await resolveContainerIds(ctx, [query])) as [string];
  const client = await ctx.client();
  const { status } = await client.runtime.call('ContainerStatus', { containerId }, { signal: ctx.io.signal });
  if (!status?.logPath) throw new TskubeError('failed-precondition', `container ${containerId} has no log path set`);
  let logPath = status.logPath;
  if (values.previous) {
    const attempt = status.metadata?.attempt ?? 0;
    if (attempt === 0) throw new TskubeError('not-found', `previous terminated container of ${containerId} not found (this is attempt 0)`);
    // kubelet names a container's log files <attempt>.log in one directory.
    logPath = path.join(path.dirname(logPath), `${attempt - 1}${path.extname(logPath)}`);
  }
  ctx.debug(`reading log file ${logPath}`);

  await readLogs(
    logPath,
    {
      follow: values.follow === true,
      timestamps: values.timestamps === true,
      tail,
      since,
      limitBytes,
      signal: ctx.io.signal,
      isRunning: async () => {
        const { status: now } = await client.runtime.call('ContainerStatus', { containerId }, { signal: ctx.io.signal });
        return now?.state === 'CONTAINER_RUNNING';
      },
    },
    ctx.io,
  );
  return 0;
}

/**
 * --since as crictl takes it (docker's timestamp rules): a duration back from now (42m),
 * Unix seconds (1700000000.5), or an RFC3339 date or date-time.
 */
export function parseSince(text: string, now: number): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  if (/^[\d.]+(ns|us|µs|ms|s|m|h)/.test(t)) return now - parseDuration(t, '--since');
  const time = Date.parse(t);
  if (Number.isNaN(time))
    throw new TskubeError(
      'invalid-argument',
      `--since: invalid value "${text}" (want a duration like 10s or 42m, or an RFC3339 time like 2013-01-02T13:23:37Z)`,
    );
  return time;
}
