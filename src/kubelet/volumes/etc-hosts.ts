// The pod's /etc/hosts, which the kubelet writes and mounts into every container that
// does not mount its own: localhost lines, the pod's IPs with its hostname (and FQDN when
// it has a subdomain), then spec.hostAliases. Host-network pods get the node's own file
// with the aliases added. Same text as upstream's, which tools and tests compare.
import type { V1HostAlias } from '@kubernetes/client-node';

const managedHeader = '# Kubernetes-managed hosts file.\n';
const hostNetworkHeader = '# Kubernetes-managed hosts file (host network).\n';

function aliasLines(aliases: readonly V1HostAlias[] | undefined): string {
  if (!aliases || aliases.length === 0) return '';
  return `\n# Entries added by HostAliases.\n${aliases.map((a) => `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`).join('')}`;
}

/** The managed file of a pod on the pod network. Pure. */
export function managedHostsFile(podIPs: readonly string[], hostname: string, domain: string, aliases?: readonly V1HostAlias[]): string {
  let out = managedHeader;
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return out + aliasLines(aliases);
}

/** A host-network pod's file: the node's /etc/hosts under a header, with the aliases. Pure. */
export function hostNetworkHostsFile(nodeHosts: string, aliases?: readonly V1HostAlias[]): string {
  return hostNetworkHeader + nodeHosts + aliasLines(aliases);
}
