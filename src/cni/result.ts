// The ADD result (SPEC section 5) in every version: read into one model, written out in
// the shape a given version uses. Conversions follow libcni's converters: 0.2 results
// carry one address per family in `ip4`/`ip6`; 0.3/0.4 give each address a `version`;
// 1.x drops that and adds interface MTU, socket path, PCI ID, route MTU/advmss/priority/
// table/scope.
import { isIP } from 'node:net';
import { TskubeError } from '../common/errors.js';
import { resultFamily } from './version.js';

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** The namespace path for interfaces inside the container; absent for host interfaces. */
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

export interface CniIpConfig {
  /** CIDR notation: the address and its prefix, e.g. 10.88.0.5/24. */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A result in the 1.1 model; `cniVersion` says which version it was read from. */
export interface CniResult {
  cniVersion: string;
  interfaces: CniInterface[];
  ips: CniIpConfig[];
  routes: CniRoute[];
  dns: CniDns;
}

type Json = Record<string, unknown>;

class ResultProblems {
  constructor(readonly what: string) {}
  fail(field: string, problem: string): never {
    throw new TskubeError('invalid-argument', `${this.what}: ${field}: ${problem}`);
  }
}

/**
 * Reads a result of any version. A result without `cniVersion` is taken to be in
 * `assumedVersion` (the config's), as libcni does for older plugins. `what` names the
 * source in errors ("result of plugin bridge").
 */
export function parseResult(value: unknown, assumedVersion: string, what: string): CniResult {
  const problems: ResultProblems = new ResultProblems(what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) problems.fail('(result)', 'want a JSON object');
  const doc = value as Json;
  const declared = doc['cniVersion'];
  if (declared !== undefined && typeof declared !== 'string') problems.fail('cniVersion', 'want a string');
  const cniVersion = declared || assumedVersion;
  const family = resultFamily(cniVersion);
  if (!family) problems.fail('cniVersion', `"${cniVersion}" is not a result version this library reads`);
  const dns = readDns(doc['dns'], problems);
  if (family === '0.2') {
    const ips: CniIpConfig[] = [];
    const routes: CniRoute[] = [];
    for (const key of ['ip4', 'ip6'] as const) {
      const ipc = doc[key];
      if (ipc === undefined || ipc === null) continue;
      if (!isObject(ipc)) problems.fail(key, 'want an object');
      ips.push({ address: readCidr(ipc['ip'], `${key}.ip`, problems), ...optionalIp(ipc['gateway'], `${key}.gateway`, problems) });
      for (const [i, r] of readList(ipc['routes'], `${key}.routes`, problems).entries()) routes.push(readRoute(r, `${key}.routes[${i}]`, problems));
    }
    return { cniVersion: cniVersion === '' ? '0.1.0' : cniVersion, interfaces: [], ips, routes, dns };
  }
  const interfaces = readList(doc['interfaces'], 'interfaces', problems).map((v, i) => readInterface(v, `interfaces[${i}]`, problems));
  const ips = readList(doc['ips'], 'ips', problems).map((v, i) => {
    const f = `ips[${i}]`;
    if (!isObject(v)) problems.fail(f, 'want an object');
    const ipc: CniIpConfig = { address: readCidr(v['address'], `${f}.address`, problems), ...optionalIp(v['gateway'], `${f}.gateway`, problems) };
    const index = v['interface'];
    if (index !== undefined && index !== null) {
      if (!Number.isInteger(index) || (index as number) < 0) problems.fail(`${f}.interface`, `want an index into interfaces, found ${JSON.stringify(index)}`);
      ipc.interface = index as number;
    }
    return ipc;
  });
  const routes = readList(doc['routes'], 'routes', problems).map((r, i) => readRoute(r, `routes[${i}]`, problems));
  return { cniVersion, interfaces, ips, routes, dns };
}

/** The result as the given version writes it, ready for JSON (a prevResult, the cache, cnitool's output). */
export function renderResult(result: CniResult, version: string): Json {
  const family = resultFamily(version);
  if (!family) throw new TskubeError('invalid-argument', `cannot write a CNI result as version "${version}"`);
  const out: Json = { cniVersion: version };
  if (family === '0.2') {
    const v4 = result.ips.find((ip) => ipFamily(ip.address) === 4);
    const v6 = result.ips.find((ip) => ipFamily(ip.address) === 6);
    // 0.2 has nowhere to put a result without addresses (libcni: "no valid IP addresses").
    if (!v4 && !v6) throw new TskubeError('failed-precondition', `cannot write the result as CNI ${version}: it has no IP address`);
    for (const [key, ipc, fam] of [
      ['ip4', v4, 4],
      ['ip6', v6, 6],
    ] as const) {
      if (!ipc) continue;
      const routes = result.routes.filter((r) => ipFamily(r.dst) === fam).map((r) => omitUndefined({ dst: r.dst, gw: r.gw }));
      out[key] = omitUndefined({ ip: ipc.address, gateway: ipc.gateway, routes: routes.length ? routes : undefined });
    }
  } else {
    const modern = family === '1';
    if (result.interfaces.length) {
      out['interfaces'] = result.interfaces.map((i) => omitUndefined(modern ? { ...i } : { name: i.name, mac: i.mac, sandbox: i.sandbox }));
    }
    if (result.ips.length) {
      out['ips'] = result.ips.map((ip) =>
        omitUndefined({ ...(modern ? {} : { version: String(ipFamily(ip.address)) }), interface: ip.interface, address: ip.address, gateway: ip.gateway }),
      );
    }
    if (result.routes.length) out['routes'] = result.routes.map((r) => omitUndefined({ ...r }));
  }
  const dns = omitUndefined({ ...result.dns });
  if (Object.keys(dns).length) out['dns'] = dns;
  return out;
}

/** The addresses of the interface named `ifName` inside the sandbox (all of them when none is marked). */
export function sandboxAddresses(result: CniResult, ifName: string): string[] {
  const index = result.interfaces.findIndex((i) => i.name === ifName && i.sandbox);
  return result.ips.filter((ip) => index < 0 || ip.interface === undefined || ip.interface === index).map((ip) => ip.address.split('/')[0] as string);
}

export function ipFamily(cidrOrIp: string): 4 | 6 | 0 {
  const ip = cidrOrIp.split('/')[0] ?? '';
  const v = isIP(ip);
  return v === 4 || v === 6 ? v : 0;
}

function readInterface(v: unknown, f: string, problems: ResultProblems): CniInterface {
  if (!isObject(v)) problems.fail(f, 'want an object');
  const name = v['name'];
  if (typeof name !== 'string') problems.fail(`${f}.name`, 'want a string');
  const out: CniInterface = { name };
  for (const key of ['mac', 'sandbox', 'socketPath', 'pciID'] as const) {
    const s = v[key];
    if (s === undefined || s === '') continue;
    if (typeof s !== 'string') problems.fail(`${f}.${key}`, 'want a string');
    out[key] = s;
  }
  const mtu = readUint(v['mtu'], `${f}.mtu`, problems);
  if (mtu) out.mtu = mtu;
  return out;
}

function readRoute(v: unknown, f: string, problems: ResultProblems): CniRoute {
  if (!isObject(v)) problems.fail(f, 'want an object');
  const route: CniRoute = { dst: readCidr(v['dst'], `${f}.dst`, problems), ...optionalIp(v['gw'], `${f}.gw`, problems, 'gw') };
  for (const key of ['mtu', 'advmss', 'priority'] as const) {
    const n = readUint(v[key], `${f}.${key}`, problems);
    if (n) route[key] = n;
  }
  // table and scope are pointers in libcni: 0 is a value, not "unset".
  for (const key of ['table', 'scope'] as const) {
    const n = readUint(v[key], `${f}.${key}`, problems);
    if (n !== undefined) route[key] = n;
  }
  return route;
}

function readDns(v: unknown, problems: ResultProblems): CniDns {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) problems.fail('dns', 'want an object');
  const dns: CniDns = {};
  for (const key of ['nameservers', 'search', 'options'] as const) {
    const list = v[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) problems.fail(`dns.${key}`, 'want a list of strings');
    if (list.length) dns[key] = [...list] as string[];
  }
  const domain = v['domain'];
  if (domain !== undefined && domain !== '') {
    if (typeof domain !== 'string') problems.fail('dns.domain', 'want a string');
    dns.domain = domain;
  }
  return dns;
}

function readList(v: unknown, f: string, problems: ResultProblems): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) problems.fail(f, 'want a list');
  return v;
}

function readCidr(v: unknown, f: string, problems: ResultProblems): string {
  if (typeof v !== 'string') problems.fail(f, `want an address in CIDR notation, found ${JSON.stringify(v)}`);
  const [ip, prefix, extra] = v.split('/');
  const fam = isIP(ip ?? '');
  const bits = Number(prefix);
  if (!fam || extra !== undefined || prefix === undefined || !/^\d+$/.test(prefix) || bits > (fam === 4 ? 32 : 128)) {
    problems.fail(f, `"${v}" is not an address in CIDR notation`);
  }
  return v;
}

function optionalIp(v: unknown, f: string, problems: ResultProblems, key: 'gateway' | 'gw' = 'gateway'): Record<string, string> {
  if (v === undefined || v === null || v === '') return {};
  if (typeof v !== 'string' || !isIP(v)) problems.fail(f, `"${String(v)}" is not an IP address`);
  return { [key]: v };
}

function readUint(v: unknown, f: string, problems: ResultProblems): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Number.isInteger(v) || (v as number) < 0) problems.fail(f, `want a whole number, found ${JSON.stringify(v)}`);
  return v as number;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function omitUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
