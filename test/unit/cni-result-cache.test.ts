import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheFilePath, decodeCacheEntry, encodeCacheEntry, listCacheEntries, writeCacheEntry } from '../../src/cni/result-cache.js';

// Written by containerd 1.6.20 (libcni 1.1.1) on this project's test machine for a bridge network.
const fromContainerd =
  '{"kind":"cniCacheV1","containerId":"066f390e2972e61f4a82ada9ae7cdcd551ec85c0c42f37d74f92e05923f72653","config":"eyJjbmlWZXJzaW9uIjoiMS4wLjAiLCJuYW1lIjoiZXhwLWJyIiwicGx1Z2lucyI6W3sidHlwZSI6ImJyaWRnZSIsImJyaWRnZSI6InRrZXhwMCIsImlzR2F0ZXdheSI6dHJ1ZSwiaXBhbSI6eyJ0eXBlIjoiaG9zdC1sb2NhbCIsImRhdGFEaXIiOiIvdG1wL3Rza3ViZS1jdGRleHAtSTE4WS9pcGFtIiwicmFuZ2VzIjpbW3sic3VibmV0IjoiMTAuODguMjUyLjAvMjQifV1dfX1dfQo=","ifName":"eth0","networkName":"exp-br","cniArgs":[["IgnoreUnknown","1"],["K8S_POD_NAMESPACE","default"],["K8S_POD_NAME","exp2"],["K8S_POD_INFRA_CONTAINER_ID","066f390e2972e61f4a82ada9ae7cdcd551ec85c0c42f37d74f92e05923f72653"],["K8S_POD_UID","exp-uid-2"]],"capabilityArgs":{"io.kubernetes.cri.pod-annotations":null},"result":{"cniVersion":"1.0.0","dns":{},"interfaces":[{"mac":"92:45:74:f5:86:85","name":"tkexp0"},{"mac":"46:16:08:9f:0a:7b","name":"veth909602f4"},{"mac":"f2:92:90:08:3b:20","name":"eth0","sandbox":"/var/run/netns/cni-d9e849d5-6456-5c63-92a4-29165ffa01ba"}],"ips":[{"address":"10.88.252.2/24","gateway":"10.88.252.1","interface":2}]}}';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tskube-cni-cache-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("the result cache in libcni's format", () => {
  it('reads what containerd wrote and writes it back byte for byte', () => {
    const decoded = decodeCacheEntry(fromContainerd);
    if (decoded.kind !== 'entry') throw new Error(`not an entry: ${decoded.kind}`);
    expect(decoded.entry.networkName).toBe('exp-br');
    expect(decoded.entry.cniArgs[2]).toEqual(['K8S_POD_NAME', 'exp2']);
    expect(JSON.parse(decoded.entry.config.toString()).name).toBe('exp-br');
    expect(encodeCacheEntry(decoded.entry)).toBe(fromContainerd);
  });

  it('leaves out empty fields, sorts map keys and escapes <>& as Go does', () => {
    const text = encodeCacheEntry({
      containerId: 'c1',
      ifName: 'eth0',
      networkName: 'n',
      netns: '',
      cniArgs: [],
      capabilityArgs: { z: 1, a: '<&>' },
      config: Buffer.from('{}'),
      result: undefined,
    });
    expect(text).toBe(
      '{"kind":"cniCacheV1","containerId":"c1","config":"e30=","ifName":"eth0","networkName":"n","capabilityArgs":{"a":"\\u003c\\u0026\\u003e","z":1}}',
    );
  });

  it('keeps entries 0600 in <dir>/results/<network>-<container>-<ifname>, and lists what libcni would skip', async () => {
    const dir = tempDir();
    const entry = {
      containerId: 'c1',
      ifName: 'eth0',
      networkName: 'n',
      netns: '/run/netns/x',
      cniArgs: [],
      capabilityArgs: undefined,
      config: Buffer.from('{}'),
      result: { cniVersion: '1.0.0' },
    };
    await writeCacheEntry(dir, entry);
    const file = cacheFilePath(dir, 'n', entry);
    expect(file).toBe(join(dir, 'results', 'n-c1-eth0'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'results')).mode & 0o777).toBe(0o700);
    writeFileSync(join(dir, 'results', 'n-old-eth0'), '{"cniVersion":"0.3.1","ips":[]}');
    writeFileSync(join(dir, 'results', 'junk'), 'not json');
    const listing = await listCacheEntries(dir);
    expect(listing.entries.map((e) => e.containerId)).toEqual(['c1']);
    expect(listing.skipped.map((s) => s.file.split('/').pop())).toEqual(['junk', 'n-old-eth0']);
    expect(JSON.parse(readFileSync(file, 'utf8')).netns).toBe('/run/netns/x');
    expect(await listCacheEntries(join(dir, 'nothing'))).toEqual({ entries: [], skipped: [] });
  });
});
