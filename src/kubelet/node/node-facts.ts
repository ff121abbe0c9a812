/** What the kubelet knows about the machine it runs on; gathered by gather-node-facts.ts. */
export interface NodeFacts {
  /** The OS host name (the Hostname address uses the node name, which may override it). */
  hostname: string;
  kernelVersion: string;
  /** /etc/os-release PRETTY_NAME, e.g. "Debian GNU/Linux 12 (bookworm)". */
  osImage: string;
  /** GOARCH-style: amd64, arm64. */
  architecture: string;
  /** GOOS-style: linux. */
  operatingSystem: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
  /** Addresses of this host for InternalIP when --node-ip is not given, best first. */
  hostIPs: string[];
  cpuCores: number;
  memoryBytes: number;
  memoryAvailableBytes: number;
  /** Size and free space of the filesystem holding the kubelet's root dir. */
  rootfsBytes: number;
  rootfsAvailableBytes: number;
  /** PIDs in use and the kernel's limit (pid_max). */
  pidsInUse: number;
  pidMax: number;
}

/** One RuntimeReady / NetworkReady condition as the runtime reported it. */
export interface RuntimeCondition {
  ok: boolean;
  reason: string;
  message: string;
}

/** What the runtime says about itself, from CRI Version and Status. */
export interface RuntimeFacts {
  /** "containerd://1.6.20" as nodeInfo.containerRuntimeVersion wants it; "" before the first answer. */
  runtimeVersion: string;
  /** Set when Version or Status failed or hung: which call, where, after how long, why. */
  unreachable?: string;
  runtimeReady: RuntimeCondition;
  networkReady: RuntimeCondition;
}

/** An image for status.images: its names (digests first, then tags) and size. */
export interface NodeImage {
  names: string[];
  sizeBytes: number;
}
