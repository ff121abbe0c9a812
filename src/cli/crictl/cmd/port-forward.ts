import { TskubeError } from '../../../common/errors.js';
import { forwardPorts, parsePortMapping } from '../../../cri-client/streaming/index.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { resolvePodIds } from '../resolve-id.js';

/**
 * `crictl port-forward POD [LOCAL:]REMOTE...`: listens on 127.0.0.1 and carries each
 * connection to the pod's port until interrupted.
 */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { positionals } = parseFlags(argv, {});
  const [query, ...specs] = positionals;
  if (query === undefined) throw new TskubeError('invalid-argument', 'pod sandbox ID cannot be empty (usage: crictl port-forward POD-ID [LOCAL:]REMOTE...)');
  if (specs.length === 0) throw new TskubeError('invalid-argument', 'at least one port is required (usage: crictl port-forward POD-ID [LOCAL:]REMOTE...)');
  const ports = specs.map(parsePortMapping);
  const [podSandboxId] = (await resolvePodIds(ctx, [query])) as [string];
  const client = await ctx.client();
  const { io } = ctx;
  await forwardPorts({
    address: '127.0.0.1',
    ports,
    signal: io.signal,
    openUrl: async () => {
      const { url } = await client.runtime.call('PortForward', { podSandboxId, port: ports.map((p) => p.remote) }, { signal: io.signal });
      ctx.debug(`port-forward URL: ${url}`);
      return url;
    },
    onListening: (local, remote) => io.stdout.write(`Forwarding from 127.0.0.1:${local} -> ${remote}\n`),
    onConnection: (local) => io.stdout.write(`Handling connection for ${local}\n`),
    onError: (message) => io.stderr.write(`E ${message}\n`),
  });
  return 0;
}
