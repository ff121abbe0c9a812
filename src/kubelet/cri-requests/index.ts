// Turning a Pod into the CRI requests' configs (PodSandboxConfig, ContainerConfig): pure
// functions, no I/O. The executor fetches what they
// need (resolv.conf, ConfigMaps, Secrets, Services, image user, node facts) and passes it in.
export { buildSandboxConfig, sandboxConfigWarnings, podLogDirectory, normalizeSysctlName, defaultPodLogsRoot, type SandboxContext } from './sandbox-config.js';
export { buildContainerConfig, containerLogPath, expandCommandAndArgs, type ContainerContext, type EnvVarValue } from './container-config.js';
export { parseResolvConf, type ResolvConf } from './resolv-conf.js';
export { podDnsConfig, type DnsWarning, type PodDnsContext, type PodDnsResult } from './pod-dns.js';
export { podHostnameAndDomain, kernelHostname } from './hostname.js';
export { containerSpecHash, canonicalJson } from './container-hash.js';
export { containerAnnotations, containerLabels, sandboxLabels, podDeletionGracePeriodAnnotation } from './container-annotations.js';
export { resolveEnv, secretValues, isValidEnvVarName, type EnvSources, type ResolvedEnv } from './env.js';
export { expandVars, lookupIn, type VarLookup } from './expansion.js';
export { serviceEnvMap, serviceEnvVars } from './service-env.js';
export { containerOomScoreAdj } from './oom-score.js';
export { containerLinuxResources, sandboxLinuxResources, milliCpuToShares, milliCpuToQuota, type LinuxResourceOptions } from './linux-resources.js';
export { containerSecurityContext, sandboxSecurityContext, runAsNonRootViolation, type SecurityOptions } from './security-context.js';
export { namespacesForPod } from './namespaces.js';
export { podPortMappings, containerPortMappings } from './port-mappings.js';
