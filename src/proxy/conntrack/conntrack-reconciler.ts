// After each sync, deletes the UDP conntrack entries conntrack-plan.ts finds stale, with
// the conntrack tool: one listing, then one deletion per (destination, endpoint) group.
import type { Exec } from '../exec/exec.js';
import type { Logger } from '../../common/logger.js';
import type { IPFamily } from '../net/ip.js';
import type { ServicePortPlan } from '../plan/service-port-plan.js';
import type { ProxyMetrics } from '../server/proxy-metrics.js';
import type { AfterSync } from '../sync/proxy-syncer.js';
import { type ConntrackFlow, staleFlows, type UdpTargets, udpTargets, withRemovedTargets } from './conntrack-plan.js';

/** Parses `conntrack -L` lines: the first src/dst/sport/dport are the original tuple, the second the reply. */
export function parseConntrackList(text: string): ConntrackFlow[] {
  const flows: ConntrackFlow[] = [];
  for (const line of text.split('\n')) {
    const src = [...line.matchAll(/\bsrc=(\S+)/g)].map((m) => m[1]!);
    const dst = [...line.matchAll(/\bdst=(\S+)/g)].map((m) => m[1]!);
    const sport = [...line.matchAll(/\bsport=(\d+)/g)].map((m) => Number(m[1]));
    const dport = [...line.matchAll(/\bdport=(\d+)/g)].map((m) => Number(m[1]));
    if (src.length < 2 || dst.length < 1 || sport.length < 2 || dport.length < 1) continue;
    flows.push({ origSrc: src[0]!, origDst: dst[0]!, origSport: sport[0]!, origDport: dport[0]!, replySrc: src[1]!, replySport: sport[1]! });
  }
  return flows;
}

export interface ConntrackReconcilerOptions {
  exec: Exec;
  metrics: ProxyMetrics;
  log: Logger;
  clock?: () => number;
}

export class ConntrackReconciler implements AfterSync {
  readonly #o: ConntrackReconcilerOptions;
  readonly #previous = new Map<IPFamily, UdpTargets>();
  #failing = false;

  constructor(options: ConntrackReconcilerOptions) {
    this.#o = options;
  }

  async afterSync(family: IPFamily, plans: ReadonlyMap<string, ServicePortPlan>, _changed: ReadonlySet<string>, signal: AbortSignal): Promise<void> {
    const clock = this.#o.clock ?? Date.now;
    const start = clock();
    const current = udpTargets(plans.values());
    const targets = withRemovedTargets(current, this.#previous.get(family));
    const familyArg = family === 'IPv4' ? 'ipv4' : 'ipv6';
    let deleted = 0;
    try {
      if (targets.byAddress.size > 0 || targets.byNodePort.size > 0) {
        const listing = await this.#o.exec.output('conntrack', ['-L', '-f', familyArg, '-p', 'udp'], { signal });
        const groups = new Map<string, ConntrackFlow>();
        for (const f of staleFlows(parseConntrackList(listing), targets)) groups.set(`${f.origDst}|${f.origDport}|${f.replySrc}|${f.replySport}`, f);
        for (const f of groups.values()) {
          const args = [
            '-D',
            '-f',
            familyArg,
            '-p',
            'udp',
            '--orig-dst',
            f.origDst,
            '--dport',
            String(f.origDport),
            '--reply-src',
            f.replySrc,
            '--reply-port-src',
            String(f.replySport),
          ];
          const result = await this.#o.exec.status('conntrack', args, { signal });
          deleted += Number(/(\d+) flow entr(?:y|ies) ha(?:s|ve) been deleted/.exec(result.stderr)?.[1] ?? 0);
        }
      }
      this.#previous.set(family, current);
      if (this.#failing) this.#o.log.info({ ipFamily: family }, 'conntrack reconciliation works again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.#o.log.warn({ ipFamily: family, err: String(err) }, 'conntrack reconciliation failed; retrying after the next sync');
      this.#failing = true;
    } finally {
      this.#o.metrics.conntrackReconcileDuration.observe({ ip_family: family }, (clock() - start) / 1000);
      this.#o.metrics.conntrackDeleted.inc({ ip_family: family }, deleted);
    }
    if (deleted > 0) this.#o.log.debug({ ipFamily: family, deleted }, 'deleted stale UDP conntrack entries');
  }
}
