export { defaultKubeletConfiguration, defaultEvictionHard, maxContainerBackOffMs } from './defaults.js';
export { formatGoDuration, parseGoDuration } from './go-duration.js';
export { loadKubeletConfig, parseKubeletConfig, type ReadTextFile } from './load.js';
export {
  kubeletUsage,
  resolveKubeletOptions,
  wantsHelp,
  defaultRootDir,
  type KubeletHost,
  type KubeletOptions,
  type ResolvedKubeletOptions,
} from './options.js';
export { parseQuantity } from './quantity.js';
export * from './types.js';
export { validateKubeletConfiguration } from './validate.js';
