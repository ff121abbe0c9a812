// The CNI library's public face, for the kubelet and the CLI.
export {
  Cni,
  type AddOptions,
  type AddOutcome,
  type CallOptions,
  type CniOptions,
  type CniTimeouts,
  type GcOutcome,
  networkOfCacheEntry,
  type SkippableOutcome,
} from './cni.js';
export { CniError, type CniErrorObject, type InvocationContext } from './cni-error.js';
export { type ConfigDirScan, defaultConfigDir, loadConfigFile, scanConfigDir } from './config/config-dir.js';
export { parseNetworkConfig } from './config/parse-network-config.js';
export { type Selection, selectNetwork } from './config/select-network.js';
export type { Attachment, AttachmentKey, NetworkConfig, PluginConfig } from './network-config.js';
export { defaultPluginExec, HelperPluginExec } from './helper-exec.js';
export { type PluginExec, prefixedPluginExec, processPluginExec } from './plugin-exec.js';
export { type CniResult, parseResult, renderResult, sandboxAddresses } from './result.js';
export { type CacheEntry, defaultCacheDir } from './result-cache.js';
