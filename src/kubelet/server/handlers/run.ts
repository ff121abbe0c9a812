import { TskubeError } from '../../../common/errors.js';
import { replyText } from '../http-reply.js';
import { findPod } from '../kubelet-host.js';
import type { RequestContext } from '../request-context.js';

// POST /run/<namespace>/<pod>/<container>?cmd=...: runs a command to completion (CRI
// ExecSync) and answers with its output, stdout then stderr; a non-zero exit is a 500.
// Upstream's oldest debugging endpoint; the command is split on spaces, as there.

export async function serveRun(ctx: RequestContext): Promise<void> {
  const { namespace = '', pod: podName = '', container = '', uid } = ctx.params;
  const pod = findPod(ctx.host, namespace, podName);
  if (!pod?.metadata?.uid || (uid && uid !== pod.metadata.uid)) return replyText(ctx.res, 404, 'pod does not exist');
  const cmd = (ctx.url.searchParams.get('cmd') ?? '').split(' ');
  const running = (await ctx.host.runtimePods()).get(pod.metadata.uid)?.containers.find((c) => c.name === container && c.phase === 'running');
  if (!running) return replyText(ctx.res, 500, `container not found ("${container}")`);
  try {
    const r = await ctx.host.cri.runtime.call('ExecSync', { containerId: running.id, cmd, timeout: '0' }, { signal: ctx.signal, timeoutMs: 24 * 3_600_000 });
    const output = Buffer.concat([Buffer.from(r.stdout), Buffer.from(r.stderr)]);
    if (r.exitCode !== 0) return replyText(ctx.res, 500, `command '${cmd.join(' ')}' exited with ${r.exitCode}: ${output.toString('utf8')}`);
    ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': output.length });
    ctx.res.end(output);
  } catch (err) {
    replyText(ctx.res, 500, TskubeError.from(err).detail);
  }
}
