import type { AuthConfig } from '../../../gen/cri/runtime/v1/AuthConfig.js';
import type { PodSandboxConfig } from '../../../gen/cri/runtime/v1/PodSandboxConfig.js';
import type { CrictlContext } from '../context.js';

export interface PullRequestOptions {
  auth?: AuthConfig | undefined;
  sandboxConfig?: PodSandboxConfig | undefined;
  annotations?: Record<string, string> | undefined;
  /** 0 or unset: no deadline, as crictl (a large image takes as long as it takes). */
  timeoutMs?: number | undefined;
}

/** Pulls one image through the CRI image service; resolves to the image reference the runtime reports. */
export async function pullImage(ctx: CrictlContext, image: string, options: PullRequestOptions = {}): Promise<string> {
  const client = await ctx.client();
  ctx.debug(`pulling image ${image}`);
  const reply = await client.image.call(
    'PullImage',
    {
      image: { image, ...(options.annotations ? { annotations: options.annotations } : {}) },
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.sandboxConfig ? { sandboxConfig: options.sandboxConfig } : {}),
    },
    { signal: ctx.io.signal, timeoutMs: options.timeoutMs || Number.POSITIVE_INFINITY },
  );
  return reply.imageRef;
}
