// A node in a network namespace with pods and an outside client around it, for tests of
// the proxy's netfilter rules with real traffic:
//
//   ext (192.168.0.2) ──── node (192.168.0.10; ip_forward; 10.96.0.0/12 to a sink namespace that drops
//                                everything, a blackhole for 10.244.0.0/16, the same for their IPv6
//                                twins fd00:10:96::/112, fd00:10:244::/56; every pod has both families)
//                            ├── client  (10.244.0.5)   a pod on this node
//                            ├── local   (10.244.0.2)   a backend on this node
//                            ├── b1 (10.244.1.1), b2 (10.244.1.2), b3 (10.244.1.3)   backends "elsewhere"
//
// Every pod-like namespace reaches the node through its own veth (default route to
// 169.254.1.1, the node's end); the node routes each pod address to its veth. Nothing is
// connected to the host's namespace, and the drop routes go in before any traffic, so a
// packet no rule handles is dropped in the node namespace.
import { resolve } from 'node:path';
import { type Exec, inNetns, processExec } from '../../src/proxy/exec/exec.js';
import { NetLab, waitForOutput } from './netns.js';

export const echoScript = resolve(import.meta.dirname, 'net-echo.mjs');

export interface Pod {
  ns: string;
  ip: string;
  ip6: string;
  name: string;
}

export interface ProxyLab {
  lab: NetLab;
  node: string;
  nodeIP: string;
  /** Runs commands in the node's namespace (nft, conntrack, iptables-restore). */
  exec: Exec;
  ext: Pod;
  client: Pod;
  local: Pod;
  backends: Pod[];
  /** Asks HOST:PORT from a pod COUNT times; answers are "NAME CLIENT_ADDRESS". */
  ask(
    from: Pod,
    host: string,
    port: number,
    proto: 'tcp' | 'udp',
    count: number,
    options?: { sourcePort?: number; timeoutMs?: number },
  ): Promise<{ answers: string[]; errors: string[] }>;
  cleanup(): Promise<void>;
}

export const serverPorts = { tcp: [8080, 8443], udp: [5353] };

export async function proxyLab(tag: string): Promise<ProxyLab> {
  const lab = new NetLab(tag);
  try {
    const node = await lab.netns('node');
    await lab.sysctl(node, 'net.ipv4.ip_forward', '1');
    // The service range goes to a sink: a namespace without addresses, which answers nothing
    // and forwards nothing. A packet no rule DNATs is lost there, yet on its way it passes
    // the node's forward hook, where the REJECT rules act.
    const sink = await lab.netns('sink');
    const [svcIf] = await lab.link(node, '', sink, '');
    await lab.ip(node, 'route', 'add', '10.96.0.0/12', 'dev', svcIf);
    // The documentation ranges tests use for external IPs and load-balancer VIPs go there too.
    await lab.ip(node, 'route', 'add', '192.0.2.0/24', 'dev', svcIf);
    await lab.ip(node, 'route', 'add', '203.0.113.0/24', 'dev', svcIf);
    await lab.ip(node, 'route', 'add', 'blackhole', '10.244.0.0/16');
    await lab.sysctl(node, 'net.ipv6.conf.all.forwarding', '1');
    await lab.ip(node, '-6', 'route', 'add', 'fd00:10:96::/112', 'dev', svcIf);
    await lab.ip(node, '-6', 'route', 'add', 'blackhole', 'fd00:10:244::/56');
    const extNs = await lab.netns('ext');
    const [nodeExtIf, extIf] = await lab.link(node, '192.168.0.10/24', extNs, '192.168.0.2/24');
    await lab.ip(node, 'addr', 'add', 'fd00:192::10/64', 'dev', nodeExtIf, 'nodad');
    await lab.ip(extNs, 'addr', 'add', 'fd00:192::2/64', 'dev', extIf, 'nodad');
    await lab.ip(extNs, 'route', 'add', 'default', 'via', '192.168.0.10');
    await lab.ip(extNs, '-6', 'route', 'add', 'default', 'via', 'fd00:192::10');
    const pod = async (name: string, ip: string, ip6: string): Promise<Pod> => {
      const ns = await lab.netns(name);
      const [nodeIf, podIf] = await lab.link(node, '169.254.1.1/32', ns, `${ip}/32`);
      await lab.ip(node, 'addr', 'add', 'fd00:169:254::1/128', 'dev', nodeIf, 'nodad');
      await lab.ip(ns, 'addr', 'add', `${ip6}/128`, 'dev', podIf, 'nodad');
      await lab.ip(ns, 'route', 'add', '169.254.1.1', 'dev', podIf);
      await lab.ip(ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', podIf);
      await lab.ip(ns, '-6', 'route', 'add', 'fd00:169:254::1', 'dev', podIf);
      await lab.ip(ns, '-6', 'route', 'add', 'default', 'via', 'fd00:169:254::1', 'dev', podIf);
      await lab.ip(node, 'route', 'add', `${ip}/32`, 'dev', nodeIf);
      await lab.ip(node, '-6', 'route', 'add', `${ip6}/128`, 'dev', nodeIf);
      return { ns, ip, ip6, name };
    };
    const client = await pod('client', '10.244.0.5', 'fd00:10:244::5');
    const local = await pod('local', '10.244.0.2', 'fd00:10:244::2');
    const backends = [
      await pod('b1', '10.244.1.1', 'fd00:10:244:1::1'),
      await pod('b2', '10.244.1.2', 'fd00:10:244:1::2'),
      await pod('b3', '10.244.1.3', 'fd00:10:244:1::3'),
    ];
    await Promise.all(
      [local, ...backends, client].map((p) =>
        waitForOutput(lab.spawn(p.ns, process.execPath, [echoScript, 'serve', p.name, serverPorts.tcp.join(','), serverPorts.udp.join(',')]), 'ready'),
      ),
    );
    const ext: Pod = { ns: extNs, ip: '192.168.0.2', ip6: 'fd00:192::2', name: 'ext' };
    return {
      lab,
      node,
      nodeIP: '192.168.0.10',
      exec: inNetns(processExec, node),
      ext,
      client,
      local,
      backends,
      async ask(from, host, port, proto, count, options = {}) {
        const out = await lab.exec(
          from.ns,
          process.execPath,
          echoScript,
          'ask',
          host,
          String(port),
          proto,
          String(count),
          String(options.sourcePort ?? 0),
          String(options.timeoutMs ?? 1500),
        );
        return JSON.parse(out) as { answers: string[]; errors: string[] };
      },
      cleanup: () => lab.cleanup(),
    };
  } catch (err) {
    await lab.cleanup();
    throw err;
  }
}
