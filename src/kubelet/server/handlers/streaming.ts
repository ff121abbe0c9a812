/*
 * /exec, /attach, /portForward: find the pod and container, ask the runtime for a
 * streaming URL (CRI Exec, Attach, PortForward), then carry the client's stream there:
 *
 *   websocket offering v5.channel.k8s.io (exec, attach) ─► translate to SPDY (websocket-translator.ts)
 *   websocket "SPDY/3.1+portforward.k8s.io"             ─► tunnel (port-forward-tunnel.ts)
 *   SPDY, or an older websocket protocol                ─► proxy the upgrade as it is (upgrade-proxy.ts)
 */
import type { V1Pod } from '@kubernetes/client-node';
import { TskubeError } from '../../../common/errors.js';
import { websocketProtocols } from '../../../cri-client/streaming/index.js';
import { replyStatus } from '../http-reply.js';
import { findPod } from '../kubelet-host.js';
import type { RequestContext } from '../request-context.js';
import { tunnelPortForward, tunneledProtocols } from '../streaming/port-forward-tunnel.js';
import { parseStreamOptions } from '../streaming/stream-options.js';
import { proxyUpgrade } from '../streaming/upgrade-proxy.js';
import { isWebsocket, offeredProtocols, translateWebsocketToSpdy } from '../streaming/websocket-translator.js';

type Found = { ok: true; pod: V1Pod; uid: string } | { ok: false };

function podFor(ctx: RequestContext): Found {
  const { namespace = '', pod: name = '', uid } = ctx.params;
  const pod = findPod(ctx.host, namespace, name);
  if (!pod?.metadata?.uid) {
    replyStatus(ctx.res, 404, 'pod does not exist');
    return { ok: false };
  }
  if (uid && uid !== pod.metadata.uid) {
    replyStatus(ctx.res, 404, 'pod not found');
    return { ok: false };
  }
  return { ok: true, pod, uid: pod.metadata.uid };
}

/** Failures of the CRI call in the Status kubectl shows ("unable to upgrade connection: ..."). */
function replyRuntimeError(ctx: RequestContext, err: unknown): void {
  const e = TskubeError.from(err);
  replyStatus(ctx.res, e.code === 'not-found' ? 404 : e.code === 'invalid-argument' ? 400 : 500, e.detail);
}

export async function serveExecOrAttach(ctx: RequestContext, kind: 'exec' | 'attach'): Promise<void> {
  if (!ctx.upgrade) return replyStatus(ctx.res, 400, 'Upgrade request required');
  const parsed = parseStreamOptions(ctx.url.searchParams, kind);
  if (!parsed.ok) return replyStatus(ctx.res, 400, parsed.message);
  const found = podFor(ctx);
  if (!found.ok) return;
  const name = ctx.params.container ?? '';
  const state = (await ctx.host.runtimePods()).get(found.uid);
  const container = state?.containers.find((c) => c.name === name && c.phase === 'running');
  if (!container) return replyStatus(ctx.res, 404, `container not found ("${name}")`);
  const o = parsed.options;
  let url: string;
  try {
    const call = { signal: ctx.signal };
    url =
      kind === 'exec'
        ? (
            await ctx.host.cri.runtime.call(
              'Exec',
              { containerId: container.id, cmd: o.command, tty: o.tty, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr },
              call,
            )
          ).url
        : (await ctx.host.cri.runtime.call('Attach', { containerId: container.id, tty: o.tty, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr }, call)).url;
  } catch (err) {
    return replyRuntimeError(ctx, err);
  }
  const { socket, head } = ctx.upgrade;
  const target = new URL(url);
  const idleTimeoutMs = ctx.host.config.streamingConnectionIdleTimeout;
  ctx.log.debug({ kind, pod: `${ctx.params.namespace}/${ctx.params.pod}`, container: name, websocket: isWebsocket(ctx.req) }, 'stream opened');
  if (isWebsocket(ctx.req) && offeredProtocols(ctx.req).includes(websocketProtocols.v5)) {
    ctx.host.metrics.websocketStream(kind);
    return translateWebsocketToSpdy({ req: ctx.req, socket, head, target, stream: o, idleTimeoutMs });
  }
  return proxyUpgrade({ req: ctx.req, res: ctx.res, socket, head, target, idleTimeoutMs });
}

export async function servePortForward(ctx: RequestContext): Promise<void> {
  if (!ctx.upgrade) return replyStatus(ctx.res, 400, 'Upgrade request required');
  const found = podFor(ctx);
  if (!found.ok) return;
  const sandbox = (await ctx.host.runtimePods()).get(found.uid)?.sandboxes.find((s) => s.phase === 'ready');
  if (!sandbox) return replyStatus(ctx.res, 404, `pod ${ctx.params.namespace}/${ctx.params.pod} has no running sandbox to forward ports into`);
  let url: string;
  try {
    url = (await ctx.host.cri.runtime.call('PortForward', { podSandboxId: sandbox.id, port: [] }, { signal: ctx.signal })).url;
  } catch (err) {
    return replyRuntimeError(ctx, err);
  }
  const { socket, head } = ctx.upgrade;
  const target = new URL(url);
  const idleTimeoutMs = ctx.host.config.streamingConnectionIdleTimeout;
  if (isWebsocket(ctx.req) && tunneledProtocols(offeredProtocols(ctx.req)).length > 0) {
    ctx.host.metrics.websocketStream('portforward');
    return tunnelPortForward({ req: ctx.req, res: ctx.res, socket, head, target, idleTimeoutMs });
  }
  return proxyUpgrade({ req: ctx.req, res: ctx.res, socket, head, target, idleTimeoutMs });
}
