// What the back ends need to know about this node and the proxy's settings, for one IP
// family. Built from the options and the Node object; pure data.
import type { IPFamily } from '../net/ip.js';
import type { NodeTopology } from '../model/categorize.js';

/** How traffic from this node's pods is told apart (detectLocalMode); `none` when it cannot be. */
export type LocalDetector =
  | { kind: 'none' }
  | { kind: 'cidr'; cidrs: string[] }
  | { kind: 'bridge'; interface: string }
  | { kind: 'interface-prefix'; prefix: string };

/** Where NodePorts are accepted: every local address, or these addresses only. */
export type NodePortAddresses = { matchAll: true } | { matchAll: false; ips: string[] };

export interface ProxyNodeConfig {
  family: IPFamily;
  topology: NodeTopology;
  /** This node's addresses of the family, the primary first. */
  nodeIPs: string[];
  masqueradeBit: number;
  masqueradeAll: boolean;
  localDetector: LocalDetector;
  nodePortAddresses: NodePortAddresses;
  /** Service CIDRs of the family: traffic to an unallocated address in them is dropped. */
  serviceCIDRs: string[];
  /** iptables only: NodePorts on 127.0.0.1. */
  localhostNodePorts: boolean;
}

/** The fwmark bit as hex, as upstream prints it ("%#08x": 0x004000 for bit 14). */
export function masqueradeMark(bit: number): string {
  return `0x${(2 ** bit).toString(16).padStart(6, '0')}`;
}
