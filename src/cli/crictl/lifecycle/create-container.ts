import { TskubeError } from '../../../common/errors.js';
import type { ContainerConfig } from '../../../gen/cri/runtime/v1/ContainerConfig.js';
import type { PodSandboxConfig } from '../../../gen/cri/runtime/v1/PodSandboxConfig.js';
import type { CrictlContext } from '../context.js';
import { pullImage, type PullRequestOptions } from './pull-image.js';

export interface CreateContainerOptions {
  podId: string;
  config: ContainerConfig;
  podConfig?: PodSandboxConfig | undefined;
  /** Pull the image (and any image volumes) first; undefined: do not pull. */
  pull?: PullRequestOptions | undefined;
  /** Deadline of the CreateContainer call; undefined: the client's default. */
  timeoutMs?: number | undefined;
}

/** Images a container needs: its own and those of image volume mounts. */
export function imagesOf(config: ContainerConfig): string[] {
  const images = [config.image?.image ?? ''];
  for (const m of config.mounts ?? []) if (m.image?.image) images.push(m.image.image);
  return images.filter((i) => i !== '');
}

/** Pulls if asked, then creates the container in the pod; resolves to its ID. */
export async function createContainer(ctx: CrictlContext, options: CreateContainerOptions): Promise<string> {
  const client = await ctx.client();
  if (options.pull) {
    for (const image of imagesOf(options.config)) {
      await pullImage(ctx, image, {
        ...options.pull,
        sandboxConfig: options.podConfig,
        annotations: options.config.image?.annotations ?? undefined,
      }).catch((err: unknown) => explainPullFailure(ctx, image, err));
    }
  }
  const reply = await client.runtime.call(
    'CreateContainer',
    { podSandboxId: options.podId, config: options.config, ...(options.podConfig ? { sandboxConfig: options.podConfig } : {}) },
    { signal: ctx.io.signal, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) },
  );
  return reply.containerId;
}

/** crictl run pulls by default, which fails for a local-only image; say how to use the copy that is there. */
async function explainPullFailure(ctx: CrictlContext, image: string, err: unknown): Promise<never> {
  const e = TskubeError.from(err);
  if (e.code === 'canceled') throw e;
  const client = await ctx.client();
  const present = await client.image
    .call('ImageStatus', { image: { image } }, { signal: ctx.io.signal })
    .then((s) => s.image !== null)
    .catch(() => false);
  throw present ? e.wrap(`pulling image "${image}" (it is present locally: --no-pull uses it as it is)`) : e;
}
