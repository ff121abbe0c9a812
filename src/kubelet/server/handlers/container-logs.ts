import { readLogs } from '../../../cri-client/logs/index.js';
import { TskubeError } from '../../../common/errors.js';
import { replyText } from '../http-reply.js';
import { findPod } from '../kubelet-host.js';
import { logContainerId } from '../logs/log-container.js';
import { parseLogOptions } from '../logs/log-options.js';
import type { RequestContext } from '../request-context.js';

// /containerLogs/<namespace>/<pod>/<container>: the container's CRI log file, read by the
// same reader as `tskube crictl logs` (partial lines joined, --tail, --since, timestamps,
// --limit-bytes, and -f across a rotation of the file), stdout and stderr into one reply.

const discard = { write: () => true };

export async function serveContainerLogs(ctx: RequestContext): Promise<void> {
  const { namespace = '', pod: podName = '', container = '' } = ctx.params;
  const parsed = parseLogOptions(ctx.url.searchParams, Date.now());
  if (!parsed.ok) return replyText(ctx.res, parsed.status, parsed.message);
  const o = parsed.options;
  const pod = findPod(ctx.host, namespace, podName);
  if (!pod) return replyText(ctx.res, 404, `pod "${podName}" does not exist`);
  const spec = pod.spec;
  const known = [...(spec?.containers ?? []), ...(spec?.initContainers ?? []), ...(spec?.ephemeralContainers ?? [])].some((c) => c.name === container);
  if (!known) return replyText(ctx.res, 404, `container "${container}" not found in pod "${podName}"`);
  const picked = logContainerId(podName, ctx.host.podStatus(pod.metadata?.uid ?? '') ?? pod.status, container, o.previous);
  if ('error' in picked) return replyText(ctx.res, 400, picked.error);
  const cri = ctx.host.cri.runtime;
  let logPath: string;
  try {
    const { status } = await cri.call('ContainerStatus', { containerId: picked.id }, { signal: ctx.signal });
    logPath = status?.logPath ?? '';
  } catch (err) {
    return replyText(ctx.res, 400, TskubeError.from(err).detail);
  }
  if (logPath === '') return replyText(ctx.res, 400, `container "${container}" in pod "${podName}" has no log file`);
  ctx.res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
  // Headers now: a follow that waits for the first line must not leave the client waiting for them.
  ctx.res.flushHeaders();
  const sink = ctx.res;
  try {
    await readLogs(
      logPath,
      {
        follow: o.follow,
        timestamps: o.timestamps,
        tail: o.tailLines,
        since: o.since,
        limitBytes: o.limitBytes,
        signal: ctx.signal,
        isRunning: async () => (await cri.call('ContainerStatus', { containerId: picked.id }, { signal: ctx.signal })).status?.state === 'CONTAINER_RUNNING',
      },
      { stdout: o.stream === 'Stderr' ? discard : sink, stderr: o.stream === 'Stdout' ? discard : sink },
    );
  } catch (err) {
    if (!ctx.signal.aborted) ctx.log.warn({ pod: `${namespace}/${podName}`, container, err: TskubeError.from(err).message }, 'reading container logs failed');
  }
  ctx.res.end();
}
