// The network config the kubelet puts in the runtime's CNI folder when it manages pod
// networking: one network, "tskube", with one plugin, the shim, which forwards every call
// to the kubelet's socket. It must be the first file there (containerd loads only the
// first); `runtimePlacementProblem` says when it is not. Pure.
import type { ConfigDirScan } from '../../cni/config/config-dir.js';

export const shimNetworkName = 'tskube';
export const shimPluginType = 'tskube-cni-shim';
/** 00- so it sorts before the configs runtimes ship and setups write (10-, 87-podman, ...). */
export const shimConfigFileName = '00-tskube.conflist';

/**
 * The conflist. CNI 1.0.0 for libcni before 1.2 (containerd 1.6), which does not know 1.1.0;
 * `cniVersions` lets newer libcni (containerd 2.x) pick 1.1.0 and ask STATUS. The
 * capabilities make the runtime pass what it knows about sandboxes the kubelet did not make.
 */
export function shimConflist(socketPath: string): string {
  const doc = {
    cniVersion: '1.0.0',
    cniVersions: ['1.0.0', '1.1.0'],
    name: shimNetworkName,
    plugins: [{ type: shimPluginType, socket: socketPath, capabilities: { portMappings: true, bandwidth: true, dns: true } }],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Why the runtime will not run the shim's network from its folder; undefined when it will. */
export function runtimePlacementProblem(scan: ConfigDirScan, shimFile: string): string | undefined {
  const first = scan.files[0];
  if (!first) return `${shimFile} is missing`;
  if (first.file !== shimFile) {
    return `the runtime reads ${first.file} before ${shimFile} (it loads the first network config file in lexical order): remove ${first.file} or move it out of ${scan.dir}`;
  }
  if (first.error) return `${shimFile} does not load: ${first.error.detail}`;
  return undefined;
}
