import { describe, expect, it } from 'vitest';
import { parseResult, renderResult, sandboxAddresses } from '../../src/cni/result.js';

// The spec's own example (bridge's result in its ADD walk-through), plus an IPv6 address.
const v110 = {
  cniVersion: '1.1.0',
  interfaces: [
    { name: 'cni0', mac: '00:11:22:33:44:55' },
    { name: 'veth3243', mac: '55:44:33:22:11:11' },
    { name: 'eth0', mac: '99:88:77:66:55:44', sandbox: '/var/run/netns/blue', mtu: 1450 },
  ],
  ips: [
    { address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 2 },
    { address: 'fd00::5/64', gateway: 'fd00::1', interface: 2 },
  ],
  routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd00::1', table: 0 }],
  dns: { nameservers: ['10.1.0.1'] },
};

describe('CNI results', () => {
  it('reads 1.1 and writes it back unchanged', () => {
    expect(renderResult(parseResult(v110, '1.1.0', 'r'), '1.1.0')).toEqual(v110);
  });

  it('writes 0.4.0 with a version per address and no interface MTU', () => {
    const r = renderResult(parseResult(v110, '1.1.0', 'r'), '0.4.0');
    expect(r['ips']).toEqual([
      { version: '4', interface: 2, address: '10.1.0.5/16', gateway: '10.1.0.1' },
      { version: '6', interface: 2, address: 'fd00::5/64', gateway: 'fd00::1' },
    ]);
    expect(r['interfaces']).toEqual([
      { name: 'cni0', mac: '00:11:22:33:44:55' },
      { name: 'veth3243', mac: '55:44:33:22:11:11' },
      { name: 'eth0', mac: '99:88:77:66:55:44', sandbox: '/var/run/netns/blue' },
    ]);
  });

  it('writes 0.2.0 with one address per family and its routes, and reads it back', () => {
    const r = renderResult(parseResult(v110, '1.1.0', 'r'), '0.2.0');
    expect(r).toEqual({
      cniVersion: '0.2.0',
      ip4: { ip: '10.1.0.5/16', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }] },
      ip6: { ip: 'fd00::5/64', gateway: 'fd00::1', routes: [{ dst: '::/0', gw: 'fd00::1' }] },
      dns: { nameservers: ['10.1.0.1'] },
    });
    const back = parseResult(r, '0.2.0', 'r');
    expect(back.ips.map((i) => i.address)).toEqual(['10.1.0.5/16', 'fd00::5/64']);
    expect(back.routes).toHaveLength(2);
  });

  it("up-converts 0.3.1 (containerd's loopback result) to 1.0.0, dropping the per-address version", () => {
    const lo = {
      cniVersion: '0.3.1',
      dns: {},
      interfaces: [{ mac: '00:00:00:00:00:00', name: 'lo', sandbox: '/run/netns/x' }],
      ips: [{ address: '127.0.0.1/8', interface: 0, version: '' }],
    };
    expect(renderResult(parseResult(lo, '0.3.1', 'r'), '1.0.0')).toEqual({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'lo', mac: '00:00:00:00:00:00', sandbox: '/run/netns/x' }],
      ips: [{ interface: 0, address: '127.0.0.1/8' }],
    });
  });

  it('takes the config version for a result that names none, as libcni does', () => {
    expect(parseResult({ ips: [{ address: '10.0.0.2/24' }] }, '1.0.0', 'r').cniVersion).toBe('1.0.0');
    expect(parseResult({ ip4: { ip: '10.0.0.2/24' } }, '0.2.0', 'r').ips).toEqual([{ address: '10.0.0.2/24' }]);
  });

  it('refuses to write 0.2.0 without an address, and an unknown version', () => {
    expect(() => renderResult(parseResult({ cniVersion: '1.0.0', interfaces: [{ name: 'x' }] }, '1.0.0', 'r'), '0.2.0')).toThrow('it has no IP address');
    expect(() => renderResult(parseResult(v110, '1.1.0', 'r'), '0.5.0')).toThrow('cannot write a CNI result as version "0.5.0"');
  });

  it.each([
    [{ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2' }] }, 'r: ips[0].address: "10.0.0.2" is not an address in CIDR notation'],
    [{ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', gateway: 'gw' }] }, 'r: ips[0].gateway: "gw" is not an IP address'],
    [{ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', interface: -1 }] }, 'r: ips[0].interface: want an index into interfaces'],
    [{ cniVersion: '1.0.0', interfaces: [{ mac: 'x' }] }, 'r: interfaces[0].name: want a string'],
    [{ cniVersion: '1.0.0', routes: [{ dst: '10.0.0.0/33' }] }, 'r: routes[0].dst: "10.0.0.0/33" is not an address in CIDR notation'],
    [{ cniVersion: '9.9.9' }, 'r: cniVersion: "9.9.9" is not a result version this library reads'],
    [{ cniVersion: '1.0.0', dns: { nameservers: [1] } }, 'r: dns.nameservers: want a list of strings'],
  ])('refuses %j naming the field', (doc, message) => {
    expect(() => parseResult(doc, '1.0.0', 'r')).toThrow(message);
  });

  it('gives the pod addresses of the sandbox interface', () => {
    expect(sandboxAddresses(parseResult(v110, '1.1.0', 'r'), 'eth0')).toEqual(['10.1.0.5', 'fd00::5']);
  });
});
