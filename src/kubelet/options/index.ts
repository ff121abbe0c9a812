// The kubelet's options: its flags and the KubeletConfiguration file, decoded, defaulted,
// validated and resolved into KubeletOptions before anything on the node is touched.
export { defaultKubeletConfiguration, defaultEvictionHard, maxContainerBackOffMs } from './defaults.js';
export { loadKubeletConfig, parseKubeletConfig, type ReadTextFile } from './load.js';
export {
  kubeletUsage,
  resolveKubeletOptions,
  wantsHelp,
  defaultRootDir,
  type KubeletHost,
  type KubeletOptions,
  type ResolvedKubeletOptions,
} from './kubelet-options.js';
export * from './types.js';
export { validateKubeletConfiguration } from './validate.js';
