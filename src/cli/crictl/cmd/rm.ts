import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { removeContainerLogs } from '../lifecycle/container-logs.js';
import { eachId } from '../lifecycle/each-id.js';
import { containerIdMatcher } from '../lifecycle/id-matchers.js';

/**
 * `crictl rm [-f] [-a] [-k] ID...`: removes containers, printing each removed ID.
 * A running container is an error unless -f, which stops it (no grace) first.
 */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    force: { type: 'boolean', short: 'f' },
    all: { type: 'boolean', short: 'a' },
    'keep-logs': { type: 'boolean', short: 'k' },
  });
  if (values.all && positionals.length > 0) throw new TskubeError('invalid-argument', 'cannot give CONTAINER-IDs with --all');
  if (!values.all && positionals.length === 0) {
    throw new TskubeError('invalid-argument', 'want at least one CONTAINER-ID, or --all (usage: tskube crictl rm [-f] [-k] CONTAINER-ID...)');
  }
  const client = await ctx.client();
  const signal = ctx.io.signal;
  let queries = positionals;
  let match: (query: string) => string;
  if (values.all) {
    const { containers } = await client.runtime.call('ListContainers', {}, { signal });
    if (containers.length === 0) {
      ctx.io.stderr.write('No containers to remove\n');
      return 0;
    }
    queries = containers.map((c) => c.id);
    match = (id) => id;
  } else {
    match = await containerIdMatcher(ctx);
  }

  await eachId(queries, async (query) => {
    const id = match(query);
    const { status } = await client.runtime.call('ContainerStatus', { containerId: id }, { signal });
    if (status?.state === 'CONTAINER_RUNNING') {
      if (!values.force) throw new TskubeError('failed-precondition', `container "${id}" is running: stop it first, or use rm -f`);
      await client.runtime.call('StopContainer', { containerId: id, timeout: 0 }, { signal });
    }
    await client.runtime.call('RemoveContainer', { containerId: id }, { signal });
    ctx.io.stdout.write(`${id}\n`);
    if (!values['keep-logs']) {
      for (const problem of await removeContainerLogs(status?.logPath ?? '')) ctx.io.stderr.write(`WARN removing the log of container ${id}: ${problem}\n`);
    }
  });
  return 0;
}
