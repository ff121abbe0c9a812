export { defaultProxyConfiguration, healthzPort, metricsPort } from './defaults.js';
export { loadProxyConfig, parseProxyConfig, type ReadTextFile } from './load.js';
export {
  defaultConfigDocument,
  type ProxyHost,
  type ProxyOptions,
  proxyUsage,
  type ResolvedProxyOptions,
  resolveProxyOptions,
  wantsProxyHelp,
  writeConfigTarget,
} from './options.js';
export { defaultProxyMode, effectiveMode } from './sync-periods.js';
export * from './types.js';
export { validateProxyConfiguration } from './validate.js';
